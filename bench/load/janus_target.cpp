#include "bench/load/janus_target.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "bench/load/load_sdp.hpp"
#include "bench/load/options.hpp"
#include "bench/load/ws_client.hpp"

namespace sfu::load {

namespace {

using Json = nlohmann::json;
constexpr const char* kPlugin = "janus.plugin.videoroom";
constexpr int kRoomExists = 427;  // JANUS_VIDEOROOM_ERROR_ROOM_EXISTS

// The plugin's answer inside an event / success: plugindata.data.
const Json* plugin_data(const Json& msg) {
  auto pd = msg.find("plugindata");
  if (pd == msg.end() || !pd->is_object()) return nullptr;
  auto data = pd->find("data");
  if (data == pd->end() || !data->is_object()) return nullptr;
  return &*data;
}

// A feed id: a string with the VideoRoom's string_ids (our generated
// config, alphanumeric room names), a number otherwise; empty when absent.
Json feed_id(const Json& value) {
  if (value.is_string() && !value.get<std::string>().empty()) return value;
  if (value.is_number_unsigned() && value.get<uint64_t>() != 0) return value;
  return nullptr;
}

uint64_t u64(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

// A Janus-level error ({"janus":"error"}) or a plugin error (error_code in
// plugindata.data), as text; empty when the message is not an error.
std::string error_of(const Json& msg) {
  if (msg.value("janus", "") == "error") {
    const Json err = msg.value("error", Json::object());
    return "janus error " + std::to_string(err.value("code", 0)) + " " + err.value("reason", "");
  }
  if (const Json* data = plugin_data(msg); data && data->contains("error_code"))
    return "videoroom error " + std::to_string(data->value("error_code", 0)) + " " + data->value("error", "");
  return {};
}

class JanusSession : public TargetSession {
 public:
  JanusSession(boost::asio::io_context& io, const JanusTargetOptions& options, int participant,
               SessionCallbacks callbacks)
      : io_(io), options_(options), participant_(participant), callbacks_(std::move(callbacks)), keepalive_(io) {}

  ~JanusSession() override { leave(); }

  void join(const std::string& room, bool /*publisher*/, Done<bool> done) override {
    room_ = room;
    ws_ = WsClient::create(io_, {.subprotocol = "janus-protocol"});
    ws_->on_message([this](std::string text) { on_message(text); });
    ws_->on_close([this](std::string reason) { failed("websocket: " + reason); });
    ws_->connect(options_.url, [this, done](Result<bool, std::string> r) {
      if (!r) return done(fail("connect: " + r.error()));
      start_session(done);
    });
  }

  void publish(const std::string& offer_sdp, Done<std::string> done) override {
    Json jsep = {{"type", "offer"}, {"sdp", offer_sdp}, {"trickle", false}, {"rid_order", "lmh"}};
    message(pub_handle_, {{"request", "publish"}}, std::move(jsep), [done](Result<Json, std::string> r) {
      if (!r) return done(fail(r.error()));
      auto answer = r->find("jsep");
      if (answer == r->end() || !answer->is_object() || answer->value("type", "") != "answer")
        return done(fail(std::string("publish: no jsep answer")));
      done(answer->value("sdp", ""));
    });
  }

  void answer_remote_offer(uint64_t /*offer_id*/, const std::string& answer_sdp, Done<bool> done) override {
    Json jsep = {{"type", "answer"}, {"sdp", answer_sdp}, {"trickle", false}};
    message(sub_handle_, {{"request", "start"}}, std::move(jsep), [this, done](Result<Json, std::string> r) {
      sub_busy_ = false;
      if (r) pin_layers();
      done(r ? Result<bool, std::string>(true) : Result<bool, std::string>(fail(r.error())));
      update_subscription();  // feeds that appeared meanwhile
    });
  }

  void leave() override {
    if (left_) return;
    left_ = true;
    pending_.clear();
    keepalive_.cancel();
    if (!ws_) return;
    // Destroying the session detaches both handles: Janus hangs up the
    // PeerConnections and tells the room the feed left.
    if (ws_->is_open() && session_id_) send({{"janus", "destroy"}, {"session_id", session_id_}});
    ws_->close();
  }

 private:
  using Reply = std::function<void(Result<Json, std::string>)>;
  struct Pending {
    Reply reply;
    bool ack_completes = false;  // keepalive: "ack" is the answer
  };

  // ── session and handles ────────────────────────────────────────────────
  void start_session(Done<bool> done) {
    request({{"janus", "create"}}, [this, done](Result<Json, std::string> r) {
      if (!r) return done(fail("create session: " + r.error()));
      session_id_ = u64(r->value("data", Json::object()), "id");
      schedule_keepalive();
      attach([this, done](Result<uint64_t, std::string> h) {
        if (!h) return done(fail("attach: " + h.error()));
        pub_handle_ = *h;
        create_room(done);
      });
    });
  }

  void attach(std::function<void(Result<uint64_t, std::string>)> then) {
    request({{"janus", "attach"}, {"session_id", session_id_}, {"plugin", kPlugin}},
            [then](Result<Json, std::string> r) {
              if (!r) return then(fail(r.error()));
              then(u64(r->value("data", Json::object()), "id"));
            });
  }

  void schedule_keepalive() {
    keepalive_.expires_after(std::chrono::seconds(options_.keepalive_seconds));
    keepalive_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || left_) return;
      request({{"janus", "keepalive"}, {"session_id", session_id_}}, [](Result<Json, std::string>) {});
      schedule_keepalive();
    });
  }

  // ── publisher handle ───────────────────────────────────────────────────
  void create_room(Done<bool> done) {
    Json body = {{"request", "create"},
                 {"room", room_},
                 {"publishers", options_.max_publishers},
                 {"bitrate", options_.bitrate_bps},
                 {"videocodec", "vp8"},
                 {"audiocodec", "opus"},
                 {"notify_joining", false},
                 {"permanent", false}};
    message(pub_handle_, std::move(body), nullptr, [this, done](Result<Json, std::string> r) {
      if (!r && r.error().find("videoroom error " + std::to_string(kRoomExists)) != 0)
        return done(fail("create room: " + r.error()));
      join_as_publisher(done);
    });
  }

  void join_as_publisher(Done<bool> done) {
    Json body = {{"request", "join"},
                 {"ptype", "publisher"},
                 {"room", room_},
                 {"display", "load-" + std::to_string(participant_)}};
    message(pub_handle_, std::move(body), nullptr, [this, done](Result<Json, std::string> r) {
      if (!r) return done(fail("join: " + r.error()));
      const Json* data = plugin_data(*r);
      if (!data || data->value("videoroom", "") != "joined") return done(fail(std::string("join: not joined")));
      own_feed_ = feed_id(data->value("id", Json()));
      private_id_ = u64(*data, "private_id");
      done(true);
      on_room_event(*data);  // the feeds already publishing
    });
  }

  // Publisher-handle events: new feeds and feeds that went away.
  void on_room_event(const Json& data) {
    if (auto pubs = data.find("publishers"); pubs != data.end() && pubs->is_array()) {
      for (const auto& p : *pubs) {
        const Json feed = feed_id(p.value("id", Json()));
        if (!feed.is_null() && feed != own_feed_ && !subscribed_.count(feed)) wanted_.insert(feed);
      }
    }
    for (const char* key : {"unpublished", "leaving"}) {
      if (auto it = data.find(key); it != data.end() && !feed_id(*it).is_null()) {
        wanted_.erase(*it);
        subscribed_.erase(*it);  // Janus renegotiates the subscriber itself
      }
    }
    update_subscription();
  }

  // ── subscriber handle ──────────────────────────────────────────────────
  void update_subscription() {
    if (left_ || sub_busy_ || wanted_.empty()) return;
    sub_busy_ = true;
    Json streams = Json::array();
    for (const Json& feed : wanted_) streams.push_back({{"feed", feed}});
    subscribed_.insert(wanted_.begin(), wanted_.end());
    wanted_.clear();
    if (sub_handle_) {
      message(sub_handle_, {{"request", "subscribe"}, {"streams", std::move(streams)}}, nullptr,
              [this](Result<Json, std::string> r) { subscription_sent(r); });
      return;
    }
    attach([this, streams](Result<uint64_t, std::string> h) {
      if (!h) return failed("attach subscriber: " + h.error());
      sub_handle_ = *h;
      Json body = {{"request", "join"}, {"ptype", "subscriber"}, {"room", room_}, {"streams", streams}};
      if (private_id_) body["private_id"] = private_id_;
      message(sub_handle_, std::move(body), nullptr, [this](Result<Json, std::string> r) { subscription_sent(r); });
    });
  }

  // The answer to join / subscribe: its offer was already handed out by
  // on_message; we stay busy until our "start" has been answered.
  void subscription_sent(const Result<Json, std::string>& r) {
    if (r && r->contains("jsep")) return;
    sub_busy_ = false;  // an error, or nothing to renegotiate
    update_subscription();
  }

  // ── layer pinning (--layer) ────────────────────────────────────────────
  // The video m-lines of a subscriber offer. All of them, every offer:
  // Janus reuses a departed feed's m-line (and mid) for the next feed.
  void note_video_mids(const std::string& sdp) {
    auto offer = parse_remote_offer(sdp);
    if (!offer) return;
    video_mids_.clear();
    for (const RemoteTrack& t : offer->tracks)
      if (t.kind == server::media::MediaKind::video) video_mids_.push_back(t.mid);
  }
  // Once the answer is in: `configure` the substream of each video.
  void pin_layers() {
    if (video_mids_.empty()) return;
    Json streams = Json::array();
    for (const std::string& mid : video_mids_) streams.push_back({{"mid", mid}, {"substream", options_.layer}, {"temporal", 2}});
    video_mids_.clear();
    message(sub_handle_, {{"request", "configure"}, {"streams", std::move(streams)}}, nullptr,
            [this](Result<Json, std::string> r) {
              if (!r) failed("configure substream: " + r.error());
            });
  }

  // ── transport ──────────────────────────────────────────────────────────
  void message(uint64_t handle, Json body, Json jsep, Reply reply) {
    Json msg = {{"janus", "message"}, {"session_id", session_id_}, {"handle_id", handle}, {"body", std::move(body)}};
    if (!jsep.is_null()) msg["jsep"] = std::move(jsep);
    request(std::move(msg), std::move(reply));
  }

  void request(Json msg, Reply reply) {
    if (left_ || !ws_) return;
    const std::string tx = "t" + std::to_string(next_tx_++);
    msg["transaction"] = tx;
    pending_[tx] = Pending{std::move(reply), msg.value("janus", "") == "keepalive"};
    send(msg);
  }

  void send(const Json& msg) { ws_->send(msg.dump()); }

  void on_message(const std::string& text) {
    if (left_) return;
    Json msg = Json::parse(text, nullptr, false);
    if (!msg.is_object()) return;
    const std::string kind = msg.value("janus", "");
    if (kind == "ack") {
      complete(msg, /*ack=*/true);  // a keepalive's only answer; a message's event follows
      return;
    }
    if (kind == "timeout" || kind == "detached") return failed("janus: " + kind);
    const uint64_t sender = u64(msg, "sender");
    // A subscriber offer (first one, after subscribe, or Janus' own
    // renegotiation when a feed leaves) goes to the load generator first.
    if (sender && sender == sub_handle_) {
      if (auto jsep = msg.find("jsep"); jsep != msg.end() && jsep->value("type", "") == "offer") {
        sub_busy_ = true;
        if (options_.layer >= 0) note_video_mids(jsep->value("sdp", ""));
        if (callbacks_.on_remote_offer) callbacks_.on_remote_offer(RemoteOffer{++offers_, jsep->value("sdp", "")});
        if (left_) return;
      }
    }
    if (complete(msg, /*ack=*/false)) return;
    if (kind == "event" && sender && sender == pub_handle_) {
      if (const Json* data = plugin_data(msg)) on_room_event(*data);
    }
  }

  // Completes the request `msg` answers (by transaction); false if none.
  bool complete(const Json& msg, bool ack) {
    auto tx = msg.find("transaction");
    if (tx == msg.end() || !tx->is_string()) return false;
    auto it = pending_.find(tx->get<std::string>());
    if (it == pending_.end()) return false;
    if (ack && !it->second.ack_completes) return true;
    Reply reply = std::move(it->second.reply);
    pending_.erase(it);
    if (auto err = error_of(msg); !err.empty()) {
      reply(fail(err));
    } else {
      reply(msg);
    }
    return true;
  }

  void failed(const std::string& reason) {
    if (left_) return;
    left_ = true;
    keepalive_.cancel();
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [tx, p] : pending) p.reply(fail(reason));
    if (callbacks_.on_failed) callbacks_.on_failed(reason);
  }

  boost::asio::io_context& io_;
  const JanusTargetOptions& options_;
  int participant_;
  SessionCallbacks callbacks_;
  boost::asio::steady_timer keepalive_;
  std::shared_ptr<WsClient> ws_;
  std::string room_;
  uint64_t session_id_ = 0, pub_handle_ = 0, sub_handle_ = 0;
  Json own_feed_;  // feed ids: strings or numbers, see feed_id()
  uint64_t private_id_ = 0;
  std::set<Json> wanted_;      // feeds to subscribe to next
  std::set<Json> subscribed_;  // feeds asked for already
  std::vector<std::string> video_mids_;  // of the offer being answered (--layer)
  bool sub_busy_ = false;          // a subscription change awaits its answer
  std::map<std::string, Pending> pending_;
  uint64_t next_tx_ = 1;
  uint64_t offers_ = 0;
  bool left_ = false;
};

}  // namespace

JanusTarget::JanusTarget(boost::asio::io_context& io, JanusTargetOptions options)
    : io_(io), options_(std::move(options)) {}

std::unique_ptr<TargetSession> JanusTarget::create_session(int participant, SessionCallbacks callbacks) {
  return std::make_unique<JanusSession>(io_, options_, participant, std::move(callbacks));
}

std::unique_ptr<Target> make_janus_target(boost::asio::io_context& io, std::string url) {
  JanusTargetOptions options;
  if (!url.empty()) options.url = std::move(url);
  return std::make_unique<JanusTarget>(io, std::move(options));
}

std::unique_ptr<Target> make_janus_target(boost::asio::io_context& io, const LoadOptions& options) {
  JanusTargetOptions o;
  if (!options.url.empty()) o.url = options.url;
  o.layer = options.layer;
  return std::make_unique<JanusTarget>(io, std::move(o));
}

}  // namespace sfu::load
