// The per-subscriber cost of forwarding one video packet: the simulcast
// forwarder's decision (layer, temporal filter, sequence / timestamp /
// PictureID renumbering, NACK history) plus the copy into the subscriber's
// buffer and the in-place header + VP8 descriptor rewrite. Parsing the
// packet and its VP8 descriptor is per producer, so it stays outside.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "rtp/rtp_packet.hpp"
#include "server/media/simulcast_forwarder.hpp"

namespace {

using namespace sfu;
using namespace sfu::server::media;

constexpr size_t kPacketSize = 1200;
constexpr int kPacketsPerFrame = 4;

// A 1200-byte VP8 key-frame start: RTP header, descriptor with 15-bit
// PictureID, TL0PICIDX and TID, VP8 key-frame header, filler.
std::vector<uint8_t> vp8_packet() {
  static const uint8_t payload_head[] = {
      0x90, 0xe0, 0x80, 0x01, 0x07, 0x00,  // descriptor: X S | I L T | M pid | tl0 | tid
      0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01};
  std::vector<uint8_t> payload(kPacketSize - rtp::kFixedHeaderSize, 0x5a);
  std::memcpy(payload.data(), payload_head, sizeof payload_head);
  rtp::RtpHeader h;
  h.payload_type = 96;
  h.sequence = 1000;
  h.timestamp = 90000;
  h.ssrc = 0x1234;
  h.payload = payload;
  std::vector<uint8_t> bytes(h.serialized_size());
  h.serialize_to(bytes);
  return bytes;
}

void BM_SimulcastForwarderOnPacketAndApply(benchmark::State& state) {
  ForwarderConfig config;
  config.spatial_layers = 3;
  config.temporal_layers = 3;
  config.ssrc = 0xabcdef;
  config.payload_types[0] = {96, 100};
  config.payload_type_count = 1;
  SimulcastForwarder forwarder(config);
  forwarder.set_preferred_layers(2, -1);

  std::vector<uint8_t> source = vp8_packet();
  std::vector<uint8_t> copy(source.size());
  const auto view = rtp::parse_rtp(source);  // reads the bytes live: seq/ts bumps show through
  if (!view.ok()) {
    state.SkipWithError("parse failed");
    return;
  }
  PacketMeta meta = describe_vp8(view->payload(), false);
  Instant now = from_micros(1'000'000);
  uint16_t seq = 1000;
  uint32_t ts = 90000;
  int64_t n = 0;
  for (auto _ : state) {
    const ForwardDecision d = forwarder.on_packet(now, 2, *view, meta);
    std::memcpy(copy.data(), source.data(), source.size());
    benchmark::DoNotOptimize(SimulcastForwarder::apply(copy, *view, d.rewrite));
    benchmark::ClobberMemory();
    // The next packet of the stream: +1 sequence; a new frame every 4.
    store_be16(&source[2], ++seq);
    if (++n % kPacketsPerFrame == 0) {
      ts += 3000;
      store_be32(&source[4], ts);
      meta.keyframe = false;
      meta.vp8_picture_id = uint16_t((meta.vp8_picture_id + 1) & 0x7fff);
      now += microseconds(33'333);
    }
  }
  if (forwarder.stats().forwarded != uint64_t(state.iterations())) state.SkipWithError("packets were dropped");
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(kPacketSize));
}
BENCHMARK(BM_SimulcastForwarderOnPacketAndApply);

}  // namespace
