// A Redis client for the control thread (cluster mode's node registry,
// room directory and pub/sub): hiredis' asynchronous API driven by the
// control thread's io_context. hiredis parses and buffers; Asio waits on
// the socket. The adapter maps hiredis' event hooks one to one:
//
//   addRead / delRead   ──► want_read_  ──► async_wait(wait_read)  ──► redisAsyncHandleRead
//   addWrite / delWrite ──► want_write_ ──► async_wait(wait_write) ──► redisAsyncHandleWrite
//   cleanup             ──► release the descriptor (hiredis closes the fd)
//
// Never blocks the thread: the host name is resolved with Asio first, and
// hiredis connects non-blocking to the address. Every command has a
// timeout (a slow or stuck Redis fails the call, it never hangs it); a lost
// connection fails what was pending and reconnects with backoff (0.5 s
// doubling to 8 s, with jitter), then authenticates (AUTH), selects the
// database and re-subscribes. Pub/sub uses its own connection, as Redis
// requires. Media workers never touch this.
//
// Lifetime: each connection is shared by the Asio waits on its socket and
// lives until the last one completes; hiredis' context is freed only by
// hiredis (on disconnect) or by close(), never from inside its callbacks.
// The client's callbacks (`done`, message handlers) run on the io_context
// thread and never after stop() or destruction.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "server/metrics.hpp"

struct redisReply;  // hiredis

namespace sfu::signaling {

// redis://[[user]:password@]host[:port][/db] (RFC 3986 userinfo, percent-
// decoded; IPv6 hosts in brackets). Port 6379 and db 0 by default.
struct RedisUrl {
  std::string host;
  uint16_t port = 6379;
  std::string username;  // Redis 6 ACL user; empty: AUTH with the password only
  std::string password;
  int db = 0;
};
Result<RedisUrl, std::string> parse_redis_url(std::string_view url);

// A reply. Errors of Redis itself ("-ERR ...") are values of type error;
// the Result of a command fails only when no reply came (timeout, not
// connected, connection lost, stopped).
struct RedisValue {
  enum class Type { nil, integer, string, status, error, array };
  Type type = Type::nil;
  int64_t integer = 0;
  std::string str;  // string, status, error
  std::vector<RedisValue> elements;
  bool is_error() const { return type == Type::error; }
};
using RedisReply = Result<RedisValue, std::string>;

// Reconnect delays: starts at `min`, doubles up to `max`; each delay is
// drawn uniformly from [delay / 2, delay] so nodes that lost Redis
// together do not come back in step.
class Backoff {
 public:
  using Duration = std::chrono::steady_clock::duration;
  Backoff(Duration min, Duration max) : min_(min), max_(max), next_(min) {}
  Duration next(std::mt19937_64& rng);
  void reset() { next_ = min_; }

 private:
  Duration min_, max_, next_;
};

struct RedisCounters {
  uint64_t commands = 0;       // sent to Redis
  uint64_t error_replies = 0;  // "-ERR ..." answers
  uint64_t timeouts = 0;
  uint64_t failed = 0;  // not connected, connection lost or stopped before a reply
  uint64_t connects = 0, disconnects = 0, connect_failures = 0, auth_failures = 0;
  uint64_t messages = 0;  // pub/sub messages delivered
  server::Histogram round_trip{server::kLatencyBoundsMicros};  // microseconds, replies only
};

class RedisClient {
 public:
  using Duration = std::chrono::steady_clock::duration;
  struct Options {
    Duration command_timeout = std::chrono::seconds(1);
    Duration connect_timeout = std::chrono::seconds(2);
    Duration backoff_min = std::chrono::milliseconds(500);
    Duration backoff_max = std::chrono::seconds(8);
  };
  using Done = std::function<void(RedisReply)>;
  using MessageHandler = std::function<void(const std::string& channel, const std::string& message)>;

  RedisClient(boost::asio::io_context& io, RedisUrl url, Options options);
  RedisClient(boost::asio::io_context& io, RedisUrl url) : RedisClient(io, std::move(url), Options{}) {}
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Starts connecting (and reconnecting whenever the connection is lost).
  void start();
  // Closes both connections; pending commands fail with "stopped".
  void stop();

  // Connected, authenticated and on the configured database.
  bool ready() const { return ready_; }
  // The pub/sub connection is up (or not needed: nothing subscribed).
  bool pubsub_ready() const { return !sub_active_ || sub_ready_; }
  // Adds a listener, called with true when ready, false when the
  // connection is lost (listeners run in the order they were added).
  void on_ready_changed(std::function<void(bool)> f) { on_ready_.push_back(std::move(f)); }

  // Sends one command (binary-safe arguments). `done` runs exactly once, on
  // the io_context thread, never from inside this call.
  void command(std::vector<std::string> args, Done done);
  // Messages published on `channel` from now on (and again after every
  // reconnect). One handler per channel; subscribing again replaces it.
  // `subscribed` runs each time Redis confirms the subscription (the first
  // time, and after every reconnect: messages published before that moment
  // were not delivered, so a caller resynchronises there).
  void subscribe(const std::string& channel, MessageHandler handler, std::function<void()> subscribed = {});
  void unsubscribe(const std::string& channel);
  // Redis has confirmed the subscription on the current connection.
  bool subscribed(const std::string& channel) const;

  const RedisCounters& counters() const { return counters_; }

 private:
  class Connection;
  struct Pending {
    Done done;
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::chrono::steady_clock::time_point sent;
  };

  void connect(bool pubsub);
  void on_connected(bool pubsub, std::shared_ptr<Connection> c);
  void on_lost(bool pubsub);
  void set_ready(bool ready);
  void finish(uint64_t id, RedisReply reply);
  void resubscribe();
  void retry_later(bool pubsub);
  void drop_and_retry(bool pubsub, std::shared_ptr<Connection> c);

  boost::asio::io_context& io_;
  RedisUrl url_;
  Options options_;
  boost::asio::ip::tcp::resolver resolver_;
  std::shared_ptr<Connection> cmd_, sub_;
  boost::asio::steady_timer cmd_retry_, sub_retry_;
  Backoff cmd_backoff_, sub_backoff_;
  std::mt19937_64 rng_;
  bool started_ = false, ready_ = false, sub_ready_ = false;
  bool sub_active_ = false;  // the pub/sub connection is wanted (a channel was subscribed)
  std::shared_ptr<std::function<void(const ::redisReply*)>> sub_handler_;
  std::vector<std::function<void(bool)>> on_ready_;
  uint64_t next_id_ = 1;
  int consecutive_timeouts_ = 0;
  std::map<uint64_t, Pending> pending_;
  struct Channel {
    MessageHandler on_message;
    std::function<void()> on_subscribed;
    bool confirmed = false;
  };
  std::map<std::string, Channel> channels_;
  // UNSUBSCRIBE sent, confirmation not seen: a SUBSCRIBE for the channel
  // waits for it (hiredis drops the channel's callback on that
  // confirmation, which would orphan a SUBSCRIBE sent in between).
  std::set<std::string> unsubscribing_;
  RedisCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sfu::signaling
