// The payload probe: a small block the SyntheticPublisher writes into every
// packet's payload (after the VP8 descriptor and, on a frame's first packet,
// the VP8 payload header; after the Opus TOC byte for audio), followed by
// fill bytes in a pattern derived from the probe. Receivers use it to measure
// one-way latency (the capture time), to tell layers apart after the SFU has
// rewritten SSRC / sequence / picture id, and to detect corruption.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       magic 'S' 'Y'           |     layer     |K|  0  |  TID  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |              frame counter (per layer / audio packet)         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          capture time, µs on the sender's Instant clock       |
// |                          (signed 64 bits)                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   packet index in frame       |   packets in frame            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  fill: byte i = f(frame counter, packet index, layer, i) ...  |
//
// layer: spatial layer index, 0xff for audio. K: key frame.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "rtp/codecs/vp8.hpp"

namespace sfu::client {

inline constexpr size_t kProbeSize = 20;
inline constexpr uint16_t kProbeMagic = 0x5359;  // "SY"
inline constexpr uint8_t kAudioLayer = 0xff;

struct PayloadProbe {
  uint8_t layer = 0;  // spatial layer index, kAudioLayer for audio
  bool keyframe = false;
  uint8_t temporal_id = 0;     // 0..3
  uint32_t frame_counter = 0;  // per layer; per packet for audio
  int64_t send_time_us = 0;    // capture time (to_micros of the sender's Instant)
  uint16_t packet_index = 0;   // 0 .. packet_count - 1
  uint16_t packet_count = 1;   // packets of this frame, >= 1

  friend bool operator==(const PayloadProbe&, const PayloadProbe&) = default;
};

// Writes the probe and then `fill` pattern bytes at the start of `out`.
// Returns kProbeSize + fill, or 0 (nothing written) when out is too small.
size_t write_probe(MutBytes out, const PayloadProbe& probe, size_t fill);

enum class ProbeStatus : uint8_t {
  ok,
  missing,     // shorter than a probe, or no magic: not a synthetic payload
  bad_fields,  // magic present but packet_index >= packet_count or count 0
  corrupt,     // a fill byte differs from the pattern
};

struct ProbeResult {
  ProbeStatus status = ProbeStatus::missing;
  PayloadProbe probe;  // valid unless status == missing
  size_t fill = 0;     // fill bytes after the probe
};

// Reads the probe at the start of `data` (which runs to the payload's end)
// and, with check_fill, checks every fill byte (without, status is ok as
// soon as the probe's fields are). Pure; never reads outside `data`.
ProbeResult read_probe(Bytes data, bool check_fill = true);

// Where a synthetic payload's parts are: the VP8 descriptor and payload
// header (video) or the Opus TOC byte (audio), then the probe.
struct PayloadLayout {
  bool parsed = false;  // video: the descriptor parsed; audio: non-empty
  rtp::codecs::Vp8Descriptor vp8;
  bool frame_start = false;         // S=1 and PID=0
  rtp::codecs::Vp8FrameInfo frame;  // the VP8 payload header, when frame_start
  size_t probe_offset = 0;          // where the probe starts (may be past the end)
};

// Locates the parts of an RTP payload (padding removed). Pure.
PayloadLayout inspect_payload(bool video, Bytes payload);

}  // namespace sfu::client
