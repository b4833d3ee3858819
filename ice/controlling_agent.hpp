// The client side of ICE against an ICE-lite server (RFC 8445 §6.1.1: the
// full agent is controlling), sans-IO. Used by the load generator and the
// transport simulations; browsers play this role in production.
//
//  ┌─────┐ start()   ┌──────────┐ first success  ┌───────────┐ no success for   ┌────────┐
//  │ new ├─────────► │ checking ├──────────────► │ connected ├────────────────► │ failed │
//  └─────┘ checks    └────┬─────┘ (nominated)    └───────────┘ consent timeout  └────────┘
//          with           │ every candidate's checks exhausted                      ▲
//          USE-CANDIDATE  └─────────────────────────────────────────────────────────┘
//
// Each candidate gets a binding request with USE-CANDIDATE (the lite peer
// only learns paths from checks), retransmitted with a doubling RTO
// (RFC 8489 §6.2.1). Once connected, consent checks go out every 5 s
// randomised ±20 % on the selected path (RFC 7675 §5.1).
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
};

struct ControllingAgentCounters {
  uint64_t requests_sent = 0;
  uint64_t retransmissions = 0;
  uint64_t successes = 0;
  uint64_t error_responses = 0;
  uint64_t bad_responses = 0;  // integrity/fingerprint failed or unknown transaction
};

class ControllingAgent {
 public:
  ControllingAgent(IceCredentials local, IceCredentials remote, ControllingAgentConfig config = {});

  // A remote candidate to check (the server's host candidates). Before or
  // after start(); TCP paths need their connection open first.
  void add_remote_candidate(const Path& path, uint32_t priority);
  void start(Instant now);

  // A STUN message received on `from` (responses to our checks; requests
  // from a lite peer never come and are counted as bad).
  void handle_stun(Instant now, const Path& from, const StunView& msg);
  void handle_timeout(Instant now);
  std::optional<Instant> poll_timeout() const;
  std::optional<IceTransmit> poll_transmit();
  std::optional<IceEvent> poll_event();
  void close();

  bool is_valid_path(const Path& path) const;
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
  };

  void send_check(Instant now, Check& c, bool fresh);
  uint64_t next_random();
  void set_state(IceState s);
  void emit(const IceEvent& e);

  IceCredentials local_;
  IceCredentials remote_;
  IntegrityKey remote_key_;
  ControllingAgentConfig config_;
  uint64_t rng_;
  uint64_t tie_breaker_;
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
