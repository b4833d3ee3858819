// SendSideHistory: sequence numbers handed out, feedback matched back to the
// packets sent (draft-holmer-rmcat-transport-wide-cc-extensions-01), and the
// acknowledged bitrate.
#include "server/bwe/send_side_history.hpp"

#include <gtest/gtest.h>

#include <array>
#include <utility>
#include <vector>

#include "rtp/rtcp/transport_cc.hpp"

namespace sfu::server::bwe {
namespace {

using rtp::rtcp::TransportCcBuilder;
using rtp::rtcp::TransportCcView;

constexpr Instant kT0 = Instant{} + seconds(100);

// A parsed feedback packet that owns its bytes.
struct Feedback {
  std::array<uint8_t, rtp::rtcp::kTransportCcMaxSize> bytes{};
  TransportCcView view;
};

// Feedback reporting `received` (seq, arrival µs) in order; gaps are losses.
Feedback make_feedback(const std::vector<std::pair<uint16_t, int64_t>>& received) {
  TransportCcBuilder b;
  for (auto [seq, us] : received) EXPECT_TRUE(b.add_received(seq, us));
  Feedback f;
  const size_t n = b.serialize_to(f.bytes);
  auto v = rtp::rtcp::parse_transport_cc(std::span<const uint8_t>(f.bytes.data(), n));
  EXPECT_TRUE(v.ok());
  if (v.ok()) f.view = *v;
  return f;
}

TEST(SendSideHistory, HandsOutConsecutiveSequenceNumbersAcrossTheWrap) {
  SendSideHistory h(65534);
  EXPECT_EQ(h.on_packet_sent(kT0, 100), 65534);
  EXPECT_EQ(h.on_packet_sent(kT0, 100), 65535);
  EXPECT_EQ(h.on_packet_sent(kT0, 100), 0);
  EXPECT_EQ(h.packets_sent(), 3u);
}

TEST(SendSideHistory, MatchesFeedbackToSentPackets) {
  SendSideHistory h(65533);
  for (int i = 0; i < 6; ++i) {
    h.on_packet_sent(kT0 + milliseconds(10 * i), size_t(1000 + i), PacketFlags{.rtx = i == 4, .probe_cluster = int16_t(i == 5 ? 3 : -1)});
  }
  // 65533..2 sent; 65535 lost; arrivals 40 ms later, +1 ms jitter on 0.
  const auto f = make_feedback({{65533, 1'040'000}, {65534, 1'050'000}, {0, 1'061'000}, {1, 1'070'000}, {2, 1'080'000}});
  const FeedbackSummary s = h.on_feedback(kT0 + milliseconds(100), f.view);
  EXPECT_EQ(s.received_count, 5u);
  EXPECT_EQ(s.lost, 1u);
  EXPECT_EQ(s.unknown, 0u);
  ASSERT_EQ(s.received.size(), 5u);
  const PacketResult& r0 = s.received[0];
  EXPECT_EQ(r0.send_us, to_micros(kT0));
  EXPECT_EQ(r0.size, 1000);
  EXPECT_EQ(r0.seq, 65533);
  EXPECT_EQ(s.received[2].send_us, to_micros(kT0 + milliseconds(30)));
  EXPECT_EQ(s.received[2].arrival_us - r0.arrival_us, 21'000);  // arrival deltas preserved
  EXPECT_EQ(s.received[3].flags, PacketResult::kRtx);
  EXPECT_EQ(s.received[4].probe_cluster, 3);
  EXPECT_EQ(s.received[1].probe_cluster, kNotProbe);
}

TEST(SendSideHistory, ResultsAreSortedByArrival) {
  SendSideHistory h;
  for (int i = 0; i < 3; ++i) h.on_packet_sent(kT0 + milliseconds(i), 500);
  // Packet 1 overtook packet 0 on the way.
  const auto f = make_feedback({{0, 20'000}, {1, 19'000}, {2, 21'000}});
  const FeedbackSummary s = h.on_feedback(kT0, f.view);
  ASSERT_EQ(s.received.size(), 3u);
  EXPECT_EQ(s.received[0].seq, 1);
  EXPECT_EQ(s.received[1].seq, 0);
  EXPECT_EQ(s.received[2].seq, 2);
}

TEST(SendSideHistory, DuplicatesAndLateArrivals) {
  SendSideHistory h;
  for (int i = 0; i < 4; ++i) h.on_packet_sent(kT0, 500);
  auto s = h.on_feedback(kT0, make_feedback({{0, 1000}, {3, 4000}}).view);  // 1, 2 lost
  EXPECT_EQ(s.received_count, 2u);
  EXPECT_EQ(s.lost, 2u);
  // The receiver re-reports from 1 (which arrived late) through 3.
  s = h.on_feedback(kT0, make_feedback({{1, 5000}, {3, 4000}}).view);
  EXPECT_EQ(s.received_count, 1u);  // 1: lost before, received now
  EXPECT_EQ(s.lost, 0u);
  EXPECT_EQ(s.duplicates, 2u);      // 2 lost again, 3 received again
  ASSERT_EQ(s.received.size(), 1u);
  EXPECT_EQ(s.received[0].seq, 1);
}

TEST(SendSideHistory, UnknownAndExpiredPacketsAreSkipped) {
  SendSideHistory h;
  h.on_packet_sent(kT0, 500);                    // seq 0
  h.on_packet_sent(kT0 + seconds(3), 500);       // seq 1
  // 0 is older than 2 s at kT0 + 3 s; 2 and 3 were never sent.
  const auto s = h.on_feedback(kT0 + seconds(3), make_feedback({{0, 1000}, {1, 2000}, {3, 3000}}).view);
  EXPECT_EQ(s.received_count, 1u);
  EXPECT_EQ(s.unknown, 3u);
}

TEST(SendSideHistory, ArrivalTimesStayMonotonicAcrossReferenceTimeWrap) {
  SendSideHistory h;
  h.on_packet_sent(kT0, 500);
  h.on_packet_sent(kT0 + milliseconds(20), 500);
  // The 24-bit reference time (64 ms units) wraps at 2^24 · 64 ms.
  const int64_t wrap_us = (int64_t(1) << 24) * 64'000;
  auto s1 = h.on_feedback(kT0, make_feedback({{0, wrap_us - 10'000}}).view);
  ASSERT_EQ(s1.received.size(), 1u);
  const int64_t a0 = s1.received[0].arrival_us;
  auto s2 = h.on_feedback(kT0, make_feedback({{1, wrap_us + 10'000}}).view);
  ASSERT_EQ(s2.received.size(), 1u);
  EXPECT_EQ(s2.received[0].arrival_us - a0, 20'000);
}

TEST(SendSideHistory, AcknowledgedBitrateFollowsArrivals) {
  SendSideHistory h;
  EXPECT_FALSE(h.acked_bitrate_bps());
  // 1000-byte packets arriving every 8 ms: 1 Mbit/s, for one second.
  std::vector<std::pair<uint16_t, int64_t>> arrivals;
  for (int i = 0; i < 125; ++i) {
    h.on_packet_sent(kT0 + milliseconds(8 * i), 1000);
    arrivals.emplace_back(uint16_t(i), 5'000'000 + int64_t(i) * 8000);
    if (arrivals.size() == 25) {
      h.on_feedback(kT0 + milliseconds(8 * i), make_feedback(arrivals).view);
      arrivals.clear();
    }
  }
  ASSERT_TRUE(h.acked_bitrate_bps());
  EXPECT_NEAR(double(*h.acked_bitrate_bps()), 1'000'000, 20'000);
}

TEST(SendSideHistoryAckedBitrate, WindowSlidesAndForgetsOldBuckets) {
  AckedBitrateEstimator e;
  e.add(0, 1000);
  EXPECT_FALSE(e.bitrate_bps());
  for (int i = 1; i <= 50; ++i) e.add(int64_t(i) * 10'000, 1000);  // 800 kbit/s for 500 ms
  EXPECT_NEAR(double(*e.bitrate_bps()), 800'000, 40'000);
  for (int i = 1; i <= 50; ++i) e.add(500'000 + int64_t(i) * 20'000, 1000);  // 400 kbit/s for 1 s
  EXPECT_NEAR(double(*e.bitrate_bps()), 400'000, 40'000);
}

}  // namespace
}  // namespace sfu::server::bwe
