// The signaling hub of a node: creates a Peer for every WebSocket, owns the
// room directory and authentication, and routes media events (layer
// changes, active speaker) to the peers they concern. Control thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "server/media_controller.hpp"
#include "signaling/auth.hpp"
#include "signaling/room.hpp"
#include "signaling/ws_session.hpp"

namespace sfu::signaling {

class Hub {
 public:
  Hub(boost::asio::io_context& io, server::MediaController& media, AuthConfig auth, SignalingLimits limits,
      IceServersConfig ice = {});

  // The handler for a new signaling WebSocket (the HTTP request carried the
  // upgrade, with ?room=&token= in its target).
  std::unique_ptr<SessionHandler> make_peer(std::weak_ptr<WsSession> session, const HttpRequest& upgrade,
                                            std::string remote_address);
  void on_media_event(server::RoomId room, const server::MediaEvent& event);
  // New joins are refused with 5003 from now on.
  void begin_drain() { rooms_.set_draining(true); }
  // Ends every room (`notification` {reason} to each peer: roomClosed, or
  // reconnect in cluster mode, where the room lives on elsewhere) and
  // closes every signaling socket, including ones that never joined.
  void close_all(const std::string& reason, std::string_view notification = "roomClosed");
  size_t open_sessions();
  // GET /stats: what lives on this node (sessions, rooms, peers, and the
  // workers' routers, transports, producers, consumers, data channels).
  Json stats();

  RoomDirectory& rooms() { return rooms_; }
  const Authenticator& auth() const { return auth_; }

 private:
  boost::asio::io_context& io_;
  Authenticator auth_;
  RoomDirectory rooms_;
  std::vector<std::weak_ptr<WsSession>> sessions_;
};

// The value of `key` in the query string of `target` ("/ws?room=a&token=b"),
// percent-decoded; empty when absent.
std::string query_param(std::string_view target, std::string_view key);

}  // namespace sfu::signaling
