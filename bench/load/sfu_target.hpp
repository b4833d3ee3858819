// SfuTarget: the load generator's signaling for this server's protocol
// (shared/PROTOCOL.md, signaling/PROTOCOL.md): one WebSocket per
// participant, JSON-RPC 2.0 requests join / publish / subscriberAnswer /
// leave, and the subscriberOffer, kicked and roomClosed notifications.
// Runs on the control thread's io_context.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "bench/load/target.hpp"

namespace sfu::load {

struct SfuTargetOptions {
  std::string url = "ws://127.0.0.1:8080/ws";  // ?room=<room> is appended for load balancers
  // A JWT sent with every join (empty: none) ...
  std::string token;
  // ... or a key to mint one per participant: "KID=SECRET" or "SECRET"
  // (HS256, the room as grant, 24 h), as `sfu token` does.
  std::string token_secret;
  int layer = -1;  // >= 0: setPreferredLayers {spatialLayer: layer} for every video consumer
};

class SfuTarget : public Target {
 public:
  SfuTarget(boost::asio::io_context& io, SfuTargetOptions options);
  std::unique_ptr<TargetSession> create_session(int participant, SessionCallbacks callbacks) override;
  const char* name() const override { return "sfu"; }

 private:
  boost::asio::io_context& io_;
  SfuTargetOptions options_;
};

}  // namespace sfu::load
