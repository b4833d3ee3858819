#include "signaling/subscriber_connection.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "signaling/peer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_session.hpp"
#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::signaling {

namespace {

Json data_consumer_json(const std::string& consumer_id, const DataProducerEntry& dp) {
  Json j = Json::object();
  j["dataConsumerId"] = consumer_id;
  j["dataProducerId"] = dp.id;
  j["peerId"] = dp.peer_id;
  j["label"] = dp.label;
  return j;
}

}  // namespace

SubscriberConnection::SubscriberConnection(Peer& peer, boost::asio::io_context& io)
    : peer_(peer), negotiation_timer_(io), answer_timer_(io) {}

void SubscriberConnection::stop() {
  negotiation_timer_.cancel();
  answer_timer_.cancel();
}

bool SubscriberConnection::want(const std::shared_ptr<ProducerEntry>& p) {
  if (p->peer_id == peer_.id() || wanted_.contains(p->id)) return true;
  auto& rooms = peer_.rooms();
  if (sections_.live() >= rooms.limits().max_consumers_per_peer) return false;
  wanted_.insert(p->id);
  sections_.ensure_application();
  SubscriberSection& s = sections_.add();
  s.kind = p->kind;
  s.producer = p;
  s.consumer_id = rooms.ids().next("c");
  s.consumer_num = rooms.ids().next_number();
  s.ssrc = rooms.ids().random_u32();
  if (p->kind == server::media::MediaKind::video) s.rtx_ssrc = rooms.ids().random_u32();
  sections_.mark_changed();
  schedule_negotiation();
  return true;
}

void SubscriberConnection::unwant(const std::string& producer_id) {
  if (!wanted_.erase(producer_id)) return;
  sections_.remove_producer(producer_id, [&](const SubscriberSection& s) {
    if (transport_ && peer_.room()) peer_.rooms().media().close_consumer(peer_.room()->id(), s.consumer_num);
  });
  schedule_negotiation();
}

Json SubscriberConnection::subscribe(const Json& params, bool subscribe) {
  if (subscribe) Peer::require_grant(peer_.grants().subscribe, "subscribe");
  Room* room = peer_.room();
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
      auto p = room->find_producer(id.get<std::string>());
      if (!p && room->remote().has_producer(id.get<std::string>()))
        throw RpcError{RpcCode::not_found, "producer " + id.get<std::string>() +
                                               " is on another node: consuming across nodes is not supported yet"};
      if (!p || p->peer_id == peer_.id()) throw RpcError{RpcCode::not_found, "unknown producer " + id.get<std::string>()};
      found.push_back(p);
    }
  }
  std::vector<std::shared_ptr<DataProducerEntry>> found_data;
  if (data_ids != params.end()) {
    for (const auto& id : *data_ids) {
      auto it = room->data_producers().find(id.get<std::string>());
      if (it == room->data_producers().end() || it->second->peer_id == peer_.id())
        throw RpcError{RpcCode::not_found, "unknown data producer " + id.get<std::string>()};
      found_data.push_back(it->second);
    }
  }
  if (subscribe) {
    const size_t limit = peer_.rooms().limits().max_consumers_per_peer;
    size_t added = 0;
    for (const auto& p : found) added += wanted_.contains(p->id) ? 0 : 1;
    if (sections_.live() + added > limit)
      throw RpcError{RpcCode::consumer_limit,
                     "more than " + std::to_string(limit) + " consumers; unsubscribe from others first"};
  }
  for (const auto& p : found) subscribe ? (void)want(p) : unwant(p->id);
  for (const auto& dp : found_data) subscribe ? want_data(dp) : unwant_data(dp->id);
  return Json::object();
}

// Changes are folded: one negotiation at most every 50 ms, and never while
// an offer is outstanding (PROTOCOL.md "Session flow" 3).
void SubscriberConnection::schedule_negotiation() {
  if (negotiation_scheduled_ || peer_.left()) return;
  negotiation_scheduled_ = true;
  negotiation_timer_.expires_after(std::chrono::milliseconds(50));
  negotiation_timer_.async_wait([this, alive = peer_.alive()](const boost::system::error_code& ec) {
    if (ec || alive.expired()) return;
    negotiation_scheduled_ = false;
    negotiate();
  });
}

void SubscriberConnection::negotiate() {
  if (peer_.left() || !peer_.room() || sections_.offer_outstanding() || !sections_.changed()) return;
  if (!transport_) return ensure_transport();
  send_offer();
}

// Consumers exist on the router only once the subscriber's answer has
// accepted their section: no RTP before the client knows the SSRC and mid
// (a browser would route an unknown SSRC to the wrong receiver), and the
// router then holds them until the transport is connected and asks for a
// key frame at once (router.hpp).
void SubscriberConnection::create_accepted_consumers(const sdp::SessionDescription& answer) {
  auto& media = peer_.rooms().media();
  for (SubscriberSection* s : sections_.accepted(answer)) {
    server::ConsumerSpec spec;
    spec.id = s->consumer_num;
    spec.producer = s->producer->num;
    spec.transport = transport_->id;
    spec.ssrc = s->ssrc;
    spec.rtx_ssrc = s->rtx_ssrc;
    spec.codecs = subscriber_codec_infos(s->producer->codecs);
    spec.paused = s->paused;
    spec.preferred_spatial = s->preferred_spatial;
    spec.preferred_temporal = s->preferred_temporal;
    spec.mid = s->mid;
    media.add_consumer(peer_.room()->id(), spec, [](bool) {});
    s->created = true;
  }
}

void SubscriberConnection::ensure_transport() {
  if (transport_pending_) return;
  transport_pending_ = true;
  auto& media = peer_.rooms().media();
  // The remote parameters come with the first answer.
  media.create_transport(peer_.room()->id(), server::TransportSpec{"", "", {}, false},
                         [this, alive = peer_.alive(), media = &media,
                          room = peer_.room()->id()](std::optional<server::TransportInfo> t) {
                           if (alive.expired() || peer_.left()) {  // gone meanwhile: nobody else will close it
                             if (t) media->close_transport(room, t->id);
                             return;
                           }
                           transport_pending_ = false;
                           if (!t) return peer_.kick("transport_failed");
                           transport_ = *t;
                           negotiate();
                         });
}

// The offer itself is built without I/O (SubscriberSections::make_offer).
void SubscriberConnection::send_offer() {
  SubscriberSections::Offer offer = sections_.make_offer(peer_.room()->id() * 1000003 + 2, *transport_);
  Json params = Json::object();
  params["sdp"] = sdp::write_sdp(offer.description);
  params["consumers"] = std::move(offer.consumers);
  peer_.notify("subscriberOffer", params);
  answer_timer_.expires_after(peer_.rooms().limits().negotiation_timeout);
  answer_timer_.async_wait([this, alive = peer_.alive()](const boost::system::error_code& ec) {
    if (!ec && !alive.expired()) on_negotiation_timeout();
  });
}

void SubscriberConnection::on_negotiation_timeout() {
  if (!sections_.offer_outstanding()) return;
  log::warn("negotiation timeout", {{"room", peer_.room() ? peer_.room()->name() : ""},
                                    {"peer", peer_.id()},
                                    {"transport", transport_ ? transport_->id : 0},
                                    {"offer", sections_.offer_version()}});
  peer_.kick("negotiation_timeout");
}

void SubscriberConnection::answer(const Json& params, const Reply& reply) {
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
    if (!remote_known_ || remote->ufrag != remote_ufrag_) {
      remote_known_ = true;
      remote_ufrag_ = remote->ufrag;
      peer_.rooms().media().set_remote_parameters(
          peer_.room()->id(), transport_->id, server::TransportSpec{remote->ufrag, remote->pwd, remote->fingerprint, false});
    }
    on_data_answer(*answer);
    create_accepted_consumers(*answer);
  }
  sections_.answered();
  answer_timer_.cancel();
  reply.ok(Json::object());
  if (sections_.changed()) schedule_negotiation();
}

Json SubscriberConnection::set_preferred_layers(const Json& params) {
  const std::string& cid = require_string(params, "consumerId");
  const int spatial = int(require_int(params, "spatialLayer", 0, 2));
  int temporal = 2;
  if (params.contains("temporalLayer") && !params["temporalLayer"].is_null())
    temporal = int(require_int(params, "temporalLayer", 0, 3));
  SubscriberSection* s = sections_.find(cid);
  if (!s) throw RpcError{RpcCode::not_found, "unknown consumer"};
  s->preferred_spatial = spatial;  // for a consumer not created yet (answer pending)
  s->preferred_temporal = temporal;
  peer_.rooms().media().set_preferred_layers(peer_.room()->id(), s->consumer_num, spatial, temporal);
  return Json::object();
}

Json SubscriberConnection::pause_consumer(const Json& params, bool pause) {
  SubscriberSection* s = sections_.find(require_string(params, "consumerId"));
  if (!s) throw RpcError{RpcCode::not_found, "unknown consumer"};
  s->paused = pause;
  peer_.rooms().media().set_consumer_paused(peer_.room()->id(), s->consumer_num, pause);
  return Json::object();
}

Json SubscriberConnection::restart_ice() {
  if (!transport_ || sections_.offer_version() == 0) return Json::object();  // nothing offered yet: a no-op
  peer_.rooms().media().restart_ice(peer_.room()->id(), transport_->id,
                                    [this, alive = peer_.alive()](std::optional<ice::IceCredentials> creds) {
                                      if (alive.expired() || !creds || !transport_) return;
                                      transport_->local_ice = *creds;
                                      sections_.mark_changed();
                                      schedule_negotiation();
                                    });
  return Json::object();
}

void SubscriberConnection::on_media_event(const server::MediaEvent& e) {
  if (const auto* gone = std::get_if<server::DataConsumerClosedEvent>(&e)) {
    if (peer_.left() || !peer_.room() || !transport_ || gone->transport != transport_->id) return;
    auto it = std::find_if(data_consumers_.begin(), data_consumers_.end(),
                           [&](const DataConsumerEntry& c) { return c.created && c.num == gone->consumer; });
    if (it == data_consumers_.end()) return;
    peer_.notify("dataConsumerRemoved", data_consumer_json(it->id, *it->producer));
    data_consumers_.erase(it);
  } else if (const auto* l = std::get_if<server::ConsumerLayersEvent>(&e)) {
    for (auto& s : sections_.sections()) {
      if (s.application || s.consumer_num != l->consumer) continue;
      s.current_spatial = l->spatial;
      s.current_temporal = l->temporal;
      peer_.notify("consumerLayersChanged",
                   Json{{"consumerId", s.consumer_id}, {"spatialLayer", l->spatial}, {"temporalLayer", l->temporal}});
    }
  }
}

// Data consumers (PROTOCOL.md "Data channels"): channels the router opens
// on this connection once its answer accepted the SCTP section.
void SubscriberConnection::on_data_answer(const sdp::SessionDescription& answer) {
  if (sctp_ || !transport_) return;
  for (const auto& m : answer.media) {
    if (!m.mid || *m.mid != "0") continue;
    if (m.port == 0 || !is_data_section(m)) return;
    sctp_ = true;
    peer_.rooms().media().enable_sctp(
        peer_.room()->id(), server::SctpSpec{transport_->id, m.sctp_port.value_or(kDefaultSctpPort),
                                             m.max_message_size.value_or(kDefaultMaxMessageSize)});
    for (auto& c : data_consumers_) create_data_consumer(c);
    return;
  }
}

void SubscriberConnection::want_data(const std::shared_ptr<DataProducerEntry>& dp) {
  if (dp->peer_id == peer_.id()) return;
  for (const auto& c : data_consumers_)
    if (c.producer->id == dp->id) return;
  DataConsumerEntry c;
  c.id = peer_.rooms().ids().next("dc");
  c.num = peer_.rooms().ids().next_number();
  c.producer = dp;
  data_consumers_.push_back(std::move(c));
  if (sctp_) return create_data_consumer(data_consumers_.back());
  // The first data consumer needs the SCTP association: the subscriber
  // offer's application section (PROTOCOL.md "Session flow" 3).
  sections_.ensure_application();
  sections_.mark_changed();
  schedule_negotiation();
}

void SubscriberConnection::create_data_consumer(DataConsumerEntry& c) {
  if (c.created) return;
  c.created = true;
  peer_.rooms().media().add_data_consumer(
      peer_.room()->id(), server::DataConsumerSpec{c.num, c.producer->num, transport_->id, c.producer->peer_id});
  peer_.notify("dataConsumerAdded", data_consumer_json(c.id, *c.producer));
}

void SubscriberConnection::unwant_data(const std::string& data_producer_id) {
  auto it = std::find_if(data_consumers_.begin(), data_consumers_.end(),
                         [&](const DataConsumerEntry& c) { return c.producer->id == data_producer_id; });
  if (it == data_consumers_.end()) return;
  if (it->created) {
    peer_.rooms().media().close_data_consumer(peer_.room()->id(), it->num);
    peer_.notify("dataConsumerRemoved", data_consumer_json(it->id, *it->producer));
  }
  data_consumers_.erase(it);
}

}  // namespace sfu::signaling
