// The controlling (client) agent against the ICE-lite agent over a virtual
// network and clock: connect, keep consent, lose it, survive loss.
#include "ice/controlling_agent.hpp"

#include <gtest/gtest.h>

#include <random>

#include "ice/lite_agent.hpp"
#include "ice/stun_builder.hpp"

namespace sfu::ice {
namespace {

const IceCredentials kServer{"srvU", "serverPasswordServerPw12"};
const IceCredentials kClient{"cliU", "clientPasswordClientPw12"};

class AgentPair {
 public:
  explicit AgentPair(double loss = 0.0, uint64_t seed = 7)
      : lite(kServer), client(kClient, kServer, {.seed = seed}), rng(uint32_t(seed)), loss_(loss) {
    lite.set_remote_ufrag(kClient.ufrag);
    client.add_remote_candidate(server_path_seen_by_client, 2130706431);
  }

  // Moves every pending message across (dropping with probability loss),
  // then advances the clock to the earliest deadline, up to `until`.
  void run_until(Instant until) {
    while (true) {
      pump();
      std::optional<Instant> next = client.poll_timeout();
      if (auto t = lite.poll_timeout(); t && (!next || *t < *next)) next = t;
      if (!next || *next > until) {
        now = until;
        return;
      }
      now = std::max(now, *next);
      client.handle_timeout(now);
      lite.handle_timeout(now);
    }
  }

  void pump() {
    bool moved = true;
    while (moved) {
      moved = false;
      while (auto t = client.poll_transmit()) {
        moved = true;
        if (blackhole || drop()) continue;
        auto msg = parse_stun(t->data);
        ASSERT_TRUE(msg);
        lite.handle_stun(now, client_path_seen_by_server, *msg);
      }
      while (auto t = lite.poll_transmit()) {
        moved = true;
        if (blackhole || drop()) continue;
        auto msg = parse_stun(t->data);
        ASSERT_TRUE(msg);
        client.handle_stun(now, server_path_seen_by_client, *msg);
      }
    }
  }

  bool drop() { return std::uniform_real_distribution<double>(0, 1)(rng) < loss_; }

  LiteAgent lite;
  ControllingAgent client;
  std::mt19937 rng;
  double loss_;
  bool blackhole = false;
  Instant now = from_micros(5'000'000);
  const Path server_path_seen_by_client{0, Address::v4({127, 0, 0, 1}, 40000)};
  const Path client_path_seen_by_server{0, Address::v4({127, 0, 0, 1}, 51000)};
};

TEST(ControllingAgent, ConnectsToLiteAgentWithUseCandidate) {
  AgentPair p;
  p.client.start(p.now);
  p.run_until(p.now + milliseconds(1));
  EXPECT_EQ(p.client.state(), IceState::connected);
  EXPECT_EQ(p.lite.state(), IceState::connected);
  EXPECT_EQ(p.client.selected_path(), p.server_path_seen_by_client);
  EXPECT_EQ(p.lite.selected_path(), p.client_path_seen_by_server);
  EXPECT_EQ(p.client.counters().successes, 1u);
}

TEST(ControllingAgent, ConsentKeepsBothSidesConnectedForMinutes) {
  AgentPair p;
  p.client.start(p.now);
  p.run_until(p.now + seconds(180));
  EXPECT_EQ(p.client.state(), IceState::connected);
  EXPECT_EQ(p.lite.state(), IceState::connected);
  // One consent check every 4..6 s.
  EXPECT_GE(p.client.counters().successes, 180u / 6);
  EXPECT_LE(p.client.counters().successes, 180u / 4 + 2);
}

TEST(ControllingAgent, BothSidesFailAbout30sAfterTheNetworkDies) {
  AgentPair p;
  p.client.start(p.now);
  p.run_until(p.now + seconds(10));
  const Instant cut = p.now;
  p.blackhole = true;
  p.run_until(cut + seconds(24));
  EXPECT_EQ(p.lite.state(), IceState::connected);  // last check was < 30 s ago
  p.run_until(cut + seconds(31));
  EXPECT_EQ(p.client.state(), IceState::failed);
  EXPECT_EQ(p.lite.state(), IceState::failed);
}

TEST(ControllingAgent, ConnectsThrough30PercentLossByRetransmission) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    AgentPair p(0.3, seed);
    p.client.start(p.now);
    p.run_until(p.now + seconds(60));
    EXPECT_EQ(p.client.state(), IceState::connected) << "seed " << seed;
    EXPECT_EQ(p.lite.state(), IceState::connected) << "seed " << seed;
  }
}

TEST(ControllingAgent, FailsWhenNoCandidateAnswers) {
  AgentPair p;
  p.blackhole = true;
  p.client.start(p.now);
  p.run_until(p.now + seconds(60));
  EXPECT_EQ(p.client.state(), IceState::failed);
  EXPECT_EQ(p.client.counters().requests_sent, 7u);  // Rc transmissions
}

TEST(ControllingAgent, ForgedResponseIsIgnored) {
  AgentPair p;
  p.client.start(p.now);
  auto t = p.client.poll_transmit();
  ASSERT_TRUE(t);
  auto req = parse_stun(t->data);
  ASSERT_TRUE(req);
  // A success response keyed with the wrong password.
  std::array<uint8_t, 128> buf{};
  const IntegrityKey wrong = IntegrityKey::from_password("attackerPasswordAttack12");
  MutBytes forged = make_binding_success(buf, *req, p.client_path_seen_by_server.remote, wrong);
  auto msg = parse_stun(forged);
  ASSERT_TRUE(msg);
  p.client.handle_stun(p.now, p.server_path_seen_by_client, *msg);
  EXPECT_EQ(p.client.state(), IceState::checking);
  EXPECT_EQ(p.client.counters().bad_responses, 1u);
}

}  // namespace
}  // namespace sfu::ice
