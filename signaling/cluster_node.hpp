// Cluster mode's node registry (issue 15, item 2): this node's entry in
// Redis, refreshed every second under a key with a 3 s TTL, and the list of
// live nodes read back on the same beat. A node whose process dies stops
// refreshing: its key expires within 3 s and every other node drops it at
// its next refresh, so a dead node is gone for everyone within 4 s.
//
// Redis layout (one Redis, or one logical database, per cluster):
//   sfu:node:<id>   hash {instance, info}   PEXPIRE 3000; `info` is NodeInfo JSON
//   sfu:nodes       set of node ids         members whose hash expired are
//                                           removed by whoever lists them
// `instance` is random per process: a second process started with an id
// already held by a live node is refused (node id collision, logged, its
// /readyz stays 503) instead of overwriting the first.
//
// Control thread only; Redis calls go through RedisClient (every call has
// a timeout). A failed refresh is retried on the next beat; the node counts
// as registered only while its last refresh succeeded within the TTL.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "signaling/jsonrpc.hpp"
#include "signaling/redis_client.hpp"

namespace sfu::signaling {

// What a node publishes about itself.
struct NodeInfo {
  std::string id;
  std::string url;          // signaling, e.g. http://10.0.0.5:8080
  std::vector<std::string> media;  // media addresses, one "ip:port" (UDP) per worker
  std::string relay;        // node-to-node relay address (cascade); empty until then
  std::string fingerprint;  // DTLS certificate, "sha-256 AB:CD:..."
  std::string version;
  int64_t started_at = 0;   // Unix seconds
  // Load, refreshed every second.
  uint64_t peers = 0, rooms = 0;
  std::vector<double> worker_cpu;  // CPU seconds per worker thread so far
  bool draining = false;
};
Json to_json(const NodeInfo& n);
// Strict: every field with its type; a malformed entry is refused, not guessed.
Result<NodeInfo, std::string> node_info_from_json(const Json& j);

struct ClusterCounters {
  uint64_t refreshes = 0, refresh_failures = 0, collisions = 0, malformed_entries = 0;
};

class ClusterNode;
// /metrics families of cluster mode: Redis calls, round trips, reconnects,
// and the registry's refreshes, collisions and live nodes.
void cluster_metrics(server::Exposition& x, const RedisClient& redis, const ClusterNode& node);

class ClusterNode {
 public:
  static constexpr std::chrono::milliseconds kTtl{3000};
  static constexpr std::chrono::milliseconds kBeat{1000};

  // `load(info)` fills the load fields before each refresh.
  ClusterNode(boost::asio::io_context& io, RedisClient& redis, NodeInfo self, std::function<void(NodeInfo&)> load);

  void start();
  // Stops refreshing and deletes this node's entry (if it still holds its
  // id), then calls `done` (also when Redis cannot be reached).
  void leave(std::function<void()> done);

  // Redis reachable and this node's entry refreshed within the TTL.
  bool registered() const;
  // Another live process holds this node's id.
  bool collision() const { return collision_; }
  const std::string& id() const { return self_.id; }
  // This process's random instance (a restarted node has a new one).
  const std::string& instance() const { return instance_; }
  // Called after each successful read of the live nodes.
  void on_nodes(std::function<void(const std::vector<NodeInfo>&)> f) { on_nodes_ = std::move(f); }
  // The live nodes as of the last refresh (this one included once registered).
  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  // GET /cluster: {"self": id, "registered": bool, "nodes": [NodeInfo...]}.
  Json to_json() const;
  const ClusterCounters& counters() const { return counters_; }

 private:
  void beat();
  void refresh();

  RedisClient& redis_;
  NodeInfo self_;
  std::string instance_;
  std::function<void(NodeInfo&)> load_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point last_refresh_{};
  bool started_ = false, collision_ = false;
  std::vector<NodeInfo> nodes_;
  std::function<void(const std::vector<NodeInfo>&)> on_nodes_;
  ClusterCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sfu::signaling
