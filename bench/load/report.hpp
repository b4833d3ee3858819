// The load generator's report: what the simulated participants received,
// the server's CPU and memory, and the generator's own CPU (a run whose
// generator was itself CPU-bound measures the generator, not the server:
// it is marked VOID).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/time.hpp"

namespace sfu::client {
struct SubscriberStreamStats;
}

namespace sfu::load {

class MediaThread;

// A received track must bring a new media packet at least this often.
inline constexpr Duration kTrackLiveness = seconds(1);
// A received video track's steady bitrate may differ from its layer's by
// this much, measured over at least kMinRateSeconds whole seconds.
inline constexpr double kRateTolerance = 0.10;
inline constexpr Duration kMinRateSeconds = seconds(2);

// What the control thread knows about one participant.
struct ParticipantInfo {
  int index = 0;
  int room = 0;
  bool publisher = false;
  int expected_tracks = 0;  // every track of every other publisher in the room
  std::string failure;      // empty: none (join / publish / negotiation / kicked)
  std::string node;         // the cluster node that took the join (empty: not a cluster)
};

struct ServerUsage {
  int pid = 0;                       // 0: not sampled
  std::vector<double> cpu_percent;   // one sample per second, % of one core
  uint64_t rss_max_kb = 0;
  uint64_t rss_last_kb = 0;
};

// The steady state: from a few seconds after the last join started (every
// transport up) to the end of the media, without the ramp.
struct SteadyWindow {
  double seconds = 0;  // 0: the run was too short to have one
  uint64_t datagrams_to_server = 0;
  uint64_t datagrams_from_server = 0;
  double server_cpu_seconds = 0;  // -1: not sampled
  Instant start{};
};

struct ReportInput {
  std::string target = "sfu";
  std::string config;  // human summary of the flags
  std::vector<ParticipantInfo> participants;
  std::vector<const MediaThread*> threads;
  Instant started{};        // the first join
  Instant media_stopped{};  // publishers stopped
  ServerUsage server;
  SteadyWindow steady;
  // The rate each received video track should arrive at (the layer asked
  // for, --layer, else the top one): 0 = not checked.
  double expected_video_bps = 0;
  double self_cpu_seconds = 0;
  double self_busiest_thread_percent = 0;  // % of one core
  int cores_used = 1;
  uint64_t udp_rcvbuf_drops = 0;  // machine-wide, during the run
  double load_average = 0;        // 1-minute, at the end
  int machine_cores = 1;  // media threads + the control thread, capped at the machine's
};

struct Distribution {
  uint64_t count = 0;
  double min = 0, avg = 0, max = 0, p50 = 0, p99 = 0;
};

struct Report {
  std::string target;
  std::string config;
  double duration_s = 0;
  int participants = 0;
  int failed_participants = 0;
  std::vector<std::string> failures;  // the first few, "participant N: reason"
  int transports_connected = 0;
  int transports_total = 0;
  // Behind a balancer (join results naming their node): rooms and peers per
  // node, and rooms whose peers landed on more than one node.
  struct NodeSpread {
    int rooms = 0, peers = 0;
  };
  std::map<std::string, NodeSpread> nodes;
  int split_rooms = 0;

  Distribution join_to_first_frame_ms;  // receiving participants with a frame
  Distribution join_to_connected_ms;    // ... receiving PeerConnection connected (ICE + DTLS)
  Distribution join_to_first_rtp_ms;    // ... first RTP packet on it
  int without_first_frame = 0;          // receiving participants that never got one
  uint64_t tracks_expected = 0;
  // A track counts as received only while it keeps arriving: a media packet
  // (not RTX) within every kTrackLiveness from its first one to the end of
  // the run. Tracks that got media but went silent longer are `stalled`.
  uint64_t tracks_received = 0;
  uint64_t tracks_stalled = 0;
  double longest_silence_ms = 0;  // over every received stream
  // Both servers must forward the same media: each received video track's
  // bitrate over the steady window against the layer's rate. Off by more
  // than kRateTolerance, a track is `off_rate` (compare.sh fails the step).
  double expected_video_bps = 0;
  Distribution video_rate_ratio;  // measured / expected, per video track
  uint64_t tracks_off_rate = 0;
  uint64_t tracks_rate_unmeasured = 0;  // video arriving too late in the window to measure
  Distribution subscriber_kbps;  // per receiving PeerConnection
  uint64_t packets_lost = 0;
  uint64_t packets_expected = 0;
  double loss_percent = 0;
  double jitter_avg_ms = 0;
  double jitter_max_ms = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  uint64_t latency_samples = 0;
  uint64_t nacks_sent = 0;
  uint64_t plis_sent = 0;
  uint64_t rtx_received = 0;
  uint64_t invalid_streams = 0;    // StreamValidator violations
  uint64_t validated_streams = 0;  // streams with a StreamValidator (--validate-every)
  uint64_t received_streams = 0;   // all the receivers' streams
  std::map<std::string, uint64_t> violations;  // by kind, over every stream
  std::vector<std::string> violation_examples;  // the first few, described

  uint64_t publisher_packets = 0;  // media packets our publishers produced
  uint64_t retransmissions = 0;    // RTX our publishers sent on NACKs
  uint64_t send_errors = 0;        // datagrams the kernel refused

  double server_packets_in_per_s = 0;   // = datagrams our PeerConnections sent
  double server_packets_out_per_s = 0;  // = datagrams they received
  double server_mbps_in = 0;
  double server_mbps_out = 0;

  // The same over the steady window only (steady_seconds 0: none; then
  // compare tools fall back to the whole-run figures).
  double steady_seconds = 0;
  double steady_packets_in_per_s = 0;
  double steady_packets_out_per_s = 0;
  double steady_server_cpu = -1;  // % of one core; -1: not sampled

  int server_pid = 0;
  double server_cpu_avg = 0;  // % of one core
  double server_cpu_max = 0;
  double server_rss_max_mb = 0;

  uint64_t udp_rcvbuf_drops = 0;
  double load_average = 0;
  int machine_cores = 1;

  double self_cpu_percent = 0;  // % of one core
  double self_busiest_thread_percent = 0;
  int self_cores = 1;
  // The generator's receiving: recvmmsg entries, and those that held a
  // whole UDP GSO run (UDP GRO), against the datagrams they carried.
  uint64_t recv_messages = 0;
  uint64_t recv_gro_messages = 0;
  uint64_t recv_datagrams = 0;
  // The generator, not the server, may have been the bottleneck: its CPU
  // over 70 % of the cores it could use, or one of its threads over 70 %
  // of a core.
  bool void_run = false;
};

Report build_report(const ReportInput& in);
// The human table (stdout).
std::string format_table(const Report& r);
// One JSON object (--json).
std::string to_json(const Report& r);
// For --check: empty when every expected track arrived with no loss and no
// participant failed; otherwise why not.
std::string check_failures(const Report& r);

// One received stream: missing (no complete video frame / audio packet),
// stalled (it arrived, then went kTrackLiveness or more without a new media
// packet), or received.
enum class TrackState { missing, stalled, received };
TrackState track_state(const client::SubscriberStreamStats& st);

}  // namespace sfu::load
