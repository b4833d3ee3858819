// The admin API (admin_api.hpp).
#include "signaling/admin_api.hpp"

#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "common/log.hpp"
#include "signaling/control_metrics.hpp"
#include "signaling/hub.hpp"
#include "signaling/peer.hpp"

namespace sfu::signaling {

namespace http = boost::beast::http;

namespace {

HttpResponse json_response(const HttpRequest& req, unsigned status, const Json& body) {
  return make_text_response(req, status, body.dump() + "\n", "application/json");
}

HttpResponse error_response(const HttpRequest& req, unsigned status, std::string_view code, std::string_view message) {
  return json_response(req, status,
                       Json{{"error", Json{{"status", status}, {"code", code}, {"message", message}}}});
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "/admin/v1/rooms/a%2Eb" → {"admin","v1","rooms","a.b"}; nullopt on a bad
// escape, an empty segment or a decoded '/' or NUL.
std::optional<std::vector<std::string>> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 1;
  while (i <= path.size()) {
    const size_t slash = std::min(path.find('/', i), path.size());
    std::string_view seg = path.substr(i, slash - i);
    if (seg.empty()) {
      if (slash == path.size()) break;  // a trailing slash
      return std::nullopt;
    }
    std::string decoded;
    for (size_t k = 0; k < seg.size(); ++k) {
      if (seg[k] != '%') {
        decoded += seg[k];
        continue;
      }
      if (k + 2 >= seg.size()) return std::nullopt;
      const int hi = hex(seg[k + 1]), lo = hex(seg[k + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      const char c = char(hi * 16 + lo);
      if (c == '/' || c == '\0') return std::nullopt;
      decoded += c;
      k += 2;
    }
    out.push_back(std::move(decoded));
    i = slash + 1;
  }
  return out;
}

// The caller, or the refusal to answer.
struct Caller {
  std::string subject;
  std::optional<HttpResponse> refused;
};

Caller authorise(const HttpRequest& req, const Authenticator& auth, const std::string& room) {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto r = authorise_admin(auth, req[http::field::authorization], room, now);
  if (r) return {*r, std::nullopt};
  return {r.error().subject, error_response(req, r.error().status, r.error().code, r.error().message)};
}

Json room_summary(Room& room) {
  return Json{{"name", room.name()},
              {"peers", room.peers().size()},
              {"producers", room.producers().size()},
              {"dataProducers", room.data_producers().size()}};
}

}  // namespace

Result<std::string, AdminRefusal> authorise_admin(const Authenticator& auth, std::string_view authorization,
                                                   std::string_view room, int64_t now) {
  using R = Result<std::string, AdminRefusal>;
  if (auth.anonymous_allowed()) return R(std::string("anonymous"));
  if (!authorization.starts_with("Bearer "))
    return fail(AdminRefusal{401, "unauthorized", "Authorization: Bearer <token with the admin grant> required"});
  auto id = auth.authenticate(authorization.substr(7), room, now);
  if (!id) {
    if (id.error() == AuthError::wrong_room)
      return fail(AdminRefusal{403, "forbidden",
                               room.empty() ? "a node-wide call needs a token without a room claim"
                                            : "the token is for another room"});
    return fail(AdminRefusal{401, "unauthorized", std::string(to_string(id.error()))});
  }
  if (!id->grants.admin) return fail(AdminRefusal{403, "forbidden", "the token lacks the admin grant", id->subject});
  return R(id->subject);
}

HttpResponse AdminApi::handle(const HttpRequest& req, const std::string& remote) {
  ++control_metrics().admin_requests;
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const auto verb = req.method();
  auto parts = split_path(path);
  Caller caller;
  auto audit = [&](const HttpResponse& res, std::string_view action) -> HttpResponse {
    log::info("admin", {{"subject", caller.subject},
                        {"remote", remote},
                        {"method", std::string(http::to_string(verb))},
                        {"path", std::string(path.substr(0, 512))},
                        {"action", action},
                        {"status", unsigned(res.result_int())}});
    return res;
  };
  if (!parts || parts->size() < 3 || (*parts)[0] != "admin" || (*parts)[1] != "v1")
    return audit(error_response(req, 404, "not_found", "no such admin call (see ADMIN.md)"), "none");
  const auto& p = *parts;

  // Route: which call, which room, which methods it takes.
  std::string action, room_name, object;
  http::verb allowed = http::verb::get, also = http::verb::unknown;
  if (p.size() == 3 && p[2] == "node") {
    action = "node";
  } else if (p.size() == 3 && p[2] == "rooms") {
    action = "rooms";
  } else if (p.size() == 3 && p[2] == "drain") {
    action = "drain", allowed = http::verb::post, also = http::verb::delete_;
  } else if (p.size() == 4 && p[2] == "rooms") {
    action = verb == http::verb::delete_ ? "close_room" : "room", room_name = p[3], also = http::verb::delete_;
  } else if (p.size() == 7 && p[2] == "rooms" && p[4] == "peers" && p[6] == "kick") {
    action = "kick", room_name = p[3], object = p[5], allowed = http::verb::post;
  } else if (p.size() == 7 && p[2] == "rooms" && p[4] == "producers" && (p[6] == "mute" || p[6] == "unmute")) {
    action = p[6], room_name = p[3], object = p[5], allowed = http::verb::post;
  } else {
    return audit(error_response(req, 404, "not_found", "no such admin call (see ADMIN.md)"), "none");
  }
  if (verb != allowed && verb != also) {
    auto res = error_response(req, 405, "method_not_allowed", "this call takes " + std::string(http::to_string(allowed)) +
                                                                  (also != http::verb::unknown
                                                                       ? " or " + std::string(http::to_string(also))
                                                                       : std::string()));
    res.set(http::field::allow, std::string(http::to_string(allowed)) +
                                    (also != http::verb::unknown ? ", " + std::string(http::to_string(also)) : ""));
    return audit(res, action);
  }
  caller = authorise(req, hub_.auth(), room_name);
  if (caller.refused) return audit(*caller.refused, action);
  if (req.body().size() > kMaxBodyBytes)
    return audit(error_response(req, 413, "too_large", "admin request bodies are at most 4096 bytes"), action);
  if (!req.body().empty()) {
    const Json body = Json::parse(req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return audit(error_response(req, 400, "invalid_json", "the body must be empty or a JSON object"), action);
  }

  auto& rooms = hub_.rooms();
  if (action == "node") {
    return audit(json_response(req, 200,
                               Json{{"node", node_.id},
                                    {"version", node_.version},
                                    {"draining", draining_()},
                                    {"rooms", rooms.room_count()},
                                    {"peers", rooms.peer_count()},
                                    {"sessions", hub_.open_sessions()}}),
                 action);
  }
  if (action == "rooms") {
    Json list = Json::array();
    for (const auto& name : rooms.names())
      if (Room* r = rooms.find(name)) list.push_back(room_summary(*r));
    return audit(json_response(req, 200, Json{{"rooms", list}}), action);
  }
  if (action == "drain") {
    const bool on = verb == http::verb::post;
    if (!set_draining_(on))
      return audit(error_response(req, 409, "shutting_down", "the node is shutting down (SIGTERM): its drain cannot end"),
                   action);
    log::warn(on ? "drain started by admin" : "drain ended by admin", {{"subject", caller.subject}});
    return audit(json_response(req, 200, Json{{"draining", on}}), action);
  }

  Room* room = rooms.find(room_name);
  if (!room) return audit(error_response(req, 404, "not_found", "no such room on this node"), action);
  if (action == "room") {
    Json j = room_summary(*room);
    Json peers = Json::array();
    for (const Peer* peer : room->peers()) peers.push_back(peer->admin_view());
    j["peers"] = peers;
    return audit(json_response(req, 200, j), action);
  }
  if (action == "close_room") {
    const auto peers = room->peers();  // closing removes them
    for (Peer* peer : peers) peer->close_room("admin");
    return audit(json_response(req, 200, Json{{"closed", room_name}, {"peers", peers.size()}}), action);
  }
  if (action == "kick") {
    Peer* peer = room->find_peer(object);
    if (!peer) return audit(error_response(req, 404, "not_found", "no such peer in this room"), action);
    peer->admin_kick("admin");
    return audit(json_response(req, 200, Json{{"kicked", object}}), action);
  }
  // mute / unmute
  auto entry = room->find_producer(object);
  Peer* owner = entry ? room->find_peer(entry->peer_id) : nullptr;
  if (!owner || !owner->admin_mute(object, action == "mute"))
    return audit(error_response(req, 404, "not_found", "no such producer in this room"), action);
  return audit(json_response(req, 200, Json{{"producerId", object}, {"paused", action == "mute"}}), action);
}

}  // namespace sfu::signaling
