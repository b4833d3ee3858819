// The signaling front: the HTTP endpoints of one node (health, readiness,
// later the demo page, WebSocket JSON-RPC, admin and metrics).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "signaling/http_server.hpp"

namespace sfu::signaling {

struct FrontConfig {
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 8080;
  HttpLimits http;
};

class Front {
 public:
  // Binds the HTTP listener; throws boost::system::system_error on failure.
  Front(boost::asio::io_context& io, FrontConfig config);

  void start();
  // Draining: /readyz answers 503 so a balancer stops sending new rooms here.
  void begin_drain() { draining_ = true; }
  bool draining() const { return draining_; }
  // Closes the listener and every connection.
  void stop();

  uint16_t port() const { return http_.port(); }

 private:
  HttpResponse handle(const HttpRequest& req);

  FrontConfig config_;
  HttpServer http_;
  bool draining_ = false;
};

}  // namespace sfu::signaling
