// Internal state of SyntheticPublisher, shared by its two source files
// (synthetic_publisher.cpp: media; synthetic_publisher_rtcp.cpp: RTCP).
// Not part of the public API.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "bench/client/synthetic_publisher.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp/sender_report.hpp"

namespace sfu::client::publisher_detail {

inline constexpr size_t kVideoHistorySize = 512;  // records per video SSRC (a power of two): ~1.8 s at 2.5 Mbit/s
inline constexpr size_t kAudioHistorySize = 64;   // 1.28 s of 20 ms packets
inline constexpr size_t kMaxLayers = 3;
inline constexpr uint32_t kVideoClock = 90000;
inline constexpr uint32_t kAudioClock = 48000;
inline constexpr int64_t kAudioPacketUs = 20'000;
inline constexpr uint32_t kAudioTimestampStep = kAudioClock / 50;
// Opus TOC (RFC 6716 §3.1): config 15 (hybrid, fullband, 20 ms), mono, code 0.
inline constexpr uint8_t kOpusToc = 0x78;
inline constexpr size_t kVp8DescriptorSize = 6;   // X, I(M), L, T: 1 + 1 + 2 + 1 + 1
inline constexpr size_t kVp8KeyHeaderSize = 10;   // frame tag + start code + sizes
inline constexpr size_t kVp8DeltaHeaderSize = 3;  // frame tag
inline constexpr size_t kMinPayloadSize = 200;    // floor for max_payload_size
inline constexpr size_t kMaxPayloadSize = 1400;   // what the 1500-byte packet buffer takes with headers and OSN
inline constexpr double kTemporalFactor[3] = {1.6, 0.8, 0.8};  // libwebrtc's 40/20/40 % over 1/4, 1/4, 1/2 of frames
// Seconds from 1900 (NTP era 0) to the steady clock's zero, chosen so SR NTP
// times look like 2024 wall-clock times; only their differences matter.
inline constexpr uint64_t kNtpBaseSeconds = 3'913'000'000ULL;

}  // namespace sfu::client::publisher_detail

namespace sfu::client {

// One packet as it was sent: enough to regenerate its bytes exactly.
struct SyntheticPublisher::Record {
  int64_t send_us = 0;
  int64_t last_rtx_us = std::numeric_limits<int64_t>::min() / 4;
  uint32_t timestamp = 0;
  uint32_t frame_counter = 0;
  uint16_t seq = 0;
  uint16_t picture_id = 0;
  uint16_t packet_index = 0;
  uint16_t packet_count = 1;
  uint16_t fill = 0;
  uint8_t tl0picidx = 0;
  uint8_t tid = 0;
  uint8_t audio_level = 0;  // RFC 6464: V << 7 | level
  bool valid = false;
  bool marker = false;
  bool keyframe = false;
  bool layer_sync = false;
  bool rtx_queued = false;
};

// One media SSRC (a video layer or the audio track) and its RTX twin.
struct SyntheticPublisher::Stream {
  bool audio = false;
  uint8_t layer = 0;  // video layer index, or kAudioLayer
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;
  uint8_t payload_type = 0;
  uint8_t rtx_payload_type = 0;
  uint32_t clock_rate = publisher_detail::kVideoClock;
  std::string rid;
  uint32_t target_bps = 0;
  uint16_t width = 0;
  uint16_t height = 0;
  size_t header_size = 0;  // RTP header bytes of a media packet

  uint16_t next_seq = 0;
  uint16_t next_rtx_seq = 0;
  uint32_t ts_base = 0;
  uint16_t picture_id = 0;
  uint8_t tl0picidx = 0;
  uint32_t frame_counter = 0;
  uint32_t pattern = 0;  // position in the temporal pattern
  bool force_keyframe = true;
  bool talking = false;
  Instant next_keyframe;
  double debt = 0;  // wire bytes sent beyond the target so far
  std::optional<uint8_t> last_fir_seq;
  std::vector<Record> history;

  Instant next_sr;
  bool sr_pending = false;
  rtp::rtcp::SenderInfo sr;
  PublisherStreamStats stats;
};

// Storage for the extension values a header borrows while it is serialised.
struct SyntheticPublisher::ExtensionValues {
  std::array<uint8_t, rtp::ext::kAbsSendTimeSize> abs_send_time{};
  std::array<uint8_t, rtp::ext::kTransportSequenceSize> transport_seq{};
  std::array<uint8_t, rtp::ext::kAudioLevelSize> audio_level{};
};

}  // namespace sfu::client
