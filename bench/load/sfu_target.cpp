#include "bench/load/sfu_target.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "bench/load/ws_client.hpp"
#include "signaling/auth.hpp"

namespace sfu::load {

namespace {

using Json = nlohmann::json;

std::string error_text(const Json& error) {
  std::string text = "error";
  if (error.is_object()) {
    if (auto c = error.find("code"); c != error.end() && c->is_number_integer()) text = std::to_string(int64_t(*c));
    if (auto m = error.find("message"); m != error.end() && m->is_string()) text += " " + m->get<std::string>();
  }
  return text;
}

class SfuSession : public TargetSession {
 public:
  SfuSession(boost::asio::io_context& io, const SfuTargetOptions& options, int participant, SessionCallbacks callbacks)
      : io_(io), options_(options), participant_(participant), callbacks_(std::move(callbacks)) {}

  ~SfuSession() override {
    if (ws_) ws_->close();
  }

  void join(const std::string& room, bool /*publisher*/, Done<bool> done) override {
    ws_ = WsClient::create(io_);
    ws_->on_message([this](std::string text) { on_message(text); });
    ws_->on_close([this](std::string reason) { failed("websocket: " + reason); });
    Json params = {{"room", room}, {"name", "load-" + std::to_string(participant_)}, {"autoSubscribe", true}};
    if (auto token = token_for(room); !token.empty()) params["token"] = token;
    // The request is queued until the socket is up.
    request("join", std::move(params), [this, done](Result<Json, std::string> r) {
      if (!r) return done(fail(r.error()));
      if (auto n = r->find("node"); n != r->end() && n->is_string()) node_ = n->get<std::string>();
      done(true);
    });
    const char sep = options_.url.find('?') == std::string::npos ? '?' : '&';
    ws_->connect(options_.url + sep + "room=" + room, [this, done](Result<bool, std::string> r) {
      if (r) return;
      pending_.clear();  // the join callback is answered here instead
      done(fail(r.error()));
    });
  }

  std::string node() const override { return node_; }

  void publish(const std::string& offer_sdp, Done<std::string> done) override {
    request("publish", Json{{"sdp", offer_sdp}}, [done](Result<Json, std::string> r) {
      if (!r) return done(fail(r.error()));
      auto sdp = r->find("sdp");
      if (sdp == r->end() || !sdp->is_string()) return done(fail(std::string("publish result without sdp")));
      done(sdp->get<std::string>());
    });
  }

  void answer_remote_offer(uint64_t /*offer_id*/, const std::string& answer_sdp, Done<bool> done) override {
    // The server answers the latest offer; the id only orders our side.
    request("subscriberAnswer", Json{{"sdp", answer_sdp}}, [done](Result<Json, std::string> r) {
      if (!r) return done(fail(r.error()));
      done(true);
    });
  }

  void leave() override {
    left_ = true;
    pending_.clear();
    if (!ws_) return;
    if (ws_->is_open()) {
      Json msg = {{"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", "leave"}, {"params", Json::object()}};
      ws_->send(msg.dump());
    }
    ws_->close();  // after the queued leave
  }

 private:
  using Reply = std::function<void(Result<Json, std::string>)>;

  std::string token_for(const std::string& room) const {
    if (!options_.token.empty()) return options_.token;
    if (options_.token_secret.empty()) return "";
    std::string kid, secret = options_.token_secret;
    if (const auto eq = secret.find('='); eq != std::string::npos) {
      kid = secret.substr(0, eq);
      secret = secret.substr(eq + 1);
    }
    signaling::Identity id;
    id.subject = "load-" + std::to_string(participant_);
    id.name = id.subject;
    id.room = room;
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return signaling::mint_token(secret, kid, id, now, 24 * 3600);
  }

  void request(const char* method, Json params, Reply reply) {
    if (left_ || !ws_) return;
    const uint64_t id = next_id_++;
    pending_[id] = std::move(reply);
    Json msg = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
    ws_->send(msg.dump());
  }

  void on_message(const std::string& text) {
    if (left_) return;
    Json msg = Json::parse(text, nullptr, false);
    if (!msg.is_object()) return;
    if (auto id = msg.find("id"); id != msg.end() && id->is_number_unsigned()) {
      auto it = pending_.find(id->get<uint64_t>());
      if (it == pending_.end()) return;
      Reply reply = std::move(it->second);
      pending_.erase(it);
      if (auto err = msg.find("error"); err != msg.end()) return reply(fail(error_text(*err)));
      auto result = msg.find("result");
      return reply(result != msg.end() ? *result : Json::object());
    }
    auto method = msg.find("method");
    if (method == msg.end() || !method->is_string()) return;
    const std::string& m = method->get_ref<const std::string&>();
    const Json& params = msg.contains("params") ? msg["params"] : Json::object();
    if (m == "subscriberOffer") {
      auto sdp = params.find("sdp");
      if (sdp == params.end() || !sdp->is_string()) return;
      if (options_.layer >= 0) pin_layers(params);
      if (callbacks_.on_remote_offer) callbacks_.on_remote_offer(RemoteOffer{++offers_, sdp->get<std::string>()});
    } else if (m == "kicked" || m == "roomClosed" || m == "redirect") {
      std::string reason = m;
      if (auto r = params.find("reason"); r != params.end() && r->is_string()) reason += ": " + r->get<std::string>();
      failed(reason);
    }
  }

  // --layer: setPreferredLayers for each video consumer of the offer not
  // pinned yet (the server keeps the preference for the consumer's life).
  void pin_layers(const Json& params) {
    auto consumers = params.find("consumers");
    if (consumers == params.end() || !consumers->is_array()) return;
    for (const Json& c : *consumers) {
      if (!c.is_object() || c.value("kind", "") != "video") continue;
      const std::string id = c.value("consumerId", "");
      if (id.empty() || !pinned_.insert(id).second) continue;
      request("setPreferredLayers", Json{{"consumerId", id}, {"spatialLayer", options_.layer}},
              [this, id](Result<Json, std::string> r) {
                if (!r) failed("setPreferredLayers " + id + ": " + r.error());
              });
    }
  }

  void failed(const std::string& reason) {
    if (left_) return;
    left_ = true;
    // Outstanding requests fail too, so a waiting participant moves on.
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, reply] : pending) reply(fail(reason));
    if (callbacks_.on_failed) callbacks_.on_failed(reason);
  }

  boost::asio::io_context& io_;
  const SfuTargetOptions& options_;
  int participant_;
  SessionCallbacks callbacks_;
  std::shared_ptr<WsClient> ws_;
  std::string node_;  // the cluster node that took the join
  std::map<uint64_t, Reply> pending_;
  uint64_t next_id_ = 1;
  uint64_t offers_ = 0;
  std::set<std::string> pinned_;  // video consumers given their layer (--layer)
  bool left_ = false;
};

}  // namespace

SfuTarget::SfuTarget(boost::asio::io_context& io, SfuTargetOptions options) : io_(io), options_(std::move(options)) {}

std::unique_ptr<TargetSession> SfuTarget::create_session(int participant, SessionCallbacks callbacks) {
  return std::make_unique<SfuSession>(io_, options_, participant, std::move(callbacks));
}

}  // namespace sfu::load
