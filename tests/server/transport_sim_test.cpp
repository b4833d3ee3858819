// Deterministic simulation: a client-role and a server-role transport over a
// simulated lossy, reordering network on a virtual clock complete ICE and
// DTLS and exchange SRTP and SRTCP both ways.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

#include "server/transport.hpp"
#include "sim_network.hpp"

namespace sfu::server {
namespace {

using test::LinkProfile;
using test::SimNetwork;

const ice::Path kServerAsSeenByClient{0, ice::Address::v4({127, 0, 0, 1}, 40000)};
const ice::Path kClientAsSeenByServer{0, ice::Address::v4({127, 0, 0, 1}, 55555)};

std::shared_ptr<const dtls::Context> context() {
  return dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate()));
}

// An RTP packet: V=2, PT=96, given seq, SSRC, 100-byte payload of `fill`.
std::vector<uint8_t> rtp_packet(uint16_t seq, uint32_t ssrc, uint8_t fill) {
  std::vector<uint8_t> p(12 + 100, fill);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = uint8_t(seq >> 8);
  p[3] = uint8_t(seq);
  std::memset(&p[4], 0, 4);
  p[8] = uint8_t(ssrc >> 24);
  p[9] = uint8_t(ssrc >> 16);
  p[10] = uint8_t(ssrc >> 8);
  p[11] = uint8_t(ssrc);
  return p;
}

// An RTCP receiver report with no blocks (8 bytes): V=2, PT=201, length 1.
std::vector<uint8_t> rtcp_rr(uint32_t ssrc) {
  return {0x80, 201, 0x00, 0x01, uint8_t(ssrc >> 24), uint8_t(ssrc >> 16), uint8_t(ssrc >> 8), uint8_t(ssrc)};
}

class TransportPair {
 public:
  TransportPair(uint32_t seed, LinkProfile link, bool wrong_fingerprint = false)
      : net(seed, link), server_ctx(context()), client_ctx(context()),
        server(TransportConfig{.role = TransportRole::server, .local_ice = ice::IceCredentials::generate(),
                               .dtls_context = server_ctx}),
        client(TransportConfig{.role = TransportRole::client, .local_ice = ice::IceCredentials::generate(),
                               .dtls_context = client_ctx, .controlling_ice = {.seed = seed + 1}}) {
    auto client_fp = client_ctx->certificate().fingerprint();
    if (wrong_fingerprint) client_fp[0] ^= 0xff;
    server.set_remote_parameters(client.local_ice().ufrag, "", client_fp);
    client.set_remote_parameters(server.local_ice().ufrag, server.local_ice().pwd,
                                 server_ctx->certificate().fingerprint());
    client.add_remote_candidate(kServerAsSeenByClient, 2130706431);
    server.start(net.now);
    client.start(net.now);
    flush();
  }

  void flush() {
    while (auto tx = client.poll_transmit()) net.send(1, kClientAsSeenByServer, tx->data);
    while (auto tx = server.poll_transmit()) net.send(0, kServerAsSeenByClient, tx->data);
  }

  void deliver(SimNetwork::Datagram& d) {
    Transport& to = d.to == 0 ? server : client;
    auto got = to.handle_datagram(net.now, d.path, d.bytes);
    if (got.kind == ReceivedMedia::Kind::rtp) (d.to == 0 ? server_rtp : client_rtp).emplace_back(got.packet.begin(), got.packet.end());
    if (got.kind == ReceivedMedia::Kind::rtcp) (d.to == 0 ? server_rtcp : client_rtcp).emplace_back(got.packet.begin(), got.packet.end());
  }

  // Runs the simulation until `until` (virtual time), jumping between events.
  void run_until(Instant until) {
    while (true) {
      flush();
      while (auto d = net.pop_due()) {
        deliver(*d);
        flush();
      }
      std::optional<Instant> next = net.next_delivery();
      for (Transport* t : {&server, &client})
        if (auto x = t->poll_timeout(); x && (!next || *x < *next)) next = x;
      if (!next || *next > until) {
        net.now = until;
        return;
      }
      net.now = std::max(net.now, *next);
      server.handle_timeout(net.now);
      client.handle_timeout(net.now);
    }
  }

  bool both_connected() const {
    return server.state() == TransportState::connected && client.state() == TransportState::connected;
  }

  // Protects and sends one packet from `from`; false if protect failed.
  bool send_media(Transport& from, std::vector<uint8_t> plain, bool rtcp) {
    plain.resize(plain.size() + dtls::SrtpSession::kMaxTrailer);
    const size_t len = plain.size() - dtls::SrtpSession::kMaxTrailer;
    auto r = rtcp ? from.protect_rtcp(plain, len) : from.protect_rtp(plain, len);
    if (!r) return false;
    const bool from_server = &from == &server;
    net.send(from_server ? 0 : 1, from_server ? kServerAsSeenByClient : kClientAsSeenByServer, Bytes(plain).first(*r));
    return true;
  }

  SimNetwork net;
  std::shared_ptr<const dtls::Context> server_ctx, client_ctx;
  Transport server, client;
  std::vector<std::vector<uint8_t>> server_rtp, server_rtcp, client_rtp, client_rtcp;
};

TEST(TransportSim, ConnectsOnACleanNetworkAndNegotiatesGcm) {
  TransportPair p(1, {});
  p.run_until(p.net.now + seconds(2));
  ASSERT_TRUE(p.both_connected());
  EXPECT_EQ(p.server.srtp_profile(), dtls::SrtpProfile::aead_aes_128_gcm);
  EXPECT_EQ(p.server.send_path(), kClientAsSeenByServer);
  EXPECT_EQ(p.client.send_path(), kServerAsSeenByClient);
}

TEST(TransportSim, IceDtlsAndSrtpBothWaysThrough20PercentLossAndReordering) {
  const LinkProfile lossy{.loss = 0.20, .min_delay = milliseconds(5), .max_delay = milliseconds(60)};
  int connected_runs = 0;
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    TransportPair p(seed, lossy);
    p.run_until(p.net.now + seconds(30));
    ASSERT_TRUE(p.both_connected()) << "seed " << seed << " server " << to_string(p.server.state()) << " client "
                                    << to_string(p.client.state());
    ++connected_runs;
    // 200 RTP packets and 20 RTCP packets each way, 10 ms apart.
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE(p.send_media(p.client, rtp_packet(uint16_t(65500 + i), 0x1111, uint8_t(i)), false));
      ASSERT_TRUE(p.send_media(p.server, rtp_packet(uint16_t(i), 0x2222, uint8_t(i)), false));
      if (i % 10 == 0) {
        ASSERT_TRUE(p.send_media(p.client, rtcp_rr(0x1111), true));
        ASSERT_TRUE(p.send_media(p.server, rtcp_rr(0x2222), true));
      }
      p.run_until(p.net.now + milliseconds(10));
    }
    p.run_until(p.net.now + seconds(1));
    // About 80 % arrive; every one that arrives decrypts to the plaintext sent.
    for (auto* got : {&p.server_rtp, &p.client_rtp}) {
      EXPECT_GT(got->size(), 130u) << "seed " << seed;
      EXPECT_LE(got->size(), 200u);
    }
    for (const auto& pkt : p.server_rtp) {
      ASSERT_EQ(pkt.size(), 112u);
      const uint16_t seq = uint16_t(pkt[2] << 8 | pkt[3]);
      EXPECT_EQ(pkt[20], uint8_t(uint16_t(seq - 65500)));  // the payload fill of that packet
    }
    EXPECT_GT(p.server_rtcp.size(), 10u);
    EXPECT_GT(p.client_rtcp.size(), 10u);
    EXPECT_EQ(p.server.counters().drops(DropReason::srtp_auth), 0u);
    EXPECT_EQ(p.client.counters().drops(DropReason::srtp_auth), 0u);
  }
  EXPECT_EQ(connected_runs, 10);
}

TEST(TransportSim, WrongFingerprintFailsTheServer) {
  TransportPair p(3, {}, /*wrong_fingerprint=*/true);
  p.run_until(p.net.now + seconds(5));
  EXPECT_EQ(p.server.state(), TransportState::failed);
  EXPECT_NE(p.client.state(), TransportState::connected);
  EXPECT_FALSE(p.send_media(p.server, rtp_packet(1, 1, 1), false));
}

TEST(TransportSim, ConsentExpiryFailsBothSides) {
  TransportPair p(4, {});
  p.run_until(p.net.now + seconds(2));
  ASSERT_TRUE(p.both_connected());
  p.run_until(p.net.now + seconds(60));  // consent refreshed all along
  ASSERT_TRUE(p.both_connected());
  p.net.set_link({.loss = 1.0});
  const Instant cut = p.net.now;
  p.run_until(cut + seconds(25));
  EXPECT_TRUE(p.both_connected());
  p.run_until(cut + seconds(36));
  EXPECT_EQ(p.server.state(), TransportState::failed);
  EXPECT_EQ(p.client.state(), TransportState::failed);
}

TEST(TransportSim, UnauthenticatedAndMalformedInputChangesNoState) {
  TransportPair p(5, {});
  // Before anything arrives: a forged check, garbage, DTLS and SRTP from an
  // unvalidated path.
  const ice::Path attacker{0, ice::Address::v4({127, 0, 0, 9}, 6666)};
  auto& s = p.server;
  std::vector<std::vector<uint8_t>> junk = {
      {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12},  // bare binding request
      {0x00, 0x01, 0x00, 0x08, 0x21, 0x12},                                                   // truncated STUN
      {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},                                         // DTLS record, unknown path
      rtp_packet(1, 42, 0),                                                                   // RTP, unknown path
      {0xff, 0xff, 0xff},                                                                     // nothing at all
      {},
  };
  for (auto& j : junk) {
    auto got = s.handle_datagram(p.net.now, attacker, j);
    EXPECT_EQ(got.kind, ReceivedMedia::Kind::none);
  }
  EXPECT_EQ(s.state(), TransportState::connecting);
  EXPECT_FALSE(s.is_valid_path(attacker));
  EXPECT_EQ(s.counters().drops(DropReason::unknown_path), 2u);
  EXPECT_GE(s.counters().drops(DropReason::malformed), 2u);
  EXPECT_EQ(s.counters().drops(DropReason::bad_stun), 1u);
  // The real handshake still completes.
  p.run_until(p.net.now + seconds(2));
  ASSERT_TRUE(p.both_connected());
  // Connected now: garbage SRTP on the valid path is counted, not delivered.
  auto fake = rtp_packet(7, 0x1111, 0xee);
  fake.resize(fake.size() + 16, 0);
  auto got = s.handle_datagram(p.net.now, kClientAsSeenByServer, fake);
  EXPECT_EQ(got.kind, ReceivedMedia::Kind::none);
  EXPECT_EQ(s.counters().drops(DropReason::srtp_auth), 1u);
  // A replayed SRTP packet is refused.
  std::vector<uint8_t> pkt = rtp_packet(9, 0x1111, 1);
  pkt.resize(pkt.size() + dtls::SrtpSession::kMaxTrailer);
  auto len = p.client.protect_rtp(pkt, 112);
  ASSERT_TRUE(len);
  std::vector<uint8_t> copy(pkt.begin(), pkt.begin() + ptrdiff_t(*len));
  EXPECT_EQ(s.handle_datagram(p.net.now, kClientAsSeenByServer, copy).kind, ReceivedMedia::Kind::rtp);
  std::vector<uint8_t> again(pkt.begin(), pkt.begin() + ptrdiff_t(*len));
  EXPECT_EQ(s.handle_datagram(p.net.now, kClientAsSeenByServer, again).kind, ReceivedMedia::Kind::none);
  EXPECT_EQ(s.counters().drops(DropReason::srtp_replay), 1u);
  EXPECT_TRUE(p.both_connected());
}

TEST(TransportSim, ConnectTimeoutWhenThePeerNeverShowsUp) {
  TransportPair p(6, {.loss = 1.0});
  p.run_until(p.net.now + seconds(31));
  EXPECT_EQ(p.server.state(), TransportState::failed);
  EXPECT_EQ(p.client.state(), TransportState::failed);
}

TEST(TransportSim, CloseSendsCloseNotify) {
  TransportPair p(7, {});
  p.run_until(p.net.now + seconds(2));
  ASSERT_TRUE(p.both_connected());
  p.client.close();
  p.run_until(p.net.now + seconds(1));
  EXPECT_EQ(p.client.state(), TransportState::closed);
  EXPECT_EQ(p.server.state(), TransportState::closed);
}

}  // namespace
}  // namespace sfu::server
