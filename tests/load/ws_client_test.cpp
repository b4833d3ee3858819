// WsClient against an in-process Beast WebSocket server on 127.0.0.1:
// URL parsing, the subprotocol header, echo of text frames, queued sends
// before the handshake, the server closing, and connect failures.
#include "bench/load/ws_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace sfu::load {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

TEST(WsUrl, Parts) {
  auto u = parse_ws_url("ws://127.0.0.1:8080/ws?room=a");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/ws?room=a");
  u = parse_ws_url("ws://example.org");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  u = parse_ws_url("ws://[::1]:8188/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8188");
  EXPECT_FALSE(parse_ws_url("wss://x/").ok());
  EXPECT_FALSE(parse_ws_url("http://x/").ok());
  EXPECT_FALSE(parse_ws_url("ws://:80/").ok());
}

// Accepts one WebSocket, records the requested subprotocol, echoes `echoes`
// messages prefixed with "echo:", then closes with code 4000.
class EchoServer {
 public:
  EchoServer(asio::io_context& io, int echoes)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), echoes_(echoes) {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec) return;
      ws_ = std::make_unique<websocket::stream<beast::tcp_stream>>(std::move(s));
      // Read the upgrade request ourselves to see its headers.
      beast::http::async_read(ws_->next_layer(), req_buffer_, request_, [this](beast::error_code ec2, size_t) {
        if (ec2) return;
        subprotocol = std::string(request_[beast::http::field::sec_websocket_protocol]);
        target = std::string(request_.target());
        ws_->set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
          if (!subprotocol.empty()) res.set(beast::http::field::sec_websocket_protocol, subprotocol);
        }));
        ws_->async_accept(request_, [this](beast::error_code ec3) {
          if (ec3) return;
          read();
        });
      });
    });
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string subprotocol;  // what the client asked for
  std::string target;

 private:
  void read() {
    ws_->async_read(buf_, [this](beast::error_code ec, size_t) {
      if (ec) return;
      std::string text = "echo:" + beast::buffers_to_string(buf_.data());
      buf_.consume(buf_.size());
      ws_->text(true);
      ws_->write(asio::buffer(text));
      if (--echoes_ == 0) {
        ws_->async_close(websocket::close_reason(websocket::close_code(4000), "bye"), [](beast::error_code) {});
        return;
      }
      read();
    });
  }

  tcp::acceptor acceptor_;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws_;
  beast::flat_buffer buf_;
  beast::flat_buffer req_buffer_;
  beast::http::request<beast::http::string_body> request_;
  int echoes_;
};

TEST(WsClient, EchoesQueuedFramesAndReportsTheServerClosing) {
  asio::io_context io;
  EchoServer server(io, 2);
  auto ws = WsClient::create(io, {.subprotocol = "janus-protocol"});
  std::vector<std::string> got;
  std::string closed;
  bool connected = false;
  ws->on_message([&](std::string text) { got.push_back(text); });
  ws->on_close([&](std::string reason) { closed = reason; });
  ws->send(R"({"a":1})");  // queued until the handshake is done
  ws->connect("ws://127.0.0.1:" + std::to_string(server.port()) + "/ws?room=x", [&](Result<bool, std::string> r) {
    ASSERT_TRUE(r.ok()) << r.error();
    connected = true;
    ws->send(R"({"b":2})");
  });
  io.run_for(std::chrono::seconds(5));
  EXPECT_TRUE(connected);
  EXPECT_EQ(got, (std::vector<std::string>{R"(echo:{"a":1})", R"(echo:{"b":2})"}));
  EXPECT_NE(closed.find("4000"), std::string::npos) << closed;
  EXPECT_FALSE(ws->is_open());
  EXPECT_EQ(server.subprotocol, "janus-protocol");
  EXPECT_EQ(server.target, "/ws?room=x");
}

TEST(WsClient, CloseSilencesCallbacks) {
  asio::io_context io;
  EchoServer server(io, 1);
  auto ws = WsClient::create(io);
  int messages = 0, closes = 0;
  ws->on_message([&](std::string) { ++messages; });
  ws->on_close([&](std::string) { ++closes; });
  ws->connect("ws://127.0.0.1:" + std::to_string(server.port()) + "/", [&](Result<bool, std::string> r) {
    ASSERT_TRUE(r.ok());
    ws->send("x");
    ws->close();  // the queued frame still goes out; nothing comes back to us
  });
  io.run_for(std::chrono::seconds(2));
  EXPECT_EQ(messages, 0);
  EXPECT_EQ(closes, 0);
  EXPECT_EQ(server.subprotocol, "");  // none asked for
}

TEST(WsClient, ConnectFailureGoesToTheConnectHandler) {
  asio::io_context io;
  // A port nobody listens on: bind one, note it, close it.
  uint16_t port = 0;
  {
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  auto ws = WsClient::create(io);
  int closes = 0;
  ws->on_close([&](std::string) { ++closes; });
  std::optional<std::string> error;
  ws->connect("ws://127.0.0.1:" + std::to_string(port) + "/", [&](Result<bool, std::string> r) {
    if (!r) error = r.error();
  });
  io.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("connect"), std::string::npos) << *error;
  EXPECT_EQ(closes, 0);
  std::optional<std::string> bad;
  ws = WsClient::create(io);
  ws->connect("wss://127.0.0.1/", [&](Result<bool, std::string> r) {
    if (!r) bad = r.error();
  });
  EXPECT_TRUE(bad.has_value());
}

}  // namespace
}  // namespace sfu::load
