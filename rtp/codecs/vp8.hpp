// VP8 RTP payload descriptor (RFC 7741 §4.2), key-frame detection from the
// VP8 payload header (RFC 7741 §4.3, RFC 6386 §9.1) and the in-place rewrite
// of PictureID / TL0PICIDX an SFU does when it switches simulcast layers.
//
// All functions take the RTP payload: the bytes after the RTP header and any
// header extension, with RTP padding already removed by the caller.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"

namespace sfu::rtp::codecs {

// The fields of one VP8 payload descriptor. Optional fields carry a has_
// flag; when it is false the value is 0. `descriptor_size` is the number of
// bytes the descriptor occupies at the start of the payload: the VP8 payload
// (and, when start_of_partition && partition_index == 0, the VP8 payload
// header) begins at that offset.
struct Vp8Descriptor {
  bool has_picture_id = false;    // I
  uint16_t picture_id = 0;        // 7 bits when !picture_id_15bit, else 15 bits
  bool picture_id_15bit = false;  // M
  bool has_tl0picidx = false;     // L
  uint8_t tl0picidx = 0;
  bool has_tid = false;           // T: tid and layer_sync are meaningful
  uint8_t tid = 0;                // TID, 2 bits
  bool layer_sync = false;        // Y
  bool has_keyidx = false;        // K
  uint8_t keyidx = 0;             // KEYIDX, 5 bits
  bool start_of_partition = false;  // S
  uint8_t partition_index = 0;    // PID, 3 bits
  bool non_reference = false;     // N
  size_t descriptor_size = 0;

  friend bool operator==(const Vp8Descriptor&, const Vp8Descriptor&) = default;
};

// Parses the payload descriptor at the start of `payload`. Fails with
// ParseError::truncated when a byte announced by X, I, M, L, T or K is
// missing (an empty payload is truncated too). Reserved bits are ignored, as
// RFC 7741 asks of receivers; the payload after the descriptor may be empty.
// Pure: reads only inside `payload`, never allocates.
Result<Vp8Descriptor, ParseError> parse_vp8(Bytes payload);

// What the first VP8 payload header of a frame says (RFC 7741 §4.3). Only
// meaningful on the packet that starts a frame (S=1, PID=0).
struct Vp8FrameInfo {
  bool keyframe = false;        // the frame tag's P bit (inverse key frame flag) is 0
  bool has_dimensions = false;  // the key-frame start code 9d 01 2a and both sizes were present
  uint16_t width = 0;           // 14 bits, in pixels
  uint16_t height = 0;          // 14 bits, in pixels
  uint8_t horizontal_scale = 0; // 2 bits (RFC 6386 §9.1)
  uint8_t vertical_scale = 0;   // 2 bits

  friend bool operator==(const Vp8FrameInfo&, const Vp8FrameInfo&) = default;
};

// Reads the VP8 payload header that follows the descriptor `d` parsed from
// this same `payload`. keyframe is true only when S=1, PID=0, at least one
// byte follows the descriptor and its P bit (bit 0) is 0. On a key frame the
// width and height are filled in when the 3-byte frame tag, the start code and
// both 16-bit little-endian size fields are all inside the payload; a key frame
// whose start code is missing or wrong keeps has_dimensions = false. Never
// reads outside `payload`, whatever `d` says.
Vp8FrameInfo vp8_frame_info(Bytes payload, const Vp8Descriptor& d);

// True when `payload` parses and starts a VP8 key frame (see vp8_frame_info).
// Malformed payloads are not key frames.
bool is_vp8_keyframe(Bytes payload);

// Rewrites, in place, the PictureID and TL0PICIDX fields of the descriptor
// `d` that was parsed from these same bytes; fields the descriptor does not
// carry are left alone, every other byte is untouched. The field keeps its
// width: a 15-bit field (M=1) gets picture_id & 0x7fff, a 7-bit field gets
// picture_id & 0x7f. Callers keep picture-id continuity themselves, counting
// in the stream's own 7- or 15-bit space (a 7-bit stream wraps 127 -> 0, a
// 15-bit one 0x7fff -> 0). Returns false, writing nothing, when `payload` is
// shorter than d.descriptor_size or its X/I/L/M bits disagree with `d`.
bool rewrite_vp8(MutBytes payload, const Vp8Descriptor& d, uint16_t picture_id, uint8_t tl0picidx);

}  // namespace sfu::rtp::codecs
