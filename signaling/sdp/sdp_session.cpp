#include "signaling/sdp/sdp_session.hpp"

#include <algorithm>

#include "rtp/header_extensions.hpp"

namespace sfu::signaling {

sdp::SessionDescription session_skeleton(uint64_t session_id, uint64_t version) {
  sdp::SessionDescription sd;
  sd.origin.session_id = session_id;
  sd.origin.session_version = version;
  sd.ice_lite = true;
  sd.msid_semantic = sdp::MsidSemantic{"WMS", {"*"}};
  sd.extmap_allow_mixed = true;
  return sd;
}

void apply_transport(sdp::MediaSection& m, const server::TransportInfo& t, sdp::Setup setup) {
  m.ice_ufrag = t.local_ice.ufrag;
  m.ice_pwd = t.local_ice.pwd;
  m.fingerprints = {sdp::Fingerprint{"sha-256", t.fingerprint}};
  m.setup = setup;
  m.rtcp_mux = true;
  m.candidates.clear();
  for (const auto& c : t.candidates) {
    sdp::Candidate sc;
    const std::string line = c.to_sdp();
    sc.raw = line.substr(std::string_view("candidate:").size());
    m.candidates.push_back(std::move(sc));
  }
  m.end_of_candidates = true;
  // The m-line port and c-line: the first UDP candidate (RFC 8839 §4.2.1.1 default).
  for (const auto& c : t.candidates) {
    if (c.protocol != ice::CandidateProtocol::udp) continue;
    if (m.port != 0) m.port = c.address.port;
    m.connection = sdp::Connection{"IN", c.address.is_ipv4() ? "IP4" : "IP6", ice::ip_to_string(c.address)};
    break;
  }
}

std::optional<RemoteTransport> remote_transport(const sdp::SessionDescription& sd, const sdp::MediaSection& m) {
  auto ufrag = sd.effective_ice_ufrag(m);
  auto pwd = sd.effective_ice_pwd(m);
  if (!ufrag || !pwd) return std::nullopt;
  for (const auto& fp : sd.effective_fingerprints(m)) {
    std::string alg = fp.algorithm;
    std::transform(alg.begin(), alg.end(), alg.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (alg != "sha-256") continue;
    auto parsed = dtls::Certificate::parse_fingerprint(fp.value);
    if (parsed) return RemoteTransport{*ufrag, *pwd, *parsed};
  }
  return std::nullopt;
}

void write_removed_section(sdp::MediaSection& m, bool audio, const server::TransportInfo& t) {
  const auto& caps = sdp::server_codec_capabilities();
  for (const auto& cap : caps) {
    if (cap.kind != (audio ? sdp::MediaKind::audio : sdp::MediaKind::video)) continue;
    auto codecs = sdp::capability_codecs(cap);
    if (codecs.empty()) continue;
    m.formats = {std::to_string(codecs.front().payload_type)};
    m.codecs = {codecs.front()};
    break;
  }
  apply_transport(m, t, sdp::Setup::actpass);
  m.port = 0;
  m.connection = sdp::Connection{"IN", "IP4", "0.0.0.0"};
  m.candidates.clear();
  m.end_of_candidates = false;
  m.direction = sdp::Direction::inactive;
}

bool is_data_section(const sdp::MediaSection& m) {
  return m.kind == sdp::MediaKind::application && m.protocol.find("SCTP") != std::string::npos &&
         std::find(m.formats.begin(), m.formats.end(), "webrtc-datachannel") != m.formats.end();
}

server::media::Codec codec_of(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (n == "opus") return server::media::Codec::opus;
  if (n == "vp8") return server::media::Codec::vp8;
  if (n == "vp9") return server::media::Codec::vp9;
  if (n == "h264") return server::media::Codec::h264;
  return server::media::Codec::other;
}

std::vector<server::media::CodecInfo> codec_infos(const std::vector<sdp::AcceptedCodec>& accepted) {
  std::vector<server::media::CodecInfo> out;
  for (const auto& a : accepted) {
    server::media::CodecInfo c{codec_of(a.codec.name), a.codec.payload_type, a.codec.clock_rate, std::nullopt};
    if (a.rtx) c.rtx_payload_type = a.rtx->payload_type;
    out.push_back(c);
  }
  return out;
}

std::vector<server::media::CodecInfo> subscriber_codec_infos(const std::vector<sdp::AcceptedCodec>& accepted) {
  const auto& caps = sdp::server_codec_capabilities();
  std::vector<server::media::CodecInfo> out;
  for (const auto& a : accepted) {
    const auto& cap = caps.at(a.capability);
    server::media::CodecInfo c{codec_of(cap.name), cap.payload_type, cap.clock_rate, std::nullopt};
    if (cap.rtx) c.rtx_payload_type = cap.rtx_payload_type;
    out.push_back(c);
  }
  return out;
}

server::ExtensionIds extension_ids(const std::vector<sdp::Extmap>& extmaps) {
  server::ExtensionIds ids;
  for (const auto& e : extmaps) {
    if (e.id > 255) continue;
    const auto id = uint8_t(e.id);
    if (e.uri == rtp::ext::kMidUri) ids.mid = id;
    else if (e.uri == rtp::ext::kRidUri) ids.rid = id;
    else if (e.uri == rtp::ext::kRepairedRidUri) ids.repaired_rid = id;
    else if (e.uri == rtp::ext::kAbsSendTimeUri) ids.abs_send_time = id;
    else if (e.uri == rtp::ext::kTransportWideCcUri) ids.transport_cc = id;
    else if (e.uri == rtp::ext::kAudioLevelUri) ids.audio_level = id;
  }
  return ids;
}

}  // namespace sfu::signaling
