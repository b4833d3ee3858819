// The sfu binary: the composition root. It is the one place that wires the
// signaling front to the media side; the sfu_server library itself never
// includes signaling/ (arrows point down). It lives in signaling/, the top
// layer, so that its own includes point down too.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include "common/log.hpp"
#include "server/config.hpp"
#include "server/media_controller.hpp"
#include "server/worker_pool.hpp"
#include "signaling/auth.hpp"
#include "signaling/cluster_node.hpp"
#include "signaling/cluster_rooms.hpp"
#include "signaling/redis_client.hpp"
#include "signaling/front.hpp"
#include "signaling/hub.hpp"

namespace {

const char* env_lookup(const char* name) { return std::getenv(name); }

// The Redis URL's full grammar (the config only checks its scheme).
void check_cluster(const sfu::server::Config& config) {
  if (config.redis_url.empty()) return;
  if (auto url = sfu::signaling::parse_redis_url(config.redis_url); !url)
    throw sfu::server::ConfigError("--redis: " + url.error());
  if (config.cluster_secret.size() < 16)
    throw sfu::server::ConfigError(
        "cluster mode needs --cluster-secret (SFU_CLUSTER_SECRET, cluster.secret) of at least 16 bytes, the same on "
        "every node: it signs every message between nodes");
}

// The node's name in sfu_node_info: the host name.
std::string node_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || !host[0]) return "sfu";
  return host;
}

bool is_loopback(const std::string& address) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(address, ec);
  return !ec && a.is_loopback();
}

// Process-wide settings a server needs before its first socket:
// - SIGPIPE ignored: a write to a peer that has gone (ICE-TCP through libuv,
//   which writes with plain write(2); WebSocket and HTTP) must be an EPIPE
//   error on that one connection, never the end of the process.
// - The open-file limit raised to the hard limit: every WebSocket, ICE-TCP
//   connection and socket is a descriptor, and the usual soft limit of 1024
//   is below what one node serves.
void prepare_process() {
  std::signal(SIGPIPE, SIG_IGN);
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
}

int run(const sfu::server::Config& config) {
  check_cluster(config);
  prepare_process();
  sfu::server::WorkerPool workers(config.media);
  workers.start();
  for (size_t i = 0; i < workers.size(); ++i) {
    std::string line;
    for (const auto& c : workers.candidates(i)) line += (line.empty() ? "[" : " [") + c.to_sdp() + "]";
    sfu::log::info("worker candidates", {{"worker", i}, {"candidates", line}});
  }

  boost::asio::io_context io(1);
  sfu::server::MediaController media(workers, [&io](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); });
  sfu::signaling::AuthConfig auth{config.api_keys, config.api_keys.empty() && is_loopback(config.http_address)};
  if (config.api_keys.empty() && !auth.allow_anonymous)
    throw std::runtime_error("listening on " + config.http_address +
                             " needs an API key (--api-key KID=SECRET): anonymous joins are allowed only on loopback");
  sfu::signaling::SignalingLimits limits;
  limits.max_peers_per_room = config.max_peers_per_room;
  limits.max_rooms = config.max_rooms;
  sfu::signaling::Hub hub(io, media, auth, limits, {config.ice_server_urls, config.turn_secret});
  sfu::signaling::FrontConfig fc{.listen_address = config.http_address, .listen_port = config.http_port};
  fc.web_root = config.web_root.empty() ? std::string(SFU_DEFAULT_WEB_ROOT) : config.web_root;
  fc.tls_certificate_file = config.tls_certificate_file;
  fc.tls_key_file = config.tls_key_file;
  fc.metrics_address = config.metrics_address;
  fc.metrics_port = config.metrics_port;
  fc.node = {node_name(), SFU_VERSION};
  // Cluster mode (--redis): the Redis client and this node's registry entry.
  std::unique_ptr<sfu::signaling::RedisClient> redis;
  std::unique_ptr<sfu::signaling::ClusterNode> cluster;
  std::unique_ptr<sfu::signaling::ClusterRooms> cluster_rooms;
  if (!config.redis_url.empty()) {
    fc.not_ready = [&]() -> std::string {
      if (!redis || !redis->ready()) return "redis unavailable";
      if (!redis->pubsub_ready()) return "redis pub/sub unavailable";
      if (cluster->collision()) return "node id collision";
      if (!cluster->registered()) return "not registered in the cluster yet";
      return {};
    };
    fc.cluster = [&] { return cluster->to_json(); };
    fc.extra_metrics = [&](sfu::server::Exposition& x) {
      sfu::signaling::cluster_metrics(x, *redis, *cluster);
      sfu::signaling::cluster_rooms_metrics(x, *cluster_rooms);
    };
  }
  sfu::signaling::Front front(io, fc, &hub);
  if (!config.redis_url.empty()) {
    auto url = sfu::signaling::parse_redis_url(config.redis_url);
    redis = std::make_unique<sfu::signaling::RedisClient>(io, *url);
    sfu::signaling::NodeInfo self;
    const bool wildcard = config.http_address == "0.0.0.0" || config.http_address == "::";
    const std::string host = wildcard && !config.media.announced.empty() ? sfu::ice::ip_to_string(config.media.announced[0])
                                                                          : config.http_address;
    self.id = config.node_id.empty() ? node_name() + "-" + std::to_string(front.port()) : config.node_id;
    self.url = std::string(config.tls_certificate_file.empty() ? "http" : "https") + "://" +
               (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(front.port());
    for (size_t i = 0; i < workers.size(); ++i)
      for (const auto& c : workers.candidates(i))
        if (c.protocol == sfu::ice::CandidateProtocol::udp) self.media.push_back(sfu::ice::to_string(c.address));
    self.fingerprint = "sha-256 " + workers.dtls_context()->certificate().fingerprint_sha256();
    self.version = SFU_VERSION;
    self.started_at = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
    cluster = std::make_unique<sfu::signaling::ClusterNode>(io, *redis, self, [&](sfu::signaling::NodeInfo& n) {
      n.peers = hub.rooms().peer_count();
      n.rooms = hub.rooms().room_count();
      n.draining = front.draining();
      n.worker_cpu.clear();
      for (size_t i = 0; i < media.worker_count(); ++i) n.worker_cpu.push_back(media.worker_metrics(i).cpu_seconds);
    });
    cluster_rooms = std::make_unique<sfu::signaling::ClusterRooms>(io, *redis, *cluster, hub.rooms(), config.cluster_secret);
    cluster_rooms->start();
    redis->start();
    cluster->start();
    sfu::log::info("cluster mode", {{"node", self.id}, {"redis", url->host + ":" + std::to_string(url->port)}});
  }

  // SIGTERM drains (rolling deploys): /readyz 503, no new joins, rooms run
  // until empty or the drain timeout. SIGINT, or a second signal, stops now.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer drain_timer(io);
  bool stopping = false;
  bool shutting_down = false;  // SIGTERM received: draining until empty or the timeout
  const auto deadline = std::make_shared<std::chrono::steady_clock::time_point>();
  auto stop_now = [&] {
    if (stopping) return;
    stopping = true;
    drain_timer.cancel();
    signals.cancel();
    // In a cluster the rooms live on: peers are told to reconnect (through
    // the balancer, to another node) rather than that their room closed.
    if (cluster) hub.close_all(shutting_down ? "draining" : "server_shutdown", "reconnect");
    else hub.close_all("server_shutdown");
    front.stop();
    // Leave the registry at once (others need not wait for the TTL), then
    // let go of Redis so io.run() can return.
    if (cluster_rooms) cluster_rooms->stop();
    if (cluster) cluster->leave([&] { redis->stop(); });
  };
  std::function<void()> check_drain = [&] {
    if (hub.rooms().peer_count() == 0 || std::chrono::steady_clock::now() >= *deadline) return stop_now();
    drain_timer.expires_after(std::chrono::milliseconds(200));
    drain_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) check_drain();
    });
  };
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                               int signo) {
    if (ec) return;
    // A second signal stops at once; an admin drain (POST /admin/v1/drain)
    // is not one: SIGTERM then starts the shutdown drain as usual.
    const bool second = shutting_down;
    sfu::log::info("signal received", {{"signal", signo == SIGINT ? "SIGINT" : "SIGTERM"},
                                       {"action", signo == SIGTERM && !second ? "draining" : "stopping"}});
    if (signo == SIGINT || second) return stop_now();
    shutting_down = true;
    front.begin_shutdown();
    hub.begin_drain();
    *deadline = std::chrono::steady_clock::now() + std::chrono::seconds(config.drain_timeout_seconds);
    signals.async_wait(on_signal);
    check_drain();
  };
  signals.async_wait(on_signal);

  front.start();
  // Tests and scripts find the port with /listening on (https?):\/\/127\.0\.0\.1:(\d+)/ (any format).
  const bool v6 = config.http_address.find(':') != std::string::npos;
  sfu::log::info("listening on " + std::string(config.tls_certificate_file.empty() ? "http" : "https") + "://" +
                     (v6 ? "[" + config.http_address + "]" : config.http_address) + ":" + std::to_string(front.port()),
                 {{"joins", auth.allow_anonymous ? "anonymous" : "token"}, {"workers", workers.size()}});
  if (front.metrics_port())
    sfu::log::info("metrics listening on http://" + config.metrics_address + ":" + std::to_string(front.metrics_port()));
  io.run();
  workers.stop();
  sfu::log::info("stopped");
  return 0;
}

// sfu token --room R --identity I [--name N] [--ttl S] [--grants LIST] [--api-key KID=SECRET]
int mint(const std::vector<std::string>& args) {
  sfu::signaling::Identity id;
  int64_t ttl = 3600;
  std::string kid, secret;
  if (const char* keys = std::getenv("SFU_API_KEYS"); keys && *keys) {
    std::string first(keys);
    first = first.substr(0, first.find(','));
    const auto eq = first.find('=');
    if (eq != std::string::npos) kid = first.substr(0, eq), secret = first.substr(eq + 1);
  }
  for (size_t i = 0; i < args.size(); ++i) {
    auto next = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw sfu::server::ConfigError(args[i] + ": missing value");
      return args[++i];
    };
    const std::string& a = args[i];
    if (a == "--room") id.room = next();
    else if (a == "--identity") id.subject = next();
    else if (a == "--name") id.name = next();
    else if (a == "--ttl") ttl = std::stoll(next());
    else if (a == "--api-key") {
      const std::string& v = next();
      const auto eq = v.find('=');
      if (eq == std::string::npos) throw sfu::server::ConfigError("--api-key: expected KID=SECRET");
      kid = v.substr(0, eq);
      secret = v.substr(eq + 1);
    } else if (a == "--grants") {
      const std::string& list = next();
      id.grants = {false, false, false, false};
      size_t start = 0;
      while (start <= list.size()) {
        const size_t comma = list.find(',', start);
        const std::string g = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (g == "publish") id.grants.publish = true;
        else if (g == "subscribe") id.grants.subscribe = true;
        else if (g == "publishData") id.grants.publish_data = true;
        else if (g == "admin") id.grants.admin = true;
        else if (!g.empty()) throw sfu::server::ConfigError("--grants: unknown grant '" + g + "'");
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else {
      throw sfu::server::ConfigError("token: unknown argument '" + a + "'");
    }
  }
  if (id.room.empty() || id.subject.empty()) throw sfu::server::ConfigError("token: --room and --identity are required");
  if (id.room == "*") id.room.clear();  // no room claim: any room (node-wide admin calls need this)
  if (secret.empty()) throw sfu::server::ConfigError("token: no key (--api-key KID=SECRET or SFU_API_KEYS)");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  std::puts(sfu::signaling::mint_token(secret, kid, id, now, ttl).c_str());
  return 0;
}

// sfu --check-config FILE: the effective settings (secrets masked) on
// stdout; problems throw ConfigError (exit 2). Binds nothing.
int check_config(const sfu::server::Config& config) {
  sfu::server::check_startable(config);
  check_cluster(config);
  std::printf("# %s: valid. Effective settings (file < environment < flags), secrets masked:\n%s",
              config.config_file.c_str(), sfu::server::effective_settings(config).c_str());
  return 0;
}

// Once the logger is set up, a fatal error is a log line like any other
// (JSON when the format is json); before that, "sfu: ..." on stderr.
bool g_logging = false;
void report_fatal(const char* what) {
  if (g_logging && sfu::log::enabled(sfu::log::Level::error))
    sfu::log::error("fatal", {{"error", what}});
  else
    std::fprintf(stderr, "sfu: %s\n", what);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "token") return mint({args.begin() + 1, args.end()});
    const auto config = sfu::server::load_config(args, env_lookup);
    if (config.show_help) {
      std::fputs(sfu::server::usage().c_str(), stdout);
      return 0;
    }
    if (config.show_version) {
      std::puts("sfu " SFU_VERSION);
      return 0;
    }
    if (config.check_config) return check_config(config);
    sfu::log::init(config.log_level, config.log_format);
    g_logging = true;
    return run(config);
  } catch (const sfu::server::ConfigError& e) {
    report_fatal(e.what());
    return 2;
  } catch (const boost::system::system_error& e) {
    report_fatal(e.what());
    return 1;
  } catch (const std::exception& e) {
    report_fatal(e.what());
    return 1;
  }
}
