#include "signaling/subscriber_sections.hpp"

#include <algorithm>

#include "signaling/sdp/sdp_negotiation.hpp"
#include "signaling/sdp/sdp_session.hpp"

namespace sfu::signaling {

namespace {
const char* kind_name(server::media::MediaKind k) { return k == server::media::MediaKind::audio ? "audio" : "video"; }
}  // namespace

void SubscriberSections::ensure_application() {
  if (!sections_.empty()) return;
  SubscriberSection app;
  app.mid = "0";
  app.application = true;
  sections_.push_back(std::move(app));
}

SubscriberSection& SubscriberSections::add() {
  SubscriberSection* slot = nullptr;
  for (auto& s : sections_)
    if (!s.application && s.closed && (s.reusable || s.known_mid.empty())) {
      slot = &s;
      break;
    }
  if (!slot) slot = &sections_.emplace_back();
  SubscriberSection fresh;
  fresh.known_mid = std::move(slot->known_mid);
  fresh.mid = std::to_string(next_mid_++);
  *slot = std::move(fresh);
  return *slot;
}

size_t SubscriberSections::live() const {
  return size_t(std::count_if(sections_.begin(), sections_.end(),
                              [](const SubscriberSection& s) { return !s.application && !s.closed; }));
}

void SubscriberSections::close(SubscriberSection& s) {
  s.closed = true;
  s.producer.reset();
  changed_ = true;
  if (s.mid != s.known_mid && !s.known_mid.empty()) {
    // A recycled section whose consumer never reached the client: the
    // position is back to what the client has, removed and answered.
    s.mid = s.known_mid;
    s.reusable = true;
  }
}

SubscriberSection* SubscriberSections::find(const std::string& consumer_id) {
  for (auto& s : sections_)
    if (!s.closed && !s.application && s.consumer_id == consumer_id) return &s;
  return nullptr;
}

SubscriberSections::Offer SubscriberSections::make_offer(uint64_t session_id, const server::TransportInfo& transport) {
  // A consumer added and removed in a new section between two offers never
  // reached the client: that section goes.
  std::erase_if(sections_, [](const SubscriberSection& s) { return s.closed && s.known_mid.empty() && !s.application; });
  Offer out;
  sdp::SessionDescription& offer = out.description;
  offer = session_skeleton(session_id, ++offer_version_);
  sdp::Group bundle{"BUNDLE", {}};
  const auto& caps = sdp::server_codec_capabilities();
  for (auto& s : sections_) {
    sdp::MediaSection m;
    m.kind = s.kind == server::media::MediaKind::audio ? sdp::MediaKind::audio : sdp::MediaKind::video;
    m.mid = s.mid;
    if (s.application) {
      m.kind = sdp::MediaKind::application;
      m.protocol = "UDP/DTLS/SCTP";
      m.formats = {"webrtc-datachannel"};
      m.sctp_port = 5000;
      m.max_message_size = 262144;
      apply_transport(m, transport, sdp::Setup::actpass);
      m.rtcp_mux = false;
      bundle.mids.push_back(s.mid);
      offer.media.push_back(std::move(m));
      continue;
    }
    if (s.closed) {
      if (!s.closed_in_offer) s.closed_in_offer = offer_version_;
      write_removed_section(m, s.kind == server::media::MediaKind::audio, transport);
      offer.media.push_back(std::move(m));
      continue;
    }
    s.known_mid = s.mid;
    // One format per capability: a publisher may offer two H264 profiles the
    // server serves as one (they share our payload type).
    std::vector<size_t> seen;
    for (const auto& a : s.producer->codecs) {
      if (std::find(seen.begin(), seen.end(), a.capability) != seen.end()) continue;
      seen.push_back(a.capability);
      for (auto& c : sdp::capability_codecs(caps.at(a.capability))) {
        m.formats.push_back(std::to_string(c.payload_type));
        m.codecs.push_back(std::move(c));
      }
    }
    for (const auto& e : sdp::server_header_extensions()) {
      const bool audio = s.kind == server::media::MediaKind::audio;
      if ((audio && !e.audio) || (!audio && !e.video)) continue;
      if (e.uri.find("stream-id") != std::string::npos) continue;  // rid/repaired-rid: one stream per consumer
      m.extmaps.push_back(sdp::Extmap{e.id, std::nullopt, e.uri, ""});
    }
    m.direction = sdp::Direction::sendonly;
    m.rtcp_rsize = true;
    m.msids = {sdp::Msid{s.producer->peer_id, s.producer->id}};
    const std::string cname = s.producer->peer_id;
    if (s.rtx_ssrc) m.ssrc_groups.push_back(sdp::SsrcGroup{"FID", {s.ssrc, s.rtx_ssrc}});
    for (uint32_t ssrc : {s.ssrc, s.rtx_ssrc}) {
      if (!ssrc) continue;
      m.ssrcs.push_back(sdp::SsrcInfo{ssrc, {{"cname", cname}, {"msid", s.producer->peer_id + " " + s.producer->id}}});
    }
    apply_transport(m, transport, sdp::Setup::actpass);
    bundle.mids.push_back(s.mid);
    Json c = Json::object();
    c["consumerId"] = s.consumer_id;
    c["producerId"] = s.producer->id;
    c["peerId"] = s.producer->peer_id;
    c["kind"] = kind_name(s.kind);
    c["mid"] = s.mid;
    out.consumers.push_back(c);
    offer.media.push_back(std::move(m));
  }
  if (!bundle.mids.empty()) offer.groups.push_back(bundle);
  changed_ = false;
  outstanding_ = true;
  return out;
}

std::vector<SubscriberSection*> SubscriberSections::accepted(const sdp::SessionDescription& answer) {
  std::vector<SubscriberSection*> out;
  for (auto& s : sections_) {
    if (s.closed || s.created || s.application || s.known_mid != s.mid) continue;
    const bool ok = std::any_of(answer.media.begin(), answer.media.end(), [&](const sdp::MediaSection& m) {
      return m.mid && *m.mid == s.mid && m.port != 0;
    });
    if (ok) out.push_back(&s);
  }
  return out;
}

void SubscriberSections::answered() {
  outstanding_ = false;
  for (auto& s : sections_)
    if (s.closed && s.closed_in_offer && s.closed_in_offer <= offer_version_) s.reusable = true;
}

}  // namespace sfu::signaling
