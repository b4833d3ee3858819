// Bandwidth estimation hot paths: every packet received from a publisher
// (FeedbackGenerator::on_packet), every transport-cc feedback from a
// subscriber (SendSideHistory::on_feedback, ~100 packets each at video
// rates), and the delay-based estimator's per-feedback update.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "rtp/rtcp/transport_cc.hpp"
#include "server/bwe/bandwidth_estimator.hpp"
#include "server/bwe/delay_based_estimator.hpp"
#include "server/bwe/feedback_generator.hpp"
#include "server/bwe/send_side_history.hpp"

namespace {

using namespace sfu;
using namespace sfu::server::bwe;
using sfu::rtp::rtcp::kTransportCcMaxSize;
using sfu::rtp::rtcp::TransportCcBuilder;
using sfu::rtp::rtcp::TransportCcView;

constexpr Instant kT0 = Instant{} + seconds(1000);
constexpr int kFeedbackPackets = 100;
constexpr size_t kPacketSize = 1200;

// 2 % loss (every 50th missing) and a little arrival jitter, as in
// transport_cc_bench.cpp.
bool lost(int64_t i) { return i % 50 == 17; }
int64_t jitter_us(int64_t i) { return (i * 37) % 300; }

// One packet per iteration, 1 ms apart, the sequence number wrapping.
void BM_FeedbackGeneratorOnPacket(benchmark::State& state) {
  FeedbackGenerator g(0x01020304);
  int64_t i = 0;
  for (auto _ : state) {
    if (!lost(i)) g.on_packet(kT0 + microseconds(i * 1000 + jitter_us(i)), uint16_t(i));
    ++i;
  }
  benchmark::DoNotOptimize(g.duplicates());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FeedbackGeneratorOnPacket);

// Same, plus building the feedback (every 100 packets), amortised per packet:
// the whole receive-side cost of transport-cc for a publisher.
void BM_FeedbackGeneratorOnPacketWithFeedback(benchmark::State& state) {
  FeedbackGenerator g(0x01020304);
  std::array<uint8_t, kTransportCcMaxSize> out{};
  int64_t i = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    const Instant now = kT0 + microseconds(i * 100 + jitter_us(i));
    if (!lost(i)) g.on_packet(now, uint16_t(i));
    ++i;
    if (i % kFeedbackPackets == 0) {
      while (const size_t n = g.poll_feedback(now, out)) bytes += n;
    }
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FeedbackGeneratorOnPacketWithFeedback);

// Feedback packets for 655 x 100 consecutive sequence numbers (65500, so
// the history restarts at 0 for each cycle).
struct FeedbackSet {
  static constexpr int kCount = 655;
  std::vector<std::array<uint8_t, kTransportCcMaxSize>> bytes;
  std::vector<TransportCcView> views;

  FeedbackSet() : bytes(kCount) {
    TransportCcBuilder b;
    for (int f = 0; f < kCount; ++f) {
      b.clear();
      for (int k = 0; k < kFeedbackPackets; ++k) {
        const int64_t i = int64_t(f) * kFeedbackPackets + k;
        if (!lost(i)) b.add_received(uint16_t(i), 5'000'000 + i * 1000 + jitter_us(i));
      }
      const size_t n = b.serialize_to(bytes[size_t(f)]);
      views.push_back(*rtp::rtcp::parse_transport_cc(Bytes(bytes[size_t(f)].data(), n)));
    }
  }
};

// Per iteration: 100 packets sent (on_packet_sent) and their feedback
// matched back (on_feedback), results sorted, acked bitrate updated.
void BM_SendSideHistoryOnFeedback(benchmark::State& state) {
  static const FeedbackSet set;
  auto history = std::make_unique<SendSideHistory>();
  int f = 0;
  int64_t i = 0;
  for (auto _ : state) {
    if (f == FeedbackSet::kCount) {
      state.PauseTiming();
      history = std::make_unique<SendSideHistory>();
      f = 0;
      state.ResumeTiming();
    }
    for (int k = 0; k < kFeedbackPackets; ++k, ++i) history->on_packet_sent(kT0 + microseconds(i * 1000), kPacketSize);
    const FeedbackSummary s = history->on_feedback(kT0 + microseconds(i * 1000), set.views[size_t(f++)]);
    benchmark::DoNotOptimize(s.received.data());
  }
  state.SetItemsProcessed(state.iterations() * kFeedbackPackets);
}
BENCHMARK(BM_SendSideHistoryOnFeedback);

// The facade: 100 packets sent and one feedback through every estimator.
void BM_BandwidthEstimatorOnFeedback(benchmark::State& state) {
  static const FeedbackSet set;
  auto bwe = std::make_unique<BandwidthEstimator>(BweConfig{.initial_probing = false});
  int f = 0;
  int64_t i = 0;
  for (auto _ : state) {
    if (f == FeedbackSet::kCount) {
      state.PauseTiming();
      bwe = std::make_unique<BandwidthEstimator>(BweConfig{.initial_probing = false});
      f = 0;
      state.ResumeTiming();
    }
    for (int k = 0; k < kFeedbackPackets; ++k, ++i) bwe->on_packet_sent(kT0 + microseconds(i * 1000), kPacketSize);
    bwe->on_feedback(kT0 + microseconds(i * 1000), set.views[size_t(f++)]);
    benchmark::DoNotOptimize(bwe->estimate_bps());
  }
  state.SetItemsProcessed(state.iterations() * kFeedbackPackets);
}
BENCHMARK(BM_BandwidthEstimatorOnFeedback);

// One feedback's worth (100 received packets, 1 ms apart, jittered) through
// grouping, trendline, detector and AIMD.
void BM_DelayBasedEstimatorUpdate(benchmark::State& state) {
  DelayBasedEstimator e;
  std::array<PacketResult, kFeedbackPackets> batch{};
  int64_t base = 0;
  for (auto _ : state) {
    for (int k = 0; k < kFeedbackPackets; ++k) {
      const int64_t i = base + k;
      batch[size_t(k)].send_us = i * 1000;
      batch[size_t(k)].arrival_us = 40'000 + i * 1000 + jitter_us(i);
      batch[size_t(k)].size = kPacketSize;
    }
    base += kFeedbackPackets;
    e.update(kT0 + microseconds(base * 1000), batch, 9'000'000);
    benchmark::DoNotOptimize(e.estimate_bps());
  }
  state.SetItemsProcessed(state.iterations() * kFeedbackPackets);
}
BENCHMARK(BM_DelayBasedEstimatorUpdate);

}  // namespace
