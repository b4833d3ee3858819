// SrtpStreamTable and srtp_estimate_index: RFC 3711 §3.3.1 index
// estimation (Appendix A, with libsrtp's ROC-0 rule for young streams),
// the §3.3.2 replay window at its edges and across ring reuse, the SRTCP
// 128-index window, and the SSRC table's growth and cap.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "dtls/srtp/srtp_evp_streams.hpp"

namespace sfu::dtls {
namespace {

constexpr uint32_t kNone = SrtpStreamTable::kNone;

struct EstimateCase {
  const char* what;
  uint64_t highest;  // ROC << 16 | s_l
  uint16_t seq;
  uint64_t index;  // expected ROC << 16 | SEQ
  int32_t delta;
};

TEST(SrtpEvpStreams, IndexEstimationFollowsRfc3711AppendixA) {
  const EstimateCase cases[] = {
      {"new stream, seq 0", 0, 0, 0, 0},
      {"new stream, seq 65535: ROC 0, not -1", 0, 65535, 65535, 65535},
      {"young stream, far ahead: still ROC 0", 100, 65000, 65000, 64900},
      {"young stream at 2^15, behind", 0x8000, 1, 1, -32767},
      {"just past 2^15, seq 0: next cycle", 0x8001, 0, 0x10000, 32767},
      {"wrap: 65535 -> 0", 0xffff, 0, 0x10000, 1},
      {"wrap: 65530 -> 3", 0xfffa, 3, 0x10003, 9},
      {"late packet from the previous cycle", 0x10005, 0xfffe, 0xfffe, -7},
      {"ROC 1 -> 2", 0x1fff0, 0x0010, 0x20010, 32},
      {"s_l at the median: same ROC, 2^15 behind", 0x18000, 0, 0x10000, -32768},
      {"in order", 0x30100, 0x0101, 0x30101, 1},
      {"reordered", 0x30100, 0x00f0, 0x300f0, -16},
      {"duplicate", 0x30100, 0x0100, 0x30100, 0},
      {"ROC 2^32-1 wraps to 0 (libsrtp too)", 0xffffffffffffull, 0, 0, 1},
  };
  for (const auto& c : cases) {
    const SrtpIndexGuess g = srtp_estimate_index(c.highest, c.seq);
    EXPECT_EQ(g.index, c.index) << c.what;
    EXPECT_EQ(g.delta, c.delta) << c.what;
  }
}

// Accepts the packet with `seq` on `stream` (it must be fresh).
void accept_seq(SrtpStreamTable& t, uint32_t stream, uint16_t seq) {
  const SrtpIndexGuess g = t.rtp_estimate(stream, seq);
  ASSERT_EQ(t.rtp_check(stream, g.delta), SrtpReplay::fresh) << seq;
  t.rtp_add(stream, g.delta);
}

TEST(SrtpEvpStreams, ReplayWindowEdges) {
  SrtpStreamTable t(1024, 4, 16, 1);
  const uint32_t s = t.insert(0xabc);
  ASSERT_NE(s, kNone);
  EXPECT_EQ(t.find(0xabc), s);
  EXPECT_EQ(t.find(0xabd), kNone);
  accept_seq(t, s, 5000);
  EXPECT_EQ(t.rtp_highest(s), 5000u);
  EXPECT_EQ(t.rtp_check(s, 0), SrtpReplay::duplicate);
  EXPECT_EQ(t.rtp_check(s, -1023), SrtpReplay::fresh);  // the oldest slot of 1024
  EXPECT_EQ(t.rtp_check(s, -1024), SrtpReplay::too_old);
  t.rtp_add(s, -1023);
  EXPECT_EQ(t.rtp_check(s, -1023), SrtpReplay::duplicate);
  EXPECT_EQ(t.rtp_check(s, 1), SrtpReplay::fresh);
  t.rtp_add(s, 1);  // the window slides one: 5000 - 1023 falls out
  EXPECT_EQ(t.rtp_check(s, -1024), SrtpReplay::too_old);
  EXPECT_EQ(t.rtp_check(s, -1), SrtpReplay::duplicate);  // 5000
  EXPECT_EQ(t.rtp_check(kNone, 0), SrtpReplay::fresh);   // unknown SSRC: fresh state
}

TEST(SrtpEvpStreams, WindowIsRoundedUpTo32LikeLibsrtp) {
  SrtpStreamTable t(100, 1, 1, 1);
  EXPECT_EQ(t.replay_window(), 128u);
  const uint32_t s = t.insert(1);
  accept_seq(t, s, 1000);
  EXPECT_EQ(t.rtp_check(s, -127), SrtpReplay::fresh);
  EXPECT_EQ(t.rtp_check(s, -128), SrtpReplay::too_old);
}

TEST(SrtpEvpStreams, SlidingClearsTheRecycledRingPositions) {
  SrtpStreamTable t(1024, 1, 1, 1);
  const uint32_t s = t.insert(1);
  for (uint16_t seq = 1; seq <= 1000; ++seq) accept_seq(t, s, seq);
  accept_seq(t, s, 1500);  // jumps 500: ring positions of 1001..1499 held 1..475 before
  for (uint16_t seq = 1001; seq < 1500; ++seq) {
    ASSERT_EQ(t.rtp_check(s, t.rtp_estimate(s, seq).delta), SrtpReplay::fresh) << seq;
  }
  for (uint16_t seq = 477; seq <= 1000; ++seq) {
    ASSERT_EQ(t.rtp_check(s, t.rtp_estimate(s, seq).delta), SrtpReplay::duplicate) << seq;
  }
  EXPECT_EQ(t.rtp_check(s, t.rtp_estimate(s, 476).delta), SrtpReplay::too_old);
  accept_seq(t, s, 30000);  // a jump past the whole ring
  for (uint16_t seq = 28977; seq < 30000; ++seq) {
    ASSERT_EQ(t.rtp_check(s, t.rtp_estimate(s, seq).delta), SrtpReplay::fresh) << seq;
  }
}

TEST(SrtpEvpStreams, RolloverAcrossTheWrap) {
  SrtpStreamTable t(64, 1, 1, 1);
  const uint32_t s = t.insert(1);
  uint16_t seq = 60000;
  for (int i = 0; i < 3 * 65536; i += 1000, seq = uint16_t(seq + 1000)) accept_seq(t, s, seq);
  EXPECT_EQ(t.rtp_highest(s) >> 16, 3u);  // three wraps
  EXPECT_EQ(t.rtp_highest(s) & 0xffff, seq - 1000u);
}

TEST(SrtpEvpStreams, SrtcpWindowOf128) {
  SrtpStreamTable t(1024, 1, 1, 1);
  EXPECT_EQ(t.rtcp_check(kNone, 5), SrtpReplay::fresh);
  const uint32_t s = t.insert(9);
  t.rtcp_add(s, 5);
  EXPECT_EQ(t.rtcp_check(s, 5), SrtpReplay::duplicate);
  EXPECT_EQ(t.rtcp_check(s, 0), SrtpReplay::fresh);
  t.rtcp_add(s, 200);  // window [73, 201)
  EXPECT_EQ(t.rtcp_check(s, 72), SrtpReplay::too_old);
  EXPECT_EQ(t.rtcp_check(s, 5), SrtpReplay::too_old);
  EXPECT_EQ(t.rtcp_check(s, 73), SrtpReplay::fresh);
  EXPECT_EQ(t.rtcp_check(s, 200), SrtpReplay::duplicate);
  t.rtcp_add(s, 150);
  t.rtcp_add(s, 264);  // a shift of exactly 64
  EXPECT_EQ(t.rtcp_check(s, 150), SrtpReplay::duplicate);
  EXPECT_EQ(t.rtcp_check(s, 200), SrtpReplay::duplicate);
  EXPECT_EQ(t.rtcp_check(s, 136), SrtpReplay::too_old);  // window [137, 265)
  EXPECT_EQ(t.rtcp_check(s, 137), SrtpReplay::fresh);
  EXPECT_EQ(t.rtcp_check(s, 264), SrtpReplay::duplicate);
  t.rtcp_add(s, 264 + 70);  // 70: across the word boundary
  EXPECT_EQ(t.rtcp_check(s, 264), SrtpReplay::duplicate);
  EXPECT_EQ(t.rtcp_check(s, 200), SrtpReplay::too_old);
  t.rtcp_add(s, 100000);  // past the whole window
  EXPECT_EQ(t.rtcp_check(s, 100000 - 128), SrtpReplay::too_old);
  EXPECT_EQ(t.rtcp_check(s, 100000 - 127), SrtpReplay::fresh);
  EXPECT_EQ(t.rtcp_check(s, 100000), SrtpReplay::duplicate);
  EXPECT_EQ(t.rtcp_check(s, 0x7fffffff), SrtpReplay::fresh);
}

TEST(SrtpEvpStreams, GrowsByDoublingUpToTheCap) {
  SrtpStreamTable t(1024, 3, 40, 0x12345);
  EXPECT_EQ(t.capacity(), 4u);  // rounded up to a power of two
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < 40; ++i) {
    const uint32_t ssrc = i * 0x01000000u;  // all equal in the low bits
    ids.push_back(t.insert(ssrc));
    ASSERT_NE(ids.back(), kNone);
    const uint16_t seq = uint16_t(i * 100);
    t.rtp_add(ids.back(), t.rtp_estimate(ids.back(), seq).delta);
  }
  EXPECT_EQ(t.insert(0xffffffff), kNone);
  EXPECT_EQ(t.size(), 40u);
  EXPECT_EQ(t.capacity(), 64u);
  for (uint32_t i = 0; i < 40; ++i) {  // numbers and state survived every growth
    EXPECT_EQ(t.find(i * 0x01000000u), ids[i]);
    EXPECT_EQ(t.rtp_highest(ids[i]), i * 100u);
    EXPECT_EQ(t.rtp_check(ids[i], 0), SrtpReplay::duplicate);
  }
}

}  // namespace
}  // namespace sfu::dtls
