// MESSAGE-INTEGRITY (RFC 8489 §14.5), FINGERPRINT (§14.7) and the CRC-32 and
// HMAC-SHA1 underneath, against RFC 5769, RFC 2202 and the CRC check value.
#include "ice/stun_integrity.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "ice/crc32.hpp"
#include "ice/rfc5769_vectors.hpp"

namespace sfu::ice {
namespace {

using Buf = std::vector<uint8_t>;
using rfc5769::bytes_of;

// Bit-at-a-time reference CRC-32/ISO-HDLC, to check the sliced tables.
uint32_t reference_crc32(Bytes data) {
  uint32_t c = 0xffffffff;
  for (uint8_t byte : data) {
    c ^= byte;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return ~c;
}

std::array<uint8_t, 20> hmac(const IntegrityKey& key, Bytes data) {
  std::array<uint8_t, 20> out{};
  key.hmac_sha1(data, Bytes(), out);
  return out;
}

std::array<uint8_t, 20> hex20(std::string_view hex) {
  std::array<uint8_t, 20> out{};
  for (size_t i = 0; i < 20; ++i) out[i] = uint8_t(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  return out;
}

TEST(StunCrc32, CheckValue) {
  EXPECT_EQ(crc32(bytes_of("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32(Bytes()), 0u);
  EXPECT_EQ(crc32(bytes_of("a")), 0xE8B7BE43u);
}

TEST(StunCrc32, MatchesBitwiseReferenceAtEveryLength) {
  Buf data(200);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 37 + 11);
  for (size_t n = 0; n <= data.size(); ++n) {
    ASSERT_EQ(crc32(Bytes(data.data(), n)), reference_crc32(Bytes(data.data(), n))) << n;
  }
}

TEST(StunCrc32, UpdateComposes) {
  Buf data(64, 0x5a);
  for (size_t split = 0; split <= data.size(); split += 7) {
    Bytes all(data);
    EXPECT_EQ(crc32_update(crc32(all.first(split)), all.subspan(split)), crc32(all));
  }
}

TEST(StunHmacSha1, Rfc2202TestCases) {
  // Test case 1: 20-byte key.
  const Buf key1(20, 0x0b);
  EXPECT_EQ(hmac(IntegrityKey(key1), bytes_of("Hi There")), hex20("b617318655057264e28bc0b6fb378c8ef146be00"));
  // Test case 2: short key.
  EXPECT_EQ(hmac(IntegrityKey::from_password("Jefe"), bytes_of("what do ya want for nothing?")),
            hex20("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
  // Test case 6: 80-byte key, longer than the block: hashed first.
  const Buf key6(80, 0xaa);
  EXPECT_EQ(hmac(IntegrityKey(key6), bytes_of("Test Using Larger Than Block-Size Key - Hash Key First")),
            hex20("aa4ae5e15272d00e95705637ce8a3b55ed402112"));
}

TEST(StunHmacSha1, SplitInputEqualsWhole) {
  const IntegrityKey key = IntegrityKey::from_password("Jefe");
  const Bytes msg = bytes_of("what do ya want for nothing?");
  std::array<uint8_t, 20> split{};
  key.hmac_sha1(msg.first(9), msg.subspan(9), split);
  EXPECT_EQ(split, hmac(key, msg));
}

TEST(StunIntegrity, Rfc5769ShortTermVectors) {  // §2.1-2.3
  const IntegrityKey key = IntegrityKey::from_password(rfc5769::kPassword);
  for (Bytes vector : {Bytes(rfc5769::kRequest), Bytes(rfc5769::kIpv4Response), Bytes(rfc5769::kIpv6Response)}) {
    auto r = parse_stun(vector);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(check_integrity(*r, key));
    EXPECT_TRUE(check_integrity(*r, bytes_of(rfc5769::kPassword)));
    EXPECT_TRUE(check_fingerprint(*r));
    EXPECT_FALSE(check_integrity(*r, IntegrityKey::from_password("VOkJxbRl1RmTxUk/WvJxBT")));
    EXPECT_FALSE(check_integrity(*r, IntegrityKey()));
  }
}

TEST(StunIntegrity, Rfc5769LongTermVector) {  // §2.4
  // key = MD5("マトリックス:example.org:TheMatrIX"); SASLprep maps the
  // vector's password to "TheMatrIX", so the prepared form is used here.
  const auto raw = IntegrityKey::long_term_key(rfc5769::kLongTermUsername, rfc5769::kLongTermRealm,
                                               rfc5769::kLongTermPasswordPrepared);
  const std::array<uint8_t, 16> expected = {0xe8, 0xca, 0x7a, 0xd5, 0x9d, 0x5e, 0xb0, 0x51,
                                            0x8e, 0x31, 0x29, 0x11, 0xd2, 0xda, 0xb2, 0xa9};
  EXPECT_EQ(raw, expected);

  auto r = parse_stun(rfc5769::kLongTermRequest);
  ASSERT_TRUE(r.ok());
  // Derive the key from the attributes the message itself carries.
  const IntegrityKey key = IntegrityKey::long_term(*r->username(), *r->realm(), rfc5769::kLongTermPasswordPrepared);
  EXPECT_TRUE(check_integrity(*r, key));
  EXPECT_TRUE(check_integrity(*r, Bytes(raw)));
  EXPECT_FALSE(
      check_integrity(*r, IntegrityKey::long_term(rfc5769::kLongTermUsername, rfc5769::kLongTermRealm, "thematrix")));
  EXPECT_FALSE(check_fingerprint(*r));  // this vector has none
}

TEST(StunIntegrity, TamperingAnyCoveredByteBreaksIt) {
  // §2.4 has no FINGERPRINT, so a flipped byte still parses (where the
  // framing survives) and only MESSAGE-INTEGRITY can catch it.
  const IntegrityKey key =
      IntegrityKey::long_term(rfc5769::kLongTermUsername, rfc5769::kLongTermRealm, rfc5769::kLongTermPasswordPrepared);
  const Buf good(std::begin(rfc5769::kLongTermRequest), std::end(rfc5769::kLongTermRequest));
  size_t parsed = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    Buf bad = good;
    bad[i] ^= 0x01;
    auto r = parse_stun(bad);
    if (!r.ok()) continue;
    ++parsed;
    // Every byte is covered, padding included: the HMAC runs over raw bytes
    // (and a flipped byte inside the MAC value itself mismatches too).
    EXPECT_FALSE(check_integrity(*r, key)) << "byte " << i;
  }
  EXPECT_GT(parsed, good.size() / 2);
}

TEST(StunIntegrity, TamperingFingerprintedMessageFailsParse) {
  const Buf good(std::begin(rfc5769::kRequest), std::end(rfc5769::kRequest));
  for (size_t i = 0; i < good.size(); ++i) {
    Buf bad = good;
    bad[i] ^= 0x80;
    auto r = parse_stun(bad);
    if (i == 100 || i == 101) {
      // The FINGERPRINT type itself: it becomes an unknown attribute after
      // MESSAGE-INTEGRITY (ignored), so the message simply has none.
      ASSERT_TRUE(r.ok());
      EXPECT_FALSE(r->has_fingerprint());
      EXPECT_FALSE(check_fingerprint(*r));
      continue;
    }
    EXPECT_FALSE(r.ok()) << "byte " << i;
  }
}

// §14.5: the length used for the HMAC ends at MESSAGE-INTEGRITY, so
// attributes appended after it (and ignored) do not break the check.
TEST(StunIntegrity, LengthIsAdjustedForAttributesAfterIntegrity) {
  Buf b(std::begin(rfc5769::kLongTermRequest), std::end(rfc5769::kLongTermRequest));
  const uint8_t extra[] = {0x80, 0x22, 0x00, 0x04, 'j', 'u', 'n', 'k'};
  b.insert(b.end(), std::begin(extra), std::end(extra));
  store_be16(&b[2], uint16_t(b.size() - kStunHeaderSize));
  auto r = parse_stun(b);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->software());  // after MI: ignored
  EXPECT_TRUE(check_integrity(*r, Bytes(IntegrityKey::long_term_key(rfc5769::kLongTermUsername, rfc5769::kLongTermRealm,
                                                                    rfc5769::kLongTermPasswordPrepared))));
}

TEST(StunIntegrity, AbsentIntegrityNeverVerifies) {
  const uint8_t bare[] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  auto r = parse_stun(bare);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(check_integrity(*r, IntegrityKey::from_password("x")));
  EXPECT_FALSE(check_integrity(*r, bytes_of("x")));
  EXPECT_FALSE(check_fingerprint(*r));
}

}  // namespace
}  // namespace sfu::ice
