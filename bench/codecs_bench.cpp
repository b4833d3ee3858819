// Video payload descriptors on the forwarding path: every forwarded VP8
// packet is parsed and has its PictureID/TL0PICIDX rewritten; every packet of
// a stream waiting for a layer switch goes through key-frame detection.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "rtp/codecs/h264.hpp"
#include "rtp/codecs/keyframe.hpp"
#include "rtp/codecs/vp8.hpp"
#include "rtp/codecs/vp9.hpp"

namespace {

using namespace sfu;
using namespace sfu::rtp::codecs;

constexpr size_t kPayloadSize = 1100;  // a typical full video packet

std::vector<uint8_t> payload_with(std::initializer_list<uint8_t> head) {
  std::vector<uint8_t> p(head);
  p.resize(kPayloadSize, 0x5a);
  return p;
}

// Parse + rewrite of a simulcast VP8 packet (15-bit PictureID, TL0PICIDX, TID).
void BM_Vp8ParseAndRewrite(benchmark::State& state) {
  auto p = payload_with({0x90, 0xe0, 0x92, 0x34, 0x56, 0x40, 0x51, 0x01, 0x00});
  uint16_t picture_id = 0;
  for (auto _ : state) {
    const auto d = parse_vp8(Bytes(p));
    if (!d.ok()) {
      state.SkipWithError("parse failed");
      break;
    }
    ++picture_id;
    benchmark::DoNotOptimize(rewrite_vp8(MutBytes(p), *d, picture_id, uint8_t(picture_id >> 2)));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_Vp8ParseAndRewrite);

// Key-frame detection on the first FU-A fragment of an IDR slice, through the
// codec dispatcher as the forwarding path calls it.
void BM_H264KeyframeDetect(benchmark::State& state) {
  const auto p = payload_with({0x7c, 0x85, 0x88, 0x84});  // FU-A, S=1, IDR
  for (auto _ : state) {
    benchmark::DoNotOptimize(is_keyframe(VideoCodec::h264, Bytes(p)));
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_H264KeyframeDetect);

// VP9 descriptor parse. Arg 0: non-flexible SVC packet (PICTURE ID, layer
// indices, TL0PICIDX). Arg 1: key picture with a 3-layer SS and a 4-picture GOF.
void BM_Vp9Parse(benchmark::State& state) {
  const auto plain = payload_with({0xac, 0x81, 0x23, 0x53, 0x07});
  const auto with_ss = payload_with({0xaa, 0x05, 0x00, 0x00, 0x58, 0x01, 0x40, 0x00, 0xb4, 0x02,
                                     0x80, 0x01, 0x68, 0x05, 0x00, 0x02, 0xd0, 0x04, 0x04, 0x04,
                                     0x54, 0x01, 0x34, 0x02, 0x58, 0x01, 0x03});
  const auto& p = state.range(0) == 0 ? plain : with_ss;
  for (auto _ : state) {
    auto d = parse_vp9(Bytes(p));
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}
BENCHMARK(BM_Vp9Parse)->Arg(0)->Arg(1);

}  // namespace
