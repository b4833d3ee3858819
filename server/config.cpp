#include "server/config.hpp"

#include <charconv>

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

void parse_listen(const std::string& value, Config& config) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos) throw ConfigError("--listen: expected HOST:PORT, got '" + value + "'");
  std::string host = value.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  config.http_port = parse_port(value.substr(colon + 1), "--listen");
  if (!host.empty()) config.http_address = host;
}

Config load_config(const std::vector<std::string>& args, const char* (*getenv_fn)(const char*)) {
  Config config;
  if (const char* v = getenv_fn("SFU_LISTEN"); v && *v) parse_listen(v, config);

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
    } else {
      throw ConfigError("unknown argument '" + a + "' (see --help)");
    }
  }
  return config;
}

std::string usage() {
  return "usage: sfu [--listen HOST:PORT] [--version] [--help]\n"
         "\n"
         "  --listen HOST:PORT  HTTP/WebSocket address (default 127.0.0.1:8080; env SFU_LISTEN)\n"
         "\n"
         "Endpoints: GET /healthz (liveness), GET /readyz (503 while draining).\n"
         "SIGINT or SIGTERM stops the server cleanly.\n";
}

}  // namespace sfu::server
