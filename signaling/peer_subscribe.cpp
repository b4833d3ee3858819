// The server-owned subscriber connection: consumers, subscriberOffer /
// subscriberAnswer negotiation, and the per-consumer and per-producer
// controls.
#include <algorithm>

#include "common/log.hpp"
#include "signaling/peer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_session.hpp"
#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::signaling {

namespace {
const char* kind_name(server::media::MediaKind k) { return k == server::media::MediaKind::audio ? "audio" : "video"; }
}  // namespace

void Peer::on_producer_added(const std::shared_ptr<ProducerEntry>& p) {
  if (!left_ && auto_subscribe_ && grants_.subscribe) want(p);
}

void Peer::on_producer_removed(const std::shared_ptr<ProducerEntry>& p) { unwant(p->id); }

void Peer::on_producer_paused(const ProducerEntry& p, bool paused) {
  notify(paused ? "producerPaused" : "producerResumed", Json{{"producerId", p.id}, {"peerId", p.peer_id}});
}

bool Peer::want(const std::shared_ptr<ProducerEntry>& p) {
  if (p->peer_id == id_ || wanted_.contains(p->id)) return true;
  if (live_consumers() >= ctx_.rooms.limits().max_consumers_per_peer) return false;
  wanted_.insert(p->id);
  ensure_application_section();
  SubscriberSection& s = section_for_new_consumer();
  s.kind = p->kind;
  s.producer = p;
  s.consumer_id = ctx_.rooms.ids().next("c");
  s.consumer_num = ctx_.rooms.ids().next_number();
  s.ssrc = ctx_.rooms.ids().random_u32();
  if (p->kind == server::media::MediaKind::video) s.rtx_ssrc = ctx_.rooms.ids().random_u32();
  dirty_ = true;
  schedule_negotiation();
  return true;
}

// A reusable section (its removal answered) or one the client has never
// seen, else a new one at the end; always with a fresh mid and nothing of
// the old consumer but the position's known mid.
SubscriberSection& Peer::section_for_new_consumer() {
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

size_t Peer::live_consumers() const {
  return size_t(std::count_if(sections_.begin(), sections_.end(),
                              [](const SubscriberSection& s) { return !s.application && !s.closed; }));
}

void Peer::ensure_application_section() {
  if (!sections_.empty()) return;
  // The first m-line is the SCTP (data channel) section and is never
  // rejected, so the BUNDLE tag stays the same when every consumer is gone
  // (a max-bundle client needs a group, and Chrome rebuilds its DTLS
  // transport when the tag moves). Sections keep order and mids (JSEP).
  SubscriberSection app;
  app.mid = "0";
  app.application = true;
  sections_.push_back(std::move(app));
}

void Peer::unwant(const std::string& producer_id) {
  if (!wanted_.erase(producer_id)) return;
  for (auto& s : sections_) {
    if (s.closed || s.application || !s.producer || s.producer->id != producer_id) continue;
    if (sub_transport_ && room_) ctx_.rooms.media().close_consumer(room_->id(), s.consumer_num);
    s.closed = true;
    s.producer.reset();
    dirty_ = true;
    if (s.mid != s.known_mid && !s.known_mid.empty()) {
      // A recycled section whose consumer never reached the client: the
      // position is back to what the client has, removed and answered.
      s.mid = s.known_mid;
      s.reusable = true;
    }
  }
  schedule_negotiation();
}

Json Peer::subscribe(const Json& params, bool subscribe) {
  require_joined();
  if (subscribe) require_grant(grants_.subscribe, "subscribe");
  // producerIds and/or dataProducerIds; every id is checked before any change.
  auto ids = params.find("producerIds");
  auto data_ids = params.find("dataProducerIds");
  auto valid_list = [](const Json& v) {
    return v.is_array() && v.size() <= 1000 && std::all_of(v.begin(), v.end(), [](const Json& x) { return x.is_string(); });
  };
  if ((ids == params.end() && data_ids == params.end()) || (ids != params.end() && !valid_list(*ids)) ||
      (data_ids != params.end() && !valid_list(*data_ids)))
    throw RpcError{RpcCode::invalid_params, "producerIds / dataProducerIds must be arrays of strings"};
  std::vector<std::shared_ptr<ProducerEntry>> found;
  if (ids != params.end()) {
    for (const auto& id : *ids) {
      auto p = room_->find_producer(id.get<std::string>());
      if (!p && room_->remote().has_producer(id.get<std::string>()))
        throw RpcError{RpcCode::not_found, "producer " + id.get<std::string>() +
                                               " is on another node: consuming across nodes is not supported yet"};
      if (!p || p->peer_id == id_) throw RpcError{RpcCode::not_found, "unknown producer " + id.get<std::string>()};
      found.push_back(p);
    }
  }
  std::vector<std::shared_ptr<DataProducerEntry>> found_data;
  if (data_ids != params.end()) {
    for (const auto& id : *data_ids) {
      auto it = room_->data_producers().find(id.get<std::string>());
      if (it == room_->data_producers().end() || it->second->peer_id == id_)
        throw RpcError{RpcCode::not_found, "unknown data producer " + id.get<std::string>()};
      found_data.push_back(it->second);
    }
  }
  if (subscribe) {
    size_t added = 0;
    for (const auto& p : found) added += wanted_.contains(p->id) ? 0 : 1;
    if (live_consumers() + added > ctx_.rooms.limits().max_consumers_per_peer)
      throw RpcError{RpcCode::consumer_limit, "more than " +
                                                  std::to_string(ctx_.rooms.limits().max_consumers_per_peer) +
                                                  " consumers; unsubscribe from others first"};
  }
  for (const auto& p : found) subscribe ? (void)want(p) : unwant(p->id);
  for (const auto& dp : found_data) subscribe ? want_data(dp) : unwant_data(dp->id);
  return Json::object();
}

// Changes are folded: one negotiation at most every 50 ms, and never while
// an offer is outstanding (PROTOCOL.md "Session flow" 3).
void Peer::schedule_negotiation() {
  if (negotiation_scheduled_ || left_) return;
  negotiation_scheduled_ = true;
  negotiation_timer_.expires_after(std::chrono::milliseconds(50));
  negotiation_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    negotiation_scheduled_ = false;
    negotiate();
  });
}

void Peer::negotiate() {
  if (left_ || !room_ || offer_outstanding_ || !dirty_) return;
  if (!sub_transport_) return ensure_subscriber_transport();
  send_offer();
}

// Consumers exist on the router only once the subscriber's answer has
// accepted their section: no RTP before the client knows the SSRC and mid
// (a browser would route an unknown SSRC to the wrong receiver), and the
// router then holds them until the transport is connected and asks for a
// key frame at once (router.hpp).
void Peer::create_accepted_consumers(const sdp::SessionDescription& answer) {
  auto& media = ctx_.rooms.media();
  for (auto& s : sections_) {
    if (s.closed || s.created || s.application || s.known_mid != s.mid) continue;
    const bool accepted = std::any_of(answer.media.begin(), answer.media.end(), [&](const sdp::MediaSection& m) {
      return m.mid && *m.mid == s.mid && m.port != 0;
    });
    if (!accepted) continue;
    server::ConsumerSpec spec;
    spec.id = s.consumer_num;
    spec.producer = s.producer->num;
    spec.transport = sub_transport_->id;
    spec.ssrc = s.ssrc;
    spec.rtx_ssrc = s.rtx_ssrc;
    spec.codecs = subscriber_codec_infos(s.producer->codecs);
    spec.paused = s.paused;
    spec.preferred_spatial = s.preferred_spatial;
    spec.preferred_temporal = s.preferred_temporal;
    spec.mid = s.mid;
    media.add_consumer(room_->id(), spec, [](bool) {});
    s.created = true;
  }
}

void Peer::ensure_subscriber_transport() {
  if (sub_transport_pending_) return;
  sub_transport_pending_ = true;
  // The remote parameters come with the first answer.
  ctx_.rooms.media().create_transport(
      room_->id(), server::TransportSpec{"", "", {}, false},
      [this, alive = std::weak_ptr<bool>(alive_), media = &ctx_.rooms.media(),
       room = room_->id()](std::optional<server::TransportInfo> t) {
        if (alive.expired() || left_) {  // gone meanwhile: nobody else will close it
          if (t) media->close_transport(room, t->id);
          return;
        }
        sub_transport_pending_ = false;
        if (!t) return kick("transport_failed");
        sub_transport_ = *t;
        negotiate();
      });
}

void Peer::send_offer() {
  // A consumer added and removed in a new section between two offers never
  // reached the client: that section goes. New sections all sit after the
  // ones the client knows, so no known m-line moves (JSEP §5.2.2, and
  // Chrome's "order of m-lines" check).
  std::erase_if(sections_, [](const SubscriberSection& s) { return s.closed && s.known_mid.empty() && !s.application; });
  sdp::SessionDescription offer = session_skeleton(room_->id() * 1000003 + 2, ++offer_version_);
  sdp::Group bundle{"BUNDLE", {}};
  Json consumers = Json::array();
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
      apply_transport(m, *sub_transport_, sdp::Setup::actpass);
      m.rtcp_mux = false;
      bundle.mids.push_back(s.mid);
      offer.media.push_back(std::move(m));
      continue;
    }
    if (s.closed) {
      if (!s.closed_in_offer) s.closed_in_offer = offer_version_;
      write_removed_section(m, s.kind == server::media::MediaKind::audio, *sub_transport_);
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
    apply_transport(m, *sub_transport_, sdp::Setup::actpass);
    bundle.mids.push_back(s.mid);
    Json c = Json::object();
    c["consumerId"] = s.consumer_id;
    c["producerId"] = s.producer->id;
    c["peerId"] = s.producer->peer_id;
    c["kind"] = kind_name(s.kind);
    c["mid"] = s.mid;
    consumers.push_back(c);
    offer.media.push_back(std::move(m));
  }
  if (!bundle.mids.empty()) offer.groups.push_back(bundle);
  dirty_ = false;
  offer_outstanding_ = true;
  Json params = Json::object();
  params["sdp"] = sdp::write_sdp(offer);
  params["consumers"] = consumers;
  notify("subscriberOffer", params);
  answer_timer_.expires_after(ctx_.rooms.limits().negotiation_timeout);
  answer_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (!ec && !alive.expired()) on_negotiation_timeout();
  });
}

void Peer::on_negotiation_timeout() {
  if (offer_outstanding_)
    log::warn("negotiation timeout", {{"room", room_ ? room_->name() : ""},
                                      {"peer", id_},
                                      {"transport", sub_transport_ ? sub_transport_->id : 0},
                                      {"offer", offer_version_}});
  if (offer_outstanding_) kick("negotiation_timeout");
}

void Peer::subscriber_answer(const Json& params, const Reply& reply) {
  require_joined();
  const std::string& text = require_string(params, "sdp");
  if (!offer_outstanding_) throw RpcError{RpcCode::bad_state, "no subscriberOffer is outstanding"};
  auto answer = sdp::parse_sdp(text);
  if (!answer) throw RpcError{RpcCode::bad_sdp, "unparsable SDP: " + sdp::to_string(answer.error())};
  const sdp::MediaSection* first = nullptr;
  for (const auto& m : answer->media)
    if (m.port != 0 && !first) first = &m;
  if (first) {
    auto remote = remote_transport(*answer, *first);
    if (!remote) throw RpcError{RpcCode::bad_sdp, "the answer lacks ice-ufrag, ice-pwd or a sha-256 fingerprint"};
    if (!sub_remote_known_ || remote->ufrag != sub_remote_ufrag_) {
      sub_remote_known_ = true;
      sub_remote_ufrag_ = remote->ufrag;
      ctx_.rooms.media().set_remote_parameters(room_->id(), sub_transport_->id,
                                               server::TransportSpec{remote->ufrag, remote->pwd, remote->fingerprint, false});
    }
    on_subscriber_data_answer(*answer);
    create_accepted_consumers(*answer);
  }
  offer_outstanding_ = false;
  answer_timer_.cancel();
  // Sections whose removal this answer accepted are free for new consumers.
  for (auto& s : sections_)
    if (s.closed && s.closed_in_offer && s.closed_in_offer <= offer_version_) s.reusable = true;
  reply.ok(Json::object());
  if (dirty_) schedule_negotiation();
}

SubscriberSection* Peer::find_section(const std::string& consumer_id) {
  for (auto& s : sections_)
    if (!s.closed && !s.application && s.consumer_id == consumer_id) return &s;
  return nullptr;
}

Json Peer::set_preferred_layers(const Json& params) {
  require_joined();
  const std::string& cid = require_string(params, "consumerId");
  const int spatial = int(require_int(params, "spatialLayer", 0, 2));
  int temporal = 2;
  if (params.contains("temporalLayer") && !params["temporalLayer"].is_null())
    temporal = int(require_int(params, "temporalLayer", 0, 3));
  SubscriberSection* s = find_section(cid);
  if (!s) throw RpcError{RpcCode::not_found, "unknown consumer"};
  s->preferred_spatial = spatial;  // for a consumer not created yet (answer pending)
  s->preferred_temporal = temporal;
  ctx_.rooms.media().set_preferred_layers(room_->id(), s->consumer_num, spatial, temporal);
  return Json::object();
}

Json Peer::pause_consumer(const Json& params, bool pause) {
  require_joined();
  SubscriberSection* s = find_section(require_string(params, "consumerId"));
  if (!s) throw RpcError{RpcCode::not_found, "unknown consumer"};
  s->paused = pause;
  ctx_.rooms.media().set_consumer_paused(room_->id(), s->consumer_num, pause);
  return Json::object();
}

Json Peer::producer_op(const Json& params, const std::string& op) {
  require_joined();
  const std::string& pid = require_string(params, "producerId");
  auto entry = room_->find_producer(pid);
  if (!entry || entry->peer_id != id_) throw RpcError{RpcCode::not_found, "not one of your producers"};
  if (op == "closeProducer") {
    close_producer(pid, true);
    return Json::object();
  }
  const bool pause = op == "pauseProducer";
  if (!pause && entry->admin_muted) throw RpcError{RpcCode::forbidden, "muted by an administrator", "admin_muted"};
  entry->owner_paused = pause;
  update_producer_paused(*entry, false);
  return Json::object();
}

void Peer::update_producer_paused(ProducerEntry& entry, bool tell_owner) {
  const bool pause = entry.owner_paused || entry.admin_muted;
  if (entry.paused == pause) return;
  entry.paused = pause;
  ctx_.rooms.media().set_producer_paused(room_->id(), entry.num, pause);
  for (Peer* other : room_->peers())
    if (other != this || tell_owner) other->on_producer_paused(entry, pause);
  if (room_->cluster())
    room_->cluster()->local_event(*room_, pause ? "producerPaused" : "producerResumed",
                                  Json{{"producerId", entry.id}, {"peerId", entry.peer_id}});
}

Json Peer::restart_ice() {
  require_joined();
  if (!sub_transport_ || offer_version_ == 0) return Json::object();  // nothing offered yet: a no-op
  ctx_.rooms.media().restart_ice(room_->id(), sub_transport_->id,
                                 [this, alive = std::weak_ptr<bool>(alive_)](std::optional<ice::IceCredentials> creds) {
                                   if (alive.expired() || !creds || !sub_transport_) return;
                                   sub_transport_->local_ice = *creds;
                                   dirty_ = true;
                                   schedule_negotiation();
                                 });
  return Json::object();
}

void Peer::get_stats(const Reply& reply) {
  require_joined();
  std::vector<server::TransportId> transports;
  if (pub_transport_) transports.push_back(pub_transport_->id);
  if (sub_transport_) transports.push_back(sub_transport_->id);
  std::vector<server::ProducerId> producers;
  std::map<server::ProducerId, std::string> producer_ids;
  for (const auto& pid : my_producers_)
    if (auto e = room_->find_producer(pid)) {
      producers.push_back(e->num);
      producer_ids[e->num] = e->id;
    }
  std::vector<server::ConsumerId> consumers;
  std::map<server::ConsumerId, std::string> consumer_ids;
  for (const auto& s : sections_)
    if (!s.closed && !s.application) {
      consumers.push_back(s.consumer_num);
      consumer_ids[s.consumer_num] = s.consumer_id;
    }
  const auto pub = pub_transport_ ? pub_transport_->id : 0;
  ctx_.rooms.media().get_stats(
      room_->id(), transports, producers, consumers,
      [reply, producer_ids, consumer_ids, pub](server::PeerStats st) { reply.ok(stats_to_json(st, pub, producer_ids, consumer_ids)); });
}

}  // namespace sfu::signaling
