// The YAML configuration file: every key mirrors a flag (deploy/sfu.yaml).
// Errors name the key and its line: "config: line 7: 'media.workers' must be 0..256".
#include <yaml-cpp/yaml.h>

#include <set>
#include <type_traits>

#include "server/config.hpp"

namespace sfu::server {

namespace {

using Keys = std::set<std::string>;

// yaml-cpp marks are 0-based; people count lines from 1.
[[noreturn]] void fail(const YAML::Node& at, const std::string& message) {
  const auto mark = at.Mark();
  if (mark.is_null()) throw ConfigError("config: " + message);
  throw ConfigError("config: line " + std::to_string(mark.line + 1) + ": " + message);
}

// Runs a flag parser on a value from the file; its error ("--listen: ...")
// is re-thrown naming the key and line instead of the flag.
template <class Fn>
void with_key(const YAML::Node& at, const std::string& key, Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    std::string why = e.what();
    if (why.starts_with("--")) why = why.substr(why.find(": ") == std::string::npos ? 0 : why.find(": ") + 2);
    fail(at, "'" + key + "': " + why);
  }
}

void check_keys(const YAML::Node& map, const Keys& allowed, const std::string& where) {
  if (!map.IsMap()) fail(map, "'" + where.substr(0, where.size() - (where.empty() ? 0 : 1)) + "' must be a mapping");
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (!allowed.contains(key)) fail(kv.first, "unknown key '" + where + key + "'");
  }
}

template <class T>
constexpr const char* kind_of() {
  if constexpr (std::is_same_v<T, bool>) return "true or false";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else return "a string";
}

template <class T>
T get(const YAML::Node& n, const std::string& key) {
  // A mapping or a list where a scalar belongs is the wrong type too, even
  // though yaml-cpp would render some of them as strings.
  if (n.IsScalar()) {
    try {
      return n.as<T>();
    } catch (const YAML::Exception&) {
    }
  }
  fail(n, "'" + key + "' has the wrong type (expected " + kind_of<T>() + ")");
}

std::string scalar(const YAML::Node& n, const std::string& key) { return get<std::string>(n, key); }

uint32_t bounded(const YAML::Node& n, const std::string& key, uint32_t max) {
  const auto v = get<int64_t>(n, key);
  if (v < 0 || v > int64_t(max)) fail(n, "'" + key + "' must be 0.." + std::to_string(max));
  return uint32_t(v);
}

// A handle (yaml-cpp nodes share their data): returned by value, so a range-for over
// sequence(m["key"], ...) does not outlive the temporary m["key"].
YAML::Node sequence(const YAML::Node& n, const std::string& key, const char* of) {
  if (!n.IsSequence()) fail(n, "'" + key + "' must be a list of " + of);
  return n;
}

void apply_media(const YAML::Node& m, Config& c) {
  check_keys(m, {"workers", "rtc_listen", "announce", "ice_tcp", "socket_buffer_bytes", "udp_gso", "dtls_cert",
                 "dtls_key"},
             "media.");
  if (m["dtls_cert"]) c.media.dtls_certificate_file = scalar(m["dtls_cert"], "media.dtls_cert");
  if (m["dtls_key"]) c.media.dtls_key_file = scalar(m["dtls_key"], "media.dtls_key");
  if (m["workers"]) c.media.workers = bounded(m["workers"], "media.workers", 256);
  if (m["rtc_listen"]) {
    auto a = ice::parse_address(scalar(m["rtc_listen"], "media.rtc_listen"));
    if (!a) fail(m["rtc_listen"], "'media.rtc_listen' must be IP:PORT");
    c.media.bind = *a;
  }
  if (m["announce"]) {
    c.media.announced.clear();
    for (const auto& ip : sequence(m["announce"], "media.announce", "IPs"))
      with_key(ip, "media.announce", [&] { c.media.announced.push_back(parse_announce(scalar(ip, "media.announce"))); });
  }
  if (m["ice_tcp"]) c.media.ice_tcp = get<bool>(m["ice_tcp"], "media.ice_tcp");
  if (m["socket_buffer_bytes"])
    c.media.socket_buffer_bytes = int(bounded(m["socket_buffer_bytes"], "media.socket_buffer_bytes", 256u << 20));
  if (m["udp_gso"]) c.media.udp_gso = get<bool>(m["udp_gso"], "media.udp_gso");
}

void apply_auth(const YAML::Node& a, Config& c) {
  check_keys(a, {"api_keys"}, "auth.");
  if (!a["api_keys"]) return;
  if (!a["api_keys"].IsMap()) fail(a["api_keys"], "'auth.api_keys' must map key ids to secrets");
  for (const auto& kv : a["api_keys"]) {
    const auto secret = scalar(kv.second, "auth.api_keys");
    if (secret.size() < 16) fail(kv.second, "'auth.api_keys' secrets must be at least 16 characters");
    c.api_keys[kv.first.as<std::string>()] = secret;
  }
}

void apply_ice_servers(const YAML::Node& ice, Config& c) {
  check_keys(ice, {"urls", "turn_secret"}, "ice_servers.");
  if (ice["urls"]) {
    c.ice_server_urls.clear();
    for (const auto& u : sequence(ice["urls"], "ice_servers.urls", "URLs")) {
      const auto url = scalar(u, "ice_servers.urls");
      if (!(url.starts_with("stun:") || url.starts_with("turn:") || url.starts_with("turns:")))
        fail(u, "'ice_servers.urls' entries must be stun:, turn: or turns: URLs");
      c.ice_server_urls.push_back(url);
    }
  }
  if (ice["turn_secret"]) c.turn_secret = scalar(ice["turn_secret"], "ice_servers.turn_secret");
}

void apply_log(const YAML::Node& l, Config& c) {
  check_keys(l, {"level", "format"}, "log.");
  if (const auto level = l["level"]) {
    const auto v = log::parse_level(scalar(level, "log.level"));
    if (!v) fail(level, "'log.level' must be trace, debug, info, warn, error or off");
    c.log_level = *v;
  }
  if (const auto format = l["format"]) {
    const auto v = log::parse_format(scalar(format, "log.format"));
    if (!v) fail(format, "'log.format' must be text or json");
    c.log_format = *v;
  }
}

void apply_metrics(const YAML::Node& m, Config& c) {
  check_keys(m, {"listen"}, "metrics.");
  if (const auto listen = m["listen"]) {
    const auto value = scalar(listen, "metrics.listen");
    c.metrics_address.clear();  // empty: /metrics on the signaling port
    c.metrics_port = 0;
    if (!value.empty()) with_key(listen, "metrics.listen", [&] { parse_metrics_listen(value, c); });
  }
}

}  // namespace

void apply_yaml(const std::string& text, Config& c) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError("config: line " + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("config: not valid YAML: ") + e.what());
  }
  if (root.IsNull()) return;  // an empty file changes nothing
  check_keys(root,
             {"listen", "web_root", "drain_timeout", "tls", "media", "auth", "ice_servers", "limits", "log", "metrics",
              "cluster"},
             "");
  if (const auto tls = root["tls"]) {
    check_keys(tls, {"cert", "key"}, "tls.");
    if (tls["cert"]) c.tls_certificate_file = scalar(tls["cert"], "tls.cert");
    if (tls["key"]) c.tls_key_file = scalar(tls["key"], "tls.key");
  }
  if (const auto listen = root["listen"])
    with_key(listen, "listen", [&] { parse_listen(scalar(listen, "listen"), c); });
  if (root["web_root"]) c.web_root = scalar(root["web_root"], "web_root");
  if (root["drain_timeout"]) c.drain_timeout_seconds = bounded(root["drain_timeout"], "drain_timeout", 86400);
  if (root["media"]) apply_media(root["media"], c);
  if (root["auth"]) apply_auth(root["auth"], c);
  if (root["ice_servers"]) apply_ice_servers(root["ice_servers"], c);
  if (const auto lim = root["limits"]) {
    check_keys(lim, {"max_peers_per_room", "max_rooms"}, "limits.");
    if (lim["max_peers_per_room"]) c.max_peers_per_room = bounded(lim["max_peers_per_room"], "limits.max_peers_per_room", 10000);
    if (lim["max_rooms"]) c.max_rooms = bounded(lim["max_rooms"], "limits.max_rooms", 1000000);
  }
  if (root["log"]) apply_log(root["log"], c);
  if (root["metrics"]) apply_metrics(root["metrics"], c);
  if (const auto cl = root["cluster"]) {
    check_keys(cl, {"redis_url", "node_id", "secret"}, "cluster.");
    if (const auto secret = cl["secret"]) c.cluster_secret = scalar(secret, "cluster.secret");
    if (const auto url = cl["redis_url"]) {
      c.redis_url = scalar(url, "cluster.redis_url");
      if (!c.redis_url.empty() && !c.redis_url.starts_with("redis://"))
        fail(url, "'cluster.redis_url' must be redis://[[user]:password@]host[:port][/db]");
    }
    if (const auto id = cl["node_id"]) {
      const auto v = scalar(id, "cluster.node_id");
      if (!v.empty()) with_key(id, "cluster.node_id", [&] { c.node_id = parse_node_id(v, "cluster.node_id"); });
    }
  }
}

namespace {

std::string host_port(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

template <class Seq>
void emit_list(YAML::Emitter& out, const Seq& items) {
  out << YAML::Flow << YAML::BeginSeq;
  for (const auto& item : items) out << item;
  out << YAML::EndSeq;
}

}  // namespace

std::string effective_settings(const Config& c) {
  constexpr const char* kMasked = "***";
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value << host_port(c.http_address, c.http_port);
  out << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cert" << YAML::Value << c.tls_certificate_file;
  out << YAML::Key << "key" << YAML::Value << c.tls_key_file;  // a path, not the key itself
  out << YAML::EndMap;
  out << YAML::Key << "web_root" << YAML::Value << c.web_root;
  out << YAML::Key << "drain_timeout" << YAML::Value << c.drain_timeout_seconds;

  out << YAML::Key << "media" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "workers" << YAML::Value << c.media.workers;
  out << YAML::Key << "rtc_listen" << YAML::Value << ice::to_string(c.media.bind);
  std::vector<std::string> announced;
  for (const auto& a : c.media.announced) announced.push_back(ice::ip_to_string(a));
  out << YAML::Key << "announce" << YAML::Value;
  emit_list(out, announced);
  out << YAML::Key << "ice_tcp" << YAML::Value << c.media.ice_tcp;
  out << YAML::Key << "socket_buffer_bytes" << YAML::Value << c.media.socket_buffer_bytes;
  out << YAML::Key << "udp_gso" << YAML::Value << c.media.udp_gso;
  out << YAML::Key << "dtls_cert" << YAML::Value << c.media.dtls_certificate_file;
  out << YAML::Key << "dtls_key" << YAML::Value << c.media.dtls_key_file;
  out << YAML::EndMap;

  out << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "api_keys" << YAML::Value;
  if (c.api_keys.empty()) out << YAML::Flow;
  out << YAML::BeginMap;
  for (const auto& [kid, secret] : c.api_keys) out << YAML::Key << kid << YAML::Value << kMasked;
  out << YAML::EndMap << YAML::EndMap;

  out << YAML::Key << "ice_servers" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "urls" << YAML::Value;
  emit_list(out, c.ice_server_urls);
  out << YAML::Key << "turn_secret" << YAML::Value << (c.turn_secret.empty() ? "" : kMasked);
  out << YAML::EndMap;

  out << YAML::Key << "limits" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "max_peers_per_room" << YAML::Value << c.max_peers_per_room;
  out << YAML::Key << "max_rooms" << YAML::Value << c.max_rooms;
  out << YAML::EndMap;

  out << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "level" << YAML::Value << std::string(log::to_string(c.log_level));
  out << YAML::Key << "format" << YAML::Value << std::string(log::to_string(c.log_format));
  out << YAML::EndMap;

  out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "listen" << YAML::Value
      << (c.metrics_address.empty() ? std::string() : host_port(c.metrics_address, c.metrics_port));
  out << YAML::EndMap;

  out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  std::string redis = c.redis_url;
  if (const auto at = redis.rfind('@'); at != std::string::npos) redis = "redis://" + std::string(kMasked) + redis.substr(at);
  out << YAML::Key << "redis_url" << YAML::Value << redis;
  out << YAML::Key << "node_id" << YAML::Value << c.node_id;
  out << YAML::Key << "secret" << YAML::Value << (c.cluster_secret.empty() ? std::string() : std::string(kMasked));
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace sfu::server
