// Value parsers for single SDP lines and attributes (see sdp_attributes.hpp).
#include "signaling/sdp/sdp_attributes.hpp"

#include <charconv>

namespace sfu::signaling::sdp::detail {

namespace {

Failure<std::string> bad(std::string reason) { return fail(std::move(reason)); }

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// RFC 8839 §5.4 ice-char = ALPHA / DIGIT / "+" / "/"
bool is_ice_char(char c) { return is_alnum(c) || c == '+' || c == '/'; }

std::optional<Direction> parse_direction(std::string_view s) {
  if (s == "sendrecv") return Direction::sendrecv;
  if (s == "sendonly") return Direction::sendonly;
  if (s == "recvonly") return Direction::recvonly;
  if (s == "inactive") return Direction::inactive;
  return std::nullopt;
}

bool has_space(std::string_view s) {
  for (char c : s) {
    if (is_space(c)) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::pair<std::string_view, std::string_view> split_first(std::string_view s) {
  size_t sp = s.find(' ');
  if (sp == std::string_view::npos) return {s, {}};
  return {s.substr(0, sp), s.substr(sp + 1)};
}

bool parse_uint(std::string_view s, uint64_t max, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > max) return false;
  out = v;
  return true;
}

bool is_rid_id(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

Parsed<Origin> parse_origin(std::string_view v) {
  auto t = split_ws(v);
  if (t.size() != 6) return bad("o= line needs 6 fields");
  Origin o;
  o.username = t[0];
  if (!parse_uint(t[1], UINT64_MAX, o.session_id)) return bad("bad sess-id in o= line");
  if (!parse_uint(t[2], UINT64_MAX, o.session_version)) return bad("bad sess-version in o= line");
  o.net_type = t[3];
  o.addr_type = t[4];
  o.address = t[5];
  return o;
}

Parsed<Connection> parse_connection(std::string_view v) {
  auto t = split_ws(v);
  if (t.size() != 3) return bad("c= line needs 3 fields");
  return Connection{std::string(t[0]), std::string(t[1]), std::string(t[2])};
}

Parsed<Fingerprint> parse_fingerprint(std::string_view v) {
  auto [alg, value] = split_first(v);
  if (alg.empty() || value.empty()) return bad("bad fingerprint");
  // value = 2HEXDIG *(":" 2HEXDIG)
  for (size_t i = 0; i < value.size(); i += 3) {
    if (i + 2 > value.size() || !is_hex(value[i]) || !is_hex(value[i + 1])) return bad("bad fingerprint value");
    if (i + 2 < value.size() && value[i + 2] != ':') return bad("bad fingerprint value");
    if (i + 3 == value.size()) return bad("bad fingerprint value");  // trailing ':'
  }
  return Fingerprint{std::string(alg), std::string(value)};
}

Parsed<Setup> parse_setup(std::string_view v) {
  if (v == "actpass") return Setup::actpass;
  if (v == "active") return Setup::active;
  if (v == "passive") return Setup::passive;
  if (v == "holdconn") return Setup::holdconn;
  return bad("bad setup value");
}

Parsed<std::string> parse_ice_credential(std::string_view v, size_t min_len) {
  if (v.size() < min_len || v.size() > 256) return bad("bad ICE credential length");
  for (char c : v) {
    if (!is_ice_char(c)) return bad("bad character in ICE credential");
  }
  return std::string(v);
}

Parsed<Group> parse_group(std::string_view v) {
  auto t = split_ws(v);
  if (t.empty()) return bad("bad group");
  Group g;
  g.semantics = t[0];
  for (size_t i = 1; i < t.size(); ++i) g.mids.emplace_back(t[i]);
  return g;
}

Parsed<MsidSemantic> parse_msid_semantic(std::string_view v) {
  auto t = split_ws(v);
  if (t.empty()) return bad("bad msid-semantic");
  MsidSemantic m;
  m.semantic = t[0];
  for (size_t i = 1; i < t.size(); ++i) m.ids.emplace_back(t[i]);
  return m;
}

Parsed<Msid> parse_msid(std::string_view v) {
  auto t = split_ws(v);
  if (t.empty() || t.size() > 2) return bad("bad msid");
  return Msid{std::string(t[0]), t.size() == 2 ? std::string(t[1]) : std::string()};
}

Parsed<Extmap> parse_extmap(std::string_view v) {
  auto [id_dir, rest] = split_first(v);
  auto [uri, attributes] = split_first(rest);
  if (uri.empty()) return bad("bad extmap: no URI");
  Extmap e;
  size_t slash = id_dir.find('/');
  uint64_t id = 0;
  if (!parse_uint(id_dir.substr(0, slash), 255, id) || id == 0) return bad("bad extmap id (must be 1-255)");
  e.id = uint16_t(id);
  if (slash != std::string_view::npos) {
    e.direction = parse_direction(id_dir.substr(slash + 1));
    if (!e.direction) return bad("bad extmap direction");
  }
  e.uri = uri;
  e.attributes = attributes;
  return e;
}

Parsed<std::optional<uint8_t>> parse_pt_prefix(std::string_view v) {
  std::string_view token = split_first(v).first;
  if (token == "*") return std::optional<uint8_t>{};
  uint64_t pt = 0;
  if (!parse_uint(token, 127, pt)) return bad("bad payload type");
  return std::optional<uint8_t>{uint8_t(pt)};
}

Parsed<uint8_t> parse_rtpmap(std::string_view v, Codec& codec) {
  auto [pt_text, encoding] = split_first(v);
  uint64_t pt = 0, rate = 0, channels = 0;
  if (!parse_uint(pt_text, 127, pt)) return bad("bad payload type in rtpmap");
  // <encoding name>/<clock rate>[/<encoding parameters>]
  size_t s1 = encoding.find('/');
  if (s1 == 0 || s1 == std::string_view::npos) return bad("bad rtpmap encoding");
  std::string_view name = encoding.substr(0, s1), tail = encoding.substr(s1 + 1);
  size_t s2 = tail.find('/');
  if (has_space(name) || !parse_uint(tail.substr(0, s2), UINT32_MAX, rate)) return bad("bad rtpmap encoding");
  if (s2 != std::string_view::npos && (!parse_uint(tail.substr(s2 + 1), UINT16_MAX, channels) || channels == 0)) {
    return bad("bad rtpmap channel count");
  }
  codec.name = name;
  codec.clock_rate = uint32_t(rate);
  codec.channels = uint16_t(channels);
  return uint8_t(pt);
}

Parsed<RtcpFeedback> parse_rtcp_fb(std::string_view after_pt) {
  auto [type, param] = split_first(after_pt);
  if (type.empty()) return bad("bad rtcp-fb");
  return RtcpFeedback{std::string(type), std::string(param)};
}

Parsed<Rid> parse_rid(std::string_view v) {
  auto [id, rest] = split_first(v);
  auto [dir, restrictions] = split_first(rest);
  if (!is_rid_id(id)) return bad("bad rid id");
  Rid r;
  r.id = id;
  if (dir == "send") {
    r.direction = RidDirection::send;
  } else if (dir == "recv") {
    r.direction = RidDirection::recv;
  } else {
    return bad("bad rid direction (send or recv)");
  }
  r.restrictions = restrictions;
  r.params = parse_params(restrictions);
  return r;
}

namespace {

// <stream>;<stream>... where stream = [~]rid *("," [~]rid)  (RFC 8853 §5.1)
Parsed<std::vector<std::vector<SimulcastRid>>> parse_simulcast_list(std::string_view list) {
  if (list.substr(0, 4) == "rid=") list.remove_prefix(4);  // draft-ietf-mmusic-sdp-simulcast-03 form
  std::vector<std::vector<SimulcastRid>> streams;
  while (true) {
    size_t semi = list.find(';');
    std::string_view stream = list.substr(0, semi);
    std::vector<SimulcastRid> alternatives;
    while (true) {
      size_t comma = stream.find(',');
      std::string_view alt = stream.substr(0, comma);
      SimulcastRid r;
      if (!alt.empty() && alt[0] == '~') {
        r.paused = true;
        alt.remove_prefix(1);
      }
      if (!is_rid_id(alt)) return bad("bad rid in simulcast list");
      r.rid = alt;
      alternatives.push_back(std::move(r));
      if (comma == std::string_view::npos) break;
      stream.remove_prefix(comma + 1);
    }
    streams.push_back(std::move(alternatives));
    if (semi == std::string_view::npos) break;
    list.remove_prefix(semi + 1);
  }
  return streams;
}

}  // namespace

Parsed<Simulcast> parse_simulcast(std::string_view v) {
  auto t = split_ws(v);
  if (t.empty() || t.size() % 2 != 0 || t.size() > 4) return bad("bad simulcast");
  Simulcast s;
  for (size_t i = 0; i < t.size(); i += 2) {
    auto list = parse_simulcast_list(t[i + 1]);
    if (!list) return bad(list.error());
    auto& target = t[i] == "send" ? s.send : s.recv;
    if ((t[i] != "send" && t[i] != "recv") || !target.empty()) return bad("bad simulcast direction");
    target = std::move(*list);
  }
  return s;
}

Parsed<std::pair<uint32_t, Attribute>> parse_ssrc(std::string_view v) {
  auto [ssrc_text, attr] = split_first(v);
  uint64_t ssrc = 0;
  if (!parse_uint(ssrc_text, UINT32_MAX, ssrc)) return bad("bad ssrc");
  size_t colon = attr.find(':');
  Attribute a;
  a.name = attr.substr(0, colon);
  if (a.name.empty()) return bad("bad ssrc attribute");
  if (colon != std::string_view::npos) a.value = std::string(attr.substr(colon + 1));
  return std::pair<uint32_t, Attribute>{uint32_t(ssrc), std::move(a)};
}

Parsed<SsrcGroup> parse_ssrc_group(std::string_view v) {
  auto t = split_ws(v);
  if (t.size() < 2) return bad("bad ssrc-group");
  SsrcGroup g;
  g.semantics = t[0];
  for (size_t i = 1; i < t.size(); ++i) {
    uint64_t ssrc = 0;
    if (!parse_uint(t[i], UINT32_MAX, ssrc)) return bad("bad ssrc in ssrc-group");
    g.ssrcs.push_back(uint32_t(ssrc));
  }
  return g;
}

namespace {

// The optional "<name> <value>" pairs after "typ <type>".
void parse_candidate_extensions(const std::vector<std::string_view>& t, Candidate& c) {
  for (size_t i = 8; i + 1 < t.size(); i += 2) {
    uint64_t port = 0;
    if (t[i] == "raddr") {
      c.related_address = t[i + 1];
    } else if (t[i] == "rport" && parse_uint(t[i + 1], UINT16_MAX, port)) {
      c.related_port = uint16_t(port);
    } else if (t[i] == "tcptype") {
      c.tcp_type = t[i + 1];
    }
  }
}

}  // namespace

Parsed<Candidate> parse_candidate(std::string_view v) {
  if (v.substr(0, 10) == "candidate:") v.remove_prefix(10);
  auto t = split_ws(v);
  if (t.size() < 8 || t[6] != "typ") return bad("bad candidate: too few fields");
  Candidate c;
  c.raw = v;
  uint64_t component = 0, priority = 0, port = 0;
  if (!parse_uint(t[1], 256, component) || component == 0) return bad("bad candidate component");
  if (!parse_uint(t[3], UINT32_MAX, priority)) return bad("bad candidate priority");
  if (!parse_uint(t[5], UINT16_MAX, port)) return bad("bad candidate port");
  c.foundation = t[0];
  c.component = uint16_t(component);
  c.transport = t[2];
  c.priority = uint32_t(priority);
  c.address = t[4];
  c.port = uint16_t(port);
  c.type = t[7];
  parse_candidate_extensions(t, c);
  return c;
}

}  // namespace sfu::signaling::sdp::detail
