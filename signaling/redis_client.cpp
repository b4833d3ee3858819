// The Redis client (redis_client.hpp): the hiredis–Asio adapter, then the
// client's connection management, commands and pub/sub.
#include "signaling/redis_client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "common/log.hpp"

namespace sfu::signaling {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// ---- URL, backoff ----------------------------------------------------------

namespace {

std::string percent_decode(std::string_view s, bool& ok) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    auto hex = [](char c) {
      return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    };
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
      ok = false;
      return {};
    }
    out += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
    i += 2;
  }
  return out;
}

}  // namespace

Result<RedisUrl, std::string> parse_redis_url(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return fail(std::string("expected redis://[[user]:password@]host[:port][/db]"));
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl out;
  bool ok = true;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      out.password = percent_decode(userinfo, ok);  // redis://secret@host: the password alone
    } else {
      out.username = percent_decode(userinfo.substr(0, colon), ok);
      out.password = percent_decode(userinfo.substr(colon + 1), ok);
    }
    if (!ok) return fail(std::string("bad percent-escape in the user or password"));
  }
  std::string_view hostport = rest.substr(0, rest.find('/'));
  std::string_view path = rest.size() > hostport.size() ? rest.substr(hostport.size() + 1) : std::string_view{};
  std::string_view port_text;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return fail(std::string("unclosed [ in the host"));
    out.host = std::string(hostport.substr(1, close - 1));
    const std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return fail(std::string("expected :port after the bracketed host"));
      port_text = after.substr(1);
    }
  } else {
    const auto colon = hostport.rfind(':');
    out.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port_text = hostport.substr(colon + 1);
  }
  if (out.host.empty()) return fail(std::string("no host"));
  if (!port_text.empty() || hostport.ends_with(':')) {
    unsigned port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) return fail(std::string("the port is not a number 1-65535"));
      port = port * 10 + unsigned(c - '0');
    }
    if (port == 0 || port > 65535) return fail(std::string("the port is not a number 1-65535"));
    out.port = uint16_t(port);
  }
  if (!path.empty()) {
    int db = 0;
    for (char c : path) {
      if (c < '0' || c > '9' || db > 1'000'000) return fail(std::string("the database is not a number"));
      db = db * 10 + (c - '0');
    }
    out.db = db;
  }
  return out;
}

Backoff::Duration Backoff::next(std::mt19937_64& rng) {
  const Duration d = next_;
  next_ = std::min(max_, next_ * 2);
  std::uniform_int_distribution<int64_t> jitter(d.count() / 2, d.count());
  return Duration(jitter(rng));
}

// ---- one hiredis connection on Asio ----------------------------------------

namespace {

RedisValue convert(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_STRING: v.type = RedisValue::Type::string, v.str.assign(r->str, r->len); break;
    case REDIS_REPLY_STATUS: v.type = RedisValue::Type::status, v.str.assign(r->str, r->len); break;
    case REDIS_REPLY_ERROR: v.type = RedisValue::Type::error, v.str.assign(r->str, r->len); break;
    case REDIS_REPLY_INTEGER: v.type = RedisValue::Type::integer, v.integer = r->integer; break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::array;
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(convert(r->element[i]));
      break;
    default: v.type = RedisValue::Type::nil; break;
  }
  return v;
}

}  // namespace

class RedisClient::Connection : public std::enable_shared_from_this<Connection> {
 public:
  using ReplyFn = std::function<void(const redisReply*)>;  // nullptr: no reply (connection gone)

  explicit Connection(asio::io_context& io) : io_(io), sd_(io) {}
  ~Connection() { close(); }

  // Non-blocking connect to a numeric address. `on_connect(ok)` once;
  // `on_down()` once if a connection that came up goes down. False (and
  // nothing will be called) when hiredis cannot even start.
  bool open(const std::string& ip, uint16_t port, std::function<void(bool)> on_connect, std::function<void()> on_down) {
    ac_ = redisAsyncConnect(ip.c_str(), port);
    if (!ac_) return false;
    if (ac_->err) {
      redisAsyncFree(ac_);
      ac_ = nullptr;
      return false;
    }
    on_connect_ = std::move(on_connect);
    on_down_ = std::move(on_down);
    ac_->data = this;
    ac_->ev.data = this;
    ac_->ev.addRead = [](void* p) { static_cast<Connection*>(p)->watch_read(true); };
    ac_->ev.delRead = [](void* p) { static_cast<Connection*>(p)->want_read_ = false; };
    ac_->ev.addWrite = [](void* p) { static_cast<Connection*>(p)->watch_write(true); };
    ac_->ev.delWrite = [](void* p) { static_cast<Connection*>(p)->want_write_ = false; };
    ac_->ev.cleanup = [](void* p) { static_cast<Connection*>(p)->on_cleanup(); };
    boost::system::error_code ec;
    sd_.assign(ac_->c.fd, ec);
    redisAsyncSetConnectCallback(ac_, [](const redisAsyncContext* ac, int status) {
      auto* self = static_cast<Connection*>(ac->data);
      self->connected_ = status == REDIS_OK;
      if (auto f = std::exchange(self->on_connect_, nullptr)) f(status == REDIS_OK);
    });
    redisAsyncSetDisconnectCallback(ac_, [](const redisAsyncContext* ac, int) {
      auto* self = static_cast<Connection*>(ac->data);
      self->connected_ = false;
      if (auto f = std::exchange(self->on_down_, nullptr)) f();
    });
    // hiredis asked for a write watch (connect completion) before the hooks
    // were set, in some versions: ask for it again.
    watch_write(true);
    return true;
  }

  bool connected() const { return connected_ && ac_; }
  // Set by the client once AUTH/SELECT (or SUBSCRIBE) went through: the
  // setup timer stops waiting.
  bool set_up = false;
  // hiredis async does not enable TCP keepalive: without it a connection
  // whose peer vanished (host down, NAT dropped an idle pub/sub socket)
  // would look alive until the kernel gives up.
  void keepalive() {
    if (ac_) redisEnableKeepAlive(&ac_->c);
  }

  // Sends a command; `cb` runs exactly once (nullptr reply when the
  // connection went away first). Runs `cb` via post when it cannot send.
  void send(const std::vector<std::string>& args, ReplyFn cb) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) argv.push_back(a.data()), lens.push_back(a.size());
    auto* holder = new ReplyFn(std::move(cb));
    const int rc = ac_ ? redisAsyncCommandArgv(
                             ac_,
                             [](redisAsyncContext*, void* reply, void* priv) {
                               std::unique_ptr<ReplyFn> f(static_cast<ReplyFn*>(priv));
                               (*f)(static_cast<const redisReply*>(reply));
                             },
                             holder, int(argv.size()), argv.data(), lens.data())
                       : REDIS_ERR;
    if (rc != REDIS_OK) {
      std::unique_ptr<ReplyFn> f(holder);
      asio::post(io_, [f = std::move(*f)] { f(nullptr); });
    }
  }

  // SUBSCRIBE: every reply on the channel (the confirmation, then each
  // message) goes to `on_message`; nullptr once the connection is gone.
  void subscribe(const std::string& channel, const ReplyFn* on_message) {
    if (!ac_) return;
    const char* argv[2] = {"SUBSCRIBE", channel.c_str()};
    const size_t lens[2] = {9, channel.size()};
    redisAsyncCommandArgv(
        ac_,
        [](redisAsyncContext*, void* reply, void* priv) {
          (*static_cast<const ReplyFn*>(priv))(static_cast<const redisReply*>(reply));
        },
        const_cast<ReplyFn*>(on_message), 2, argv, lens);
  }

  void unsubscribe(const std::string& channel) {
    if (!ac_) return;
    const char* argv[2] = {"UNSUBSCRIBE", channel.c_str()};
    const size_t lens[2] = {11, channel.size()};
    redisAsyncCommandArgv(ac_, nullptr, nullptr, 2, argv, lens);
  }

  // Frees the hiredis context (fails what is pending). Not from inside a
  // hiredis callback.
  void close() {
    on_connect_ = nullptr;
    on_down_ = nullptr;
    if (ac_) redisAsyncFree(std::exchange(ac_, nullptr));  // cleanup hook releases the descriptor
  }

 private:
  void watch_read(bool want) {
    want_read_ = want;
    if (!want_read_ || reading_ || !ac_) return;
    reading_ = true;
    sd_.async_wait(asio::posix::stream_descriptor::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      self->reading_ = false;
      if (ec || !self->ac_ || !self->want_read_) return;
      redisAsyncHandleRead(self->ac_);  // may free the context (cleanup clears ac_)
      self->watch_read(self->want_read_);
    });
  }
  void watch_write(bool want) {
    want_write_ = want;
    if (!want_write_ || writing_ || !ac_) return;
    writing_ = true;
    sd_.async_wait(asio::posix::stream_descriptor::wait_write, [self = shared_from_this()](boost::system::error_code ec) {
      self->writing_ = false;
      if (ec || !self->ac_ || !self->want_write_) return;
      redisAsyncHandleWrite(self->ac_);
      self->watch_write(self->want_write_);
    });
  }
  // hiredis is freeing the context and will close the fd itself.
  void on_cleanup() {
    ac_ = nullptr;
    want_read_ = want_write_ = false;
    connected_ = false;
    if (sd_.is_open()) sd_.release();  // cancels the waits without closing the fd
  }

  asio::io_context& io_;
  asio::posix::stream_descriptor sd_;
  redisAsyncContext* ac_ = nullptr;
  bool want_read_ = false, want_write_ = false, reading_ = false, writing_ = false, connected_ = false;
  std::function<void(bool)> on_connect_;
  std::function<void()> on_down_;
};

// ---- the client --------------------------------------------------------------

RedisClient::RedisClient(asio::io_context& io, RedisUrl url, Options options)
    : io_(io),
      url_(std::move(url)),
      options_(options),
      resolver_(io),
      cmd_retry_(io),
      sub_retry_(io),
      cmd_backoff_(options.backoff_min, options.backoff_max),
      sub_backoff_(options.backoff_min, options.backoff_max),
      rng_(std::random_device{}()) {}

RedisClient::~RedisClient() { stop(); }

void RedisClient::start() {
  if (started_) return;
  started_ = true;
  connect(false);
  if (!channels_.empty()) {
    sub_active_ = true;
    connect(true);
  }
}

void RedisClient::stop() {
  if (!started_) return;
  started_ = false;
  *alive_ = false;
  alive_ = std::make_shared<bool>(true);
  resolver_.cancel();
  cmd_retry_.cancel();
  sub_retry_.cancel();
  if (cmd_) std::exchange(cmd_, nullptr)->close();
  if (sub_) std::exchange(sub_, nullptr)->close();
  ready_ = sub_ready_ = sub_active_ = false;
  unsubscribing_.clear();
  for (auto& [channel, c] : channels_) c.confirmed = false;
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, p] : pending) {
    ++counters_.failed;
    asio::post(io_, [done = std::move(p.done)] { done(fail(std::string("stopped"))); });
  }
}

// Resolves, connects, then AUTH and SELECT (or SUBSCRIBE for pub/sub).
void RedisClient::connect(bool pubsub) {
  resolver_.async_resolve(
      url_.host, std::to_string(url_.port),
      [this, pubsub, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec,
                                                           asio::ip::tcp::resolver::results_type results) {
        if (alive.expired() || !started_) return;
        if (ec || results.empty()) {
          ++counters_.connect_failures;
          log::warn("redis unreachable", {{"host", url_.host}, {"error", ec ? ec.message() : "no address"}});
          return retry_later(pubsub);
        }
        const auto endpoint = results.begin()->endpoint();
        auto c = std::make_shared<Connection>(io_);
        auto timeout = std::make_shared<asio::steady_timer>(io_, options_.connect_timeout);
        const bool opened = c->open(
            endpoint.address().to_string(), endpoint.port(),
            [this, pubsub, c, timeout, alive](bool ok) {
              timeout->cancel();
              if (alive.expired() || !started_) return;
              if (!ok) {
                ++counters_.connect_failures;
                log::warn("redis connect failed", {{"host", url_.host}, {"port", url_.port}});
                // hiredis frees the context after this callback.
                asio::post(io_, [this, pubsub, alive] {
                  if (!alive.expired() && started_) retry_later(pubsub);
                });
                return;
              }
              on_connected(pubsub, c);
            },
            [this, pubsub, alive, weak = std::weak_ptr<Connection>(c)] {
              if (!alive.expired() && started_) asio::post(io_, [this, pubsub, alive, weak] {
                if (alive.expired() || !started_) return;
                const auto& current = pubsub ? sub_ : cmd_;
                if (current && current == weak.lock()) on_lost(pubsub);
              });
            });
        if (!opened) {
          ++counters_.connect_failures;
          return retry_later(pubsub);
        }
        (pubsub ? sub_ : cmd_) = c;
        timeout->async_wait([this, c, pubsub, alive](boost::system::error_code tec) {
          if (tec || alive.expired() || !started_ || c->set_up) return;
          ++counters_.connect_failures;
          log::warn("redis connect or setup timed out", {{"host", url_.host}, {"port", url_.port}});
          c->close();
          if ((pubsub ? sub_ : cmd_) == c) (pubsub ? sub_ : cmd_).reset();
          retry_later(pubsub);
        });
      });
}

void RedisClient::on_connected(bool pubsub, std::shared_ptr<Connection> c) {
  ++counters_.connects;
  c->keepalive();
  auto alive = std::weak_ptr<bool>(alive_);
  auto after_auth = [this, pubsub, c, alive] {
    if (pubsub) {
      // The backoff resets once a SUBSCRIBE is confirmed (resubscribe), so
      // a server that refuses the subscription is not hammered.
      c->set_up = true;
      sub_ready_ = true;
      resubscribe();
      return;
    }
    auto selected = [this, c, alive](const redisReply* r) {
      if (alive.expired() || !started_) return;
      if (!r) return;  // the connection went: on_lost handles it
      if (r->type == REDIS_REPLY_ERROR) {
        log::error("redis SELECT failed", {{"db", url_.db}, {"error", std::string(r->str, r->len)}});
        return drop_and_retry(false, c);
      }
      c->set_up = true;
      cmd_backoff_.reset();
      consecutive_timeouts_ = 0;
      set_ready(true);
    };
    if (url_.db != 0) c->send({"SELECT", std::to_string(url_.db)}, selected);
    else c->send({"PING"}, selected);  // one round trip proves the connection before we call it ready
  };
  if (url_.password.empty()) return after_auth();
  std::vector<std::string> auth{"AUTH"};
  if (!url_.username.empty()) auth.push_back(url_.username);
  auth.push_back(url_.password);
  c->send(auth, [this, c, pubsub, alive, after_auth](const redisReply* r) {
    if (alive.expired() || !started_) return;
    if (!r) return;  // the connection went: on_lost handles it
    if (r->type == REDIS_REPLY_ERROR) {
      ++counters_.auth_failures;
      log::error("redis AUTH refused", {{"host", url_.host}, {"error", std::string(r->str, r->len)}});
      return drop_and_retry(pubsub, c);
    }
    after_auth();
  });
}

// After a refused AUTH or SELECT: close that connection (outside hiredis'
// callback) and try again later; a wrong password is logged on every try.
void RedisClient::drop_and_retry(bool pubsub, std::shared_ptr<Connection> c) {
  asio::post(io_, [this, pubsub, c, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired() || !started_) return;
    c->close();
    auto& slot = pubsub ? sub_ : cmd_;
    if (slot == c) slot.reset();
    retry_later(pubsub);
  });
}

void RedisClient::on_lost(bool pubsub) {
  ++counters_.disconnects;
  log::warn("redis connection lost", {{"host", url_.host}, {"port", url_.port}, {"pubsub", pubsub}});
  if (pubsub) {
    sub_.reset();
    sub_ready_ = false;
    unsubscribing_.clear();
    for (auto& [channel, c] : channels_) c.confirmed = false;
  } else {
    cmd_.reset();
    set_ready(false);
  }
  retry_later(pubsub);
}

void RedisClient::retry_later(bool pubsub) {
  auto& timer = pubsub ? sub_retry_ : cmd_retry_;
  timer.expires_after((pubsub ? sub_backoff_ : cmd_backoff_).next(rng_));
  timer.async_wait([this, pubsub, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec) {
    if (!ec && !alive.expired() && started_) connect(pubsub);
  });
}

void RedisClient::set_ready(bool ready) {
  if (ready_ == ready) return;
  ready_ = ready;
  if (ready) log::info("redis ready", {{"host", url_.host}, {"port", url_.port}, {"db", url_.db}});
  // Not from inside a hiredis callback (set_ready(true) runs in one).
  if (!on_ready_.empty()) asio::post(io_, [this, ready, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    for (auto& f : on_ready_) f(ready);
  });
}

void RedisClient::command(std::vector<std::string> args, Done done) {
  if (!ready_ || !cmd_) {
    ++counters_.failed;
    asio::post(io_, [done = std::move(done)] { done(fail(std::string("not connected"))); });
    return;
  }
  const uint64_t id = next_id_++;
  Pending& p = pending_[id];
  p.done = std::move(done);
  p.sent = Clock::now();
  p.timer = std::make_unique<asio::steady_timer>(io_, options_.command_timeout);
  auto alive = std::weak_ptr<bool>(alive_);
  p.timer->async_wait([this, id, alive](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    if (!pending_.contains(id)) return;
    ++counters_.timeouts;
    finish(id, fail(std::string("timeout")));
    // A connection that answers nothing three times running is presumed
    // dead (a silent network path): drop it and reconnect.
    if (++consecutive_timeouts_ >= 3 && cmd_) {
      log::warn("redis not answering: reconnecting", {{"host", url_.host}, {"port", url_.port}});
      consecutive_timeouts_ = 0;
      auto c = cmd_;
      c->close();
      on_lost(false);
    }
  });
  ++counters_.commands;
  cmd_->send(args, [this, id, alive](const redisReply* r) {
    if (alive.expired()) return;
    if (!r) return finish(id, fail(std::string("connection lost")));
    consecutive_timeouts_ = 0;
    RedisValue v = convert(r);
    // A reply may come from inside hiredis' read: run `done` outside it.
    asio::post(io_, [this, id, alive, v = std::move(v)]() mutable {
      if (!alive.expired()) finish(id, std::move(v));
    });
  });
}

void RedisClient::finish(uint64_t id, RedisReply reply) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // timed out already, or stopped
  Pending p = std::move(it->second);
  pending_.erase(it);
  p.timer->cancel();
  if (reply) {
    counters_.round_trip.observe(
        uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - p.sent).count()));
    if (reply->is_error()) ++counters_.error_replies;
  } else if (reply.error() != "timeout") {
    ++counters_.failed;
  }
  asio::post(io_, [done = std::move(p.done), reply = std::move(reply)]() mutable { done(std::move(reply)); });
}

void RedisClient::subscribe(const std::string& channel, MessageHandler handler, std::function<void()> subscribed) {
  const bool fresh = !channels_.contains(channel);
  Channel& c = channels_[channel];
  c.on_message = std::move(handler);
  c.on_subscribed = std::move(subscribed);
  if (!fresh && c.confirmed && c.on_subscribed) {
    auto alive = std::weak_ptr<bool>(alive_);
    asio::post(io_, [this, alive, channel] {
      if (alive.expired()) return;
      auto it = channels_.find(channel);
      if (it != channels_.end() && it->second.confirmed && it->second.on_subscribed) it->second.on_subscribed();
    });
  }
  if (!started_) return;
  if (!sub_active_) {
    sub_active_ = true;
    return connect(true);
  }
  if (sub_ready_ && sub_ && fresh && !unsubscribing_.contains(channel)) sub_->subscribe(channel, sub_handler_.get());
}

void RedisClient::unsubscribe(const std::string& channel) {
  if (channels_.erase(channel) == 0) return;
  // hiredis 0.14 expects no callback for UNSUBSCRIBE (the confirmation goes
  // to the channel's subscribe callback); one for a channel it does not
  // know would trip its reply bookkeeping, hence the check above.
  if (sub_ready_ && sub_ && !unsubscribing_.contains(channel)) {
    sub_->unsubscribe(channel);
    unsubscribing_.insert(channel);
  }
}

bool RedisClient::subscribed(const std::string& channel) const {
  auto it = channels_.find(channel);
  return it != channels_.end() && it->second.confirmed;
}

// A new pub/sub connection: one handler for it (hiredis calls it for every
// message on every channel, and once per channel with nullptr when the
// connection goes, so it lives until the next connection replaces it or the
// client is destroyed), then SUBSCRIBE for every channel.
void RedisClient::resubscribe() {
  if (!sub_) return;
  unsubscribing_.clear();
  for (auto& [channel, c] : channels_) c.confirmed = false;
  auto alive = std::weak_ptr<bool>(alive_);
  sub_handler_ = std::make_shared<std::function<void(const redisReply*)>>([this, alive](const redisReply* r) {
    if (!r || alive.expired()) return;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_STRING)
      return;
    const std::string_view kind(r->element[0]->str, r->element[0]->len);
    std::string channel(r->element[1]->str, r->element[1]->len);
    if (kind == "subscribe" || kind == "unsubscribe") {
      if (kind == "subscribe") sub_backoff_.reset();  // the server took the subscription
      asio::post(io_, [this, alive, subscribe = kind == "subscribe", channel = std::move(channel)] {
        if (alive.expired() || !sub_) return;
        auto it = channels_.find(channel);
        if (!subscribe) {
          unsubscribing_.erase(channel);
          // Wanted again meanwhile: subscribe now that hiredis forgot it.
          if (it != channels_.end() && sub_ready_) sub_->subscribe(channel, sub_handler_.get());
          return;
        }
        if (it == channels_.end() || unsubscribing_.contains(channel)) return;
        it->second.confirmed = true;
        if (it->second.on_subscribed) it->second.on_subscribed();
      });
      return;
    }
    if (kind != "message" || r->element[2]->type != REDIS_REPLY_STRING) return;
    std::string message(r->element[2]->str, r->element[2]->len);
    asio::post(io_, [this, alive, channel = std::move(channel), message = std::move(message)] {
      if (alive.expired()) return;
      auto it = channels_.find(channel);
      if (it == channels_.end()) return;
      ++counters_.messages;
      it->second.on_message(channel, message);
    });
  });
  for (const auto& [channel, c] : channels_) sub_->subscribe(channel, sub_handler_.get());
}

}  // namespace sfu::signaling
