// Loopback integration: a worker running a TransportHost with real UDP and
// ICE-TCP sockets; a client-role Transport in the test thread connects over
// each, completes ICE + DTLS, and gets its SRTP/SRTCP echoed back.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <vector>

#include "ice/tcp_framing.hpp"
#include "server/transport_host.hpp"
#include "server/worker.hpp"

namespace sfu::server {
namespace {

std::shared_ptr<const dtls::Context> context() {
  return dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate()));
}

// A worker's handler around a TransportHost that echoes decrypted RTP and
// RTCP back through the same transport (protected again, on its path).
class EchoHost : public WorkerHandler {
 public:
  TransportHost host;

  void on_datagram(Worker& w, Instant now, const NetPath& from, MutBytes data) override {
    Delivery d = host.on_datagram(w, now, from, data);
    if (d.media.kind != ReceivedMedia::Kind::none) {
      Transport& t = *host.find(d.transport);
      std::vector<uint8_t> buf(d.media.packet.begin(), d.media.packet.end());
      buf.resize(buf.size() + dtls::SrtpSession::kMaxTrailer);
      const bool rtcp = d.media.kind == ReceivedMedia::Kind::rtcp;
      auto n = rtcp ? t.protect_rtcp(buf, d.media.packet.size()) : t.protect_rtp(buf, d.media.packet.size());
      if (n && t.send_path()) w.send(*t.send_path(), Bytes(buf).first(*n));
    }
    if (d.transport) host.settle(w, d);
    while (host.poll_event()) {
    }
  }
  void on_timeout(Worker& w, Instant now) override {
    host.on_timeout(w, now);
    while (host.poll_event()) {
    }
  }
  std::optional<Instant> poll_timeout() const override { return host.poll_timeout(); }
  void on_tcp_closed(Worker& w, uint32_t connection) override {
    host.on_tcp_closed(w, connection);
    while (host.poll_event()) {
    }
  }
};

// A blocking client socket, UDP or TCP (framed), speaking through a Transport.
class Client {
 public:
  Client(bool tcp, const ice::Address& server, std::shared_ptr<const dtls::Context> ctx)
      : tcp_(tcp), transport_(TransportConfig{.role = TransportRole::client,
                                              .local_ice = ice::IceCredentials::generate(),
                                              .dtls_context = std::move(ctx), .controlling_ice = {.seed = 99}}) {
    fd_ = ::socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
    sockaddr_storage ss{};
    const size_t len = ice::to_sockaddr(server, ss);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), socklen_t(len)) != 0) std::abort();
    path_ = ice::Path{tcp ? 1u : 0u, server};
  }
  ~Client() { ::close(fd_); }

  Transport& transport() { return transport_; }
  const ice::Path& path() const { return path_; }

  void flush() {
    while (auto tx = transport_.poll_transmit()) write(tx->data);
  }
  void write(Bytes data) {
    if (!tcp_) {
      ::send(fd_, data.data(), data.size(), 0);
      return;
    }
    uint8_t hdr[2];
    ice::write_tcp_frame_header(MutBytes(hdr, 2), data.size());
    ::send(fd_, hdr, 2, MSG_MORE);
    ::send(fd_, data.data(), data.size(), 0);
  }

  // Runs the client for up to `budget` of real time, feeding what arrives.
  void run(Duration budget, const std::function<void(ReceivedMedia&)>& on_media = {},
           const std::function<bool()>& done = {}) {
    const Instant end = Clock::now() + budget;
    flush();
    while (Clock::now() < end && !(done && done())) {
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 5);
      if (p.revents & POLLIN) {
        uint8_t buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return;
        if (tcp_) {
          deframer_.push(Bytes(buf, size_t(n)));
          while (auto f = deframer_.next()) deliver(*f, on_media);
        } else {
          deliver(MutBytes(buf, size_t(n)), on_media);
        }
      }
      const Instant now = Clock::now();
      if (auto t = transport_.poll_timeout(); t && *t <= now) transport_.handle_timeout(now);
      flush();
    }
  }

 private:
  void deliver(MutBytes data, const std::function<void(ReceivedMedia&)>& on_media) {
    auto m = transport_.handle_datagram(Clock::now(), path_, data);
    if (m.kind != ReceivedMedia::Kind::none && on_media) on_media(m);
    flush();
  }

  bool tcp_;
  int fd_ = -1;
  ice::Path path_;
  Transport transport_;
  ice::TcpDeframer deframer_;
};

class TransportLoopback : public ::testing::TestWithParam<bool> {};

TEST_P(TransportLoopback, ConnectsAndEchoesSrtpAndSrtcp) {
  const bool tcp = GetParam();
  auto server_ctx = context();
  auto* echo = new EchoHost;
  TransportHost* host = &echo->host;
  Worker worker(WorkerConfig{}, std::unique_ptr<WorkerHandler>(echo));
  worker.start();

  auto client_ctx = context();
  Client client(tcp, tcp ? *worker.tcp_address() : worker.udp_address(), client_ctx);

  // The server transport is created on the worker thread, as signaling will.
  std::promise<std::pair<std::string, std::string>> creds;
  const auto client_ufrag = client.transport().local_ice().ufrag;
  const auto client_fp = client_ctx->certificate().fingerprint();
  worker.post([&](Worker& w) {
    auto t = std::make_unique<Transport>(TransportConfig{.role = TransportRole::server,
                                                         .local_ice = ice::IceCredentials::generate(),
                                                         .dtls_context = server_ctx});
    t->set_remote_parameters(client_ufrag, "", client_fp);
    auto ice = t->local_ice();
    host->add(w, Clock::now(), std::move(t));
    creds.set_value({ice.ufrag, ice.pwd});
  });
  const auto [ufrag, pwd] = creds.get_future().get();
  client.transport().set_remote_parameters(ufrag, pwd, server_ctx->certificate().fingerprint());
  client.transport().add_remote_candidate(client.path(), 2130706431);
  client.transport().start(Clock::now());
  client.run(seconds(10), {}, [&] { return client.transport().state() == TransportState::connected; });
  ASSERT_EQ(client.transport().state(), TransportState::connected);

  // 50 RTP packets and 5 RTCP packets, echoed back decrypted-then-reprotected.
  int rtp_back = 0, rtcp_back = 0;
  for (int i = 0; i < 50; ++i) {
    std::vector<uint8_t> pkt(12 + 200 + dtls::SrtpSession::kMaxTrailer, uint8_t(i));
    pkt[0] = 0x80, pkt[1] = 111, pkt[2] = 0, pkt[3] = uint8_t(i);
    pkt[8] = 0, pkt[9] = 0, pkt[10] = 0x12, pkt[11] = 0x34;
    auto len = client.transport().protect_rtp(pkt, 212);
    ASSERT_TRUE(len);
    client.write(Bytes(pkt).first(*len));
    if (i % 10 == 0) {
      std::vector<uint8_t> rr = {0x80, 201, 0, 1, 0, 0, 0x12, 0x34};
      rr.resize(8 + dtls::SrtpSession::kMaxTrailer);
      auto rl = client.transport().protect_rtcp(rr, 8);
      ASSERT_TRUE(rl);
      client.write(Bytes(rr).first(*rl));
    }
  }
  client.run(
      seconds(5),
      [&](ReceivedMedia& m) {
        if (m.kind == ReceivedMedia::Kind::rtp) {
          ASSERT_EQ(m.packet.size(), 212u);
          EXPECT_EQ(m.packet[20], m.packet[3]);  // payload fill == seq
          ++rtp_back;
        } else {
          ++rtcp_back;
        }
      },
      [&] { return rtp_back == 50 && rtcp_back == 5; });
  EXPECT_EQ(rtp_back, 50);
  EXPECT_EQ(rtcp_back, 5);

  std::promise<HostCounters> counters;
  worker.post([&](Worker&) { counters.set_value(host->counters()); });
  const auto c = counters.get_future().get();
  EXPECT_EQ(c.media_in, 55u);
  EXPECT_EQ(c.send_failures, 0u);
  worker.stop();
}

INSTANTIATE_TEST_SUITE_P(UdpAndTcp, TransportLoopback, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "IceTcp" : "Udp"; });

TEST(TransportHost, StrangersAreCountedNotRouted) {
  auto* echo = new EchoHost;
  TransportHost* host = &echo->host;
  Worker worker(WorkerConfig{}, std::unique_ptr<WorkerHandler>(echo));
  worker.start();
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_storage ss{};
  const size_t len = ice::to_sockaddr(worker.udp_address(), ss);
  std::vector<std::vector<uint8_t>> junk = {
      {0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 9, 9},                                   // RTP, unknown path
      {0xff, 0xfe},                                                                      // unknown first byte
      {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},  // STUN, no USERNAME
      {0x00, 0x01, 0x00, 0x04},                                                          // truncated STUN
  };
  for (auto& j : junk) ::sendto(fd, j.data(), j.size(), 0, reinterpret_cast<sockaddr*>(&ss), socklen_t(len));
  ::close(fd);
  HostCounters c;
  for (int i = 0; i < 100; ++i) {
    std::promise<HostCounters> p;
    worker.post([&](Worker&) { p.set_value(host->counters()); });
    c = p.get_future().get();
    if (c.unknown_path + c.malformed + c.unknown_ufrag == 4) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(c.unknown_path, 1u);
  EXPECT_EQ(c.malformed, 2u);
  EXPECT_EQ(c.unknown_ufrag, 1u);
}

}  // namespace
}  // namespace sfu::server
