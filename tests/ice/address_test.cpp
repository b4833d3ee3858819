// ice::Address: constructors, text and sockaddr conversions, v4-mapped
// handling, equality and hashing.
#include "ice/address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>
#include <unordered_set>

namespace sfu::ice {
namespace {

TEST(Address, Ipv4Constructors) {
  const Address a = Address::v4({192, 0, 2, 1}, 3478);
  const Address b = Address::v4(0xC0000201, 3478);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(a.is_ipv4());
  EXPECT_EQ(a.ip_size(), 4u);
  EXPECT_EQ(a.ip_bytes().size(), 4u);
  EXPECT_EQ(a.ip[4], 0);
  EXPECT_FALSE(a == Address::v4(0xC0000201, 3479));
  EXPECT_FALSE(a == Address::v4(0xC0000202, 3478));
}

TEST(Address, ParsesAndFormatsText) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const Case& c :
       {Case{"192.0.2.1:3478", "192.0.2.1:3478"}, Case{"0.0.0.0:0", "0.0.0.0:0"},
        Case{"[2001:db8::1]:443", "[2001:db8::1]:443"}, Case{"[2001:0DB8:0:0:0:0:0:1]:65535", "[2001:db8::1]:65535"},
        Case{"[::ffff:192.0.2.9]:9", "[::ffff:192.0.2.9]:9"}, Case{"[::]:1", "[::]:1"}}) {
    auto a = parse_address(c.in);
    ASSERT_TRUE(a) << c.in;
    EXPECT_EQ(to_string(*a), c.out);
  }
  EXPECT_EQ(ip_to_string(*parse_address("[2001:db8::1]:1")), "2001:db8::1");
}

TEST(Address, RejectsBadText) {
  for (const char* bad : {"", "192.0.2.1", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.1:-1", "192.0.2.1:80x",
                          "256.0.0.1:1", "2001:db8::1:80", "[2001:db8::1]", "[2001:db8::1]80", "[192.0.2.1]:80",
                          "[::1:80", "host.example:80", ":80", "[]:80", " 192.0.2.1:80"}) {
    EXPECT_FALSE(parse_address(bad)) << bad;
  }
  EXPECT_FALSE(parse_ip(std::string(100, '1'), 1));
  EXPECT_EQ(parse_ip("10.0.0.1", 5), Address::v4({10, 0, 0, 1}, 5));
}

TEST(Address, SockaddrRoundTrip) {
  for (const char* text : {"203.0.113.5:40000", "[2001:db8:1234::ab]:5004"}) {
    const Address a = *parse_address(text);
    sockaddr_storage ss;
    const size_t len = to_sockaddr(a, ss);
    EXPECT_EQ(len, a.is_ipv4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    EXPECT_EQ(from_sockaddr(ss), a) << text;
    EXPECT_EQ(from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len), a);
    EXPECT_FALSE(from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len - 1));
  }
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(1234);
  in.sin_addr.s_addr = htonl(0x7f000001);
  EXPECT_EQ(from_sockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in), Address::v4(0x7f000001, 1234));
}

TEST(Address, OtherFamiliesAreRejected) {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  EXPECT_FALSE(from_sockaddr(reinterpret_cast<const sockaddr*>(&un), sizeof un));
  EXPECT_FALSE(from_sockaddr(nullptr, 0));
}

TEST(Address, V4MappedConversions) {
  const Address mapped = *parse_address("[::ffff:198.51.100.7]:5000");
  EXPECT_TRUE(mapped.is_v4_mapped());
  EXPECT_EQ(mapped.unmapped(), Address::v4({198, 51, 100, 7}, 5000));
  EXPECT_EQ(Address::v4({198, 51, 100, 7}, 5000).v4_mapped(), mapped);
  const Address v6 = *parse_address("[2001:db8::1]:1");
  EXPECT_FALSE(v6.is_v4_mapped());
  EXPECT_EQ(v6.unmapped(), v6);
  EXPECT_EQ(v6.v4_mapped(), v6);
  EXPECT_FALSE(Address::v4(1, 1).is_v4_mapped());
}

TEST(Address, FamilyIsPartOfIdentity) {
  // ::c000:201 and 192.0.2.1 share the 4 first-relevant bytes nowhere, but
  // an IPv6 address whose first four bytes equal an IPv4 one must differ.
  std::array<uint8_t, 16> bytes{};
  bytes[0] = 192;
  bytes[2] = 2;
  bytes[3] = 1;
  EXPECT_FALSE(Address::v6(bytes, 1) == Address::v4({192, 0, 2, 1}, 1));
}

TEST(Address, HashAgreesWithEquality) {
  std::unordered_set<Address, AddressHash> set;
  set.insert(Address::v4({10, 0, 0, 1}, 1));
  set.insert(Address::v4(0x0a000001, 1));
  set.insert(*parse_address("[::1]:1"));
  set.insert(Address::v4({10, 0, 0, 1}, 2));
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(AddressHash{}(Address::v4({1, 2, 3, 4}, 5)), AddressHash{}(Address::v4(0x01020304, 5)));
}

}  // namespace
}  // namespace sfu::ice
