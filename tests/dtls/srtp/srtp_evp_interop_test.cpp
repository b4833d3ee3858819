// EvpSrtp against libsrtp, both directions, every profile: SRTP packets
// protected by the two are byte-identical (same keys, same index) and each
// opens in the other, for 0/1/100/1200-byte payloads, CSRC lists, one- and
// two-byte header extensions and padding, several SSRCs interleaved, across
// the sequence-number wrap (ROC 0 -> 1); SRTCP compound packets of 8..1200
// bytes open across, and are byte-identical once EVP's first index (0,
// RFC 3711 §3.4) is skipped to line up with libsrtp's (1). Then scripted
// and random traffic (reordering, duplicates, stale and far-ahead packets,
// tampering) must get the same verdict from both, packet for packet.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "tests/dtls/srtp/srtp_evp_test_util.hpp"

namespace sfu::dtls {
namespace {

using namespace evp_test;  // NOLINT(google-build-using-namespace): test helpers

class SrtpEvpInterop : public ::testing::TestWithParam<SrtpProfile> {
 protected:
  SrtpProfile p() const { return GetParam(); }
  SrtpSession evp_tx_ = session(GetParam(), SrtpBackend::evp, true);
  SrtpSession lib_tx_ = session(GetParam(), SrtpBackend::libsrtp, true);
  SrtpSession evp_rx_ = session(GetParam(), SrtpBackend::evp, false);
  SrtpSession lib_rx_ = session(GetParam(), SrtpBackend::libsrtp, false);
};

// Five SSRCs, each starting at its own sequence number; the first wraps.
constexpr uint32_t kSsrcs[] = {0x5501a0b2, 0x00000001, 0xffffffff, 0x12345678, 0x80000000};
constexpr uint16_t kStarts[] = {65500, 0, 32760, 32769, 12345};

RtpShape shape(size_t step, size_t stream) {
  static constexpr size_t kPayloads[] = {0, 1, 100, 1200, 17, 160};
  const size_t k = step * 5 + stream;
  RtpShape s{.seq = uint16_t(kStarts[stream] + step), .ssrc = kSsrcs[stream], .payload = kPayloads[k % 6]};
  s.csrcs = uint8_t(k % 7 == 3 ? 15 : k % 3);  // 0, 1, 2 and sometimes the full 15
  if (k % 4 == 1) s.ext_words = k % 5;         // one-byte header extension, 0..4 words
  if (k % 8 == 6) {
    s.two_byte_ext = true;
    s.ext_words = 2;
  }
  if (k % 5 == 2) s.padding = uint8_t(1 + k % 4);
  return s;
}

TEST_P(SrtpEvpInterop, RtpByteIdenticalAndOpensBothWays) {
  bool wrapped = false;
  for (size_t step = 0; step < 80; ++step) {
    for (size_t j = 0; j < 5; ++j) {
      const RtpShape s = shape(step, j);
      const Vec plain = rtp_packet(s);
      auto from_evp = protect(evp_tx_, plain), from_lib = protect(lib_tx_, plain);
      ASSERT_TRUE(from_evp.ok() && from_lib.ok()) << "seq " << s.seq;
      EXPECT_EQ(*from_evp, *from_lib) << "ssrc " << s.ssrc << " seq " << s.seq;
      auto at_lib = unprotect(lib_rx_, *from_evp), at_evp = unprotect(evp_rx_, *from_lib);
      ASSERT_TRUE(at_lib.ok()) << "evp -> libsrtp: " << to_string(at_lib.error()) << " seq " << s.seq;
      ASSERT_TRUE(at_evp.ok()) << "libsrtp -> evp: " << to_string(at_evp.error()) << " seq " << s.seq;
      EXPECT_EQ(*at_lib, plain);
      EXPECT_EQ(*at_evp, plain);
      wrapped |= j == 0 && s.seq < 100;
    }
  }
  EXPECT_TRUE(wrapped);  // the first SSRC went 65500 -> 65535 -> 0 -> ...: ROC 1 on both sides
}

TEST_P(SrtpEvpInterop, RtcpCompoundOpensBothWaysAndMatchesOnceAligned) {
  for (uint32_t ssrc : kSsrcs) {  // EVP starts at index 0, libsrtp at 1: skip one
    ASSERT_TRUE(protect(evp_tx_, rtcp_packet(ssrc, 8), true).ok());
  }
  for (size_t size = 8; size <= 1200; size += 4) {
    const Vec plain = rtcp_packet(kSsrcs[size % 5], size);
    ASSERT_EQ(plain.size(), size);
    auto from_evp = protect(evp_tx_, plain, true), from_lib = protect(lib_tx_, plain, true);
    ASSERT_TRUE(from_evp.ok() && from_lib.ok());
    EXPECT_EQ(*from_evp, *from_lib) << size;
    auto at_lib = unprotect(lib_rx_, *from_evp, true), at_evp = unprotect(evp_rx_, *from_lib, true);
    ASSERT_TRUE(at_lib.ok()) << "evp -> libsrtp: " << to_string(at_lib.error()) << " size " << size;
    ASSERT_TRUE(at_evp.ok()) << "libsrtp -> evp: " << to_string(at_evp.error()) << " size " << size;
    EXPECT_EQ(*at_lib, plain);
    EXPECT_EQ(*at_evp, plain);
  }
}

// Index 0 itself (EVP's first SRTCP packet) opens in libsrtp.
TEST_P(SrtpEvpInterop, SrtcpIndexZeroOpensInLibsrtp) {
  const Vec plain = rtcp_packet(42, 64);
  auto sealed = protect(evp_tx_, plain, true);
  ASSERT_TRUE(sealed.ok());
  auto opened = unprotect(lib_rx_, *sealed, true);
  ASSERT_TRUE(opened.ok()) << to_string(opened.error());
  EXPECT_EQ(*opened, plain);
}

// Counts verdicts so a test can show it reached every outcome.
using Tally = std::map<SrtpError, int>;

TEST_P(SrtpEvpInterop, ReceiversAgreeOnEveryRtpVerdict) {
  // 70000 packets of one SSRC from seq 0 (ROC 0 -> 1), sealed once; the
  // EVP sender must produce the same bytes for every one.
  constexpr size_t kPackets = 70000;
  std::vector<Vec> sealed(kPackets);
  for (size_t i = 0; i < kPackets; ++i) {
    const Vec plain = rtp_packet(uint16_t(i), 77, 8 + i % 5);
    auto a = protect(lib_tx_, plain), b = protect(evp_tx_, plain);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(*a, *b) << i;
    sealed[i] = std::move(*a);
  }
  // A random walk through them: mostly forward, with duplicates, reordering
  // inside and behind the window, and jumps far ahead and far back (beyond
  // 2^15 the index estimate is wrong on purpose: both must refuse).
  std::mt19937 rng(GetParam() == SrtpProfile::aead_aes_128_gcm ? 1 : 2);
  Tally tally;
  int64_t pos = 0;
  for (int n = 0; n < 30000; ++n) {
    const uint32_t r = rng() % 100;
    int64_t next = pos + 1 + rng() % 3;
    if (r < 10)
      next = pos - int64_t(rng() % 40);  // duplicate or slightly late
    else if (r < 18)
      next = pos - int64_t(rng() % 2000);  // around the window's edge
    else if (r < 20)
      next = pos - 2000 - int64_t(rng() % 40000);  // far behind
    else if (r < 22)
      next = pos + 1000 + int64_t(rng() % 40000);  // far ahead
    next = std::clamp<int64_t>(next, 0, kPackets - 1);
    auto e = unprotect(evp_rx_, sealed[size_t(next)]);
    auto l = unprotect(lib_rx_, sealed[size_t(next)]);
    ASSERT_EQ(verdict(e), verdict(l)) << "delivery " << n << " of packet " << next << ": evp " << to_string(verdict(e))
                                      << ", libsrtp " << to_string(verdict(l));
    if (e.ok()) {
      ASSERT_EQ(*e, *l);
    }
    ++tally[verdict(e)];
    if (e.ok()) pos = std::max(pos, next);
  }
  for (SrtpError want : {SrtpError::count_, SrtpError::replay_fail, SrtpError::replay_old, SrtpError::auth_fail}) {
    EXPECT_GT(tally[want], 0) << to_string(want);
  }
}

TEST_P(SrtpEvpInterop, SendersAgreeOnEveryVerdict) {
  for (bool repeat : {true, false}) {
    const SrtpSessionConfig cfg{.replay_window = 128, .allow_repeat_tx = repeat};
    SrtpSession e = session(p(), SrtpBackend::evp, true, cfg), l = session(p(), SrtpBackend::libsrtp, true, cfg);
    std::mt19937 rng(5);
    Tally tally;
    uint32_t seq = 65000;
    for (int n = 0; n < 5000; ++n) {
      const uint32_t r = rng() % 100;
      uint32_t s = seq + 1;
      if (r < 20)
        s = seq - rng() % 200;  // a retransmission, or too old to protect again
      else if (r < 23)
        s = seq + 5000;
      const Vec plain = rtp_packet(uint16_t(s), 3, 20);
      auto a = protect(e, plain), b = protect(l, plain);
      ASSERT_EQ(verdict(a), verdict(b)) << "repeat " << repeat << " packet " << n;
      if (a.ok()) {
        ASSERT_EQ(*a, *b);
      }
      ++tally[verdict(a)];
      seq = std::max(seq, s);
    }
    EXPECT_GT(tally[SrtpError::replay_old], 0);
    EXPECT_EQ(tally[SrtpError::replay_fail] > 0, !repeat);
  }
}

TEST_P(SrtpEvpInterop, ReceiversAgreeOnEveryRtcpVerdict) {
  std::vector<Vec> sealed;
  sealed.reserve(3000);
  for (int i = 0; i < 3000; ++i) sealed.push_back(*protect(lib_tx_, rtcp_packet(99, 8 + 4 * (i % 30)), true));
  std::mt19937 rng(3);
  Tally tally;
  int64_t pos = 0;
  for (int n = 0; n < 8000; ++n) {
    const uint32_t r = rng() % 100;
    int64_t next = pos + 1 + rng() % 4;
    if (r < 15)
      next = pos - int64_t(rng() % 20);
    else if (r < 25)
      next = pos - int64_t(rng() % 300);
    else if (r < 27)
      next = pos + int64_t(rng() % 1000);
    next = std::clamp<int64_t>(next, 0, int64_t(sealed.size()) - 1);
    auto e = unprotect(evp_rx_, sealed[size_t(next)], true);
    auto l = unprotect(lib_rx_, sealed[size_t(next)], true);
    ASSERT_EQ(verdict(e), verdict(l)) << "delivery " << n << " of packet " << next;
    if (e.ok()) {
      ASSERT_EQ(*e, *l);
    }
    ++tally[verdict(e)];
    if (e.ok()) pos = std::max(pos, next);
  }
  for (SrtpError want : {SrtpError::count_, SrtpError::replay_fail, SrtpError::replay_old}) {
    EXPECT_GT(tally[want], 0) << to_string(want);
  }
}

// Every single-bit flip of a sealed packet gets the same verdict from both
// (auth_fail, or malformed where the flip broke the header), except the one
// documented difference: an SRTCP E flag of 0 (srtp_evp.hpp).
TEST_P(SrtpEvpInterop, TamperedPacketsGetTheSameVerdict) {
  const Vec rtp = rtp_packet(RtpShape{.seq = 7, .payload = 40, .csrcs = 1, .ext_words = 1, .padding = 2});
  const Vec rtcp = rtcp_packet(7, 48);
  for (bool is_rtcp : {false, true}) {
    auto sealed = protect(lib_tx_, is_rtcp ? rtcp : rtp, is_rtcp);
    ASSERT_TRUE(sealed.ok());
    const size_t e_byte = p() == SrtpProfile::aead_aes_128_gcm ? sealed->size() - 4 : sealed->size() - 14;
    for (size_t at = 0; at < sealed->size(); ++at) {
      for (uint8_t bit : {0x01, 0x80}) {
        Vec bad = *sealed;
        bad[at] ^= bit;
        const SrtpError e = verdict(unprotect(evp_rx_, bad, is_rtcp));
        const SrtpError l = verdict(unprotect(lib_rx_, bad, is_rtcp));
        if (is_rtcp && at == e_byte && bit == 0x80) {
          EXPECT_EQ(e, SrtpError::malformed);
          EXPECT_EQ(l, p() == SrtpProfile::aead_aes_128_gcm ? SrtpError::auth_fail : SrtpError::other);
          continue;
        }
        EXPECT_EQ(e, l) << (is_rtcp ? "rtcp" : "rtp") << " byte " << at << " bit " << int(bit);
        EXPECT_NE(e, SrtpError::count_) << at;
      }
    }
    EXPECT_TRUE(unprotect(evp_rx_, *sealed, is_rtcp).ok());
    EXPECT_TRUE(unprotect(lib_rx_, *sealed, is_rtcp).ok());
  }
}

INSTANTIATE_TEST_SUITE_P(SrtpEvp, SrtpEvpInterop, ::testing::ValuesIn(kAllProfiles), profile_name);

}  // namespace
}  // namespace sfu::dtls
