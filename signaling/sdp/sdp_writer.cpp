// SDP writer (see sdp_writer.hpp for the order and the raw-over-parsed rule).
#include "signaling/sdp/sdp_writer.hpp"

#include <initializer_list>
#include <string_view>

namespace sfu::signaling::sdp {

namespace {

class Out {
 public:
  // Appends the parts and a CRLF.
  void line(std::initializer_list<std::string_view> parts) {
    for (std::string_view p : parts) s_ += p;
    s_ += "\r\n";
  }
  std::string take() { return std::move(s_); }

 private:
  std::string s_;
};

std::string num(uint64_t v) { return std::to_string(v); }

std::string join(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string connection_value(const Connection& c) { return c.net_type + ' ' + c.addr_type + ' ' + c.address; }

void write_attributes(Out& o, const std::vector<Attribute>& attributes) {
  for (const Attribute& a : attributes) {
    if (a.value) {
      o.line({"a=", a.name, ":", *a.value});
    } else {
      o.line({"a=", a.name});
    }
  }
}

// The transport attributes shared by both levels (T is SessionDescription or MediaSection).
template <class T>
void write_ice_dtls(Out& o, const T& t) {
  if (t.ice_ufrag) o.line({"a=ice-ufrag:", *t.ice_ufrag});
  if (t.ice_pwd) o.line({"a=ice-pwd:", *t.ice_pwd});
  if (!t.ice_options.empty()) o.line({"a=ice-options:", join(t.ice_options, ' ')});
  for (const Fingerprint& f : t.fingerprints) o.line({"a=fingerprint:", f.algorithm, " ", f.value});
  if (t.setup) o.line({"a=setup:", to_string(*t.setup)});
}

void write_session(Out& o, const SessionDescription& sd) {
  const Origin& og = sd.origin;
  o.line({"v=0"});
  o.line({"o=", og.username, " ", num(og.session_id), " ", num(og.session_version), " ", og.net_type, " ", og.addr_type,
          " ", og.address});
  o.line({"s=", sd.session_name});
  for (const auto& [type, value] : sd.other_lines) o.line({std::string_view(&type, 1), "=", value});
  if (sd.connection) o.line({"c=", connection_value(*sd.connection)});
  for (const std::string& b : sd.bandwidths) o.line({"b=", b});
  if (sd.timings.empty()) o.line({"t=0 0"});
  for (const std::string& t : sd.timings) o.line({"t=", t});
  if (sd.ice_lite) o.line({"a=ice-lite"});
  write_ice_dtls(o, sd);
  for (const Group& g : sd.groups) {
    o.line({"a=group:", g.semantics, g.mids.empty() ? "" : " ", join(g.mids, ' ')});
  }
  if (sd.extmap_allow_mixed) o.line({"a=extmap-allow-mixed"});
  if (sd.msid_semantic) {
    const MsidSemantic& m = *sd.msid_semantic;
    o.line({"a=msid-semantic:", m.semantic, m.ids.empty() ? "" : " ", join(m.ids, ' ')});
  }
  write_attributes(o, sd.attributes);
}

void write_codecs(Out& o, const MediaSection& m) {
  for (const Codec& c : m.codecs) {
    const std::string pt = num(c.payload_type);
    if (!c.name.empty()) {
      o.line({"a=rtpmap:", pt, " ", c.name, "/", num(c.clock_rate), c.channels ? "/" : "",
              c.channels ? num(c.channels) : ""});
    }
    for (const RtcpFeedback& fb : c.feedback) {
      o.line({"a=rtcp-fb:", pt, " ", fb.type, fb.param.empty() ? "" : " ", fb.param});
    }
    if (!c.fmtp.empty()) {
      o.line({"a=fmtp:", pt, " ", c.fmtp});
    } else if (!c.params.empty()) {
      o.line({"a=fmtp:", pt, " ", format_params(c.params)});
    }
  }
  for (const RtcpFeedback& fb : m.feedback_all) {
    o.line({"a=rtcp-fb:* ", fb.type, fb.param.empty() ? "" : " ", fb.param});
  }
}

std::string simulcast_list(const std::vector<std::vector<SimulcastRid>>& streams) {
  std::string out;
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i) out += ';';
    for (size_t j = 0; j < streams[i].size(); ++j) {
      if (j) out += ',';
      if (streams[i][j].paused) out += '~';
      out += streams[i][j].rid;
    }
  }
  return out;
}

void write_simulcast(Out& o, const MediaSection& m) {
  for (const Rid& r : m.rids) {
    std::string restrictions = r.restrictions.empty() ? format_params(r.params) : r.restrictions;
    o.line({"a=rid:", r.id, " ", to_string(r.direction), restrictions.empty() ? "" : " ", restrictions});
  }
  if (!m.simulcast || (m.simulcast->send.empty() && m.simulcast->recv.empty())) return;
  std::string value;
  if (!m.simulcast->send.empty()) value = "send " + simulcast_list(m.simulcast->send);
  if (!m.simulcast->recv.empty()) value += (value.empty() ? "recv " : " recv ") + simulcast_list(m.simulcast->recv);
  o.line({"a=simulcast:", value});
}

void write_ssrcs(Out& o, const MediaSection& m) {
  for (const SsrcGroup& g : m.ssrc_groups) {
    std::string line = "a=ssrc-group:" + g.semantics;
    for (uint32_t s : g.ssrcs) line += ' ' + num(s);
    o.line({line});
  }
  for (const SsrcInfo& s : m.ssrcs) {
    const std::string ssrc = num(s.ssrc);
    for (const Attribute& a : s.attributes) {
      o.line({"a=ssrc:", ssrc, " ", a.name, a.value ? ":" : "", a.value ? std::string_view(*a.value) : ""});
    }
  }
}

void write_media(Out& o, const MediaSection& m) {
  std::string_view kind = m.kind == MediaKind::other ? std::string_view(m.other_kind) : to_string(m.kind);
  std::string formats;
  for (const std::string& f : m.formats) formats += ' ' + f;
  o.line({"m=", kind, " ", num(m.port), " ", m.protocol, formats});
  for (const auto& [type, value] : m.other_lines) o.line({std::string_view(&type, 1), "=", value});
  if (m.connection) o.line({"c=", connection_value(*m.connection)});
  for (const std::string& b : m.bandwidths) o.line({"b=", b});
  if (m.rtcp) o.line({"a=rtcp:", *m.rtcp});
  write_ice_dtls(o, m);
  if (m.mid) o.line({"a=mid:", *m.mid});
  if (m.extmap_allow_mixed) o.line({"a=extmap-allow-mixed"});
  for (const Extmap& e : m.extmaps) {
    o.line({"a=extmap:", num(e.id), e.direction ? "/" : "", e.direction ? to_string(*e.direction) : "", " ", e.uri,
            e.attributes.empty() ? "" : " ", e.attributes});
  }
  if (m.direction) o.line({"a=", to_string(*m.direction)});
  for (const Msid& id : m.msids) o.line({"a=msid:", id.stream_id, id.track_id.empty() ? "" : " ", id.track_id});
  if (m.rtcp_mux) o.line({"a=rtcp-mux"});
  if (m.rtcp_rsize) o.line({"a=rtcp-rsize"});
  if (m.bundle_only) o.line({"a=bundle-only"});
  write_codecs(o, m);
  write_simulcast(o, m);
  write_ssrcs(o, m);
  if (m.sctp_port) o.line({"a=sctp-port:", num(*m.sctp_port)});
  if (m.max_message_size) o.line({"a=max-message-size:", num(*m.max_message_size)});
  write_attributes(o, m.attributes);
  for (const Candidate& c : m.candidates) o.line({"a=candidate:", format_candidate(c)});
  if (m.end_of_candidates) o.line({"a=end-of-candidates"});
}

}  // namespace

std::string write_sdp(const SessionDescription& sd) {
  Out o;
  write_session(o, sd);
  for (const MediaSection& m : sd.media) write_media(o, m);
  return o.take();
}

}  // namespace sfu::signaling::sdp
