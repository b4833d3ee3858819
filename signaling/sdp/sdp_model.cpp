// Helpers of the SDP model: enum names, parameter lists, lookups and the
// session → media inheritance rules.
#include "signaling/sdp/sdp_model.hpp"

#include <charconv>

namespace sfu::signaling::sdp {

std::string_view to_string(MediaKind k) {
  switch (k) {
    case MediaKind::audio:
      return "audio";
    case MediaKind::video:
      return "video";
    case MediaKind::application:
      return "application";
    case MediaKind::other:
      break;
  }
  return "other";
}

std::string_view to_string(Direction d) {
  switch (d) {
    case Direction::sendrecv:
      return "sendrecv";
    case Direction::sendonly:
      return "sendonly";
    case Direction::recvonly:
      return "recvonly";
    case Direction::inactive:
      return "inactive";
  }
  return "sendrecv";
}

std::string_view to_string(Setup s) {
  switch (s) {
    case Setup::actpass:
      return "actpass";
    case Setup::active:
      return "active";
    case Setup::passive:
      return "passive";
    case Setup::holdconn:
      return "holdconn";
  }
  return "actpass";
}

std::string_view to_string(RidDirection d) { return d == RidDirection::send ? "send" : "recv"; }

Direction reverse(Direction d) {
  if (d == Direction::sendonly) return Direction::recvonly;
  if (d == Direction::recvonly) return Direction::sendonly;
  return d;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<Param> parse_params(std::string_view text) {
  std::vector<Param> out;
  while (!text.empty()) {
    size_t semi = text.find(';');
    std::string_view item = trim(text.substr(0, semi));
    text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      out.push_back({std::string(item), {}});
    } else {
      out.push_back({std::string(trim(item.substr(0, eq))), std::string(trim(item.substr(eq + 1)))});
    }
  }
  return out;
}

std::string format_params(const std::vector<Param>& params) {
  std::string out;
  for (const Param& p : params) {
    if (!out.empty()) out += ';';
    out += p.key;
    if (!p.value.empty()) {
      out += '=';
      out += p.value;
    }
  }
  return out;
}

std::optional<std::string_view> find_param(const std::vector<Param>& params, std::string_view key) {
  for (const Param& p : params) {
    if (iequals(p.key, key)) return std::string_view(p.value);
  }
  return std::nullopt;
}

std::optional<std::string_view> SsrcInfo::attribute(std::string_view name) const {
  for (const Attribute& a : attributes) {
    if (a.name == name) return a.value ? std::string_view(*a.value) : std::string_view{};
  }
  return std::nullopt;
}

bool MediaSection::is_rtp() const { return protocol.find("RTP/") != std::string::npos; }

const Codec* MediaSection::find_codec(uint8_t pt) const {
  for (const Codec& c : codecs) {
    if (c.payload_type == pt) return &c;
  }
  return nullptr;
}

const Codec* MediaSection::find_codec(std::string_view name) const {
  for (const Codec& c : codecs) {
    if (iequals(c.name, name)) return &c;
  }
  return nullptr;
}

std::optional<uint8_t> MediaSection::rtx_payload_type(uint8_t pt) const {
  for (const Codec& c : codecs) {
    if (!iequals(c.name, "rtx")) continue;
    std::optional<std::string_view> apt = c.param("apt");
    unsigned value = 0;
    if (!apt || apt->empty()) continue;
    auto [end, ec] = std::from_chars(apt->data(), apt->data() + apt->size(), value);
    if (ec == std::errc{} && end == apt->data() + apt->size() && value == pt) return c.payload_type;
  }
  return std::nullopt;
}

const SsrcInfo* MediaSection::find_ssrc(uint32_t ssrc) const {
  for (const SsrcInfo& s : ssrcs) {
    if (s.ssrc == ssrc) return &s;
  }
  return nullptr;
}

const MediaSection* SessionDescription::find_media(std::string_view mid) const {
  for (const MediaSection& m : media) {
    if (m.mid && *m.mid == mid) return &m;
  }
  return nullptr;
}

MediaSection* SessionDescription::find_media(std::string_view mid) {
  for (MediaSection& m : media) {
    if (m.mid && *m.mid == mid) return &m;
  }
  return nullptr;
}

const Group* SessionDescription::bundle_group() const {
  for (const Group& g : groups) {
    if (g.semantics == "BUNDLE") return &g;
  }
  return nullptr;
}

std::optional<std::string> SessionDescription::effective_ice_ufrag(const MediaSection& m) const {
  return m.ice_ufrag ? m.ice_ufrag : ice_ufrag;
}

std::optional<std::string> SessionDescription::effective_ice_pwd(const MediaSection& m) const {
  return m.ice_pwd ? m.ice_pwd : ice_pwd;
}

const std::vector<Fingerprint>& SessionDescription::effective_fingerprints(const MediaSection& m) const {
  return m.fingerprints.empty() ? fingerprints : m.fingerprints;
}

std::optional<Setup> SessionDescription::effective_setup(const MediaSection& m) const {
  return m.setup ? m.setup : setup;
}

std::string format_candidate(const Candidate& c) {
  if (!c.raw.empty()) return c.raw;
  std::string out = c.foundation + ' ' + std::to_string(c.component) + ' ' + c.transport + ' ' +
                    std::to_string(c.priority) + ' ' + c.address + ' ' + std::to_string(c.port) + " typ " + c.type;
  if (!c.related_address.empty()) out += " raddr " + c.related_address;
  if (c.related_port) out += " rport " + std::to_string(*c.related_port);
  if (!c.tcp_type.empty()) out += " tcptype " + c.tcp_type;
  return out;
}

}  // namespace sfu::signaling::sdp
