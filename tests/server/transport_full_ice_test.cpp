// Client-role transports against a full ICE peer that picks its own DTLS
// role, as Janus does: the load generator's transport plays "us", a second
// client-role transport plays Janus (full ICE, DTLS client on the
// PeerConnection it answered, DTLS server on the one it offered). Simulated
// network and clock, as in transport_sim_test.cpp.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "server/transport.hpp"
#include "sim_network.hpp"

namespace sfu::server {
namespace {

using test::LinkProfile;
using test::SimNetwork;

const ice::Path kPeerSeenByUs{0, ice::Address::v4({10, 200, 0, 1}, 20000)};
const ice::Path kUsSeenByPeer{0, ice::Address::v4({10, 200, 0, 1}, 55555)};

std::shared_ptr<const dtls::Context> context() {
  return dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate()));
}

std::vector<uint8_t> rtp_packet(uint16_t seq, uint32_t ssrc) {
  std::vector<uint8_t> p(12 + 100, 0x5a);
  p[0] = 0x80;  // V=2
  p[1] = 96;    // PT
  p[2] = uint8_t(seq >> 8);
  p[3] = uint8_t(seq);
  std::memset(&p[4], 0, 4);
  for (int i = 0; i < 4; ++i) p[8 + i] = uint8_t(ssrc >> (24 - 8 * i));
  return p;
}

struct Roles {
  bool we_control = true;  // ICE: we offered (publisher PC) or answered (subscriber PC)
  dtls::Role our_dtls = dtls::Role::server;
  bool peer_knows_our_candidate = true;  // false: the peer learns us peer-reflexively
};

class FullIcePair {
 public:
  FullIcePair(uint32_t seed, Roles roles, LinkProfile link = {})
      : net(seed, link),
        our_ctx(context()),
        peer_ctx(context()),
        us(TransportConfig{.role = TransportRole::client,
                           .local_ice = ice::IceCredentials::generate(),
                           .dtls_context = our_ctx,
                           .controlling_ice = {.seed = seed + 1, .controlling = roles.we_control}}),
        peer(TransportConfig{.role = TransportRole::client,
                             .local_ice = ice::IceCredentials::generate(),
                             .dtls_context = peer_ctx,
                             .controlling_ice = {.seed = seed + 2, .controlling = !roles.we_control}}) {
    us.set_remote_parameters(peer.local_ice().ufrag, peer.local_ice().pwd, peer_ctx->certificate().fingerprint());
    peer.set_remote_parameters(us.local_ice().ufrag, us.local_ice().pwd, our_ctx->certificate().fingerprint());
    us.set_dtls_role(roles.our_dtls);
    peer.set_dtls_role(roles.our_dtls == dtls::Role::server ? dtls::Role::client : dtls::Role::server);
    us.add_remote_candidate(kPeerSeenByUs, 2130706431);
    if (roles.peer_knows_our_candidate) peer.add_remote_candidate(kUsSeenByPeer, 2130706431);
    us.start(net.now);
    peer.start(net.now);
  }

  void flush() {
    // Endpoint 0 is us, 1 the peer.
    while (auto tx = us.poll_transmit()) net.send(0, kUsSeenByPeer, tx->data);
    while (auto tx = peer.poll_transmit()) net.send(1, kPeerSeenByUs, tx->data);
  }

  void run_until(Instant until) {
    while (true) {
      flush();
      while (auto d = net.pop_due()) {
        Transport& to = d->to == 0 ? us : peer;
        auto got = to.handle_datagram(net.now, d->path, d->bytes);
        if (got.kind == ReceivedMedia::Kind::rtp) ++(d->to == 0 ? our_rtp : peer_rtp);
        flush();
      }
      std::optional<Instant> next = net.next_delivery();
      for (Transport* t : {&us, &peer})
        if (auto x = t->poll_timeout(); x && (!next || *x < *next)) next = x;
      if (!next || *next > until) {
        net.now = until;
        return;
      }
      net.now = std::max(net.now, *next);
      us.handle_timeout(net.now);
      peer.handle_timeout(net.now);
    }
  }

  bool send_rtp(Transport& from, uint16_t seq) {
    auto p = rtp_packet(seq, 0x1234);
    p.resize(p.size() + dtls::SrtpSession::kMaxTrailer);
    auto r = from.protect_rtp(p, 112);
    if (!r) return false;
    const bool ours = &from == &us;
    net.send(ours ? 0 : 1, ours ? kUsSeenByPeer : kPeerSeenByUs, Bytes(p).first(*r));
    return true;
  }

  std::string describe() const {
    std::string out;
    for (const Transport* t : {&us, &peer}) {
      const auto& c = t->counters();
      out += std::string(t == &us ? "us" : "peer") + ": " + std::string(to_string(t->state())) + " dtls " +
             std::string(dtls::to_string(t->dtls().state())) + " stun_in " + std::to_string(c.stun_in) + " dtls_in " +
             std::to_string(c.dtls_in) + " bad_stun " + std::to_string(c.drops(DropReason::bad_stun)) +
             " unknown_path " + std::to_string(c.drops(DropReason::unknown_path)) + " dtls_sent " +
             std::to_string(t->dtls().counters().datagrams_sent) + " dtls_rx " +
             std::to_string(t->dtls().counters().datagrams_received) + " rtx " +
             std::to_string(t->dtls().counters().retransmits_native + t->dtls().counters().retransmits_replayed) +
             " wrong_state " + std::to_string(t->dtls().counters().dropped_wrong_state) + "; ";
    }
    return out;
  }

  bool both_connected() const {
    return us.state() == TransportState::connected && peer.state() == TransportState::connected;
  }

  SimNetwork net;
  std::shared_ptr<const dtls::Context> our_ctx, peer_ctx;
  Transport us, peer;
  int our_rtp = 0, peer_rtp = 0;
};

TEST(TransportFullIce, PublisherPcWeControlIceAndAreTheDtlsServer) {
  // We offered (a=setup:actpass); the peer answered a=setup:active.
  FullIcePair p(1, {.we_control = true, .our_dtls = dtls::Role::server});
  p.run_until(p.net.now + seconds(2));
  ASSERT_TRUE(p.both_connected()) << p.describe();
  EXPECT_EQ(p.us.send_path(), kPeerSeenByUs);
  EXPECT_EQ(p.peer.send_path(), kUsSeenByPeer);
  for (uint16_t i = 0; i < 10; ++i) ASSERT_TRUE(p.send_rtp(p.us, i));
  for (uint16_t i = 0; i < 5; ++i) ASSERT_TRUE(p.send_rtp(p.peer, i));
  p.run_until(p.net.now + milliseconds(100));
  EXPECT_EQ(p.peer_rtp, 10);
  EXPECT_EQ(p.our_rtp, 5);
  EXPECT_EQ(p.us.counters().drops(DropReason::bad_stun), 0u);
}

TEST(TransportFullIce, SubscriberPcThePeerControlsIceAndIsTheDtlsServer) {
  // The peer offered (actpass); we answered a=setup:active, ICE controlled.
  FullIcePair p(2, {.we_control = false, .our_dtls = dtls::Role::client});
  p.run_until(p.net.now + seconds(2));
  ASSERT_TRUE(p.both_connected()) << p.describe();
  for (uint16_t i = 0; i < 10; ++i) ASSERT_TRUE(p.send_rtp(p.peer, i));
  p.run_until(p.net.now + milliseconds(100));
  EXPECT_EQ(p.our_rtp, 10);
}

// Also covers a ClientHello that arrives before our own check has validated
// its path: it is held and replayed, not lost for a retransmission period.
TEST(TransportFullIce, PeerLearnsUsPeerReflexivelyAndConnectsThroughLoss) {
  const LinkProfile lossy{.loss = 0.2, .min_delay = milliseconds(2), .max_delay = milliseconds(30)};
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    FullIcePair p(
        seed, {.we_control = seed % 2 == 0, .our_dtls = dtls::Role::server, .peer_knows_our_candidate = false}, lossy);
    p.run_until(p.net.now + seconds(30));
    EXPECT_TRUE(p.both_connected()) << "seed " << seed << ": " << p.describe();
  }
}

TEST(TransportFullIce, DtlsRoleCannotChangeOnceTheHandshakeRuns) {
  FullIcePair p(3, {.we_control = true, .our_dtls = dtls::Role::client});
  p.run_until(p.net.now + seconds(2));
  ASSERT_TRUE(p.both_connected());
  p.us.set_dtls_role(dtls::Role::server);  // ignored
  p.run_until(p.net.now + seconds(1));
  EXPECT_TRUE(p.both_connected());
  EXPECT_TRUE(p.send_rtp(p.us, 1));
}

}  // namespace
}  // namespace sfu::server
