// What one node knows of a room's peers on other nodes (cluster mode): the
// remote peers, producers and data producers, kept from the room's events
// (cluster_message.hpp) and its directory snapshot. Pure: every change
// returns the PROTOCOL.md notifications the local peers must get, in the
// order PROTOCOL.md requires (a peer's producers and data producers are
// removed before it leaves), and applying the same fact twice notifies
// once, so events and snapshots may overlap in any order.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signaling/cluster_message.hpp"

namespace sfu::signaling {

// One remote entry: its owner node and its PROTOCOL.md object.
struct RemoteEntry {
  std::string node;
  Json json;  // {peerId, name} / producer object / data producer object
};

// A room's directory hash, parsed (entries of this node left out).
struct RoomSnapshot {
  std::map<std::string, RemoteEntry> peers, producers, data_producers;
};

// The directory hash (field → value, as HGETALL returns it) of a room:
//   "peer:<id>"     → {"node","inst", peerJoined data}
//   "producer:<id>" → {"node","inst", producerAdded data}
//   "data:<id>"     → {"node","inst", dataProducerAdded data}
// Entries of `self_node` are skipped; malformed ones are skipped and counted.
RoomSnapshot parse_room_snapshot(const std::vector<std::pair<std::string, std::string>>& fields,
                                 std::string_view self_node, uint64_t* malformed);
// The directory field and value for an entry added by `event`.
std::string directory_field(ClusterEvent event, const Json& data);
std::string directory_value(std::string_view node, std::string_view instance, const Json& data);

struct Notification {
  std::string method;
  Json params;
};
using Notifications = std::vector<Notification>;

class RoomMirror {
 public:
  // An event from another node (relay is not the mirror's: no-op).
  Notifications apply(const ClusterMessage& m);
  // `node` is dead: its producers and data producers go, then its peers.
  Notifications drop_node(std::string_view node);
  // The directory as read now replaces what was known; what differs is
  // notified (removals first, then additions).
  Notifications resync(const RoomSnapshot& s);

  // For join's lists: PROTOCOL.md objects flagged "remote": true.
  Json peers_json() const;
  Json producers_json() const;
  Json data_producers_json() const;
  const std::map<std::string, RemoteEntry>& peers() const { return s_.peers; }
  const std::map<std::string, RemoteEntry>& producers() const { return s_.producers; }
  bool has_peer(std::string_view id) const { return s_.peers.contains(std::string(id)); }
  bool has_producer(std::string_view id) const { return s_.producers.contains(std::string(id)); }
  // The nodes owning at least one entry.
  std::vector<std::string> nodes() const;

 private:
  void remove_peer(const std::string& peer_id, Notifications& out);
  void add(std::map<std::string, RemoteEntry>& into, const std::string& id, RemoteEntry e, const char* method,
           Notifications& out);

  RoomSnapshot s_;
};

}  // namespace sfu::signaling
