#include "signaling/front.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "signaling/hub.hpp"

namespace sfu::signaling {

namespace http = boost::beast::http;
using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

namespace {

// The server TLS context from PEM files; throws std::runtime_error naming the file.
std::shared_ptr<boost::asio::ssl::context> make_tls(const FrontConfig& c) {
  if (c.tls_certificate_file.empty()) return nullptr;
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  ctx->set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                   boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                   boost::asio::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(c.tls_certificate_file, ec);
  if (ec) throw std::runtime_error("TLS certificate " + c.tls_certificate_file + ": " + ec.message());
  ctx->use_private_key_file(c.tls_key_file, boost::asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("TLS key " + c.tls_key_file + ": " + ec.message());
  return ctx;
}

}  // namespace

Front::Front(boost::asio::io_context& io, FrontConfig config, Hub* hub)
    : config_(std::move(config)),
      http_(io, tcp::endpoint(make_address(config_.listen_address), config_.listen_port),
            [this](const HttpRequest& req, const std::string& remote) { return handle(req, remote); }, config_.http,
            make_tls(config_)),
      hub_(hub) {
  if (hub_)
    admin_ = std::make_unique<AdminApi>(
        *hub_, config_.node,
        [this](bool on) {
          if (!on && shutting_down_) return false;  // SIGTERM's drain ends with the process
          draining_ = on;
          hub_->rooms().set_draining(on);
          return true;
        },
        [this] { return draining_; });
  if (!config_.metrics_address.empty())
    metrics_http_ = std::make_unique<HttpServer>(
        io, tcp::endpoint(make_address(config_.metrics_address), config_.metrics_port),
        [this](const HttpRequest& req, const std::string&) {
          const std::string_view target = req.target();
          if (target.substr(0, target.find('?')) == "/metrics") return metrics(req, true);
          return make_text_response(req, 404, "not found (this listener serves /metrics)\n");
        });
  http_.set_upgrade_handler([this](PlainStream& s, HttpRequest& req) { return upgrade(s, req); },
                            [this](TlsStream& s, HttpRequest& req) { return upgrade(s, req); });
}

void Front::start() {
  http_.start();
  if (metrics_http_) metrics_http_->start();
}

void Front::stop() {
  http_.stop();
  if (metrics_http_) metrics_http_->stop();
}

template <class Stream>
bool Front::upgrade(Stream& stream, HttpRequest& req) {
  const std::string_view target = req.target();
  if (target.substr(0, target.find('?')) != "/ws" || !hub_) return false;
  boost::system::error_code ec;
  const auto remote = boost::beast::get_lowest_layer(stream).socket().remote_endpoint(ec);
  const std::string remote_address = ec ? std::string() : remote.address().to_string();
  auto session = std::make_shared<BasicWsSession<Stream>>(std::move(stream), config_.ws);
  session->start(std::move(req), [hub = hub_, remote_address](std::weak_ptr<WsSession> s, const HttpRequest& r) {
    return hub->make_peer(std::move(s), r, remote_address);
  });
  return true;
}

namespace {

std::string_view content_type(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  if (path.ends_with(".json")) return "application/json";
  return "application/octet-stream";
}

bool safe_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.find("..") != std::string_view::npos) return false;
  for (char c : path)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-' || c == '_')) return false;
  return true;
}

}  // namespace

HttpResponse Front::serve_file(const HttpRequest& req, std::string_view path) {
  if (config_.web_root.empty() || !safe_path(path)) return make_text_response(req, 404, "not found\n");
  const std::string file = config_.web_root + std::string(path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return make_text_response(req, 404, "not found\n");
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_text_response(req, 404, "not found\n");
  std::ostringstream body;
  body << in.rdbuf();
  auto res = make_text_response(req, 200, body.str(), content_type(path));
  return res;
}

// Open where joins are anonymous (loopback without keys); elsewhere it needs
// "Authorization: Bearer <token>" with the admin grant.
std::optional<HttpResponse> Front::refuse_non_admin(const HttpRequest& req) const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  auto caller = authorise_admin(hub_->auth(), req[http::field::authorization], "", now);
  if (caller) return std::nullopt;
  return make_text_response(req, caller.error().status, caller.error().message + "\n");
}

HttpResponse Front::stats(const HttpRequest& req) {
  if (req.method() != http::verb::get) return make_text_response(req, 405, "method not allowed\n");
  if (!hub_) return make_text_response(req, 503, "no signaling\n");
  if (auto refused = refuse_non_admin(req)) return std::move(*refused);
  return make_text_response(req, 200, hub_->stats().dump() + "\n", "application/json");
}

// The live nodes (cluster mode); node-wide admin token unless anonymous.
HttpResponse Front::cluster(const HttpRequest& req) {
  if (req.method() != http::verb::get) return make_text_response(req, 405, "method not allowed\n");
  if (!hub_ || !config_.cluster) return make_text_response(req, 404, "not in cluster mode (no --redis)\n");
  if (auto refused = refuse_non_admin(req)) return std::move(*refused);
  return make_text_response(req, 200, config_.cluster().dump() + "\n", "application/json");
}

// `open`: on the metrics listener, which needs no token (keep it private).
HttpResponse Front::metrics(const HttpRequest& req, bool open) {
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return make_text_response(req, 405, "method not allowed\n");
  if (!hub_) return make_text_response(req, 503, "no signaling\n");
  if (!open) {
    if (metrics_http_) return make_text_response(req, 404, "/metrics is served on the metrics listener\n");
    if (auto refused = refuse_non_admin(req)) return std::move(*refused);
  }
  return make_text_response(req, 200, render_metrics(*hub_, config_.node, http_.counters(), config_.extra_metrics),
                            "text/plain; version=0.0.4; charset=utf-8");
}

HttpResponse Front::handle(const HttpRequest& req, const std::string& remote) {
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool read_only = req.method() == http::verb::get || req.method() == http::verb::head;

  if (path == "/healthz" || path == "/readyz") {
    if (!read_only) return make_text_response(req, 405, "method not allowed\n");
    if (path == "/readyz" && draining_) return make_text_response(req, 503, "draining\n");
    if (path == "/readyz" && config_.not_ready)
      if (auto why = config_.not_ready(); !why.empty()) return make_text_response(req, 503, why + "\n");
    return make_text_response(req, 200, "ok\n");
  }
  if (path == "/ws") return make_text_response(req, 426, "WebSocket upgrade required\n");
  if (path == "/stats") return stats(req);
  if (path == "/metrics") return metrics(req, false);
  if (path == "/cluster") return cluster(req);
  if (path.starts_with("/admin/")) {
    if (!admin_) return make_text_response(req, 503, "no signaling\n");
    return admin_->handle(req, remote);
  }
  if (!read_only) return make_text_response(req, 405, "method not allowed\n");
  if (path == "/" || path.starts_with("/room/")) return serve_file(req, "/index.html");
  return serve_file(req, path);
}

}  // namespace sfu::signaling
