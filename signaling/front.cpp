#include "signaling/front.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/verb.hpp>

namespace sfu::signaling {

namespace http = boost::beast::http;
using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

Front::Front(boost::asio::io_context& io, FrontConfig config)
    : config_(std::move(config)),
      http_(io, tcp::endpoint(make_address(config_.listen_address), config_.listen_port),
            [this](const HttpRequest& req) { return handle(req); }, config_.http) {}

void Front::start() { http_.start(); }

void Front::stop() { http_.stop(); }

HttpResponse Front::handle(const HttpRequest& req) {
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const bool read_only = req.method() == http::verb::get || req.method() == http::verb::head;

  if (path == "/healthz" || path == "/readyz") {
    if (!read_only) return make_text_response(req, 405, "method not allowed\n");
    if (path == "/readyz" && draining_) return make_text_response(req, 503, "draining\n");
    return make_text_response(req, 200, "ok\n");
  }
  return make_text_response(req, 404, "not found\n");
}

}  // namespace sfu::signaling
