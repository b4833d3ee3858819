// Transport-wide congestion control feedback: built towards every publisher
// (typically every 50-100 ms, ~100 packets each at video rates) and parsed
// from every subscriber, feeding the bandwidth estimator.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include "rtp/rtcp/transport_cc.hpp"

namespace {

using namespace sfu;
using namespace sfu::rtp::rtcp;

constexpr uint16_t kPackets = 100;
constexpr uint16_t kFirstSeq = 65500;  // crosses the 65535 -> 0 wrap

// 100 packets at 1 ms spacing with 2% loss (every 50th missing), a little
// arrival jitter so deltas vary.
bool lost(uint16_t i) { return i % 50 == 17; }
int64_t arrival_us(uint16_t i) { return 987'654'321 + int64_t(i) * 1'000 + (i * 37) % 300; }

size_t build(TransportCcBuilder& b, MutBytes out) {
  b.clear();
  for (uint16_t i = 0; i < kPackets; ++i) {
    if (!lost(i)) b.add_received(uint16_t(kFirstSeq + i), arrival_us(i));
  }
  return b.serialize_to(out);
}

// Feedback for 100 packets: add every arrival, then serialise.
void BM_TransportCcBuild(benchmark::State& state) {
  TransportCcBuilder b;
  b.set_sender_ssrc(0x01020304);
  b.set_media_ssrc(0x05060708);
  std::array<uint8_t, kTransportCcMaxSize> out{};
  for (auto _ : state) {
    const size_t n = build(b, out);
    if (n == 0) {
      state.SkipWithError("build failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kPackets);
}
BENCHMARK(BM_TransportCcBuild);

// Parse the same feedback and walk every entry (what the estimator does).
void BM_TransportCcParse(benchmark::State& state) {
  TransportCcBuilder b;
  std::array<uint8_t, kTransportCcMaxSize> out{};
  const size_t n = build(b, out);
  const Bytes packet(out.data(), n);
  for (auto _ : state) {
    const auto v = parse_transport_cc(packet);
    if (!v.ok()) {
      state.SkipWithError("parse failed");
      break;
    }
    int64_t sum = 0;
    for (const auto& p : *v) sum += p.received ? p.arrival_us : 0;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kPackets);
}
BENCHMARK(BM_TransportCcParse);

}  // namespace
