// The SDP data model (RFC 8866) for the subset JSEP (RFC 9429) uses: one
// session description holding BUNDLEd media sections. The parser
// (sdp_parser.hpp) fills it from browser offers and answers; the writer
// (sdp_writer.hpp) prints it back in the canonical order browsers expect.
//
// Conventions:
// - Values are kept as written where the server only echoes them (rtcp line,
//   fmtp parameters, candidate lines, rid restrictions); the parsed views sit
//   beside the raw text and are derived from it by the parser.
// - Session-level ice-ufrag, ice-pwd, fingerprint and setup apply to every
//   media section without its own (RFC 8839 §5.4, RFC 8122 §5); the model
//   keeps both levels apart so that a round trip is exact, and the
//   effective_* helpers below resolve the inheritance.
// - Every struct compares with ==, so parse → write → parse can be checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sfu::signaling::sdp {

enum class MediaKind : uint8_t { audio, video, application, other };
enum class Direction : uint8_t { sendrecv, sendonly, recvonly, inactive };
enum class Setup : uint8_t { actpass, active, passive, holdconn };  // RFC 4145 §4
enum class RidDirection : uint8_t { send, recv };                   // RFC 8851 §4

std::string_view to_string(MediaKind k);
std::string_view to_string(Direction d);
std::string_view to_string(Setup s);
std::string_view to_string(RidDirection d);
// The direction seen from the other side: sendonly <-> recvonly.
Direction reverse(Direction d);

// "name" or "name:value" — an attribute the model has no field for, or one
// of a known name that cannot apply where it appeared. value is absent for a
// property attribute ("a=foo"), empty for "a=foo:".
struct Attribute {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const Attribute&) const = default;
};

// One "key=value" of a ';'-separated parameter list (fmtp, rid restrictions).
// A parameter without '=' (telephone-event's "0-16", RED's "111/111") has an
// empty value.
struct Param {
  std::string key;
  std::string value;
  bool operator==(const Param&) const = default;
};

// Splits "a=1;b = 2; c" into {a,1},{b,2},{c,""}, trimming spaces around keys
// and values and skipping empty items. Never fails.
std::vector<Param> parse_params(std::string_view text);
// Joins parameters as "a=1;b=2" (a parameter with an empty value as "c").
std::string format_params(const std::vector<Param>& params);
// First value of `key` (case-insensitive, RFC 8866 §5.14 leaves case to the
// format; all our formats use lower case), or nullopt.
std::optional<std::string_view> find_param(const std::vector<Param>& params, std::string_view key);

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>
struct Origin {
  std::string username = "-";
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "127.0.0.1";
  bool operator==(const Origin&) const = default;
};

// c=<nettype> <addrtype> <connection-address>
struct Connection {
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "0.0.0.0";
  bool operator==(const Connection&) const = default;
};

// a=fingerprint:<hash-func> <fingerprint> (RFC 8122 §5). The value is kept as
// written (upper-case hex pairs joined by ':'); compare case-insensitively.
struct Fingerprint {
  std::string algorithm;
  std::string value;
  bool operator==(const Fingerprint&) const = default;
};

// a=group:<semantics> <mid>... (RFC 5888; BUNDLE per RFC 8843).
struct Group {
  std::string semantics;
  std::vector<std::string> mids;
  bool operator==(const Group&) const = default;
};

// a=msid-semantic:<semantic> <id>... (Chrome still writes "WMS").
struct MsidSemantic {
  std::string semantic;
  std::vector<std::string> ids;
  bool operator==(const MsidSemantic&) const = default;
};

// a=msid:<stream id> [<track id>] (RFC 8830 §2). "-" means no stream.
struct Msid {
  std::string stream_id;
  std::string track_id;  // empty when absent
  bool operator==(const Msid&) const = default;
};

// a=candidate (RFC 8839 §5.1). raw is everything after "candidate:"; the
// other fields are parsed from it. The writer prints raw when it is set and
// the fields otherwise.
struct Candidate {
  std::string raw;
  std::string foundation;
  uint16_t component = 1;
  std::string transport;  // "UDP" / "TCP", as written
  uint32_t priority = 0;
  std::string address;  // IP literal or mDNS name
  uint16_t port = 0;
  std::string type;  // host / srflx / prflx / relay
  std::string related_address;
  std::optional<uint16_t> related_port;
  std::string tcp_type;  // active / passive / so, empty for UDP
  bool operator==(const Candidate&) const = default;
};

// a=rtcp-fb:<pt|*> <type> [<param>] (RFC 4585 §4.2): "nack", "nack pli",
// "ccm fir", "goog-remb", "transport-cc".
struct RtcpFeedback {
  std::string type;
  std::string param;  // empty when absent; may contain spaces
  bool operator==(const RtcpFeedback&) const = default;
};

// One payload type of an RTP m-section: its rtpmap, fmtp and rtcp-fb lines.
// name is empty when the description has no rtpmap for the payload type.
struct Codec {
  uint8_t payload_type = 0;
  std::string name;  // "opus", "VP8", "rtx", as written
  uint32_t clock_rate = 0;
  uint16_t channels = 0;      // 0 when the rtpmap has no channel count
  std::string fmtp;           // the fmtp line after "<pt> ", as written
  std::vector<Param> params;  // parsed from fmtp
  std::vector<RtcpFeedback> feedback;

  // Parameter `key` of the fmtp line, or nullopt.
  std::optional<std::string_view> param(std::string_view key) const { return find_param(params, key); }
  bool operator==(const Codec&) const = default;
};

// a=extmap:<id>[/<direction>] <uri> [<attributes>] (RFC 8285 §7).
struct Extmap {
  uint16_t id = 0;  // 1-14 one-byte, 15-255 two-byte form
  std::optional<Direction> direction;
  std::string uri;
  std::string attributes;  // everything after the URI, as written
  bool operator==(const Extmap&) const = default;
};

// a=rid:<rid-id> <send|recv> [<restrictions>] (RFC 8851 §10).
struct Rid {
  std::string id;
  RidDirection direction = RidDirection::send;
  std::string restrictions;   // "pt=96,97;max-width=1280", as written
  std::vector<Param> params;  // parsed from restrictions
  bool operator==(const Rid&) const = default;
};

// One alternative in an a=simulcast list; '~' marks it paused (RFC 8853 §5.1).
struct SimulcastRid {
  std::string rid;
  bool paused = false;
  bool operator==(const SimulcastRid&) const = default;
};

// a=simulcast:send q;h;f recv ...: each list is the simulcast streams in
// order, each stream a list of alternative rids (',' separated).
struct Simulcast {
  std::vector<std::vector<SimulcastRid>> send;
  std::vector<std::vector<SimulcastRid>> recv;
  bool operator==(const Simulcast&) const = default;
};

// All a=ssrc:<ssrc> <attribute>[:<value>] lines of one SSRC (RFC 5576 §4.1),
// in the order written.
struct SsrcInfo {
  uint32_t ssrc = 0;
  std::vector<Attribute> attributes;
  // Value of attribute `name` ("cname", "msid"), or nullopt.
  std::optional<std::string_view> attribute(std::string_view name) const;
  bool operator==(const SsrcInfo&) const = default;
};

// a=ssrc-group:<semantics> <ssrc>... (RFC 5576 §4.2): FID, SIM, FEC-FR.
struct SsrcGroup {
  std::string semantics;
  std::vector<uint32_t> ssrcs;
  bool operator==(const SsrcGroup&) const = default;
};

struct MediaSection {
  MediaKind kind = MediaKind::audio;
  std::string other_kind;  // the m-line's media token when kind == other
  uint16_t port = 9;
  std::string protocol = "UDP/TLS/RTP/SAVPF";
  std::vector<std::string> formats;                       // payload types, or "webrtc-datachannel"
  std::vector<std::pair<char, std::string>> other_lines;  // i=, k=, ... as written
  std::optional<Connection> connection;
  std::vector<std::string> bandwidths;  // b= values ("AS:2000"), as written
  std::optional<std::string> rtcp;      // a=rtcp value, as written

  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::vector<std::string> ice_options;
  std::vector<Fingerprint> fingerprints;
  std::optional<Setup> setup;
  std::optional<std::string> mid;
  bool extmap_allow_mixed = false;  // RFC 8285 §6
  std::vector<Extmap> extmaps;
  std::optional<Direction> direction;  // absent means sendrecv (RFC 8866 §6.7)
  std::vector<Msid> msids;
  bool rtcp_mux = false;
  bool rtcp_rsize = false;
  bool bundle_only = false;  // RFC 8843 §6: port 0 in an offer, used once BUNDLE is accepted
  std::vector<Codec> codecs;               // in m-line format order
  std::vector<RtcpFeedback> feedback_all;  // a=rtcp-fb:* entries
  std::vector<Rid> rids;
  std::optional<Simulcast> simulcast;
  std::vector<SsrcGroup> ssrc_groups;
  std::vector<SsrcInfo> ssrcs;
  std::optional<uint16_t> sctp_port;         // RFC 8841 §5
  std::optional<uint64_t> max_message_size;  // RFC 8841 §6
  std::vector<Candidate> candidates;
  bool end_of_candidates = false;
  std::vector<Attribute> attributes;  // unknown attributes, in order

  // True for an RTP profile ("RTP/AVP", "UDP/TLS/RTP/SAVPF", ...), whose
  // formats are payload types.
  bool is_rtp() const;
  // Not rejected: a non-zero port, or port 0 with bundle-only (Firefox
  // offers every bundled section after the first that way, RFC 8843 §7.2).
  bool in_use() const { return port != 0 || bundle_only; }
  // The direction, sendrecv when absent.
  Direction effective_direction() const { return direction.value_or(Direction::sendrecv); }
  // The codec of payload type `pt`, or nullptr.
  const Codec* find_codec(uint8_t pt) const;
  // The first codec named `name` (case-insensitive), or nullptr.
  const Codec* find_codec(std::string_view name) const;
  // The payload type of the rtx codec whose apt is `pt` (RFC 4588 §8.6).
  std::optional<uint8_t> rtx_payload_type(uint8_t pt) const;
  // The SSRC entry for `ssrc`, or nullptr.
  const SsrcInfo* find_ssrc(uint32_t ssrc) const;
  bool operator==(const MediaSection&) const = default;
};

struct SessionDescription {
  Origin origin;
  std::string session_name = "-";
  std::vector<std::pair<char, std::string>> other_lines;  // i=, u=, e=, r=, ...
  std::optional<Connection> connection;
  std::vector<std::string> bandwidths;
  std::vector<std::string> timings;  // t= values; the writer prints "0 0" when empty

  bool ice_lite = false;
  std::optional<std::string> ice_ufrag;
  std::optional<std::string> ice_pwd;
  std::vector<std::string> ice_options;
  std::vector<Fingerprint> fingerprints;
  std::optional<Setup> setup;
  std::vector<Group> groups;
  bool extmap_allow_mixed = false;
  std::optional<MsidSemantic> msid_semantic;
  std::vector<Attribute> attributes;  // unknown session attributes, in order
  std::vector<MediaSection> media;

  // The section whose a=mid is `mid`, or nullptr.
  const MediaSection* find_media(std::string_view mid) const;
  MediaSection* find_media(std::string_view mid);
  // The mids of the first BUNDLE group, or nullptr when there is none.
  const Group* bundle_group() const;
  // Media-level value if set, else the session-level one (RFC 8839 §5.4).
  std::optional<std::string> effective_ice_ufrag(const MediaSection& m) const;
  std::optional<std::string> effective_ice_pwd(const MediaSection& m) const;
  // Media-level fingerprints if any, else the session-level ones (RFC 8122 §5).
  const std::vector<Fingerprint>& effective_fingerprints(const MediaSection& m) const;
  // Media-level setup if set, else the session-level one.
  std::optional<Setup> effective_setup(const MediaSection& m) const;
  bool operator==(const SessionDescription&) const = default;
};

// Case-insensitive ASCII comparison (codec names, fmtp keys).
bool iequals(std::string_view a, std::string_view b);

// Formats a candidate's fields as an a=candidate value (without "candidate:").
std::string format_candidate(const Candidate& c);

}  // namespace sfu::signaling::sdp
