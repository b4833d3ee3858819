// DTLS 1.2 for WebRTC (RFC 6347, DTLS-SRTP per RFC 5764, fingerprints per
// RFC 8122 / RFC 8842), sans-IO over OpenSSL.
//
// The session takes datagrams and the current time, and returns datagrams
// to send, events, and its next deadline (str0m's shape):
//
//   start(now)  handle_packet(now, bytes)  handle_timeout(now)  close()
//   poll_transmit()  poll_event()  poll_timeout()  send_application_data()
//
// States (Role::server is the SFU's side, a=setup:passive; Role::client
// sends the ClientHello, for the load generator and tests):
//
//            start()           handshake done, peer certificate present,
//   ┌──────┐ client sends  ┌────────────┐ fingerprint matches, SRTP profile ┌───────────┐
//   │ new_ ├─ ClientHello ►│ connecting ├──── agreed: Connected{keys} ─────►│ connected │
//   └──┬───┘               └─────┬──────┘                                   └──┬─────┬──┘
//      │ close()                 │ handshake timeout, fatal alert,   fatal     │     │ close() sends
//      │                         │ fingerprint mismatch, no SRTP     alert:    │     │ close_notify;
//      │                         │ profile, no peer certificate:     Failed    │     │ close_notify
//      │                         ▼ Failed{reason}                              │     │ received: Closed
//      │                    ┌────────┐ ◄───────────────────────────────────────┘     ▼
//      └──────────────────► │ failed │                                         ┌────────┐
//        (close() from new_ └────────┘                                         │ closed │
//         or connecting goes to closed)                                        └────────┘
//
// Wire mapping. OpenSSL writes through a datagram BIO of ours: one BIO
// write is one datagram, copied into a small fixed ring of owned buffers
// that poll_transmit() drains (BIO_s_mem would merge datagrams; OpenSSL 3.0
// has no BIO_s_dgram_mem). A received datagram is handed to OpenSSL
// without a copy. The flight retransmission buffer, the transmit ring and
// the application-data ring grow to their working size during the
// handshake and are reused afterwards: no heap allocation per packet in
// steady state.
//
// Timers. OpenSSL runs its DTLS retransmission timer on its own clock
// (gettimeofday), and no API lets us pass ours. We bridge the two:
//   - DTLS_set_timer_cb makes OpenSSL use our durations (initial
//     retransmit timeout, doubling, capped), so both timers start together
//     and run equally long;
//   - when OpenSSL (re)arms or stops its timer (it tells the BIO), we arm or
//     disarm our deadline from our `now`; poll_timeout() reports it, plus the
//     overall handshake deadline;
//   - at our deadline handle_timeout() calls DTLSv1_handle_timeout(). With a
//     real clock, OpenSSL agrees that its timer expired and retransmits the
//     flight itself (fresh record sequence numbers). If its timer has a
//     little left (up to 50 ms: our `now` lagged the real clock), we re-arm
//     once for that remainder. If it has more left, the two clocks disagree
//     (a virtual clock in tests and simulations), and we resend the bytes
//     of the last flight as recorded; to the peer that is the same as a
//     duplicate from the network, which DTLS tolerates.
//   - the last flight of a handshake (the server's ChangeCipherSpec +
//     Finished) has no timer: the peer retransmits its own flight when it
//     misses ours. OpenSSL answers retransmissions that carry new sequence
//     numbers; for a verbatim resend (which OpenSSL drops as a replay) we
//     resend our last flight ourselves, at most once per half initial
//     retransmit timeout. (A foreign stack may not do the same for our
//     verbatim resends; that matters only on the virtual-clock path, never
//     with a real clock.)
//
// Remote input never throws and never aborts: datagrams that are not a
// well-formed sequence of DTLS records, or that arrive in a state that
// takes none, are dropped and counted; a fatal alert or handshake error
// ends the session with Failed{protocol_error}. Control-path calls
// (construction) may throw.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include <openssl/types.h>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "dtls/certificate.hpp"
#include "dtls/srtp/srtp_profile.hpp"

namespace sfu::dtls {

enum class Role : uint8_t {
  server,  // waits for the ClientHello (a=setup:passive: the SFU)
  client,  // sends the ClientHello (a=setup:active)
};

enum class State : uint8_t { new_, connecting, connected, closed, failed };

enum class FailReason : uint8_t {
  handshake_timeout,     // no completed handshake within SessionConfig::handshake_timeout
  fingerprint_mismatch,  // peer certificate digest != set_remote_fingerprint(), or none was set
  no_srtp_profile,       // handshake done but no common use_srtp profile (RFC 5764 §4.1.2)
  protocol_error,        // fatal alert sent or received, malformed handshake, key export failed
  no_certificate,        // the peer presented no certificate
};

constexpr std::string_view to_string(State s) {
  switch (s) {
    case State::new_:
      return "new";
    case State::connecting:
      return "connecting";
    case State::connected:
      return "connected";
    case State::closed:
      return "closed";
    case State::failed:
      return "failed";
  }
  return "unknown";
}

constexpr std::string_view to_string(FailReason r) {
  switch (r) {
    case FailReason::handshake_timeout:
      return "handshake_timeout";
    case FailReason::fingerprint_mismatch:
      return "fingerprint_mismatch";
    case FailReason::no_srtp_profile:
      return "no_srtp_profile";
    case FailReason::protocol_error:
      return "protocol_error";
    case FailReason::no_certificate:
      return "no_certificate";
  }
  return "unknown";
}

struct SessionConfig {
  // Largest datagram the session writes (DTLS record headers included);
  // handshake messages are fragmented to fit. 1200 leaves room for IPv6,
  // UDP and TURN headers on a 1280-byte path.
  size_t mtu = 1200;
  // use_srtp profiles, most preferred first. The server's order decides.
  std::vector<SrtpProfile> srtp_profiles = {SrtpProfile::aead_aes_128_gcm, SrtpProfile::aes128_cm_sha1_80};
  // From start() to Connected; past it the session fails.
  Duration handshake_timeout = seconds(30);
  // Flight retransmission (RFC 6347 §4.2.4.1): initial value, doubled after
  // each retransmission, capped.
  Duration initial_retransmit_timeout = seconds(1);
  Duration max_retransmit_timeout = seconds(60);
};

// The handshake completed and was verified. keys.local_key_salt protects
// what we send, keys.remote_key_salt unprotects what we receive (RFC 5764
// §4.2: the client writes with client_write_*, the server with server_write_*).
struct Connected {
  SrtpKeyingMaterial keys;
};
// One DTLS application_data record (an SCTP packet). `data` points into the
// session and is valid until the next call on the session.
struct ApplicationData {
  Bytes data;
};
// The peer sent close_notify (we answered with ours).
struct Closed {};
struct Failed {
  FailReason reason;
};
using Event = std::variant<Connected, ApplicationData, Closed, Failed>;

struct SessionCounters {
  uint64_t datagrams_received = 0;    // handed to handle_packet
  uint64_t datagrams_sent = 0;        // queued for poll_transmit
  uint64_t dropped_malformed = 0;     // not a well-formed sequence of DTLS 1.x record headers
  uint64_t dropped_wrong_state = 0;   // arrived before start() or after closed/failed
  uint64_t dropped_tx_full = 0;       // transmit ring full: datagram lost (the peer retransmits)
  uint64_t dropped_rx_full = 0;       // application data not polled in time: record lost
  uint64_t retransmits_native = 0;    // flights OpenSSL retransmitted on its timer
  uint64_t retransmits_replayed = 0;  // flights resent from the recorded bytes
  uint64_t final_flight_resends = 0;  // last flight resent on a peer retransmission
};

class Session {
 public:
  // A session over its own Context (one SSL_CTX per session: fine for tests
  // and tools; servers share one Context). Throws std::invalid_argument for
  // an empty SRTP profile list or an MTU below 256, std::runtime_error if
  // OpenSSL refuses.
  Session(Role role, std::shared_ptr<const Certificate> certificate, SessionConfig cfg = {});
  // A session over a shared Context. Throws as above.
  Session(Role role, std::shared_ptr<const Context> context, SessionConfig cfg = {});

  // A moved-from session may only be destroyed or assigned to.
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  // The peer's certificate digest from its SDP a=fingerprint. Call before
  // the handshake completes: the peer's certificate is checked against it
  // during the handshake (a mismatch sends a bad_certificate alert) and
  // again at the end, where a missing fingerprint also fails the session
  // with fingerprint_mismatch.
  void set_remote_fingerprint(const Fingerprint& sha256);

  // Starts the handshake clock (handshake_timeout counts from here). A
  // client queues its ClientHello; a server waits for one. Datagrams given
  // to handle_packet before start() are dropped. No-op unless state new_.
  void start(Instant now);

  // One received datagram whose first byte is 20..63 (RFC 7983). Drives the
  // handshake or yields ApplicationData / Closed / Failed events; may queue
  // datagrams. The bytes are read during the call and not kept.
  void handle_packet(Instant now, Bytes datagram);

  // Call when `now` reaches poll_timeout(): retransmits the current flight
  // or fails the handshake. Harmless to call early or late.
  void handle_timeout(Instant now);

  // The next datagram to send, or nullopt when none is queued. The span is
  // valid until the next call on the session. Drain after every other call.
  std::optional<Bytes> poll_transmit();

  // The next event, or nullopt. Connected comes before any ApplicationData;
  // Closed / Failed come last. ApplicationData's span is valid until the
  // next call on the session.
  std::optional<Event> poll_event();

  // When handle_timeout() wants to be called next: the retransmission
  // deadline or the handshake deadline, whichever is earlier; nullopt
  // outside the handshake.
  std::optional<Instant> poll_timeout() const;

  // Sends one application_data record (one SCTP packet) in one datagram.
  // False if not connected, if data is empty, or if it exceeds
  // max_application_data().
  bool send_application_data(Bytes data);

  // Largest payload send_application_data() takes: the MTU minus record
  // header and cipher overhead. 0 before Connected.
  size_t max_application_data() const;

  // Ends the session: when connected, queues close_notify (the peer sees
  // Closed). State becomes closed; no event is produced locally.
  void close();

  State state() const;
  Role role() const;
  const SessionCounters& counters() const;

  // The keys of the Connected event; nullopt until then. Kept after close.
  std::optional<SrtpKeyingMaterial> keying_material() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sfu::dtls
