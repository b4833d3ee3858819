// The signaling front: the HTTP endpoints of one node — health and
// readiness, the demo page, and the WebSocket JSON-RPC endpoint /ws.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "signaling/admin_api.hpp"
#include "signaling/http_server.hpp"
#include "signaling/jsonrpc.hpp"
#include "signaling/node_metrics.hpp"
#include "signaling/ws_session.hpp"

namespace sfu::signaling {

class Hub;

struct FrontConfig {
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 8080;
  HttpLimits http;
  WsLimits ws;
  std::string web_root;  // directory with index.html etc.; empty: no demo page
  // PEM files: when set, every connection is HTTPS / WSS on the same port.
  std::string tls_certificate_file;
  std::string tls_key_file;
  // GET /metrics on its own plain-HTTP listener (open: keep it private);
  // empty: on the main port, where it needs an admin token unless joins
  // are anonymous (loopback without keys).
  std::string metrics_address;
  uint16_t metrics_port = 0;
  NodeIdentity node;
  // Cluster mode: why the node is not ready (empty: ready), checked by
  // /readyz; GET /cluster's body (null: not in cluster mode); more
  // families for /metrics.
  std::function<std::string()> not_ready;
  std::function<Json()> cluster;
  std::function<void(server::Exposition&)> extra_metrics;
};

class Front {
 public:
  // Binds the HTTP listener; throws boost::system::system_error on failure.
  // `hub` may be null (then /ws answers 503).
  Front(boost::asio::io_context& io, FrontConfig config, Hub* hub = nullptr);

  void start();
  // Draining: /readyz answers 503 so a balancer stops sending new rooms here.
  void begin_drain() { draining_ = true; }
  void end_drain() { draining_ = false; }
  // SIGTERM: the node is going away; an admin cannot end this drain.
  void begin_shutdown() {
    shutting_down_ = true;
    draining_ = true;
  }
  bool draining() const { return draining_; }
  // Closes the listener and every connection.
  void stop();

  uint16_t port() const { return http_.port(); }
  // The metrics listener's port, 0 without one.
  uint16_t metrics_port() const { return metrics_http_ ? metrics_http_->port() : 0; }

 private:
  HttpResponse handle(const HttpRequest& req, const std::string& remote);
  template <class Stream>
  bool upgrade(Stream& stream, HttpRequest& req);
  HttpResponse serve_file(const HttpRequest& req, std::string_view path);
  HttpResponse stats(const HttpRequest& req);
  HttpResponse metrics(const HttpRequest& req, bool open);
  HttpResponse cluster(const HttpRequest& req);
  // Null when the request may read node-wide data (/stats, /metrics): the
  // admin grant, or anonymous mode; otherwise the 401/403 to answer.
  std::optional<HttpResponse> refuse_non_admin(const HttpRequest& req) const;

  FrontConfig config_;
  HttpServer http_;
  std::unique_ptr<HttpServer> metrics_http_;
  std::unique_ptr<AdminApi> admin_;
  Hub* hub_;
  bool draining_ = false;
  bool shutting_down_ = false;
};

}  // namespace sfu::signaling
