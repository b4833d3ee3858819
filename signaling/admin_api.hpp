// The admin API: REST + JSON under /admin/v1/ (signaling/ADMIN.md has every
// call with curl examples). Authorised by a JWT carrying the `admin` grant
// in `Authorization: Bearer`; a token with a `room` claim administers only
// that room (node-wide calls need a token without one). Where joins are
// anonymous (loopback without keys) no token is needed, as for /stats.
// Every call is written to the log (event "admin", with the caller's
// subject, the action, its target and the HTTP status).
//
//   GET    /admin/v1/node                                     node summary
//   GET    /admin/v1/rooms                                    rooms
//   GET    /admin/v1/rooms/{room}                             peers, producers, consumers, layers, transports
//   DELETE /admin/v1/rooms/{room}                             close: roomClosed {reason:"admin"}
//   POST   /admin/v1/rooms/{room}/peers/{peer}/kick           kicked {reason:"admin"}
//   POST   /admin/v1/rooms/{room}/producers/{producer}/mute   producerPaused to the room
//   POST   /admin/v1/rooms/{room}/producers/{producer}/unmute producerResumed
//   POST   /admin/v1/drain                                    stop taking joins (/readyz 503); no exit
//   DELETE /admin/v1/drain                                    take joins again (409 during a SIGTERM drain)
//
// Errors are JSON: {"error": {"status": 404, "code": "not_found", "message": "..."}}.
// Control thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "signaling/auth.hpp"
#include "signaling/http_server.hpp"
#include "signaling/node_metrics.hpp"

namespace sfu::signaling {

class Hub;

// Why an admin call is refused: HTTP status, error code and message.
struct AdminRefusal {
  unsigned status;  // 401 or 403
  std::string code;  // "unauthorized" / "forbidden"
  std::string message;
  std::string subject;  // the token's subject when it verified (for the audit line)
};

// Decides who may make an admin call about `room` (empty: a node-wide call)
// from the request's Authorization header value; returns the caller's
// subject ("anonymous" where joins are anonymous). Pure: `now` is Unix time.
// 401: no bearer token, or a token that does not verify (expired, bad
// signature, unknown key, malformed); 403: a valid token without the admin
// grant, or for another room, or with a room claim on a node-wide call.
Result<std::string, AdminRefusal> authorise_admin(const Authenticator& auth, std::string_view authorization,
                                                   std::string_view room, int64_t now);

class AdminApi {
 public:
  // `set_draining(true/false)` starts or ends a drain (the front's /readyz
  // and the hub's joins), false when refused (a SIGTERM drain cannot be
  // ended); `draining()` reads it.
  AdminApi(Hub& hub, NodeIdentity node, std::function<bool(bool)> set_draining, std::function<bool()> draining)
      : hub_(hub), node_(std::move(node)), set_draining_(std::move(set_draining)), draining_(std::move(draining)) {}

  // Any request whose path starts with /admin/; `remote` is the client's
  // address, for the audit line.
  HttpResponse handle(const HttpRequest& req, const std::string& remote);

  static constexpr size_t kMaxBodyBytes = 4096;

 private:
  Hub& hub_;
  NodeIdentity node_;
  std::function<bool(bool)> set_draining_;
  std::function<bool()> draining_;
};

}  // namespace sfu::signaling
