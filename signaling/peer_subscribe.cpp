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

void Peer::on_producer_added(const std::shared_ptr<ProducerEntry>& p) {
  if (!left_ && auto_subscribe_ && grants_.subscribe) want(p);
}

void Peer::on_producer_removed(const std::shared_ptr<ProducerEntry>& p) { unwant(p->id); }

void Peer::on_producer_paused(const ProducerEntry& p, bool paused) {
  notify(paused ? "producerPaused" : "producerResumed", Json{{"producerId", p.id}, {"peerId", p.peer_id}});
}

bool Peer::want(const std::shared_ptr<ProducerEntry>& p) {
  if (p->peer_id == id_ || wanted_.contains(p->id)) return true;
  if (sections_.live() >= ctx_.rooms.limits().max_consumers_per_peer) return false;
  wanted_.insert(p->id);
  sections_.ensure_application();
  SubscriberSection& s = sections_.add();
  s.kind = p->kind;
  s.producer = p;
  s.consumer_id = ctx_.rooms.ids().next("c");
  s.consumer_num = ctx_.rooms.ids().next_number();
  s.ssrc = ctx_.rooms.ids().random_u32();
  if (p->kind == server::media::MediaKind::video) s.rtx_ssrc = ctx_.rooms.ids().random_u32();
  sections_.mark_changed();
  schedule_negotiation();
  return true;
}

void Peer::unwant(const std::string& producer_id) {
  if (!wanted_.erase(producer_id)) return;
  sections_.remove_producer(producer_id, [&](const SubscriberSection& s) {
    if (sub_transport_ && room_) ctx_.rooms.media().close_consumer(room_->id(), s.consumer_num);
  });
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
    if (sections_.live() + added > ctx_.rooms.limits().max_consumers_per_peer)
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
  if (left_ || !room_ || sections_.offer_outstanding() || !sections_.changed()) return;
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
  for (SubscriberSection* s : sections_.accepted(answer)) {
    server::ConsumerSpec spec;
    spec.id = s->consumer_num;
    spec.producer = s->producer->num;
    spec.transport = sub_transport_->id;
    spec.ssrc = s->ssrc;
    spec.rtx_ssrc = s->rtx_ssrc;
    spec.codecs = subscriber_codec_infos(s->producer->codecs);
    spec.paused = s->paused;
    spec.preferred_spatial = s->preferred_spatial;
    spec.preferred_temporal = s->preferred_temporal;
    spec.mid = s->mid;
    media.add_consumer(room_->id(), spec, [](bool) {});
    s->created = true;
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

// The offer itself is built without I/O (SubscriberSections::make_offer).
void Peer::send_offer() {
  SubscriberSections::Offer offer = sections_.make_offer(room_->id() * 1000003 + 2, *sub_transport_);
  Json params = Json::object();
  params["sdp"] = sdp::write_sdp(offer.description);
  params["consumers"] = std::move(offer.consumers);
  notify("subscriberOffer", params);
  answer_timer_.expires_after(ctx_.rooms.limits().negotiation_timeout);
  answer_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
    if (!ec && !alive.expired()) on_negotiation_timeout();
  });
}

void Peer::on_negotiation_timeout() {
  if (!sections_.offer_outstanding()) return;
  log::warn("negotiation timeout", {{"room", room_ ? room_->name() : ""},
                                    {"peer", id_},
                                    {"transport", sub_transport_ ? sub_transport_->id : 0},
                                    {"offer", sections_.offer_version()}});
  kick("negotiation_timeout");
}

void Peer::subscriber_answer(const Json& params, const Reply& reply) {
  require_joined();
  const std::string& text = require_string(params, "sdp");
  if (!sections_.offer_outstanding()) throw RpcError{RpcCode::bad_state, "no subscriberOffer is outstanding"};
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
  sections_.answered();
  answer_timer_.cancel();
  reply.ok(Json::object());
  if (sections_.changed()) schedule_negotiation();
}

Json Peer::set_preferred_layers(const Json& params) {
  require_joined();
  const std::string& cid = require_string(params, "consumerId");
  const int spatial = int(require_int(params, "spatialLayer", 0, 2));
  int temporal = 2;
  if (params.contains("temporalLayer") && !params["temporalLayer"].is_null())
    temporal = int(require_int(params, "temporalLayer", 0, 3));
  SubscriberSection* s = sections_.find(cid);
  if (!s) throw RpcError{RpcCode::not_found, "unknown consumer"};
  s->preferred_spatial = spatial;  // for a consumer not created yet (answer pending)
  s->preferred_temporal = temporal;
  ctx_.rooms.media().set_preferred_layers(room_->id(), s->consumer_num, spatial, temporal);
  return Json::object();
}

Json Peer::pause_consumer(const Json& params, bool pause) {
  require_joined();
  SubscriberSection* s = sections_.find(require_string(params, "consumerId"));
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
  if (!sub_transport_ || sections_.offer_version() == 0) return Json::object();  // nothing offered yet: a no-op
  ctx_.rooms.media().restart_ice(room_->id(), sub_transport_->id,
                                 [this, alive = std::weak_ptr<bool>(alive_)](std::optional<ice::IceCredentials> creds) {
                                   if (alive.expired() || !creds || !sub_transport_) return;
                                   sub_transport_->local_ice = *creds;
                                   sections_.mark_changed();
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
  for (const auto& s : sections_.sections())
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
