// LoadRunner: one run of the load generator on the control thread.
//
//   ramp: participant i joins at i / --ramp s (room-major, publishers of a
//   room first) ── join ──► publisher: build offer ── publish ──► answer
//                                       └─► MediaThread::add_sender
//                           every participant: remote offer ──► answer
//                                       └─► MediaThread::update_receiver
//   --duration s after the last join started: publishers stop, 0.5 s drain,
//   everyone leaves, media threads end; the report is built from what the
//   PeerConnections counted. The server's /proc is sampled every second.
//
// Participants are spread over the media threads round-robin; both
// PeerConnections of a participant live on the same thread.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bench/client/synthetic_publisher.hpp"
#include "bench/load/media_thread.hpp"
#include "bench/load/options.hpp"
#include "bench/load/proc_stats.hpp"
#include "bench/load/report.hpp"
#include "bench/load/target.hpp"

namespace sfu::load {

// The publisher a participant runs: L1T3 VP8 at 200k / 700k / 2.5M
// (320x180 / 640x360 / 1280x720) or one 2.5M 1280x720 layer without
// simulcast, a key frame every 3 s, and Opus-sized audio at 50 packets/s
// with the audio-level extension.
client::PublisherConfig make_publisher_config(int participant, uint32_t ssrc_base, const LoadOptions& options);

// Every track of every other publisher in the room.
int expected_tracks(const LoadOptions& options, bool publisher);

class LoadRunner {
 public:
  LoadRunner(boost::asio::io_context& io, const LoadOptions& options, Target& target);
  ~LoadRunner();

  // Runs the whole load (blocks on the io_context) and returns the report.
  Report run();

 private:
  struct Participant;

  void start_participant(Participant& p);
  void publish(Participant& p);
  void on_remote_offer(Participant& p, const RemoteOffer& offer);
  void mark_failed(Participant& p, const std::string& reason);
  void schedule_ramp(size_t next);
  void sample_server();
  void finish();
  // The steady window's start and end: traffic counted by the media
  // threads and the server's CPU time.
  struct Snapshot {
    Instant at{};
    uint64_t sent = 0;
    uint64_t received = 0;
    double server_cpu = -1;
  };
  Snapshot snapshot() const;

  boost::asio::io_context& io_;
  const LoadOptions& options_;
  Target& target_;
  std::shared_ptr<const dtls::Context> dtls_context_;
  std::vector<std::unique_ptr<MediaThread>> threads_;
  std::vector<std::unique_ptr<Participant>> participants_;
  boost::asio::steady_timer ramp_timer_;
  boost::asio::steady_timer end_timer_;
  boost::asio::steady_timer sample_timer_;
  boost::asio::steady_timer steady_timer_;
  std::mt19937_64 rng_;
  Instant started_{};
  Instant media_stopped_{};
  double self_cpu_start_ = 0;
  double self_cpu_at_stop_ = 0;
  std::map<int, double> thread_cpu_start_;
  std::map<int, double> thread_cpu_at_stop_;
  uint64_t udp_drops_start_ = 0;
  uint64_t udp_drops_at_stop_ = 0;
  ServerUsage server_;
  std::optional<Snapshot> steady_start_;
  SteadyWindow steady_;
  size_t failed_ = 0;
  bool finishing_ = false;
  std::optional<ProcSample> last_sample_;
  Instant last_sample_at_{};
};

}  // namespace sfu::load
