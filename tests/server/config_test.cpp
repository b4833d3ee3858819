#include "server/config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace sfu::server {
namespace {

std::map<std::string, std::string> g_env;
const char* fake_getenv(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { g_env.clear(); }
};

TEST_F(ConfigTest, DefaultsServeLoopback8080) {
  const Config c = load_config({}, fake_getenv);
  EXPECT_EQ(c.http_address, "127.0.0.1");
  EXPECT_EQ(c.http_port, 8080);
}

TEST_F(ConfigTest, FlagOverridesEnvironment) {
  g_env["SFU_LISTEN"] = "0.0.0.0:9000";
  EXPECT_EQ(load_config({}, fake_getenv).http_port, 9000);
  const Config c = load_config({"--listen", "127.0.0.2:7000"}, fake_getenv);
  EXPECT_EQ(c.http_address, "127.0.0.2");
  EXPECT_EQ(c.http_port, 7000);
}

TEST_F(ConfigTest, ListenForms) {
  Config c;
  parse_listen("[::1]:8443", c);
  EXPECT_EQ(c.http_address, "::1");
  EXPECT_EQ(c.http_port, 8443);
  parse_listen(":81", c);  // keeps the host
  EXPECT_EQ(c.http_address, "::1");
  EXPECT_EQ(c.http_port, 81);
  EXPECT_EQ(load_config({"--listen=127.0.0.1:0"}, fake_getenv).http_port, 0);
}

TEST_F(ConfigTest, BadValuesThrowNamingTheFlag) {
  for (const auto& bad : {"8080", "host:", "host:65536", "host:-1", "host:80x"}) {
    try {
      (void)load_config({"--listen", bad}, fake_getenv);
      FAIL() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--listen"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW((void)load_config({"--listen"}, fake_getenv), ConfigError);
  EXPECT_THROW((void)load_config({"--frobnicate"}, fake_getenv), ConfigError);
}

}  // namespace
}  // namespace sfu::server

namespace sfu::server {
namespace {

TEST_F(ConfigTest, MediaDefaultsAndFlags) {
  const Config d = load_config({}, fake_getenv);
  EXPECT_EQ(d.media.workers, 0u);  // one per core
  EXPECT_EQ(ice::to_string(d.media.bind), "127.0.0.1:40000");
  EXPECT_TRUE(d.media.ice_tcp);
  EXPECT_TRUE(d.media.announced.empty());

  const Config c = load_config({"--workers", "3", "--rtc-listen", "0.0.0.0:50000", "--announce", "203.0.113.5",
                                "--announce", "2001:db8::5", "--no-ice-tcp"},
                               fake_getenv);
  EXPECT_EQ(c.media.workers, 3u);
  EXPECT_EQ(c.media.bind.port, 50000);
  ASSERT_EQ(c.media.announced.size(), 2u);
  EXPECT_EQ(ice::ip_to_string(c.media.announced[1]), "2001:db8::5");
  EXPECT_FALSE(c.media.ice_tcp);
}

TEST_F(ConfigTest, MediaEnvironmentAndOverride) {
  g_env["SFU_WORKERS"] = "2";
  g_env["SFU_ANNOUNCE"] = "198.51.100.1,198.51.100.2";
  g_env["SFU_RTC_LISTEN"] = "127.0.0.1:0";
  Config c = load_config({}, fake_getenv);
  EXPECT_EQ(c.media.workers, 2u);
  EXPECT_EQ(c.media.announced.size(), 2u);
  EXPECT_EQ(c.media.bind.port, 0);
  c = load_config({"--announce", "192.0.2.9"}, fake_getenv);  // flags replace the env list
  ASSERT_EQ(c.media.announced.size(), 1u);
  EXPECT_EQ(ice::ip_to_string(c.media.announced[0]), "192.0.2.9");
}

TEST_F(ConfigTest, MediaBadValues) {
  EXPECT_THROW((void)load_config({"--workers", "257"}, fake_getenv), ConfigError);
  EXPECT_THROW((void)load_config({"--workers", "-1"}, fake_getenv), ConfigError);
  EXPECT_THROW((void)load_config({"--announce", "example.com"}, fake_getenv), ConfigError);
  EXPECT_THROW((void)load_config({"--rtc-listen", "127.0.0.1"}, fake_getenv), ConfigError);
  g_env["SFU_WORKERS"] = "many";
  EXPECT_THROW((void)load_config({}, fake_getenv), ConfigError);
}

}  // namespace
}  // namespace sfu::server

namespace sfu::server {
namespace {

TEST_F(ConfigTest, ShippedExampleYamlLoadsAndKeepsDefaults) {
  std::ifstream in(std::string(SFU_TEST_DATA_DIR) + "/../../deploy/sfu.yaml");
  ASSERT_TRUE(in);
  std::ostringstream text;
  text << in.rdbuf();
  Config c;
  apply_yaml(text.str(), c);
  const Config d;
  EXPECT_EQ(c.http_address, d.http_address);
  EXPECT_EQ(c.http_port, d.http_port);
  EXPECT_EQ(c.media.workers, d.media.workers);
  EXPECT_EQ(c.media.bind, d.media.bind);
  EXPECT_EQ(c.media.ice_tcp, d.media.ice_tcp);
  EXPECT_EQ(c.max_peers_per_room, d.max_peers_per_room);
  EXPECT_TRUE(c.api_keys.empty());
}

TEST_F(ConfigTest, YamlSetsEveryKindOfKey) {
  Config c;
  apply_yaml(R"(
listen: 0.0.0.0:9000
drain_timeout: 5
media:
  workers: 3
  rtc_listen: 0.0.0.0:50000
  announce: [203.0.113.9, "2001:db8::9"]
  ice_tcp: false
auth:
  api_keys: {main: 0123456789abcdef0123}
ice_servers:
  urls: [turn:turn.example.org:3478]
  turn_secret: s3cret
limits: {max_peers_per_room: 8, max_rooms: 2}
)",
             c);
  EXPECT_EQ(c.http_port, 9000);
  EXPECT_EQ(c.drain_timeout_seconds, 5u);
  EXPECT_EQ(c.media.workers, 3u);
  EXPECT_EQ(c.media.bind.port, 50000);
  ASSERT_EQ(c.media.announced.size(), 2u);
  EXPECT_FALSE(c.media.ice_tcp);
  EXPECT_EQ(c.api_keys.at("main"), "0123456789abcdef0123");
  EXPECT_EQ(c.ice_server_urls.size(), 1u);
  EXPECT_EQ(c.turn_secret, "s3cret");
  EXPECT_EQ(c.max_peers_per_room, 8u);
}

TEST_F(ConfigTest, YamlErrorsNameTheKey) {
  auto error_of = [](const std::string& text) {
    Config c;
    try {
      apply_yaml(text, c);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("lisen: 1.2.3.4:5").find("'lisen'"), std::string::npos);
  EXPECT_NE(error_of("media: {wrokers: 2}").find("media.wrokers"), std::string::npos);
  EXPECT_NE(error_of("media: {workers: many}").find("media.workers"), std::string::npos);
  EXPECT_NE(error_of("media: {workers: 999}").find("media.workers"), std::string::npos);
  EXPECT_NE(error_of("media: {announce: [not-an-ip]}").find("--announce"), std::string::npos);
  EXPECT_NE(error_of("auth: {api_keys: {k: short}}").find("16 characters"), std::string::npos);
  EXPECT_NE(error_of("ice_servers: {urls: [http://x]}").find("ice_servers.urls"), std::string::npos);
  EXPECT_NE(error_of("{unclosed: [").find("not valid YAML"), std::string::npos);
  EXPECT_EQ(error_of(""), "no error");
}

TEST_F(ConfigTest, FileThenEnvironmentThenFlags) {
  const std::string path = testing::TempDir() + "/sfu-test.yaml";
  {
    std::ofstream out(path);
    out << "listen: 127.0.0.1:7001\nmedia: {workers: 2}\n";
  }
  g_env["SFU_CONFIG"] = path;
  Config c = load_config({}, fake_getenv);
  EXPECT_EQ(c.http_port, 7001);
  EXPECT_EQ(c.media.workers, 2u);
  g_env["SFU_WORKERS"] = "4";
  EXPECT_EQ(load_config({}, fake_getenv).media.workers, 4u);  // environment over the file
  EXPECT_EQ(load_config({"--workers", "6"}, fake_getenv).media.workers, 6u);  // flags over both
  EXPECT_THROW((void)load_config({"--config", path + ".missing"}, fake_getenv), ConfigError);
}

}  // namespace
}  // namespace sfu::server
