// MediaThread: one media thread of the load generator — an epoll loop over
// the UDP sockets of its PeerConnections (one socket each), reading with
// recvmmsg(2) and writing with sendmmsg(2), and driving every
// PeerConnection's timers (ICE, DTLS, publisher frames, subscriber RTCP).
//
// The control thread hands work over with add_sender() / update_receiver()
// (a mutex-guarded queue and an eventfd: control rate, never per packet).
// After stop() returns the thread has ended and its PeerConnections may be
// read by anyone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include "bench/load/load_sdp.hpp"
#include "bench/load/peer_connection.hpp"
#include "bench/load/send_batch.hpp"
#include "common/time.hpp"

namespace sfu::load {

// A participant's sending PeerConnection, negotiated (the server answered).
struct SendPcSpec {
  int participant = 0;
  UdpSocket socket;  // the one our offer named
  ice::IceCredentials local_ice;
  RemoteTransport remote;
  client::PublisherConfig publisher;
  Instant joined;
};

// A participant's receiving PeerConnection after an offer was answered.
// The first one for a participant creates the PeerConnection.
struct ReceivePcSpec {
  int participant = 0;
  UdpSocket socket;  // the one our first answer named (later specs: none)
  ice::IceCredentials local_ice;
  std::optional<RemoteTransport> remote;
  std::vector<RemoteTrack> tracks;
  uint8_t transport_cc_ext_id = 0;
  Instant joined;
};

struct MediaThreadCounters {
  uint64_t loop_iterations = 0;
  uint64_t recv_syscalls = 0;
  uint64_t recv_messages = 0;      // recvmmsg entries
  uint64_t recv_gro_messages = 0;  // ... that held more than one datagram (UDP GRO)
  uint64_t send_syscalls = 0;
  uint64_t socket_errors = 0;  // sockets that could not be opened
};

struct MediaThreadSettings {
  std::string bind_ip = "127.0.0.1";  // sockets are bound to bind_ip:0
  bool udp_gro = true;                 // receive with UDP GRO where the kernel has it (udp_gro.hpp)
  // Receivers whose participant index is a multiple of this run the full
  // stream check (StreamValidator and every payload byte); the others
  // authenticate, decrypt, count, repair and time every packet and read
  // each payload's probe header only.
  int validate_every = 1;
};

class MediaThread {
 public:
  explicit MediaThread(int index, std::shared_ptr<const dtls::Context> dtls_context,
                       MediaThreadSettings settings = {});
  ~MediaThread();
  MediaThread(const MediaThread&) = delete;
  MediaThread& operator=(const MediaThread&) = delete;

  void start();
  // Any thread. Ignored after stop().
  void add_sender(SendPcSpec spec);
  void update_receiver(ReceivePcSpec spec);
  // Stops every publisher (no new media); the thread keeps receiving and
  // answering (in-flight packets, NACKs) until stop().
  void stop_media();
  // Ends the thread and joins it.
  void stop();

  // After stop(): every PeerConnection the thread ran, and when it stopped
  // producing media.
  const std::vector<std::unique_ptr<PeerConnection>>& peer_connections() const { return pcs_; }
  Instant media_stopped_at() const { return media_stopped_at_; }
  const MediaThreadCounters& counters() const { return counters_; }
  // Any thread, while running: datagrams sent to and received from the
  // server so far (published once per loop iteration), for the report's
  // steady-state window.
  uint64_t live_datagrams_sent() const { return live_sent_.load(std::memory_order_relaxed); }
  uint64_t live_datagrams_received() const { return live_received_.load(std::memory_order_relaxed); }

 private:
  using Command = std::variant<SendPcSpec, ReceivePcSpec>;

  void run();
  void take_commands(Instant now);
  void apply(Instant now, SendPcSpec& spec);
  void apply(Instant now, ReceivePcSpec& spec);
  // Opens a socket on settings_.bind_ip when `socket` is not open.
  PeerConnection* add_pc(PcKind kind, int participant, const ice::IceCredentials& ice, Instant joined,
                         UdpSocket socket);
  void read_socket(Instant now, PeerConnection& pc);
  void service_timers(Instant now);

  int index_;
  std::shared_ptr<const dtls::Context> dtls_context_;
  MediaThreadSettings settings_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_media_{false};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> live_sent_{0};
  std::atomic<uint64_t> live_received_{0};
  uint64_t received_ = 0;  // this thread's count behind live_received_
  std::mutex mutex_;
  std::vector<Command> inbox_;  // guarded by mutex_
  std::vector<Command> taken_;  // the thread's copy
  std::vector<std::unique_ptr<PeerConnection>> pcs_;
  std::vector<PeerConnection*> receivers_by_participant_;  // index = participant
  Instant next_service_{};
  Instant media_stopped_at_{};
  bool media_stopped_ = false;
  SendBatch batch_;
  struct RecvBuffers;
  std::unique_ptr<RecvBuffers> recv_;
  MediaThreadCounters counters_;
  uint64_t seed_;
};

}  // namespace sfu::load
