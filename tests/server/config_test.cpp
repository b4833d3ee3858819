#include "server/config.hpp"

#include <gtest/gtest.h>

#include <map>
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
