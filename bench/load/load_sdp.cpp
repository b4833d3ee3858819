#include "bench/load/load_sdp.hpp"

#include <algorithm>
#include <cctype>

#include "rtp/header_extensions.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::load {

namespace sdp = signaling::sdp;
using server::media::MediaKind;

namespace {

void apply_local(sdp::MediaSection& m, const LocalPcParams& local, sdp::Setup setup) {
  m.connection = sdp::Connection{"IN", "IP4", "0.0.0.0"};
  m.rtcp = "9 IN IP4 0.0.0.0";
  if (local.host) {
    const std::string ip = ice::ip_to_string(*local.host);
    m.connection = sdp::Connection{"IN", "IP4", ip};
    m.port = local.host->port;
    m.rtcp = std::to_string(local.host->port) + " IN IP4 " + ip;
    sdp::Candidate c;
    c.foundation = "1";
    c.component = 1;
    c.transport = "udp";
    c.priority = (126u << 24) | (65535u << 8) | 255u;  // host, RFC 8445 §5.1.2.1
    c.address = ip;
    c.port = local.host->port;
    c.type = "host";
    m.candidates = {c};
    m.end_of_candidates = true;
  }
  m.ice_ufrag = local.ice_ufrag;
  m.ice_pwd = local.ice_pwd;
  m.ice_options = {"trickle"};
  m.fingerprints = {sdp::Fingerprint{"sha-256", dtls::Certificate::format_fingerprint(local.fingerprint)}};
  m.setup = setup;
  m.rtcp_mux = true;
}

sdp::SessionDescription skeleton(const LocalPcParams& local) {
  sdp::SessionDescription sd;
  sd.origin.session_id = local.session_id;
  sd.origin.session_version = 2;
  sd.extmap_allow_mixed = true;
  sd.msid_semantic = sdp::MsidSemantic{"WMS", {"load"}};
  return sd;
}

void add_extmap(sdp::MediaSection& m, uint8_t id, std::string_view uri) {
  if (id != 0) m.extmaps.push_back(sdp::Extmap{id, std::nullopt, std::string(uri), ""});
}

std::vector<sdp::RtcpFeedback> video_feedback() {
  return {{"goog-remb", ""}, {"transport-cc", ""}, {"ccm", "fir"}, {"nack", ""}, {"nack", "pli"}};
}

sdp::SsrcInfo ssrc_info(uint32_t ssrc, const std::string& cname, const std::string& stream, const std::string& track) {
  return sdp::SsrcInfo{ssrc, {{"cname", cname}, {"msid", stream + " " + track}}};
}

// What the audio and video sections of the publisher's offer share: our
// transport, actpass, sendonly, one msid track in `stream`.
sdp::MediaSection sendonly_section(sdp::MediaKind kind, const std::string& mid, std::vector<std::string> formats,
                                   const LocalPcParams& local, const std::string& stream, const char* track) {
  sdp::MediaSection m;
  m.kind = kind;
  m.mid = mid;
  m.formats = std::move(formats);
  apply_local(m, local, sdp::Setup::actpass);
  m.direction = sdp::Direction::sendonly;
  m.msids = {sdp::Msid{stream, track}};
  return m;
}

sdp::MediaSection audio_section(const client::PublisherConfig& config, const LocalPcParams& local,
                                const std::string& stream) {
  const client::ExtensionIds& ext = config.extensions;
  const uint8_t pt = config.audio.payload_type;
  sdp::MediaSection m =
      sendonly_section(sdp::MediaKind::audio, config.audio.mid, {std::to_string(pt)}, local, stream, "audio");
  add_extmap(m, ext.audio_level, rtp::ext::kAudioLevelUri);
  add_extmap(m, ext.abs_send_time, rtp::ext::kAbsSendTimeUri);
  add_extmap(m, ext.transport_cc, rtp::ext::kTransportWideCcUri);
  add_extmap(m, ext.mid, rtp::ext::kMidUri);
  sdp::Codec opus;
  opus.payload_type = pt;
  opus.name = "opus";
  opus.clock_rate = 48000;
  opus.channels = 2;
  opus.feedback = {{"transport-cc", ""}};
  opus.fmtp = "minptime=10;useinbandfec=1";
  opus.params = sdp::parse_params(opus.fmtp);
  m.codecs.push_back(std::move(opus));
  m.ssrcs.push_back(ssrc_info(config.audio.ssrc, config.cname, stream, "audio"));
  return m;
}

sdp::MediaSection video_section(const client::PublisherConfig& config, bool simulcast, const LocalPcParams& local,
                                const std::string& stream) {
  const client::ExtensionIds& ext = config.extensions;
  const uint8_t pt = config.video.payload_type;
  const uint8_t rtx = config.video.rtx_payload_type;
  sdp::MediaSection m = sendonly_section(sdp::MediaKind::video, config.video.mid,
                                         {std::to_string(pt), std::to_string(rtx)}, local, stream, "video");
  add_extmap(m, ext.abs_send_time, rtp::ext::kAbsSendTimeUri);
  add_extmap(m, ext.transport_cc, rtp::ext::kTransportWideCcUri);
  add_extmap(m, ext.mid, rtp::ext::kMidUri);
  add_extmap(m, ext.rid, rtp::ext::kRidUri);
  add_extmap(m, ext.repaired_rid, rtp::ext::kRepairedRidUri);
  m.rtcp_rsize = true;
  sdp::Codec vp8;
  vp8.payload_type = pt;
  vp8.name = "VP8";
  vp8.clock_rate = 90000;
  vp8.feedback = video_feedback();
  m.codecs.push_back(std::move(vp8));
  sdp::Codec rtx_codec;
  rtx_codec.payload_type = rtx;
  rtx_codec.name = "rtx";
  rtx_codec.clock_rate = 90000;
  rtx_codec.fmtp = "apt=" + std::to_string(pt);
  rtx_codec.params = sdp::parse_params(rtx_codec.fmtp);
  m.codecs.push_back(std::move(rtx_codec));
  const auto& layers = config.video.layers;
  if (simulcast && layers.size() > 1) {
    // RFC 8853: rids only, no a=ssrc (what Chrome sends with
    // sendEncodings); the SFU learns the SSRCs from the RID extensions.
    sdp::Simulcast sim;
    for (const auto& l : layers) {
      m.rids.push_back(sdp::Rid{l.rid, sdp::RidDirection::send, "", {}});
      sim.send.push_back({sdp::SimulcastRid{l.rid, false}});
    }
    m.simulcast = std::move(sim);
  } else {
    const auto& l = layers.front();
    if (l.rtx_ssrc) m.ssrc_groups.push_back(sdp::SsrcGroup{"FID", {l.ssrc, l.rtx_ssrc}});
    m.ssrcs.push_back(ssrc_info(l.ssrc, config.cname, stream, "video"));
    if (l.rtx_ssrc) m.ssrcs.push_back(ssrc_info(l.rtx_ssrc, config.cname, stream, "video"));
  }
  return m;
}

}  // namespace

std::string build_publisher_offer(const client::PublisherConfig& config, const PublisherOfferOptions& options,
                                  const LocalPcParams& local) {
  sdp::SessionDescription sd = skeleton(local);
  sdp::Group bundle{"BUNDLE", {}};
  const std::string stream = "load-" + config.cname;
  if (options.audio && config.audio.enabled) sd.media.push_back(audio_section(config, local, stream));
  if (options.video && config.video.enabled && !config.video.layers.empty()) {
    sd.media.push_back(video_section(config, options.simulcast, local, stream));
  }
  for (const auto& m : sd.media) bundle.mids.push_back(*m.mid);
  if (!bundle.mids.empty()) sd.groups.push_back(std::move(bundle));
  return sdp::write_sdp(sd);
}

namespace {

std::optional<RemoteCandidate> candidate_of(const sdp::Candidate& c) {
  std::string transport = c.transport;
  std::transform(transport.begin(), transport.end(), transport.begin(),
                 [](unsigned char ch) { return char(std::toupper(ch)); });
  if (transport != "UDP" || c.component != 1) return std::nullopt;
  const bool v6 = c.address.find(':') != std::string::npos;
  auto addr = ice::parse_address(v6 ? "[" + c.address + "]:" + std::to_string(c.port)
                                    : c.address + ":" + std::to_string(c.port));
  if (!addr) return std::nullopt;  // mDNS names and the like
  return RemoteCandidate{*addr, c.priority};
}

}  // namespace

Result<RemoteTransport, std::string> remote_transport_of(const sdp::SessionDescription& sd) {
  const sdp::MediaSection* first = nullptr;
  for (const auto& m : sd.media) {
    if (m.port != 0) {
      first = &m;
      break;
    }
  }
  if (!first) return fail(std::string("every m-section is rejected"));
  RemoteTransport t;
  auto ufrag = sd.effective_ice_ufrag(*first);
  auto pwd = sd.effective_ice_pwd(*first);
  if (!ufrag || !pwd) return fail(std::string("no ice-ufrag / ice-pwd"));
  t.ice_ufrag = *ufrag;
  t.ice_pwd = *pwd;
  t.ice_lite = sd.ice_lite;
  t.setup = sd.effective_setup(*first);
  bool have_fp = false;
  for (const auto& fp : sd.effective_fingerprints(*first)) {
    if (!sdp::iequals(fp.algorithm, "sha-256")) continue;
    if (auto parsed = dtls::Certificate::parse_fingerprint(fp.value)) {
      t.fingerprint = *parsed;
      have_fp = true;
      break;
    }
  }
  if (!have_fp) return fail(std::string("no sha-256 fingerprint"));
  for (const auto& c : first->candidates) {
    if (auto rc = candidate_of(c)) t.candidates.push_back(*rc);
  }
  if (t.candidates.empty()) {
    const auto& conn = first->connection ? first->connection : sd.connection;
    if (conn) {
      const bool v6 = conn->addr_type == "IP6";
      auto addr = ice::parse_address(v6 ? "[" + conn->address + "]:" + std::to_string(first->port)
                                        : conn->address + ":" + std::to_string(first->port));
      if (addr && first->port != 9 && conn->address != "0.0.0.0") t.candidates.push_back(RemoteCandidate{*addr, 1});
    }
  }
  if (t.candidates.empty()) return fail(std::string("no usable candidate"));
  return t;
}

Result<RemoteTransport, std::string> parse_remote_transport(const std::string& text) {
  auto sd = sdp::parse_sdp(text);
  if (!sd) return fail("unparsable SDP: " + sdp::to_string(sd.error()));
  return remote_transport_of(*sd);
}

namespace {

// The codec a track of this section would use: opus for audio, VP8 for
// video; nullptr when the section offers neither.
const sdp::Codec* usable_codec(const sdp::MediaSection& m) {
  if (m.kind == sdp::MediaKind::audio) return m.find_codec("opus");
  if (m.kind == sdp::MediaKind::video) return m.find_codec("VP8");
  return nullptr;
}

bool is_active_media(const sdp::MediaSection& m) {
  if (m.port == 0 || !m.is_rtp()) return false;
  if (m.kind != sdp::MediaKind::audio && m.kind != sdp::MediaKind::video) return false;
  const auto d = m.effective_direction();
  return (d == sdp::Direction::sendonly || d == sdp::Direction::sendrecv) && usable_codec(m) != nullptr;
}

std::optional<RemoteTrack> track_of(const sdp::MediaSection& m) {
  const sdp::Codec* codec = usable_codec(m);
  if (!codec) return std::nullopt;
  RemoteTrack t;
  t.mid = m.mid.value_or("");
  t.kind = m.kind == sdp::MediaKind::audio ? MediaKind::audio : MediaKind::video;
  t.payload_type = codec->payload_type;
  t.clock_rate = codec->clock_rate;
  if (auto rtx = m.rtx_payload_type(codec->payload_type)) t.rtx_payload_type = *rtx;
  // The media SSRC: the first of a FID group, else the first a=ssrc.
  for (const auto& g : m.ssrc_groups) {
    if (g.semantics == "FID" && g.ssrcs.size() >= 2) {
      t.ssrc = g.ssrcs[0];
      t.rtx_ssrc = g.ssrcs[1];
      break;
    }
  }
  if (t.ssrc == 0 && !m.ssrcs.empty()) t.ssrc = m.ssrcs.front().ssrc;
  if (t.ssrc == 0) return std::nullopt;
  if (t.rtx_payload_type == 0) t.rtx_ssrc = 0;
  if (!m.msids.empty()) {
    t.stream_id = m.msids.front().stream_id;
  } else if (const auto* info = m.find_ssrc(t.ssrc)) {
    if (auto msid = info->attribute("msid")) t.stream_id = std::string(msid->substr(0, msid->find(' ')));
  }
  return t;
}

}  // namespace

Result<RemoteOfferInfo, std::string> parse_remote_offer(const std::string& text) {
  auto sd = sdp::parse_sdp(text);
  if (!sd) return fail("unparsable SDP: " + sdp::to_string(sd.error()));
  RemoteOfferInfo info;
  info.description = std::move(*sd);
  if (auto t = remote_transport_of(info.description)) info.transport = std::move(*t);
  for (const auto& m : info.description.media) {
    if (!is_active_media(m)) continue;
    if (auto t = track_of(m)) {
      info.tracks.push_back(std::move(*t));
      for (const auto& e : m.extmaps) {
        if (e.uri == rtp::ext::kTransportWideCcUri && e.id > 0 && e.id < 15) info.transport_cc_ext_id = uint8_t(e.id);
      }
    }
  }
  return info;
}

namespace {

bool understood_extension(std::string_view uri) {
  return uri == rtp::ext::kAudioLevelUri || uri == rtp::ext::kAbsSendTimeUri || uri == rtp::ext::kTransportWideCcUri ||
         uri == rtp::ext::kMidUri || uri == rtp::ext::kRidUri || uri == rtp::ext::kRepairedRidUri;
}

// Offered codecs we accept: opus, VP8 and the rtx of an accepted codec.
std::vector<sdp::Codec> accepted_codecs(const sdp::MediaSection& offered) {
  std::vector<sdp::Codec> out;
  for (const auto& c : offered.codecs) {
    if (sdp::iequals(c.name, "opus") || sdp::iequals(c.name, "VP8")) out.push_back(c);
  }
  for (const auto& c : offered.codecs) {
    if (!sdp::iequals(c.name, "rtx")) continue;
    auto apt = c.param("apt");
    if (!apt) continue;
    for (const auto& a : out) {
      if (std::to_string(a.payload_type) == *apt) {
        out.push_back(c);
        break;
      }
    }
  }
  return out;
}

}  // namespace

std::string build_receive_answer(const sdp::SessionDescription& offer, const LocalPcParams& local) {
  sdp::SessionDescription sd = skeleton(local);
  sdp::Group bundle{"BUNDLE", {}};
  for (const auto& om : offer.media) {
    sdp::MediaSection m;
    m.kind = om.kind;
    m.other_kind = om.other_kind;
    m.protocol = om.protocol;
    m.mid = om.mid;
    const bool rtp_media = (om.kind == sdp::MediaKind::audio || om.kind == sdp::MediaKind::video) && om.is_rtp();
    std::vector<sdp::Codec> codecs = rtp_media ? accepted_codecs(om) : std::vector<sdp::Codec>{};
    if (om.port == 0 || !rtp_media || codecs.empty()) {
      // Rejected (RFC 8829 §5.3.1): port 0, the offered formats echoed.
      m.port = 0;
      m.formats = om.formats;
      if (m.formats.empty()) m.formats = {"0"};
      m.connection = sdp::Connection{"IN", "IP4", "0.0.0.0"};
      if (rtp_media) m.direction = sdp::Direction::inactive;
      sd.media.push_back(std::move(m));
      continue;
    }
    apply_local(m, local, sdp::Setup::active);
    for (const auto& c : codecs) m.formats.push_back(std::to_string(c.payload_type));
    m.codecs = std::move(codecs);
    for (const auto& e : om.extmaps) {
      if (understood_extension(e.uri)) m.extmaps.push_back(sdp::Extmap{e.id, std::nullopt, e.uri, ""});
    }
    const auto d = om.effective_direction();
    m.direction = (d == sdp::Direction::sendonly || d == sdp::Direction::sendrecv) ? sdp::Direction::recvonly
                                                                                    : sdp::Direction::inactive;
    m.rtcp_rsize = om.rtcp_rsize;
    if (m.mid) bundle.mids.push_back(*m.mid);
    sd.media.push_back(std::move(m));
  }
  if (!bundle.mids.empty()) sd.groups.push_back(std::move(bundle));
  return sdp::write_sdp(sd);
}

}  // namespace sfu::load
