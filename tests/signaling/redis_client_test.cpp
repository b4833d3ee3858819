// The hiredis–Asio Redis client (signaling/redis_client.hpp) against a real
// redis-server (Debian's, installed by deploy/install-deps.sh) that each
// test starts on a free loopback port and kills at the end.
#include "signaling/redis_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sfu::signaling {
namespace {

using namespace std::chrono_literals;

uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool can_connect(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// A redis-server child on 127.0.0.1:port, no persistence.
class RedisServer {
 public:
  explicit RedisServer(uint16_t port, std::string password = {}) : port_(port), password_(std::move(password)) {}
  ~RedisServer() { kill(SIGKILL); }
  void start() {
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<std::string> args{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--loglevel", "warning"};
      if (!password_.empty()) args.insert(args.end(), {"--requirepass", password_});
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("redis-server", argv.data());
      _exit(127);
    }
    for (int i = 0; i < 500 && !can_connect(port_); ++i) usleep(10'000);
    ASSERT_TRUE(can_connect(port_)) << "redis-server did not start on " << port_;
  }
  void kill(int signo) {
    if (pid_ <= 0) return;
    ::kill(pid_, signo);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  uint16_t port_;
  std::string password_;
  pid_t pid_ = -1;
};

RedisUrl url_for(uint16_t port) {
  RedisUrl u;
  u.host = "127.0.0.1";
  u.port = port;
  return u;
}

RedisClient::Options fast() {
  RedisClient::Options o;
  o.command_timeout = 500ms;
  o.connect_timeout = 500ms;
  o.backoff_min = 50ms;
  o.backoff_max = 200ms;
  return o;
}

// Runs the loop until `pred` holds or `limit` passes; returns pred().
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(5ms);
  }
  return pred();
}

// One command, run to its reply.
std::optional<RedisReply> call(boost::asio::io_context& io, RedisClient& c, std::vector<std::string> args) {
  std::optional<RedisReply> out;
  c.command(std::move(args), [&](RedisReply r) { out = std::move(r); });
  run_until(io, [&] { return out.has_value(); });
  return out;
}

TEST(RedisUrl, ParsesEveryPart) {
  auto u = parse_redis_url("redis://ops:s%40cret@10.0.0.5:6380/3");
  ASSERT_TRUE(u) << u.error();
  EXPECT_EQ(u->host, "10.0.0.5");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->username, "ops");
  EXPECT_EQ(u->password, "s@cret");
  EXPECT_EQ(u->db, 3);
  auto p = parse_redis_url("redis://:only-password@redis");
  ASSERT_TRUE(p);
  EXPECT_EQ((std::tuple{p->host, p->port, p->username, p->password, p->db}),
            (std::tuple{std::string("redis"), uint16_t(6379), std::string(), std::string("only-password"), 0}));
  auto v6 = parse_redis_url("redis://[::1]:7000");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
}

TEST(RedisUrl, RefusesWhatItCannotUse) {
  for (const char* bad : {"http://host", "redis://", "redis://:pw@", "redis://host:0", "redis://host:70000",
                          "redis://host:12a", "redis://host/x", "redis://[::1", "redis://u:%zz@host", "redis://host:"})
    EXPECT_FALSE(parse_redis_url(bad)) << bad;
}

TEST(Backoff, DoublesToTheCeilingWithJitterBelowEachStep) {
  Backoff b(500ms, 8s);
  std::mt19937_64 rng(7);
  std::chrono::milliseconds step = 500ms;
  for (int i = 0; i < 8; ++i) {
    const auto d = b.next(rng);
    EXPECT_GE(d, step / 2) << i;
    EXPECT_LE(d, step) << i;
    step = std::min<std::chrono::milliseconds>(step * 2, 8s);
  }
  b.reset();
  EXPECT_LE(b.next(rng), 500ms);
}

TEST(RedisClient, CommandsRepliesAndErrors) {
  const uint16_t port = free_port();
  RedisServer server(port);
  server.start();
  boost::asio::io_context io;
  RedisClient c(io, url_for(port), fast());
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.ready(); }));

  const std::string binary("a\0b\r\nc", 6);
  auto set = call(io, c, {"SET", "k", binary});
  ASSERT_TRUE(set && *set);
  EXPECT_EQ((*set)->type, RedisValue::Type::status);
  auto get = call(io, c, {"GET", "k"});
  ASSERT_TRUE(get && *get);
  EXPECT_EQ((*get)->str, binary);
  auto nil = call(io, c, {"GET", "missing"});
  EXPECT_EQ((*nil)->type, RedisValue::Type::nil);
  auto n = call(io, c, {"INCRBY", "n", "41"});
  EXPECT_EQ((*n)->integer, 41);
  auto err = call(io, c, {"INCR", "k"});  // not an integer: Redis answers an error, the call itself succeeds
  ASSERT_TRUE(err && *err);
  EXPECT_TRUE((*err)->is_error());
  auto arr = call(io, c, {"MGET", "n", "missing"});
  ASSERT_EQ((*arr)->elements.size(), 2u);
  EXPECT_EQ((*arr)->elements[0].str, "41");
  EXPECT_EQ((*arr)->elements[1].type, RedisValue::Type::nil);
  EXPECT_EQ(c.counters().commands, 6u);
  EXPECT_EQ(c.counters().error_replies, 1u);
  EXPECT_EQ(c.counters().round_trip.count(), 6u);
}

TEST(RedisClient, EveryCallHasATimeoutAndTheConnectionSurvivesIt) {
  const uint16_t port = free_port();
  RedisServer server(port);
  server.start();
  boost::asio::io_context io;
  auto o = fast();
  o.command_timeout = 100ms;
  RedisClient c(io, url_for(port), o);
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.ready(); }));
  const auto t0 = std::chrono::steady_clock::now();
  auto slow = call(io, c, {"BLPOP", "nothing", "1"});  // the server answers after 1 s
  ASSERT_TRUE(slow);
  ASSERT_FALSE(*slow);
  EXPECT_EQ(slow->error(), "timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 600ms);
  EXPECT_EQ(c.counters().timeouts, 1u);
  // The late reply is dropped; the next command gets its own reply.
  run_until(io, [] { return false; }, 1200ms);
  auto ping = call(io, c, {"ECHO", "after"});
  ASSERT_TRUE(ping && *ping);
  EXPECT_EQ((*ping)->str, "after");
}

TEST(RedisClient, AuthenticatesAndSelectsTheDatabase) {
  const uint16_t port = free_port();
  RedisServer server(port, "open-sesame-0123");
  server.start();
  boost::asio::io_context io;
  auto u = parse_redis_url("redis://:open-sesame-0123@127.0.0.1:" + std::to_string(port) + "/5");
  ASSERT_TRUE(u);
  RedisClient c(io, *u, fast());
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.ready(); }));
  ASSERT_TRUE(*call(io, c, {"SET", "in5", "x"}));
  auto db = call(io, c, {"CLIENT", "INFO"});
  ASSERT_TRUE(db && *db);
  EXPECT_NE((*db)->str.find(" db=5 "), std::string::npos) << (*db)->str;

  // A wrong password is never ready: refused, logged, retried with backoff.
  auto wrong = *u;
  wrong.password = "wrong-password-000";
  RedisClient w(io, wrong, fast());
  w.start();
  EXPECT_TRUE(run_until(io, [&] { return w.counters().auth_failures >= 2; }, 3000ms));
  EXPECT_FALSE(w.ready());
  auto refused = call(io, w, {"PING"});
  ASSERT_TRUE(refused);
  EXPECT_FALSE(*refused);
  EXPECT_EQ(refused->error(), "not connected");
}

TEST(RedisClient, PubSubDeliversMessages) {
  const uint16_t port = free_port();
  RedisServer server(port);
  server.start();
  boost::asio::io_context io;
  RedisClient c(io, url_for(port), fast());
  std::vector<std::pair<std::string, std::string>> got;
  c.subscribe("room:a", [&](const std::string& ch, const std::string& m) { got.emplace_back(ch, m); });
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.ready(); }));
  // Until the subscription is in place PUBLISH reaches no one: publish until it does.
  ASSERT_TRUE(run_until(io, [&] {
    auto r = call(io, c, {"PUBLISH", "room:a", "hello"});
    return r && *r && (*r)->integer == 1;
  }));
  const std::string binary("\0\xff\r\n", 4);
  ASSERT_TRUE(*call(io, c, {"PUBLISH", "room:a", binary}));
  ASSERT_TRUE(*call(io, c, {"PUBLISH", "room:b", "not for us"}));
  ASSERT_TRUE(run_until(io, [&] { return got.size() >= 2 && got.back().second == binary; }));
  EXPECT_EQ(got.front(), (std::pair<std::string, std::string>{"room:a", "hello"}));
  for (const auto& [ch, m] : got) EXPECT_EQ(ch, "room:a");
  // A second channel on the live connection.
  c.subscribe("room:b", [&](const std::string& ch, const std::string& m) { got.emplace_back(ch, m); });
  ASSERT_TRUE(run_until(io, [&] {
    auto r = call(io, c, {"PUBLISH", "room:b", "b!"});
    return r && *r && (*r)->integer == 1;
  }));
  ASSERT_TRUE(run_until(io, [&] { return got.back() == std::pair<std::string, std::string>{"room:b", "b!"}; }));
}

TEST(RedisClient, UnsubscribingTwiceOrAnUnknownChannelIsHarmless) {
  const uint16_t port = free_port();
  RedisServer server(port);
  server.start();
  boost::asio::io_context io;
  RedisClient c(io, url_for(port), fast());
  int got = 0;
  c.subscribe("x", [&](const std::string&, const std::string&) { ++got; });
  c.subscribe("y", [&](const std::string&, const std::string&) { ++got; });
  c.start();
  ASSERT_TRUE(run_until(io, [&] {
    auto r = call(io, c, {"PUBLISH", "x", "1"});
    return r && *r && (*r)->integer == 1;
  }));
  c.unsubscribe("x");
  c.unsubscribe("x");
  c.unsubscribe("never-subscribed");
  ASSERT_TRUE(run_until(io, [&] {
    auto r = call(io, c, {"PUBLISH", "x", "2"});
    return r && *r && (*r)->integer == 0;
  }));
  auto still = call(io, c, {"PUBLISH", "y", "3"});
  ASSERT_TRUE(still && *still);
  EXPECT_EQ((*still)->integer, 1);
  EXPECT_TRUE(run_until(io, [&] { return got >= 2; }));
}

// `subscribed` runs when Redis confirms, and again after a reconnect; a
// channel unsubscribed and wanted again at once (before Redis confirmed the
// UNSUBSCRIBE) still gets its messages.
TEST(RedisClient, SubscriptionsAreConfirmedAndSurviveUnsubscribeResubscribe) {
  const uint16_t port = free_port();
  RedisServer server(port);
  server.start();
  boost::asio::io_context io;
  RedisClient c(io, url_for(port), fast());
  int confirmations = 0, messages = 0;
  auto on_message = [&](const std::string&, const std::string&) { ++messages; };
  c.subscribe("room", on_message, [&] { ++confirmations; });
  EXPECT_FALSE(c.subscribed("room"));
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return confirmations == 1; }));
  EXPECT_TRUE(c.subscribed("room"));
  // Confirmed means delivered: the first PUBLISH after it reaches us.
  auto r = call(io, c, {"PUBLISH", "room", "1"});
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->integer, 1);
  ASSERT_TRUE(run_until(io, [&] { return messages == 1; }));

  for (int round = 0; round < 20; ++round) {
    c.unsubscribe("room");
    c.subscribe("room", on_message, [&] { ++confirmations; });
  }
  ASSERT_TRUE(run_until(io, [&] { return c.subscribed("room"); }));
  r = call(io, c, {"PUBLISH", "room", "2"});
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->integer, 1);
  ASSERT_TRUE(run_until(io, [&] { return messages == 2; }));

  const int before = confirmations;
  server.kill(SIGKILL);
  ASSERT_TRUE(run_until(io, [&] { return !c.subscribed("room"); }));
  server.start();
  ASSERT_TRUE(run_until(io, [&] { return confirmations == before + 1; }));
  EXPECT_TRUE(c.subscribed("room"));
}

TEST(RedisClient, AConnectionThatStopsAnsweringIsReplaced) {
  const uint16_t port = free_port();
  RedisServer server(port);
  server.start();
  boost::asio::io_context io;
  auto o = fast();
  o.command_timeout = 100ms;
  RedisClient c(io, url_for(port), o);
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.ready(); }));
  int failed = 0;
  for (int i = 0; i < 3; ++i) c.command({"BLPOP", "nothing", "2"}, [&](RedisReply r) { failed += !r; });
  ASSERT_TRUE(run_until(io, [&] { return failed == 3; }));
  EXPECT_EQ(c.counters().timeouts, 3u);
  EXPECT_GE(c.counters().disconnects, 1u);  // dropped after three timeouts in a row
  ASSERT_TRUE(run_until(io, [&] { return c.ready(); }));
  auto echo = call(io, c, {"ECHO", "fresh"});
  ASSERT_TRUE(echo && *echo);
  EXPECT_EQ((*echo)->str, "fresh");
}

TEST(RedisClient, ReconnectsAndResubscribesAfterRedisRestarts) {
  const uint16_t port = free_port();
  RedisServer server(port);
  server.start();
  boost::asio::io_context io;
  RedisClient c(io, url_for(port), fast());
  std::vector<bool> states;
  c.on_ready_changed([&](bool r) { states.push_back(r); });
  int messages = 0;
  c.subscribe("ch", [&](const std::string&, const std::string&) { ++messages; });
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.ready(); }));

  server.kill(SIGKILL);
  ASSERT_TRUE(run_until(io, [&] { return !c.ready(); }));
  auto down = call(io, c, {"PING"});
  ASSERT_TRUE(down);
  EXPECT_FALSE(*down);  // fails at once, never hangs
  run_until(io, [] { return false; }, 300ms);  // a few failed reconnects
  server.start();
  ASSERT_TRUE(run_until(io, [&] { return c.ready(); }));
  EXPECT_EQ(states, (std::vector<bool>{true, false, true}));
  EXPECT_GE(c.counters().disconnects, 1u);
  EXPECT_GE(c.counters().connect_failures, 1u);
  ASSERT_TRUE(run_until(io, [&] {
    auto r = call(io, c, {"PUBLISH", "ch", "again"});
    return r && *r && (*r)->integer == 1;
  }));
  EXPECT_TRUE(run_until(io, [&] { return messages >= 1; }));
}

TEST(RedisClient, UnreachableAtStartThenServed) {
  const uint16_t port = free_port();
  boost::asio::io_context io;
  RedisClient c(io, url_for(port), fast());
  c.start();
  run_until(io, [] { return false; }, 300ms);
  EXPECT_FALSE(c.ready());
  EXPECT_GE(c.counters().connect_failures, 1u);
  auto r = call(io, c, {"PING"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error(), "not connected");
  RedisServer server(port);
  server.start();
  EXPECT_TRUE(run_until(io, [&] { return c.ready(); }));
}

TEST(RedisClient, StopFailsWhatIsPendingAndCallsNothingAfter) {
  const uint16_t port = free_port();
  RedisServer server(port);
  server.start();
  boost::asio::io_context io;
  auto o = fast();
  o.command_timeout = 5s;
  std::optional<RedisReply> out;
  {
    RedisClient c(io, url_for(port), o);
    c.start();
    ASSERT_TRUE(run_until(io, [&] { return c.ready(); }));
    c.command({"BLPOP", "nothing", "3"}, [&](RedisReply r) { out = std::move(r); });
    io.restart();
    io.run_for(50ms);
    c.stop();
  }  // destroyed with the reply still owed by the server
  ASSERT_TRUE(run_until(io, [&] { return out.has_value(); }, 1000ms));
  EXPECT_EQ(out->error(), "stopped");
}

}  // namespace
}  // namespace sfu::signaling
