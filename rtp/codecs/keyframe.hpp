// Key-frame detection for the video codecs the SFU forwards, dispatched on
// the codec negotiated for the stream. Used to decide when a subscriber may
// switch to another simulcast/spatial layer (and to answer "did the PLI
// work?").
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "rtp/codecs/h264.hpp"
#include "rtp/codecs/vp8.hpp"
#include "rtp/codecs/vp9.hpp"

namespace sfu::rtp::codecs {

enum class VideoCodec : uint8_t { vp8, vp9, h264 };

// True when the RTP payload `payload` (after the RTP header, padding removed)
// of a `codec` stream starts a key frame; see is_vp8_keyframe,
// is_vp9_keyframe and is_h264_keyframe for each rule. Malformed payloads are
// never key frames. Pure, never allocates.
inline bool is_keyframe(VideoCodec codec, Bytes payload) {
  switch (codec) {
    case VideoCodec::vp8: return is_vp8_keyframe(payload);
    case VideoCodec::vp9: return is_vp9_keyframe(payload);
    case VideoCodec::h264: return is_h264_keyframe(payload);
  }
  return false;
}

}  // namespace sfu::rtp::codecs
