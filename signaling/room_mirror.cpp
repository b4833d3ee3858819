#include "signaling/room_mirror.hpp"

namespace sfu::signaling {

namespace {

Json flagged(const Json& j) {
  Json out = j;
  out["remote"] = true;
  return out;
}

Json removal(const Json& producer) {
  return Json{{"producerId", producer["producerId"]}, {"peerId", producer["peerId"]}};
}

Json list(const std::map<std::string, RemoteEntry>& entries) {
  Json out = Json::array();
  for (const auto& [id, e] : entries) out.push_back(flagged(e.json));
  return out;
}

}  // namespace

std::string directory_field(ClusterEvent event, const Json& data) {
  switch (event) {
    case ClusterEvent::peer_joined:
    case ClusterEvent::peer_left: return "peer:" + data.value("peerId", "");
    case ClusterEvent::producer_added:
    case ClusterEvent::producer_removed:
    case ClusterEvent::producer_paused:
    case ClusterEvent::producer_resumed: return "producer:" + data.value("producerId", "");
    case ClusterEvent::data_producer_added:
    case ClusterEvent::data_producer_removed: return "data:" + data.value("dataProducerId", "");
    case ClusterEvent::active_speaker:
    case ClusterEvent::relay: break;
  }
  return {};
}

std::string directory_value(std::string_view node, std::string_view instance, const Json& data) {
  Json v = data;
  v["node"] = node;
  v["inst"] = instance;
  return v.dump();
}

RoomSnapshot parse_room_snapshot(const std::vector<std::pair<std::string, std::string>>& fields,
                                 std::string_view self_node, uint64_t* malformed) {
  RoomSnapshot s;
  for (const auto& [field, value] : fields) {
    const size_t colon = field.find(':');
    const std::string kind = field.substr(0, colon == std::string::npos ? 0 : colon);
    const ClusterEvent event = kind == "peer"       ? ClusterEvent::peer_joined
                               : kind == "producer" ? ClusterEvent::producer_added
                                                    : ClusterEvent::data_producer_added;
    Json v = json_nesting_depth(value) > kMaxJsonDepth ? Json()
                                                       : Json::parse(value, nullptr, /*allow_exceptions=*/false);
    const bool known = kind == "peer" || kind == "producer" || kind == "data";
    auto node = v.is_object() ? v.find("node") : v.end();
    auto data = known && v.is_object() ? checked_event_data(event, v) : fail(std::string("unknown field"));
    const bool ok = data && node != v.end() && node->is_string() &&
                    valid_cluster_id(node->get_ref<const std::string&>()) &&
                    directory_field(event, *data) == field;
    if (!ok) {
      if (malformed) ++*malformed;
      continue;
    }
    const std::string& owner = node->get_ref<const std::string&>();
    if (owner == self_node) continue;
    auto& into = kind == "peer" ? s.peers : kind == "producer" ? s.producers : s.data_producers;
    into[field.substr(colon + 1)] = RemoteEntry{owner, std::move(*data)};
  }
  return s;
}

void RoomMirror::add(std::map<std::string, RemoteEntry>& into, const std::string& id, RemoteEntry e,
                     const char* method, Notifications& out) {
  auto [it, fresh] = into.try_emplace(id, e);
  if (fresh) {
    out.push_back({method, flagged(e.json)});
    return;
  }
  // Known already: only a producer's pause state can differ.
  const bool was = it->second.json.value("paused", false), now = e.json.value("paused", false);
  it->second = std::move(e);
  if (&into == &s_.producers && was != now)
    out.push_back({now ? "producerPaused" : "producerResumed", removal(it->second.json)});
}

void RoomMirror::remove_peer(const std::string& peer_id, Notifications& out) {
  for (auto it = s_.producers.begin(); it != s_.producers.end();) {
    if (it->second.json.value("peerId", "") != peer_id) {
      ++it;
      continue;
    }
    out.push_back({"producerRemoved", removal(it->second.json)});
    it = s_.producers.erase(it);
  }
  for (auto it = s_.data_producers.begin(); it != s_.data_producers.end();) {
    if (it->second.json.value("peerId", "") != peer_id) {
      ++it;
      continue;
    }
    out.push_back({"dataProducerRemoved", it->second.json});
    it = s_.data_producers.erase(it);
  }
  if (s_.peers.erase(peer_id)) out.push_back({"peerLeft", Json{{"peerId", peer_id}}});
}

Notifications RoomMirror::apply(const ClusterMessage& m) {
  Notifications out;
  const Json& d = m.data;
  switch (m.event) {
    case ClusterEvent::peer_joined:
      add(s_.peers, d["peerId"], RemoteEntry{m.node, d}, "peerJoined", out);
      break;
    case ClusterEvent::peer_left:
      remove_peer(d["peerId"], out);
      break;
    case ClusterEvent::producer_added:
      add(s_.producers, d["producerId"], RemoteEntry{m.node, d}, "producerAdded", out);
      break;
    case ClusterEvent::producer_removed:
      if (s_.producers.erase(d["producerId"].get<std::string>())) out.push_back({"producerRemoved", d});
      break;
    case ClusterEvent::producer_paused:
    case ClusterEvent::producer_resumed: {
      auto it = s_.producers.find(d["producerId"].get<std::string>());
      const bool paused = m.event == ClusterEvent::producer_paused;
      if (it == s_.producers.end() || it->second.json.value("paused", false) == paused) break;
      it->second.json["paused"] = paused;
      out.push_back({std::string(to_string(m.event)), removal(it->second.json)});
      break;
    }
    case ClusterEvent::data_producer_added:
      add(s_.data_producers, d["dataProducerId"], RemoteEntry{m.node, d}, "dataProducerAdded", out);
      break;
    case ClusterEvent::data_producer_removed:
      if (s_.data_producers.erase(d["dataProducerId"].get<std::string>())) out.push_back({"dataProducerRemoved", d});
      break;
    case ClusterEvent::active_speaker:
      out.push_back({"activeSpeaker", d});
      break;
    case ClusterEvent::relay: break;
  }
  return out;
}

Notifications RoomMirror::drop_node(std::string_view node) {
  Notifications out;
  std::vector<std::string> gone;
  for (const auto& [id, e] : s_.peers)
    if (e.node == node) gone.push_back(id);
  for (const auto& id : gone) remove_peer(id, out);
  // Entries of the node whose peer is not (or no longer) known.
  for (auto it = s_.producers.begin(); it != s_.producers.end();) {
    if (it->second.node != node) {
      ++it;
      continue;
    }
    out.push_back({"producerRemoved", removal(it->second.json)});
    it = s_.producers.erase(it);
  }
  for (auto it = s_.data_producers.begin(); it != s_.data_producers.end();) {
    if (it->second.node != node) {
      ++it;
      continue;
    }
    out.push_back({"dataProducerRemoved", it->second.json});
    it = s_.data_producers.erase(it);
  }
  return out;
}

Notifications RoomMirror::resync(const RoomSnapshot& snap) {
  Notifications out;
  // Removals first: producers and data producers, then peers.
  for (auto it = s_.producers.begin(); it != s_.producers.end();) {
    if (snap.producers.contains(it->first)) {
      ++it;
      continue;
    }
    out.push_back({"producerRemoved", removal(it->second.json)});
    it = s_.producers.erase(it);
  }
  for (auto it = s_.data_producers.begin(); it != s_.data_producers.end();) {
    if (snap.data_producers.contains(it->first)) {
      ++it;
      continue;
    }
    out.push_back({"dataProducerRemoved", it->second.json});
    it = s_.data_producers.erase(it);
  }
  std::vector<std::string> gone;
  for (const auto& [id, e] : s_.peers)
    if (!snap.peers.contains(id)) gone.push_back(id);
  for (const auto& id : gone) remove_peer(id, out);
  // Then additions: peers before what they publish.
  for (const auto& [id, e] : snap.peers) add(s_.peers, id, e, "peerJoined", out);
  for (const auto& [id, e] : snap.producers) add(s_.producers, id, e, "producerAdded", out);
  for (const auto& [id, e] : snap.data_producers) add(s_.data_producers, id, e, "dataProducerAdded", out);
  return out;
}

Json RoomMirror::peers_json() const { return list(s_.peers); }
Json RoomMirror::producers_json() const { return list(s_.producers); }
Json RoomMirror::data_producers_json() const { return list(s_.data_producers); }

std::vector<std::string> RoomMirror::nodes() const {
  std::vector<std::string> out;
  auto note = [&](const std::map<std::string, RemoteEntry>& m) {
    for (const auto& [id, e] : m)
      if (std::find(out.begin(), out.end(), e.node) == out.end()) out.push_back(e.node);
  };
  note(s_.peers);
  note(s_.producers);
  note(s_.data_producers);
  return out;
}

}  // namespace sfu::signaling
