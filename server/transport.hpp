// A WebRTC transport: ICE + DTLS + SRTP (+ the DTLS application-data slot
// that SCTP plugs into), composed and demultiplexed per RFC 7983. Sans-IO
// like its parts: bytes and `now` in, datagrams, events and a deadline out,
// so the same code runs on a worker and in a simulated network.
//
// Server role (the SFU): ICE-lite + DTLS server (a=setup:passive).
// Client role (load generator, tests): full ICE (controlling by default, see
// ControllingAgentConfig::controlling) + DTLS client, or DTLS server when the
// peer's answer says a=setup:active (Janus; set_dtls_role()).
//
//   new ──start()──► connecting ──ICE selected + DTLS Connected──► connected
//                        │                                            │
//                        └── ICE failed / DTLS failed / timeout ──► failed ◄── consent lost
//   any ──close()──► closed
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "common/time.hpp"
#include "dtls/session.hpp"
#include "dtls/srtp/srtp_session.hpp"
#include "ice/controlling_agent.hpp"
#include "ice/lite_agent.hpp"
#include "ice/demux.hpp"
#include "ice/path.hpp"
#include "rtp/rtp_packet.hpp"
#include "server/ids.hpp"

namespace sfu::server {

enum class TransportRole : uint8_t { server, client };

// Why an incoming datagram was dropped. Indexes TransportCounters::dropped.
enum class DropReason : uint8_t {
  malformed,      // empty, unknown first byte, or a STUN message that does not parse
  bad_stun,       // STUN refused by the ICE agent (integrity, fingerprint, username)
  unknown_path,   // DTLS/SRTP from a path ICE has not validated
  not_connected,  // SRTP/SRTCP before the DTLS keys exist
  srtp_auth,      // SRTP/SRTCP authentication failed
  srtp_replay,    // SRTP/SRTCP replayed or too old
  srtp_other,     // SRTP/SRTCP malformed or other backend error
  closed,         // the transport is failed or closed
  count_,
};
std::string_view to_string(DropReason r);

struct TransportCounters {
  std::array<uint64_t, size_t(DropReason::count_)> dropped{};
  uint64_t stun_in = 0, dtls_in = 0, rtp_in = 0, rtcp_in = 0, bytes_in = 0;
  uint64_t rtp_out = 0, rtcp_out = 0, bytes_out = 0;
  uint64_t protect_failures = 0;
  uint64_t drops(DropReason r) const { return dropped[size_t(r)]; }
  TransportCounters& operator+=(const TransportCounters& o);
  template <class F>
  void for_each_field(F&& f) {
    for (auto& d : dropped) f(d);
    f(stun_in), f(dtls_in), f(rtp_in), f(rtcp_in), f(bytes_in), f(rtp_out), f(rtcp_out), f(bytes_out);
    f(protect_failures);
  }
};

struct TransportConfig {
  TransportRole role = TransportRole::server;
  ice::IceCredentials local_ice;
  // Shared per worker in production; a Context per transport is fine in tests.
  std::shared_ptr<const dtls::Context> dtls_context;
  dtls::SessionConfig dtls;
  ice::IceAgentConfig lite_ice;                // server role
  ice::ControllingAgentConfig controlling_ice;  // client role
  dtls::SrtpSessionConfig srtp;
  // From start() until connected (ICE selected and DTLS done); past it the
  // transport fails.
  Duration connect_timeout = seconds(30);
};

struct TransportEvent {
  enum class Type : uint8_t { state_changed, selected_path_changed, application_data };
  Type type;
  TransportState state = TransportState::new_;  // state_changed
  ice::Path path;                               // selected_path_changed
  Bytes data;  // application_data (one SCTP packet); valid until the next call on the transport
};

struct TransportTransmit {
  ice::Path path;
  Bytes data;  // valid until the next call on the transport
};

// A decrypted RTP or RTCP packet, in place in the caller's buffer. RTP
// comes parsed (`rtp`, a view of `packet`; nullopt when the decrypted bytes
// are not RTP after all): nothing after the transport parses it again.
struct ReceivedMedia {
  enum class Kind : uint8_t { none, rtp, rtcp };
  Kind kind = Kind::none;
  MutBytes packet;
  std::optional<rtp::RtpView> rtp;
};

class Transport {
 public:
  explicit Transport(TransportConfig config);

  // The peer's ICE credentials and certificate fingerprint from its SDP.
  // The password is needed in the client role only. A server-role transport
  // may be started before they are known (the SFU's subscriber offer goes
  // out first); DTLS datagrams that arrive before then are held (a few) and
  // replayed once the fingerprint is set, so the handshake cannot complete
  // unchecked.
  void set_remote_parameters(std::string_view ice_ufrag, std::string_view ice_pwd, const dtls::Fingerprint& fp);
  bool has_remote_parameters() const { return remote_known_; }
  // Client role: a server candidate to check.
  void add_remote_candidate(const ice::Path& path, uint32_t priority);
  // Client role: the DTLS role from the peer's a=setup (RFC 5763 §5):
  // `active` there makes us the server. Call before the handshake starts
  // (before ICE connects); ignored afterwards and in the server role. A DTLS
  // server starts at start() and waits for the peer's ClientHello.
  void set_dtls_role(dtls::Role role);
  // Client role: our ICE role (RFC 8445 §6.1.1): controlling when we offer
  // or the peer is ICE-lite, controlled when we answer a full agent. Call
  // before set_remote_parameters(); a 487 role conflict still flips it later.
  void set_ice_controlling(bool controlling);
  void start(Instant now);

  // One received datagram (or ICE-TCP frame) on `from`. STUN goes to ICE,
  // DTLS to DTLS, SRTP/SRTCP is unprotected in place and returned for
  // routing; anything else is dropped and counted. `data` may be modified.
  ReceivedMedia handle_datagram(Instant now, const ice::Path& from, MutBytes data);
  // The same for a datagram the caller has classified already (RFC 7983;
  // the worker does it once, to find the transport): DTLS, RTP or RTCP.
  ReceivedMedia handle_classified(Instant now, const ice::Path& from, MutBytes data, ice::PacketKind kind);
  // A STUN message already parsed by the caller (who used it to find this
  // transport by ufrag).
  void handle_stun(Instant now, const ice::Path& from, const ice::StunView& msg);
  void handle_timeout(Instant now);
  std::optional<Instant> poll_timeout() const;
  std::optional<TransportTransmit> poll_transmit();
  std::optional<TransportEvent> poll_event();
  bool has_events() const { return !events_.empty(); }

  // Media out: protects buffer[0, length) in place (buffer needs
  // SrtpSession::kMaxTrailer spare bytes) and returns the SRTP length, to be
  // sent on send_path(). Fails before connected.
  Result<size_t, dtls::SrtpError> protect_rtp(MutBytes buffer, size_t length);
  Result<size_t, dtls::SrtpError> protect_rtcp(MutBytes buffer, size_t length);
  std::optional<ice::Path> send_path() const;
  // One SCTP packet as a DTLS application-data record; queued for
  // poll_transmit. False before connected or if too large.
  bool send_application_data(Bytes data);

  // Server role: new local ICE credentials (RFC 8445 §9); the caller
  // re-registers the transport under the new ufrag.
  void restart_ice(ice::IceCredentials local);
  // Forget ICE paths on a closed ICE-TCP connection.
  void forget_tcp(uint32_t connection);
  void close();

  TransportRole role() const { return config_.role; }
  TransportState state() const { return state_; }
  const ice::IceCredentials& local_ice() const;
  bool is_valid_path(const ice::Path& path) const;
  const TransportCounters& counters() const { return counters_; }
  std::optional<dtls::SrtpProfile> srtp_profile() const;
  const dtls::Session& dtls() const { return dtls_; }

 private:
  void drop(DropReason r) { ++counters_.dropped[size_t(r)]; }
  void pump(Instant now);
  void pump_ice(Instant now);
  void pump_dtls(Instant now);
  void set_state(TransportState s);
  void push_transmit(const ice::Path& path, Bytes data);
  ReceivedMedia unprotect(MutBytes data, bool rtcp);
  std::optional<ice::Path> dtls_path() const;

  TransportConfig config_;
  std::optional<ice::LiteAgent> lite_;
  std::optional<ice::ControllingAgent> controlling_;
  dtls::Session dtls_;
  std::optional<dtls::SrtpSession> srtp_;
  dtls::Role dtls_role_;
  std::optional<dtls::Fingerprint> remote_fingerprint_;  // re-applied when the DTLS role changes
  TransportState state_ = TransportState::new_;
  std::optional<Instant> connect_deadline_;
  std::optional<ice::Path> last_dtls_path_;
  bool remote_known_ = false;
  std::vector<std::vector<uint8_t>> early_dtls_;  // held until the fingerprint is known (bounded)
  void replay_validated_dtls(Instant now);
  Instant last_now_{};
  bool ice_connected_ = false;
  bool dtls_started_ = false;
  TransportCounters counters_;

  // Control-rate output (STUN, DTLS): owned copies, recycled.
  struct Pending {
    ice::Path path;
    std::vector<uint8_t> bytes;
  };
  std::deque<Pending> transmits_;
  // Client role: DTLS that arrived on a path ICE has not validated yet — a
  // full peer (Janus) sends its ClientHello as soon as its own check
  // succeeds, which can be before ours does. Replayed once the path is
  // valid, instead of waiting a second for the peer's retransmission.
  std::vector<Pending> unvalidated_dtls_;
  Pending current_tx_;
  std::deque<TransportEvent> events_;
  std::vector<std::vector<uint8_t>> app_data_;  // backing for application_data events
  std::vector<uint8_t> current_app_;
};

}  // namespace sfu::server
