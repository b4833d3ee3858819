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
//   POST   /admin/v1/drain                                    stop taking joins (/readyz 503)
//   DELETE /admin/v1/drain                                    take joins again
//
// Errors are JSON: {"error": {"status": 404, "code": "not_found", "message": "..."}}.
// Control thread only.
#pragma once

#include <functional>
#include <string>

#include "signaling/http_server.hpp"
#include "signaling/node_metrics.hpp"

namespace sfu::signaling {

class Hub;

class AdminApi {
 public:
  // `set_draining(true/false)` starts or ends a drain (the front's /readyz
  // and the hub's joins); `draining()` reads it.
  AdminApi(Hub& hub, NodeIdentity node, std::function<void(bool)> set_draining, std::function<bool()> draining)
      : hub_(hub), node_(std::move(node)), set_draining_(std::move(set_draining)), draining_(std::move(draining)) {}

  // Any request whose path starts with /admin/.
  HttpResponse handle(const HttpRequest& req);

  static constexpr size_t kMaxBodyBytes = 4096;

 private:
  Hub& hub_;
  NodeIdentity node_;
  std::function<void(bool)> set_draining_;
  std::function<bool()> draining_;
};

}  // namespace sfu::signaling
