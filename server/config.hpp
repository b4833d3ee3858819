// Node configuration: defaults that run out of the box on one machine,
// overridden by environment variables (SFU_*), then by command-line flags.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "server/worker_pool.hpp"

namespace sfu::server {

struct Config {
  std::string http_address = "127.0.0.1";  // --listen HOST:PORT, SFU_LISTEN
  uint16_t http_port = 8080;
  MediaConfig media;  // --workers, --rtc-listen, --announce, --no-ice-tcp
  std::map<std::string, std::string> api_keys;  // --api-key KID=SECRET, SFU_API_KEYS=kid=secret,...
  std::string web_root;                         // --web-root DIR, SFU_WEB_ROOT
  uint32_t drain_timeout_seconds = 30;          // --drain-timeout S, SFU_DRAIN_TIMEOUT
  std::vector<std::string> ice_server_urls;     // --ice-server URL (stun:/turn:/turns:), SFU_ICE_SERVERS=url,url
  std::string turn_secret;                      // --turn-secret S, SFU_TURN_SECRET (coturn use-auth-secret)
  uint32_t max_peers_per_room = 100;            // config file only (limits.max_peers_per_room)
  uint32_t max_rooms = 1000;                    // config file only (limits.max_rooms)
  std::string config_file;                      // --config FILE, SFU_CONFIG
  std::string tls_certificate_file;             // --tls-cert FILE, SFU_TLS_CERT (PEM chain): HTTPS/WSS
  std::string tls_key_file;                     // --tls-key FILE, SFU_TLS_KEY (PEM)
  log::Level log_level = log::Level::info;      // --log-level L, SFU_LOG_LEVEL (log.level)
  log::Format log_format = log::Format::text;   // --log-format F, SFU_LOG_FORMAT (log.format)
  // --metrics-listen HOST:PORT, SFU_METRICS_LISTEN (metrics.listen): GET
  // /metrics on its own listener. Empty address: on the signaling port.
  std::string metrics_address;
  uint16_t metrics_port = 0;
  // Cluster mode (--redis URL, SFU_REDIS_URL, cluster.redis_url): on when a
  // Redis URL is set, redis://[[user]:password@]host[:port][/db]. The node's
  // id in the cluster: --node-id, SFU_NODE_ID, cluster.node_id (default:
  // the host name and the signaling port).
  std::string redis_url;
  std::string node_id;
  // The key of the HMAC on every message between nodes (--cluster-secret,
  // SFU_CLUSTER_SECRET, cluster.secret); required in cluster mode, the same
  // on every node, at least 16 bytes.
  std::string cluster_secret;
  bool check_config = false;                    // --check-config FILE: validate, print, exit
  bool show_help = false;
  bool show_version = false;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Builds the configuration from `args` (argv without the program name) and
// an environment lookup (getenv in production, a table in tests). Throws
// ConfigError with a message naming the offending flag or variable.
Config load_config(const std::vector<std::string>& args, const char* (*getenv_fn)(const char*));

// "HOST:PORT", "[v6]:PORT" or ":PORT" (keeps the host). Throws ConfigError.
void parse_listen(const std::string& value, Config& config);
// The same forms for --metrics-listen (":PORT": 127.0.0.1 unless a host
// was set before). Throws ConfigError.
void parse_metrics_listen(const std::string& value, Config& config);

// Applies a YAML configuration document (deploy/sfu.yaml documents every
// key) on top of `config`. Unknown keys, mistyped values and YAML syntax
// errors throw ConfigError naming the key and its 1-based line
// ("config: line 7: 'media.workers' must be 0..256"), so a typo never
// silently falls back.
void apply_yaml(const std::string& text, Config& config);

// The effective settings as YAML in the layout of deploy/sfu.yaml, with
// secrets (API key secrets, the TURN secret) written as "***". For
// --check-config.
std::string effective_settings(const Config& config);

// Checks --check-config adds to parsing, without binding anything: what a
// start would refuse later (a wildcard media bind without an announced
// address, anonymous joins off loopback, unreadable certificate files).
// Throws ConfigError.
void check_startable(const Config& config);

// "IP" for --announce (the port comes from the worker). Throws ConfigError.
ice::Address parse_announce(const std::string& value);

std::string usage();

// A node id for cluster mode: 1-64 of [A-Za-z0-9._-]. Throws ConfigError naming `what`.
std::string parse_node_id(const std::string& value, const std::string& what);

}  // namespace sfu::server
