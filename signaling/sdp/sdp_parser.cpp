// SDP parser: splits lines, enforces the caps and the structure (v= o= s=
// header, session part, m-sections) and dispatches attributes to the value
// parsers of sdp_attributes.cpp.
//
//   session-description = v= o= s= [i=] [u=] [e=] [p=] [c=] *b= 1*(t= *r=)
//                         [z=] [k=] *a= *media-description      (RFC 8866 §9)
//   media-description   = m= [i=] [c=] *b= [k=] *a=
#include "signaling/sdp/sdp_parser.hpp"

#include <algorithm>
#include <array>
#include <bitset>

#include "signaling/sdp/sdp_attributes.hpp"

namespace sfu::signaling::sdp {

std::string to_string(const SdpError& e) { return "line " + std::to_string(e.line) + ": " + e.reason; }

namespace {

using namespace detail;

// What the parser must remember about the m-section being read.
struct SectionState {
  size_t attribute_count = 0;
  std::array<int16_t, 128> format_pos;   // index in the m-line, -1 when absent
  std::array<int16_t, 128> codec_index;  // index in MediaSection::codecs, -1 when none
  std::bitset<128> has_rtpmap, has_fmtp;
  std::bitset<256> extmap_ids;
  bool has_mid = false;
  bool has_connection = false;

  SectionState() { reset(); }
  void reset() {
    attribute_count = 0;
    format_pos.fill(-1);
    codec_index.fill(-1);
    has_rtpmap.reset();
    has_fmtp.reset();
    extmap_ids.reset();
    has_mid = false;
    has_connection = false;
  }
};

std::optional<Direction> direction_attribute(std::string_view name) {
  if (name == "sendrecv") return Direction::sendrecv;
  if (name == "sendonly") return Direction::sendonly;
  if (name == "recvonly") return Direction::recvonly;
  if (name == "inactive") return Direction::inactive;
  return std::nullopt;
}

MediaKind media_kind(std::string_view token) {
  if (token == "audio") return MediaKind::audio;
  if (token == "video") return MediaKind::video;
  if (token == "application") return MediaKind::application;
  return MediaKind::other;
}

class Parser {
 public:
  Result<SessionDescription, SdpError> run(std::string_view text);

 private:
  std::string handle_line(std::string_view raw);
  std::string handle_header(char type, std::string_view value);
  std::string handle_body(char type, std::string_view value);
  std::string handle_m_line(std::string_view value);
  std::string handle_attribute(std::string_view value);
  void finish_media();

  template <class T>
  bool common_attribute(T& target, std::string_view name, std::string_view v);
  bool session_attribute(std::string_view name, std::string_view v);
  bool media_attribute(MediaSection& m, std::string_view name, std::string_view v);
  bool media_rtp_attribute(MediaSection& m, std::string_view name, std::string_view v);
  bool media_ssrc_attribute(MediaSection& m, std::string_view name, std::string_view v);
  bool on_mid(MediaSection& m, std::string_view v);
  bool on_rtpmap(MediaSection& m, std::string_view v);
  bool on_fmtp(MediaSection& m, std::string_view v);
  bool on_rtcp_fb(MediaSection& m, std::string_view v);
  Codec& codec_for(MediaSection& m, uint8_t pt);

  // Stores a parsed value through `store`, or records the parse error.
  // Always returns true: the attribute was recognised either way.
  template <class T, class F>
  bool accept(Parsed<T>&& r, F&& store) {
    if (r.ok()) {
      store(std::move(r).value());
    } else {
      error_ = r.error();
    }
    return true;
  }
  bool reject(std::string reason) {
    error_ = std::move(reason);
    return true;
  }

  SessionDescription sd_;
  SectionState st_;
  size_t line_ = 0;
  int header_lines_ = 0;  // how many of v=, o=, s= have been read
  std::string error_;
};

Result<SessionDescription, SdpError> Parser::run(std::string_view text) {
  if (text.size() > kMaxSdpSize) {
    size_t line = 1 + size_t(std::count(text.begin(), text.begin() + kMaxSdpSize, '\n'));
    return fail(SdpError{line, "description larger than " + std::to_string(kMaxSdpSize) + " bytes"});
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (std::string reason = handle_line(raw); !reason.empty()) return fail(SdpError{line_, std::move(reason)});
  }
  if (header_lines_ == 0) return fail(SdpError{1, "missing v=0 first line"});
  if (header_lines_ < 3) {
    return fail(SdpError{line_ + 1, header_lines_ == 1 ? "missing o= line" : "missing s= line"});
  }
  finish_media();
  if (sd_.timings.empty()) sd_.timings.emplace_back("0 0");  // JSEP always writes t=0 0
  return std::move(sd_);
}

std::string Parser::handle_line(std::string_view raw) {
  if (raw.size() > kMaxLineLength) return "line longer than " + std::to_string(kMaxLineLength) + " bytes";
  if (raw.empty()) return line_ == 1 ? "missing v=0 first line" : "";  // blank lines are skipped
  for (char c : raw) {
    auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && c != '\t') || b == 0x7f) return "control character in line";
  }
  if (raw.size() < 2 || raw[1] != '=' || raw[0] < 'a' || raw[0] > 'z') {
    return header_lines_ == 0 ? "missing v=0 first line" : "malformed line (expected <letter>=<value>)";
  }
  return header_lines_ < 3 ? handle_header(raw[0], raw.substr(2)) : handle_body(raw[0], raw.substr(2));
}

std::string Parser::handle_header(char type, std::string_view value) {
  switch (header_lines_) {
    case 0:
      if (type != 'v' || value != "0") return "missing v=0 first line";
      break;
    case 1: {
      if (type != 'o') return "missing o= line after v=";
      auto origin = parse_origin(value);
      if (!origin) return origin.error();
      sd_.origin = std::move(*origin);
      break;
    }
    default:
      if (type != 's') return "missing s= line after o=";
      sd_.session_name = value;
      break;
  }
  ++header_lines_;
  return {};
}

std::string Parser::handle_body(char type, std::string_view value) {
  const bool in_media = !sd_.media.empty();
  switch (type) {
    case 'v':
    case 'o':
    case 's':
      return std::string("unexpected ") + type + "= line";
    case 'm':
      return handle_m_line(value);
    case 'a':
      return handle_attribute(value);
    case 'c': {
      if (st_.has_connection) return "more than one c= line in a section";
      st_.has_connection = true;
      auto c = parse_connection(value);
      if (!c) return c.error();
      (in_media ? sd_.media.back().connection : sd_.connection) = std::move(*c);
      return {};
    }
    case 'b':
      (in_media ? sd_.media.back().bandwidths : sd_.bandwidths).emplace_back(value);
      return {};
    case 't':
      if (in_media) return "t= line inside a media section";
      sd_.timings.emplace_back(value);
      return {};
    default:
      (in_media ? sd_.media.back().other_lines : sd_.other_lines).emplace_back(type, std::string(value));
      return {};
  }
}

std::string Parser::handle_m_line(std::string_view value) {
  finish_media();
  if (sd_.media.size() >= kMaxMediaSections) return "more than " + std::to_string(kMaxMediaSections) + " m-sections";
  st_.reset();
  auto t = split_ws(value);
  if (t.size() < 4) return "m= line needs media, port, protocol and formats";
  MediaSection m;
  m.kind = media_kind(t[0]);
  if (m.kind == MediaKind::other) m.other_kind = t[0];
  uint64_t port = 0;
  if (!parse_uint(t[1], UINT16_MAX, port)) return "bad port in m= line";
  m.port = uint16_t(port);
  m.protocol = t[2];
  const bool rtp = m.is_rtp();
  for (size_t i = 3; i < t.size(); ++i) {
    uint64_t pt = 0;
    if (rtp && !parse_uint(t[i], 127, pt)) return "bad payload type '" + std::string(t[i]) + "' in m= line";
    if (rtp && st_.format_pos[pt] >= 0) return "payload type " + std::to_string(pt) + " repeated in m= line";
    if (rtp) st_.format_pos[pt] = int16_t(i - 3);
    m.formats.emplace_back(t[i]);
  }
  sd_.media.push_back(std::move(m));
  return {};
}

// Puts the codecs in m-line order, whatever the order of their attributes.
void Parser::finish_media() {
  if (sd_.media.empty()) return;
  auto& codecs = sd_.media.back().codecs;
  std::stable_sort(codecs.begin(), codecs.end(), [this](const Codec& a, const Codec& b) {
    return st_.format_pos[a.payload_type] < st_.format_pos[b.payload_type];
  });
  for (size_t i = 0; i < codecs.size(); ++i) st_.codec_index[codecs[i].payload_type] = int16_t(i);
}

std::string Parser::handle_attribute(std::string_view value) {
  if (++st_.attribute_count > kMaxAttributesPerSection) {
    return "more than " + std::to_string(kMaxAttributesPerSection) + " attributes in one section";
  }
  size_t colon = value.find(':');
  std::string_view name = value.substr(0, colon);
  std::string_view v = colon == std::string_view::npos ? std::string_view{} : value.substr(colon + 1);
  if (name.empty()) return "empty attribute name";
  const bool in_media = !sd_.media.empty();
  bool handled = in_media ? media_attribute(sd_.media.back(), name, v) : session_attribute(name, v);
  if (!error_.empty()) return std::move(error_);
  if (!handled) {
    Attribute a{std::string(name), {}};
    if (colon != std::string_view::npos) a.value = std::string(v);
    (in_media ? sd_.media.back().attributes : sd_.attributes).push_back(std::move(a));
  }
  return {};
}

// Attributes valid at both levels (media-level ones override, RFC 8839 §5.4).
template <class T>
bool Parser::common_attribute(T& target, std::string_view name, std::string_view v) {
  if (name == "ice-ufrag") return accept(parse_ice_credential(v, 4), [&](std::string s) { target.ice_ufrag = s; });
  if (name == "ice-pwd") return accept(parse_ice_credential(v, 22), [&](std::string s) { target.ice_pwd = s; });
  if (name == "fingerprint") {
    return accept(parse_fingerprint(v), [&](Fingerprint f) { target.fingerprints.push_back(std::move(f)); });
  }
  if (name == "setup") return accept(parse_setup(v), [&](Setup s) { target.setup = s; });
  if (name == "ice-options") {
    target.ice_options.clear();
    for (std::string_view o : split_ws(v)) target.ice_options.emplace_back(o);
    return true;
  }
  if (name == "extmap-allow-mixed") {
    target.extmap_allow_mixed = true;
    return true;
  }
  return false;
}

bool Parser::session_attribute(std::string_view name, std::string_view v) {
  if (common_attribute(sd_, name, v)) return true;
  if (name == "ice-lite") {
    sd_.ice_lite = true;
    return true;
  }
  if (name == "group") return accept(parse_group(v), [&](Group g) { sd_.groups.push_back(std::move(g)); });
  if (name == "msid-semantic") return accept(parse_msid_semantic(v), [&](MsidSemantic s) { sd_.msid_semantic = s; });
  return false;
}

bool Parser::media_attribute(MediaSection& m, std::string_view name, std::string_view v) {
  if (common_attribute(m, name, v)) return true;
  if (auto d = direction_attribute(name)) {
    m.direction = d;
    return true;
  }
  if (name == "mid") return on_mid(m, v);
  if (name == "msid") return accept(parse_msid(v), [&](Msid x) { m.msids.push_back(std::move(x)); });
  if (name == "rtcp-mux") return m.rtcp_mux = true;
  if (name == "rtcp-rsize") return m.rtcp_rsize = true;
  if (name == "bundle-only") return m.bundle_only = true;
  if (name == "rtcp") {
    m.rtcp = std::string(v);
    return true;
  }
  if (name == "candidate")
    return accept(parse_candidate(v), [&](Candidate c) { m.candidates.push_back(std::move(c)); });
  if (name == "end-of-candidates") return m.end_of_candidates = true;
  uint64_t n = 0;
  if (name == "sctp-port") {
    if (!parse_uint(v, UINT16_MAX, n)) return reject("bad sctp-port");
    m.sctp_port = uint16_t(n);
    return true;
  }
  if (name == "max-message-size") {
    if (!parse_uint(v, UINT64_MAX, n)) return reject("bad max-message-size");
    m.max_message_size = n;
    return true;
  }
  return media_rtp_attribute(m, name, v) || media_ssrc_attribute(m, name, v);
}

bool Parser::media_rtp_attribute(MediaSection& m, std::string_view name, std::string_view v) {
  if (name == "rtpmap") return on_rtpmap(m, v);
  if (name == "fmtp") return on_fmtp(m, v);
  if (name == "rtcp-fb") return on_rtcp_fb(m, v);
  if (name == "extmap") {
    return accept(parse_extmap(v), [&](Extmap e) {
      if (st_.extmap_ids[e.id]) {
        error_ = "extmap id " + std::to_string(e.id) + " repeated in one m-section";
        return;
      }
      st_.extmap_ids[e.id] = true;
      m.extmaps.push_back(std::move(e));
    });
  }
  if (name == "rid") {
    return accept(parse_rid(v), [&](Rid r) {
      for (const Rid& other : m.rids) {
        if (other.id == r.id) error_ = "rid '" + r.id + "' repeated";
      }
      m.rids.push_back(std::move(r));
    });
  }
  if (name == "simulcast") return accept(parse_simulcast(v), [&](Simulcast s) { m.simulcast = std::move(s); });
  return false;
}

bool Parser::media_ssrc_attribute(MediaSection& m, std::string_view name, std::string_view v) {
  if (name == "ssrc-group")
    return accept(parse_ssrc_group(v), [&](SsrcGroup g) { m.ssrc_groups.push_back(std::move(g)); });
  if (name != "ssrc") return false;
  return accept(parse_ssrc(v), [&](std::pair<uint32_t, Attribute> p) {
    auto it = std::find_if(m.ssrcs.begin(), m.ssrcs.end(), [&](const SsrcInfo& s) { return s.ssrc == p.first; });
    if (it == m.ssrcs.end()) it = m.ssrcs.insert(m.ssrcs.end(), SsrcInfo{p.first, {}});
    it->attributes.push_back(std::move(p.second));
  });
}

bool Parser::on_mid(MediaSection& m, std::string_view v) {
  if (st_.has_mid) return reject("a=mid repeated in one m-section");
  st_.has_mid = true;
  if (v.empty() || v.find_first_of(" \t") != std::string_view::npos) return reject("bad mid");
  for (size_t i = 0; i + 1 < sd_.media.size(); ++i) {
    if (sd_.media[i].mid == v) return reject("duplicate mid '" + std::string(v) + "'");
  }
  m.mid = std::string(v);
  return true;
}

Codec& Parser::codec_for(MediaSection& m, uint8_t pt) {
  if (st_.codec_index[pt] < 0) {
    st_.codec_index[pt] = int16_t(m.codecs.size());
    m.codecs.push_back(Codec{});
    m.codecs.back().payload_type = pt;
  }
  return m.codecs[size_t(st_.codec_index[pt])];
}

bool Parser::on_rtpmap(MediaSection& m, std::string_view v) {
  Codec parsed;
  auto pt = parse_rtpmap(v, parsed);
  if (!pt) return reject(pt.error());
  if (!m.is_rtp() || st_.format_pos[*pt] < 0) {
    return reject("rtpmap for payload type " + std::to_string(*pt) + " not in the m= line");
  }
  if (st_.has_rtpmap[*pt]) return reject("rtpmap for payload type " + std::to_string(*pt) + " repeated");
  st_.has_rtpmap[*pt] = true;
  Codec& c = codec_for(m, *pt);
  c.name = std::move(parsed.name);
  c.clock_rate = parsed.clock_rate;
  c.channels = parsed.channels;
  return true;
}

// An fmtp (or rtcp-fb) naming a payload type the m-line does not list is kept
// as an unknown attribute: harmless, and browsers never send one.
bool Parser::on_fmtp(MediaSection& m, std::string_view v) {
  auto pt = parse_pt_prefix(v);
  if (!pt || !*pt || !m.is_rtp() || st_.format_pos[**pt] < 0) return false;
  if (st_.has_fmtp[**pt]) return reject("fmtp for payload type " + std::to_string(**pt) + " repeated");
  st_.has_fmtp[**pt] = true;
  std::string_view params = split_first(v).second;
  if (params.empty()) return reject("fmtp for payload type " + std::to_string(**pt) + " without parameters");
  Codec& c = codec_for(m, **pt);
  c.fmtp = params;
  c.params = parse_params(c.fmtp);
  return true;
}

bool Parser::on_rtcp_fb(MediaSection& m, std::string_view v) {
  auto pt = parse_pt_prefix(v);
  if (!pt) return false;
  if (*pt && (!m.is_rtp() || st_.format_pos[**pt] < 0)) return false;
  return accept(parse_rtcp_fb(split_first(v).second), [&](RtcpFeedback fb) {
    if (*pt) {
      codec_for(m, **pt).feedback.push_back(std::move(fb));
    } else {
      m.feedback_all.push_back(std::move(fb));
    }
  });
}

}  // namespace

Result<SessionDescription, SdpError> parse_sdp(std::string_view text) { return Parser{}.run(text); }

}  // namespace sfu::signaling::sdp
