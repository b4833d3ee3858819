// SDP parser (RFC 8866) for the offers and answers browsers send: Chromium,
// Firefox and Safari in unified-plan form with BUNDLE, rid/simulcast,
// ssrc-groups, extmap, rtcp-fb, fmtp and SCTP data channels.
//
// The input is untrusted. The parser caps the description at 64 KiB, each
// line at 4 KiB, the number of m-sections at 256 and the attributes of any
// one section at 512, so its time and memory are bounded by the input size.
// It rejects what would confuse the server (see parse_sdp) and keeps every
// attribute it does not know, so nothing is lost on a round trip through the
// writer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "signaling/sdp/sdp_model.hpp"

namespace sfu::signaling::sdp {

inline constexpr size_t kMaxSdpSize = 64 * 1024;
inline constexpr size_t kMaxLineLength = 4096;
// Above anything the server offers itself: a subscriber offer holds at most
// 3 × max_consumers_per_peer + 1 sections (signaling/room.hpp), and an
// answer has as many as its offer. The 64 KiB cap binds long before.
inline constexpr size_t kMaxMediaSections = 256;
inline constexpr size_t kMaxAttributesPerSection = 512;

// Why a description was refused: the 1-based line where the problem was
// found (for a description over the size cap, the line holding the byte past
// the cap) and a short human-readable reason.
struct SdpError {
  size_t line = 0;
  std::string reason;
  bool operator==(const SdpError&) const = default;
};

// "line 3: bad port in m= line"
std::string to_string(const SdpError& e);

// Parses a session description. Lines end in "\r\n" or "\n"; blank lines
// after the first are skipped. Refuses (with the line number):
//   - a first line other than "v=0", no o= second and s= third line;
//   - control characters, lines not of the form "<a-z>=<value>";
//   - an m= line without a valid port, protocol and at least one format, or
//     with a non-numeric / over-127 / repeated payload type in an RTP profile;
//   - a repeated a=mid (in one section or across sections);
//   - an extmap id outside 1–255 or repeated within a section;
//   - an rtpmap (or repeated rtpmap/fmtp) for a payload type not in the m-line;
//   - malformed values of the attributes the model has fields for;
//   - anything over the caps above.
// Unknown attributes are kept in `attributes` of their section, never an error.
Result<SessionDescription, SdpError> parse_sdp(std::string_view text);

}  // namespace sfu::signaling::sdp
