// A room's remote state (signaling/room_mirror.hpp): events, node death and
// directory snapshots give the local peers PROTOCOL.md's notifications,
// once each, in PROTOCOL.md's order.
#include "signaling/room_mirror.hpp"

#include <gtest/gtest.h>

namespace sfu::signaling {
namespace {

ClusterMessage msg(const std::string& node, ClusterEvent e, Json data) {
  return ClusterMessage{node, "i", "r", e, std::move(data)};
}
Json peer(const std::string& id) { return Json{{"peerId", id}, {"name", "N" + id}}; }
Json producer(const std::string& id, const std::string& peer_id, bool paused = false) {
  return Json{{"producerId", id}, {"peerId", peer_id}, {"kind", "audio"}, {"source", "microphone"},
              {"simulcast", Json::array()}, {"paused", paused}};
}
Json data_producer(const std::string& id, const std::string& peer_id) {
  return Json{{"dataProducerId", id}, {"peerId", peer_id}, {"label", "chat"}};
}
std::vector<std::string> methods(const Notifications& n) {
  std::vector<std::string> out;
  for (const auto& x : n) out.push_back(x.method + (x.params.contains("producerId") ? ":" + x.params["producerId"].get<std::string>() : x.params.contains("dataProducerId") ? ":" + x.params["dataProducerId"].get<std::string>() : ":" + x.params.value("peerId", "")));
  return out;
}

TEST(RoomMirror, EventsNotifyOnceAndRemovalsComeInProtocolOrder) {
  RoomMirror m;
  auto n = m.apply(msg("b", ClusterEvent::peer_joined, peer("p1")));
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].method, "peerJoined");
  EXPECT_EQ(n[0].params["remote"], true);
  EXPECT_TRUE(m.apply(msg("b", ClusterEvent::peer_joined, peer("p1"))).empty());  // again: nothing
  n = m.apply(msg("b", ClusterEvent::producer_added, producer("pr1", "p1")));
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].params["remote"], true);
  EXPECT_EQ(n[0].params["kind"], "audio");
  EXPECT_TRUE(m.apply(msg("b", ClusterEvent::producer_added, producer("pr1", "p1"))).empty());
  m.apply(msg("b", ClusterEvent::data_producer_added, data_producer("dp1", "p1")));
  EXPECT_EQ(methods(m.apply(msg("b", ClusterEvent::producer_paused, Json{{"producerId", "pr1"}, {"peerId", "p1"}}))),
            std::vector<std::string>{"producerPaused:pr1"});
  EXPECT_TRUE(m.apply(msg("b", ClusterEvent::producer_paused, Json{{"producerId", "pr1"}, {"peerId", "p1"}})).empty());
  EXPECT_EQ(m.producers_json()[0]["paused"], true);
  // The peer leaves without its removals having come (lost): they are made up, first.
  EXPECT_EQ(methods(m.apply(msg("b", ClusterEvent::peer_left, Json{{"peerId", "p1"}}))),
            (std::vector<std::string>{"producerRemoved:pr1", "dataProducerRemoved:dp1", "peerLeft:p1"}));
  EXPECT_TRUE(m.apply(msg("b", ClusterEvent::peer_left, Json{{"peerId", "p1"}})).empty());
  EXPECT_TRUE(m.apply(msg("b", ClusterEvent::producer_removed, Json{{"producerId", "pr1"}, {"peerId", "p1"}})).empty());
  EXPECT_TRUE(m.peers().empty());
  EXPECT_TRUE(m.producers().empty());
}

TEST(RoomMirror, ADeadNodesPeersLeaveAfterTheirProducers) {
  RoomMirror m;
  m.apply(msg("b", ClusterEvent::peer_joined, peer("p1")));
  m.apply(msg("b", ClusterEvent::producer_added, producer("pr1", "p1")));
  m.apply(msg("c", ClusterEvent::peer_joined, peer("p2")));
  m.apply(msg("c", ClusterEvent::producer_added, producer("pr2", "p2")));
  EXPECT_EQ(m.nodes(), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(methods(m.drop_node("b")), (std::vector<std::string>{"producerRemoved:pr1", "peerLeft:p1"}));
  EXPECT_TRUE(m.drop_node("b").empty());
  EXPECT_TRUE(m.has_peer("p2"));
  EXPECT_TRUE(m.has_producer("pr2"));
  EXPECT_EQ(m.nodes(), std::vector<std::string>{"c"});
}

TEST(RoomMirror, ResyncNotifiesOnlyTheDifference) {
  RoomMirror m;
  m.apply(msg("b", ClusterEvent::peer_joined, peer("p1")));
  m.apply(msg("b", ClusterEvent::producer_added, producer("pr1", "p1")));
  m.apply(msg("b", ClusterEvent::peer_joined, peer("p2")));
  RoomSnapshot s;
  s.peers["p2"] = RemoteEntry{"b", peer("p2")};
  s.peers["p3"] = RemoteEntry{"c", peer("p3")};
  s.producers["pr3"] = RemoteEntry{"c", producer("pr3", "p3", true)};
  EXPECT_EQ(methods(m.resync(s)),
            (std::vector<std::string>{"producerRemoved:pr1", "peerLeft:p1", "peerJoined:p3", "producerAdded:pr3"}));
  EXPECT_TRUE(m.resync(s).empty());
  s.producers["pr3"].json["paused"] = false;
  EXPECT_EQ(methods(m.resync(s)), std::vector<std::string>{"producerResumed:pr3"});
  EXPECT_EQ(m.peers_json().size(), 2u);
  for (const auto& p : m.peers_json()) EXPECT_EQ(p["remote"], true);
}

TEST(RoomMirror, SnapshotParsingSkipsOwnAndMalformedEntries) {
  uint64_t malformed = 0;
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"peer:p1", directory_value("b", "i", peer("p1"))},
      {"peer:p9", directory_value("a", "i", peer("p9"))},  // this node's own
      {"producer:pr1", directory_value("b", "i", producer("pr1", "p1"))},
      {"data:dp1", directory_value("b", "i", data_producer("dp1", "p1"))},
      {"peer:p2", "{not json"},
      {"peer:p3", directory_value("b", "i", peer("p4"))},  // field and id disagree
      {"producer:pr2", directory_value("bad node", "i", producer("pr2", "p1"))},
      {"peer:p5", R"({"peerId":"p5","name":"x"})"},  // no owner
      {"gremlin:x", directory_value("b", "i", peer("x"))},
      {"peer:p6", std::string(200, '[')},
  };
  const auto s = parse_room_snapshot(fields, "a", &malformed);
  EXPECT_EQ(malformed, 6u);
  ASSERT_EQ(s.peers.size(), 1u);
  EXPECT_EQ(s.peers.at("p1").node, "b");
  EXPECT_EQ(s.peers.at("p1").json, peer("p1"));
  EXPECT_EQ(s.producers.size(), 1u);
  EXPECT_EQ(s.data_producers.size(), 1u);
  EXPECT_EQ(directory_field(ClusterEvent::producer_paused, producer("pr1", "p1")), "producer:pr1");
}

}  // namespace
}  // namespace sfu::signaling
