#include "bench/load/ws_client.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace sfu::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

Result<WsUrl, std::string> parse_ws_url(const std::string& url) {
  const std::string scheme = "ws://";
  if (url.compare(0, scheme.size(), scheme) != 0) return fail(std::string("only ws:// URLs are supported: ") + url);
  const std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  WsUrl out;
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!out.target.empty() && out.target[0] == '?') out.target = "/" + out.target;
  if (!authority.empty() && authority[0] == '[') {  // [v6]:port
    const size_t close = authority.find(']');
    if (close == std::string::npos) return fail(std::string("bad host in ") + url);
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') out.port = authority.substr(close + 2);
  } else {
    const size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) out.port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return fail(std::string("no host in ") + url);
  if (out.port.empty()) out.port = "80";
  return out;
}

struct WsClient::Impl {
  Impl(asio::io_context& io, WsClientOptions o) : options(std::move(o)), resolver(io), ws(io), timer(io) {}

  WsClientOptions options;
  tcp::resolver resolver;
  websocket::stream<beast::tcp_stream> ws;
  asio::steady_timer timer;
  beast::flat_buffer read_buffer;
  std::deque<std::string> queue;
  size_t queued_bytes = 0;
  bool writing = false;
  bool open = false;
  bool closed = false;  // close() called or the connection failed: quiet from now on
  bool close_after_writes = false;
  std::string host_header;
  std::string target;
  MessageHandler on_message;
  CloseHandler on_close;
  ConnectHandler on_connect;
};

std::shared_ptr<WsClient> WsClient::create(asio::io_context& io, WsClientOptions options) {
  return std::shared_ptr<WsClient>(new WsClient(io, std::move(options)));
}

WsClient::WsClient(asio::io_context& io, WsClientOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

WsClient::~WsClient() = default;

void WsClient::on_message(MessageHandler handler) { impl_->on_message = std::move(handler); }
void WsClient::on_close(CloseHandler handler) { impl_->on_close = std::move(handler); }
bool WsClient::is_open() const { return impl_->open && !impl_->closed; }
size_t WsClient::pending_bytes() const { return impl_->queued_bytes; }

void WsClient::report_failure(const std::string& reason) {
  Impl& s = *impl_;
  if (s.closed) return;
  s.closed = true;
  s.timer.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(s.ws).socket().close(ignored);
  if (s.on_connect) {
    auto done = std::move(s.on_connect);
    s.on_connect = nullptr;
    done(fail(reason));
    return;
  }
  if (s.open && s.on_close) {
    auto cb = std::move(s.on_close);
    s.on_close = nullptr;
    cb(reason);
  }
}

void WsClient::connect(const std::string& url, ConnectHandler done) {
  Impl& s = *impl_;
  auto parsed = parse_ws_url(url);
  if (!parsed) {
    done(fail(parsed.error()));
    return;
  }
  s.on_connect = std::move(done);
  s.host_header = parsed->host + ":" + parsed->port;
  s.target = parsed->target;
  s.ws.read_message_max(s.options.max_message_size);

  auto self = shared_from_this();
  s.timer.expires_after(std::chrono::milliseconds(s.options.connect_timeout_ms));
  s.timer.async_wait([self](beast::error_code ec) {
    if (ec) return;
    if (self->impl_->on_connect) self->report_failure("connect timed out");
  });

  s.resolver.async_resolve(
      parsed->host, parsed->port, [self](beast::error_code ec, const tcp::resolver::results_type& results) {
        Impl& st = *self->impl_;
        if (st.closed) return;
        if (ec) return self->report_failure("resolve: " + ec.message());
        beast::get_lowest_layer(st.ws).async_connect(
            results, [self](beast::error_code ec2, const tcp::resolver::results_type::endpoint_type&) {
              Impl& s2 = *self->impl_;
              if (s2.closed) return;
              if (ec2) return self->report_failure("connect: " + ec2.message());
              beast::get_lowest_layer(s2.ws).socket().set_option(tcp::no_delay(true));
              s2.ws.set_option(websocket::stream_base::decorator([sub = s2.options.subprotocol](
                                                                     websocket::request_type& req) {
                req.set(beast::http::field::user_agent, "sfu-load");
                if (!sub.empty()) req.set(beast::http::field::sec_websocket_protocol, sub);
              }));
              s2.ws.text(true);
              s2.ws.async_handshake(s2.host_header, s2.target, [self](beast::error_code ec3) {
                Impl& s3 = *self->impl_;
                if (s3.closed) return;
                if (ec3) return self->report_failure("handshake: " + ec3.message());
                s3.timer.cancel();
                s3.open = true;
                // After the handshake the stream has its own timeouts.
                s3.ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
                auto cb = std::move(s3.on_connect);
                s3.on_connect = nullptr;
                self->start_read();
                self->flush();
                if (cb) cb(true);
              });
            });
      });
}

void WsClient::start_read() {
  auto self = shared_from_this();
  impl_->ws.async_read(impl_->read_buffer, [self](beast::error_code ec, size_t) {
    Impl& s = *self->impl_;
    if (s.closed) return;
    if (ec) {
      std::string reason = ec == websocket::error::closed ? "closed by server" : "read: " + ec.message();
      const auto& cr = s.ws.reason();
      if (ec == websocket::error::closed) {
        reason += " (" + std::to_string(cr.code) + (cr.reason.empty() ? "" : " " + std::string(cr.reason.c_str())) + ")";
      }
      return self->report_failure(reason);
    }
    std::string text = beast::buffers_to_string(s.read_buffer.data());
    s.read_buffer.consume(s.read_buffer.size());
    if (s.on_message) s.on_message(std::move(text));
    if (!s.closed) self->start_read();
  });
}

void WsClient::send(std::string text) {
  Impl& s = *impl_;
  if (s.closed || s.close_after_writes) return;
  s.queued_bytes += text.size();
  s.queue.push_back(std::move(text));
  if (s.open) flush();
}

void WsClient::flush() {
  Impl& s = *impl_;
  if (s.writing || s.closed || !s.open) return;
  if (s.queue.empty()) {
    if (s.close_after_writes) finish_close();
    return;
  }
  s.writing = true;
  auto self = shared_from_this();
  s.ws.async_write(asio::buffer(s.queue.front()), [self](beast::error_code ec, size_t) {
    Impl& st = *self->impl_;
    st.writing = false;
    if (!st.queue.empty()) {
      st.queued_bytes -= st.queue.front().size();
      st.queue.pop_front();
    }
    if (st.closed) return;
    if (ec) return self->report_failure("write: " + ec.message());
    self->flush();
  });
}

void WsClient::finish_close() {
  Impl& s = *impl_;
  s.closed = true;
  auto self = shared_from_this();
  s.ws.async_close(websocket::close_code::normal, [self](beast::error_code) {
    beast::error_code ignored;
    beast::get_lowest_layer(self->impl_->ws).socket().close(ignored);
  });
}

void WsClient::close() {
  Impl& s = *impl_;
  s.on_message = nullptr;
  s.on_close = nullptr;
  s.on_connect = nullptr;
  if (s.closed || s.close_after_writes) return;
  s.timer.cancel();
  if (!s.open) {
    s.closed = true;
    s.resolver.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(s.ws).socket().close(ignored);
    return;
  }
  s.close_after_writes = true;
  flush();
}

}  // namespace sfu::load
