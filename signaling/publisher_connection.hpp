// A peer's publisher connection (PROTOCOL.md "Publishing"): the transport
// its browser sends on, the producers and data producers on it, and the
// answer to each publish offer. The answer itself is a pure function of the
// offer (publish_answer.hpp); this class applies it: transports, producers,
// room announcements. Control thread only; owned by its Peer (peer.hpp).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "signaling/jsonrpc.hpp"
#include "signaling/ws_session.hpp"
#include "signaling/room.hpp"
#include "signaling/sdp/sdp_model.hpp"

namespace sfu::signaling {

class Peer;

class PublisherConnection {
 public:
  explicit PublisherConnection(Peer& peer) : peer_(peer) {}

  // publish {sdp, sources}: the answer once the transport and producers exist.
  void publish(const Json& params, const Reply& reply);
  // pauseProducer / resumeProducer / closeProducer.
  Json producer_op(const Json& params, const std::string& op);
  // Admin mute (admin_api.hpp); false when the producer is not this peer's.
  bool admin_mute(const std::string& producer_id, bool mute);
  // Data producers opened or closed on this connection's transport.
  void on_media_event(const server::MediaEvent& e);
  // Closes every producer, then every data producer, each announced to the room.
  void close_all();

  const std::optional<server::TransportInfo>& transport() const { return transport_; }
  const std::vector<std::string>& producers() const { return producers_; }
  const std::vector<std::string>& data_producers() const { return data_producers_; }

 private:
  void finish_publish(const sdp::SessionDescription& offer, const Reply& reply);
  void close_producer(const std::string& producer_id, bool notify_room);
  void close_data_producer(const std::string& data_producer_id);
  // Applies entry.owner_paused || entry.admin_muted to the worker and the
  // room when it changed (the owner is told only when `tell_owner`).
  void update_producer_paused(ProducerEntry& entry, bool tell_owner);

  Peer& peer_;
  std::optional<server::TransportInfo> transport_;
  std::string remote_ufrag_;
  std::map<std::string, std::string> producer_by_mid_;  // mid → producer id
  std::vector<std::string> producers_;
  // Sources ("camera", "microphone", ...) an admin muted: a producer this
  // peer publishes later for one of them starts muted too, so closing and
  // re-publishing does not undo a mute.
  std::set<std::string> admin_muted_sources_;
  bool publishing_ = false;  // a publish is in flight (they are serialised)
  Json sources_ = Json::object();
  uint64_t answer_version_ = 0;
  bool sctp_ = false;  // data channels negotiated on this connection
  std::vector<std::string> data_producers_;
};

}  // namespace sfu::signaling
