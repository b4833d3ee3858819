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
  EXPECT_NE(error_of("media: {announce: [not-an-ip]}").find("'media.announce': 'not-an-ip'"), std::string::npos);
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

namespace sfu::server {
namespace {

std::string yaml_error(const std::string& text) {
  Config c;
  try {
    apply_yaml(text, c);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(ConfigTest, YamlErrorsNameTheLine) {
  const std::string head = "# comment\nlisten: 127.0.0.1:8080\n\nmedia:\n  workers: 2\n";  // lines 1-5
  EXPECT_EQ(yaml_error(head + "  wrokers: 3\n"), "config: line 6: unknown key 'media.wrokers'");
  EXPECT_EQ(yaml_error(head + "  ice_tcp: [yes]\n"), "config: line 6: 'media.ice_tcp' has the wrong type (expected true or false)");
  EXPECT_EQ(yaml_error(head + "  socket_buffer_bytes: lots\n"),
            "config: line 6: 'media.socket_buffer_bytes' has the wrong type (expected an integer)");
  EXPECT_EQ(yaml_error("media:\n  dtls_cert: {a: 1}\n"), "config: line 2: 'media.dtls_cert' has the wrong type (expected a string)");
  EXPECT_EQ(yaml_error("\n\n\n\n\n\nmedia:\n  workers: 257\n"), "config: line 8: 'media.workers' must be 0..256");
  EXPECT_EQ(yaml_error("limits: {max_rooms: 1}\nbogus: 1\n"), "config: line 2: unknown key 'bogus'");
  EXPECT_EQ(yaml_error("listen: 127.0.0.1:8080\nmedia: 3\n"), "config: line 2: 'media' must be a mapping");
  EXPECT_EQ(yaml_error("listen: nocolon\n"), "config: line 1: 'listen': expected HOST:PORT, got 'nocolon'");
  EXPECT_EQ(yaml_error("ice_servers:\n  urls:\n    - stun:a\n    - http://b\n"),
            "config: line 4: 'ice_servers.urls' entries must be stun:, turn: or turns: URLs");
  EXPECT_EQ(yaml_error("auth:\n  api_keys:\n    main: short\n"),
            "config: line 3: 'auth.api_keys' secrets must be at least 16 characters");
  EXPECT_EQ(yaml_error("log:\n  level: loud\n"), "config: line 2: 'log.level' must be trace, debug, info, warn, error or off");
  EXPECT_EQ(yaml_error("metrics:\n  listen: 9100\n"), "config: line 2: 'metrics.listen': expected HOST:PORT, got '9100'");
  // Syntax errors carry yaml-cpp's line.
  const auto syntax = yaml_error("listen: 127.0.0.1:8080\nmedia:\n  workers: [1, 2\n");
  EXPECT_TRUE(syntax.starts_with("config: line ")) << syntax;
  EXPECT_NE(syntax.find("not valid YAML"), std::string::npos) << syntax;
}

TEST_F(ConfigTest, LogFlagsEnvironmentAndYaml) {
  Config d = load_config({}, fake_getenv);
  EXPECT_EQ(d.log_level, log::Level::info);
  EXPECT_EQ(d.log_format, log::Format::text);
  Config y;
  apply_yaml("log: {level: warn, format: json}", y);
  EXPECT_EQ(y.log_level, log::Level::warn);
  EXPECT_EQ(y.log_format, log::Format::json);
  g_env["SFU_LOG_LEVEL"] = "debug";
  g_env["SFU_LOG_FORMAT"] = "json";
  Config e = load_config({}, fake_getenv);
  EXPECT_EQ(e.log_level, log::Level::debug);
  EXPECT_EQ(e.log_format, log::Format::json);
  Config f = load_config({"--log-level", "off", "--log-format", "text"}, fake_getenv);
  EXPECT_EQ(f.log_level, log::Level::off);
  EXPECT_EQ(f.log_format, log::Format::text);
  EXPECT_THROW((void)load_config({"--log-level", "loud"}, fake_getenv), ConfigError);
  EXPECT_THROW((void)load_config({"--log-format", "xml"}, fake_getenv), ConfigError);
  g_env["SFU_LOG_LEVEL"] = "verbose";
  try {
    (void)load_config({}, fake_getenv);
    FAIL();
  } catch (const ConfigError& ex) {
    EXPECT_NE(std::string(ex.what()).find("SFU_LOG_LEVEL"), std::string::npos) << ex.what();
  }
}

TEST_F(ConfigTest, MetricsListen) {
  EXPECT_TRUE(load_config({}, fake_getenv).metrics_address.empty());  // /metrics on the signaling port
  Config c = load_config({"--metrics-listen", "0.0.0.0:9100"}, fake_getenv);
  EXPECT_EQ(c.metrics_address, "0.0.0.0");
  EXPECT_EQ(c.metrics_port, 9100);
  c = load_config({"--metrics-listen", ":9101"}, fake_getenv);
  EXPECT_EQ(c.metrics_address, "127.0.0.1");
  EXPECT_EQ(c.metrics_port, 9101);
  c = load_config({"--metrics-listen", "[::1]:0"}, fake_getenv);
  EXPECT_EQ(c.metrics_address, "::1");
  EXPECT_EQ(c.metrics_port, 0);
  g_env["SFU_METRICS_LISTEN"] = "127.0.0.2:9200";
  c = load_config({}, fake_getenv);
  EXPECT_EQ(c.metrics_address, "127.0.0.2");
  EXPECT_EQ(c.metrics_port, 9200);
  EXPECT_EQ(c.http_port, 8080);  // the signaling listener is untouched
  Config y;
  apply_yaml("metrics: {listen: \"127.0.0.3:9300\"}", y);
  EXPECT_EQ(y.metrics_address, "127.0.0.3");
  EXPECT_EQ(y.metrics_port, 9300);
  apply_yaml("metrics: {listen: \"\"}", y);
  EXPECT_TRUE(y.metrics_address.empty());
  for (const auto& bad : {"9100", "host:", "host:70000"}) {
    try {
      (void)load_config({"--metrics-listen", bad}, fake_getenv);
      FAIL() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--metrics-listen"), std::string::npos) << e.what();
    }
  }
}

TEST_F(ConfigTest, EffectiveSettingsMaskSecrets) {
  Config c;
  apply_yaml(R"(
auth:
  api_keys: {main: 0123456789abcdef0123, spare: fedcba9876543210fedc}
ice_servers: {urls: ["turn:t.example.org:3478"], turn_secret: hunter2hunter2}
)",
             c);
  const auto text = effective_settings(c);
  EXPECT_EQ(text.find("0123456789abcdef0123"), std::string::npos) << text;
  EXPECT_EQ(text.find("fedcba9876543210fedc"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_NE(text.find("main: \"***\""), std::string::npos) << text;
  EXPECT_NE(text.find("spare: \"***\""), std::string::npos) << text;
  EXPECT_NE(text.find("turn_secret: \"***\""), std::string::npos) << text;
  EXPECT_NE(text.find("turn:t.example.org:3478"), std::string::npos) << text;
}

TEST_F(ConfigTest, EffectiveSettingsReadBackAsTheSameConfig) {
  const Config c = load_config({"--listen", "[::1]:9443", "--workers", "3", "--announce", "203.0.113.7",
                                "--no-ice-tcp", "--log-level", "debug", "--log-format", "json", "--metrics-listen",
                                "127.0.0.1:9100", "--ice-server", "stun:s.example.org", "--drain-timeout", "7"},
                               fake_getenv);
  Config back;
  apply_yaml(effective_settings(c), back);  // no secrets set, so nothing masked
  EXPECT_EQ(back.http_address, "::1");
  EXPECT_EQ(back.http_port, 9443);
  EXPECT_EQ(back.media.workers, 3u);
  EXPECT_EQ(back.media.announced, c.media.announced);
  EXPECT_FALSE(back.media.ice_tcp);
  EXPECT_EQ(back.log_level, log::Level::debug);
  EXPECT_EQ(back.log_format, log::Format::json);
  EXPECT_EQ(back.metrics_address, "127.0.0.1");
  EXPECT_EQ(back.metrics_port, 9100);
  EXPECT_EQ(back.ice_server_urls, c.ice_server_urls);
  EXPECT_EQ(back.drain_timeout_seconds, 7u);
}

TEST_F(ConfigTest, CheckConfigReadsTheFileWithEnvironmentAndFlags) {
  const std::string path = testing::TempDir() + "/sfu-check.yaml";
  {
    std::ofstream out(path);
    out << "listen: 127.0.0.1:7001\nmedia: {workers: 2}\n";
  }
  g_env["SFU_WORKERS"] = "4";
  const Config c = load_config({"--check-config", path, "--listen", "127.0.0.1:7002"}, fake_getenv);
  EXPECT_TRUE(c.check_config);
  EXPECT_EQ(c.config_file, path);
  EXPECT_EQ(c.media.workers, 4u);   // environment over the file
  EXPECT_EQ(c.http_port, 7002);     // flags over both
  EXPECT_NO_THROW(check_startable(c));
  EXPECT_THROW((void)load_config({"--check-config"}, fake_getenv), ConfigError);
}

TEST_F(ConfigTest, CheckStartableRefusesWhatAStartWould) {
  EXPECT_NO_THROW(check_startable(load_config({}, fake_getenv)));
  auto error_of = [](const std::vector<std::string>& args) {
    try {
      check_startable(load_config(args, fake_getenv));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of({"--rtc-listen", "0.0.0.0:40000"}).find("wildcard"), std::string::npos);
  EXPECT_EQ(error_of({"--rtc-listen", "0.0.0.0:40000", "--announce", "192.0.2.1"}), "no error");
  EXPECT_NE(error_of({"--listen", "0.0.0.0:8080"}).find("needs an API key"), std::string::npos);
  EXPECT_EQ(error_of({"--listen", "0.0.0.0:8080", "--api-key", "k=0123456789abcdef"}), "no error");
  EXPECT_EQ(error_of({"--listen", "[::1]:8080"}), "no error");
  EXPECT_NE(error_of({"--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"}).find("tls.cert"),
            std::string::npos);
  EXPECT_NE(error_of({"--web-root", "/nonexistent"}).find("web_root"), std::string::npos);
  EXPECT_NE(error_of({"--metrics-listen", "127.0.0.1:8080"}).find("--metrics-listen"), std::string::npos);
}

}  // namespace
}  // namespace sfu::server
