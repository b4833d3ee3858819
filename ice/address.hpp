// A transport address (IP + port) as STUN carries it: the family code of
// RFC 8489 §14.1 (0x01 IPv4, 0x02 IPv6), the address in network byte order
// and the port in host order. Plain value type, no heap; conversions to and
// from the socket API live here so the rest of ice/ never touches sockaddr.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"

struct sockaddr;
struct sockaddr_storage;

namespace sfu::ice {

// Family codes as written in (XOR-)MAPPED-ADDRESS, RFC 8489 §14.1.
enum class AddressFamily : uint8_t { ipv4 = 0x01, ipv6 = 0x02 };

// Invariant kept by every constructor below: for IPv4 only ip[0..3] are
// meaningful and ip[4..15] are zero, so == and hashing see canonical bytes.
struct Address {
  AddressFamily family = AddressFamily::ipv4;
  std::array<uint8_t, 16> ip{};  // network byte order
  uint16_t port = 0;             // host byte order

  // IPv4 address from its four octets, e.g. v4({192, 0, 2, 1}, 3478).
  static Address v4(const std::array<uint8_t, 4>& octets, uint16_t port);
  // IPv4 address from a host-order 32-bit value, e.g. 0xC0000201.
  static Address v4(uint32_t host_order_ip, uint16_t port);
  // IPv6 address from its sixteen octets.
  static Address v6(const std::array<uint8_t, 16>& octets, uint16_t port);

  bool is_ipv4() const { return family == AddressFamily::ipv4; }
  bool is_ipv6() const { return family == AddressFamily::ipv6; }
  // 4 for IPv4, 16 for IPv6.
  size_t ip_size() const { return is_ipv4() ? 4 : 16; }
  // The meaningful address bytes (a view into this object).
  Bytes ip_bytes() const { return Bytes(ip.data(), ip_size()); }

  // True for an IPv6 address of the form ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
  bool is_v4_mapped() const;
  // The IPv4 address behind a v4-mapped IPv6 address; any other address is
  // returned unchanged. Use on peers seen through a dual-stack socket so
  // that XOR-MAPPED-ADDRESS reports the family the peer actually used.
  Address unmapped() const;
  // An IPv4 address as ::ffff:a.b.c.d (for sending on a dual-stack socket);
  // IPv6 addresses are returned unchanged.
  Address v4_mapped() const;

  friend bool operator==(const Address& a, const Address& b);
};

// Hash over the canonical bytes, for unordered containers keyed by address.
struct AddressHash {
  size_t operator()(const Address& a) const;
};

// Converts an AF_INET / AF_INET6 socket address of `len` bytes. nullopt for
// other families or a length too short for the family. The IPv6 scope id and
// flow label are dropped.
std::optional<Address> from_sockaddr(const sockaddr* sa, size_t len);
// Same, from a sockaddr_storage filled by recvfrom/recvmsg.
std::optional<Address> from_sockaddr(const sockaddr_storage& ss);

// Writes `a` as sockaddr_in / sockaddr_in6 into `out` (zeroing the rest) and
// returns the length to pass to sendto.
size_t to_sockaddr(const Address& a, sockaddr_storage& out);

// Parses "192.0.2.1:3478", "[2001:db8::1]:3478". The port is required.
// Control path only (configuration, SDP candidates); nullopt on any error.
std::optional<Address> parse_address(std::string_view text);
// Parses a bare IP literal ("192.0.2.1", "2001:db8::1") with the given port.
std::optional<Address> parse_ip(std::string_view ip, uint16_t port);

// "192.0.2.1:3478" or "[2001:db8::1]:3478" (RFC 5952 text for IPv6).
// Allocates: for logs and the control path, not per packet.
std::string to_string(const Address& a);
// The IP alone, without port or brackets.
std::string ip_to_string(const Address& a);

}  // namespace sfu::ice
