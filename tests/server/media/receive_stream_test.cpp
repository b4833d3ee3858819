// Reception statistics of one RTP stream: RFC 3550 Appendix A.1 (sequence
// tracking), A.3 (expected / lost / fraction lost), A.8 (jitter), §6.4.1
// (LSR / DLSR), plus duplicates and the incoming bitrate.
#include "server/media/receive_stream.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "server/media/media_types.hpp"

namespace sfu::server::media {
namespace {

constexpr uint32_t kSsrc = 0x1234abcd;
// A virtual clock origin aligned to the 50 ms rate buckets.
const Instant kT0 = from_micros(1'000'000'000);

Instant at_ms(int64_t ms) { return kT0 + milliseconds(ms); }

// ---- Sequence tracking: table-driven, RFC 3550 §A.1 / §A.3 --------------------

struct SeqCase {
  std::string name;
  std::vector<uint16_t> seqs;
  uint32_t extended_highest;
  int64_t lost;
  uint64_t duplicates;
  std::vector<ArrivalKind> kinds;  // empty: not checked
};

using K = ArrivalKind;

std::vector<SeqCase> seq_cases() {
  return {
      {"InOrder", {10, 11, 12, 13}, 13, 0, 0, {K::newest, K::newest, K::newest, K::newest}},
      {"WrapAround", {65534, 65535, 0, 1}, 0x10001, 0, 0, {}},
      {"WrapAroundWithLoss", {65534, 1}, 0x10001, 2, 0, {}},  // 65535 and 0 missing
      {"ReorderAcrossWrap", {65534, 0, 65535, 1}, 0x10001, 0, 0, {K::newest, K::newest, K::late, K::newest}},
      {"LossThenLateArrival", {1, 2, 5, 3}, 5, 1, 0, {K::newest, K::newest, K::newest, K::late}},
      {"Duplicates", {10, 11, 11, 12, 10}, 12, 0, 2, {K::newest, K::newest, K::duplicate, K::newest, K::duplicate}},
      {"DuplicateAcrossWrap", {65535, 0, 65535, 0}, 0x10000, 0, 2, {}},
      {"ReorderedBeforeFirst", {5, 4, 6}, 6, 0, 0, {K::newest, K::late, K::newest}},
      {"JumpWithinMaxDropout", {100, 3100}, 3100, 2999, 0, {}},
      // A.1: one packet far ahead is not believed until the next follows it.
      {"StrayJumpIgnored", {100, 101, 5000, 102}, 102, 0, 0, {K::newest, K::newest, K::suspect, K::newest}},
      {"ForwardRestart",
       {100, 101, 20000, 20001, 20002},
       20002,
       0,
       0,
       {K::newest, K::newest, K::suspect, K::newest, K::newest}},
      {"BackwardRestart",
       {30000, 30001, 100, 101, 102},
       102,
       0,
       0,
       {K::newest, K::newest, K::suspect, K::newest, K::newest}},
      {"RestartKeepsEarlierLoss", {1, 3, 40000, 40001}, 40001, 1, 0, {}},
  };
}

class ReceiveStreamSeqTest : public testing::TestWithParam<SeqCase> {};

TEST_P(ReceiveStreamSeqTest, CountsPerRfc3550A3) {
  const SeqCase& c = GetParam();
  ReceiveStream rs(kSsrc, kVideoClockRate);
  std::vector<ArrivalKind> kinds;
  int64_t ms = 0;
  for (uint16_t seq : c.seqs) kinds.push_back(rs.on_packet(at_ms(ms++), seq, 0, 100, false));
  EXPECT_EQ(rs.extended_highest_seq(), c.extended_highest);
  EXPECT_EQ(rs.cumulative_lost(), c.lost);
  EXPECT_EQ(rs.duplicates(), c.duplicates);
  EXPECT_EQ(rs.packets_received(), c.seqs.size());
  EXPECT_EQ(rs.bytes_received(), 100 * c.seqs.size());
  if (!c.kinds.empty()) {
    EXPECT_EQ(kinds, c.kinds);
  }
  const auto block = rs.make_report_block(at_ms(ms));
  EXPECT_EQ(block.extended_highest_seq, c.extended_highest);
  EXPECT_EQ(block.cumulative_lost, c.lost);
}

INSTANTIATE_TEST_SUITE_P(ReceiveStreamSequences, ReceiveStreamSeqTest, testing::ValuesIn(seq_cases()),
                         [](const testing::TestParamInfo<SeqCase>& param_info) { return param_info.param.name; });

TEST(ReceiveStreamTest, DuplicateWindowFollowsHighest) {
  ReceiveStream rs(kSsrc, kVideoClockRate);
  // 3000 in-order packets slide the window; 10 was forgotten long ago but is
  // also further behind than kMaxMisorder, so it is a suspect, not a dup.
  for (uint16_t s = 0; s < 3000; ++s) EXPECT_EQ(rs.on_packet(kT0, s, 0, 1, false), ArrivalKind::newest);
  EXPECT_EQ(rs.on_packet(kT0, 2990, 0, 1, false), ArrivalKind::duplicate);
  EXPECT_EQ(rs.on_packet(kT0, 2000, 0, 1, true), ArrivalKind::duplicate);  // a spurious repair
  EXPECT_EQ(rs.on_packet(kT0, 10, 0, 1, false), ArrivalKind::suspect);
  EXPECT_EQ(rs.cumulative_lost(), 0);
}

TEST(ReceiveStreamTest, RepairBeyondDuplicateWindowIsNotCounted) {
  ReceiveStream rs(kSsrc, kVideoClockRate);
  rs.on_packet(kT0, 0, 0, 1, false);
  for (uint16_t s = 2; s < 2 + ReceiveStream::kDuplicateWindow + 10; ++s) rs.on_packet(kT0, s, 0, 1, false);
  ASSERT_EQ(rs.cumulative_lost(), 1);  // seq 1
  EXPECT_EQ(rs.on_packet(kT0, 1, 0, 1, true), ArrivalKind::late);
  EXPECT_EQ(rs.cumulative_lost(), 1);  // can't tell it from a duplicate: not counted
  EXPECT_EQ(rs.retransmissions(), 1u);
}

// ---- Fraction lost per reporting interval: RFC 3550 §A.3 ----------------------

TEST(ReceiveStreamTest, FractionLostRfc3550A3HandComputed) {
  ReceiveStream rs(kSsrc, kVideoClockRate);
  // Interval 1: seqs 0..99 expected, 10/20/30/40/50 lost.
  // fraction = (5 << 8) / 100 = 1280 / 100 = 12 (12.8 truncated).
  for (uint16_t s = 0; s < 100; ++s) {
    if (s != 10 && s != 20 && s != 30 && s != 40 && s != 50) rs.on_packet(at_ms(s), s, 0, 100, false);
  }
  auto b = rs.make_report_block(at_ms(100));
  EXPECT_EQ(b.ssrc, kSsrc);
  EXPECT_EQ(b.fraction_lost, 12);
  EXPECT_EQ(b.cumulative_lost, 5);
  EXPECT_EQ(b.extended_highest_seq, 99u);

  // Interval 2: 100..149 all arrive: nothing lost in the interval.
  for (uint16_t s = 100; s < 150; ++s) rs.on_packet(at_ms(s), s, 0, 100, false);
  b = rs.make_report_block(at_ms(150));
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.cumulative_lost, 5);

  // Interval 3: 10 new packets (150..159, 152 lost) and three repairs: the
  // interval received more than it expected, so fraction lost is 0 (§A.3:
  // lost_interval <= 0) while cumulative loss drops to 5 - 3 + 1 = 3.
  for (uint16_t s = 150; s < 160; ++s) {
    if (s != 152) rs.on_packet(at_ms(s), s, 0, 100, false);
  }
  for (uint16_t s : {10, 20, 30}) EXPECT_EQ(rs.on_packet(at_ms(160), s, 0, 100, true), ArrivalKind::late);
  b = rs.make_report_block(at_ms(160));
  EXPECT_EQ(b.fraction_lost, 0);
  EXPECT_EQ(b.cumulative_lost, 3);

  // Interval 4: 160..164 expected (5), 161 and 163 lost: (2 << 8) / 5 = 102.
  rs.on_packet(at_ms(161), 160, 0, 100, false);
  rs.on_packet(at_ms(162), 162, 0, 100, false);
  rs.on_packet(at_ms(163), 164, 0, 100, false);
  b = rs.make_report_block(at_ms(170));
  EXPECT_EQ(b.fraction_lost, 102);
  EXPECT_EQ(b.cumulative_lost, 5);
}

TEST(ReceiveStreamTest, NoPacketsGivesEmptyBlock) {
  ReceiveStream rs(kSsrc, kOpusClockRate);
  const auto b = rs.make_report_block(kT0);
  EXPECT_EQ(b, (rtp::rtcp::ReportBlock{kSsrc, 0, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(rs.has_received());
  EXPECT_EQ(rs.bitrate_bps(kT0), 0u);
}

// ---- Interarrival jitter: RFC 3550 §A.8 -------------------------------------

TEST(ReceiveStreamTest, JitterRfc3550A8HandComputed) {
  // 90 kHz, one packet per 20 ms frame (1800 ticks). Extra network delay per
  // packet: 0, 10, 0, 5, 5 ms → relative transit 0, 900, 0, 450, 450 ticks,
  // so |D| = 900, 900, 450, 0. Integer form J16 += |D| - ((J16 + 8) >> 4):
  //   900 - 0 = 900; 1744 (+900-56); 2085 (+450-109); 1955 (+0-130)
  // → J = 1955 >> 4 = 122 (the float recursion gives 122.16).
  ReceiveStream rs(kSsrc, kVideoClockRate);
  const int64_t extra_ms[] = {0, 10, 0, 5, 5};
  const uint32_t expect_jitter[] = {0, 56, 109, 130, 122};
  for (int i = 0; i < 5; ++i) {
    rs.on_packet(at_ms(20 * i + extra_ms[i]), uint16_t(i), uint32_t(1800 * i), 1000, false);
    EXPECT_EQ(rs.jitter(), expect_jitter[i]) << "packet " << i;
  }
  EXPECT_NEAR(rs.jitter_ms(), 122.0 / 90.0, 1e-9);
  // A repair carries an old timestamp: it must not disturb the estimate.
  rs.on_packet(at_ms(200), 1, 1800, 1000, true);
  EXPECT_EQ(rs.jitter(), 122u);
  EXPECT_EQ(rs.make_report_block(at_ms(200)).jitter, 122u);
}

TEST(ReceiveStreamTest, JitterZeroForPerfectPacingAcrossTimestampWrap) {
  ReceiveStream rs(kSsrc, kOpusClockRate);
  uint32_t ts = 0xffffffff - 960 * 5;
  for (int i = 0; i < 20; ++i, ts += 960) rs.on_packet(at_ms(20 * i), uint16_t(i), ts, 100, false);
  EXPECT_EQ(rs.jitter(), 0u);
}

TEST(ReceiveStreamTest, JitterConvergesToConstantAlternatingDelay) {
  // Delay alternating 0 / 4 ms: |D| is always 4 ms = 192 ticks at 48 kHz, and
  // J → |D| (the recursion's fixed point).
  ReceiveStream rs(kSsrc, kOpusClockRate);
  for (int i = 0; i < 500; ++i) {
    rs.on_packet(at_ms(20 * i + (i % 2) * 4), uint16_t(i), uint32_t(960 * i), 100, false);
  }
  EXPECT_NEAR(double(rs.jitter()), 192.0, 2.0);
  EXPECT_NEAR(rs.jitter_ms(), 4.0, 0.05);
}

// ---- LSR / DLSR and the SR mapping: RFC 3550 §6.4.1 ---------------------------

TEST(ReceiveStreamTest, LsrDlsrFromLastSenderReport) {
  ReceiveStream rs(kSsrc, kVideoClockRate);
  EXPECT_FALSE(rs.sr_mapping().has_value());
  rs.on_packet(kT0, 1, 0, 100, false);
  EXPECT_EQ(rs.make_report_block(kT0).last_sr, 0u);

  rs.on_sender_report(at_ms(1000), 0x0000'1234'5678'0000, 90000);
  ASSERT_TRUE(rs.sr_mapping().has_value());
  EXPECT_EQ(*rs.sr_mapping(), (SrMapping{0x0000'1234'5678'0000, 90000, at_ms(1000)}));
  const auto b = rs.make_report_block(at_ms(2500));
  EXPECT_EQ(b.last_sr, 0x1234'5678u);        // middle 32 bits of the NTP timestamp
  EXPECT_EQ(b.delay_since_last_sr, 98304u);  // 1.5 s * 65536
  EXPECT_EQ(rs.make_report_block(at_ms(1000)).delay_since_last_sr, 0u);
  EXPECT_EQ(rs.make_report_block(at_ms(1001)).delay_since_last_sr, 65u);  // 65.536 truncated

  // A newer SR replaces the mapping.
  rs.on_sender_report(at_ms(3000), 0xe000'0001'8000'0000, 270000);
  EXPECT_EQ(rs.sr_mapping()->rtp_ts, 270000u);
  EXPECT_EQ(rs.make_report_block(at_ms(3250)).last_sr, 0x0001'8000u);
  EXPECT_EQ(rs.make_report_block(at_ms(3250)).delay_since_last_sr, 16384u);  // 0.25 s
}

// ---- Bitrate over a sliding 1 s window ---------------------------------------

TEST(ReceiveStreamTest, BitrateOverSlidingWindow) {
  ReceiveStream rs(kSsrc, kVideoClockRate);
  // 1250 bytes every 10 ms = 1 Mbit/s, for 3 s.
  for (int i = 0; i < 300; ++i) rs.on_packet(at_ms(10 * i), uint16_t(i), uint32_t(900 * i), 1250, false);
  EXPECT_NEAR(double(rs.bitrate_bps(at_ms(2995))), 1e6, 0.02e6);
  EXPECT_NEAR(double(rs.bitrate_bps(at_ms(2990))), 1e6, 0.02e6);
  // The rate doubles for the next second.
  for (int i = 300; i < 500; ++i) rs.on_packet(at_ms(3000 + 5 * (i - 300)), uint16_t(i), 0, 1250, false);
  EXPECT_NEAR(double(rs.bitrate_bps(at_ms(3999))), 2e6, 0.1e6);
  // Silence: the window empties.
  EXPECT_LT(rs.bitrate_bps(at_ms(4500)), 1.1e6);
  EXPECT_EQ(rs.bitrate_bps(at_ms(5100)), 0u);
}

TEST(ReceiveStreamTest, BitrateOfYoungStreamUsesItsAge) {
  ReceiveStream rs(kSsrc, kVideoClockRate);
  // 200 ms of 1 Mbit/s: read as 1 Mbit/s, not 0.2.
  for (int i = 0; i <= 20; ++i) rs.on_packet(at_ms(10 * i), uint16_t(i), 0, 1250, false);
  EXPECT_NEAR(double(rs.bitrate_bps(at_ms(205))), 1.0e6 * 21 / 20.5, 0.01e6);
}

}  // namespace
}  // namespace sfu::server::media
