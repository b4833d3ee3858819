// Value parsers for single SDP lines and attributes, used by the SDP parser
// (sdp_parser.cpp). Each takes the text after "<type>=" or "a=<name>:" and
// returns the parsed value or a one-line reason; none of them keeps a
// reference into its input. Internal to the signaling library, but public so
// tests and the trickle handler can reuse them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "signaling/sdp/sdp_model.hpp"

namespace sfu::signaling::sdp::detail {

template <class T>
using Parsed = Result<T, std::string>;

// Splits on runs of spaces and tabs; no empty tokens.
std::vector<std::string_view> split_ws(std::string_view s);
// Splits at the first space: {"96", "nack pli"}; second is empty when there
// is no space.
std::pair<std::string_view, std::string_view> split_first(std::string_view s);
// Unsigned decimal without sign or spaces, at most `max`. False otherwise.
bool parse_uint(std::string_view s, uint64_t max, uint64_t& out);
// RFC 8851 §10 rid-id: 1*(ALPHA / DIGIT / "-" / "_").
bool is_rid_id(std::string_view s);

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>
Parsed<Origin> parse_origin(std::string_view v);
// c=<nettype> <addrtype> <connection-address>
Parsed<Connection> parse_connection(std::string_view v);
// a=fingerprint:<hash-func> <XX:XX:...> (RFC 8122 §5)
Parsed<Fingerprint> parse_fingerprint(std::string_view v);
// a=setup:actpass|active|passive|holdconn (RFC 4145 §4)
Parsed<Setup> parse_setup(std::string_view v);
// a=ice-ufrag (4–256 ice-chars) / a=ice-pwd (22–256 ice-chars), RFC 8839 §5.4
Parsed<std::string> parse_ice_credential(std::string_view v, size_t min_len);
// a=group:<semantics> <mid>... (RFC 5888 §5)
Parsed<Group> parse_group(std::string_view v);
// a=msid-semantic: WMS [<id>...]
Parsed<MsidSemantic> parse_msid_semantic(std::string_view v);
// a=msid:<stream id> [<track id>] (RFC 8830 §2)
Parsed<Msid> parse_msid(std::string_view v);
// a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §7); id 1–255
Parsed<Extmap> parse_extmap(std::string_view v);
// The "<pt>" or "*" before the first space of rtpmap/fmtp/rtcp-fb values;
// nullopt for "*". Fails when the token is neither.
Parsed<std::optional<uint8_t>> parse_pt_prefix(std::string_view v);
// a=rtpmap:<pt> <name>/<clock rate>[/<channels>] into codec's name, rate, channels.
Parsed<uint8_t> parse_rtpmap(std::string_view v, Codec& codec);
// a=rtcp-fb:<pt|*> <type> [<param>] (RFC 4585 §4.2): the part after the pt.
Parsed<RtcpFeedback> parse_rtcp_fb(std::string_view after_pt);
// a=rid:<id> send|recv [<restrictions>] (RFC 8851 §10)
Parsed<Rid> parse_rid(std::string_view v);
// a=simulcast:[send <list>] [recv <list>] (RFC 8853 §5.1); also accepts the
// draft form with a "rid=" prefix and a leading space.
Parsed<Simulcast> parse_simulcast(std::string_view v);
// a=ssrc:<ssrc> <attribute>[:<value>] (RFC 5576 §4.1)
Parsed<std::pair<uint32_t, Attribute>> parse_ssrc(std::string_view v);
// a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2)
Parsed<SsrcGroup> parse_ssrc_group(std::string_view v);
// a=candidate:<foundation> <component> <transport> <priority> <address>
// <port> typ <type> [raddr <a>] [rport <p>] [tcptype <t>] [<ext> <val>]...
// (RFC 8839 §5.1). Also accepts a leading "candidate:" (trickle form).
Parsed<Candidate> parse_candidate(std::string_view v);

}  // namespace sfu::signaling::sdp::detail
