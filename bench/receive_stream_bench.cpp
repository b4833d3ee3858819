// The receive side of every RTP packet a publisher sends: reception
// statistics (RFC 3550 Appendix A) and NACK bookkeeping, in steady state
// (no loss) and under 2 % loss with repairs arriving one RTT later.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include "server/media/media_types.hpp"
#include "server/media/nack_generator.hpp"
#include "server/media/receive_stream.hpp"

namespace {

using namespace sfu;
using namespace sfu::server::media;

const Instant kT0 = from_micros(1'000'000'000);

// 30 fps video at ~2.5 Mbit/s: 10 packets of 1100 bytes per 33 ms frame.
void BM_ReceiveStreamOnPacket(benchmark::State& state) {
  ReceiveStream rs(0x5e1f0a31, kVideoClockRate);
  uint16_t seq = 65000;  // crosses the wrap
  uint32_t ts = 0;
  int64_t us = 0;
  uint64_t i = 0;
  for (auto _ : state) {
    const bool frame_start = i % 10 == 0;
    if (frame_start) ts += 3000;
    us += 3300 + int64_t(i % 7) * 10;  // a little arrival jitter
    benchmark::DoNotOptimize(rs.on_packet(kT0 + microseconds(us), seq++, ts, 1100, false));
    if (i % 1000 == 999) benchmark::DoNotOptimize(rs.make_report_block(kT0 + microseconds(us)));
    ++i;
  }
  benchmark::DoNotOptimize(rs.bitrate_bps(kT0 + microseconds(us)));
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_ReceiveStreamOnPacket);

// No loss: on_packet plus a poll per packet (what a worker does after each
// batch), which finds nothing to send.
void BM_NackGeneratorInOrder(benchmark::State& state) {
  NackGenerator g;
  std::array<uint16_t, 64> out{};
  uint16_t seq = 0;
  int64_t us = 0;
  for (auto _ : state) {
    us += 3300;
    const Instant now = kT0 + microseconds(us);
    g.on_packet(now, seq++, false, false);
    benchmark::DoNotOptimize(g.poll_nacks(now, out));
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_NackGeneratorInOrder);

// 2 % loss; each NACKed number comes back (as RTX) 50 ms later, so the list
// holds a handful of entries at any time.
void BM_NackGeneratorWithLoss(benchmark::State& state) {
  NackGenerator g;
  g.set_rtt(milliseconds(50));
  std::mt19937 rng(7);
  std::vector<uint8_t> drop(1 << 16);
  for (auto& d : drop) d = rng() % 100 < 2;
  struct Repair {
    int64_t at_us;
    uint16_t seq;
  };
  std::array<Repair, 1024> ring{};  // repairs in flight, FIFO by arrival time
  size_t head = 0;
  size_t tail = 0;
  std::array<uint16_t, 64> out{};
  uint16_t seq = 0;
  int64_t us = 0;
  for (auto _ : state) {
    us += 3300;
    const Instant now = kT0 + microseconds(us);
    while (head != tail && ring[head % ring.size()].at_us <= us) {
      g.on_packet(now, ring[head % ring.size()].seq, false, true);
      ++head;
    }
    if (!drop[seq]) g.on_packet(now, seq, false, false);
    ++seq;
    const size_t n = g.poll_nacks(now, out);
    for (size_t i = 0; i < n && tail - head < ring.size(); ++i) ring[tail++ % ring.size()] = {us + 50'000, out[i]};
  }
  state.counters["recovered"] = double(g.recovered());
  state.counters["unrecovered"] = double(g.unrecovered());
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_NackGeneratorWithLoss);

}  // namespace
