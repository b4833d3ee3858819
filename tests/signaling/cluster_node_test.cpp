// The node registry's encoding (signaling/cluster_node.hpp).
#include "signaling/cluster_node.hpp"

#include <gtest/gtest.h>

namespace sfu::signaling {
namespace {

NodeInfo sample() {
  NodeInfo n;
  n.id = "node-a";
  n.url = "http://10.0.0.5:8080";
  n.media = {"10.0.0.5:40000", "10.0.0.5:40001"};
  n.fingerprint = "sha-256 AB:CD";
  n.version = "0.1.0";
  n.started_at = 1'796'000'000;
  n.peers = 12;
  n.rooms = 3;
  n.worker_cpu = {1.5, 2.25};
  n.draining = true;
  return n;
}

TEST(NodeInfo, RoundTripsThroughJson) {
  const Json j = to_json(sample());
  auto back = node_info_from_json(Json::parse(j.dump()));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(to_json(*back), j);
}

TEST(NodeInfo, RefusesMalformedEntries) {
  const Json good = to_json(sample());
  EXPECT_FALSE(node_info_from_json(Json::array()));
  EXPECT_FALSE(node_info_from_json(Json::parse("\"text\"")));
  for (const char* field : {"id", "url", "relay", "fingerprint", "version", "startedAt", "peers", "rooms", "media",
                            "workerCpuSeconds", "draining"}) {
    Json missing = good;
    missing.erase(field);
    EXPECT_FALSE(node_info_from_json(missing)) << "without " << field;
    Json wrong = good;
    wrong[field] = Json::object();
    EXPECT_FALSE(node_info_from_json(wrong)) << "wrong type of " << field;
  }
  Json negative = good;
  negative["peers"] = -1;
  EXPECT_FALSE(node_info_from_json(negative));
  Json empty_id = good;
  empty_id["id"] = "";
  EXPECT_FALSE(node_info_from_json(empty_id));
  Json bad_media = good;
  bad_media["media"] = Json::array({1, 2});
  EXPECT_FALSE(node_info_from_json(bad_media));
}

}  // namespace
}  // namespace sfu::signaling
