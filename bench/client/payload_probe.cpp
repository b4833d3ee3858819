#include "bench/client/payload_probe.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace sfu::client {
namespace {

// The first fill byte; each next one adds an odd step, so a shifted, zeroed
// or foreign block of bytes does not match.
uint8_t fill_seed(const PayloadProbe& p) {
  return uint8_t(p.frame_counter * 131u + p.packet_index * 17u + p.layer * 7u + 1u);
}
constexpr uint8_t kFillStep = 0x9d;
constexpr uint8_t kFillStepInverse = 0xb5;  // 0x9d * 0xb5 = 1 (mod 256)
static_assert(uint8_t(kFillStep * kFillStepInverse) == 1);

// The fill is an arithmetic sequence mod 256 with an odd step, so every
// fill is a window of one periodic pattern, kPattern[j] = j * step: the fill
// seeded with v starts at j = v / step. Writing and checking it is then a
// memcpy / memcmp of that window (chunks of kChunk), not a byte loop: the
// check runs on every packet the load generator receives.
constexpr size_t kChunk = 2048;
constexpr auto kPattern = [] {
  std::array<uint8_t, 256 + kChunk> t{};
  for (size_t j = 0; j < t.size(); ++j) t[j] = uint8_t(j * kFillStep);
  return t;
}();
size_t pattern_start(uint8_t seed) { return uint8_t(seed * kFillStepInverse); }

}  // namespace

size_t write_probe(MutBytes out, const PayloadProbe& p, size_t fill) {
  if (out.size() < kProbeSize + fill) return 0;
  uint8_t* b = out.data();  // size checked above
  store_be16(b, kProbeMagic);
  b[2] = p.layer;
  b[3] = uint8_t((p.keyframe ? 0x80 : 0) | (p.temporal_id & 0x03));
  store_be32(b + 4, p.frame_counter);
  store_be64(b + 8, uint64_t(p.send_time_us));
  store_be16(b + 16, p.packet_index);
  store_be16(b + 18, p.packet_count);
  const size_t start = pattern_start(fill_seed(p));
  for (size_t off = 0; off < fill; off += kChunk) {
    std::memcpy(b + kProbeSize + off, kPattern.data() + ((start + off) & 255), std::min(kChunk, fill - off));
  }
  return kProbeSize + fill;
}

ProbeResult read_probe(Bytes data, bool check_fill) {
  ProbeResult r;
  if (data.size() < kProbeSize || load_be16(data.data()) != kProbeMagic) return r;
  const uint8_t* b = data.data();  // size checked above
  r.probe.layer = b[2];
  r.probe.keyframe = (b[3] & 0x80) != 0;
  r.probe.temporal_id = b[3] & 0x03;
  r.probe.frame_counter = load_be32(b + 4);
  r.probe.send_time_us = int64_t(load_be64(b + 8));
  r.probe.packet_index = load_be16(b + 16);
  r.probe.packet_count = load_be16(b + 18);
  r.fill = data.size() - kProbeSize;
  if (r.probe.packet_count == 0 || r.probe.packet_index >= r.probe.packet_count) {
    r.status = ProbeStatus::bad_fields;
    return r;
  }
  const size_t start = pattern_start(fill_seed(r.probe));
  for (size_t off = 0; check_fill && off < r.fill; off += kChunk) {
    if (std::memcmp(b + kProbeSize + off, kPattern.data() + ((start + off) & 255), std::min(kChunk, r.fill - off)) != 0) {
      r.status = ProbeStatus::corrupt;
      return r;
    }
  }
  r.status = ProbeStatus::ok;
  return r;
}

PayloadLayout inspect_payload(bool video, Bytes payload) {
  constexpr size_t kVp8KeyHeaderSize = 10;   // frame tag, start code, sizes (RFC 6386 §9.1)
  constexpr size_t kVp8DeltaHeaderSize = 3;  // frame tag
  PayloadLayout l;
  if (!video) {
    l.parsed = !payload.empty();
    l.probe_offset = 1;  // Opus TOC byte (RFC 6716 §3.1)
    return l;
  }
  auto d = rtp::codecs::parse_vp8(payload);
  if (!d) return l;
  l.parsed = true;
  l.vp8 = *d;
  l.probe_offset = d->descriptor_size;
  if (d->start_of_partition && d->partition_index == 0) {
    l.frame_start = true;
    l.frame = rtp::codecs::vp8_frame_info(payload, *d);
    l.probe_offset += l.frame.keyframe ? kVp8KeyHeaderSize : kVp8DeltaHeaderSize;
  }
  return l;
}

}  // namespace sfu::client
