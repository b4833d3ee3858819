// Building STUN messages: byte-exact against RFC 5769 where the vector's
// padding allows it, build → parse round trips, overflow and refusals, and
// the ICE response helpers.
#include "ice/stun_builder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "ice/rfc5769_vectors.hpp"

namespace sfu::ice {
namespace {

using Buf = std::vector<uint8_t>;

const TransactionId kTid = rfc5769::kTransactionId;

Bytes value_of(const StunView& m, StunAttr type) {
  auto v = m.find(type);
  return v ? *v : Bytes();
}

bool same(Bytes a, Bytes b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// §2.4 uses zero padding, so the builder reproduces it exactly.
TEST(StunBuilder, ReproducesRfc5769LongTermRequestByteForByte) {
  auto original = parse_stun(rfc5769::kLongTermRequest);
  ASSERT_TRUE(original.ok());
  const IntegrityKey key =
      IntegrityKey::long_term(rfc5769::kLongTermUsername, rfc5769::kLongTermRealm, rfc5769::kLongTermPasswordPrepared);
  std::array<uint8_t, 256> buf{};
  StunBuilder b(buf);
  ASSERT_TRUE(b.begin(StunMethod::binding, StunClass::request, original->transaction_id()));
  ASSERT_TRUE(b.add_username(rfc5769::kLongTermUsername));
  ASSERT_TRUE(b.add_nonce(rfc5769::kLongTermNonce));
  ASSERT_TRUE(b.add_realm(rfc5769::kLongTermRealm));
  MutBytes out = b.finish(&key, false);
  EXPECT_TRUE(same(out, rfc5769::kLongTermRequest));
}

// §2.1-2.3 pad with spaces, so compare the XOR-MAPPED-ADDRESS values and the
// verification instead of whole messages.
TEST(StunBuilder, XorMappedAddressMatchesRfc5769) {
  const IntegrityKey key = IntegrityKey::from_password(rfc5769::kPassword);
  struct Case {
    Bytes vector;
    Address mapped;
  };
  for (const Case& c : {Case{rfc5769::kIpv4Response, Address::v4({192, 0, 2, 1}, 32853)},
                        Case{rfc5769::kIpv6Response, *parse_address("[2001:db8:1234:5678:11:2233:4455:6677]:32853")}}) {
    std::array<uint8_t, 128> buf{};
    StunBuilder b(buf);
    b.begin(StunMethod::binding, StunClass::success_response, kTid);
    b.add_software("test vector");
    b.add_xor_mapped_address(c.mapped);
    MutBytes out = b.finish(&key, true);
    ASSERT_EQ(out.size(), c.vector.size());
    auto built = parse_stun(out);
    auto expected = parse_stun(c.vector);
    ASSERT_TRUE(built.ok() && expected.ok());
    EXPECT_TRUE(
        same(value_of(*built, StunAttr::xor_mapped_address), value_of(*expected, StunAttr::xor_mapped_address)));
    EXPECT_EQ(built->xor_mapped_address(), c.mapped);
    EXPECT_TRUE(check_integrity(*built, key));
    EXPECT_TRUE(check_fingerprint(*built));
  }
}

TEST(StunBuilder, RoundTripsEveryTypedAttribute) {
  const IntegrityKey key = IntegrityKey::from_password("pass");
  const Address v6 = *parse_address("[2001:db8::7]:9");
  const StunAttr unknown[] = {StunAttr(0x0003), StunAttr(0x7ffe)};
  std::array<uint8_t, 512> buf{};
  StunBuilder b(buf);
  ASSERT_TRUE(b.begin(StunMethod::binding, StunClass::error_response, kTid));
  ASSERT_TRUE(b.add_username("remote:local"));
  ASSERT_TRUE(b.add_xor_mapped_address(Address::v4({203, 0, 113, 9}, 61000)));
  ASSERT_TRUE(b.add_mapped_address(v6));
  ASSERT_TRUE(b.add_priority(0x6e7f1eff));
  ASSERT_TRUE(b.add_use_candidate());
  ASSERT_TRUE(b.add_ice_controlling(0x1122334455667788));
  ASSERT_TRUE(b.add_ice_controlled(0x8877665544332211));
  ASSERT_TRUE(b.add_error_code(487, "Role Conflict"));
  ASSERT_TRUE(b.add_unknown_attributes(unknown));
  ASSERT_TRUE(b.add_software("sfu"));
  ASSERT_TRUE(b.add_realm("r"));
  ASSERT_TRUE(b.add_nonce("n0nce"));
  ASSERT_TRUE(b.add_uint32(StunAttr(0xc057), 0x0001000a));
  ASSERT_TRUE(b.add_raw(StunAttr(0x8123), Bytes()));
  MutBytes out = b.finish(&key, true);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.size() % 4, 0u);

  auto r = parse_stun(out);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->message_type(), 0x0111);
  EXPECT_EQ(r->transaction_id(), kTid);
  EXPECT_EQ(r->username(), "remote:local");
  EXPECT_EQ(r->xor_mapped_address(), Address::v4({203, 0, 113, 9}, 61000));
  EXPECT_EQ(r->mapped_address(), v6);
  EXPECT_EQ(r->priority(), 0x6e7f1effu);
  EXPECT_TRUE(r->use_candidate());
  EXPECT_EQ(r->ice_controlling(), 0x1122334455667788u);
  EXPECT_EQ(r->ice_controlled(), 0x8877665544332211u);
  ASSERT_TRUE(r->error_code());
  EXPECT_EQ(r->error_code()->code, 487);
  EXPECT_EQ(r->error_code()->reason, "Role Conflict");
  ASSERT_TRUE(r->unknown_attributes());
  ASSERT_EQ(r->unknown_attributes()->size(), 2u);
  EXPECT_EQ((*r->unknown_attributes())[1], StunAttr(0x7ffe));
  EXPECT_EQ(r->software(), "sfu");
  EXPECT_EQ(r->realm(), "r");
  EXPECT_EQ(r->nonce(), "n0nce");
  EXPECT_TRUE(r->find(StunAttr(0x8123)));
  EXPECT_FALSE(r->unknown_required());
  EXPECT_TRUE(check_integrity(*r, key));
  EXPECT_TRUE(check_fingerprint(*r));
}

TEST(StunBuilder, PaddingIsZero) {
  std::array<uint8_t, 64> buf;
  buf.fill(0xee);
  StunBuilder b(buf);
  b.begin(StunMethod::binding, StunClass::request, kTid);
  b.add_username("abcde");
  MutBytes out = b.finish(nullptr, false);
  ASSERT_EQ(out.size(), 32u);
  EXPECT_EQ(load_be16(&out[2]), 12);
  EXPECT_EQ(out[29], 0);
  EXPECT_EQ(out[30], 0);
  EXPECT_EQ(out[31], 0);
}

TEST(StunBuilder, EveryTooSmallBufferGivesEmptyAndStaysInBounds) {
  const IntegrityKey key = IntegrityKey::from_password("pass");
  auto build = [&](MutBytes out) {
    StunBuilder b(out);
    b.begin(StunMethod::binding, StunClass::request, kTid);
    b.add_username("abcd:efgh");
    b.add_priority(1);
    b.add_use_candidate();
    return b.finish(&key, true);
  };
  std::array<uint8_t, 256> full{};
  const size_t needed = build(full).size();
  ASSERT_EQ(needed, 20u + 16 + 8 + 4 + 24 + 8);
  for (size_t n = 0; n < needed; ++n) {
    std::vector<uint8_t> guard(n + 16, 0xab);
    EXPECT_TRUE(build(MutBytes(guard.data(), n)).empty()) << n;
    for (size_t i = n; i < guard.size(); ++i) ASSERT_EQ(guard[i], 0xab) << "wrote past " << n;
  }
  std::vector<uint8_t> exact(needed);
  EXPECT_EQ(build(exact).size(), needed);
}

TEST(StunBuilder, RefusesInvalidInput) {
  std::array<uint8_t, 2048> buf{};
  auto fresh = [&] {
    StunBuilder b(buf);
    b.begin(StunMethod::binding, StunClass::request, kTid);
    return b;
  };
  {
    StunBuilder b(buf);  // no begin()
    EXPECT_FALSE(b.add_priority(1));
    EXPECT_TRUE(b.finish(nullptr, true).empty());
  }
  {
    StunBuilder b(buf);
    EXPECT_FALSE(b.begin(0x4001, kTid));  // top bits must be zero
  }
  {
    StunBuilder b = fresh();
    EXPECT_FALSE(b.add_username(std::string(kStunMaxTextSize + 1, 'u')));
    EXPECT_FALSE(b.ok());
    EXPECT_TRUE(b.finish(nullptr, true).empty());
  }
  for (uint16_t code : {0, 299, 700}) {
    StunBuilder b = fresh();
    EXPECT_FALSE(b.add_error_code(code, "x")) << code;
  }
  for (StunAttr t : {StunAttr::message_integrity, StunAttr::message_integrity_sha256, StunAttr::fingerprint}) {
    StunBuilder b = fresh();
    EXPECT_FALSE(b.add_raw(t, Bytes()));
  }
  {
    StunBuilder b = fresh();
    IntegrityKey unset;
    EXPECT_TRUE(b.finish(&unset, true).empty());
  }
  {
    StunBuilder b = fresh();
    EXPECT_FALSE(b.finish(nullptr, true).empty());
    EXPECT_TRUE(b.finish(nullptr, true).empty());  // finished: begin() again
  }
}

TEST(StunBuilder, RefusesToOutgrowSixteenBitLength) {
  std::vector<uint8_t> big(kStunMaxMessageSize + 1024);
  StunBuilder b(big);
  b.begin(StunMethod::binding, StunClass::indication, kTid);
  const std::vector<uint8_t> chunk(60000, 1);
  EXPECT_TRUE(b.add_raw(StunAttr(0x8001), chunk));
  EXPECT_FALSE(b.add_raw(StunAttr(0x8001), Bytes(chunk.data(), 5600)));
  EXPECT_TRUE(b.finish(nullptr, false).empty());
}

TEST(StunBuilder, BindingSuccessHelper) {
  const uint8_t* req = rfc5769::kRequest;
  auto request = parse_stun(Bytes(req, sizeof rfc5769::kRequest));
  ASSERT_TRUE(request.ok());
  const IntegrityKey key = IntegrityKey::from_password(rfc5769::kPassword);
  const Address peer = *parse_address("[2001:db8::1]:50000");
  std::array<uint8_t, 76> buf{};
  MutBytes out = make_binding_success(buf, *request, peer, key);
  ASSERT_EQ(out.size(), 76u);
  auto r = parse_stun(out);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message_type(), 0x0101);
  EXPECT_EQ(r->transaction_id(), request->transaction_id());
  EXPECT_EQ(r->xor_mapped_address(), peer);
  EXPECT_TRUE(check_integrity(*r, key));
  EXPECT_TRUE(check_fingerprint(*r));

  std::array<uint8_t, 64> v4buf{};
  EXPECT_EQ(make_binding_success(v4buf, *request, Address::v4({192, 0, 2, 1}, 1), key).size(), 64u);
  std::array<uint8_t, 63> small{};
  EXPECT_TRUE(make_binding_success(small, *request, Address::v4({192, 0, 2, 1}, 1), key).empty());
}

TEST(StunBuilder, ErrorResponseHelpers) {
  // A request carrying two comprehension-required attributes we do not know.
  std::array<uint8_t, 128> req_buf{};
  StunBuilder rb(req_buf);
  rb.begin(StunMethod::binding, StunClass::request, kTid);
  rb.add_username("a:b");
  rb.add_uint32(StunAttr(0x0003), 0);
  rb.add_raw(StunAttr(0x0031), Bytes());
  rb.add_raw(StunAttr(0x8123), Bytes());  // optional: not listed
  MutBytes req = rb.finish(nullptr, true);
  auto request = parse_stun(req);
  ASSERT_TRUE(request.ok());
  ASSERT_EQ(request->unknown_required(), StunAttr(0x0003));

  const IntegrityKey key = IntegrityKey::from_password("pw");
  std::array<uint8_t, 128> buf{};
  auto r420 = parse_stun(make_error_response(buf, *request, 420, nullptr));
  ASSERT_TRUE(r420.ok());
  EXPECT_EQ(r420->message_type(), 0x0111);
  EXPECT_EQ(r420->transaction_id(), kTid);
  EXPECT_EQ(r420->error_code()->code, 420);
  EXPECT_EQ(r420->error_code()->reason, "Unknown Attribute");
  ASSERT_EQ(r420->unknown_attributes()->size(), 2u);
  EXPECT_EQ((*r420->unknown_attributes())[0], StunAttr(0x0003));
  EXPECT_EQ((*r420->unknown_attributes())[1], StunAttr(0x0031));
  EXPECT_FALSE(r420->has_integrity());
  EXPECT_TRUE(check_fingerprint(*r420));

  auto r401 = parse_stun(make_error_response(buf, *request, 401, nullptr));
  ASSERT_TRUE(r401.ok());
  EXPECT_EQ(r401->error_code()->code, 401);
  EXPECT_FALSE(r401->unknown_attributes());
  EXPECT_FALSE(r401->has_integrity());

  auto r487 = parse_stun(make_error_response(buf, *request, 487, &key));
  ASSERT_TRUE(r487.ok());
  EXPECT_EQ(r487->error_code()->reason, "Role Conflict");
  EXPECT_TRUE(check_integrity(*r487, key));

  auto r400 = parse_stun(make_error_response(buf, *request, 400, nullptr));
  ASSERT_TRUE(r400.ok());
  EXPECT_EQ(r400->error_code()->reason, "Bad Request");
}

TEST(StunBuilder, ReasonPhrases) {
  EXPECT_EQ(stun_reason_phrase(300), "Try Alternate");
  EXPECT_EQ(stun_reason_phrase(401), "Unauthenticated");
  EXPECT_EQ(stun_reason_phrase(438), "Stale Nonce");
  EXPECT_EQ(stun_reason_phrase(500), "Server Error");
  EXPECT_EQ(stun_reason_phrase(499), "");
}

}  // namespace
}  // namespace sfu::ice
