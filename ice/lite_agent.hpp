// ICE-lite agent (RFC 8445 §2.5, §7.3 as the controlled, lite side), sans-IO.
//
// The SFU never sends checks: it answers the browser's binding requests,
// learns remote paths from them, and follows the browser's nominations:
// of the nominated paths with a valid check in the last kNominationFresh,
// the one whose pair has the highest priority carries media (RFC 8445
// §8.1.1; pair priority §6.1.2.3 from the check's PRIORITY and our host
// candidate's). A browser that nominates aggressively (Firefox: every check
// has USE-CANDIDATE, and a late ICE-TCP check may arrive after the UDP one)
// so never moves media to a worse path; one whose best path went silent
// (a network change) moves to the next nominated path at its next check.
//
//            valid check                          valid check with USE-CANDIDATE
//   ┌─────┐ (answered, path   ┌──────────┐        (the best fresh nominated path
//   │ new ├─ remembered) ───► │ checking ├──────► is selected)
//   └─────┘                   └──────────┘        ┌───────────┐
//                                                 │ connected │ ◄─┐ valid checks on the
//                                                 └─────┬─────┘ ──┘ selected path keep
//                                                       │           consent fresh
//                            no valid check on the      │
//                            selected path for 30 s     ▼
//                            (RFC 7675 §5.1)       ┌────────┐
//                                                  │ failed │
//                                                  └────────┘
// A request changes state only after its FINGERPRINT, USERNAME and
// MESSAGE-INTEGRITY are verified; anything else is answered with an error
// (400/401/420/487) or dropped, and counted.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "ice/path.hpp"
#include "ice/stun_integrity.hpp"
#include "ice/stun_message.hpp"

namespace sfu::ice {

struct IceCredentials {
  std::string ufrag;  // RFC 8839 §5.4: 4..256 ice-chars
  std::string pwd;    // 22..256 ice-chars
  // Random credentials from OpenSSL's CSPRNG: 8-char ufrag, 24-char pwd.
  static IceCredentials generate();
};

enum class IceState : uint8_t { new_, checking, connected, failed, closed };
std::string_view to_string(IceState s);

struct IceAgentConfig {
  Duration consent_timeout = seconds(30);  // RFC 7675 §5.1
  // Paths not checked for this long are forgotten (a new check re-adds them).
  Duration path_expiry = seconds(30);
  std::string_view software;  // SOFTWARE attribute in responses; empty = none
};

struct IceCounters {
  uint64_t requests = 0;
  uint64_t responses_sent = 0;
  uint64_t bad_fingerprint = 0;
  uint64_t bad_username = 0;
  uint64_t bad_integrity = 0;
  uint64_t missing_attributes = 0;
  uint64_t unknown_attributes = 0;
  uint64_t role_conflicts = 0;
  uint64_t not_requests = 0;  // indications / responses: a lite agent ignores them
  uint64_t nominations = 0;
  uint64_t reselections = 0;  // media moved from one nominated path to another
  uint64_t path_limit_evictions = 0;
};

struct IceEvent {
  enum class Type : uint8_t { state_changed, selected_path_changed };
  Type type;
  IceState state;      // for state_changed
  Path selected_path;  // for selected_path_changed
};

// Outgoing STUN message: a response to send on `path`. The bytes stay valid
// until the next handle_* / poll_transmit call.
struct IceTransmit {
  Path path;
  Bytes data;
};

class LiteAgent {
 public:
  static constexpr size_t kMaxPaths = 8;
  // A nomination counts while its path has had a valid check this recently
  // (browsers check a selected pair every 2.5-6 s, RFC 7675 §5.1).
  static constexpr Duration kNominationFresh = seconds(10);

  LiteAgent(IceCredentials local, IceAgentConfig config = {});

  // The remote ufrag from the peer's SDP; when set, USERNAME must be
  // "<local ufrag>:<remote ufrag>". Before it is set any remote part is taken.
  void set_remote_ufrag(std::string_view ufrag) { remote_ufrag_ = ufrag; }

  // A parsed STUN message that arrived on `from`. Binding requests are
  // verified and answered (see poll_transmit); everything else is counted
  // and ignored.
  void handle_stun(Instant now, const Path& from, const StunView& msg);
  // Consent expiry and path pruning; call when poll_timeout() has passed.
  void handle_timeout(Instant now);
  std::optional<Instant> poll_timeout() const;
  std::optional<IceTransmit> poll_transmit();
  std::optional<IceEvent> poll_event();

  // ICE restart (RFC 8445 §9): new local credentials take effect at once;
  // checks with the old ones are refused. The selected path keeps carrying
  // media until the peer nominates again.
  void restart(IceCredentials local);
  // Forget every path on one ICE-TCP connection (it closed).
  void forget_tcp(uint32_t connection);
  void close();

  // True if a valid check has arrived on `path` (and it has not expired):
  // only such paths may carry DTLS and media (RFC 8445 §7.3.1.4).
  bool is_valid_path(const Path& path) const;
  std::optional<Path> selected_path() const;
  IceState state() const { return state_; }
  const IceCredentials& local_credentials() const { return local_; }
  const IceCounters& counters() const { return counters_; }
  size_t path_count() const;

 private:
  struct PathState {
    Path path;
    Instant last_valid_check{};
    bool in_use = false;
    bool nominated = false;
    uint64_t pair_priority = 0;  // RFC 8445 §6.1.2.3, from the latest check
  };

  bool verify_request(const StunView& msg, const Path& from);
  void respond_error(const StunView& msg, const Path& from, uint16_t code, bool with_integrity);
  PathState& remember(Instant now, const Path& from);
  // Selects the best fresh nominated path (see the top of this file).
  void reselect(Instant now);
  void set_state(IceState s);
  void queue(const Path& to, MutBytes message);

  IceCredentials local_;
  IntegrityKey key_;
  std::string remote_ufrag_;
  IceAgentConfig config_;
  IceState state_ = IceState::new_;
  std::array<PathState, kMaxPaths> paths_{};
  std::optional<size_t> selected_;
  // Selected path's last valid check + consent timeout. Kept when the
  // selected path itself goes away (TCP closed) so the transport still fails.
  std::optional<Instant> consent_deadline_;
  IceCounters counters_;

  // Small fixed queues: a request produces at most one response, and the
  // caller drains both queues after every handle_* call.
  static constexpr size_t kTxSlots = 4;
  static constexpr size_t kTxSize = 160;
  std::array<std::array<uint8_t, kTxSize>, kTxSlots> tx_buf_{};
  std::array<IceTransmit, kTxSlots> tx_{};
  size_t tx_head_ = 0, tx_count_ = 0;
  std::array<IceEvent, 4> events_{};
  size_t ev_head_ = 0, ev_count_ = 0;
};

// The local ufrag a binding request is addressed to: the part of USERNAME
// before ':' (RFC 8445 §7.2.2). Used to find the transport for a check that
// arrives on an unknown path. nullopt when USERNAME is absent or has no ':'.
std::optional<std::string_view> local_ufrag_of(const StunView& msg);

}  // namespace sfu::ice
