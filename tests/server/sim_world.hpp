// A deterministic world for router simulations: the server's WorkerMedia
// (transports + routers) and any number of client endpoints, each with its
// own uplink and downlink (bandwidth cap with a drop-tail queue, delay,
// random loss), on one virtual clock. Client applications (synthetic
// publishers, simulated subscribers) plug in through ClientApp and work on
// plaintext RTP/RTCP; each client's Transport (client role) protects and
// unprotects, exactly as a browser's stack would.
#pragma once

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <vector>

#include "sctp/association.hpp"
#include "server/packet_output.hpp"
#include "server/transport.hpp"
#include "server/worker_media.hpp"

namespace sfu::test {

struct Link {
  uint64_t cap_bps = 0;  // 0: unlimited
  Duration delay = milliseconds(10);
  double loss = 0.0;
  Duration max_queue = milliseconds(300);  // drop-tail beyond this queueing delay
  Instant free_at{};                        // when the bottleneck is idle again
  uint64_t sent = 0, dropped = 0;
};

// What runs on a client on top of its transport.
class ClientApp {
 public:
  virtual ~ClientApp() = default;
  virtual void on_rtp(Instant now, Bytes packet) = 0;
  virtual void on_rtcp(Instant now, Bytes packet) = 0;
  virtual std::optional<Instant> poll_timeout() = 0;
  virtual void handle_timeout(Instant now) = 0;
  // Plaintext packets to send now (RTP first, then RTCP).
  virtual std::optional<Bytes> poll_rtp(Instant now) = 0;
  virtual std::optional<Bytes> poll_rtcp(Instant now) = 0;
};

class SimWorld : public server::PacketOutput {
 public:
  static constexpr server::RoomId kRoom = 1;

  struct Client {
    int index = 0;
    ice::Path path;  // as the server sees it
    std::unique_ptr<server::Transport> transport;
    server::TransportId server_id = 0;
    Link up, down;
    std::unique_ptr<ClientApp> app;
    // Data channels: the client's SCTP association over its transport's
    // DTLS (started once connected) and what it reported, data copied.
    struct SctpEvent {
      sctp::AssociationEvent::Type type;
      uint16_t stream = 0;
      sctp::MessageKind kind = sctp::MessageKind::binary;
      std::vector<uint8_t> data;
      sctp::ChannelParams params;
    };
    std::unique_ptr<sctp::Association> sctp;
    bool sctp_started = false;
    std::vector<SctpEvent> sctp_events;
    uint64_t sctp_transmit_failures = 0;  // packets the client's DTLS refused
    size_t sctp_largest_packet = 0;
  };

  explicit SimWorld(uint32_t seed)
      : rng_(seed),
        server_ctx_(dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate()))),
        client_ctx_(dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate()))) {
    router_ = &media_.router(*this, kRoom, [this](const server::MediaEvent& e) { events.push_back(e); });
  }

  server::Router& router() { return *router_; }
  server::WorkerMedia& media() { return media_; }
  Instant now = from_micros(10'000'000);
  std::vector<server::MediaEvent> events;

  // Adds a client with a connected transport pair (runs the world until
  // ICE + DTLS complete, at most 5 s). `publisher` says which way media goes.
  Client& add_client(bool publisher, Link up = {}, Link down = {}) {
    auto c = std::make_unique<Client>();
    c->index = int(clients_.size());
    c->path = ice::Path{0, ice::Address::v4({127, 0, 0, 1}, uint16_t(50000 + c->index))};
    c->up = up;
    c->down = down;
    server::TransportConfig sc{.role = server::TransportRole::server, .local_ice = ice::IceCredentials::generate(),
                               .dtls_context = server_ctx_};
    server::TransportConfig cc{.role = server::TransportRole::client, .local_ice = ice::IceCredentials::generate(),
                               .dtls_context = client_ctx_, .controlling_ice = {.seed = uint64_t(c->index) + 7}};
    auto st = std::make_unique<server::Transport>(sc);
    c->transport = std::make_unique<server::Transport>(cc);
    st->set_remote_parameters(c->transport->local_ice().ufrag, "", client_ctx_->certificate().fingerprint());
    c->transport->set_remote_parameters(st->local_ice().ufrag, st->local_ice().pwd,
                                        server_ctx_->certificate().fingerprint());
    c->transport->add_remote_candidate(kServerPath, 2130706431);
    c->server_id = media_.host().add(*this, now, std::move(st));
    media_.bind(c->server_id, kRoom);
    router_->add_transport(c->server_id, publisher);
    c->transport->start(now);
    Client& ref = *c;
    clients_.push_back(std::move(c));
    run_for(seconds(5), [&] {
      auto* t = media_.host().find(ref.server_id);
      return ref.transport->state() == server::TransportState::connected && t &&
             t->state() == server::TransportState::connected;
    });
    return ref;
  }

  // Advances virtual time by `d` (or until `stop` returns true).
  void run_for(Duration d, const std::function<bool()>& stop = {}) { run_until(now + d, stop); }

  void run_until(Instant until, const std::function<bool()>& stop = {}) {
    while (true) {
      pump_clients();
      while (!queue_.empty() && queue_.top().at <= now) {
        Datagram d = queue_.top();
        queue_.pop();
        deliver(d);
        pump_clients();
      }
      if (stop && stop()) return;
      std::optional<Instant> next;
      auto take = [&](std::optional<Instant> t) {
        if (t && (!next || *t < *next)) next = t;
      };
      if (!queue_.empty()) take(queue_.top().at);
      take(media_.poll_timeout());
      for (auto& c : clients_) {
        take(c->transport->poll_timeout());
        if (c->app) take(c->app->poll_timeout());
        if (c->sctp && c->sctp_started) take(c->sctp->poll_timeout());
      }
      if (!next || *next > until) {
        now = until;
        return;
      }
      now = std::max(now, *next);
      media_.on_timeout(*this, now);
      for (auto& c : clients_) {
        if (auto t = c->transport->poll_timeout(); t && *t <= now) c->transport->handle_timeout(now);
        if (c->sctp && c->sctp_started)
          if (auto t = c->sctp->poll_timeout(); t && *t <= now) c->sctp->handle_timeout(now);
        if (c->app)
          if (auto t = c->app->poll_timeout(); t && *t <= now) c->app->handle_timeout(now);
      }
    }
  }

  Client& client(int i) { return *clients_[size_t(i)]; }

  // Gives client `c` an SCTP association (the browser's side: DTLS client,
  // even stream ids) and enables data channels for its server transport.
  void enable_sctp(Client& c, sctp::AssociationConfig cfg = {.dtls_client = true, .remote_max_message_size = 262144},
                   uint64_t server_max_message = 262144) {
    c.sctp = std::make_unique<sctp::Association>(cfg);
    router_->enable_sctp(server::SctpSpec{c.server_id, 5000, server_max_message}, now);
    pump_clients();
  }

  // ---- PacketOutput (the server's sockets) -------------------------------
  MutBytes send_buffer() override { return MutBytes(out_buf_); }
  void commit_udp(size_t length, const ice::Address& to) override { from_server(to, Bytes(out_buf_).first(length)); }
  void send(const ice::Path& to, Bytes data) override { from_server(to.remote, data); }

 private:
  static constexpr ice::Path kServerPath{0, ice::Address{ice::AddressFamily::ipv4, {127, 0, 0, 1}, 40000}};

  struct Datagram {
    Instant at;
    uint64_t order;
    int client;       // the client end
    bool to_server;   // direction
    std::vector<uint8_t> bytes;
    bool operator>(const Datagram& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void from_server(const ice::Address& to, Bytes data) {
    for (auto& c : clients_)
      if (c->path.remote == to) return enqueue(*c, c->down, false, data);
  }

  void enqueue(Client& c, Link& link, bool to_server, Bytes data) {
    ++link.sent;
    if (link.loss > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < link.loss) {
      ++link.dropped;
      return;
    }
    Instant depart = now;
    if (link.cap_bps) {
      const Instant start = std::max(now, link.free_at);
      if (start - now > link.max_queue) {
        ++link.dropped;  // drop-tail
        return;
      }
      const auto tx = microseconds(int64_t(data.size() + 28) * 8 * 1000000 / int64_t(link.cap_bps));
      depart = start + tx;
      link.free_at = depart;
    }
    queue_.push({depart + link.delay, order_++, c.index, to_server, {data.begin(), data.end()}});
  }

  void deliver(Datagram& d) {
    Client& c = *clients_[size_t(d.client)];
    if (d.to_server) {
      media_.on_datagram(*this, now, c.path, d.bytes);
      return;
    }
    auto got = c.transport->handle_datagram(now, kServerPath, d.bytes);
    while (auto ev = c.transport->poll_event()) {
      if (ev->type == server::TransportEvent::Type::application_data && c.sctp) c.sctp->receive(now, ev->data);
    }
    if (!c.app) return;
    if (got.kind == server::ReceivedMedia::Kind::rtp) c.app->on_rtp(now, got.packet);
    if (got.kind == server::ReceivedMedia::Kind::rtcp) c.app->on_rtcp(now, got.packet);
  }

  // Moves everything the clients want to send onto their uplinks.
  void pump_clients() {
    for (auto& c : clients_) {
      pump_sctp(*c);
      while (auto tx = c->transport->poll_transmit()) enqueue(*c, c->up, true, tx->data);
      if (!c->app || c->transport->state() != server::TransportState::connected) continue;
      while (auto p = c->app->poll_rtp(now)) send_protected(*c, *p, false);
      while (auto p = c->app->poll_rtcp(now)) send_protected(*c, *p, true);
    }
  }

  void pump_sctp(Client& c) {
    if (!c.sctp) return;
    if (!c.sctp_started && c.transport->state() == server::TransportState::connected) {
      c.sctp_started = true;
      c.sctp->start(now);
    }
    auto transmit = [&] {
      while (auto pkt = c.sctp->poll_transmit()) {
        c.sctp_largest_packet = std::max(c.sctp_largest_packet, pkt->size());
        if (!c.transport->send_application_data(*pkt)) ++c.sctp_transmit_failures;
      }
    };
    transmit();
    while (auto ev = c.sctp->poll_event())
      c.sctp_events.push_back({ev->type, ev->stream, ev->kind, {ev->data.begin(), ev->data.end()}, ev->params});
    transmit();
  }

  void send_protected(Client& c, Bytes plain, bool rtcp) {
    std::vector<uint8_t> buf(plain.size() + dtls::SrtpSession::kMaxTrailer);
    std::memcpy(buf.data(), plain.data(), plain.size());
    auto n = rtcp ? c.transport->protect_rtcp(buf, plain.size()) : c.transport->protect_rtp(buf, plain.size());
    if (n) enqueue(c, c.up, true, Bytes(buf).first(*n));
  }

  std::mt19937 rng_;
  std::shared_ptr<const dtls::Context> server_ctx_, client_ctx_;
  server::WorkerMedia media_{WallClock{}};  // a fixed wall clock: sender reports are reproducible
  server::Router* router_ = nullptr;
  std::vector<std::unique_ptr<Client>> clients_;
  std::priority_queue<Datagram, std::vector<Datagram>, std::greater<>> queue_;
  uint64_t order_ = 0;
  std::array<uint8_t, 2048> out_buf_{};
};

}  // namespace sfu::test
