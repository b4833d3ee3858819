// Micro-benchmarks for the per-packet RTP work of a forwarded packet: parse,
// rewrite for a subscriber, and RTX wrap for a retransmission. Buffers are
// set up outside the timed loops; nothing in a loop allocates.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include "rtp/header_extensions.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_rewriter.hpp"
#include "rtp/rtx.hpp"

namespace {

using namespace sfu;
using namespace sfu::rtp;

constexpr size_t kPacketSize = 1200;

// A 1200-byte VP8 packet as Chrome sends it: one-byte extensions
// abs-send-time (id 2), transport-wide seq (id 3) and mid (id 4).
std::array<uint8_t, kPacketSize> make_video_packet() {
  std::array<uint8_t, kPacketSize> p{};
  const std::array<uint8_t, 3> ast = {0x12, 0x34, 0x56};
  const std::array<uint8_t, 2> tw = {0x00, 0x2A};
  const std::array<uint8_t, 1> mid = {'1'};
  RtpHeader h;
  h.payload_type = 96;
  h.sequence = 4242;
  h.timestamp = 90000;
  h.ssrc = 0x11223344;
  h.add_extension(2, ast);
  h.add_extension(3, tw);
  h.add_extension(4, mid);
  for (size_t i = h.header_size(); i < p.size(); ++i) p[i] = uint8_t(i * 31);
  h.payload = Bytes(p).subspan(h.header_size());  // already in place
  h.serialize_to(p);
  return p;
}

void BM_RtpParse(benchmark::State& state) {
  const auto packet = make_video_packet();
  for (auto _ : state) {
    auto v = parse_rtp(packet);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kPacketSize));
}
BENCHMARK(BM_RtpParse);

void BM_RtpParseAndLookup(benchmark::State& state) {
  const auto packet = make_video_packet();
  for (auto _ : state) {
    auto v = parse_rtp(packet);
    auto tw = v->extension(3);
    auto mid = v->extension(4);
    benchmark::DoNotOptimize(tw);
    benchmark::DoNotOptimize(mid);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_RtpParseAndLookup);

void BM_RtpParseAndRewrite(benchmark::State& state) {
  auto packet = make_video_packet();
  // An involution (2<->5, 3<->6, 4<->4) so repeated passes stay in range.
  ExtensionIdMap map;
  map.map(2, 5);
  map.map(5, 2);
  map.map(3, 6);
  map.map(6, 3);
  map.map(4, 4);
  uint16_t seq = 0;
  uint32_t ts = 0;
  for (auto _ : state) {
    auto v = parse_rtp(packet);
    set_ssrc(packet, 0xCAFEBABE);
    set_sequence(packet, ++seq);
    set_timestamp(packet, ts += 3000);
    set_payload_type(packet, 100);
    auto r = remap_extension_ids(packet, *v, map);
    benchmark::DoNotOptimize(r);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_RtpParseAndRewrite);

void BM_RtxWrap(benchmark::State& state) {
  const auto packet = make_video_packet();
  const RtpView original = *parse_rtp(packet);
  std::array<uint8_t, kPacketSize + kRtxOsnSize> out{};
  RtxRewrite rtx{0x55667788, 0, 97};
  for (auto _ : state) {
    ++rtx.sequence;
    const size_t n = rtx_wrap(original, rtx, out);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(out.size()));
}
BENCHMARK(BM_RtxWrap);

}  // namespace
