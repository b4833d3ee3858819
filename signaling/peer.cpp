#include "signaling/peer.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "common/log.hpp"
#include "signaling/control_metrics.hpp"

namespace sfu::signaling {

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

[[noreturn]] void throw_error(RpcCode code, std::string message) { throw RpcError{code, std::move(message)}; }

}  // namespace

Peer::Peer(PeerContext ctx, std::weak_ptr<WsSession> session)
    : ctx_(std::move(ctx)), session_(std::move(session)), subscriber_(*this, ctx_.io) {}

Peer::~Peer() {
  *alive_ = false;
  cleanup();
}

void Peer::notify(std::string_view method, const Json& params) {
  if (auto s = session_.lock()) s->send(make_notification(method, params));
}

void Peer::on_request(const RpcRequest& req, const Reply& reply) {
  const Json& p = req.params;
  const std::string& m = req.method;
  if (log::enabled(log::Level::debug))
    log::debug("request", {{"room", room_ ? room_->name() : ""}, {"peer", id_}, {"method", m}});
  if (m == "join") return join(p, reply);
  // Every other method needs a joined peer; each goes to the peer itself or
  // to one of its two connections.
  using Handler = void (*)(Peer&, const Json&, const Reply&);
  struct Method {
    std::string_view name;
    Handler run;
  };
  static constexpr Method kMethods[] = {
      {"publish", [](Peer& self, const Json& q, const Reply& r) { self.publisher_.publish(q, r); }},
      {"subscriberAnswer", [](Peer& self, const Json& q, const Reply& r) { self.subscriber_.answer(q, r); }},
      {"subscribe", [](Peer& self, const Json& q, const Reply& r) { r.ok(self.subscriber_.subscribe(q, true)); }},
      {"unsubscribe", [](Peer& self, const Json& q, const Reply& r) { r.ok(self.subscriber_.subscribe(q, false)); }},
      {"setPreferredLayers",
       [](Peer& self, const Json& q, const Reply& r) { r.ok(self.subscriber_.set_preferred_layers(q)); }},
      {"pauseConsumer", [](Peer& self, const Json& q, const Reply& r) { r.ok(self.subscriber_.pause_consumer(q, true)); }},
      {"resumeConsumer",
       [](Peer& self, const Json& q, const Reply& r) { r.ok(self.subscriber_.pause_consumer(q, false)); }},
      {"pauseProducer",
       [](Peer& self, const Json& q, const Reply& r) { r.ok(self.publisher_.producer_op(q, "pauseProducer")); }},
      {"resumeProducer",
       [](Peer& self, const Json& q, const Reply& r) { r.ok(self.publisher_.producer_op(q, "resumeProducer")); }},
      {"closeProducer",
       [](Peer& self, const Json& q, const Reply& r) { r.ok(self.publisher_.producer_op(q, "closeProducer")); }},
      {"restartIce", [](Peer& self, const Json&, const Reply& r) { r.ok(self.subscriber_.restart_ice()); }},
      {"getStats", [](Peer& self, const Json&, const Reply& r) { self.get_stats(r); }},
      {"relay", [](Peer& self, const Json& q, const Reply& r) { r.ok(self.relay(q)); }},
      {"leave", [](Peer& self, const Json&, const Reply& r) { self.leave(r); }},
      // ICE-lite: client candidates come from its checks.
      {"trickle", [](Peer&, const Json&, const Reply& r) { r.ok(Json::object()); }},
  };
  const auto* method = std::find_if(std::begin(kMethods), std::end(kMethods), [&](const Method& x) { return x.name == m; });
  if (method == std::end(kMethods)) throw RpcError{RpcCode::method_not_found, "unknown method '" + m.substr(0, 64) + "'"};
  require_joined();
  method->run(*this, p, reply);
}

void Peer::require_joined() const {
  if (!room_ || left_) throw_error(RpcCode::bad_state, "join first");
}

void Peer::require_grant(bool granted, const char* what) {
  if (!granted) throw RpcError{RpcCode::forbidden, std::string("token lacks the ") + what + " grant"};
}

// In cluster mode the room's remote state must be known before the join
// result lists it: the first join of a room on this node waits for the
// room's subscription and directory (cluster_rooms.hpp), later ones do not.
void Peer::join(const Json& params, const Reply& reply) {
  if (room_ || left_ || joining_) throw_error(RpcCode::bad_state, "already joined");
  const auto requested_at = std::chrono::steady_clock::now();
  std::string room_name = optional_string(params, "room").value_or(ctx_.query_room);
  if (!valid_room_name(room_name))
    throw RpcError{RpcCode::invalid_params, "room must be 1-128 characters of [A-Za-z0-9._-]", "invalid_params"};
  const std::string token = optional_string(params, "token").value_or(ctx_.query_token);
  auto name = optional_string(params, "name");
  if (name && name->size() > 256) throw RpcError{RpcCode::invalid_params, "name is longer than 256 bytes"};
  auto_subscribe_ = optional_bool(params, "autoSubscribe", true);
  if (ctx_.rooms.draining()) throw RpcError{RpcCode::unavailable, "server is draining"};

  auto identity = ctx_.auth.authenticate(token, room_name, unix_now());
  if (!identity) throw RpcError{RpcCode::unauthorized, std::string(to_string(identity.error()))};

  Room* room = ctx_.rooms.get_or_create(room_name);
  if (!room) throw RpcError{RpcCode::unavailable, "this node is at its room limit"};
  check_room_capacity(room);
  if (!room->cluster()) return reply.ok(finish_join(room, *identity, name, requested_at));
  joining_ = true;
  room->hold();
  RoomDirectory* rooms = &ctx_.rooms;
  room->cluster()->when_synced(
      *room, [this, alive = std::weak_ptr<bool>(alive_), rooms, room, identity = *identity, name, requested_at,
              reply](bool synced) {
        room->unhold();
        if (alive.expired() || left_) return rooms->release_if_empty(room);
        joining_ = false;
        try {
          if (!synced) throw RpcError{RpcCode::unavailable, "the cluster's room directory is unavailable"};
          if (rooms->draining()) throw RpcError{RpcCode::unavailable, "server is draining"};
          check_room_capacity(room);
          reply.ok(finish_join(room, identity, name, requested_at));
        } catch (const RpcError& e) {
          rooms->release_if_empty(room);
          reply.error(e);
        }
      });
}

// 4013 when the room (on every node) is full; frees the room if it was new.
void Peer::check_room_capacity(Room* room) {
  if (room->peers().size() + room->remote().peers().size() < ctx_.rooms.limits().max_peers_per_room) return;
  ctx_.rooms.release_if_empty(room);
  throw RpcError{RpcCode::room_full, "room is full"};
}

Json Peer::finish_join(Room* room, const Identity& identity, const std::optional<std::string>& name,
                       std::chrono::steady_clock::time_point requested_at) {
  grants_ = identity.grants;
  id_ = ctx_.rooms.ids().next("p");
  name_ = name.value_or(identity.name.empty() ? id_ : identity.name);

  Json result = Json::object();
  result["peerId"] = id_;
  result["room"] = room->name();
  // Peers and producers on other nodes (cluster mode) come flagged "remote": true.
  Json peers = Json::array();
  for (Peer* other : room->peers()) peers.push_back(Json{{"peerId", other->id()}, {"name", other->name()}});
  for (auto& p : room->remote().peers_json()) peers.push_back(std::move(p));
  result["peers"] = peers;
  Json producers = Json::array();
  for (const auto& [pid, entry] : room->producers()) producers.push_back(entry->to_json());
  for (auto& p : room->remote().producers_json()) producers.push_back(std::move(p));
  result["producers"] = producers;
  Json data_producers = Json::array();
  for (const auto& [id, entry] : room->data_producers()) data_producers.push_back(entry->to_json());
  for (auto& p : room->remote().data_producers_json()) data_producers.push_back(std::move(p));
  result["dataProducers"] = data_producers;
  Json ice_servers = Json::array();
  const auto& ice = ctx_.rooms.ice_servers();
  if (!ice.urls.empty()) {
    Json entry = Json::object();
    entry["urls"] = ice.urls;
    if (!ice.turn_secret.empty()) {
      const auto creds = turn_credentials(ice.turn_secret, identity.subject.empty() ? id_ : identity.subject,
                                          unix_now(), ice.credential_ttl_seconds);
      entry["username"] = creds.username;
      entry["credential"] = creds.credential;
    }
    ice_servers.push_back(entry);
  }
  result["iceServers"] = ice_servers;
  if (!ctx_.rooms.node_id().empty()) result["node"] = ctx_.rooms.node_id();

  room->announce("peerJoined", Json{{"peerId", id_}, {"name", name_}});
  room->add_peer(this);
  room_ = room;
  identity_ = identity.subject;
  joined_unix_ = unix_now();
  joined_at_ = requested_at;
  log::info("peer joined",
            {{"room", room->name()}, {"peer", id_}, {"identity", identity.subject}, {"remote", ctx_.remote_address}});
  ++control_metrics().joins;
  if (auto_subscribe_ && grants_.subscribe) {
    for (const auto& [pid, entry] : room->producers()) subscriber_.want(entry);
    for (const auto& [id, entry] : room->data_producers()) subscriber_.want_data(entry);
  }
  return result;
}

Json Peer::relay(const Json& params) {
  const std::string& to = require_string(params, "to");
  auto data = params.find("data");
  if (data == params.end()) throw RpcError{RpcCode::invalid_params, "data is required", "invalid_params"};
  if (data->dump().size() > 16384) throw RpcError{RpcCode::invalid_params, "data over 16384 bytes", "too_large"};
  if (to == id_) throw RpcError{RpcCode::invalid_params, "cannot relay to yourself", "invalid_params"};
  Peer* target = room_->find_peer(to);
  if (!target) {
    // A peer on another node (cluster mode): through the room's channel.
    if (room_->remote().has_peer(to) && room_->cluster() && room_->cluster()->relay(*room_, id_, to, *data))
      return Json::object();
    throw RpcError{RpcCode::not_found, "no such peer in this room"};
  }
  Json n = Json::object();
  n["from"] = id_;
  n["data"] = *data;
  target->notify("relayed", n);
  return Json::object();
}

// "peer left" / "peer kicked" with the reason and both transports.
void Peer::log_left(const char* message, const std::string& reason) {
  log::info(message,
            {{"room", room_ ? room_->name() : ""},
             {"peer", id_},
             {"reason", reason},
             {"pub_transport", publisher_.transport() ? publisher_.transport()->id : 0},
             {"sub_transport", subscriber_.transport() ? subscriber_.transport()->id : 0}});
}

void Peer::leave(const Reply& reply) {
  reply.ok(Json::object());
  log_left("peer left", "leave");
  cleanup();
  if (auto s = session_.lock()) s->close(boost::beast::websocket::close_code::normal, "left");
}

void Peer::kick(const std::string& reason) {
  notify("kicked", Json{{"reason", reason}});
  log_left("peer kicked", reason);
  cleanup();
  if (auto s = session_.lock()) s->close(boost::beast::websocket::close_code::normal, reason);
}

void Peer::on_closed() {
  if (room_ && !left_) log_left("peer left", "disconnected");
  log::info("session closed", {{"remote", ctx_.remote_address}, {"peer", id_}});
  cleanup();
}

void Peer::close_room(const std::string& reason, std::string_view notification) {
  notify(notification, Json{{"reason", reason}});
  log_left("peer left", reason);
  cleanup();
  if (auto s = session_.lock()) s->close(boost::beast::websocket::close_code::going_away, reason);
}

// Frees everything of this peer: producers (announced to the room), then the
// peer itself (peerLeft), then its transports and, if it was the last, the room.
void Peer::cleanup() {
  if (left_ || !room_) {
    left_ = true;
    return;
  }
  left_ = true;
  subscriber_.stop();
  publisher_.close_all();
  room_->remove_peer(this);
  room_->announce("peerLeft", Json{{"peerId", id_}});
  auto& media = ctx_.rooms.media();
  if (publisher_.transport()) media.close_transport(room_->id(), publisher_.transport()->id);
  if (subscriber_.transport()) media.close_transport(room_->id(), subscriber_.transport()->id);
  ctx_.rooms.release_if_empty(room_);
  room_ = nullptr;
}

void Peer::on_media_event(const server::MediaEvent& e) {
  publisher_.on_media_event(e);
  subscriber_.on_media_event(e);
  on_transport_event(e);
}

void Peer::on_producer_added(const std::shared_ptr<ProducerEntry>& p) {
  if (!left_ && auto_subscribe_ && grants_.subscribe) subscriber_.want(p);
}

void Peer::on_producer_removed(const std::shared_ptr<ProducerEntry>& p) { subscriber_.unwant(p->id); }

void Peer::on_producer_paused(const ProducerEntry& p, bool paused) {
  notify(paused ? "producerPaused" : "producerResumed", Json{{"producerId", p.id}, {"peerId", p.peer_id}});
}

void Peer::on_data_producer_added(const std::shared_ptr<DataProducerEntry>& dp) {
  if (!left_ && auto_subscribe_ && grants_.subscribe) subscriber_.want_data(dp);
}

void Peer::unwant_data(const std::string& data_producer_id) { subscriber_.unwant_data(data_producer_id); }

// Transport state for the admin API, and the join latency histograms.
void Peer::on_transport_event(const server::MediaEvent& e) {
  const auto& pub_transport = publisher_.transport();
  const auto& sub_transport = subscriber_.transport();
  const bool pub = pub_transport.has_value(), sub = sub_transport.has_value();
  auto micros_since_join = [&] {
    return uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - joined_at_)
                        .count());
  };
  if (const auto* t = std::get_if<server::TransportStateEvent>(&e)) {
    const bool mine_pub = pub && t->transport == pub_transport->id, mine_sub = sub && t->transport == sub_transport->id;
    if (!mine_pub && !mine_sub) return;
    (mine_pub ? pub_state_ : sub_state_) = t->state;
    log::info("transport state", {{"room", room_ ? room_->name() : ""},
                                  {"peer", id_},
                                  {"transport", t->transport},
                                  {"direction", mine_pub ? "publish" : "subscribe"},
                                  {"state", server::to_string(t->state)}});
    if (t->state == server::TransportState::connected && !connected_seen_) {
      connected_seen_ = true;
      control_metrics().join_to_connected.observe(micros_since_join());
    }
  } else if (const auto* f = std::get_if<server::TransportFirstMediaEvent>(&e)) {
    if (sub && f->transport == sub_transport->id && !first_media_seen_) {
      first_media_seen_ = true;
      control_metrics().join_to_first_media.observe(micros_since_join());
    }
  }
}

void Peer::get_stats(const Reply& reply) {
  std::vector<server::TransportId> transports;
  const auto& pub_transport = publisher_.transport();
  if (pub_transport) transports.push_back(pub_transport->id);
  if (subscriber_.transport()) transports.push_back(subscriber_.transport()->id);
  std::vector<server::ProducerId> producers;
  std::map<server::ProducerId, std::string> producer_ids;
  for (const auto& pid : publisher_.producers())
    if (auto e = room_->find_producer(pid)) {
      producers.push_back(e->num);
      producer_ids[e->num] = e->id;
    }
  std::vector<server::ConsumerId> consumers;
  std::map<server::ConsumerId, std::string> consumer_ids;
  for (const auto& s : subscriber_.sections().sections())
    if (!s.closed && !s.application) {
      consumers.push_back(s.consumer_num);
      consumer_ids[s.consumer_num] = s.consumer_id;
    }
  const auto pub = pub_transport ? pub_transport->id : 0;
  ctx_.rooms.media().get_stats(
      room_->id(), transports, producers, consumers,
      [reply, producer_ids, consumer_ids, pub](server::PeerStats st) { reply.ok(stats_to_json(st, pub, producer_ids, consumer_ids)); });
}

Json Peer::admin_view() const {
  auto transport_json = [](const std::optional<server::TransportInfo>& t, server::TransportState state) -> Json {
    if (!t) return nullptr;
    return Json{{"id", t->id}, {"worker", t->worker}, {"state", std::string(server::to_string(state))}};
  };
  Json j = Json::object();
  j["peerId"] = id_;
  j["name"] = name_;
  j["identity"] = identity_;
  j["remoteAddress"] = ctx_.remote_address;
  j["joinedAt"] = joined_unix_;
  j["grants"] = Json{{"publish", grants_.publish},
                     {"subscribe", grants_.subscribe},
                     {"publishData", grants_.publish_data},
                     {"admin", grants_.admin}};
  j["transports"] = Json{{"publisher", transport_json(publisher_.transport(), pub_state_)},
                         {"subscriber", transport_json(subscriber_.transport(), sub_state_)}};
  Json producers = Json::array();
  for (const auto& pid : publisher_.producers()) {
    if (!room_) break;
    if (auto entry = room_->find_producer(pid)) {
      Json p = entry->to_json();
      p["adminMuted"] = entry->admin_muted;
      producers.push_back(p);
    }
  }
  j["producers"] = producers;
  Json consumers = Json::array();
  for (const auto& s : subscriber_.sections().sections()) {
    if (s.application || s.closed || !s.producer) continue;
    consumers.push_back(Json{{"consumerId", s.consumer_id},
                             {"producerId", s.producer->id},
                             {"kind", s.kind == server::media::MediaKind::audio ? "audio" : "video"},
                             {"mid", s.mid},
                             {"paused", s.paused},
                             {"negotiated", s.created},
                             {"currentLayers", Json{{"spatial", s.current_spatial}, {"temporal", s.current_temporal}}},
                             {"preferredLayers", Json{{"spatial", s.preferred_spatial}, {"temporal", s.preferred_temporal}}}});
  }
  j["consumers"] = consumers;
  Json data = Json::array();
  for (const auto& id : publisher_.data_producers()) data.push_back(id);
  j["dataProducers"] = data;
  j["dataConsumers"] = subscriber_.data_consumer_count();
  return j;
}

}  // namespace sfu::signaling
