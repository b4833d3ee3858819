// STUN header and attribute parsing, RFC 8489 §5 and §14, against the
// RFC 5769 vectors and hand-made malformed messages.
#include "ice/stun_message.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ice/crc32.hpp"
#include "ice/rfc5769_vectors.hpp"

namespace sfu::ice {
namespace {

using Buf = std::vector<uint8_t>;

// A Binding request header (length filled by finish_length) with the RFC 5769
// transaction id.
Buf header(uint16_t type = 0x0001) {
  Buf b = {uint8_t(type >> 8), uint8_t(type), 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
  b.insert(b.end(), rfc5769::kTransactionId.begin(), rfc5769::kTransactionId.end());
  return b;
}

// Appends a TLV with zero padding.
void tlv(Buf& b, uint16_t type, const Buf& value) {
  b.push_back(uint8_t(type >> 8));
  b.push_back(uint8_t(type));
  b.push_back(uint8_t(value.size() >> 8));
  b.push_back(uint8_t(value.size()));
  b.insert(b.end(), value.begin(), value.end());
  while (b.size() % 4 != 0) b.push_back(0);
}

void finish_length(Buf& b) { store_be16(&b[2], uint16_t(b.size() - kStunHeaderSize)); }

// Appends a valid FINGERPRINT and fixes the length.
void add_fingerprint(Buf& b) {
  tlv(b, 0x8028, {0, 0, 0, 0});
  finish_length(b);
  store_be32(&b[b.size() - 4], crc32(Bytes(b.data(), b.size() - 8)) ^ kStunFingerprintXor);
}

ParseError parse_error(const Buf& b) {
  auto r = parse_stun(b);
  EXPECT_FALSE(r.ok());
  return r.ok() ? ParseError::count_ : r.error();
}

TEST(StunMessageType, InterleavesMethodAndClassBits) {
  EXPECT_EQ(stun_message_type(StunMethod::binding, StunClass::request), 0x0001);
  EXPECT_EQ(stun_message_type(StunMethod::binding, StunClass::indication), 0x0011);
  EXPECT_EQ(stun_message_type(StunMethod::binding, StunClass::success_response), 0x0101);
  EXPECT_EQ(stun_message_type(StunMethod::binding, StunClass::error_response), 0x0111);
  EXPECT_EQ(stun_message_type(StunMethod(0x003), StunClass::request), 0x0003);  // TURN Allocate
  EXPECT_EQ(stun_message_type(StunMethod(0xfff), StunClass::error_response), 0x3fff);
  EXPECT_EQ(stun_message_type(StunMethod(0x080), StunClass::request), 0x0200);  // M7 → bit 9
  EXPECT_EQ(stun_message_type(StunMethod(0x010), StunClass::request), 0x0020);  // M4 → bit 5
}

TEST(StunMessageType, RoundTripsEveryMethodAndClass) {
  for (uint16_t m = 0; m < 0x1000; ++m) {
    for (uint8_t c = 0; c < 4; ++c) {
      const uint16_t type = stun_message_type(StunMethod(m), StunClass(c));
      ASSERT_EQ(type & 0xc000, 0);
      ASSERT_EQ(uint16_t(stun_method_of(type)), m);
      ASSERT_EQ(uint8_t(stun_class_of(type)), c);
    }
  }
}

TEST(StunRfc5769, SampleRequest) {  // §2.1
  auto r = parse_stun(rfc5769::kRequest);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  const StunView& m = *r;
  EXPECT_EQ(m.method(), StunMethod::binding);
  EXPECT_EQ(m.message_class(), StunClass::request);
  EXPECT_EQ(m.transaction_id(), rfc5769::kTransactionId);
  EXPECT_EQ(m.software(), "STUN test client");
  EXPECT_EQ(m.username(), "evtj:h6vY");
  EXPECT_EQ(m.priority(), 0x6e0001ffu);
  EXPECT_EQ(m.ice_controlled(), 0x932ff9b151263b36u);
  EXPECT_FALSE(m.ice_controlling());
  EXPECT_FALSE(m.use_candidate());
  EXPECT_FALSE(m.xor_mapped_address());
  EXPECT_TRUE(m.has_integrity());
  EXPECT_EQ(m.integrity_offset(), 76u);
  EXPECT_TRUE(m.has_fingerprint());
  EXPECT_EQ(m.fingerprint_offset(), 100u);
  EXPECT_FALSE(m.has_integrity_sha256());
  EXPECT_FALSE(m.unknown_required());
  ASSERT_TRUE(m.find(StunAttr::message_integrity));
  EXPECT_EQ(m.find(StunAttr::message_integrity)->data(), rfc5769::kRequest + 80);
  EXPECT_EQ(m.find(StunAttr::fingerprint)->size(), 4u);
  EXPECT_FALSE(m.find(StunAttr::message_integrity_sha256));

  std::vector<StunAttr> types;
  for (StunAttribute a : m.attributes()) types.push_back(a.type);
  EXPECT_EQ(types, (std::vector<StunAttr>{StunAttr::software, StunAttr::priority, StunAttr::ice_controlled,
                                          StunAttr::username}));
}

TEST(StunRfc5769, SampleIpv4Response) {  // §2.2
  auto r = parse_stun(rfc5769::kIpv4Response);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->method(), StunMethod::binding);
  EXPECT_EQ(r->message_class(), StunClass::success_response);
  EXPECT_EQ(r->software(), "test vector");
  auto mapped = r->xor_mapped_address();
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, Address::v4({192, 0, 2, 1}, 32853));
  EXPECT_EQ(to_string(*mapped), "192.0.2.1:32853");
  EXPECT_FALSE(r->mapped_address());
}

TEST(StunRfc5769, SampleIpv6Response) {  // §2.3
  auto r = parse_stun(rfc5769::kIpv6Response);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->message_class(), StunClass::success_response);
  auto mapped = r->xor_mapped_address();
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, parse_address("[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
  EXPECT_EQ(to_string(*mapped), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

TEST(StunRfc5769, SampleRequestWithLongTermAuthentication) {  // §2.4
  auto r = parse_stun(rfc5769::kLongTermRequest);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->message_class(), StunClass::request);
  EXPECT_EQ(r->username(), rfc5769::kLongTermUsername);
  EXPECT_EQ(r->nonce(), rfc5769::kLongTermNonce);
  EXPECT_EQ(r->realm(), rfc5769::kLongTermRealm);
  EXPECT_TRUE(r->has_integrity());
  EXPECT_FALSE(r->has_fingerprint());
  EXPECT_FALSE(r->unknown_required());
}

TEST(StunParse, MinimalMessage) {
  Buf b = header();
  auto r = parse_stun(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->attributes().begin(), r->attributes().end());
  EXPECT_FALSE(r->has_integrity());
  EXPECT_FALSE(r->has_fingerprint());
  EXPECT_TRUE(looks_like_stun(b));
}

TEST(StunParse, TruncatedHeader) {
  for (size_t n = 0; n < kStunHeaderSize; ++n) {
    EXPECT_EQ(parse_stun(Bytes(rfc5769::kRequest, n)).error(), ParseError::truncated) << n;
  }
}

TEST(StunParse, FirstTwoBitsMustBeZero) {
  for (uint8_t top : {0x40, 0x80, 0xc0}) {
    Buf b = header();
    b[0] |= top;
    EXPECT_EQ(parse_error(b), ParseError::bad_type);
    EXPECT_FALSE(looks_like_stun(b));
  }
}

TEST(StunParse, LengthNotMultipleOfFour) {
  Buf b(std::begin(rfc5769::kRequest), std::end(rfc5769::kRequest));
  store_be16(&b[2], 0x57);
  EXPECT_EQ(parse_error(b), ParseError::bad_length);
}

TEST(StunParse, BadMagicCookie) {
  Buf b(std::begin(rfc5769::kRequest), std::end(rfc5769::kRequest));
  b[7] ^= 0x01;
  EXPECT_EQ(parse_error(b), ParseError::bad_version);
  EXPECT_FALSE(looks_like_stun(b));
}

TEST(StunParse, LengthBeyondData) {
  const Buf b(std::begin(rfc5769::kRequest), std::end(rfc5769::kRequest) - 4);  // header still says 0x58
  EXPECT_EQ(parse_error(b), ParseError::truncated);
}

TEST(StunParse, TrailingBytesAfterLength) {
  Buf b(std::begin(rfc5769::kRequest), std::end(rfc5769::kRequest));
  b.insert(b.end(), {0, 0, 0, 0});
  EXPECT_EQ(parse_error(b), ParseError::bad_length);
}

TEST(StunParse, AttributeOverrunningMessage) {
  Buf b = header();
  tlv(b, 0x8022, {'a', 'b', 'c', 'd'});
  finish_length(b);
  store_be16(&b[22], 5);  // value would need 8 padded bytes, only 4 remain
  EXPECT_EQ(parse_error(b), ParseError::bad_length);
  store_be16(&b[22], 0xffff);
  EXPECT_EQ(parse_error(b), ParseError::bad_length);
}

TEST(StunParse, PaddingContentIsIgnored) {
  Buf b = header();
  tlv(b, 0x0006, {'a'});
  b[25] = 0xff;
  b[26] = 0x20;
  b[27] = 0x00;
  finish_length(b);
  auto r = parse_stun(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->username(), "a");
}

TEST(StunParse, FingerprintMustBeLast) {
  Buf b = header();
  add_fingerprint(b);
  tlv(b, 0x8022, {'x'});
  finish_length(b);
  EXPECT_EQ(parse_error(b), ParseError::bad_extension);
}

TEST(StunParse, FingerprintOfWrongLength) {
  Buf b = header();
  tlv(b, 0x8028, {0, 0, 0, 0, 0, 0, 0, 0});
  finish_length(b);
  EXPECT_EQ(parse_error(b), ParseError::bad_extension);
}

TEST(StunParse, BadFingerprintValue) {
  Buf b(std::begin(rfc5769::kRequest), std::end(rfc5769::kRequest));
  b.back() ^= 0x01;
  EXPECT_EQ(parse_error(b), ParseError::bad_checksum);
  Buf c(std::begin(rfc5769::kRequest), std::end(rfc5769::kRequest));
  c[30] ^= 0x01;  // a SOFTWARE byte: the CRC no longer matches
  EXPECT_EQ(parse_error(c), ParseError::bad_checksum);
}

TEST(StunParse, IntegrityOfWrongLength) {
  Buf b = header();
  tlv(b, 0x0008, Buf(16, 0));
  finish_length(b);
  EXPECT_EQ(parse_error(b), ParseError::bad_extension);
}

TEST(StunParse, IntegritySha256Lengths) {
  for (size_t n : {12u, 18u, 36u}) {
    Buf b = header();
    tlv(b, 0x001c, Buf(n, 0));
    finish_length(b);
    EXPECT_EQ(parse_error(b), ParseError::bad_extension) << n;
  }
  for (size_t n : {16u, 20u, 32u}) {
    Buf b = header();
    tlv(b, 0x001c, Buf(n, 0));
    finish_length(b);
    auto r = parse_stun(b);
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_TRUE(r->has_integrity_sha256());
  }
}

// §14.5: only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow
// MESSAGE-INTEGRITY; anything else there is ignored, not an error.
TEST(StunParse, AttributesAfterIntegrityAreIgnored) {
  Buf b = header();
  tlv(b, 0x0006, {'u'});
  tlv(b, 0x0008, Buf(20, 0));
  tlv(b, 0x0024, {0, 0, 0, 7});  // PRIORITY: ignored
  tlv(b, 0x0003, {0, 0, 0, 0});  // unknown comprehension-required: ignored
  tlv(b, 0x0008, Buf(3, 0));     // a second, malformed MI: ignored
  tlv(b, 0x001c, Buf(32, 0));    // MI-SHA256 may follow MI
  add_fingerprint(b);
  auto r = parse_stun(b);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->username(), "u");
  EXPECT_FALSE(r->priority());
  EXPECT_FALSE(r->unknown_required());
  EXPECT_TRUE(r->has_integrity());
  EXPECT_EQ(r->integrity_offset(), 28u);
  EXPECT_TRUE(r->has_integrity_sha256());
  EXPECT_TRUE(r->has_fingerprint());
  size_t n = 0;
  for (StunAttribute a : r->attributes()) {
    EXPECT_EQ(a.type, StunAttr::username);
    ++n;
  }
  EXPECT_EQ(n, 1u);
}

TEST(StunParse, IntegrityAfterSha256IsIgnored) {
  Buf b = header();
  tlv(b, 0x001c, Buf(32, 0));
  tlv(b, 0x0008, Buf(20, 0));
  finish_length(b);
  auto r = parse_stun(b);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->has_integrity_sha256());
  EXPECT_FALSE(r->has_integrity());
}

TEST(StunParse, UnknownComprehensionRequiredIsReportedNotFatal) {
  Buf b = header();
  tlv(b, 0xc057, {0, 1, 0, 10});  // GOOG-NETWORK-INFO: optional, known
  tlv(b, 0x8123, {1, 2, 3});      // unknown optional: skipped silently
  tlv(b, 0x0003, {0, 0, 0, 0});   // CHANGE-REQUEST: required, not understood
  tlv(b, 0x7fff, {});             // another one
  tlv(b, 0x0006, {'a', ':', 'b'});
  finish_length(b);
  auto r = parse_stun(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unknown_required(), StunAttr(0x0003));
  EXPECT_EQ(r->username(), "a:b");
  EXPECT_EQ(r->find(StunAttr(0x8123))->size(), 3u);
}

TEST(StunParse, FindReturnsFirstOccurrence) {
  Buf b = header();
  tlv(b, 0x0024, {0, 0, 0, 1});
  tlv(b, 0x0024, {0, 0, 0, 2});
  finish_length(b);
  auto r = parse_stun(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->priority(), 1u);
}

TEST(StunGetters, MalformedValuesReadAsAbsent) {
  Buf b = header();
  tlv(b, 0x0024, {0, 0, 1});                       // PRIORITY of 3 bytes
  tlv(b, 0x0025, {1});                             // USE-CANDIDATE with a value
  tlv(b, 0x802a, {1, 2, 3, 4});                    // ICE-CONTROLLING of 4 bytes
  tlv(b, 0x0020, {0, 3, 0, 0, 1, 2, 3, 4});        // XOR-MAPPED-ADDRESS, family 3
  tlv(b, 0x0001, {0, 1, 0, 0, 1, 2, 3, 4, 5, 6});  // MAPPED-ADDRESS, IPv4 with 6 bytes
  tlv(b, 0x0009, {0, 0, 7, 0});                    // ERROR-CODE class 7
  tlv(b, 0x000a, {0, 1, 0});                       // UNKNOWN-ATTRIBUTES, odd length
  tlv(b, 0x0006, Buf(kStunMaxTextSize + 1, 'u'));  // USERNAME over 763 bytes
  finish_length(b);
  auto r = parse_stun(b);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->priority());
  EXPECT_FALSE(r->use_candidate());
  EXPECT_FALSE(r->ice_controlling());
  EXPECT_FALSE(r->xor_mapped_address());
  EXPECT_FALSE(r->mapped_address());
  EXPECT_FALSE(r->error_code());
  EXPECT_FALSE(r->unknown_attributes());
  EXPECT_FALSE(r->username());
}

TEST(StunGetters, TypedValues) {
  Buf b = header(0x0111);
  tlv(b, 0x0009, {0, 0, 4, 20, 'U', 'n', 'k', 'n', 'o', 'w', 'n'});
  tlv(b, 0x000a, {0x00, 0x03, 0x7f, 0xff});
  tlv(b, 0x0001, {0, 1, 0x0d, 0x96, 10, 0, 0, 1});
  tlv(b, 0x0025, {});
  tlv(b, 0x802a, {1, 2, 3, 4, 5, 6, 7, 8});
  tlv(b, 0x0006, Buf(kStunMaxTextSize, 'u'));
  finish_length(b);
  auto r = parse_stun(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message_class(), StunClass::error_response);
  auto ec = r->error_code();
  ASSERT_TRUE(ec);
  EXPECT_EQ(ec->code, 420);
  EXPECT_EQ(ec->reason, "Unknown");
  auto unknown = r->unknown_attributes();
  ASSERT_TRUE(unknown);
  ASSERT_EQ(unknown->size(), 2u);
  EXPECT_EQ((*unknown)[0], StunAttr(0x0003));
  EXPECT_EQ((*unknown)[1], StunAttr(0x7fff));
  EXPECT_EQ(r->mapped_address(), Address::v4({10, 0, 0, 1}, 3478));
  EXPECT_TRUE(r->use_candidate());
  EXPECT_EQ(r->ice_controlling(), 0x0102030405060708u);
  EXPECT_EQ(r->username()->size(), kStunMaxTextSize);
}

TEST(StunDecodeAddress, Rfc5769XorValues) {
  const uint8_t v4[] = {0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
  Bytes key(rfc5769::kRequest + 4, 16);
  EXPECT_EQ(decode_stun_address(v4, key), Address::v4(0xC0000201, 32853));
  EXPECT_FALSE(decode_stun_address(v4, Bytes(key.data(), 12)));  // key must be 16 bytes
  EXPECT_FALSE(decode_stun_address(Bytes(v4, 3), key));
}

}  // namespace
}  // namespace sfu::ice
