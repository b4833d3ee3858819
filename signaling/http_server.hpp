// The HTTP front of the control thread: accepts connections on one endpoint
// and answers requests through a route table; WebSocket upgrades are handed
// to the upgrade handler. Runs on one io_context, one thread.
//
// Lifetime: a Connection is owned by shared_ptr and kept alive only by the
// completion handler of its one pending operation (handshake, read, write);
// when none is pending it is destroyed. The server holds raw pointers to the
// open ones (ConnectionSet, shared so a connection that outlives the server
// can still unregister) just to close them on stop(); closing cancels the
// pending operation, whose handler then releases the connection. An upgrade
// moves the stream out to a WebSocket session (ws_session.hpp has its own
// rule) and the Connection ends with that handler.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sfu::signaling {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

struct HttpLimits {
  uint32_t max_header_bytes = 8 * 1024;
  uint32_t max_body_bytes = 64 * 1024;
  uint32_t idle_timeout_seconds = 30;
  uint32_t max_connections = 4096;
};

// Counters read by /metrics; plain integers, only the control thread writes.
struct HttpCounters {
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;
  uint64_t requests = 0;
  uint64_t bad_requests = 0;
  uint64_t accept_errors = 0;  // e.g. EMFILE: accepting pauses 100 ms instead of spinning
};

class HttpServer {
 public:
  // Produces the response for a request, given the client's address ("" if
  // unknown). Called on the io_context's thread.
  using Handler = std::function<HttpResponse(const HttpRequest&, const std::string& remote)>;
  // Offered every WebSocket upgrade request; takes the stream (moving it out)
  // and returns true, or returns false to have it answered by Handler.
  using UpgradeHandler = std::function<bool(PlainStream&, HttpRequest&)>;
  using TlsUpgradeHandler = std::function<bool(TlsStream&, HttpRequest&)>;

  // Binds and listens on `endpoint` (port 0 picks a free port; see port()).
  // Throws boost::system::system_error when the address cannot be bound.
  // With `tls`, every connection is HTTPS / WSS (TLS handshake first).
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint, Handler handler,
             HttpLimits limits = {}, std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Before start(): where WebSocket upgrades go.
  void set_upgrade_handler(UpgradeHandler plain, TlsUpgradeHandler tls) {
    upgrade_ = std::move(plain);
    tls_upgrade_ = std::move(tls);
  }
  // Starts accepting. Call once, from the io_context's thread or before run().
  void start();
  // Stops accepting and closes every open connection; the io_context's run()
  // returns once nothing else is pending.
  void stop();

  uint16_t port() const;
  const HttpCounters& counters() const { return counters_; }

 private:
  struct ConnectionBase;
  template <class Stream>
  class Connection;
  struct ConnectionSet;
  template <class Stream>
  bool offer_upgrade(Stream& stream, HttpRequest& req);
  void accept_next();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;
  Handler handler_;
  UpgradeHandler upgrade_;
  TlsUpgradeHandler tls_upgrade_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  HttpLimits limits_;
  HttpCounters counters_;
  std::shared_ptr<ConnectionSet> connections_;
  bool stopped_ = false;
};

// A plain-text response with the request's HTTP version and keep-alive.
HttpResponse make_text_response(const HttpRequest& req, unsigned status, std::string_view body,
                                std::string_view content_type = "text/plain; charset=utf-8");

}  // namespace sfu::signaling
