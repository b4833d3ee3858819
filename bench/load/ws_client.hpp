// WsClient: a small asynchronous WebSocket client (Boost.Beast over plain
// TCP, ws:// only) that sends and receives JSON text frames, for the load
// generator's signaling (our JSON-RPC and Janus' WebSocket API).
//
//   auto ws = WsClient::create(io, {.subprotocol = "janus-protocol"});
//   ws->on_message([](std::string text) { ... });
//   ws->on_close([](std::string reason) { ... });
//   ws->connect("ws://127.0.0.1:8080/ws?room=r1", [](Result<bool, std::string> r) { ... });
//   ws->send(R"({"jsonrpc":"2.0",...})");
//   ws->close();
//
// Everything runs on the io_context's thread; every callback is called there.
// Frames given to send() before the connection is up are queued and written
// once it is. Writes are serialised (one in flight at a time); reads run
// continuously once connected. Keep this API stable: the Janus target uses it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "common/result.hpp"

namespace sfu::load {

struct WsClientOptions {
  // Sent as Sec-WebSocket-Protocol when not empty (Janus: "janus-protocol").
  std::string subprotocol;
  // Largest incoming message accepted; bigger ones close the connection.
  size_t max_message_size = 16 * 1024 * 1024;
  // connect() fails after this long (resolve + TCP + handshake).
  int connect_timeout_ms = 10000;
};

// The parts of a ws:// URL. parse_ws_url("ws://h:8080/ws?room=a") →
// {host "h", port "8080", target "/ws?room=a"}; port defaults to 80, target
// to "/". Fails for other schemes (wss:// is not supported) and empty hosts.
struct WsUrl {
  std::string host;
  std::string port;
  std::string target;
};
Result<WsUrl, std::string> parse_ws_url(const std::string& url);

class WsClient : public std::enable_shared_from_this<WsClient> {
 public:
  using MessageHandler = std::function<void(std::string text)>;
  using CloseHandler = std::function<void(std::string reason)>;
  using ConnectHandler = std::function<void(Result<bool, std::string>)>;

  // Always held by a shared_ptr (the pending operations keep it alive).
  static std::shared_ptr<WsClient> create(boost::asio::io_context& io, WsClientOptions options = {});
  ~WsClient();

  // Called with each text (or binary) message received.
  void on_message(MessageHandler handler);
  // Called once when an established connection ends without close() having
  // been called: the peer closed it (reason carries the close code and
  // reason), or a read / write failed. Not called when connect() fails
  // (its handler gets the error instead) nor after close().
  void on_close(CloseHandler handler);

  // Resolves, connects and performs the WebSocket handshake; `done` gets
  // true or the reason it failed. Call once.
  void connect(const std::string& url, ConnectHandler done);

  // Queues one text frame. Ignored after close() or once the connection
  // has failed.
  void send(std::string text);

  // Bytes queued for writing and not yet written (for back-pressure checks).
  size_t pending_bytes() const;

  // Sends a close frame (after the queued frames) and shuts down. No
  // callback is called afterwards. Safe to call more than once.
  void close();

  bool is_open() const;

 private:
  struct Impl;
  explicit WsClient(boost::asio::io_context& io, WsClientOptions options);
  void start_read();
  void flush();
  void finish_close();
  // Ends a connection that failed: one connect / on_close callback at most.
  void report_failure(const std::string& reason);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sfu::load
