// Vocabulary shared by the media-path engines of server/media and
// server/bwe: kinds, codecs and the facts about one received RTP packet
// that the routing code has already worked out.
#pragma once

#include <cstdint>
#include <optional>

#include "common/time.hpp"

namespace sfu::server::media {

enum class MediaKind : uint8_t { audio, video };

enum class Codec : uint8_t { opus, vp8, vp9, h264, other };

// One negotiated codec of a stream.
struct CodecInfo {
  Codec codec = Codec::other;
  uint8_t payload_type = 0;
  uint32_t clock_rate = 90000;
  std::optional<uint8_t> rtx_payload_type;  // RFC 4588, when negotiated
};

// RTP clock rates: audio (Opus) 48 kHz, video 90 kHz.
constexpr uint32_t kVideoClockRate = 90000;
constexpr uint32_t kOpusClockRate = 48000;

}  // namespace sfu::server::media
