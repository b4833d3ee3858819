// The YAML configuration file: every key mirrors a flag (deploy/sfu.yaml).
#include <yaml-cpp/yaml.h>

#include <set>

#include "server/config.hpp"

namespace sfu::server {

namespace {

using Keys = std::set<std::string>;

void check_keys(const YAML::Node& map, const Keys& allowed, const std::string& where) {
  if (!map.IsMap()) throw ConfigError("config: " + where + " must be a mapping");
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (!allowed.contains(key)) throw ConfigError("config: unknown key '" + where + key + "'");
  }
}

template <class T>
T get(const YAML::Node& n, const std::string& key) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    throw ConfigError("config: '" + key + "' has the wrong type");
  }
}

std::string scalar(const YAML::Node& n, const std::string& key) { return get<std::string>(n, key); }

uint32_t bounded(const YAML::Node& n, const std::string& key, uint32_t max) {
  const auto v = get<int64_t>(n, key);
  if (v < 0 || v > int64_t(max)) throw ConfigError("config: '" + key + "' must be 0.." + std::to_string(max));
  return uint32_t(v);
}

void apply_media(const YAML::Node& m, Config& c) {
  check_keys(m, {"workers", "rtc_listen", "announce", "ice_tcp", "socket_buffer_bytes", "dtls_cert", "dtls_key"},
             "media.");
  if (m["dtls_cert"]) c.media.dtls_certificate_file = scalar(m["dtls_cert"], "media.dtls_cert");
  if (m["dtls_key"]) c.media.dtls_key_file = scalar(m["dtls_key"], "media.dtls_key");
  if (m["workers"]) c.media.workers = bounded(m["workers"], "media.workers", 256);
  if (m["rtc_listen"]) {
    auto a = ice::parse_address(scalar(m["rtc_listen"], "media.rtc_listen"));
    if (!a) throw ConfigError("config: 'media.rtc_listen' must be IP:PORT");
    c.media.bind = *a;
  }
  if (m["announce"]) {
    c.media.announced.clear();
    if (!m["announce"].IsSequence()) throw ConfigError("config: 'media.announce' must be a list of IPs");
    for (const auto& ip : m["announce"]) c.media.announced.push_back(parse_announce(scalar(ip, "media.announce")));
  }
  if (m["ice_tcp"]) c.media.ice_tcp = get<bool>(m["ice_tcp"], "media.ice_tcp");
  if (m["socket_buffer_bytes"])
    c.media.socket_buffer_bytes = int(bounded(m["socket_buffer_bytes"], "media.socket_buffer_bytes", 256u << 20));
}

void apply_auth(const YAML::Node& a, Config& c) {
  check_keys(a, {"api_keys"}, "auth.");
  if (!a["api_keys"]) return;
  if (!a["api_keys"].IsMap()) throw ConfigError("config: 'auth.api_keys' must map key ids to secrets");
  for (const auto& kv : a["api_keys"]) {
    const auto secret = scalar(kv.second, "auth.api_keys");
    if (secret.size() < 16) throw ConfigError("config: 'auth.api_keys' secrets must be at least 16 characters");
    c.api_keys[kv.first.as<std::string>()] = secret;
  }
}

}  // namespace

void apply_yaml(const std::string& text, Config& c) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("config: not valid YAML: ") + e.what());
  }
  if (root.IsNull()) return;  // an empty file changes nothing
  check_keys(root, {"listen", "web_root", "drain_timeout", "tls", "media", "auth", "ice_servers", "limits"}, "");
  if (const auto tls = root["tls"]) {
    check_keys(tls, {"cert", "key"}, "tls.");
    if (tls["cert"]) c.tls_certificate_file = scalar(tls["cert"], "tls.cert");
    if (tls["key"]) c.tls_key_file = scalar(tls["key"], "tls.key");
  }
  if (root["listen"]) parse_listen(scalar(root["listen"], "listen"), c);
  if (root["web_root"]) c.web_root = scalar(root["web_root"], "web_root");
  if (root["drain_timeout"]) c.drain_timeout_seconds = bounded(root["drain_timeout"], "drain_timeout", 86400);
  if (root["media"]) apply_media(root["media"], c);
  if (root["auth"]) apply_auth(root["auth"], c);
  if (const auto ice = root["ice_servers"]) {
    check_keys(ice, {"urls", "turn_secret"}, "ice_servers.");
    if (ice["urls"]) {
      c.ice_server_urls.clear();
      for (const auto& u : ice["urls"]) {
        const auto url = scalar(u, "ice_servers.urls");
        if (!(url.starts_with("stun:") || url.starts_with("turn:") || url.starts_with("turns:")))
          throw ConfigError("config: 'ice_servers.urls' entries must be stun:, turn: or turns: URLs");
        c.ice_server_urls.push_back(url);
      }
    }
    if (ice["turn_secret"]) c.turn_secret = scalar(ice["turn_secret"], "ice_servers.turn_secret");
  }
  if (const auto lim = root["limits"]) {
    check_keys(lim, {"max_peers_per_room", "max_rooms"}, "limits.");
    if (lim["max_peers_per_room"]) c.max_peers_per_room = bounded(lim["max_peers_per_room"], "limits.max_peers_per_room", 10000);
    if (lim["max_rooms"]) c.max_rooms = bounded(lim["max_rooms"], "limits.max_rooms", 1000000);
  }
}

}  // namespace sfu::server
