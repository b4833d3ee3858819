// Cluster mode's room directory and room events (issue 15, items 3-4, 8):
// every node sees the whole membership of the rooms it hosts.
//
// Redis layout (beside the registry's, cluster_node.hpp):
//   sfu:room:<room>          hash   "peer:<id>" / "producer:<id>" / "data:<id>" → entry JSON
//                                   with its owner {"node","inst", ...} (room_mirror.hpp)
//   sfu:noderooms:<node>     set    rooms where the node has entries
//   sfu:dirnodes             set    nodes with directory entries
//   sfu:events:<room>        channel the room's events (cluster_message.hpp), HMAC-signed
//
// A local change (Room::announce) updates the hash and publishes the event
// in one Lua script, on the one command connection: the other nodes get a
// node's events in the order it made them (producerRemoved before
// peerLeft). Receivers verify the MAC, apply the event to the room's
// RoomMirror and pass its notifications to their local peers.
//
// A room's first local join waits until this node is subscribed to the
// room's channel and has read its hash (in that order, so nothing falls in
// between; RoomMirror dedupes the overlap). Every re-subscription after a
// lost connection reads the hash again (resync), and when the command
// connection is back the node rewrites its own entries of every room
// (removing those whose peers left meanwhile) and re-announces them.
//
// Node death: a node that leaves the registry (cluster_node.hpp) is dead;
// every survivor drops its entries from its mirrors at once (notifying its
// peers), and the survivors race to reap its directory entries with one
// Lua script that only the first caller finds non-empty: that one
// announces the removals, once. A sweep every few seconds reaps nodes that
// died while no survivor shared a room with them.
//
// Control thread only. Redis calls go through RedisClient (each with a
// timeout); nothing here blocks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "server/metrics.hpp"
#include "signaling/cluster_message.hpp"
#include "signaling/cluster_node.hpp"
#include "signaling/redis_client.hpp"
#include "signaling/room.hpp"

namespace sfu::signaling {

struct ClusterRoomCounters {
  uint64_t published = 0, publish_failures = 0;
  uint64_t received = 0, rejected = 0;  // rejected: bad MAC or malformed (never applied)
  uint64_t resyncs = 0, resync_failures = 0, malformed_entries = 0;
  uint64_t sync_timeouts = 0;  // joins refused: the room's remote state could not be loaded in time
  uint64_t nodes_dropped = 0, reaped_entries = 0;
  uint64_t relays_sent = 0, relays_delivered = 0;
};

class ClusterRooms : public RoomCluster {
 public:
  static constexpr std::chrono::milliseconds kSyncTimeout{3000};
  static constexpr std::chrono::milliseconds kSweep{5000};
  // A node seen in a room but never in the registry is taken as dead after this.
  static constexpr std::chrono::milliseconds kUnknownNodeGrace{3000};

  ClusterRooms(boost::asio::io_context& io, RedisClient& redis, ClusterNode& node, RoomDirectory& rooms,
               std::string secret);
  ~ClusterRooms() override;

  // Links the directory (every room opened from now on) and starts the sweep.
  void start();
  void stop();

  // RoomCluster.
  void room_opened(Room& room) override;
  void room_closed(Room& room) override;
  void when_synced(Room& room, std::function<void(bool ok)> ready) override;
  void local_event(Room& room, std::string_view method, const Json& params) override;
  bool relay(Room& room, const std::string& from, const std::string& to, const Json& data) override;

  // A message as it came from the room's channel (public for tests and the fuzzer).
  void on_message(const std::string& room, const std::string& wire);

  const ClusterRoomCounters& counters() const { return counters_; }

 private:
  struct Waiter {
    std::function<void(bool)> ready;
    std::shared_ptr<boost::asio::steady_timer> timer;
  };
  struct RoomState {
    bool synced = false;
    uint64_t generation = 0;  // of the latest (re)load: a reply of an earlier one is dropped
    std::map<uint64_t, Waiter> waiters;
  };

  void load(const std::string& room);
  void finish_waiters(RoomState& state, bool ok);
  void publish(const std::string& room, ClusterEvent event, const Json& data, const char* op,
               const std::string& field, const std::string& value);
  void deliver(Room& room, const Notifications& notes);
  void on_nodes(const std::vector<NodeInfo>& live);
  void node_dead(const std::string& node);
  void reap(const std::string& node);
  // Rewrites this node's entries of `room` (none when it is not hosted
  // here any more) and announces what changed.
  void register_room(const std::string& room);
  void announce_removed(const std::string& room, const std::vector<RedisValue>& field_value_pairs);
  void sweep();

  boost::asio::io_context& io_;
  RedisClient& redis_;
  ClusterNode& node_;
  RoomDirectory& rooms_;
  std::string secret_;
  boost::asio::steady_timer sweep_timer_;
  std::map<std::string, RoomState> states_;  // rooms hosted here, by name
  uint64_t next_waiter_ = 1;
  // Unique over the process, so a reply for a room closed and opened again
  // meanwhile cannot pass for the new room's.
  uint64_t next_generation_ = 1;
  // Registry view: nodes seen live, and when a node unknown to the registry
  // was first seen owning entries.
  std::set<std::string> live_;
  std::map<std::string, std::chrono::steady_clock::time_point> unknown_since_;
  bool started_ = false;
  std::chrono::steady_clock::time_point last_reject_log_{};  // rejections are logged at most every 10 s
  ClusterRoomCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// /metrics families of the room directory and events.
void cluster_rooms_metrics(server::Exposition& x, const ClusterRooms& rooms);

}  // namespace sfu::signaling
