// The signaling side of one simulated participant, for one kind of server:
// our JSON-RPC protocol (signaling/PROTOCOL.md) or Janus' VideoRoom. The load
// generator's media side (ICE, DTLS, SRTP, synthetic RTP) is the same for
// both; only how SDP gets exchanged differs.
//
// Model (both servers fit it): a participant joins a room; a publisher
// sends the offer of its sending PeerConnection with publish() and gets the
// answer; the server offers the participant's receiving PeerConnection
// (on_remote_offer, again whenever what it receives changes) and the
// participant answers with answer_remote_offer(). Everything runs on the load
// generator's control thread (one asio::io_context); every callback is
// called there.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"

namespace sfu::load {

struct RemoteOffer {
  uint64_t id = 0;   // pass back to answer_remote_offer
  std::string sdp;   // the server's offer for the receiving PeerConnection
};

struct SessionCallbacks {
  // The server offers (or re-offers) the receiving PeerConnection.
  std::function<void(RemoteOffer)> on_remote_offer;
  // The session ended without leave(): socket closed, kicked, error.
  std::function<void(std::string reason)> on_failed;
};

template <class T>
using Done = std::function<void(Result<T, std::string>)>;

class TargetSession {
 public:
  virtual ~TargetSession() = default;
  // Opens the connection and joins `room`. `publisher` says whether this
  // participant will publish (Janus joins publishers and subscribers
  // differently). Subscribing to everything in the room is automatic.
  virtual void join(const std::string& room, bool publisher, Done<bool> done) = 0;
  // The sending PeerConnection's offer; `done` gets the server's answer SDP.
  virtual void publish(const std::string& offer_sdp, Done<std::string> done) = 0;
  virtual void answer_remote_offer(uint64_t offer_id, const std::string& answer_sdp, Done<bool> done) = 0;
  // Leaves and closes; no callback is called afterwards.
  virtual void leave() = 0;
  // The server node that took the join (a cluster's join result names it);
  // empty when unknown.
  virtual std::string node() const { return {}; }
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::unique_ptr<TargetSession> create_session(int participant, SessionCallbacks callbacks) = 0;
  // "sfu" or "janus", for reports.
  virtual const char* name() const = 0;
};

}  // namespace sfu::load
