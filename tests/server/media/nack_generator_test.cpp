// Upstream loss recovery: which sequence numbers get NACKed (RFC 4585
// §6.2.1) and when, retries paced by RTT, giving up, keyframe fallback.
#include "server/media/nack_generator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace sfu::server::media {
namespace {

const Instant kT0 = from_micros(5'000'000'000);

Instant at_ms(int64_t ms) { return kT0 + milliseconds(ms); }

std::vector<uint16_t> poll(NackGenerator& g, Instant now) {
  std::array<uint16_t, 1024> buf{};
  const size_t n = g.poll_nacks(now, buf);
  return {buf.begin(), buf.begin() + std::ptrdiff_t(n)};
}

void feed(NackGenerator& g, Instant now, std::initializer_list<uint16_t> seqs) {
  for (uint16_t s : seqs) g.on_packet(now, s, false, false);
}

using Seqs = std::vector<uint16_t>;

// ---- Which numbers are missing: table-driven --------------------------------

struct GapCase {
  std::string name;
  std::vector<uint16_t> seqs;
  Seqs nacked;
};

std::vector<GapCase> gap_cases() {
  return {
      {"InOrder", {1, 2, 3, 4}, {}},
      {"SingleLoss", {100, 101, 103}, {102}},
      {"BurstLoss", {10, 15}, {11, 12, 13, 14}},
      {"WrapAround", {65534, 1}, {65535, 0}},
      {"WrapAroundInOrder", {65534, 65535, 0, 1}, {}},
      {"ReorderFillsGap", {100, 102, 101}, {}},
      {"ReorderAcrossWrap", {65535, 1, 0}, {}},
      {"Duplicate", {7, 8, 8, 10}, {9}},
      {"OldPacketIgnored", {500, 502, 400}, {501}},
      {"TwoGaps", {1, 3, 6}, {2, 4, 5}},
  };
}

class NackGeneratorGapTest : public testing::TestWithParam<GapCase> {};

TEST_P(NackGeneratorGapTest, NacksWhatIsMissing) {
  NackGenerator g;
  for (uint16_t s : GetParam().seqs) g.on_packet(kT0, s, false, false);
  EXPECT_EQ(poll(g, kT0), GetParam().nacked);
  EXPECT_EQ(g.missing(), GetParam().nacked.size());
  EXPECT_FALSE(g.needs_keyframe());
}

INSTANTIATE_TEST_SUITE_P(NackGeneratorSequences, NackGeneratorGapTest, testing::ValuesIn(gap_cases()),
                         [](const testing::TestParamInfo<GapCase>& param_info) { return param_info.param.name; });

// ---- Timing -------------------------------------------------------------------

TEST(NackGeneratorTest, LostSeqNackedAtOnceThenAfterRtt) {
  NackGenerator g;
  g.set_rtt(milliseconds(50));
  EXPECT_FALSE(g.poll_timeout().has_value());
  feed(g, at_ms(0), {100, 101, 103});
  EXPECT_EQ(g.poll_timeout(), at_ms(0));  // due at once
  EXPECT_EQ(poll(g, at_ms(0)), Seqs{102});
  EXPECT_EQ(poll(g, at_ms(0)), Seqs{});
  EXPECT_EQ(g.poll_timeout(), at_ms(50));
  EXPECT_EQ(poll(g, at_ms(49)), Seqs{});
  EXPECT_EQ(poll(g, at_ms(50)), Seqs{102});
  EXPECT_EQ(g.nacks_sent(), 2u);
}

TEST(NackGeneratorTest, RetryIntervalIsAtLeastMinimum) {
  NackGenerator g;
  g.set_rtt(milliseconds(5));  // max(5 ms * 1.0, 20 ms) = 20 ms
  feed(g, at_ms(0), {1, 3});
  EXPECT_EQ(poll(g, at_ms(0)), Seqs{2});
  EXPECT_EQ(poll(g, at_ms(19)), Seqs{});
  EXPECT_EQ(poll(g, at_ms(20)), Seqs{2});
}

TEST(NackGeneratorTest, RttFactorScalesRetryInterval) {
  NackConfig cfg;
  cfg.rtt_factor = 1.5;
  NackGenerator g(cfg);
  g.set_rtt(milliseconds(100));
  feed(g, at_ms(0), {1, 3});
  EXPECT_EQ(poll(g, at_ms(0)), Seqs{2});
  EXPECT_EQ(poll(g, at_ms(149)), Seqs{});
  EXPECT_EQ(poll(g, at_ms(150)), Seqs{2});
}

TEST(NackGeneratorTest, NewLossesJoinPendingRetriesInOrder) {
  NackGenerator g;
  g.set_rtt(milliseconds(30));
  feed(g, at_ms(0), {1, 3});
  EXPECT_EQ(poll(g, at_ms(0)), Seqs{2});
  feed(g, at_ms(10), {6});
  EXPECT_EQ(poll(g, at_ms(10)), (Seqs{4, 5}));
  EXPECT_EQ(poll(g, at_ms(30)), Seqs{2});
  EXPECT_EQ(g.poll_timeout(), at_ms(40));
  EXPECT_EQ(poll(g, at_ms(40)), (Seqs{4, 5}));
}

TEST(NackGeneratorTest, GivesUpAfterMaxRetries) {
  NackConfig cfg;
  cfg.max_retries = 3;
  NackGenerator g(cfg);
  g.set_rtt(milliseconds(20));
  feed(g, at_ms(0), {1, 3});
  EXPECT_EQ(poll(g, at_ms(0)), Seqs{2});
  EXPECT_EQ(poll(g, at_ms(20)), Seqs{2});
  EXPECT_EQ(poll(g, at_ms(40)), Seqs{2});
  EXPECT_EQ(g.unrecovered(), 0u);
  // The third NACK had one more RTT to work; then the number is dropped.
  EXPECT_EQ(poll(g, at_ms(60)), Seqs{});
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_EQ(g.unrecovered(), 1u);
  EXPECT_EQ(g.nacks_sent(), 3u);
  EXPECT_FALSE(g.poll_timeout().has_value());
}

TEST(NackGeneratorTest, GivesUpAfterMaxAge) {
  NackConfig cfg;
  cfg.max_retries = 1000;
  cfg.max_age = milliseconds(1000);
  NackGenerator g(cfg);
  g.set_rtt(milliseconds(300));
  feed(g, at_ms(0), {1, 3});
  EXPECT_EQ(poll(g, at_ms(0)), Seqs{2});
  EXPECT_EQ(poll(g, at_ms(300)), Seqs{2});
  EXPECT_EQ(poll(g, at_ms(600)), Seqs{2});
  EXPECT_EQ(poll(g, at_ms(900)), Seqs{2});
  EXPECT_EQ(g.poll_timeout(), at_ms(1000) + microseconds(1));  // the age limit, before the next retry
  EXPECT_EQ(poll(g, at_ms(1000)), Seqs{});
  EXPECT_EQ(g.missing(), 1u);
  EXPECT_EQ(poll(g, at_ms(1001)), Seqs{});
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_EQ(g.unrecovered(), 1u);
}

TEST(NackGeneratorTest, RemovedOnArrival) {
  NackGenerator g;
  feed(g, at_ms(0), {100, 103});
  EXPECT_EQ(poll(g, at_ms(0)), (Seqs{101, 102}));
  g.on_packet(at_ms(60), 101, false, true);  // repaired through RTX
  g.on_packet(at_ms(61), 102, false, true);
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_EQ(g.recovered(), 2u);
  EXPECT_EQ(poll(g, at_ms(500)), Seqs{});
  // A repeated repair changes nothing.
  g.on_packet(at_ms(62), 102, false, true);
  EXPECT_EQ(g.recovered(), 2u);
}

TEST(NackGeneratorTest, ReorderBeforeNackIsNotARecovery) {
  NackGenerator g;
  feed(g, at_ms(0), {1, 3, 2});
  EXPECT_EQ(poll(g, at_ms(0)), Seqs{});
  EXPECT_EQ(g.reordered(), 1u);
  EXPECT_EQ(g.recovered(), 0u);
  EXPECT_EQ(g.nacks_sent(), 0u);
}

TEST(NackGeneratorTest, OutputBufferTooSmallLeavesRestDue) {
  NackGenerator g;
  feed(g, at_ms(0), {0, 11});  // 1..10 missing
  std::array<uint16_t, 4> out{};
  ASSERT_EQ(g.poll_nacks(at_ms(0), out), 4u);
  EXPECT_EQ(out, (std::array<uint16_t, 4>{1, 2, 3, 4}));
  EXPECT_EQ(g.poll_timeout(), at_ms(0));
  ASSERT_EQ(g.poll_nacks(at_ms(0), out), 4u);
  EXPECT_EQ(out, (std::array<uint16_t, 4>{5, 6, 7, 8}));
  ASSERT_EQ(g.poll_nacks(at_ms(0), out), 2u);
  EXPECT_EQ(out[0], 9);
  EXPECT_EQ(out[1], 10);
}

// ---- Keyframe fallback ----------------------------------------------------------

TEST(NackGeneratorTest, GapLargerThanMaxTrackedAsksForKeyframe) {
  NackConfig cfg;
  cfg.max_tracked = 512;
  NackGenerator g(cfg);
  feed(g, at_ms(0), {10, 12});              // 11 missing
  feed(g, at_ms(1), {uint16_t(12 + 514)});  // 513 missing at once
  EXPECT_TRUE(g.needs_keyframe());
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_EQ(g.unrecovered(), 1u);  // 11, cleared
  EXPECT_EQ(g.keyframes_requested(), 1u);
  EXPECT_TRUE(g.poll_keyframe_request());
  EXPECT_FALSE(g.poll_keyframe_request());
  EXPECT_EQ(poll(g, at_ms(1)), Seqs{});
}

TEST(NackGeneratorTest, GapOfExactlyMaxTrackedIsTracked) {
  NackConfig cfg;
  cfg.max_tracked = 512;
  NackGenerator g(cfg);
  feed(g, at_ms(0), {65200, uint16_t(65200 + 513)});  // 65201..176 across the wrap: 512 missing
  EXPECT_FALSE(g.needs_keyframe());
  EXPECT_EQ(g.missing(), 512u);
  const auto nacked = poll(g, at_ms(0));
  ASSERT_EQ(nacked.size(), 512u);
  EXPECT_EQ(nacked.front(), 65201);
  EXPECT_EQ(nacked.back(), 176);
}

TEST(NackGeneratorTest, KeyframeArrivalClearsRequest) {
  NackConfig cfg;
  cfg.max_tracked = 16;
  NackGenerator g(cfg);
  feed(g, at_ms(0), {0, 100});
  EXPECT_TRUE(g.needs_keyframe());
  g.on_packet(at_ms(5), 101, true, false);
  EXPECT_FALSE(g.needs_keyframe());
  EXPECT_FALSE(g.poll_keyframe_request());
  EXPECT_EQ(g.keyframes_requested(), 1u);
}

TEST(NackGeneratorTest, HugeGapEndingInKeyframeNeedsNoRequest) {
  NackConfig cfg;
  cfg.max_tracked = 16;
  NackGenerator g(cfg);
  feed(g, at_ms(0), {0, 2});
  g.on_packet(at_ms(1), 100, true, false);
  EXPECT_FALSE(g.needs_keyframe());
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_EQ(g.unrecovered(), 1u);
}

TEST(NackGeneratorTest, OverflowDropsWhatPrecedesKeyframe) {
  NackConfig cfg;
  cfg.max_tracked = 10;
  NackGenerator g(cfg);
  feed(g, at_ms(0), {0, 6});              // 1..5 missing
  g.on_packet(at_ms(1), 7, true, false);  // keyframe starts at 7
  feed(g, at_ms(2), {14});                // 8..13 missing: 11 > 10
  EXPECT_FALSE(g.needs_keyframe());
  EXPECT_EQ(g.missing(), 6u);
  EXPECT_EQ(g.unrecovered(), 5u);
  EXPECT_EQ(poll(g, at_ms(2)), (Seqs{8, 9, 10, 11, 12, 13}));
}

TEST(NackGeneratorTest, OverflowWithoutKeyframeClearsAndAsks) {
  NackConfig cfg;
  cfg.max_tracked = 10;
  NackGenerator g(cfg);
  feed(g, at_ms(0), {0, 6, 14});  // 5 + 7 missing
  EXPECT_TRUE(g.needs_keyframe());
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_EQ(g.unrecovered(), 5u);
}

TEST(NackGeneratorTest, BackwardRestartConfirmedByNextPacket) {
  NackGenerator g;
  feed(g, at_ms(0), {30000, 30002});  // 30001 missing
  feed(g, at_ms(1), {100});           // stray or restart?
  EXPECT_EQ(g.missing(), 1u);
  feed(g, at_ms(2), {101, 103});  // restart confirmed; 102 missing in the new numbering
  EXPECT_EQ(g.unrecovered(), 1u);
  EXPECT_EQ(poll(g, at_ms(2)), Seqs{102});
  EXPECT_FALSE(g.needs_keyframe());
}

// ---- End to end over a lossy simulated path ---------------------------------------

TEST(NackGeneratorTest, RecoversFivePercentRandomLoss) {
  // 10,000 packets, one per 10 ms; each original, NACK and retransmission is
  // lost with 5 % probability. RTT 60 ms: a NACK reaches the sender after
  // 30 ms, its repair arrives 30 ms later.
  std::mt19937 rng(20240607);
  auto lost = [&] { return rng() % 100 < 5; };
  NackGenerator g;
  const Duration rtt = milliseconds(60);
  g.set_rtt(rtt);
  std::deque<std::pair<Instant, uint16_t>> in_flight;  // repairs, by arrival time
  std::array<uint16_t, 256> nacks{};
  uint64_t originals_lost = 0;
  constexpr int kPackets = 10'000;
  for (int ms = 0; ms < kPackets * 10 + 2000; ++ms) {
    const Instant now = at_ms(ms);
    while (!in_flight.empty() && in_flight.front().first <= now) {
      g.on_packet(now, in_flight.front().second, false, true);
      in_flight.pop_front();
    }
    if (ms % 10 == 0 && ms / 10 < kPackets) {
      const auto seq = uint16_t(ms / 10 + 60000);  // crosses the wrap
      // The last packet always arrives: a lost tail would never be noticed.
      if (ms / 10 != kPackets - 1 && lost()) {
        ++originals_lost;
      } else {
        g.on_packet(now, seq, false, false);
      }
    }
    const size_t n = g.poll_nacks(now, nacks);
    for (size_t i = 0; i < n; ++i) {
      if (!lost() && !lost()) in_flight.emplace_back(now + rtt, nacks[i]);  // NACK and repair both survive
    }
  }
  ASSERT_GT(originals_lost, 400u);
  const double ratio = double(g.recovered()) / double(originals_lost);
  EXPECT_GT(ratio, 0.99) << "recovered " << g.recovered() << " of " << originals_lost;
  EXPECT_EQ(g.recovered() + g.unrecovered(), originals_lost);
  EXPECT_EQ(g.missing(), 0u);
  EXPECT_FALSE(g.needs_keyframe());
  EXPECT_GE(g.nacks_sent(), originals_lost);
}

// ---- The RTCP packet ------------------------------------------------------------

TEST(NackGeneratorTest, WriteNackPacksRfc4585Items) {
  const uint16_t lost[] = {100, 101, 103, 65535, 0, 15};
  std::array<uint8_t, 64> buf{};
  size_t consumed = 0;
  const size_t n = write_nack(buf, 0x00000001, 0x00abcdef, lost, &consumed);
  // 100,101,103 share one item; 65535, 0, 15 another (wrapping); 15 is 16 past 65535 → BLP bit 15.
  const uint8_t expected[] = {
      0x81, 0xcd, 0x00, 0x04,  // V=2 FMT=1, PT=RTPFB(205), length 4 (20 bytes)
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0xab, 0xcd, 0xef,  // SSRC of media source
      0x00, 0x64, 0x00, 0x05,  // PID 100, BLP 0b101: 101, 103
      0xff, 0xff, 0x80, 0x01,  // PID 65535, BLP bits 0 and 15: 0, 15
  };
  ASSERT_EQ(n, sizeof(expected));
  EXPECT_EQ(consumed, 6u);
  EXPECT_TRUE(std::equal(std::begin(expected), std::end(expected), buf.begin()));
  EXPECT_EQ(write_nack(buf, 1, 2, {}), 0u);
  EXPECT_EQ(write_nack(std::span<uint8_t>(buf).first(15), 1, 2, lost), 0u);
}

}  // namespace
}  // namespace sfu::server::media
