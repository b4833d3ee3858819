#include "server/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

namespace sfu::server {

namespace {

uint16_t parse_port(const std::string& text, const std::string& what) {
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value > 65535 || text.empty())
    throw ConfigError(what + ": '" + text + "' is not a port number (0-65535)");
  return uint16_t(value);
}

}  // namespace

namespace {

// "HOST:PORT", "[v6]:PORT" or ":PORT" (host left as it was).
void parse_host_port(const std::string& value, const std::string& what, std::string& host_out, uint16_t& port_out) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos) throw ConfigError(what + ": expected HOST:PORT, got '" + value + "'");
  std::string host = value.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  port_out = parse_port(value.substr(colon + 1), what);
  if (!host.empty()) host_out = host;
}

}  // namespace

void parse_listen(const std::string& value, Config& config) {
  parse_host_port(value, "--listen", config.http_address, config.http_port);
}

void parse_metrics_listen(const std::string& value, Config& config) {
  std::string host = config.metrics_address.empty() ? "127.0.0.1" : config.metrics_address;
  parse_host_port(value, "--metrics-listen", host, config.metrics_port);
  config.metrics_address = host;
}

ice::Address parse_announce(const std::string& value) {
  auto a = ice::parse_ip(value, 0);
  if (!a) throw ConfigError("--announce: '" + value + "' is not an IPv4 or IPv6 address");
  return *a;
}

namespace {

void parse_rtc_listen(const std::string& value, Config& config) {
  auto a = ice::parse_address(value.starts_with(':') ? ice::ip_to_string(config.media.bind) + value : value);
  if (!a) throw ConfigError("--rtc-listen: expected IP:PORT (port 0: ephemeral ports), got '" + value + "'");
  config.media.bind = *a;
}

void parse_workers(const std::string& value, Config& config) {
  unsigned n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || n > 256)
    throw ConfigError("--workers: '" + value + "' is not a count from 0 (one per core) to 256");
  config.media.workers = n;
}

void parse_announce_list(const std::string& value, Config& config) {
  config.media.announced.clear();
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = value.find(',', start);
    const std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) config.media.announced.push_back(parse_announce(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

void parse_ice_server(const std::string& url, Config& config) {
  if (!(url.starts_with("stun:") || url.starts_with("turn:") || url.starts_with("turns:")) || url.size() > 512)
    throw ConfigError("--ice-server: '" + url.substr(0, 64) + "' is not a stun:, turn: or turns: URL");
  config.ice_server_urls.push_back(url);
}

uint32_t parse_seconds(const std::string& text, const std::string& what) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty() || value > 86400)
    throw ConfigError(what + ": '" + text + "' is not a number of seconds (0-86400)");
  return value;
}

void parse_api_key(const std::string& value, Config& config) {
  const auto eq = value.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 >= value.size())
    throw ConfigError("--api-key: expected KID=SECRET, got '" + value.substr(0, 16) + "...'");
  if (value.size() - eq - 1 < 16) throw ConfigError("--api-key: the secret must be at least 16 characters");
  config.api_keys[value.substr(0, eq)] = value.substr(eq + 1);
}

log::Level parse_log_level(const std::string& value, const std::string& what) {
  const auto level = log::parse_level(value);
  if (!level) throw ConfigError(what + ": '" + value.substr(0, 32) + "' is not one of trace, debug, info, warn, error, off");
  return *level;
}

log::Format parse_log_format(const std::string& value, const std::string& what) {
  const auto format = log::parse_format(value);
  if (!format) throw ConfigError(what + ": '" + value.substr(0, 32) + "' is not text or json");
  return *format;
}

bool is_loopback(const std::string& host) {
  const auto a = ice::parse_ip(host, 0);
  if (!a) return false;
  if (a->is_ipv4()) return a->ip[0] == 127;
  const auto u = a->unmapped();
  if (u.is_ipv4()) return u.ip[0] == 127;
  for (size_t i = 0; i < 15; ++i)
    if (u.ip[i] != 0) return false;
  return u.ip[15] == 1;
}

bool is_wildcard(const ice::Address& a) {
  for (size_t i = 0; i < a.ip_size(); ++i)
    if (a.ip[i] != 0) return false;
  return true;
}

// The full URL grammar is checked where the client is made (main); here the
// scheme, so a typo is named at once.
std::string parse_redis_flag(const std::string& value, const std::string& what) {
  if (!value.starts_with("redis://") || value.size() > 1024)
    throw ConfigError(what + ": expected redis://[[user]:password@]host[:port][/db]");
  return value;
}

}  // namespace

std::string parse_node_id(const std::string& value, const std::string& what) {
  if (value.empty() || value.size() > 64 ||
      !std::all_of(value.begin(), value.end(),
                   [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; }))
    throw ConfigError(what + ": 1-64 characters of [A-Za-z0-9._-]");
  return value;
}

namespace {

void parse_api_key_list(const std::string& value, Config& config) {
  size_t start = 0;
  while (start < value.size()) {
    const size_t comma = value.find(',', start);
    const std::string item = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) parse_api_key(item, config);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

}  // namespace

Config load_config(const std::vector<std::string>& args, const char* (*getenv_fn)(const char*)) {
  Config config;
  // Precedence: defaults < config file < environment < flags.
  // --check-config FILE reads FILE like --config FILE (and wins over it).
  std::string check_file;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) config.config_file = args[i + 1];
    else if (args[i].starts_with("--config=")) config.config_file = args[i].substr(9);
    else if (args[i] == "--check-config" && i + 1 < args.size()) check_file = args[i + 1];
  }
  if (!check_file.empty()) config.config_file = check_file;
  if (config.config_file.empty())
    if (const char* v = getenv_fn("SFU_CONFIG"); v && *v) config.config_file = v;
  if (!config.config_file.empty()) {
    std::ifstream in(config.config_file);
    if (!in) throw ConfigError("config: cannot read '" + config.config_file + "'");
    std::ostringstream text;
    text << in.rdbuf();
    apply_yaml(text.str(), config);
  }
  if (const char* v = getenv_fn("SFU_LISTEN"); v && *v) parse_listen(v, config);
  if (const char* v = getenv_fn("SFU_WORKERS"); v && *v) parse_workers(v, config);
  if (const char* v = getenv_fn("SFU_RTC_LISTEN"); v && *v) parse_rtc_listen(v, config);
  if (const char* v = getenv_fn("SFU_ANNOUNCE"); v && *v) parse_announce_list(v, config);
  if (const char* v = getenv_fn("SFU_API_KEYS"); v && *v) parse_api_key_list(v, config);
  if (const char* v = getenv_fn("SFU_WEB_ROOT"); v && *v) config.web_root = v;
  if (const char* v = getenv_fn("SFU_TURN_SECRET"); v && *v) config.turn_secret = v;
  if (const char* v = getenv_fn("SFU_TLS_CERT"); v && *v) config.tls_certificate_file = v;
  if (const char* v = getenv_fn("SFU_TLS_KEY"); v && *v) config.tls_key_file = v;
  if (const char* v = getenv_fn("SFU_ICE_SERVERS"); v && *v) {
    std::string list = v;
    size_t start = 0;
    while (start < list.size()) {
      const size_t comma = list.find(',', start);
      std::string url = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!url.empty()) parse_ice_server(url, config);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (const char* v = getenv_fn("SFU_DRAIN_TIMEOUT"); v && *v) config.drain_timeout_seconds = parse_seconds(v, "SFU_DRAIN_TIMEOUT");
  if (const char* v = getenv_fn("SFU_LOG_LEVEL"); v && *v) config.log_level = parse_log_level(v, "SFU_LOG_LEVEL");
  if (const char* v = getenv_fn("SFU_LOG_FORMAT"); v && *v) config.log_format = parse_log_format(v, "SFU_LOG_FORMAT");
  if (const char* v = getenv_fn("SFU_METRICS_LISTEN"); v && *v) parse_metrics_listen(v, config);
  if (const char* v = getenv_fn("SFU_REDIS_URL"); v && *v) config.redis_url = parse_redis_flag(v, "SFU_REDIS_URL");
  if (const char* v = getenv_fn("SFU_NODE_ID"); v && *v) config.node_id = parse_node_id(v, "SFU_NODE_ID");
  if (const char* v = getenv_fn("SFU_CLUSTER_SECRET"); v && *v) config.cluster_secret = v;
  bool announce_from_flags = false;

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw ConfigError(a + ": missing value");
      return args[++i];
    };
    if (a == "-h" || a == "--help") {
      config.show_help = true;
    } else if (a == "--version") {
      config.show_version = true;
    } else if (a == "--listen") {
      parse_listen(next(), config);
    } else if (a.starts_with("--listen=")) {
      parse_listen(a.substr(9), config);
    } else if (a == "--workers") {
      parse_workers(next(), config);
    } else if (a == "--rtc-listen") {
      parse_rtc_listen(next(), config);
    } else if (a == "--announce") {
      // Repeatable; the first flag replaces what the environment said.
      if (!announce_from_flags) config.media.announced.clear();
      announce_from_flags = true;
      config.media.announced.push_back(parse_announce(next()));
    } else if (a == "--no-ice-tcp") {
      config.media.ice_tcp = false;
    } else if (a == "--no-udp-gso") {
      config.media.udp_gso = false;
    } else if (a == "--api-key") {
      parse_api_key(next(), config);
    } else if (a == "--config") {
      next();  // read above
    } else if (a.starts_with("--config=")) {
    } else if (a == "--dtls-cert") {
      config.media.dtls_certificate_file = next();
    } else if (a == "--dtls-key") {
      config.media.dtls_key_file = next();
    } else if (a == "--tls-cert") {
      config.tls_certificate_file = next();
    } else if (a == "--tls-key") {
      config.tls_key_file = next();
    } else if (a == "--ice-server") {
      parse_ice_server(next(), config);
    } else if (a == "--turn-secret") {
      config.turn_secret = next();
    } else if (a == "--drain-timeout") {
      config.drain_timeout_seconds = parse_seconds(next(), "--drain-timeout");
    } else if (a == "--web-root") {
      config.web_root = next();
    } else if (a == "--log-level") {
      config.log_level = parse_log_level(next(), "--log-level");
    } else if (a == "--log-format") {
      config.log_format = parse_log_format(next(), "--log-format");
    } else if (a == "--metrics-listen") {
      parse_metrics_listen(next(), config);
    } else if (a == "--redis") {
      config.redis_url = parse_redis_flag(next(), "--redis");
    } else if (a == "--node-id") {
      config.node_id = parse_node_id(next(), "--node-id");
    } else if (a == "--cluster-secret") {
      config.cluster_secret = next();
    } else if (a == "--check-config") {
      next();  // read above
      config.check_config = true;
    } else {
      throw ConfigError("unknown argument '" + a + "' (see --help)");
    }
  }
  if (config.tls_certificate_file.empty() != config.tls_key_file.empty())
    throw ConfigError("--tls-cert and --tls-key go together");
  if (config.media.dtls_certificate_file.empty() != config.media.dtls_key_file.empty())
    throw ConfigError("--dtls-cert and --dtls-key go together");
  return config;
}

void check_startable(const Config& config) {
  if (config.media.announced.empty() && is_wildcard(config.media.bind))
    throw ConfigError("media: bind address " + ice::ip_to_string(config.media.bind) +
                      " is a wildcard: set an announced address (--announce, media.announce)");
  if (config.api_keys.empty() && !is_loopback(config.http_address))
    throw ConfigError("listening on " + config.http_address +
                      " needs an API key (--api-key, auth.api_keys): anonymous joins are allowed only on loopback");
  if (!config.metrics_address.empty() && config.metrics_address == config.http_address &&
      config.metrics_port == config.http_port && config.http_port != 0)
    throw ConfigError("--metrics-listen: same address as --listen (leave it unset to serve /metrics there)");
  const std::pair<const std::string*, const char*> files[] = {
      {&config.tls_certificate_file, "tls.cert (--tls-cert)"},
      {&config.tls_key_file, "tls.key (--tls-key)"},
      {&config.media.dtls_certificate_file, "media.dtls_cert (--dtls-cert)"},
      {&config.media.dtls_key_file, "media.dtls_key (--dtls-key)"}};
  for (const auto& [path, what] : files)
    if (!path->empty() && !std::ifstream(*path)) throw ConfigError(std::string(what) + ": cannot read '" + *path + "'");
  if (!config.web_root.empty() && !std::ifstream(config.web_root + "/index.html"))
    throw ConfigError("web_root (--web-root): no index.html in '" + config.web_root + "'");
}

std::string usage() {
  return "usage: sfu [--config FILE] [--listen HOST:PORT] [--workers N] [--rtc-listen IP:PORT] [--announce IP]...\n"
         "           [--no-ice-tcp] [--no-udp-gso] [--api-key KID=SECRET]... [--web-root DIR]\n"
         "           [--log-level L] [--log-format F]\n"
         "           [--metrics-listen HOST:PORT] [--redis URL] [--node-id ID] [--version] [--help]\n"
         "       sfu --check-config FILE [other flags]\n"
         "\n"
         "  --config FILE         YAML configuration (deploy/sfu.yaml documents every key; env SFU_CONFIG);\n"
         "                        environment variables override it, flags override both\n"
         "  --listen HOST:PORT    HTTP/WebSocket address (default 127.0.0.1:8080; env SFU_LISTEN)\n"
         "  --workers N           media workers, one thread each (default 0 = one per core; env SFU_WORKERS)\n"
         "  --rtc-listen IP:PORT  media bind address and base port; worker i uses port+i for UDP\n"
         "                        and ICE-TCP (default 127.0.0.1:40000; env SFU_RTC_LISTEN)\n"
         "  --announce IP         address put in ICE candidates, repeatable, e.g. the public IP\n"
         "                        behind NAT (default: the bind address; env SFU_ANNOUNCE=ip,ip)\n"
         "  --no-ice-tcp          no ICE-TCP passive candidates\n"
         "  --no-udp-gso          send every UDP datagram on its own, without UDP GSO (media.udp_gso)\n"
         "  --api-key KID=SECRET  accept JWT HS256 tokens signed with SECRET (header kid=KID),\n"
         "                        repeatable (env SFU_API_KEYS=kid=secret,...). Without a key, joins are\n"
         "                        anonymous, which is allowed only when listening on loopback.\n"
         "  --dtls-cert FILE      DTLS certificate (PEM) and, with --dtls-key FILE, its key, so the\n"
         "                        fingerprint survives restarts (default: generated at start-up)\n"
         "  --tls-cert FILE       PEM certificate chain; with --tls-key FILE the front serves HTTPS and\n"
         "                        WSS on the listen port (env SFU_TLS_CERT, SFU_TLS_KEY)\n"
         "  --web-root DIR        the demo page's files (default: the source tree's signaling/web)\n"
         "  --ice-server URL      a STUN/TURN server for clients (join's iceServers), repeatable\n"
         "                        (env SFU_ICE_SERVERS=url,url)\n"
         "  --turn-secret S       shared secret of the TURN servers (coturn use-auth-secret): join\n"
         "                        returns time-limited TURN REST credentials (env SFU_TURN_SECRET)\n"
         "  --drain-timeout S     on SIGTERM: /readyz turns 503, new joins get 'unavailable', and the\n"
         "                        server waits up to S seconds (default 30) for rooms to empty\n"
         "                        (env SFU_DRAIN_TIMEOUT). SIGINT or a second signal stops at once.\n"
         "  --log-level L         trace, debug, info (default), warn, error or off (env SFU_LOG_LEVEL)\n"
         "  --log-format F        text (default): 'TIME LEVEL event key=value ...', or json: one object\n"
         "                        per line (env SFU_LOG_FORMAT). One line per event, on stderr.\n"
         "  --metrics-listen HOST:PORT\n"
         "                        serve GET /metrics (Prometheus) on this separate listener, with no\n"
         "                        token (keep it private), instead of on the signaling port with an\n"
         "                        admin token (\":PORT\": 127.0.0.1; env SFU_METRICS_LISTEN)\n"
         "  --redis URL           cluster mode: the node registers in this Redis and serves /cluster\n"
         "                        (redis://[[user]:password@]host[:port][/db]; env SFU_REDIS_URL)\n"
         "  --node-id ID          this node's id in the cluster (default: host name and port;\n"
         "                        env SFU_NODE_ID)\n"
         "  --cluster-secret S    key of the HMAC on every message between nodes: the same on every\n"
         "                        node, at least 16 bytes; required with --redis (env SFU_CLUSTER_SECRET)\n"
         "  --check-config FILE   read FILE as --config does, with the environment and the other flags,\n"
         "                        check it without binding anything, print the effective settings\n"
         "                        (secrets masked) and exit: 0 if valid, 2 with the key and line if not\n"
         "\n"
         "       sfu token --room R --identity I [--name N] [--ttl SECONDS] [--grants LIST] [--api-key KID=SECRET]\n"
         "  mints a join token (LIST: publish,subscribe,publishData,admin; default all but admin)\n"
         "\n"
         "Endpoints: GET /healthz (liveness), GET /readyz (503 while draining), GET /metrics (Prometheus;\n"
         "admin token, or on --metrics-listen), /admin/v1/ (admin token).\n"
         "SIGINT or SIGTERM stops the server cleanly.\n";
}

}  // namespace sfu::server
