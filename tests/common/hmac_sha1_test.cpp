#include "common/hmac_sha1.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sfu {
namespace {

Bytes text(std::string_view s) { return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

std::string hex_mac(const HmacSha1& h, Bytes a, Bytes b = {}) {
  std::array<uint8_t, HmacSha1::kSize> out{};
  h.mac(a, b, out);
  std::string s;
  for (uint8_t v : out) {
    static constexpr char kDigits[] = "0123456789abcdef";
    s += kDigits[v >> 4];
    s += kDigits[v & 15];
  }
  return s;
}

// RFC 2202 §3, HMAC-SHA-1 test cases 1, 2, 3, 6 and 7.
TEST(HmacSha1, Rfc2202) {
  EXPECT_EQ(hex_mac(HmacSha1(std::vector<uint8_t>(20, 0x0b)), text("Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex_mac(HmacSha1(text("Jefe")), text("what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(hex_mac(HmacSha1(std::vector<uint8_t>(20, 0xaa)), std::vector<uint8_t>(50, 0xdd)),
            "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
  // Keys longer than the 64-byte block are hashed first.
  const std::vector<uint8_t> long_key(80, 0xaa);
  EXPECT_EQ(hex_mac(HmacSha1(long_key), text("Test Using Larger Than Block-Size Key - Hash Key First")),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112");
  EXPECT_EQ(hex_mac(HmacSha1(long_key), text("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data")),
            "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
}

// mac(a, b) is the MAC of a || b wherever the split falls, and a copy MACs
// the same as the original (the states are plain bytes).
TEST(HmacSha1, SplitInputAndCopies) {
  const HmacSha1 h(text("Jefe"));
  const Bytes msg = text("what do ya want for nothing?");
  const HmacSha1 copy = h;
  for (size_t split = 0; split <= msg.size(); ++split) {
    EXPECT_EQ(hex_mac(h, msg.first(split), msg.subspan(split)), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79") << split;
    EXPECT_EQ(hex_mac(copy, msg.first(split), msg.subspan(split)), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  }
}

}  // namespace
}  // namespace sfu
