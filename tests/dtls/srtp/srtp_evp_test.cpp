// EvpSrtp, the OpenSSL EVP backend: the published vectors run through its
// own code (RFC 3711 B.2 keystream and B.3 key derivation, RFC 7714 §16.1
// SRTP and §17.1 SRTCP packets, byte for byte), then the session's
// refusals, bounds and the promise of no heap allocation per packet.
// Cross-checks against libsrtp are in srtp_evp_interop_test.cpp, index
// estimation and replay windows in srtp_evp_streams_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <random>

#include "dtls/srtp/srtp_evp.hpp"
#include "dtls/srtp/srtp_evp_transform.hpp"
#include "tests/dtls/srtp/srtp_evp_test_util.hpp"

// ---- Counting malloc ------------------------------------------------------------
// To prove "no allocation per packet" for everything underneath (OpenSSL,
// libsrtp, NSS), this binary routes malloc/calloc/realloc through a counter
// to glibc's own allocator. Not under sanitizers, which replace malloc.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SFU_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SFU_COUNT_MALLOC 0
#endif
#endif
#ifndef SFU_COUNT_MALLOC
#define SFU_COUNT_MALLOC 1
#endif

#if SFU_COUNT_MALLOC
namespace {
std::atomic<uint64_t> g_allocations{0};
}
extern "C" {
// glibc's own entry points; the names are glibc's, hence reserved.
void* __libc_malloc(size_t n);               // NOLINT(bugprone-reserved-identifier,readability-identifier-naming)
void* __libc_calloc(size_t n, size_t size);  // NOLINT(bugprone-reserved-identifier,readability-identifier-naming)
void* __libc_realloc(void* p, size_t n);     // NOLINT(bugprone-reserved-identifier,readability-identifier-naming)
void* malloc(size_t n) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t size) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
void* realloc(void* p, size_t n) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
}
#endif

namespace sfu::dtls {
namespace {

using namespace evp_test;  // NOLINT(google-build-using-namespace): test helpers

// ---- RFC 3711 Appendix B.2 / B.3 ------------------------------------------------

const Vec kB2Key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
const Vec kB2Salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
const Vec kB3Key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Vec kB3Salt = hex("0EC675AD498AFEEBB6960B3AABE6");

TEST(SrtpEvpVectors, Rfc3711AppendixB2AesCmKeystream) {
  // IV = salt * 2^16 for SSRC 0, index 0: F0F1...FCFD0000; 65282 blocks.
  std::array<uint8_t, 16> iv{};
  std::copy(kB2Salt.begin(), kB2Salt.end(), iv.begin());
  EvpCipherCtxPtr ctx = srtp_aes_cm_context(kB2Key);
  ASSERT_TRUE(ctx);
  Vec ks(1044512, 0);
  ASSERT_TRUE(srtp_aes_cm_xor(ctx.get(), iv, ks));
  const Vec first =
      hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0");
  const Vec last =
      hex("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE 6A2CC3787889374FBEB4C81B17BA6C44");
  EXPECT_EQ(Vec(ks.begin(), ks.begin() + 48), first);
  EXPECT_EQ(Vec(ks.end() - 48, ks.end()), last);

  // The packet path builds the same IV from SSRC 0 and index 0 and restarts
  // the counter for every packet, also after a packet of odd length.
  auto t = SrtpTransform::from_session_keys(SrtpProfile::aes128_cm_sha1_80, false, true, kB2Key, kB2Salt, Vec(20, 7));
  ASSERT_TRUE(t);
  for (size_t payload : {5, 48, 48}) {
    Vec pkt = rtp_packet(0, 0, 0);
    pkt.resize(12 + payload + 10, 0);
    ASSERT_TRUE(t->seal_rtp(pkt, 12, 12 + payload, 0, 0));
    EXPECT_EQ(Vec(pkt.begin() + 12, pkt.begin() + 12 + long(payload)),
              Vec(first.begin(), first.begin() + long(payload)));
  }
}

TEST(SrtpEvpVectors, Rfc3711AppendixB3KeyDerivation) {
  Vec key(16), salt(14), auth(94);
  ASSERT_TRUE(srtp_kdf(kB3Key, kB3Salt, SrtpKdfLabel::rtp_encryption, key));
  ASSERT_TRUE(srtp_kdf(kB3Key, kB3Salt, SrtpKdfLabel::rtp_salt, salt));
  ASSERT_TRUE(srtp_kdf(kB3Key, kB3Salt, SrtpKdfLabel::rtp_auth, auth));
  EXPECT_EQ(key, hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(salt, hex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(auth, hex("CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE"
                      "E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25"
                      "6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"));
  EXPECT_FALSE(srtp_kdf(Bytes(kB3Key).first(15), kB3Salt, SrtpKdfLabel::rtp_salt, salt));  // bad key size
}

// RFC 7714 §11 (erratum 4938): the 96-bit AEAD master salt is multiplied by
// 2^16 for the AES-CM PRF, i.e. padded with two zero octets on the right.
// The interop tests show libsrtp agrees (their packets are byte-identical).
TEST(SrtpEvpVectors, GcmMasterSaltIsPaddedOnTheRight) {
  const Vec salt12 = hex("517569642070726f2071756f");
  Vec padded = salt12;
  padded.insert(padded.end(), {0, 0});
  for (auto label :
       {SrtpKdfLabel::rtp_encryption, SrtpKdfLabel::rtp_salt, SrtpKdfLabel::rtcp_encryption, SrtpKdfLabel::rtcp_salt}) {
    Vec a(16), b(16);
    ASSERT_TRUE(srtp_kdf(kB3Key, salt12, label, a));
    ASSERT_TRUE(srtp_kdf(kB3Key, padded, label, b));
    EXPECT_EQ(a, b);
  }
}

// ---- RFC 7714 §16.1 / §17.1 -------------------------------------------------------

const Vec kGcmKey = hex("000102030405060708090a0b0c0d0e0f");
const Vec kGcmSalt = hex("517569642070726f2071756f");  // "Quid pro quo"

TEST(SrtpEvpVectors, Rfc7714Section16_1AeadAes128GcmRtp) {
  const Vec plain =
      hex("8040f17b8041f8d35501a0b2 47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573");
  const Vec srtp =
      hex("8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
          "899d7f27beb16a9152cf765ee4390cce");
  auto seal = SrtpTransform::from_session_keys(SrtpProfile::aead_aes_128_gcm, false, true, kGcmKey, kGcmSalt, {});
  auto open = SrtpTransform::from_session_keys(SrtpProfile::aead_aes_128_gcm, false, false, kGcmKey, kGcmSalt, {});
  ASSERT_TRUE(seal && open);
  Vec buf = plain;
  buf.resize(plain.size() + 16);
  ASSERT_TRUE(seal->seal_rtp(buf, 12, plain.size(), 0x5501a0b2, 0xf17b));  // ROC 0, SEQ 0xf17b
  EXPECT_EQ(buf, srtp);
  ASSERT_TRUE(open->open_rtp(buf, 12, buf.size(), 0x5501a0b2, 0xf17b));
  EXPECT_EQ(Vec(buf.begin(), buf.begin() + long(plain.size())), plain);
  Vec bad = srtp;
  bad[5] ^= 1;  // a header (AAD) byte
  EXPECT_FALSE(open->open_rtp(bad, 12, bad.size(), 0x5501a0b2, 0xf17b));
  Vec copy = srtp;
  EXPECT_FALSE(open->open_rtp(copy, 12, copy.size(), 0x5501a0b2, 0x1f17b));  // other ROC
  copy = plain;
  EXPECT_FALSE(seal->seal_rtp(copy, 12, copy.size(), 0x5501a0b2, 0xf17b));  // no room for the tag
}

TEST(SrtpEvpVectors, Rfc7714Section17_1AeadAes128GcmRtcp) {
  const Vec plain =
      hex("81c8000d4d617273 4e5450314e545032525450200000042a0000e9304c756e61"
          "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef");
  const Vec srtcp =
      hex("81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded"
          "0bb9275bc84aa45896cf4d2fc5abf87245d9eade 800005d4");
  auto seal = SrtpTransform::from_session_keys(SrtpProfile::aead_aes_128_gcm, true, true, kGcmKey, kGcmSalt, {});
  auto open = SrtpTransform::from_session_keys(SrtpProfile::aead_aes_128_gcm, true, false, kGcmKey, kGcmSalt, {});
  ASSERT_TRUE(seal && open);
  Vec buf = plain;
  buf.resize(plain.size() + 20);
  ASSERT_TRUE(seal->seal_rtcp(buf, plain.size(), 0x5d4));
  EXPECT_EQ(buf, srtcp);
  EXPECT_EQ(open->rtcp_index_offset(buf.size()), buf.size() - 4);  // E|index after the tag
  ASSERT_TRUE(open->open_rtcp(buf, buf.size(), 0x5d4));
  EXPECT_EQ(Vec(buf.begin(), buf.begin() + long(plain.size())), plain);
  Vec bad = srtcp;
  bad[bad.size() - 1] ^= 1;  // the index word is AAD
  EXPECT_FALSE(open->open_rtcp(bad, bad.size(), 0x5d4));
}

// ---- EvpSrtp behaviour, every profile -----------------------------------------------

class SrtpEvpSession : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(SrtpEvpSession, RoundTripManySsrcsAndSizes) {
  EvpSrtp tx = evp(GetParam(), true), rx = evp(GetParam(), false);
  for (uint32_t i = 0; i < 300; ++i) {  // more SSRCs than allocated up front: the tables grow
    const Vec plain =
        rtp_packet(RtpShape{.seq = uint16_t(65500 + i), .ssrc = 0x1000 + i % 150, .payload = size_t(i) * 4});
    auto sealed = protect(tx, plain);
    ASSERT_TRUE(sealed.ok()) << to_string(sealed.error());
    EXPECT_EQ(sealed->size(), plain.size() + srtp_rtp_tag_len(GetParam()));
    auto opened = unprotect(rx, *sealed);
    ASSERT_TRUE(opened.ok()) << to_string(opened.error()) << " packet " << i;
    EXPECT_EQ(*opened, plain);
    const Vec rtcp = rtcp_packet(0x1000 + i % 150, 8 + 4 * i);
    auto sealed_rtcp = protect(tx, rtcp, true);
    ASSERT_TRUE(sealed_rtcp.ok());
    auto opened_rtcp = unprotect(rx, *sealed_rtcp, true);
    ASSERT_TRUE(opened_rtcp.ok()) << to_string(opened_rtcp.error());
    EXPECT_EQ(*opened_rtcp, rtcp);
  }
  EXPECT_EQ(tx.tx_streams(), 150u);
  EXPECT_EQ(rx.rx_streams(), 150u);
  EXPECT_EQ(tx.table_full_drops() + rx.table_full_drops(), 0u);
}

TEST_P(SrtpEvpSession, FirstSrtcpIndexIsZero) {
  EvpSrtp tx = evp(GetParam(), true);
  for (uint32_t expect = 0; expect < 3; ++expect) {
    auto sealed = protect(tx, rtcp_packet(7, 40), true);
    ASSERT_TRUE(sealed.ok());
    const size_t at = GetParam() == SrtpProfile::aead_aes_128_gcm ? sealed->size() - 4 : sealed->size() - 14;
    EXPECT_EQ(load_be32(&(*sealed)[at]), 0x80000000u | expect);  // RFC 3711 §3.4: E = 1, index from 0
  }
}

TEST_P(SrtpEvpSession, ReplayDuplicateAndTooOld) {
  EvpSrtp tx = evp(GetParam(), true), rx = evp(GetParam(), false);
  std::vector<Vec> rtp, rtcp;
  for (uint16_t seq = 0; seq < 1100; ++seq) rtp.push_back(*protect(tx, rtp_packet(seq, 5, 10)));
  for (int i = 0; i < 200; ++i) rtcp.push_back(*protect(tx, rtcp_packet(5, 12), true));
  ASSERT_TRUE(unprotect(rx, rtp[1099]).ok());
  EXPECT_EQ(verdict(unprotect(rx, rtp[1099])), SrtpError::replay_fail);
  EXPECT_TRUE(unprotect(rx, rtp[1099 - 1023]).ok());  // the window's oldest slot
  EXPECT_EQ(verdict(unprotect(rx, rtp[1099 - 1023])), SrtpError::replay_fail);
  EXPECT_EQ(verdict(unprotect(rx, rtp[1099 - 1024])), SrtpError::replay_old);
  ASSERT_TRUE(unprotect(rx, rtcp[199], true).ok());
  EXPECT_EQ(verdict(unprotect(rx, rtcp[199], true)), SrtpError::replay_fail);
  EXPECT_TRUE(unprotect(rx, rtcp[199 - 127], true).ok());  // SRTCP window: 128
  EXPECT_EQ(verdict(unprotect(rx, rtcp[199 - 128], true)), SrtpError::replay_old);
}

TEST_P(SrtpEvpSession, TruncationIsMalformedOrAuthFail) {
  EvpSrtp tx = evp(GetParam(), true), rx = evp(GetParam(), false);
  const Vec plain = rtp_packet(RtpShape{.seq = 9, .payload = 30, .csrcs = 2, .ext_words = 2});
  const size_t header = 12 + 8 + 4 + 8, tag = srtp_rtp_tag_len(GetParam());
  auto sealed = protect(tx, plain);
  ASSERT_TRUE(sealed.ok());
  for (size_t n = 0; n < sealed->size(); ++n) {
    const SrtpError want = n < header + tag ? SrtpError::malformed : SrtpError::auth_fail;
    EXPECT_EQ(verdict(unprotect(rx, Vec(sealed->begin(), sealed->begin() + long(n)))), want) << n;
  }
  auto sealed_rtcp = protect(tx, rtcp_packet(9, 40), true);
  ASSERT_TRUE(sealed_rtcp.ok());
  const size_t trailer = 4 + srtp_rtcp_tag_len(GetParam());
  for (size_t n = 0; n < sealed_rtcp->size(); ++n) {
    const auto r = unprotect(rx, Vec(sealed_rtcp->begin(), sealed_rtcp->begin() + long(n)), true);
    if (n < 8 + trailer) {
      EXPECT_EQ(verdict(r), SrtpError::malformed) << n;
    } else {
      EXPECT_FALSE(r.ok()) << n;  // the index word moved: malformed (E = 0), replay or auth_fail
    }
  }
  EXPECT_TRUE(unprotect(rx, *sealed).ok());
  EXPECT_TRUE(unprotect(rx, *sealed_rtcp, true).ok());
}

TEST_P(SrtpEvpSession, UnencryptedSrtcpIsRefusedAsMalformed) {
  EvpSrtp tx = evp(GetParam(), true), rx = evp(GetParam(), false);
  auto sealed = protect(tx, rtcp_packet(3, 40), true);
  ASSERT_TRUE(sealed.ok());
  Vec e0 = *sealed;
  e0[GetParam() == SrtpProfile::aead_aes_128_gcm ? e0.size() - 4 : e0.size() - 14] &= 0x7f;  // E = 0
  EXPECT_EQ(verdict(unprotect(rx, e0, true)), SrtpError::malformed);
  EXPECT_TRUE(unprotect(rx, *sealed, true).ok());
}

TEST_P(SrtpEvpSession, NoRoomAndBoundsWithGuardBytes) {
  EvpSrtp tx = evp(GetParam(), true), rx = evp(GetParam(), false);
  for (bool rtcp : {false, true}) {
    const Vec plain = rtcp ? rtcp_packet(1, 100) : rtp_packet(1, 1, 100);
    const size_t need = rtcp ? 4 + srtp_rtcp_tag_len(GetParam()) : srtp_rtp_tag_len(GetParam());
    for (size_t room = 0; room < need; ++room) {
      auto r = in_buffer(plain, room, [&](MutBytes b, size_t n) {
        auto res = rtcp ? tx.protect_rtcp(b, n) : tx.protect_rtp(b, n);
        EXPECT_TRUE(std::equal(plain.begin(), plain.end(), b.begin()));  // untouched
        return res;
      });
      EXPECT_EQ(verdict(r), SrtpError::no_room) << room;
    }
    auto exact = in_buffer(plain, need,
                           [&](MutBytes b, size_t n) { return rtcp ? tx.protect_rtcp(b, n) : tx.protect_rtp(b, n); });
    ASSERT_TRUE(exact.ok());
    EXPECT_EQ(exact->size(), plain.size() + need);
    auto opened = unprotect(rx, *exact, rtcp);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(*opened, plain);
  }
  Vec buf(64);
  EXPECT_EQ(tx.protect_rtp(MutBytes(buf).first(10), 20).error(), SrtpError::malformed);  // length > buffer
  EXPECT_EQ(rx.unprotect_rtcp(MutBytes(buf).first(10), 20).error(), SrtpError::malformed);
  Vec huge(70000, 0);
  huge[0] = 0x80;
  EXPECT_EQ(tx.protect_rtp(huge, 65536).error(), SrtpError::malformed);  // beyond one datagram
}

TEST_P(SrtpEvpSession, GarbageNeverAuthenticates) {
  EvpSrtp rx = evp(GetParam(), false);
  std::mt19937 rng(11);
  for (int i = 0; i < 5000; ++i) {
    Vec junk(rng() % 120);
    for (auto& b : junk) b = uint8_t(rng());
    if (!junk.empty() && i % 2) junk[0] = 0x80 | (junk[0] & 0x3f);
    if (junk.size() > 3 && i % 4 == 1) junk[0] &= 0xe0;  // no CSRC, no extension
    const auto r = unprotect(rx, junk, i % 3 == 0);
    EXPECT_FALSE(r.ok());
    if (!r.ok()) {
      EXPECT_TRUE(r.error() == SrtpError::malformed || r.error() == SrtpError::auth_fail) << i;
    }
  }
  EXPECT_EQ(rx.rx_streams(), 0u);  // nothing unauthenticated made state
}

TEST_P(SrtpEvpSession, FullTableDropsAndCounts) {
  EvpSrtp tx = evp(GetParam(), true, {.initial_streams = 2, .max_streams = 5});
  EvpSrtp rx = evp(GetParam(), false, {.initial_streams = 2, .max_streams = 5});
  std::vector<Vec> sealed;
  for (uint32_t ssrc = 1; ssrc <= 6; ++ssrc) {
    auto s = protect(tx, rtp_packet(1, ssrc, 20));
    if (ssrc <= 5) {
      ASSERT_TRUE(s.ok());
      sealed.push_back(*s);
    } else {
      EXPECT_EQ(verdict(s), SrtpError::other);  // a sixth SSRC: the table is full
    }
  }
  EXPECT_EQ(tx.table_full_drops(), 1u);
  EXPECT_EQ(tx.tx_streams(), 5u);
  EvpSrtp other_tx = evp(GetParam(), true);
  sealed.push_back(*protect(other_tx, rtp_packet(1, 6, 20)));
  for (size_t i = 0; i < sealed.size(); ++i) {
    EXPECT_EQ(verdict(unprotect(rx, sealed[i])), i < 5 ? SrtpError::count_ : SrtpError::other) << i;
  }
  EXPECT_EQ(rx.table_full_drops(), 1u);
  EXPECT_EQ(verdict(unprotect(rx, sealed[0])), SrtpError::replay_fail);  // state kept across growth
  EXPECT_EQ(EvpSrtp::create(keying(GetParam(), key_a(), key_b()), {.initial_streams = 9, .max_streams = 8}).error(),
            SrtpError::bad_config);
}

INSTANTIATE_TEST_SUITE_P(SrtpEvp, SrtpEvpSession, ::testing::ValuesIn(kAllProfiles), profile_name);

// ---- No heap allocation per packet ---------------------------------------------------

#if SFU_COUNT_MALLOC
// Allocations per protect+unprotect of one RTP packet and one RTCP packet,
// on three SSRCs that are already known, in buffers made beforehand.
uint64_t allocations_per_round(SrtpBackend backend, SrtpProfile p) {
  SrtpSession tx = session(p, backend, true), rx = session(p, backend, false);
  constexpr int kRounds = 64;
  std::vector<Vec> rtp, rtcp;
  for (int i = 0; i < kRounds + 3; ++i) {
    rtp.push_back(rtp_packet(uint16_t(i), 100 + i % 3, 1200));
    rtcp.push_back(rtcp_packet(100 + i % 3, 80));
  }
  Vec buf(1300);
  bool ok = true;
  auto round = [&](int i) {
    std::copy(rtp[i].begin(), rtp[i].end(), buf.begin());
    auto n = tx.protect_rtp(buf, rtp[i].size());
    ok = ok && n.ok() && rx.unprotect_rtp(buf, *n).ok();
    std::copy(rtcp[i].begin(), rtcp[i].end(), buf.begin());
    auto m = tx.protect_rtcp(buf, rtcp[i].size());
    ok = ok && m.ok() && rx.unprotect_rtcp(buf, *m).ok();
  };
  for (int i = 0; i < 3; ++i) round(i);  // first packets make the per-SSRC state
  const uint64_t before = g_allocations.load();
  for (int i = 3; i < kRounds + 3; ++i) round(i);
  const uint64_t count = g_allocations.load() - before;
  EXPECT_TRUE(ok);
  return count / kRounds;
}

TEST(SrtpEvpAllocation, NoHeapAllocationPerPacket) {
  for (SrtpProfile p : kAllProfiles) {
    EXPECT_EQ(allocations_per_round(SrtpBackend::evp, p), 0u) << to_string(p);
    std::printf("[ info     ] %s: libsrtp allocates %llu times per RTP+RTCP round trip, evp 0\n",
                std::string(to_string(p)).c_str(),
                static_cast<unsigned long long>(allocations_per_round(SrtpBackend::libsrtp, p)));
  }
}
#endif

}  // namespace
}  // namespace sfu::dtls
