#include "rtp/codecs/h264.hpp"

namespace sfu::rtp::codecs {
namespace {

constexpr uint8_t kForbiddenBit = 0x80;
constexpr uint8_t kTypeMask = 0x1f;
constexpr uint8_t kFuStartBit = 0x80;
constexpr uint8_t kFuEndBit = 0x40;

void classify(H264PacketInfo& info, uint8_t nal_type) {
  info.has_idr = info.has_idr || nal_type == h264_nal::kIdr;
  info.has_sps = info.has_sps || nal_type == h264_nal::kSps;
  info.has_pps = info.has_pps || nal_type == h264_nal::kPps;
}

// RFC 6184 §5.7.1, STAP-A (the payload's first octet is the STAP-A NAL
// header, type 24):
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                          RTP Header                           |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |STAP-A NAL HDR |         NALU 1 Size           | NALU 1 HDR    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         NALU 1 Data                           |
//  :                                                               :
//  +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |               | NALU 2 Size                   | NALU 2 HDR    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         NALU 2 Data                           |
//  :                                                               :
//  |                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                               :...OPTIONAL RTP padding        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Result<void, ParseError> parse_stap_a(Bytes units, H264PacketInfo& info) {
  ByteReader r(units);
  if (r.remaining() == 0) return fail(ParseError::truncated);
  while (r.remaining() > 0) {
    uint16_t size = 0;
    if (!r.read_u16(size)) return fail(ParseError::truncated);
    Bytes nal;
    if (size == 0 || !r.read_bytes(size, nal)) return fail(ParseError::bad_length);
    const uint8_t type = nal[0] & kTypeMask;
    if (info.nal_count == 0) info.nal_type = type;
    if (info.nal_count < 255) ++info.nal_count;
    classify(info, type);
  }
  info.keyframe = info.has_idr || info.has_sps;
  return {};
}

// RFC 6184 §5.8, FU-A:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  | FU indicator  |   FU header   |                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
//  |                         FU payload                            |
//  |                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                               :...OPTIONAL RTP padding        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//  FU header:  +-+-+-+-+-+-+-+-+
//              |S|E|R|  Type   |
//              +-+-+-+-+-+-+-+-+
Result<void, ParseError> parse_fu_a(Bytes payload, H264PacketInfo& info) {
  if (payload.size() < 2) return fail(ParseError::truncated);
  const uint8_t fu = payload[1];
  info.fu_start = (fu & kFuStartBit) != 0;
  info.fu_end = (fu & kFuEndBit) != 0;
  if (info.fu_start && info.fu_end) return fail(ParseError::bad_value);
  info.nal_type = fu & kTypeMask;
  info.nal_count = 1;
  classify(info, info.nal_type);
  info.keyframe = info.fu_start && (info.has_idr || info.has_sps);
  return {};
}

}  // namespace

// RFC 6184 §1.3, the NAL unit header, which is also the first octet of every
// RTP payload (single NAL unit, STAP-A NAL HDR, FU indicator):
//
//  +---------------+
//  |0|1|2|3|4|5|6|7|
//  +-+-+-+-+-+-+-+-+
//  |F|NRI|  Type   |
//  +---------------+
//
// Type 1..23: single NAL unit packet (RFC 6184 §5.6); 24: STAP-A; 28: FU-A.
Result<H264PacketInfo, ParseError> parse_h264(Bytes payload) {
  if (payload.empty()) return fail(ParseError::truncated);
  const uint8_t header = payload[0];
  if (header & kForbiddenBit) return fail(ParseError::bad_value);
  H264PacketInfo info;
  info.packet_type = header & kTypeMask;
  info.nri = uint8_t((header >> 5) & 0x03);
  switch (info.packet_type) {
    case h264_nal::kStapA: {
      info.packetization = H264Packetization::stap_a;
      if (auto ok = parse_stap_a(payload.subspan(1), info); !ok) return fail(ok.error());
      return info;
    }
    case h264_nal::kFuA: {
      info.packetization = H264Packetization::fu_a;
      if (auto ok = parse_fu_a(payload, info); !ok) return fail(ok.error());
      return info;
    }
    case 0:
    case h264_nal::kStapB:
    case h264_nal::kMtap16:
    case h264_nal::kMtap24:
    case h264_nal::kFuB:
    case 30:
    case 31:
      return fail(ParseError::bad_type);
    default:
      break;
  }
  info.packetization = H264Packetization::single_nal;
  info.nal_type = info.packet_type;
  info.nal_count = 1;
  classify(info, info.nal_type);
  info.keyframe = info.has_idr || info.has_sps;
  return info;
}

bool is_h264_keyframe(Bytes payload) {
  const auto info = parse_h264(payload);
  return info.ok() && info->keyframe;
}

}  // namespace sfu::rtp::codecs
