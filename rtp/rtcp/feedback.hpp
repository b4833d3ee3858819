// The common part of RFC 4585 feedback messages (RTPFB, PT=205 and PSFB,
// PT=206), shared by NACK, PLI, FIR and REMB. RFC 4585 §6.1:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |V=2|P|   FMT   |       PT      |          length               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of packet sender                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of media source                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// :            Feedback Control Information (FCI)                 :
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

inline constexpr size_t kFeedbackHeaderSize = 8;  // the two SSRCs after the common header

struct FeedbackHeader {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  bool operator==(const FeedbackHeader&) const = default;
};

// A feedback packet split into its common part and its FCI (which borrows
// from the packet).
struct FeedbackView {
  FeedbackHeader header;
  Bytes fci;
};

// Splits a feedback packet. Fails with bad_type unless p.type == type and
// p.count == fmt, and with truncated when the body lacks the two SSRCs.
inline Result<FeedbackView, ParseError> parse_feedback(const PacketView& p, uint8_t type, uint8_t fmt) {
  if (p.type != type || p.count != fmt) return fail(ParseError::bad_type);
  if (p.body.size() < kFeedbackHeaderSize) return fail(ParseError::truncated);
  FeedbackView v;
  v.header.sender_ssrc = load_be32(&p.body[0]);  // length checked above
  v.header.media_ssrc = load_be32(&p.body[4]);
  v.fci = p.body.subspan(kFeedbackHeaderSize);
  return v;
}

// Writes the common header and both SSRCs of a feedback packet that will be
// `total_size` bytes long into out[0..12). Returns false (writing nothing
// useful) when out is smaller than total_size or total_size is not a valid
// RTCP length; the caller then writes the FCI from out[12].
inline bool write_feedback_header(MutBytes out, uint8_t type, uint8_t fmt, FeedbackHeader h,
                                  size_t total_size) {
  if (out.size() < total_size || total_size < kHeaderSize + kFeedbackHeaderSize) return false;
  if (!write_header(out, fmt, type, total_size)) return false;
  store_be32(&out[4], h.sender_ssrc);  // size checked above
  store_be32(&out[8], h.media_ssrc);
  return true;
}

}  // namespace sfu::rtp::rtcp
