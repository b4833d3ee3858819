// Rooms as the control thread sees them: who is in each, what they publish,
// and the limits of the node. The media side of a room (its router) lives
// on one worker and is reached through server::MediaController.
// Control thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "server/media_controller.hpp"
#include "signaling/jsonrpc.hpp"
#include "signaling/room_mirror.hpp"
#include "signaling/sdp/sdp_negotiation.hpp"
#include "signaling/sdp/sdp_parser.hpp"

namespace sfu::signaling {

class Peer;

// STUN/TURN servers handed to clients in join's iceServers.
struct IceServersConfig {
  std::vector<std::string> urls;
  std::string turn_secret;  // non-empty: TURN REST credentials per join
  int64_t credential_ttl_seconds = 24 * 3600;
};

struct SignalingLimits {
  uint32_t max_peers_per_room = 100;
  uint32_t max_rooms = 1000;
  std::chrono::seconds negotiation_timeout{20};  // unanswered subscriberOffer → kicked
  // Media consumers one peer may hold at once (subscribe beyond it: 4014
  // consumer_limit). With section recycling a subscriber offer has at most
  // 3 × this + 1 m-sections (peer.hpp; sdp_parser.hpp's kMaxMediaSections
  // is above that), and a browser's answer to 50 live sections stays under
  // the protocol's 64 KiB frame limit.
  uint32_t max_consumers_per_peer = 50;
};

// A media producer as signaling knows it (PROTOCOL.md producer objects).
struct ProducerEntry {
  std::string id;  // "pr_..."
  server::ProducerId num = 0;
  std::string peer_id;
  server::media::MediaKind kind = server::media::MediaKind::video;
  std::string source = "camera";
  std::vector<std::string> simulcast;  // rids, lowest first; [] without simulcast
  bool paused = false;        // what the room sees: owner_paused || admin_muted
  bool owner_paused = false;  // pauseProducer / resumeProducer
  bool admin_muted = false;   // muted by the admin API: the publisher cannot resume it
  // What subscriber offers need: the publisher's accepted codecs in order.
  std::vector<sdp::AcceptedCodec> codecs;
  server::ProducerSpec spec;
  Json to_json() const;
};

// A data producer (PROTOCOL.md "Data channels"): a channel a peer opened on
// its publisher connection.
struct DataProducerEntry {
  std::string id;  // "dp_..."
  server::DataProducerId num = 0;  // the router's id (unique in the room)
  std::string peer_id;
  std::string label;
  Json to_json() const;
};

class Room;

// Cluster mode (cluster_rooms.hpp): a room's link to the other nodes. The
// room tells it what happens locally; it keeps room.remote() and notifies
// the local peers of what happens elsewhere.
class RoomCluster {
 public:
  virtual ~RoomCluster() = default;
  virtual void room_opened(Room& room) = 0;
  virtual void room_closed(Room& room) = 0;
  // Runs `ready(true)` once the room's remote state is loaded (at once when
  // it is), `ready(false)` when the cluster cannot tell in time; never
  // from inside this call.
  virtual void when_synced(Room& room, std::function<void(bool ok)> ready) = 0;
  // A room notification (peerJoined, producerAdded, ...) of a local peer.
  virtual void local_event(Room& room, std::string_view method, const Json& params) = 0;
  // PROTOCOL.md relay to `to`, a peer of room.remote(); false if it cannot be sent.
  virtual bool relay(Room& room, const std::string& from, const std::string& to, const Json& data) = 0;
};

class Room {
 public:
  Room(std::string name, server::RoomId id) : name_(std::move(name)), id_(id) {}

  const std::string& name() const { return name_; }
  server::RoomId id() const { return id_; }

  // Joined peers in join order.
  const std::vector<Peer*>& peers() const { return peers_; }
  Peer* find_peer(std::string_view peer_id) const;
  void add_peer(Peer* p) { peers_.push_back(p); }
  void remove_peer(Peer* p);

  std::map<std::string, std::shared_ptr<ProducerEntry>>& producers() { return producers_; }
  std::shared_ptr<ProducerEntry> find_producer(std::string_view id) const;
  std::map<std::string, std::shared_ptr<DataProducerEntry>>& data_producers() { return data_producers_; }

  // Sends a notification to every joined peer except `except`.
  void broadcast(std::string_view method, const Json& params, const Peer* except = nullptr) const;
  // broadcast, and in cluster mode the same event to the other nodes.
  void announce(std::string_view method, const Json& params, const Peer* except = nullptr);

  // Cluster mode: the room's peers, producers and data producers on other
  // nodes (empty on a single node), and the link that keeps them.
  RoomMirror& remote() { return remote_; }
  const RoomMirror& remote() const { return remote_; }
  RoomCluster* cluster() const { return cluster_; }
  void set_cluster(RoomCluster* c) { cluster_ = c; }
  // A hold keeps an empty room open (a join waiting for the cluster).
  void hold() { ++holds_; }
  void unhold() { --holds_; }
  bool held() const { return holds_ > 0; }

 private:
  std::string name_;
  server::RoomId id_;
  RoomMirror remote_;
  RoomCluster* cluster_ = nullptr;
  int holds_ = 0;
  std::vector<Peer*> peers_;
  std::map<std::string, std::shared_ptr<ProducerEntry>> producers_;
  std::map<std::string, std::shared_ptr<DataProducerEntry>> data_producers_;
};

// Ids like "p_3kq9x2hfa7" (PROTOCOL.md uses prefixed opaque strings).
class IdGenerator {
 public:
  IdGenerator();
  std::string next(std::string_view prefix);
  uint64_t next_number() { return ++counter_; }
  uint32_t random_u32();

 private:
  std::mt19937_64 rng_;
  uint64_t counter_ = 0;
};

class RoomDirectory {
 public:
  RoomDirectory(server::MediaController& media, SignalingLimits limits, IceServersConfig ice = {})
      : media_(media), limits_(limits), ice_(std::move(ice)) {
    // Our own offers must stay parsable by our own parser (answers mirror them).
    limits_.max_consumers_per_peer = std::min<uint32_t>(limits_.max_consumers_per_peer, (sdp::kMaxMediaSections - 1) / 3);
  }
  const IceServersConfig& ice_servers() const { return ice_; }

  // The room, created on first use; nullptr when the node is at max_rooms.
  Room* get_or_create(const std::string& name);
  Room* find(const std::string& name);
  Room* find_by_id(server::RoomId id);
  // Frees an empty room and its router.
  void release_if_empty(Room* room);

  server::MediaController& media() { return media_; }
  const SignalingLimits& limits() const { return limits_; }
  IdGenerator& ids() { return ids_; }
  size_t room_count() const { return rooms_.size(); }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, r] : rooms_) out.push_back(name);
    return out;
  }
  size_t peer_count() const;

  // Cluster mode: every room opened from now on is linked to `c`; join
  // results name this node (`node`).
  void set_cluster(RoomCluster* c) { cluster_ = c; }
  void set_node_id(std::string id) { node_id_ = std::move(id); }
  const std::string& node_id() const { return node_id_; }
  RoomCluster* cluster() const { return cluster_; }

  // Graceful drain: no new joins (5003 unavailable).
  void set_draining(bool d) { draining_ = d; }
  bool draining() const { return draining_; }

 private:
  server::MediaController& media_;
  SignalingLimits limits_;
  IceServersConfig ice_;
  IdGenerator ids_;
  std::map<std::string, std::unique_ptr<Room>, std::less<>> rooms_;
  server::RoomId next_room_id_ = 1;
  bool draining_ = false;
  RoomCluster* cluster_ = nullptr;
  std::string node_id_;
};

// PROTOCOL.md: room is 1–128 chars of [A-Za-z0-9._-].
bool valid_room_name(std::string_view name);

}  // namespace sfu::signaling
