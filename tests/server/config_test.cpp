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
