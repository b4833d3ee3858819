#include "signaling/ws_session.hpp"

#include "signaling/control_metrics.hpp"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

namespace sfu::signaling {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using Clock = std::chrono::steady_clock;

namespace {

// Every error frame goes out through here, counted by code for /metrics.
std::string error_frame(const Json& id, const RpcError& e) {
  ++control_metrics().rpc_errors[int(e.code)];
  return make_error(id, e);
}

}  // namespace

void Reply::ok(const Json& result) const {
  if (notification_) return;
  if (auto s = session_.lock()) s->send(make_result(id_, result));
}

void Reply::error(const RpcError& e) const {
  if (notification_) return;
  if (auto s = session_.lock()) s->send(error_frame(id_, e));
}

template <class NextLayer>
BasicWsSession<NextLayer>::BasicWsSession(NextLayer stream, WsLimits limits)
    : ws_(std::move(stream)),
      close_deadline_(ws_.get_executor()),
      limits_(limits),
      tokens_(limits.request_burst),
      last_refill_(Clock::now()) {}

template <class NextLayer>
void BasicWsSession<NextLayer>::start(HttpRequest request, HandlerFactory factory) {
  // A peer that sends nothing for 30 s is pinged; one silent for 60 s (a
  // vanished host, a dead NAT binding) is gone: the read fails and finish()
  // runs. Browsers answer pings on their own, so an idle call is never cut.
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(30);
  timeouts.idle_timeout = std::chrono::seconds(60);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "sfu"); }));
  // The 1 MiB limit is enforced here (on_read), not by Beast, so that the
  // close frame carries 1009 (Beast's own limit tears the socket down).
  ws_.read_message_max(0);
  auto req = std::make_shared<HttpRequest>(std::move(request));
  ws_.async_accept(*req, [self = self(), req, factory = std::move(factory)](beast::error_code ec) {
    if (self->finished_) return;
    if (ec) return self->finish();
    self->open_ = true;
    self->handler_ = factory(std::weak_ptr<WsSession>(self), *req);
    self->read_next();
  });
}

template <class NextLayer>
void BasicWsSession<NextLayer>::read_next() {
  ws_.async_read_some(buffer_, 64 * 1024,
                      [self = self()](beast::error_code ec, size_t) { self->on_read(ec, 0); });
}

template <class NextLayer>
void BasicWsSession<NextLayer>::on_read(beast::error_code ec, size_t) {
  if (finished_) return;
  if (ec) return finish();
  if (buffer_.size() > limits_.max_message_bytes) {
    buffer_.consume(buffer_.size());
    close(websocket::close_code::too_big, "message over 1 MiB");
    return;
  }
  if (!ws_.is_message_done()) return read_next();
  const size_t bytes = buffer_.size();
  ++counters_.frames_in;
  if (!ws_.got_text()) {
    ++counters_.binary;
    buffer_.consume(bytes);
    send(error_frame(nullptr, RpcError{RpcCode::invalid_request, "binary frames are not supported", "binary_frame"}));
  } else if (bytes > limits_.max_frame_bytes) {
    ++counters_.too_large;
    // Echo the request's id when it can be read (the frame is at most 1 MiB).
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(bytes);
    RpcParsed parsed = parse_request(text);
    Json id = nullptr;
    if (auto* r = std::get_if<RpcRequest>(&parsed)) id = r->id;
    if (auto* f = std::get_if<RpcParseFailure>(&parsed)) id = f->id;
    send(error_frame(id, RpcError{RpcCode::invalid_request, "frame over 64 KiB", "too_large"}));
  } else {
    const std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(bytes);
    handle_text(text);
  }
  if (open_ && !closing_) read_next();
}

template <class NextLayer>
bool BasicWsSession<NextLayer>::take_token() {
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - last_refill_).count();
  last_refill_ = now;
  tokens_ = std::min(limits_.request_burst, tokens_ + elapsed * limits_.requests_per_second);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  rate_limited_at_.push_back(now);
  while (!rate_limited_at_.empty() && now - rate_limited_at_.front() > limits_.abuse_window) rate_limited_at_.pop_front();
  return false;
}

template <class NextLayer>
void BasicWsSession<NextLayer>::handle_text(std::string_view text) {
  RpcParsed parsed = parse_request(text);
  if (auto* f = std::get_if<RpcParseFailure>(&parsed)) {
    if (!f->is_notification || f->error.code == RpcCode::parse_error) send(error_frame(f->id, f->error));
    return;
  }
  auto& req = std::get<RpcRequest>(parsed);
  Reply reply(weak_from_this(), req.id, req.is_notification);
  if (!take_token()) {
    ++counters_.rate_limited;
    reply.error(RpcError{RpcCode::rate_limited, "too many requests"});
    if (rate_limited_at_.size() >= limits_.abuse_limit) close(websocket::close_code::policy_error, "rate limit abuse");
    return;
  }
  ++counters_.requests;
  ++control_metrics().rpc_requests;
  try {
    handler_->on_request(req, reply);
  } catch (const RpcError& e) {
    reply.error(e);
  } catch (const std::exception& e) {
    reply.error(RpcError{RpcCode::internal_error, "internal error"});
  }
}

template <class NextLayer>
void BasicWsSession<NextLayer>::send(std::string text) {
  if (!open_ || closing_) return;
  if (queued_bytes_ + text.size() > limits_.max_queued_bytes) {
    // The client stopped reading: what it has not taken is dropped, and the
    // close frame goes out after the frame in flight (if it ever does; the
    // close deadline tears the socket down otherwise).
    drop_unsent();
    close(websocket::close_code::policy_error, "client too slow");
    return;
  }
  queued_bytes_ += text.size();
  if (text.find("\"error\"") != std::string::npos) ++counters_.errors_sent;
  queue_.push_back(std::move(text));
  if (!writing_) write_next();
}

template <class NextLayer>
void BasicWsSession<NextLayer>::write_next() {
  if (finished_) return;
  if (queue_.empty()) {
    if (closing_) {
      ws_.async_close(close_reason_, [self = self()](beast::error_code) { self->finish(); });
    }
    return;
  }
  writing_ = true;
  ws_.text(true);
  ws_.async_write(boost::asio::buffer(queue_.front()),
                  [self = self()](beast::error_code ec, size_t) { self->on_written(ec); });
}

template <class NextLayer>
void BasicWsSession<NextLayer>::on_written(beast::error_code ec) {
  // queue_.front() was the frame in flight; it is still there even after
  // finish() (which keeps it for exactly this moment).
  writing_ = false;
  queued_bytes_ -= queue_.front().size();
  queue_.pop_front();
  if (finished_) return;
  if (ec) return finish();
  write_next();
}

// Frames not yet handed to Beast; the one in flight (if any) stays.
template <class NextLayer>
void BasicWsSession<NextLayer>::drop_unsent() {
  const size_t keep = writing_ ? 1 : 0;
  while (queue_.size() > keep) {
    queued_bytes_ -= queue_.back().size();
    queue_.pop_back();
  }
}

template <class NextLayer>
void BasicWsSession<NextLayer>::close(websocket::close_code code, std::string_view reason) {
  if (!open_) {
    finish();  // still in the handshake (or already gone): nothing to say goodbye on
    return;
  }
  if (closing_) return;
  closing_ = true;
  close_reason_ = websocket::close_reason(code, reason);
  close_deadline_.expires_after(kCloseDeadline);
  close_deadline_.async_wait([self = self()](beast::error_code ec) {
    if (!ec) self->finish();
  });
  if (!writing_) write_next();
}

template <class NextLayer>
void BasicWsSession<NextLayer>::finish() {
  if (finished_) return;
  finished_ = true;
  open_ = false;
  drop_unsent();
  close_deadline_.cancel();
  beast::error_code ec;
  // Cancels the read and any write or close in flight: their handlers run
  // with an error, see finished_, and release their references.
  beast::get_lowest_layer(ws_).socket().close(ec);
  if (handler_) handler_->on_closed();
}

template class BasicWsSession<PlainStream>;
template class BasicWsSession<TlsStream>;

}  // namespace sfu::signaling
