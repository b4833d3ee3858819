// ICE-lite agent against hand-built browser checks on a virtual clock.
#include "ice/lite_agent.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "ice/stun_builder.hpp"

namespace sfu::ice {
namespace {

const IceCredentials kLocal{"sfuU", "sfuPasswordSfuPassword12"};
const IceCredentials kRemote{"brwU", "browserPasswordBrowser12"};

struct CheckOptions {
  std::string username = "sfuU:brwU";
  std::string pwd = kLocal.pwd;
  bool use_candidate = false;
  bool controlled = false;  // ICE-CONTROLLED instead of ICE-CONTROLLING
  bool integrity = true;
  bool fingerprint = true;
  bool unknown_required = false;
  bool with_username = true;
  StunClass cls = StunClass::request;
  uint32_t priority = 0x6e7f1eff;  // a host candidate's, as Chrome computes it
};

// A binding request as Chrome sends it (RFC 8445 §7.2.2).
std::vector<uint8_t> make_check(const CheckOptions& o, uint8_t txid_seed = 1) {
  std::vector<uint8_t> buf(512);
  StunBuilder b(buf);
  TransactionId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = uint8_t(txid_seed + i);
  b.begin(StunMethod::binding, o.cls, id);
  if (o.with_username) b.add_username(o.username);
  b.add_uint32(StunAttr(0xC057), 0x00010032);  // GOOG-NETWORK-INFO (comprehension-optional)
  if (o.controlled) {
    b.add_ice_controlled(0x1122334455667788ull);
  } else {
    b.add_ice_controlling(0x1122334455667788ull);
  }
  b.add_priority(o.priority);
  if (o.use_candidate) b.add_use_candidate();
  if (o.unknown_required) b.add_uint32(StunAttr(0x7777), 1);
  const IntegrityKey key = IntegrityKey::from_password(o.pwd);
  MutBytes msg = b.finish(o.integrity ? &key : nullptr, o.fingerprint);
  return {msg.begin(), msg.end()};
}

class LiteAgentTest : public ::testing::Test {
 protected:
  LiteAgentTest() : agent(kLocal) { agent.set_remote_ufrag(kRemote.ufrag); }

  // Feeds one check; returns the parsed response, if any.
  std::optional<std::vector<uint8_t>> check(const Path& from, const CheckOptions& o, uint8_t seed = 1) {
    auto bytes = make_check(o, seed);
    auto msg = parse_stun(bytes);
    EXPECT_TRUE(msg) << "test built a bad request";
    agent.handle_stun(now, from, *msg);
    auto tx = agent.poll_transmit();
    EXPECT_FALSE(agent.poll_transmit());  // at most one response per request
    if (!tx) return std::nullopt;
    EXPECT_EQ(tx->path, from);
    return std::vector<uint8_t>(tx->data.begin(), tx->data.end());
  }

  std::vector<IceEvent> events() {
    std::vector<IceEvent> out;
    while (auto e = agent.poll_event()) out.push_back(*e);
    return out;
  }

  void advance(Duration d) {
    now += d;
    while (auto t = agent.poll_timeout()) {
      if (*t > now) break;
      agent.handle_timeout(now);
    }
  }

  LiteAgent agent;
  Instant now = from_micros(1'000'000);
  const Path udp_a{0, Address::v4({127, 0, 0, 1}, 50000)};
  const Path udp_b{0, Address::v4({127, 0, 0, 1}, 50001)};
  const Path tcp_c{7, Address::v4({127, 0, 0, 1}, 50002)};
};

TEST_F(LiteAgentTest, Rfc8445_7_3_ValidCheckIsAnsweredWithMappedAddressAndIntegrity) {
  auto resp = check(udp_a, {});
  ASSERT_TRUE(resp);
  auto msg = parse_stun(*resp);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), StunClass::success_response);
  EXPECT_EQ(msg->transaction_id()[0], 1);
  EXPECT_EQ(msg->xor_mapped_address(), udp_a.remote);
  EXPECT_TRUE(check_integrity(*msg, IntegrityKey::from_password(kLocal.pwd)));
  EXPECT_TRUE(check_fingerprint(*msg));
  EXPECT_EQ(agent.state(), IceState::checking);
  EXPECT_TRUE(agent.is_valid_path(udp_a));
  EXPECT_FALSE(agent.is_valid_path(udp_b));
  EXPECT_FALSE(agent.selected_path());
}

TEST_F(LiteAgentTest, UseCandidateNominatesAndRenominationFollows) {
  check(udp_a, {.use_candidate = true});
  auto ev = events();
  ASSERT_EQ(ev.size(), 3u);  // checking, selected path, connected
  EXPECT_EQ(ev[1].type, IceEvent::Type::selected_path_changed);
  EXPECT_EQ(ev[1].selected_path, udp_a);
  EXPECT_EQ(agent.state(), IceState::connected);
  EXPECT_EQ(agent.selected_path(), udp_a);

  check(udp_b, {.use_candidate = true, .priority = 0x7e7f1eff}, 2);  // a better pair is nominated
  ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].selected_path, udp_b);
  EXPECT_EQ(agent.selected_path(), udp_b);
  check(udp_b, {.use_candidate = true, .priority = 0x7e7f1eff}, 3);  // same nomination again: no event
  EXPECT_TRUE(events().empty());
}

// RFC 8445 §8.1.1: with several nominated pairs, the highest-priority one.
// Firefox nominates on every check and its ICE-TCP check may land last; the
// media must stay on UDP, and Firefox's later checks on UDP (without
// USE-CANDIDATE) keep consent fresh (RFC 7675).
TEST_F(LiteAgentTest, Rfc8445_8_1_1_LateLowerPriorityNominationDoesNotWin) {
  check(udp_a, {.use_candidate = true, .priority = 0x7e7f1eff});
  events();
  check(tcp_c, {.use_candidate = true, .priority = 0x6e7f1eff}, 2);  // ICE-TCP, lower priority, later
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(agent.selected_path(), udp_a);
  for (int i = 0; i < 20; ++i) {  // 100 s of consent checks on UDP only
    advance(seconds(5));
    check(udp_a, {.priority = 0x7e7f1eff}, uint8_t(10 + i));
  }
  EXPECT_EQ(agent.state(), IceState::connected);
  EXPECT_EQ(agent.selected_path(), udp_a);
  EXPECT_EQ(agent.counters().reselections, 0u);
}

// Same priorities on both paths: UDP's pair is higher, since our host UDP
// candidate has the higher priority (RFC 6544 §4.2).
TEST_F(LiteAgentTest, EqualPeerPrioritiesPreferOurUdpCandidate) {
  check(tcp_c, {.use_candidate = true});
  check(udp_a, {.use_candidate = true}, 2);
  EXPECT_EQ(agent.selected_path(), udp_a);
  check(tcp_c, {.use_candidate = true}, 3);
  EXPECT_EQ(agent.selected_path(), udp_a);
}

// A network change: the best path goes silent, the peer keeps checking (and
// nominating) another one; media moves there once the silent one is stale.
TEST_F(LiteAgentTest, SilentBestPathGivesWayToAFreshNominatedOne) {
  check(udp_a, {.use_candidate = true, .priority = 0x7e7f1eff});
  check(tcp_c, {.use_candidate = true, .priority = 0x6e7f1eff}, 2);
  events();
  for (int i = 0; i < 3; ++i) {
    advance(seconds(4));
    check(tcp_c, {.use_candidate = true, .priority = 0x6e7f1eff}, uint8_t(20 + i));
  }
  EXPECT_EQ(agent.selected_path(), tcp_c);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].selected_path, tcp_c);
  EXPECT_EQ(agent.counters().reselections, 1u);
  EXPECT_EQ(agent.state(), IceState::connected);
}

TEST_F(LiteAgentTest, BadIntegrityGets401WithoutIntegrityAndChangesNothing) {
  auto resp = check(udp_a, {.pwd = "wrongPasswordWrongPass12", .use_candidate = true});
  ASSERT_TRUE(resp);
  auto msg = parse_stun(*resp);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->message_class(), StunClass::error_response);
  EXPECT_EQ(msg->error_code()->code, 401);
  EXPECT_FALSE(msg->find(StunAttr::message_integrity));
  EXPECT_EQ(agent.state(), IceState::new_);
  EXPECT_FALSE(agent.is_valid_path(udp_a));
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(agent.counters().bad_integrity, 1u);
}

TEST_F(LiteAgentTest, WrongUfragEitherSideGets401) {
  for (const char* user : {"nope:brwU", "sfuU:other", "sfuU", "sfuUbrwU"}) {
    auto resp = check(udp_a, {.username = user});
    ASSERT_TRUE(resp) << user;
    EXPECT_EQ(parse_stun(*resp)->error_code()->code, 401) << user;
  }
  EXPECT_EQ(agent.state(), IceState::new_);
  EXPECT_EQ(agent.counters().bad_username, 4u);
}

TEST_F(LiteAgentTest, MissingFingerprintIsDroppedSilently) {
  EXPECT_FALSE(check(udp_a, {.use_candidate = true, .fingerprint = false}));
  EXPECT_EQ(agent.state(), IceState::new_);
  EXPECT_EQ(agent.counters().bad_fingerprint, 1u);
}

TEST_F(LiteAgentTest, MissingUsernameOrIntegrityGets400) {
  auto a = check(udp_a, {.with_username = false});
  ASSERT_TRUE(a);
  EXPECT_EQ(parse_stun(*a)->error_code()->code, 400);
  auto b = check(udp_a, {.integrity = false});
  ASSERT_TRUE(b);
  EXPECT_EQ(parse_stun(*b)->error_code()->code, 400);
  EXPECT_FALSE(agent.is_valid_path(udp_a));
}

TEST_F(LiteAgentTest, UnknownRequiredAttributeGets420) {
  auto resp = check(udp_a, {.unknown_required = true});
  ASSERT_TRUE(resp);
  auto msg = parse_stun(*resp);
  EXPECT_EQ(msg->error_code()->code, 420);
  auto list = msg->unknown_attributes();
  ASSERT_TRUE(list);
  EXPECT_EQ((*list)[0], StunAttr(0x7777));
  EXPECT_FALSE(agent.is_valid_path(udp_a));
}

TEST_F(LiteAgentTest, ControlledPeerGets487RoleConflict) {
  auto resp = check(udp_a, {.controlled = true});
  ASSERT_TRUE(resp);
  auto msg = parse_stun(*resp);
  EXPECT_EQ(msg->error_code()->code, 487);
  EXPECT_TRUE(check_integrity(*msg, IntegrityKey::from_password(kLocal.pwd)));
  EXPECT_EQ(agent.state(), IceState::new_);
}

TEST_F(LiteAgentTest, IndicationsAndResponsesAreIgnored) {
  EXPECT_FALSE(check(udp_a, {.cls = StunClass::indication}));
  EXPECT_FALSE(check(udp_a, {.cls = StunClass::success_response}));
  EXPECT_EQ(agent.counters().not_requests, 2u);
  EXPECT_EQ(agent.state(), IceState::new_);
}

TEST_F(LiteAgentTest, Rfc7675ConsentRefreshedByChecksThenExpiresAfter30s) {
  check(udp_a, {.use_candidate = true});
  events();
  for (int i = 0; i < 12; ++i) {  // a minute of checks every 5 s
    advance(seconds(5));
    check(udp_a, {}, uint8_t(10 + i));
  }
  EXPECT_EQ(agent.state(), IceState::connected);
  advance(seconds(29));
  EXPECT_EQ(agent.state(), IceState::connected);
  advance(seconds(1));
  EXPECT_EQ(agent.state(), IceState::failed);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].state, IceState::failed);
  EXPECT_FALSE(agent.is_valid_path(udp_a));
  EXPECT_FALSE(agent.poll_timeout());
  EXPECT_FALSE(check(udp_a, {.use_candidate = true}, 99));  // failed is final
}

TEST_F(LiteAgentTest, ChecksOnOtherPathsDoNotRefreshConsent) {
  check(udp_a, {.use_candidate = true});
  for (int i = 0; i < 7; ++i) {
    advance(seconds(5));
    check(udp_b, {}, uint8_t(20 + i));
  }
  EXPECT_EQ(agent.state(), IceState::failed);
}

TEST_F(LiteAgentTest, UnselectedPathsExpire) {
  check(udp_a, {.use_candidate = true});
  check(udp_b, {}, 2);
  EXPECT_EQ(agent.path_count(), 2u);
  for (int i = 0; i < 7; ++i) {
    advance(seconds(5));
    check(udp_a, {}, uint8_t(30 + i));
  }
  EXPECT_EQ(agent.path_count(), 1u);
  EXPECT_FALSE(agent.is_valid_path(udp_b));
  EXPECT_EQ(agent.state(), IceState::connected);
}

TEST_F(LiteAgentTest, PathLimitEvictsOldestButNeverTheSelected) {
  check(udp_a, {.use_candidate = true});
  for (uint16_t i = 0; i < 20; ++i) {
    advance(milliseconds(10));
    check(Path{0, Address::v4({127, 0, 0, 2}, uint16_t(40000 + i))}, {}, uint8_t(40 + i));
  }
  EXPECT_EQ(agent.path_count(), LiteAgent::kMaxPaths);
  EXPECT_TRUE(agent.is_valid_path(udp_a));
  EXPECT_EQ(agent.selected_path(), udp_a);
  EXPECT_GT(agent.counters().path_limit_evictions, 0u);
}

TEST_F(LiteAgentTest, RestartRefusesOldCredentials) {
  check(udp_a, {.use_candidate = true});
  const IceCredentials fresh{"newU", "newPasswordNewPassword12"};
  agent.restart(fresh);
  agent.set_remote_ufrag("brw2");
  auto old = check(udp_a, {}, 5);
  ASSERT_TRUE(old);
  EXPECT_EQ(parse_stun(*old)->error_code()->code, 401);
  EXPECT_EQ(agent.selected_path(), udp_a);  // media keeps flowing meanwhile
  auto ok = check(udp_b, {.username = "newU:brw2", .pwd = fresh.pwd, .use_candidate = true}, 6);
  ASSERT_TRUE(ok);
  EXPECT_EQ(parse_stun(*ok)->message_class(), StunClass::success_response);
  EXPECT_EQ(agent.selected_path(), udp_b);
}

TEST_F(LiteAgentTest, ClosedTcpSelectedPathStillFailsOnConsentDeadline) {
  check(tcp_c, {.use_candidate = true});
  agent.forget_tcp(tcp_c.tcp);
  EXPECT_FALSE(agent.selected_path());
  EXPECT_FALSE(agent.is_valid_path(tcp_c));
  advance(seconds(30));
  EXPECT_EQ(agent.state(), IceState::failed);
}

TEST(IceCredentials, GeneratedAreIceCharsOfRfcLength) {
  const auto a = IceCredentials::generate();
  const auto b = IceCredentials::generate();
  EXPECT_GE(a.ufrag.size(), 4u);
  EXPECT_GE(a.pwd.size(), 22u);
  EXPECT_NE(a.pwd, b.pwd);
  for (char c : a.ufrag + a.pwd) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') << c;
}

TEST(LocalUfrag, SplitsUsername) {
  auto bytes = make_check({});
  auto msg = parse_stun(bytes);
  ASSERT_TRUE(msg);
  EXPECT_EQ(local_ufrag_of(*msg), "sfuU");
  auto no_user = make_check({.with_username = false});
  EXPECT_FALSE(local_ufrag_of(*parse_stun(no_user)));
}

}  // namespace
}  // namespace sfu::ice
