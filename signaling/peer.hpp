// One participant: the JSON-RPC methods of PROTOCOL.md behind one
// WebSocket, dispatched here to the peer's two connections —
//   PublisherConnection  (publisher_connection.hpp): what the browser sends;
//   SubscriberConnection (subscriber_connection.hpp): what it receives, the
//                         server-owned connection and its negotiation —
// and the peer's own life: join, leave, kick, relay, stats, the admin view.
// Control thread only.
//
// Lifetime: a Peer is owned by its WebSocket session (the SessionHandler)
// and destroyed with it, after on_closed(); the room holds a plain pointer
// only while the peer is joined (cleanup() removes it, and runs at the
// latest in the destructor). Everything that calls back later — the
// subscriber connection's two timers, and MediaController results posted
// back from a worker — captures alive() and does nothing once the Peer is
// gone, except what only it can undo: a transport created for a peer that
// has gone or left is closed by the callback itself. Replies go through
// Reply, which holds the session weakly. Other peers' calls (notify,
// on_producer_*) reach it only through the room, i.e. only while it is joined.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "signaling/auth.hpp"
#include "signaling/room.hpp"
#include "signaling/publisher_connection.hpp"
#include "signaling/subscriber_connection.hpp"
#include "signaling/ws_session.hpp"

namespace sfu::signaling {

// getStats result (PROTOCOL.md) from a media snapshot.
Json stats_to_json(const server::PeerStats& st, server::TransportId publisher_transport,
                   const std::map<server::ProducerId, std::string>& producer_ids,
                   const std::map<server::ConsumerId, std::string>& consumer_ids);

struct PeerContext {
  RoomDirectory& rooms;
  boost::asio::io_context& io;
  const Authenticator& auth;
  std::string remote_address;     // of the WebSocket, for the loopback rule
  std::string query_room, query_token;  // from /ws?room=&token=
};

class Peer : public SessionHandler {
 public:
  Peer(PeerContext ctx, std::weak_ptr<WsSession> session);
  ~Peer() override;

  void on_request(const RpcRequest& request, const Reply& reply) override;
  void on_closed() override;

  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  // Sends a notification on this peer's socket.
  void notify(std::string_view method, const Json& params);

  // Room events (called by other peers' actions).
  void on_producer_added(const std::shared_ptr<ProducerEntry>& p);
  void on_producer_removed(const std::shared_ptr<ProducerEntry>& p);
  void on_producer_paused(const ProducerEntry& p, bool paused);
  void on_media_event(const server::MediaEvent& e);
  void on_data_producer_added(const std::shared_ptr<DataProducerEntry>& dp);
  // Drops this peer's consumer of that data producer (dataConsumerRemoved).
  void unwant_data(const std::string& data_producer_id);
  // The room ends here: `notification` {reason} (roomClosed, or reconnect
  // when the node leaves a cluster), then the socket closes.
  void close_room(const std::string& reason, std::string_view notification = "roomClosed");

  // Admin API (admin_api.hpp). What an operator sees of this peer: its
  // transports and their state, producers, consumers with current layers.
  Json admin_view() const;
  // kicked {reason}, then the socket closes.
  void admin_kick(const std::string& reason) { kick(reason); }
  // Pauses (mute) or resumes one of this peer's producers for the whole
  // room; while muted by the admin the publisher cannot resume it (4003).
  // False when `producer_id` is not this peer's.
  bool admin_mute(const std::string& producer_id, bool mute) { return publisher_.admin_mute(producer_id, mute); }

  // What its connections read of the peer.
  RoomDirectory& rooms() const { return ctx_.rooms; }
  Room* room() const { return room_; }  // null unless joined
  const Grants& grants() const { return grants_; }
  bool left() const { return left_; }
  std::weak_ptr<bool> alive() const { return alive_; }
  void kick(const std::string& reason);
  // 4003 "token lacks the <what> grant" unless `granted`.
  static void require_grant(bool granted, const char* what);

 private:
  // Methods of the peer itself (PROTOCOL.md "Methods"); the rest are its connections'.
  void join(const Json& params, const Reply& reply);
  void check_room_capacity(Room* room);
  Json finish_join(Room* room, const Identity& identity, const std::optional<std::string>& name,
                   std::chrono::steady_clock::time_point requested_at);
  void get_stats(const Reply& reply);
  Json relay(const Json& params);
  void leave(const Reply& reply);
  void require_joined() const;

  void cleanup();
  void log_left(const char* message, const std::string& reason);
  void on_transport_event(const server::MediaEvent& e);

  PeerContext ctx_;
  std::weak_ptr<WsSession> session_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::string id_;
  std::string name_;
  std::string identity_;     // the token's subject
  int64_t joined_unix_ = 0;  // wall clock, for the admin API
  // Join latency (/metrics): from the join request to the first transport
  // connected and to the first media packet forwarded to this peer.
  std::chrono::steady_clock::time_point joined_at_{};
  bool connected_seen_ = false, first_media_seen_ = false;
  server::TransportState pub_state_ = server::TransportState::new_, sub_state_ = server::TransportState::new_;
  Room* room_ = nullptr;
  Grants grants_;
  bool auto_subscribe_ = true;
  bool left_ = false;
  bool joining_ = false;  // a join waits for the cluster (join())

  PublisherConnection publisher_{*this};
  SubscriberConnection subscriber_;
};

}  // namespace sfu::signaling
