#include "ice/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace sfu::ice {

namespace {

constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

Address Address::v4(const std::array<uint8_t, 4>& octets, uint16_t port) {
  Address a;
  a.family = AddressFamily::ipv4;
  std::memcpy(a.ip.data(), octets.data(), 4);
  a.port = port;
  return a;
}

Address Address::v4(uint32_t host_order_ip, uint16_t port) {
  Address a;
  a.family = AddressFamily::ipv4;
  store_be32(a.ip.data(), host_order_ip);
  a.port = port;
  return a;
}

Address Address::v6(const std::array<uint8_t, 16>& octets, uint16_t port) {
  Address a;
  a.family = AddressFamily::ipv6;
  a.ip = octets;
  a.port = port;
  return a;
}

bool Address::is_v4_mapped() const {
  return is_ipv6() && std::memcmp(ip.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0;
}

Address Address::unmapped() const {
  if (!is_v4_mapped()) return *this;
  return v4({ip[12], ip[13], ip[14], ip[15]}, port);
}

Address Address::v4_mapped() const {
  if (!is_ipv4()) return *this;
  Address a;
  a.family = AddressFamily::ipv6;
  std::memcpy(a.ip.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
  std::memcpy(a.ip.data() + 12, ip.data(), 4);
  a.port = port;
  return a;
}

bool operator==(const Address& a, const Address& b) {
  return a.family == b.family && a.port == b.port && std::memcmp(a.ip.data(), b.ip.data(), a.ip_size()) == 0;
}

size_t AddressHash::operator()(const Address& a) const {
  // FNV-1a over family, port and the meaningful address bytes.
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint8_t byte) { h = (h ^ byte) * 0x100000001b3ull; };
  mix(uint8_t(a.family));
  mix(uint8_t(a.port >> 8));
  mix(uint8_t(a.port));
  for (uint8_t byte : a.ip_bytes()) mix(byte);
  return size_t(h);
}

std::optional<Address> from_sockaddr(const sockaddr* sa, size_t len) {
  if (sa == nullptr || len < sizeof(sa_family_t)) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof in);  // copy: `sa` may be under-aligned
    Address a;
    a.family = AddressFamily::ipv4;
    std::memcpy(a.ip.data(), &in.sin_addr, 4);
    a.port = ntohs(in.sin_port);
    return a;
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof in6);
    Address a;
    a.family = AddressFamily::ipv6;
    std::memcpy(a.ip.data(), &in6.sin6_addr, 16);
    a.port = ntohs(in6.sin6_port);
    return a;
  }
  return std::nullopt;
}

std::optional<Address> from_sockaddr(const sockaddr_storage& ss) {
  return from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), sizeof ss);
}

size_t to_sockaddr(const Address& a, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (a.is_ipv4()) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(a.port);
    std::memcpy(&in.sin_addr, a.ip.data(), 4);
    std::memcpy(&out, &in, sizeof in);
    return sizeof in;
  }
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(a.port);
  std::memcpy(&in6.sin6_addr, a.ip.data(), 16);
  std::memcpy(&out, &in6, sizeof in6);
  return sizeof in6;
}

std::optional<Address> parse_ip(std::string_view ip, uint16_t port) {
  // inet_pton needs a NUL-terminated string; the longest IPv6 text
  // (INET6_ADDRSTRLEN) fits in 46 bytes including the terminator.
  char buf[INET6_ADDRSTRLEN];
  if (ip.empty() || ip.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, ip.data(), ip.size());
  buf[ip.size()] = '\0';
  Address a;
  a.port = port;
  if (inet_pton(AF_INET, buf, a.ip.data()) == 1) {
    a.family = AddressFamily::ipv4;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.ip.data()) == 1) {
    a.family = AddressFamily::ipv6;
    return a;
  }
  return std::nullopt;
}

std::optional<Address> parse_address(std::string_view text) {
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) return std::nullopt;  // brackets are for IPv6 only
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // bare IPv6 needs brackets
  }
  uint16_t port = 0;
  const char* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return parse_ip(host, port);
}

std::string ip_to_string(const Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.is_ipv4() ? AF_INET : AF_INET6, a.ip.data(), buf, sizeof buf);
  return std::string(buf);
}

std::string to_string(const Address& a) {
  // Appended piece by piece: "[" + std::string&& trips GCC 12's -Wrestrict
  // false positive at -O3 (GCC bug 105329).
  std::string out;
  if (a.is_ipv6()) out += '[';
  out += ip_to_string(a);
  if (a.is_ipv6()) out += ']';
  out += ':';
  out += std::to_string(a.port);
  return out;
}

}  // namespace sfu::ice
