// Cluster mode's room events between nodes (issue 15, item 3): what one
// node tells the others about a room, over the room's Redis pub/sub
// channel, and what it keeps in the room's directory hash.
//
// Wire format of one pub/sub message (one message, one event):
//
//   <base64url(HMAC-SHA256(cluster.secret, body))> "." <body>
//   body = {"node":"n1","inst":"<process instance>","room":"r","event":"peerJoined","data":{...}}
//
// The MAC covers the body bytes exactly as sent; a message whose MAC does
// not verify is rejected before its JSON is parsed. `data` is checked
// field by field for its event and rebuilt from the checked fields, so
// nothing a forged or broken message adds reaches a client.
//
// Events and their data (the PROTOCOL.md notification of the same name):
//   peerJoined          {peerId, name}
//   peerLeft            {peerId}
//   producerAdded       {producerId, peerId, kind, source, simulcast, paused}
//   producerRemoved     {producerId, peerId}
//   producerPaused      {producerId, peerId}       producerResumed: same
//   dataProducerAdded   {dataProducerId, peerId, label}
//   dataProducerRemoved {dataProducerId, peerId, label}
//   activeSpeaker       {peerId, audioLevel}
//   relay               {from, to, data}           PROTOCOL.md `relay` to a peer on another node
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "signaling/jsonrpc.hpp"

namespace sfu::signaling {

enum class ClusterEvent : uint8_t {
  peer_joined,
  peer_left,
  producer_added,
  producer_removed,
  producer_paused,
  producer_resumed,
  data_producer_added,
  data_producer_removed,
  active_speaker,
  relay,
};
// The PROTOCOL.md method name ("peerJoined", ...).
std::string_view to_string(ClusterEvent e);
std::optional<ClusterEvent> cluster_event_from(std::string_view name);

struct ClusterMessage {
  std::string node;      // the sender
  std::string instance;  // the sender's process (cluster_node.hpp)
  std::string room;
  ClusterEvent event = ClusterEvent::peer_joined;
  Json data = Json::object();
};

// Largest message accepted (a relay carries up to 16 KiB of data).
inline constexpr size_t kMaxClusterMessageBytes = 32 * 1024;

std::string encode_cluster_message(const ClusterMessage& m, std::string_view secret);
// Verifies the MAC, then the fields; the error names what was wrong.
Result<ClusterMessage, std::string> decode_cluster_message(std::string_view wire, std::string_view secret);

// `data` checked for `event` and rebuilt from its known fields.
Result<Json, std::string> checked_event_data(ClusterEvent event, const Json& data);

// Node ids, peer ids and the like: 1-64 characters of [A-Za-z0-9._-].
bool valid_cluster_id(std::string_view id);

}  // namespace sfu::signaling
