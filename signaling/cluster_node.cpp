// The node registry (cluster_node.hpp).
#include "signaling/cluster_node.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

#include "common/log.hpp"

namespace sfu::signaling {

namespace {

// KEYS[1] sfu:node:<id>, KEYS[2] sfu:nodes; ARGV instance, info, ttl ms, id.
// 1: refreshed; 0: another instance holds the id.
constexpr const char* kRegister = R"lua(
local cur = redis.call('HGET', KEYS[1], 'instance')
if cur and cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'instance', ARGV[1], 'info', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4])
return 1
)lua";

// KEYS[1] sfu:nodes: the info of every live node; ids whose hash expired
// are removed from the set on the way.
constexpr const char* kList = R"lua(
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local info = redis.call('HGET', 'sfu:node:' .. id, 'info')
  if info then table.insert(out, info) else redis.call('SREM', KEYS[1], id) end
end
return out
)lua";

// KEYS[1] sfu:node:<id>, KEYS[2] sfu:nodes; ARGV instance, id.
constexpr const char* kLeave = R"lua(
if redis.call('HGET', KEYS[1], 'instance') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SREM', KEYS[2], ARGV[2])
  return 1
end
return 0
)lua";

constexpr const char* kNodesKey = "sfu:nodes";

std::string random_instance() {
  std::random_device rd;
  char buf[17];
  snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

}  // namespace

Json to_json(const NodeInfo& n) {
  return Json{{"id", n.id},
              {"url", n.url},
              {"media", n.media},
              {"relay", n.relay},
              {"fingerprint", n.fingerprint},
              {"version", n.version},
              {"startedAt", n.started_at},
              {"peers", n.peers},
              {"rooms", n.rooms},
              {"workerCpuSeconds", n.worker_cpu},
              {"draining", n.draining}};
}

Result<NodeInfo, std::string> node_info_from_json(const Json& j) {
  if (!j.is_object()) return fail(std::string("not an object"));
  NodeInfo n;
  auto str = [&](const char* k, std::string& out) {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto uint = [&](const char* k, uint64_t& out) {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number_unsigned()) return false;
    out = it->get<uint64_t>();
    return true;
  };
  if (!str("id", n.id) || n.id.empty() || n.id.size() > 128) return fail(std::string("id"));
  if (!str("url", n.url) || !str("relay", n.relay) || !str("fingerprint", n.fingerprint) || !str("version", n.version))
    return fail(std::string("url, relay, fingerprint or version"));
  if (!uint("peers", n.peers) || !uint("rooms", n.rooms)) return fail(std::string("peers or rooms"));
  auto started = j.find("startedAt");
  if (started == j.end() || !started->is_number_integer()) return fail(std::string("startedAt"));
  n.started_at = started->get<int64_t>();
  auto media = j.find("media");
  if (media == j.end() || !media->is_array() || media->size() > 256) return fail(std::string("media"));
  for (const auto& m : *media) {
    if (!m.is_string()) return fail(std::string("media"));
    n.media.push_back(m.get<std::string>());
  }
  auto cpu = j.find("workerCpuSeconds");
  if (cpu == j.end() || !cpu->is_array() || cpu->size() > 256) return fail(std::string("workerCpuSeconds"));
  for (const auto& c : *cpu) {
    if (!c.is_number()) return fail(std::string("workerCpuSeconds"));
    n.worker_cpu.push_back(c.get<double>());
  }
  auto draining = j.find("draining");
  if (draining == j.end() || !draining->is_boolean()) return fail(std::string("draining"));
  n.draining = draining->get<bool>();
  return n;
}

ClusterNode::ClusterNode(boost::asio::io_context& io, RedisClient& redis, NodeInfo self,
                         std::function<void(NodeInfo&)> load)
    : redis_(redis), self_(std::move(self)), instance_(random_instance()), load_(std::move(load)), timer_(io) {}

void ClusterNode::start() {
  if (started_) return;
  started_ = true;
  // Register as soon as Redis is (again) ready, not a beat later.
  redis_.on_ready_changed([this, alive = std::weak_ptr<bool>(alive_)](bool ready) {
    if (alive.expired() || !started_) return;
    if (ready) return refresh();
    nodes_.clear();  // unknown until Redis is back: /cluster shows none rather than stale ones
  });
  beat();
}

bool ClusterNode::registered() const {
  return redis_.ready() && !collision_ && last_refresh_ != std::chrono::steady_clock::time_point{} &&
         std::chrono::steady_clock::now() - last_refresh_ < kTtl;
}

// Refresh this node's entry, then read the live nodes; again in a second.
void ClusterNode::beat() {
  if (!started_) return;
  timer_.expires_after(kBeat);
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
    if (!ec && !alive.expired()) beat();
  });
  refresh();
}

void ClusterNode::refresh() {
  if (!redis_.ready()) return;
  if (load_) load_(self_);
  const std::string key = "sfu:node:" + self_.id;
  auto alive = std::weak_ptr<bool>(alive_);
  const auto sent = std::chrono::steady_clock::now();  // the TTL runs from here, not from the reply
  redis_.command({"EVAL", kRegister, "2", key, kNodesKey, instance_, signaling::to_json(self_).dump(),
                  std::to_string(kTtl.count()), self_.id},
                 [this, alive, sent](RedisReply r) {
                   if (alive.expired()) return;
                   if (!r || r->type != RedisValue::Type::integer) {
                     ++counters_.refresh_failures;
                     return;
                   }
                   if (r->integer == 0) {
                     if (!collision_)
                       log::error("node id collision: another live node holds this id; not registering",
                                  {{"node", self_.id}});
                     collision_ = true;
                     ++counters_.collisions;
                     return;
                   }
                   if (collision_) log::info("node id free again; registered", {{"node", self_.id}});
                   collision_ = false;
                   ++counters_.refreshes;
                   last_refresh_ = sent;
                 });
  redis_.command({"EVAL", kList, "1", kNodesKey}, [this, alive](RedisReply r) {
    if (alive.expired() || !r || r->type != RedisValue::Type::array) return;
    std::vector<NodeInfo> nodes;
    for (const auto& e : r->elements) {
      const Json j = Json::parse(e.str, nullptr, false);
      auto n = node_info_from_json(j);
      if (!n) {
        ++counters_.malformed_entries;
        continue;
      }
      nodes.push_back(std::move(*n));
    }
    std::sort(nodes.begin(), nodes.end(), [](const NodeInfo& a, const NodeInfo& b) { return a.id < b.id; });
    for (const auto& n : nodes)
      if (std::none_of(nodes_.begin(), nodes_.end(), [&](const NodeInfo& o) { return o.id == n.id; }))
        log::info("cluster node up", {{"node", n.id}, {"url", n.url}});
    for (const auto& o : nodes_)
      if (std::none_of(nodes.begin(), nodes.end(), [&](const NodeInfo& n) { return o.id == n.id; }))
        log::warn("cluster node gone", {{"node", o.id}, {"url", o.url}});
    nodes_ = std::move(nodes);
    if (on_nodes_) on_nodes_(nodes_);
  });
}

void ClusterNode::leave(std::function<void()> done) {
  started_ = false;
  timer_.cancel();
  if (!redis_.ready() || collision_) return done();
  redis_.command({"EVAL", kLeave, "2", "sfu:node:" + self_.id, kNodesKey, instance_, self_.id},
                 [done = std::move(done)](RedisReply) { done(); });
}

Json ClusterNode::to_json() const {
  Json nodes = Json::array();
  for (const auto& n : nodes_) nodes.push_back(signaling::to_json(n));
  return Json{{"self", self_.id}, {"registered", registered()}, {"collision", collision_}, {"nodes", nodes}};
}

void cluster_metrics(server::Exposition& x, const RedisClient& redis, const ClusterNode& node) {
  using Type = server::Exposition::Type;
  const auto& r = redis.counters();
  x.family("sfu_redis_up", Type::gauge, "1 while the Redis connection is ready (cluster mode).");
  x.sample(uint64_t(redis.ready() ? 1 : 0));
  x.family("sfu_redis_commands_total", Type::counter, "Commands sent to Redis.");
  x.sample(r.commands);
  x.family("sfu_redis_failures_total", Type::counter, "Redis calls without a usable reply, by reason.");
  x.sample({{"reason", "timeout"}}, r.timeouts);
  x.sample({{"reason", "error_reply"}}, r.error_replies);
  x.sample({{"reason", "not_connected"}}, r.failed);
  x.family("sfu_redis_connects_total", Type::counter, "Redis connections made, lost and failed.");
  x.sample({{"event", "connected"}}, r.connects);
  x.sample({{"event", "lost"}}, r.disconnects);
  x.sample({{"event", "failed"}}, r.connect_failures);
  x.sample({{"event", "auth_failed"}}, r.auth_failures);
  x.family("sfu_redis_round_trip_seconds", Type::histogram, "Redis command round trips (replies only).");
  x.histogram({}, r.round_trip, 1e6);
  const auto& c = node.counters();
  x.family("sfu_cluster_refreshes_total", Type::counter, "Registry refreshes of this node, by outcome.");
  x.sample({{"outcome", "ok"}}, c.refreshes);
  x.sample({{"outcome", "failed"}}, c.refresh_failures);
  x.sample({{"outcome", "id_collision"}}, c.collisions);
  x.family("sfu_cluster_malformed_entries_total", Type::counter, "Registry entries of other nodes refused as malformed.");
  x.sample(c.malformed_entries);
  x.family("sfu_cluster_nodes", Type::gauge, "Live nodes in the registry, this one included.");
  x.sample(uint64_t(node.nodes().size()));
  x.family("sfu_cluster_registered", Type::gauge, "1 while this node's registry entry is fresh.");
  x.sample(uint64_t(node.registered() ? 1 : 0));
}

}  // namespace sfu::signaling
