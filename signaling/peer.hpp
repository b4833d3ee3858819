// One participant: the JSON-RPC methods of PROTOCOL.md behind one WebSocket,
// the peer's publisher transport and producers, and the server-owned
// subscriber connection it negotiates with subscriberOffer /
// subscriberAnswer. Control thread only.
//
// Subscriber negotiation:
//   stable ──change──► offer sent (awaiting answer) ──answer──► stable
//                         │  changes meanwhile are folded into the next offer
//                         └─ 20 s without an answer ──► kicked (negotiation_timeout)
//
// Lifetime: a Peer is owned by its WebSocket session (the SessionHandler)
// and destroyed with it, after on_closed(); the room holds a plain pointer
// only while the peer is joined (cleanup() removes it, and runs at the
// latest in the destructor). Everything that calls back later — its two
// timers, and MediaController results posted back from a worker — captures
// a weak_ptr to `alive_` and does nothing once the Peer is gone, except
// what only it can undo: a transport created for a peer that has gone or
// left is closed by the callback itself. Replies go through Reply, which
// holds the session weakly. Other peers' calls (notify, on_producer_*)
// reach it only through the room, i.e. only while it is joined.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "signaling/auth.hpp"
#include "signaling/room.hpp"
#include "signaling/sdp/sdp_model.hpp"
#include "signaling/subscriber_sections.hpp"
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
  bool admin_mute(const std::string& producer_id, bool mute);

 private:
  // Methods (PROTOCOL.md "Methods").
  void join(const Json& params, const Reply& reply);
  void check_room_capacity(Room* room);
  Json finish_join(Room* room, const Identity& identity, const std::optional<std::string>& name,
                   std::chrono::steady_clock::time_point requested_at);
  void publish(const Json& params, const Reply& reply);
  void subscriber_answer(const Json& params, const Reply& reply);
  Json subscribe(const Json& params, bool subscribe);
  Json set_preferred_layers(const Json& params);
  Json pause_consumer(const Json& params, bool pause);
  Json producer_op(const Json& params, const std::string& op);
  Json restart_ice();
  void get_stats(const Reply& reply);
  Json relay(const Json& params);
  void leave(const Reply& reply);

  void require_joined() const;
  void require_grant(bool granted, const char* what) const;

  // Publishing.
  void finish_publish(const sdp::SessionDescription& offer, const Reply& reply);
  void close_producer(const std::string& producer_id, bool notify_room);

  // Data channels (peer_data.cpp).
  struct DataConsumerEntry {
    std::string id;  // "dc_..."
    server::DataConsumerId num = 0;
    std::shared_ptr<DataProducerEntry> producer;
    bool created = false;  // exists on the router (once the subscriber accepted SCTP)
  };
  // Fills the answer's m=application for an offered data section; false
  // when it is to be rejected.
  bool answer_data_section(const sdp::MediaSection& offered, sdp::MediaSection& answer);
  void on_subscriber_data_answer(const sdp::SessionDescription& answer);
  void want_data(const std::shared_ptr<DataProducerEntry>& dp);
  void create_data_consumer(DataConsumerEntry& c);
  void on_data_event(const server::MediaEvent& e);
  void close_data_producer(const std::string& data_producer_id);

  // Subscribing.
  // Consumes `p` (a section for it, negotiated soon). False when the peer
  // is at max_consumers_per_peer.
  bool want(const std::shared_ptr<ProducerEntry>& p);
  void unwant(const std::string& producer_id);
  void schedule_negotiation();
  void negotiate();
  void create_accepted_consumers(const sdp::SessionDescription& answer);
  void ensure_subscriber_transport();
  void send_offer();
  void on_negotiation_timeout();

  void kick(const std::string& reason);
  void cleanup();
  // Applies entry.owner_paused || entry.admin_muted to the worker and the
  // room when it changed (the owner is told only when `tell_owner`).
  void update_producer_paused(ProducerEntry& entry, bool tell_owner);
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

  // Publisher connection.
  std::optional<server::TransportInfo> pub_transport_;
  bool pub_transport_pending_ = false;
  std::string pub_remote_ufrag_;
  std::map<std::string, std::string> producer_by_mid_;  // publisher mid → producer id
  std::vector<std::string> my_producers_;
  // Sources ("camera", "microphone", ...) an admin muted: a producer this
  // peer publishes later for one of them starts muted too, so closing and
  // re-publishing does not undo a mute.
  std::set<std::string> admin_muted_sources_;
  bool publishing_ = false;  // a publish is in flight (they are serialised)
  Json publish_sources_ = Json::object();
  uint64_t pub_answer_version_ = 0;
  bool pub_sctp_ = false;  // data channels negotiated on the publisher connection
  std::vector<std::string> my_data_producers_;

  // Subscriber connection.
  std::optional<server::TransportInfo> sub_transport_;
  bool sub_transport_pending_ = false;
  bool sub_remote_known_ = false;
  std::string sub_remote_ufrag_;
  SubscriberSections sections_;  // m-sections and offer/answer state (subscriber_sections.hpp)
  std::set<std::string> wanted_;  // producer ids this peer consumes
  bool sub_sctp_ = false;  // the subscriber answer accepted the SCTP section
  std::vector<DataConsumerEntry> data_consumers_;
  bool negotiation_scheduled_ = false;
  std::string restart_ice_pending_;
  boost::asio::steady_timer negotiation_timer_;
  boost::asio::steady_timer answer_timer_;
};

}  // namespace sfu::signaling
