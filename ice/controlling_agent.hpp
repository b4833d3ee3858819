// The client side of ICE, sans-IO: a full agent (RFC 8445) for the load
// generator and the transport simulations; browsers play this role in
// production. Against an ICE-lite server (our SFU) it is always controlling
// (§6.1.1). Against a full agent (Janus' libnice) it is controlling on the
// PeerConnection it offered and controlled on the one it answered; role
// conflicts are resolved by tie-breaker either way (§7.3.1.1, §7.2.5.1).
//
//  ┌─────┐ start()   ┌──────────┐ selected path  ┌───────────┐ no success for   ┌────────┐
//  │ new ├─────────► │ checking ├──────────────► │ connected ├────────────────► │ failed │
//  └─────┘ checks    └────┬─────┘                └───────────┘ consent timeout  └────────┘
//                         │ every candidate's checks exhausted                      ▲
//                         └─────────────────────────────────────────────────────────┘
//
// Controlling: each candidate gets a binding request with USE-CANDIDATE
// (aggressive nomination: the lite peer only learns paths from checks); the
// first success selects its path. Controlled: checks carry ICE-CONTROLLED and
// no USE-CANDIDATE; the path is selected when the peer's check with
// USE-CANDIDATE arrives on it (§7.3.1.5). Either way the peer's binding
// requests are verified (USERNAME "<local>:<remote>", MESSAGE-INTEGRITY with
// the local password, FINGERPRINT) and answered (§7.3.1.3); a verified
// request makes its path valid for DTLS and media and triggers a check of
// our own on it (§7.3.1.4), also from a peer-reflexive address.
//
// Requests are retransmitted with a doubling RTO (RFC 8489 §6.2.1). Once
// connected, consent checks go out every 5 s randomised ±20 % on the
// selected path (RFC 7675 §5.1).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "ice/lite_agent.hpp"
#include "ice/path.hpp"
#include "ice/stun_integrity.hpp"
#include "ice/stun_message.hpp"

namespace sfu::ice {

struct ControllingAgentConfig {
  Duration initial_rto = milliseconds(200);
  int max_transmissions = 7;  // Rc, RFC 8489 §6.2.1
  Duration consent_interval = seconds(5);
  Duration consent_timeout = seconds(30);
  uint64_t seed = 1;  // transaction ids, tie-breaker and jitter (use a random seed outside tests)
  // The initial role (RFC 8445 §6.1.1): true against an ICE-lite peer and
  // when we sent the offer; false when answering a full agent's offer.
  bool controlling = true;
  // Overrides the random tie-breaker when set (tests).
  std::optional<uint64_t> tie_breaker;
};

struct ControllingAgentCounters {
  uint64_t requests_sent = 0;
  uint64_t retransmissions = 0;
  uint64_t successes = 0;
  uint64_t error_responses = 0;
  uint64_t bad_responses = 0;         // integrity/fingerprint failed or unknown transaction
  uint64_t requests_received = 0;     // the peer's binding requests, verified and answered
  uint64_t bad_requests = 0;          // refused: fingerprint, username, integrity, unknown attributes
  uint64_t role_conflicts_sent = 0;   // 487 answered (we keep our role)
  uint64_t role_switches = 0;         // we changed role (§7.3.1.1 or a 487 received)
  uint64_t nominations_received = 0;  // requests with USE-CANDIDATE while controlled
};

class ControllingAgent {
 public:
  ControllingAgent(IceCredentials local, IceCredentials remote, ControllingAgentConfig config = {});

  // A remote candidate to check (the server's host candidates). Before or
  // after start(); TCP paths need their connection open first.
  void add_remote_candidate(const Path& path, uint32_t priority);
  void start(Instant now);

  // A STUN message received on `from`: responses to our checks, and the
  // peer's binding requests (a full peer's checks; never from a lite peer).
  void handle_stun(Instant now, const Path& from, const StunView& msg);
  void handle_timeout(Instant now);
  std::optional<Instant> poll_timeout() const;
  std::optional<IceTransmit> poll_transmit();
  std::optional<IceEvent> poll_event();
  void close();

  // True if a check of ours succeeded on `path` or a verified request of
  // the peer's arrived on it: DTLS and media may use it.
  bool is_valid_path(const Path& path) const;
  bool controlling() const { return controlling_; }
  uint64_t tie_breaker() const { return tie_breaker_; }
  std::optional<Path> selected_path() const;
  IceState state() const { return state_; }
  const ControllingAgentCounters& counters() const { return counters_; }

 private:
  struct Check {
    Path path;
    uint32_t priority = 0;
    TransactionId txid{};
    Instant next_send{};
    Duration rto{};
    int sent = 0;
    bool in_flight = false;
    bool succeeded = false;
    bool sent_controlling = false;  // the role the in-flight request claimed
    bool peer_checked = false;      // a verified request of the peer's arrived on it
    bool nominated = false;         // controlled: the peer sent USE-CANDIDATE on it
  };

  void send_check(Instant now, Check& c, bool fresh);
  void handle_response(Instant now, const Path& from, const StunView& msg);
  void handle_request(Instant now, const Path& from, const StunView& msg);
  // §7.3.1.1: false when the request lost a role conflict (487 sent).
  bool resolve_role_conflict(const Path& from, const StunView& msg);
  bool verify_request(const Path& from, const StunView& msg);
  void respond_error(const Path& from, const StunView& msg, uint16_t code, bool with_integrity);
  void queue(const Path& to, MutBytes message);
  Check& check_for(const Path& path, uint32_t priority);
  void select(Instant now, size_t index);
  void switch_role();
  uint64_t next_random();
  void set_state(IceState s);
  void emit(const IceEvent& e);

  IceCredentials local_;
  IceCredentials remote_;
  IntegrityKey remote_key_;
  IntegrityKey local_key_;
  ControllingAgentConfig config_;
  uint64_t rng_;
  uint64_t tie_breaker_;
  bool controlling_;
  IceState state_ = IceState::new_;
  std::vector<Check> checks_;
  std::optional<size_t> selected_;
  Instant last_consent_{};
  Instant next_consent_{};
  ControllingAgentCounters counters_;

  std::vector<std::vector<uint8_t>> tx_storage_;
  std::vector<IceTransmit> tx_;
  size_t tx_read_ = 0;
  std::vector<IceEvent> events_;
  size_t ev_read_ = 0;
};

}  // namespace sfu::ice
