// Receiver Estimated Maximum Bitrate (REMB), draft-alvestrand-rmcat-remb-03
// §2.2: a PSFB (PT=206) application-layer feedback message (FMT=15).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |V=2|P| FMT=15  |   PT=206      |             length            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of packet sender                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of media source (always 0)              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Unique identifier 'R' 'E' 'M' 'B'                            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Num SSRC     | BR Exp    |  BR Mantissa                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   SSRC feedback                                               |  x Num SSRC
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Bitrate (bps) = mantissa * 2^exp.
#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/feedback.hpp"
#include "rtp/rtcp/packed_list.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

inline constexpr uint32_t kRembIdentifier = 0x52454d42;  // 'R' 'E' 'M' 'B'
inline constexpr size_t kMaxRembSsrcs = 255;              // Num SSRC is 8 bits
inline constexpr uint32_t kRembMaxMantissa = (1u << 18) - 1;

// The 6-bit exponent and 18-bit mantissa of a REMB bitrate.
struct RembBitrate {
  uint8_t exponent = 0;
  uint32_t mantissa = 0;
  bool operator==(const RembBitrate&) const = default;
};

// Encodes bps with the smallest exponent whose mantissa fits in 18 bits,
// rounding down (never advertising more than bps). Any uint64_t fits.
constexpr RembBitrate encode_remb_bitrate(uint64_t bps) {
  uint8_t exp = 0;
  while ((bps >> exp) > kRembMaxMantissa) ++exp;
  return {exp, uint32_t(bps >> exp)};
}

// A parsed REMB. Borrows from the packet it was parsed from.
struct RembView {
  FeedbackHeader header;
  uint64_t bitrate_bps = 0;
  RembBitrate encoded;  // the wire form of bitrate_bps
  SsrcList ssrcs;

  // Parses p. Errors: bad_type unless PT=206 FMT=15 and the FCI starts with
  // 'REMB' (other application-layer feedback is not REMB); truncated if the
  // FCI is shorter than identifier + Num SSRC/BR word; bad_length if Num SSRC
  // claims more SSRCs than present; bad_value if mantissa * 2^exp does not
  // fit in 64 bits. Bytes after the SSRC list are ignored.
  static Result<RembView, ParseError> parse(const PacketView& p);
};

// True when p is a PSFB FMT=15 packet whose FCI starts with 'REMB'.
bool is_remb(const PacketView& p);

// A REMB to send. `ssrcs` is borrowed for the duration of serialize_to.
struct Remb {
  FeedbackHeader header;     // media_ssrc should stay 0 (draft §2.2)
  uint64_t bitrate_bps = 0;  // rounded down to what exponent/mantissa can say
  std::span<const uint32_t> ssrcs;  // at most kMaxRembSsrcs

  // Bytes serialize_to will write (whole packet, header included).
  size_t serialized_size() const { return kHeaderSize + kFeedbackHeaderSize + 8 + ssrcs.size() * 4; }
  // Writes the packet. Returns the bytes written, or 0 when out is smaller
  // than serialized_size() or there are more than 255 SSRCs.
  size_t serialize_to(MutBytes out) const;
};

}  // namespace sfu::rtp::rtcp
