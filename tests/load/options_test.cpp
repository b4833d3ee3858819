// sfu-load's flags.
#include "bench/load/options.hpp"

#include <gtest/gtest.h>

namespace sfu::load {
namespace {

Result<LoadOptions, std::string> parse(std::vector<std::string> args) { return parse_options(args); }

TEST(Options, Defaults) {
  auto o = parse({});
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->target, "sfu");
  EXPECT_EQ(o->url, "ws://127.0.0.1:8080/ws");
  EXPECT_EQ(o->rooms, 1);
  EXPECT_TRUE(o->audio && o->video && o->simulcast);
  EXPECT_FALSE(o->json);
  EXPECT_TRUE(o->udp_gro);
  EXPECT_EQ(o->validate_every, 1);
}

TEST(Options, EveryFlag) {
  auto o = parse({"--url", "ws://127.0.0.1:9/ws", "--rooms", "3", "--publishers", "2", "--subscribers=10", "--no-audio",
                  "--no-simulcast", "--ramp", "5.5", "--duration", "12", "--threads", "4", "--server-pid", "77",
                  "--json", "--check", "--token-secret", "k=s", "--room-prefix", "x", "--bind", "10.0.0.2",
                  "--no-udp-gro", "--validate-every", "4"});
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->url, "ws://127.0.0.1:9/ws");
  EXPECT_EQ(o->rooms, 3);
  EXPECT_EQ(o->subscribers, 10);
  EXPECT_FALSE(o->audio);
  EXPECT_TRUE(o->video);
  EXPECT_FALSE(o->simulcast);
  EXPECT_DOUBLE_EQ(o->ramp, 5.5);
  EXPECT_DOUBLE_EQ(o->duration, 12);
  EXPECT_EQ(o->threads, 4);
  EXPECT_EQ(o->server_pid, 77);
  EXPECT_TRUE(o->json);
  EXPECT_TRUE(o->check);
  EXPECT_EQ(o->token_secret, "k=s");
  EXPECT_EQ(o->room_prefix, "x");
  EXPECT_EQ(o->bind_ip, "10.0.0.2");
  EXPECT_FALSE(o->udp_gro);
  EXPECT_EQ(o->validate_every, 4);
}

TEST(Options, JanusDefaultUrl) {
  auto o = parse({"--target", "janus"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->url, "ws://127.0.0.1:8188");
}

TEST(Options, Refusals) {
  EXPECT_FALSE(parse({"--rooms", "0"}).ok());
  EXPECT_FALSE(parse({"--rooms", "two"}).ok());
  EXPECT_FALSE(parse({"--rooms"}).ok());
  EXPECT_FALSE(parse({"--ramp", "0"}).ok());
  EXPECT_FALSE(parse({"--target", "mediasoup"}).ok());
  EXPECT_FALSE(parse({"--no-audio", "--no-video"}).ok());
  EXPECT_FALSE(parse({"--publishers", "0", "--subscribers", "0"}).ok());
  EXPECT_FALSE(parse({"--bogus"}).ok());
  EXPECT_FALSE(parse({"--layer", "3"}).ok());
  EXPECT_FALSE(parse({"--validate-every", "0"}).ok());
  EXPECT_FALSE(parse({"--layer", "1", "--no-simulcast"}).ok());  // one layer only
}

TEST(Options, Layer) {
  EXPECT_EQ(parse({}).value().layer, -1);  // the server's choice
  EXPECT_EQ(parse({"--layer", "0"}).value().layer, 0);
  EXPECT_EQ(parse({"--layer=2"}).value().layer, 2);
  EXPECT_EQ(parse({"--layer", "0", "--no-simulcast"}).value().layer, 0);
}

}  // namespace
}  // namespace sfu::load
