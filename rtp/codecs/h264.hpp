// H.264 RTP payload (RFC 6184): which NAL units a packet carries and whether
// it starts a key frame. Only the non-interleaved packetization modes that
// WebRTC negotiates (packetization-mode 0 and 1) are understood: single NAL
// unit packets, STAP-A and FU-A.
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

// NAL unit types used here (H.264 Table 7-1, RFC 6184 Table 1).
namespace h264_nal {
inline constexpr uint8_t kSlice = 1;   // coded slice of a non-IDR picture
inline constexpr uint8_t kIdr = 5;     // coded slice of an IDR picture
inline constexpr uint8_t kSei = 6;
inline constexpr uint8_t kSps = 7;
inline constexpr uint8_t kPps = 8;
inline constexpr uint8_t kAud = 9;
inline constexpr uint8_t kStapA = 24;
inline constexpr uint8_t kStapB = 25;
inline constexpr uint8_t kMtap16 = 26;
inline constexpr uint8_t kMtap24 = 27;
inline constexpr uint8_t kFuA = 28;
inline constexpr uint8_t kFuB = 29;
}  // namespace h264_nal

enum class H264Packetization : uint8_t {
  single_nal,  // RFC 6184 §5.6, NAL unit types 1..23
  stap_a,      // RFC 6184 §5.7.1, type 24
  fu_a,        // RFC 6184 §5.8, type 28
};

// What one H.264 RTP payload carries.
struct H264PacketInfo {
  H264Packetization packetization = H264Packetization::single_nal;
  uint8_t packet_type = 0;  // type field of the payload's first octet: 1..23, 24 or 28
  uint8_t nri = 0;          // NRI of the payload's first octet, 2 bits
  // The NAL unit type carried: the NAL itself (single), the fragmented NAL's
  // type from the FU header (FU-A), the first aggregated NAL (STAP-A).
  uint8_t nal_type = 0;
  uint8_t nal_count = 0;    // NAL units in the packet: 1, or the STAP-A count (saturates at 255)
  bool fu_start = false;    // FU-A S bit
  bool fu_end = false;      // FU-A E bit
  bool has_idr = false;     // carries (part of) an IDR slice, type 5
  bool has_sps = false;     // carries (part of) a sequence parameter set, type 7
  bool has_pps = false;     // carries (part of) a picture parameter set, type 8
  // Starts a key frame: an IDR or SPS NAL unit begins in this packet (single
  // NAL of type 5 or 7, a STAP-A holding either, or an FU-A with S=1 whose
  // fragmented type is 5 or 7). An SPS counts because encoders send SPS/PPS
  // immediately before the IDR slices of a key frame.
  bool keyframe = false;

  friend bool operator==(const H264PacketInfo&, const H264PacketInfo&) = default;
};

// Parses the NAL unit header(s) of `payload`. Errors:
//  - truncated: empty payload, FU-A shorter than its two header octets, a
//    STAP-A without any aggregation unit or with a lone octet where a 16-bit
//    NALU size belongs;
//  - bad_length: a STAP-A NALU size of 0 or one that runs past the payload;
//  - bad_value: forbidden_zero_bit (F) set in the payload header, or an FU
//    header with both S and E set (RFC 6184 §5.8);
//  - bad_type: STAP-B, MTAP16, MTAP24, FU-B (types 25, 26, 27, 29: only valid
//    in interleaved mode, which WebRTC never negotiates) and the reserved
//    types 0, 30, 31.
// Aggregated NAL units inside a STAP-A are only classified, not validated.
// Pure: reads only inside `payload`, never allocates.
Result<H264PacketInfo, ParseError> parse_h264(Bytes payload);

// True when `payload` parses and starts a key frame (see
// H264PacketInfo::keyframe). Payloads that fail to parse are not key frames.
bool is_h264_keyframe(Bytes payload);

}  // namespace sfu::rtp::codecs
