// SDP writer: prints a SessionDescription with "\r\n" line endings in the
// attribute order browsers produce and expect (see write_sdp).
#pragma once

#include <string>

#include "signaling/sdp/sdp_model.hpp"

namespace sfu::signaling::sdp {

// Serialises `sd`. Order: v o s [other session lines] c b t, then the session
// attributes (ice-lite, ice-ufrag, ice-pwd, ice-options, fingerprint, setup,
// group, extmap-allow-mixed, msid-semantic, unknown ones), then per
// m-section: m [other lines] c b, rtcp, ice-ufrag, ice-pwd, ice-options,
// fingerprint, setup, mid, extmap-allow-mixed, extmaps, direction, msid,
// rtcp-mux, rtcp-rsize, per codec rtpmap / rtcp-fb / fmtp, rtcp-fb:*, rid,
// simulcast, ssrc-group, ssrc, sctp-port, max-message-size, unknown
// attributes, candidates, end-of-candidates.
//
// Raw fields win over parsed ones (Codec::fmtp over params, Rid::restrictions
// over params, Candidate::raw over its fields), so a parsed description is
// written back as it came and parse(write(parse(x))) == parse(x). Fields that
// are empty or absent produce no line; `timings` empty gives "t=0 0". The
// writer does not validate: a hand-built model must hold values the parser
// accepts for the result to parse.
std::string write_sdp(const SessionDescription& sd);

}  // namespace sfu::signaling::sdp
