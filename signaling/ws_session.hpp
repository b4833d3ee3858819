// One signaling WebSocket: frames in, JSON-RPC requests out to a handler,
// replies and notifications back, with the protocol's limits enforced here
// (shared/PROTOCOL.md "Transport and envelope"):
//   text frame over 64 KiB    → -32600 too_large, session stays open
//   message over 1 MiB        → close 1009
//   binary frame              → -32600, session stays open
//   too many requests         → 4029 rate_limited; sustained → close 1008
//   unsent output over 8 MiB  → close 1008 (the client stopped reading)
// Control thread only.
//
// Lifetime (the one rule for every async object of the control thread):
// - A session is owned by shared_ptr. Every operation in flight (accept,
//   read, write, close, the close deadline timer) holds a strong reference
//   in its completion handler, so the session lives exactly as long as
//   something is pending; nothing else owns it (Hub and Reply hold weak_ptr).
// - The handler (Peer) is owned by the session and destroyed with it, after
//   on_closed() has run exactly once.
// - finish() is the only teardown: it closes the socket and drops the frames
//   not yet started. The frame being written stays at queue_.front() until
//   its write handler runs (Beast reads from it until then); every handler
//   checks finished_ first and touches nothing else after teardown.
// - close() sends queued frames, then the close frame; if that has not ended
//   the session within kCloseDeadline (a peer that stopped reading never
//   lets the write finish), the socket is torn down.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "signaling/http_server.hpp"
#include "signaling/jsonrpc.hpp"

namespace sfu::signaling {

struct WsLimits {
  size_t max_frame_bytes = 64 * 1024;
  size_t max_message_bytes = 1024 * 1024;
  double requests_per_second = 20;  // token bucket refill
  double request_burst = 50;        // token bucket size
  uint32_t abuse_limit = 50;        // rate_limited errors within abuse_window → close 1008
  std::chrono::seconds abuse_window{10};
  size_t max_queued_bytes = 8 * 1024 * 1024;  // unsent output; over it the client is too slow → close
};

class WsSession;

// How a request is answered: exactly once, now or later (after a worker
// round trip). Replies to notifications are swallowed. Safe to call after
// the session closed (then a no-op).
class Reply {
 public:
  Reply(std::weak_ptr<WsSession> session, Json id, bool notification)
      : session_(std::move(session)), id_(std::move(id)), notification_(notification) {}
  void ok(const Json& result) const;
  void error(const RpcError& e) const;
  const Json& id() const { return id_; }

 private:
  std::weak_ptr<WsSession> session_;
  Json id_;
  bool notification_;
};

// The protocol logic behind a session (a peer). Called on the control thread.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // A valid request. Throwing RpcError answers with that error; any other
  // exception answers -32603.
  virtual void on_request(const RpcRequest& request, const Reply& reply) = 0;
  // The socket closed (either side). Called once.
  virtual void on_closed() = 0;
};

struct WsCounters {
  uint64_t frames_in = 0, requests = 0, errors_sent = 0, rate_limited = 0, too_large = 0, binary = 0;
};

// What peers and replies see of a session, whatever its transport.
class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  using HandlerFactory = std::function<std::unique_ptr<SessionHandler>(std::weak_ptr<WsSession>, const HttpRequest&)>;
  virtual ~WsSession() = default;
  // Queues a text frame (a reply or a notification). Drops it after close.
  virtual void send(std::string text) = 0;
  // Sends a close frame after what is queued, then closes.
  virtual void close(boost::beast::websocket::close_code code, std::string_view reason = {}) = 0;
  virtual bool open() const = 0;
  virtual const WsCounters& counters() const = 0;
};

// A session over plain TCP (PlainStream) or TLS (TlsStream).
template <class NextLayer>
class BasicWsSession : public WsSession {
 public:
  // Takes over an upgraded stream; call start() to accept.
  BasicWsSession(NextLayer stream, WsLimits limits);
  // Completes the WebSocket handshake for `request`, then reads frames.
  void start(HttpRequest request, HandlerFactory factory);

  void send(std::string text) override;
  void close(boost::beast::websocket::close_code code, std::string_view reason = {}) override;
  bool open() const override { return open_; }
  const WsCounters& counters() const override { return counters_; }

 private:
  std::shared_ptr<BasicWsSession> self() { return std::static_pointer_cast<BasicWsSession>(shared_from_this()); }
  void read_next();
  void on_read(boost::beast::error_code ec, size_t bytes);
  void handle_text(std::string_view text);
  bool take_token();
  void write_next();
  void on_written(boost::beast::error_code ec);
  void finish();
  void drop_unsent();

  static constexpr std::chrono::seconds kCloseDeadline{5};

  boost::beast::websocket::stream<NextLayer> ws_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer close_deadline_;
  WsLimits limits_;
  std::unique_ptr<SessionHandler> handler_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool open_ = false;
  bool closing_ = false;
  bool finished_ = false;
  boost::beast::websocket::close_reason close_reason_;
  double tokens_;
  std::chrono::steady_clock::time_point last_refill_;
  std::deque<std::chrono::steady_clock::time_point> rate_limited_at_;
  WsCounters counters_;
};

using PlainWsSession = BasicWsSession<PlainStream>;
using TlsWsSession = BasicWsSession<TlsStream>;

}  // namespace sfu::signaling
