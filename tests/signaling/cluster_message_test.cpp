// Room events between nodes (signaling/cluster_message.hpp): the signed
// envelope and the per-event checks.
#include "signaling/cluster_message.hpp"

#include <gtest/gtest.h>

#include "signaling/auth.hpp"

namespace sfu::signaling {
namespace {

const std::string kSecret = "a-cluster-secret-of-some-length";

ClusterMessage producer_added() {
  return ClusterMessage{"n1", "inst01", "room-1", ClusterEvent::producer_added,
                        Json{{"producerId", "pr_abc"}, {"peerId", "p_1"}, {"kind", "video"}, {"source", "camera"},
                             {"simulcast", {"q", "h", "f"}}, {"paused", false}}};
}

TEST(ClusterMessage, RoundTripsEveryEvent) {
  const std::vector<std::pair<ClusterEvent, Json>> cases = {
      {ClusterEvent::peer_joined, {{"peerId", "p_1"}, {"name", "Ada"}}},
      {ClusterEvent::peer_left, {{"peerId", "p_1"}}},
      {ClusterEvent::producer_added, producer_added().data},
      {ClusterEvent::producer_removed, {{"producerId", "pr_abc"}, {"peerId", "p_1"}}},
      {ClusterEvent::producer_paused, {{"producerId", "pr_abc"}, {"peerId", "p_1"}}},
      {ClusterEvent::producer_resumed, {{"producerId", "pr_abc"}, {"peerId", "p_1"}}},
      {ClusterEvent::data_producer_added, {{"dataProducerId", "dp_1"}, {"peerId", "p_1"}, {"label", "chat"}}},
      {ClusterEvent::data_producer_removed, {{"dataProducerId", "dp_1"}, {"peerId", "p_1"}, {"label", "chat"}}},
      {ClusterEvent::active_speaker, {{"peerId", "p_1"}, {"audioLevel", -30}}},
      {ClusterEvent::relay, {{"from", "p_1"}, {"to", "p_2"}, {"data", {{"any", {1, 2, 3}}}}}},
  };
  for (const auto& [event, data] : cases) {
    ClusterMessage m{"node-a", "i1", "r", event, data};
    auto back = decode_cluster_message(encode_cluster_message(m, kSecret), kSecret);
    ASSERT_TRUE(back) << to_string(event) << ": " << back.error();
    EXPECT_EQ(back->node, "node-a");
    EXPECT_EQ(back->instance, "i1");
    EXPECT_EQ(back->room, "r");
    EXPECT_EQ(back->event, event);
    EXPECT_EQ(back->data, data) << to_string(event);
    EXPECT_EQ(cluster_event_from(to_string(event)), event);
  }
}

TEST(ClusterMessage, AForgedOrAlteredMessageIsRejectedBeforeParsing) {
  const std::string wire = encode_cluster_message(producer_added(), kSecret);
  EXPECT_FALSE(decode_cluster_message(wire, "another-secret-entirely"));
  std::string altered = wire;
  altered[altered.find("video")] = 'V';
  auto r = decode_cluster_message(altered, kSecret);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "bad MAC");
  // The body alone, a MAC that is not base64url, no MAC at all.
  EXPECT_FALSE(decode_cluster_message(wire.substr(wire.find('.') + 1), kSecret));
  EXPECT_FALSE(decode_cluster_message("!!!." + wire.substr(wire.find('.') + 1), kSecret));
  EXPECT_FALSE(decode_cluster_message("", kSecret));
  EXPECT_FALSE(decode_cluster_message(".", kSecret));
}

// Signed with the right secret but malformed: every field is checked.
TEST(ClusterMessage, SignedButMalformedIsRejected) {
  auto signed_body = [](const std::string& body) { return base64url_encode(hmac_sha256(kSecret, body)) + "." + body; };
  const Json good = {{"node", "n1"}, {"inst", "i"}, {"room", "r"}, {"event", "peerLeft"}, {"data", {{"peerId", "p_1"}}}};
  ASSERT_TRUE(decode_cluster_message(signed_body(good.dump()), kSecret));
  auto with = [&](const char* key, const Json& v) {
    Json j = good;
    j[key] = v;
    return signed_body(j.dump());
  };
  EXPECT_FALSE(decode_cluster_message(signed_body("not json"), kSecret));
  EXPECT_FALSE(decode_cluster_message(signed_body("[1,2]"), kSecret));
  EXPECT_FALSE(decode_cluster_message(with("node", 7), kSecret));
  EXPECT_FALSE(decode_cluster_message(with("node", "bad node id"), kSecret));
  EXPECT_FALSE(decode_cluster_message(with("node", std::string(65, 'n')), kSecret));
  EXPECT_FALSE(decode_cluster_message(with("room", "no/slashes"), kSecret));
  EXPECT_FALSE(decode_cluster_message(with("event", "launchMissiles"), kSecret));
  EXPECT_FALSE(decode_cluster_message(with("data", "text"), kSecret));
  EXPECT_FALSE(decode_cluster_message(with("data", Json{{"peerId", 5}}), kSecret));
  EXPECT_FALSE(decode_cluster_message(with("data", Json{{"peerId", "p 1"}}), kSecret));
  Json no_data = good;
  no_data.erase("data");
  EXPECT_FALSE(decode_cluster_message(signed_body(no_data.dump()), kSecret));
  // Nesting beyond 64 levels is refused before parsing.
  std::string deep = R"({"node":"n1","inst":"i","room":"r","event":"relay","data":{"from":"a","to":"b","data":)";
  deep += std::string(100, '[') + std::string(100, ']') + "}}";
  EXPECT_FALSE(decode_cluster_message(signed_body(deep), kSecret));
  // Too large.
  Json big = good;
  big["data"] = Json{{"from", "a"}, {"to", "b"}, {"data", std::string(kMaxClusterMessageBytes, 'x')}};
  big["event"] = "relay";
  EXPECT_FALSE(decode_cluster_message(signed_body(big.dump()), kSecret));
}

TEST(ClusterMessage, EventDataIsRebuiltFromCheckedFieldsOnly) {
  Json d = producer_added().data;
  d["extra"] = "dropped";
  d["node"] = "n9";
  auto checked = checked_event_data(ClusterEvent::producer_added, d);
  ASSERT_TRUE(checked);
  EXPECT_FALSE(checked->contains("extra"));
  EXPECT_FALSE(checked->contains("node"));
  auto bad_kind = producer_added().data;
  bad_kind["kind"] = "smell";
  EXPECT_FALSE(checked_event_data(ClusterEvent::producer_added, bad_kind));
  auto four_layers = producer_added().data;
  four_layers["simulcast"] = {"a", "b", "c", "d"};
  EXPECT_FALSE(checked_event_data(ClusterEvent::producer_added, four_layers));
  auto paused_text = producer_added().data;
  paused_text["paused"] = "no";
  EXPECT_FALSE(checked_event_data(ClusterEvent::producer_added, paused_text));
  EXPECT_FALSE(checked_event_data(ClusterEvent::peer_joined, Json{{"peerId", "p"}, {"name", std::string(257, 'x')}}));
  EXPECT_FALSE(checked_event_data(ClusterEvent::active_speaker, Json{{"peerId", "p"}, {"audioLevel", "loud"}}));
  EXPECT_FALSE(checked_event_data(ClusterEvent::relay, Json{{"from", "p"}, {"to", "q"}}));
}

}  // namespace
}  // namespace sfu::signaling
