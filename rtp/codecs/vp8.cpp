#include "rtp/codecs/vp8.hpp"

#include "rtp/codecs/picture_id.hpp"

namespace sfu::rtp::codecs {
namespace {

// First octet.
constexpr uint8_t kXBit = 0x80;
constexpr uint8_t kNBit = 0x20;
constexpr uint8_t kSBit = 0x10;
constexpr uint8_t kPidMask = 0x07;
// Extension octet (X=1).
constexpr uint8_t kIBit = 0x80;
constexpr uint8_t kLBit = 0x40;
constexpr uint8_t kTBit = 0x20;
constexpr uint8_t kKBit = 0x10;
// TID/Y/KEYIDX octet.
constexpr uint8_t kYBit = 0x20;
constexpr uint8_t kKeyIdxMask = 0x1f;

// VP8 payload header (RFC 7741 §4.3) and key-frame header (RFC 6386 §9.1).
constexpr uint8_t kInverseKeyFrameBit = 0x01;  // P
constexpr size_t kFrameTagSize = 3;
constexpr uint8_t kStartCode[3] = {0x9d, 0x01, 0x2a};
constexpr size_t kKeyFrameHeaderSize = kFrameTagSize + 3 + 2 + 2;

// Reads the optional octets announced by the extension octet `x`.
bool read_extension(ByteReader& r, uint8_t x, Vp8Descriptor& d) {
  if ((x & kIBit) && !read_picture_id(r, d)) return false;
  if (x & kLBit) {
    if (!r.read_u8(d.tl0picidx)) return false;
    d.has_tl0picidx = true;
  }
  if (x & (kTBit | kKBit)) {
    uint8_t b = 0;
    if (!r.read_u8(b)) return false;
    // RFC 7741 §4.2: TID|Y are ignored when T=0, KEYIDX when K=0.
    if (x & kTBit) {
      d.has_tid = true;
      d.tid = uint8_t(b >> 6);
      d.layer_sync = (b & kYBit) != 0;
    }
    if (x & kKBit) {
      d.has_keyidx = true;
      d.keyidx = b & kKeyIdxMask;
    }
  }
  return true;
}

}  // namespace

// RFC 7741 §4.2, VP8 payload descriptor:
//
//        0 1 2 3 4 5 6 7                      0 1 2 3 4 5 6 7
//       +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
//       |X|R|N|S|R| PID | (REQUIRED)        |X|R|N|S|R| PID | (REQUIRED)
//       +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
//  X:   |I|L|T|K| RSV   | (OPTIONAL)   X:   |I|L|T|K| RSV   | (OPTIONAL)
//       +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
//  I:   |M| PictureID   | (OPTIONAL)   I:   |M| PictureID   | (OPTIONAL)
//       +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
//  L:   |   TL0PICIDX   | (OPTIONAL)        |   PictureID   |
//       +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
//  T/K: |TID|Y| KEYIDX  | (OPTIONAL)   L:   |   TL0PICIDX   | (OPTIONAL)
//       +-+-+-+-+-+-+-+-+                   +-+-+-+-+-+-+-+-+
//                                      T/K: |TID|Y| KEYIDX  | (OPTIONAL)
//                                           +-+-+-+-+-+-+-+-+
//
// (left: 7-bit PictureID, M=0; right: 15-bit PictureID, M=1)
//
// RFC 7741 asks senders to set T whenever L is set; receivers here accept
// L without T (the TL0PICIDX is still well delimited), as robustness costs
// nothing on this path.
Result<Vp8Descriptor, ParseError> parse_vp8(Bytes payload) {
  ByteReader r(payload);
  uint8_t b0 = 0;
  if (!r.read_u8(b0)) return fail(ParseError::truncated);
  Vp8Descriptor d;
  d.non_reference = (b0 & kNBit) != 0;
  d.start_of_partition = (b0 & kSBit) != 0;
  d.partition_index = b0 & kPidMask;
  if (b0 & kXBit) {
    uint8_t x = 0;
    if (!r.read_u8(x)) return fail(ParseError::truncated);
    if (!read_extension(r, x, d)) return fail(ParseError::truncated);
  }
  d.descriptor_size = r.position();
  return d;
}

// RFC 7741 §4.3, VP8 payload header (first three octets of a frame), and the
// rest of the key-frame header from RFC 6386 §9.1:
//
//        0 1 2 3 4 5 6 7
//       +-+-+-+-+-+-+-+-+
//       |Size0|H| VER |P|     P: inverse key frame flag (0 = key frame)
//       +-+-+-+-+-+-+-+-+
//       |     Size1     |
//       +-+-+-+-+-+-+-+-+
//       |     Size2     |
//       +-+-+-+-+-+-+-+-+
//       | 0x9d 0x01 0x2a|     start code (key frames only)
//       +-+-+-+-+-+-+-+-+
//       | width (14) | horizontal_scale (2) |  16 bits, little endian
//       | height (14)| vertical_scale (2)   |  16 bits, little endian
//
// The payload header is present only on the first packet of a frame, which
// is the one with S=1 and PID=0.
Vp8FrameInfo vp8_frame_info(Bytes payload, const Vp8Descriptor& d) {
  Vp8FrameInfo info;
  if (!d.start_of_partition || d.partition_index != 0) return info;
  if (d.descriptor_size >= payload.size()) return info;
  const Bytes frame = payload.subspan(d.descriptor_size);
  if (frame[0] & kInverseKeyFrameBit) return info;
  info.keyframe = true;
  if (frame.size() < kKeyFrameHeaderSize) return info;
  const uint8_t* p = frame.data() + kFrameTagSize;  // length checked above
  if (p[0] != kStartCode[0] || p[1] != kStartCode[1] || p[2] != kStartCode[2]) return info;
  const uint16_t w = uint16_t(p[3] | p[4] << 8);
  const uint16_t h = uint16_t(p[5] | p[6] << 8);
  info.has_dimensions = true;
  info.width = w & 0x3fff;
  info.horizontal_scale = uint8_t(w >> 14);
  info.height = h & 0x3fff;
  info.vertical_scale = uint8_t(h >> 14);
  return info;
}

bool is_vp8_keyframe(Bytes payload) {
  const auto d = parse_vp8(payload);
  return d.ok() && vp8_frame_info(payload, *d).keyframe;
}

bool rewrite_vp8(MutBytes payload, const Vp8Descriptor& d, uint16_t picture_id, uint8_t tl0picidx) {
  if (!d.has_picture_id && !d.has_tl0picidx) return d.descriptor_size <= payload.size();
  // Both fields live behind the extension octet; check the bytes still
  // describe the layout `d` was parsed from before writing anything.
  const size_t pid_size = d.has_picture_id ? (d.picture_id_15bit ? 2 : 1) : 0;
  const size_t tl0_offset = 2 + pid_size;
  const size_t needed = tl0_offset + (d.has_tl0picidx ? 1 : 0);
  if (d.descriptor_size < needed || payload.size() < d.descriptor_size) return false;
  if (!(payload[0] & kXBit)) return false;
  if (((payload[1] & kIBit) != 0) != d.has_picture_id) return false;
  if (((payload[1] & kLBit) != 0) != d.has_tl0picidx) return false;
  if (d.has_picture_id && ((payload[2] & kPictureIdMBit) != 0) != d.picture_id_15bit) return false;

  if (d.has_picture_id) {
    if (d.picture_id_15bit) {
      payload[2] = uint8_t(kPictureIdMBit | ((picture_id >> 8) & 0x7f));
      payload[3] = uint8_t(picture_id);
    } else {
      payload[2] = uint8_t(picture_id & 0x7f);
    }
  }
  if (d.has_tl0picidx) payload[tl0_offset] = tl0picidx;
  return true;
}

}  // namespace sfu::rtp::codecs
