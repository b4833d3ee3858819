#include "signaling/cluster_rooms.hpp"

#include <boost/asio/post.hpp>

#include "common/log.hpp"
#include "signaling/peer.hpp"

namespace sfu::signaling {

namespace {

constexpr const char* kDirNodesKey = "sfu:dirnodes";
constexpr const char* kRoomKeyPrefix = "sfu:room:";

std::string room_key(const std::string& room) { return kRoomKeyPrefix + room; }
std::string node_rooms_key(const std::string& node) { return "sfu:noderooms:" + node; }
std::string channel_of(const std::string& room) { return "sfu:events:" + room; }

// KEYS: room hash, the node's room set, sfu:dirnodes.
// ARGV: op (set|del|none), field, value, room, node, channel, message.
// The directory change and its event in one step: a reader of the hash
// who subscribed first never misses the change.
constexpr const char* kAnnounce = R"lua(
if ARGV[1] == 'set' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  redis.call('SADD', KEYS[2], ARGV[4])
  redis.call('SADD', KEYS[3], ARGV[5])
elseif ARGV[1] == 'del' then
  redis.call('HDEL', KEYS[1], ARGV[2])
end
return redis.call('PUBLISH', ARGV[6], ARGV[7])
)lua";

// KEYS: room hash, the node's room set, sfu:dirnodes.
// ARGV: node, room, then the field/value pairs the node holds now.
// Replaces the node's entries of the room; returns the removed pairs.
constexpr const char* kRegisterRoom = R"lua(
local keep = {}
for i = 3, #ARGV, 2 do keep[ARGV[i]] = true end
local removed = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if not keep[all[i]] then
    local ok, v = pcall(cjson.decode, all[i + 1])
    if ok and type(v) == 'table' and v.node == ARGV[1] then
      redis.call('HDEL', KEYS[1], all[i])
      removed[#removed + 1] = all[i]
      removed[#removed + 1] = all[i + 1]
    end
  end
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if #ARGV > 2 then
  redis.call('SADD', KEYS[2], ARGV[2])
  redis.call('SADD', KEYS[3], ARGV[1])
else
  redis.call('SREM', KEYS[2], ARGV[2])
end
return removed
)lua";

// KEYS: the node's registry hash, its room set, sfu:dirnodes.
// ARGV: node, room key prefix.
// Removes a dead node's entries and returns them as room, field, value
// triples. Atomic: of reapers racing, only the first finds anything, so
// the removals are announced once. A live node (its registry key exists)
// is never reaped.
constexpr const char* kReap = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return {} end
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local key = ARGV[2] .. room
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    local ok, v = pcall(cjson.decode, all[i + 1])
    if ok and type(v) == 'table' and v.node == ARGV[1] then
      redis.call('HDEL', key, all[i])
      out[#out + 1] = room
      out[#out + 1] = all[i]
      out[#out + 1] = all[i + 1]
    end
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return out
)lua";

bool is_removal(ClusterEvent e) {
  return e == ClusterEvent::peer_left || e == ClusterEvent::producer_removed || e == ClusterEvent::data_producer_removed;
}

}  // namespace

ClusterRooms::ClusterRooms(boost::asio::io_context& io, RedisClient& redis, ClusterNode& node, RoomDirectory& rooms,
                           std::string secret)
    : io_(io), redis_(redis), node_(node), rooms_(rooms), secret_(std::move(secret)), sweep_timer_(io) {}

ClusterRooms::~ClusterRooms() {
  *alive_ = false;
  if (rooms_.cluster() != this) return;
  rooms_.set_cluster(nullptr);
  for (const auto& name : rooms_.names())
    if (Room* room = rooms_.find(name)) room->set_cluster(nullptr);
}

void ClusterRooms::start() {
  if (started_) return;
  started_ = true;
  rooms_.set_cluster(this);
  rooms_.set_node_id(node_.id());
  auto alive = std::weak_ptr<bool>(alive_);
  // Redis (again) reachable: rewrite this node's entries, and clear what a
  // previous process with this node id left behind.
  redis_.on_ready_changed([this, alive](bool ready) {
    if (alive.expired() || !started_ || !ready) return;
    for (const auto& [name, state] : states_) register_room(name);
    redis_.command({"SMEMBERS", node_rooms_key(node_.id())}, [this, alive](RedisReply r) {
      if (alive.expired() || !started_ || !r || r->type != RedisValue::Type::array) return;
      for (const auto& room : r->elements)
        if (!states_.contains(room.str) && valid_room_name(room.str)) register_room(room.str);
    });
  });
  node_.on_nodes([this, alive](const std::vector<NodeInfo>& live) {
    if (!alive.expired() && started_) on_nodes(live);
  });
  sweep();
}

void ClusterRooms::stop() {
  if (!started_) return;
  started_ = false;
  sweep_timer_.cancel();
  for (auto& [name, state] : states_) finish_waiters(state, false);
}

void ClusterRooms::room_opened(Room& room) {
  const std::string name = room.name();
  states_[name] = RoomState{};
  auto alive = std::weak_ptr<bool>(alive_);
  redis_.subscribe(
      channel_of(name),
      [this, alive, name](const std::string&, const std::string& message) {
        if (!alive.expired()) on_message(name, message);
      },
      [this, alive, name] {
        if (!alive.expired()) load(name);
      });
}

void ClusterRooms::room_closed(Room& room) {
  const std::string name = room.name();
  auto it = states_.find(name);
  if (it != states_.end()) {
    finish_waiters(it->second, false);
    states_.erase(it);
  }
  redis_.unsubscribe(channel_of(name));
  register_room(name);  // no local entries left: removes stragglers, leaves the node's room set
}

void ClusterRooms::when_synced(Room& room, std::function<void(bool)> ready) {
  auto it = states_.find(room.name());
  const bool synced = it != states_.end() && it->second.synced;
  if (synced || it == states_.end() || !redis_.ready()) {
    if (!synced) ++counters_.sync_timeouts;
    return boost::asio::post(io_, [ready = std::move(ready), synced] { ready(synced); });
  }
  const uint64_t id = next_waiter_++;
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, kSyncTimeout);
  timer->async_wait([this, alive = std::weak_ptr<bool>(alive_), name = room.name(), id](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    auto s = states_.find(name);
    if (s == states_.end()) return;
    auto w = s->second.waiters.find(id);
    if (w == s->second.waiters.end()) return;
    auto done = std::move(w->second.ready);
    s->second.waiters.erase(w);
    ++counters_.sync_timeouts;
    log::warn("cluster room not synced in time: join refused", {{"room", name}});
    done(false);
  });
  it->second.waiters.emplace(id, Waiter{std::move(ready), std::move(timer)});
}

void ClusterRooms::finish_waiters(RoomState& state, bool ok) {
  auto waiters = std::move(state.waiters);
  state.waiters.clear();
  for (auto& [id, w] : waiters) {
    w.timer->cancel();
    boost::asio::post(io_, [ready = std::move(w.ready), ok] { ready(ok); });
  }
}

// Reads the room's hash (after each confirmed subscription) and makes the
// mirror agree with it.
void ClusterRooms::load(const std::string& name) {
  auto it = states_.find(name);
  if (it == states_.end()) return;
  const uint64_t generation = it->second.generation = next_generation_++;
  auto alive = std::weak_ptr<bool>(alive_);
  redis_.command({"HGETALL", room_key(name)}, [this, alive, name, generation](RedisReply r) {
    if (alive.expired()) return;
    auto s = states_.find(name);
    Room* room = rooms_.find(name);
    if (s == states_.end() || s->second.generation != generation || !room) return;
    if (!r || r->type != RedisValue::Type::array) {
      ++counters_.resync_failures;
      // Try again while the subscription holds (a timeout, or Redis busy).
      auto retry = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(500));
      retry->async_wait([this, alive, name, retry](boost::system::error_code ec) {
        if (!ec && !alive.expired() && redis_.subscribed(channel_of(name))) load(name);
      });
      return;
    }
    std::vector<std::pair<std::string, std::string>> fields;
    for (size_t i = 0; i + 1 < r->elements.size(); i += 2) fields.emplace_back(r->elements[i].str, r->elements[i + 1].str);
    const auto snapshot = parse_room_snapshot(fields, node_.id(), &counters_.malformed_entries);
    ++counters_.resyncs;
    deliver(*room, room->remote().resync(snapshot));
    const auto now = std::chrono::steady_clock::now();
    for (const auto& n : room->remote().nodes())
      if (!live_.contains(n)) unknown_since_.try_emplace(n, now);
    s->second.synced = true;
    finish_waiters(s->second, true);
  });
}

void ClusterRooms::local_event(Room& room, std::string_view method, const Json& params) {
  const auto event = cluster_event_from(method);
  if (!event || *event == ClusterEvent::relay) return;
  auto data = checked_event_data(*event, params);
  if (!data) {
    log::error("cluster event not sent: invalid", {{"room", room.name()}, {"event", method}, {"error", data.error()}});
    ++counters_.publish_failures;
    return;
  }
  const std::string field = directory_field(*event, *data);
  switch (*event) {
    case ClusterEvent::peer_joined:
    case ClusterEvent::producer_added:
    case ClusterEvent::data_producer_added:
      return publish(room.name(), *event, *data, "set", field, directory_value(node_.id(), node_.instance(), *data));
    case ClusterEvent::producer_paused:
    case ClusterEvent::producer_resumed: {
      auto entry = room.find_producer((*data)["producerId"].get<std::string>());
      if (!entry) return;
      return publish(room.name(), *event, *data, "set", field,
                     directory_value(node_.id(), node_.instance(), entry->to_json()));
    }
    case ClusterEvent::peer_left:
    case ClusterEvent::producer_removed:
    case ClusterEvent::data_producer_removed: return publish(room.name(), *event, *data, "del", field, {});
    case ClusterEvent::active_speaker:
    case ClusterEvent::relay: return publish(room.name(), *event, *data, "none", {}, {});
  }
}

bool ClusterRooms::relay(Room& room, const std::string& from, const std::string& to, const Json& data) {
  if (!redis_.ready()) return false;
  ++counters_.relays_sent;
  publish(room.name(), ClusterEvent::relay, Json{{"from", from}, {"to", to}, {"data", data}}, "none", {}, {});
  return true;
}

void ClusterRooms::publish(const std::string& room, ClusterEvent event, const Json& data, const char* op,
                           const std::string& field, const std::string& value) {
  if (!redis_.ready()) {
    // The directory is rewritten when Redis is back (register_room).
    ++counters_.publish_failures;
    return;
  }
  ClusterMessage m{node_.id(), node_.instance(), room, event, data};
  std::string wire = encode_cluster_message(m, secret_);
  auto alive = std::weak_ptr<bool>(alive_);
  auto done = [this, alive](RedisReply r) {
    if (alive.expired()) return;
    if (!r || r->is_error()) ++counters_.publish_failures;
    else ++counters_.published;
  };
  if (std::string_view(op) == "none") return redis_.command({"PUBLISH", channel_of(room), std::move(wire)}, done);
  redis_.command({"EVAL", kAnnounce, "3", room_key(room), node_rooms_key(node_.id()), kDirNodesKey, op, field, value,
                  room, node_.id(), channel_of(room), std::move(wire)},
                 done);
}

void ClusterRooms::on_message(const std::string& room_name, const std::string& wire) {
  ++counters_.received;
  auto m = decode_cluster_message(wire, secret_);
  if (!m || m->room != room_name) {
    ++counters_.rejected;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_reject_log_ > std::chrono::seconds(10)) {
      last_reject_log_ = now;
      log::warn("cluster message rejected", {{"room", room_name},
                                             {"error", m ? std::string("room mismatch") : m.error()},
                                             {"rejected_total", counters_.rejected}});
    }
    return;
  }
  Room* room = rooms_.find(room_name);
  if (!room) return;
  // Our own events came back: only removals can matter (a reaper's).
  if (m->node == node_.id() && !is_removal(m->event)) return;
  if (m->event == ClusterEvent::relay) {
    if (Peer* target = room->find_peer(m->data["to"].get<std::string>())) {
      ++counters_.relays_delivered;
      target->notify("relayed", Json{{"from", m->data["from"]}, {"data", m->data["data"]}});
    }
    return;
  }
  if (m->node != node_.id() && !live_.contains(m->node)) unknown_since_.try_emplace(m->node, std::chrono::steady_clock::now());
  deliver(*room, room->remote().apply(*m));
}

void ClusterRooms::deliver(Room& room, const Notifications& notes) {
  for (const auto& n : notes) room.broadcast(n.method, n.params);
}

// After each registry read: a node that was live and is not now is dead;
// one that owns entries but never showed up in the registry is dead after
// a grace period.
void ClusterRooms::on_nodes(const std::vector<NodeInfo>& nodes) {
  if (!node_.registered()) return;  // our view is not current
  std::set<std::string> live;
  for (const auto& n : nodes) live.insert(n.id);
  std::vector<std::string> dead;
  for (const auto& n : live_)
    if (!live.contains(n)) dead.push_back(n);
  live_ = std::move(live);
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [name, state] : states_)
    if (Room* room = rooms_.find(name))
      for (const auto& n : room->remote().nodes())
        if (!live_.contains(n)) unknown_since_.try_emplace(n, now);
  for (auto it = unknown_since_.begin(); it != unknown_since_.end();) {
    if (live_.contains(it->first)) {
      it = unknown_since_.erase(it);
    } else if (now - it->second >= kUnknownNodeGrace) {
      dead.push_back(it->first);
      it = unknown_since_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& n : dead) node_dead(n);
}

void ClusterRooms::node_dead(const std::string& node) {
  if (node == node_.id()) return;
  ++counters_.nodes_dropped;
  log::warn("cluster node dead: dropping its peers", {{"node", node}});
  for (const auto& [name, state] : states_)
    if (Room* room = rooms_.find(name)) deliver(*room, room->remote().drop_node(node));
  reap(node);
}

void ClusterRooms::reap(const std::string& node) {
  if (!redis_.ready() || node == node_.id()) return;
  auto alive = std::weak_ptr<bool>(alive_);
  redis_.command({"EVAL", kReap, "3", "sfu:node:" + node, node_rooms_key(node), kDirNodesKey, node, kRoomKeyPrefix},
                 [this, alive, node](RedisReply r) {
                   if (alive.expired() || !r || r->type != RedisValue::Type::array || r->elements.empty()) return;
                   std::map<std::string, std::vector<RedisValue>> by_room;
                   for (size_t i = 0; i + 2 < r->elements.size(); i += 3) {
                     auto& pairs = by_room[r->elements[i].str];
                     pairs.push_back(r->elements[i + 1]);
                     pairs.push_back(r->elements[i + 2]);
                   }
                   counters_.reaped_entries += r->elements.size() / 3;
                   log::info("reaped a dead node's directory entries",
                             {{"node", node}, {"entries", r->elements.size() / 3}, {"rooms", by_room.size()}});
                   for (const auto& [room, pairs] : by_room) announce_removed(room, pairs);
                 });
}

// Announces the removal of directory entries (already gone from the hash):
// producers and data producers first, then their peers.
void ClusterRooms::announce_removed(const std::string& room, const std::vector<RedisValue>& pairs) {
  if (!valid_room_name(room)) return;
  std::vector<std::pair<std::string, std::string>> fields;
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) fields.emplace_back(pairs[i].str, pairs[i + 1].str);
  // Parsed as another node's entries (whoever owned them), malformed ones skipped.
  const auto removed = parse_room_snapshot(fields, {}, &counters_.malformed_entries);
  for (const auto& [id, e] : removed.producers)
    publish(room, ClusterEvent::producer_removed, Json{{"producerId", id}, {"peerId", e.json["peerId"]}}, "none", {},
            {});
  for (const auto& [id, e] : removed.data_producers)
    publish(room, ClusterEvent::data_producer_removed, e.json, "none", {}, {});
  for (const auto& [id, e] : removed.peers) publish(room, ClusterEvent::peer_left, Json{{"peerId", id}}, "none", {}, {});
}

void ClusterRooms::register_room(const std::string& name) {
  if (!redis_.ready()) return;
  std::vector<std::string> args{"EVAL", kRegisterRoom, "3", room_key(name), node_rooms_key(node_.id()), kDirNodesKey,
                                node_.id(), name};
  Room* room = states_.contains(name) ? rooms_.find(name) : nullptr;
  std::vector<std::pair<ClusterEvent, Json>> adds;
  if (room) {
    for (const Peer* p : room->peers()) adds.emplace_back(ClusterEvent::peer_joined, Json{{"peerId", p->id()}, {"name", p->name()}});
    for (const auto& [id, e] : room->producers()) adds.emplace_back(ClusterEvent::producer_added, e->to_json());
    for (const auto& [id, e] : room->data_producers()) adds.emplace_back(ClusterEvent::data_producer_added, e->to_json());
  }
  for (const auto& [event, data] : adds) {
    args.push_back(directory_field(event, data));
    args.push_back(directory_value(node_.id(), node_.instance(), data));
  }
  auto alive = std::weak_ptr<bool>(alive_);
  redis_.command(std::move(args), [this, alive, name, adds = std::move(adds)](RedisReply r) {
    if (alive.expired() || !r || r->type != RedisValue::Type::array) return;
    announce_removed(name, r->elements);
    // Re-announce what this node holds: nodes that dropped it (Redis was
    // lost long enough for the registry entry to expire) see it again;
    // the others' mirrors ignore what they know.
    for (const auto& [event, data] : adds) publish(name, event, data, "none", {}, {});
  });
}

void ClusterRooms::sweep() {
  if (!started_) return;
  sweep_timer_.expires_after(kSweep);
  sweep_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    sweep();
  });
  if (!node_.registered()) return;
  redis_.command({"SMEMBERS", kDirNodesKey}, [this, alive = std::weak_ptr<bool>(alive_)](RedisReply r) {
    if (alive.expired() || !r || r->type != RedisValue::Type::array) return;
    for (const auto& n : r->elements)
      if (n.str != node_.id() && !live_.contains(n.str) && valid_cluster_id(n.str)) reap(n.str);
  });
}

void cluster_rooms_metrics(server::Exposition& x, const ClusterRooms& rooms) {
  using Type = server::Exposition::Type;
  const auto& c = rooms.counters();
  x.family("sfu_cluster_events_total", Type::counter, "Room events between nodes, by outcome.");
  x.sample({{"outcome", "published"}}, c.published);
  x.sample({{"outcome", "publish_failed"}}, c.publish_failures);
  x.sample({{"outcome", "received"}}, c.received);
  x.sample({{"outcome", "rejected"}}, c.rejected);
  x.family("sfu_cluster_room_syncs_total", Type::counter, "Reads of a room's directory, by outcome.");
  x.sample({{"outcome", "ok"}}, c.resyncs);
  x.sample({{"outcome", "failed"}}, c.resync_failures);
  x.sample({{"outcome", "join_timeout"}}, c.sync_timeouts);
  x.family("sfu_cluster_malformed_directory_entries_total", Type::counter,
           "Room directory entries skipped as malformed.");
  x.sample(c.malformed_entries);
  x.family("sfu_cluster_dead_nodes_total", Type::counter, "Nodes seen dying, their peers dropped from local rooms.");
  x.sample(c.nodes_dropped);
  x.family("sfu_cluster_reaped_entries_total", Type::counter, "Dead nodes' directory entries this node removed.");
  x.sample(c.reaped_entries);
  x.family("sfu_cluster_relays_total", Type::counter, "relay messages to peers on other nodes.");
  x.sample({{"direction", "sent"}}, c.relays_sent);
  x.sample({{"direction", "delivered"}}, c.relays_delivered);
}

}  // namespace sfu::signaling
