// PeerConnection: one simulated browser PeerConnection of the load
// generator — a UDP socket (--bind, 127.0.0.1 by default), a client-role server::Transport
// (controlling ICE, DTLS client, SRTP) and the synthetic media on top:
//
//   send PC:     SyntheticPublisher ─poll_rtp/rtcp─► protect ─► SendBatch ─► server
//                server RTCP (NACK, PLI, REMB, transport-cc) ─► handle_rtcp
//   receive PC:  server SRTP ─► unprotect ─► SimSubscriber (RR, NACK, PLI,
//                transport-cc back through the same batch)
//
// Owned and driven by one MediaThread; no locking. Nothing is allocated per
// packet: datagrams are unprotected in the thread's receive buffers and
// protected in the batch's slots.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/client/sim_subscriber.hpp"
#include "bench/client/synthetic_publisher.hpp"
#include "bench/load/load_sdp.hpp"
#include "bench/load/pacer.hpp"
#include "common/bytes.hpp"
#include "common/time.hpp"
#include "server/transport.hpp"

namespace sfu::load {

class SendBatch;

enum class PcKind : uint8_t { send, receive };

// A non-blocking UDP socket bound to <ip>:0, opened on the control thread
// before the SDP is written (its address is our host candidate, which a
// full-ICE server such as Janus needs) and then handed to the PeerConnection.
class UdpSocket {
 public:
  UdpSocket() = default;
  ~UdpSocket();
  UdpSocket(UdpSocket&& o) noexcept : fd_(o.fd_), local_(o.local_) { o.fd_ = -1; }
  UdpSocket& operator=(UdpSocket&& o) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // IPv4 only; the reason on failure.
  static Result<UdpSocket, std::string> open(const std::string& bind_ip);
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const ice::Address& local() const { return local_; }

 private:
  int fd_ = -1;
  ice::Address local_{};
};

// Counted at the socket, for the server's packets/s in and out.
struct PcSocketCounters {
  uint64_t datagrams_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t datagrams_received = 0;
  uint64_t bytes_received = 0;
  uint64_t send_errors = 0;
  uint64_t protect_failures = 0;
};

class PeerConnection {
 public:
  PeerConnection(PcKind kind, int participant, ice::IceCredentials local_ice,
                 std::shared_ptr<const dtls::Context> dtls_context, uint64_t seed, Instant joined);
  ~PeerConnection();
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  // Takes the socket (open) it sends and receives on.
  void adopt_socket(UdpSocket socket) { socket_ = std::move(socket); }
  int fd() const { return socket_.fd(); }

  // The server's transport (from its answer or offer). The first call
  // starts ICE (checks to every candidate) and DTLS; later calls with new
  // credentials are ignored (no ICE restart in the load generator).
  void set_remote(Instant now, const RemoteTransport& remote);
  // Send PC: the publisher, started once the transport is connected. Its
  // RTP leaves through a pacer at 2.5x the configured bitrate in bursts of
  // at most 5 ms (libwebrtc's pacing), not a whole key frame at once.
  void set_publisher(const client::PublisherConfig& config);
  // Receive PC: the tracks of the latest offer; streams not listed any more
  // are dropped, new ones added.
  void update_tracks(const std::vector<RemoteTrack>& tracks, uint8_t transport_cc_ext_id);
  // Whether the streams added from now on get the full check (a
  // StreamValidator and every payload byte); true by default.
  void set_full_check(bool on) { full_check_ = on; }

  // One datagram received from `from` (modified in place).
  void on_datagram(Instant now, const sockaddr_storage& from, MutBytes data);
  // Runs every timer due at `now`.
  void on_timeout(Instant now);
  // Moves everything there is to send into `batch` (and flushes it).
  void flush(Instant now, SendBatch& batch);
  // When on_timeout must next run (nullopt: nothing scheduled), as of the
  // last flush() (the thread calls flush() after every other call).
  std::optional<Instant> deadline() const { return deadline_; }

  // ---- results (read by the report once the thread has stopped) ----
  PcKind kind() const { return kind_; }
  int participant() const { return participant_; }
  Instant joined() const { return joined_; }
  std::optional<Instant> connected_at() const { return connected_at_; }
  std::optional<Instant> first_frame_at() const { return first_frame_at_; }
  std::optional<Instant> first_rtp_at() const { return first_rtp_at_; }
  bool failed() const { return failed_; }
  const std::string& failure() const { return failure_; }
  const PcSocketCounters& socket_counters() const { return sock_; }
  PcSocketCounters& mutable_socket_counters() { return sock_; }
  const server::Transport* transport() const { return transport_.get(); }
  const client::SyntheticPublisher* publisher() const { return publisher_ ? &*publisher_ : nullptr; }
  const client::SimSubscriber* subscriber() const { return subscriber_ ? &*subscriber_ : nullptr; }
  const std::vector<RemoteTrack>& tracks() const { return tracks_; }
  // Stops the media (end of run): the publisher stops producing.
  void stop_media();

 private:
  void check_first_frame(Instant now);
  void send_paced(Instant now, SendBatch& batch);
  std::optional<Instant> compute_deadline() const;
  void drain_events(Instant now);

  PcKind kind_;
  int participant_;
  UdpSocket socket_;
  uint64_t seed_;
  Instant joined_;
  std::unique_ptr<server::Transport> transport_;
  bool remote_set_ = false;
  std::optional<client::SyntheticPublisher> publisher_;
  bool publisher_started_ = false;
  std::optional<client::SimSubscriber> subscriber_;
  std::vector<RemoteTrack> tracks_;
  std::optional<Instant> connected_at_;
  std::optional<Instant> first_frame_at_;
  std::optional<Instant> first_rtp_at_;
  std::optional<Instant> next_first_frame_check_;
  Pacer pacer_;                        // send PC
  std::optional<Instant> pacer_next_;  // packets are waiting for budget
  std::optional<Instant> deadline_;
  bool failed_ = false;
  std::string failure_;
  PcSocketCounters sock_;
  bool full_check_ = true;
};

}  // namespace sfu::load
