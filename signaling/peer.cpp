#include "signaling/peer.hpp"

#include <chrono>

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
    : ctx_(std::move(ctx)), session_(std::move(session)), negotiation_timer_(ctx_.io), answer_timer_(ctx_.io) {}

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
  if (m == "publish") return publish(p, reply);
  if (m == "subscriberAnswer") return subscriber_answer(p, reply);
  if (m == "subscribe") return reply.ok(subscribe(p, true));
  if (m == "unsubscribe") return reply.ok(subscribe(p, false));
  if (m == "setPreferredLayers") return reply.ok(set_preferred_layers(p));
  if (m == "pauseConsumer") return reply.ok(pause_consumer(p, true));
  if (m == "resumeConsumer") return reply.ok(pause_consumer(p, false));
  if (m == "pauseProducer" || m == "resumeProducer" || m == "closeProducer") return reply.ok(producer_op(p, m));
  if (m == "restartIce") return reply.ok(restart_ice());
  if (m == "getStats") return get_stats(reply);
  if (m == "relay") return reply.ok(relay(p));
  if (m == "leave") return leave(reply);
  if (m == "trickle") {
    require_joined();
    return reply.ok(Json::object());  // ICE-lite: client candidates come from its checks
  }
  throw RpcError{RpcCode::method_not_found, "unknown method '" + m.substr(0, 64) + "'"};
}

void Peer::require_joined() const {
  if (!room_ || left_) throw_error(RpcCode::bad_state, "join first");
}

void Peer::require_grant(bool granted, const char* what) const {
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
    for (const auto& [pid, entry] : room->producers()) want(entry);
    for (const auto& [id, entry] : room->data_producers()) want_data(entry);
  }
  return result;
}

Json Peer::relay(const Json& params) {
  require_joined();
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

void Peer::leave(const Reply& reply) {
  require_joined();
  reply.ok(Json::object());
  log::info("peer left", {{"room", room_->name()},
                          {"peer", id_},
                          {"reason", "leave"},
                          {"pub_transport", pub_transport_ ? pub_transport_->id : 0},
                          {"sub_transport", sub_transport_ ? sub_transport_->id : 0}});
  cleanup();
  if (auto s = session_.lock()) s->close(boost::beast::websocket::close_code::normal, "left");
}

void Peer::kick(const std::string& reason) {
  notify("kicked", Json{{"reason", reason}});
  log::info("peer kicked", {{"room", room_ ? room_->name() : ""},
                            {"peer", id_},
                            {"reason", reason},
                            {"pub_transport", pub_transport_ ? pub_transport_->id : 0},
                            {"sub_transport", sub_transport_ ? sub_transport_->id : 0}});
  cleanup();
  if (auto s = session_.lock()) s->close(boost::beast::websocket::close_code::normal, reason);
}

void Peer::on_closed() {
  if (room_ && !left_)
    log::info("peer left", {{"room", room_->name()},
                            {"peer", id_},
                            {"reason", "disconnected"},
                            {"pub_transport", pub_transport_ ? pub_transport_->id : 0},
                            {"sub_transport", sub_transport_ ? sub_transport_->id : 0}});
  log::info("session closed", {{"remote", ctx_.remote_address}, {"peer", id_}});
  cleanup();
}

void Peer::close_room(const std::string& reason, std::string_view notification) {
  notify(notification, Json{{"reason", reason}});
  log::info("peer left", {{"room", room_ ? room_->name() : ""},
                          {"peer", id_},
                          {"reason", reason},
                          {"pub_transport", pub_transport_ ? pub_transport_->id : 0},
                          {"sub_transport", sub_transport_ ? sub_transport_->id : 0}});
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
  negotiation_timer_.cancel();
  answer_timer_.cancel();
  const auto producers = my_producers_;
  for (const auto& pid : producers) close_producer(pid, true);
  const auto data_producers = my_data_producers_;
  for (const auto& id : data_producers) close_data_producer(id);
  room_->remove_peer(this);
  room_->announce("peerLeft", Json{{"peerId", id_}});
  auto& media = ctx_.rooms.media();
  if (pub_transport_) media.close_transport(room_->id(), pub_transport_->id);
  if (sub_transport_) media.close_transport(room_->id(), sub_transport_->id);
  ctx_.rooms.release_if_empty(room_);
  room_ = nullptr;
}

void Peer::on_media_event(const server::MediaEvent& e) {
  on_data_event(e);
  on_transport_event(e);
  if (const auto* l = std::get_if<server::ConsumerLayersEvent>(&e)) {
    for (auto& s : sections_.sections()) {
      if (s.application || s.consumer_num != l->consumer) continue;
      s.current_spatial = l->spatial;
      s.current_temporal = l->temporal;
      notify("consumerLayersChanged",
             Json{{"consumerId", s.consumer_id}, {"spatialLayer", l->spatial}, {"temporalLayer", l->temporal}});
    }
  }
}

// Transport state for the admin API, and the join latency histograms.
void Peer::on_transport_event(const server::MediaEvent& e) {
  const bool pub = pub_transport_.has_value(), sub = sub_transport_.has_value();
  auto micros_since_join = [&] {
    return uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - joined_at_)
                        .count());
  };
  if (const auto* t = std::get_if<server::TransportStateEvent>(&e)) {
    const bool mine_pub = pub && t->transport == pub_transport_->id, mine_sub = sub && t->transport == sub_transport_->id;
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
    if (sub && f->transport == sub_transport_->id && !first_media_seen_) {
      first_media_seen_ = true;
      control_metrics().join_to_first_media.observe(micros_since_join());
    }
  }
}

}  // namespace sfu::signaling
