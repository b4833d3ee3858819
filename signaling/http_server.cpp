#include "signaling/http_server.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <type_traits>
#include <chrono>
#include <optional>
#include <unordered_set>

namespace sfu::signaling {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::ConnectionBase {
  virtual ~ConnectionBase() = default;
  virtual void close() = 0;
};

// The open connections, so stop() can close them. Shared with each
// connection so a connection that outlives the server can still unregister.
struct HttpServer::ConnectionSet {
  std::unordered_set<HttpServer::ConnectionBase*> open;
};

namespace {
tcp::socket& socket_of(PlainStream& s) { return s.socket(); }
tcp::socket& socket_of(TlsStream& s) { return s.next_layer().socket(); }
beast::tcp_stream& tcp_of(PlainStream& s) { return s; }
beast::tcp_stream& tcp_of(TlsStream& s) { return s.next_layer(); }
}  // namespace

template <>
bool HttpServer::offer_upgrade(PlainStream& stream, HttpRequest& req) {
  return upgrade_ && upgrade_(stream, req);
}
template <>
bool HttpServer::offer_upgrade(TlsStream& stream, HttpRequest& req) {
  return tls_upgrade_ && tls_upgrade_(stream, req);
}

// One HTTP/1.1 connection (plain or TLS): read a request, answer it, repeat
// while keep-alive.
template <class Stream>
class HttpServer::Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  template <class... Args>
  Connection(HttpServer& server, Args&&... args)
      : stream_(std::forward<Args>(args)...), server_(&server), set_(server.connections_) {
    set_->open.insert(this);
  }
  ~Connection() override { set_->open.erase(this); }

  void start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      tcp_of(stream_).expires_after(std::chrono::seconds(server_->limits_.idle_timeout_seconds));
      stream_.async_handshake(boost::asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();
                                self->read_next();
                              });
    } else {
      read_next();
    }
  }
  void close() override {
    beast::error_code ec;
    socket_of(stream_).shutdown(tcp::socket::shutdown_both, ec);
    socket_of(stream_).close(ec);
  }

 private:
  void read_next() {
    parser_.emplace();
    parser_->header_limit(server_->limits_.max_header_bytes);
    parser_->body_limit(server_->limits_.max_body_bytes);
    tcp_of(stream_).expires_after(std::chrono::seconds(server_->limits_.idle_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted)
      return close();
    if (ec) {
      // Malformed or over-limit request: answer 400/413 once, then close.
      ++server_->counters_.bad_requests;
      const bool too_large = ec == http::error::body_limit || ec == http::error::header_limit;
      HttpRequest dummy;
      dummy.version(11);
      auto res = make_text_response(dummy, too_large ? 413 : 400, too_large ? "too large\n" : "bad request\n");
      res.keep_alive(false);
      return send(std::move(res));
    }
    ++server_->counters_.requests;
    HttpRequest req = parser_->release();
    if (beast::websocket::is_upgrade(req)) {
      tcp_of(stream_).expires_never();
      if (server_->offer_upgrade(stream_, req)) return;  // the stream moved to a WebSocket session
    }
    boost::system::error_code ec2;
    const auto remote = socket_of(stream_).remote_endpoint(ec2);
    HttpResponse res = server_->handler_(req, ec2 ? std::string() : remote.address().to_string());
    res.keep_alive(req.keep_alive() && res.keep_alive());
    send(std::move(res));
  }

  void send(HttpResponse res) {
    response_.emplace(std::move(res));
    response_->prepare_payload();
    http::async_write(stream_, *response_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      const bool keep = !ec && self->response_->keep_alive();
      self->response_.reset();
      if (keep) return self->read_next();
      self->close();
    });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<HttpResponse> response_;
  HttpServer* server_;
  std::shared_ptr<ConnectionSet> set_;
};

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& endpoint, Handler handler, HttpLimits limits,
                       std::shared_ptr<asio::ssl::context> tls)
    : io_(io), acceptor_(io), accept_pause_(io), handler_(std::move(handler)), tls_(std::move(tls)), limits_(limits),
      connections_(std::make_shared<ConnectionSet>()) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() { accept_next(); }

void HttpServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  beast::error_code ec;
  acceptor_.close(ec);
  accept_pause_.cancel();
  // close() may drop the last reference of a connection: copy the set first.
  auto open = connections_->open;
  for (auto* c : open) c->close();
}

uint16_t HttpServer::port() const { return acceptor_.local_endpoint().port(); }

void HttpServer::accept_next() {
  acceptor_.async_accept(io_, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopped_) return;
    if (ec) {
      // Out of descriptors (EMFILE/ENFILE) or a transient error: retrying at
      // once would spin the control thread until a descriptor frees.
      ++counters_.accept_errors;
      accept_pause_.expires_after(std::chrono::milliseconds(100));
      accept_pause_.async_wait([this](beast::error_code e) {
        if (!e && !stopped_) accept_next();
      });
      return;
    }
    {
      if (connections_->open.size() >= limits_.max_connections) {
        ++counters_.connections_refused;
        socket.close(ec);
      } else {
        ++counters_.connections_accepted;
        if (tls_) {
          std::make_shared<Connection<TlsStream>>(*this, std::move(socket), *tls_)->start();
        } else {
          std::make_shared<Connection<PlainStream>>(*this, std::move(socket))->start();
        }
      }
    }
    accept_next();
  });
}

HttpResponse make_text_response(const HttpRequest& req, unsigned status, std::string_view body,
                                std::string_view content_type) {
  HttpResponse res{static_cast<http::status>(status), req.version()};
  res.set(http::field::server, "sfu");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::string(body);
  return res;
}

}  // namespace sfu::signaling
