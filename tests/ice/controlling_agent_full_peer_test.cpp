// The client agent against a full ICE peer (RFC 8445), as Janus' libnice is:
// two of our agents on a virtual network and clock. Covers answering the
// peer's checks (§7.3.1.3), the controlled role (nomination by the peer,
// §7.3.1.5), role conflicts either way (§7.3.1.1, §7.2.5.1) and
// peer-reflexive paths learned from requests.
#include <gtest/gtest.h>

#include <array>

#include "ice/controlling_agent.hpp"
#include "ice/stun_builder.hpp"

namespace sfu::ice {
namespace {

const IceCredentials kA{"aaaU", "aaaaPasswordaaaaPasswor"};
const IceCredentials kB{"bbbU", "bbbbPasswordbbbbPasswor"};
const Path kBSeenByA{0, Address::v4({10, 200, 0, 1}, 20000)};
const Path kASeenByB{0, Address::v4({10, 200, 0, 2}, 50000)};

struct FullPair {
  FullPair(ControllingAgentConfig a_config, ControllingAgentConfig b_config)
      : a(kA, kB, a_config), b(kB, kA, b_config) {
    a.add_remote_candidate(kBSeenByA, 2130706431);
    b.add_remote_candidate(kASeenByB, 2130706431);
  }

  // Delivers every pending message, then advances to the earliest deadline.
  void run_until(Instant until) {
    while (true) {
      pump();
      std::optional<Instant> next = a.poll_timeout();
      if (auto t = b.poll_timeout(); t && (!next || *t < *next)) next = t;
      if (!next || *next > until) {
        now = until;
        return;
      }
      now = std::max(now, *next);
      a.handle_timeout(now);
      b.handle_timeout(now);
    }
  }

  void pump() {
    for (bool moved = true; moved;) {
      moved = false;
      while (auto t = a.poll_transmit()) {
        moved = true;
        auto msg = parse_stun(t->data);
        ASSERT_TRUE(msg);
        if (msg->use_candidate()) ++a_nominations_sent;
        b.handle_stun(now, kASeenByB, *msg);
      }
      while (auto t = b.poll_transmit()) {
        moved = true;
        auto msg = parse_stun(t->data);
        ASSERT_TRUE(msg);
        if (msg->use_candidate()) ++b_nominations_sent;
        a.handle_stun(now, kBSeenByA, *msg);
      }
    }
  }

  ControllingAgent a;
  ControllingAgent b;
  int a_nominations_sent = 0;
  int b_nominations_sent = 0;
  Instant now = from_micros(1'000'000);
};

// A binding request from B to A as libnice would send it.
std::vector<uint8_t> request_to_a(const std::string& password, bool controlling, uint64_t tie_breaker,
                                  bool use_candidate) {
  std::vector<uint8_t> buf(256);
  StunBuilder b(buf);
  b.begin(StunMethod::binding, StunClass::request, TransactionId{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  b.add_username(kA.ufrag + ":" + kB.ufrag);
  if (controlling) {
    b.add_ice_controlling(tie_breaker);
  } else {
    b.add_ice_controlled(tie_breaker);
  }
  b.add_priority(1853824767);
  if (use_candidate) b.add_use_candidate();
  const IntegrityKey key = IntegrityKey::from_password(password);
  buf.resize(b.finish(&key, true).size());
  return buf;
}

TEST(ControllingAgentFullPeer, AnswersAPeerCheckWithMappedAddressIntegrityAndFingerprint) {
  ControllingAgent a(kA, kB, {.controlling = false});
  a.start(from_micros(0));
  while (a.poll_transmit()) {
  }
  const auto req_bytes = request_to_a(kA.pwd, true, 5, false);
  auto req = parse_stun(req_bytes);
  ASSERT_TRUE(req);
  a.handle_stun(from_micros(1000), kBSeenByA, *req);

  auto reply = a.poll_transmit();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->path, kBSeenByA);
  auto msg = parse_stun(reply->data);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), StunClass::success_response);
  EXPECT_EQ(msg->transaction_id(), req->transaction_id());
  EXPECT_EQ(msg->xor_mapped_address(), kBSeenByA.remote);                   // RFC 8445 §7.3.1.3
  EXPECT_TRUE(check_integrity(*msg, IntegrityKey::from_password(kA.pwd)));  // our password
  EXPECT_TRUE(check_fingerprint(*msg));
  EXPECT_EQ(a.counters().requests_received, 1u);
  EXPECT_TRUE(a.is_valid_path(kBSeenByA));  // a verified request validates the path
  // §7.3.1.4: a triggered check of our own follows, as the controlled agent.
  auto check = a.poll_transmit();
  ASSERT_TRUE(check);
  auto check_msg = parse_stun(check->data);
  ASSERT_TRUE(check_msg);
  EXPECT_EQ(check_msg->message_class(), StunClass::request);
  EXPECT_TRUE(check_msg->ice_controlled());
  EXPECT_FALSE(check_msg->use_candidate());
}

TEST(ControllingAgentFullPeer, WrongPasswordGets401AndChangesNothing) {
  ControllingAgent a(kA, kB);
  a.start(from_micros(0));
  while (a.poll_transmit()) {
  }
  const auto req_bytes = request_to_a("wrongPasswordwrongPassw", false, 5, true);
  auto req = parse_stun(req_bytes);
  ASSERT_TRUE(req);
  a.handle_stun(from_micros(1000), kBSeenByA, *req);
  auto reply = a.poll_transmit();
  ASSERT_TRUE(reply);
  auto msg = parse_stun(reply->data);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), StunClass::error_response);
  EXPECT_EQ(msg->error_code()->code, 401);
  EXPECT_EQ(a.counters().bad_requests, 1u);
  EXPECT_FALSE(a.is_valid_path(kBSeenByA));
  EXPECT_EQ(a.state(), IceState::checking);
}

TEST(ControllingAgentFullPeer, OffererControlsAndAnswererFollowsTheNomination) {
  FullPair p({.seed = 1, .controlling = true}, {.seed = 2, .controlling = false});
  p.a.start(p.now);
  p.b.start(p.now);
  p.run_until(p.now + milliseconds(10));
  EXPECT_EQ(p.a.state(), IceState::connected);
  EXPECT_EQ(p.b.state(), IceState::connected);
  EXPECT_EQ(p.a.selected_path(), kBSeenByA);
  EXPECT_EQ(p.b.selected_path(), kASeenByB);
  EXPECT_GT(p.a_nominations_sent, 0);
  EXPECT_EQ(p.b_nominations_sent, 0);  // the controlled agent never nominates
  EXPECT_GT(p.b.counters().nominations_received, 0u);
  EXPECT_EQ(p.a.counters().role_switches + p.b.counters().role_switches, 0u);
  // Consent keeps both up for minutes; nobody changes role.
  p.run_until(p.now + seconds(120));
  EXPECT_EQ(p.a.state(), IceState::connected);
  EXPECT_EQ(p.b.state(), IceState::connected);
  EXPECT_TRUE(p.a.controlling());
  EXPECT_FALSE(p.b.controlling());
}

TEST(ControllingAgentFullPeer, BothControllingTheLargerTieBreakerKeepsTheRole) {
  // §7.3.1.1: the agent with the larger tie-breaker answers 487; the other
  // switches to controlled (§7.2.5.1) and retries.
  FullPair p({.seed = 1, .controlling = true, .tie_breaker = 100}, {.seed = 2, .controlling = true, .tie_breaker = 7});
  p.a.start(p.now);
  p.b.start(p.now);
  p.run_until(p.now + seconds(2));
  EXPECT_TRUE(p.a.controlling());
  EXPECT_FALSE(p.b.controlling());
  EXPECT_EQ(p.a.counters().role_switches, 0u);
  EXPECT_EQ(p.b.counters().role_switches, 1u);
  EXPECT_EQ(p.a.state(), IceState::connected);
  EXPECT_EQ(p.b.state(), IceState::connected);
  EXPECT_EQ(p.b.selected_path(), kASeenByB);
}

TEST(ControllingAgentFullPeer, BothControlledTheLargerTieBreakerTakesControl) {
  FullPair p({.seed = 1, .controlling = false, .tie_breaker = 7},
             {.seed = 2, .controlling = false, .tie_breaker = 100});
  p.a.start(p.now);
  p.b.start(p.now);
  p.run_until(p.now + seconds(2));
  EXPECT_FALSE(p.a.controlling());
  EXPECT_TRUE(p.b.controlling());
  EXPECT_EQ(p.a.state(), IceState::connected);
  EXPECT_EQ(p.b.state(), IceState::connected);
  EXPECT_GT(p.b_nominations_sent, 0);
}

TEST(ControllingAgentFullPeer, ARequestFromAnUnknownAddressIsAPeerReflexivePath) {
  // No remote candidate is known (the peer's SDP had none we can reach);
  // its check teaches us the path and we check it back.
  ControllingAgent a(kA, kB, {.controlling = false});
  a.start(from_micros(0));
  const Path prflx{0, Address::v4({10, 200, 0, 9}, 41000)};
  const auto req_bytes = request_to_a(kA.pwd, true, 5, true);
  auto req = parse_stun(req_bytes);
  ASSERT_TRUE(req);
  a.handle_stun(from_micros(1000), prflx, *req);
  EXPECT_EQ(a.state(), IceState::connected);  // nominated by the controlling peer
  EXPECT_EQ(a.selected_path(), prflx);
  int to_prflx = 0;
  while (auto t = a.poll_transmit()) to_prflx += t->path == prflx;
  EXPECT_EQ(to_prflx, 2);  // the response and a triggered check
}

}  // namespace
}  // namespace sfu::ice
