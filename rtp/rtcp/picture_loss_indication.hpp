// Picture Loss Indication (PLI), RFC 4585 §6.3.1: a PSFB (PT=206) message
// with FMT=1 and no FCI.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |V=2|P|  FMT=1  |    PT=206     |          length=2             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of packet sender                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of media source                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <cstdint>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/feedback.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

// A PLI, both parsed and to send (it has no variable part).
struct PictureLossIndication {
  static constexpr size_t kSize = kHeaderSize + kFeedbackHeaderSize;

  FeedbackHeader header;

  bool operator==(const PictureLossIndication&) const = default;

  // Parses p. Errors: bad_type unless PT=206 FMT=1; truncated if the body
  // lacks the two SSRCs. An FCI (there should be none) is ignored.
  static Result<PictureLossIndication, ParseError> parse(const PacketView& p);

  // Always kSize (12).
  static constexpr size_t serialized_size() { return kSize; }
  // Writes the packet. Returns 12, or 0 when out is smaller.
  size_t serialize_to(MutBytes out) const;
};

}  // namespace sfu::rtp::rtcp
