// Send-side bandwidth estimation for one subscriber transport: the facade
// the transport talks to. Sans-IO (STYLE.md rule 5): the transport reports
// each packet it sends and each transport-cc feedback it receives, and asks
// for the estimate and for probe traffic to send.
//
//   on_packet_sent ─► SendSideHistory ─► on_feedback ─┬► DelayBasedEstimator (§5)
//                                                     ├► LossBasedEstimator  (§6)
//                                                     └► ProbeController (probe results)
//   estimate_bps() = min(delay-based, loss-based)     (draft-ietf-rmcat-gcc-02 §6)
//
// Subscribers that give no transport-cc feedback (it was not negotiated,
// as with aiortc):
//   * with REMB (draft-alvestrand-rmcat-remb-03: the receiver's own
//     estimate), the highest REMB of the last kRembWindow is the estimate,
//     within [min_bps, max_bps]. A receive-side estimator dips on a single
//     delay spike and, capped by what it receives, cannot climb back while
//     the video it would need is paused: only a dip that lasts is obeyed;
//   * with no congestion feedback at all kNoFeedbackGrace after the first
//     packet, the estimate is at least kNoFeedbackFloorBps: we cannot see
//     their link, and starving them at the start estimate forever (300
//     kbit/s pauses a camera) is worse than sending one good layer.
// Once transport-cc feedback has arrived, REMB is ignored.
//
// Probing (libwebrtc's ProbeController / ProbeBitrateEstimator behaviour):
//   * initial exponential probing (optional): clusters at 3x and 6x the start
//     bitrate; while a result reaches 70 % of the highest cluster's target
//     within 1 s, probe again at 2x that result (up to max_bps);
//   * request_probe(target) before the allocator moves a consumer up a layer:
//     clusters at 1.5x and 2x the target, no further exponential steps;
//   * a cluster sends at its target rate for at least 15 ms and 5 packets;
//     media sent meanwhile counts as part of it (libwebrtc's pacer does the
//     same), padding or RTX flagged with its id makes up the rest;
//   * its result needs 80 % of those packets and bytes acknowledged: send
//     rate = bytes (minus the last sent) / send interval, receive rate =
//     bytes (minus the first arrived) / receive interval, both intervals in
//     (0, 1 s], receive/send <= 2; the result is min(send, receive), or
//     0.95 x receive when receive < 0.9 x send (the link saturated);
//   * unless the detector signals overuse, a result above the delay-based
//     estimate replaces it, and so does a lower one from a saturated cluster
//     (receive < 0.9 x send: the link's capacity was measured, as when the
//     initial probes hit a slow link); one that merely got its target
//     through never lowers it. The loss-based estimate is raised to it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/time.hpp"
#include "rtp/rtcp/transport_cc.hpp"
#include "server/bwe/delay_based_estimator.hpp"
#include "server/bwe/loss_based_estimator.hpp"
#include "server/bwe/send_side_history.hpp"

namespace sfu::server::bwe {

struct BweConfig {
  uint64_t start_bps = 300'000;  // see DelayBasedConfig::start_bps
  uint64_t min_bps = 30'000;
  uint64_t max_bps = 20'000'000;
  bool initial_probing = true;
};

// Probe traffic to send now: at least `bytes` (round up to whole packets),
// as padding or RTX, each packet given to on_packet_sent with
// PacketFlags::probe_cluster = cluster_id.
struct ProbeRequest {
  int16_t cluster_id = 0;
  uint64_t target_bps = 0;
  size_t bytes = 0;
};

// A probe cluster's measured rate.
struct ProbeResult {
  int16_t cluster_id = 0;
  uint64_t target_bps = 0;
  uint64_t bps = 0;
  bool saturated = false;  // received slower than sent: bps measures the link itself
  Instant at{};
};

class ProbeController {
 public:
  static constexpr size_t kMaxClusters = 4;
  static constexpr Duration kMinDuration = milliseconds(15);
  static constexpr uint32_t kMinPackets = 5;
  static constexpr Duration kMaxWait = seconds(1);  // for sending, and for a result

  explicit ProbeController(uint64_t max_bps) : max_bps_(max_bps) {}

  // Queues a cluster at `target_bps` (clamped to max_bps); returns its id.
  // The oldest cluster is forgotten when kMaxClusters are in use.
  int16_t add_cluster(Instant now, uint64_t target_bps);
  // Initial exponential probing from `start_bps` (3x, 6x, then 2x results).
  void start_exponential(Instant now, uint64_t start_bps);
  // Pacing: what to send now for the cluster being sent, if anything.
  std::optional<ProbeRequest> poll(Instant now);
  // When poll() will next have something; Instant{} for "at once".
  std::optional<Instant> poll_timeout() const;
  // A cluster was created less than kMaxWait ago (being sent, or its result
  // awaited).
  bool busy(Instant now) const;
  // The cluster being sent (its first packet sent, not yet complete), if any.
  std::optional<int16_t> sending_cluster() const;

  // A packet of `bytes` was sent at `now` for cluster `cluster_id` (unknown
  // ids and finished clusters are ignored). The first one starts the
  // cluster's clock; 15 ms' worth and 5 packets complete it.
  void on_sent(Instant now, int16_t cluster_id, size_t bytes);
  // An acknowledged packet of a cluster (r.probe_cluster), from feedback.
  void on_result(const PacketResult& r);
  // The best valid result among clusters that got results since the last
  // call; continues exponential probing when it qualifies.
  std::optional<ProbeResult> evaluate(Instant now);

 private:
  struct Cluster {
    int16_t id = -1;
    uint64_t target_bps = 0;
    Instant created{};
    std::optional<Instant> start;
    uint64_t min_bytes = 0;
    uint64_t sent_bytes = 0;
    uint32_t sent_packets = 0;
    bool sending = false;
    bool touched = false;  // results since the last evaluate()
    Instant done_at{};
    // Acknowledged probe packets.
    uint32_t recv_packets = 0;
    uint64_t recv_bytes = 0;
    int64_t first_send_us = 0, last_send_us = 0, first_arrival_us = 0, last_arrival_us = 0;
    uint16_t last_send_size = 0, first_arrival_size = 0;
  };
  Cluster* find(int16_t id);
  Cluster* active();
  const Cluster* active() const;
  struct Measurement {
    uint64_t bps;
    bool saturated;
  };
  static std::optional<Measurement> measure(const Cluster& c);

  std::array<Cluster, kMaxClusters> clusters_{};
  size_t next_slot_ = 0;
  int16_t next_id_ = 0;
  uint64_t max_bps_;
  // Exponential probing: continue while a result >= further_min_bps_ comes
  // before further_deadline_.
  uint64_t further_min_bps_ = 0;
  Instant further_deadline_{};
};

class BandwidthEstimator {
 public:
  explicit BandwidthEstimator(const BweConfig& config = {});

  // Every outgoing RTP packet (media, RTX, padding, probes) as it is handed
  // to the socket; returns the transport-wide sequence number to write into
  // its extension. Packets sent for a ProbeRequest carry its cluster id in
  // flags.probe_cluster; others sent while a cluster runs are counted in it.
  // O(1), allocation-free.
  uint16_t on_packet_sent(Instant send_time, size_t size, PacketFlags flags = {});

  // A transport-cc feedback packet from the subscriber, parsed by
  // rtp::rtcp::parse_transport_cc. Updates every estimator.
  void on_feedback(Instant now, const rtp::rtcp::TransportCcView& feedback);

  // A round-trip time measurement (from RTCP RR/DLSR or STUN consent checks).
  void on_rtt(Duration rtt);
  // A REMB from the receiver (its estimate of what it can take).
  void on_remb(Instant now, uint64_t bps);
  // Transport-cc feedback has arrived: the estimate is our own. Until then
  // (REMB only, or nothing yet) the allocator keeps base layers
  // (Allocator::allocate's keep_base_layers): a receiver's estimate climbs
  // only with traffic, and nothing has measured the path yet.
  bool has_transport_cc() const { return transport_cc_seen_; }

  static constexpr uint64_t kNoFeedbackFloorBps = 2'000'000;
  static constexpr Duration kRembWindow = seconds(3);
  static constexpr Duration kNoFeedbackGrace = seconds(3);

  // The estimate: min(delay-based, loss-based), in [min_bps, max_bps].
  uint64_t estimate_bps() const;
  // The parts, for metrics and tests: the two estimates, R_hat, the
  // detector's last signal.
  uint64_t delay_based_bps() const { return delay_.estimate_bps(); }
  uint64_t loss_based_bps() const { return loss_.estimate_bps(); }
  std::optional<uint64_t> acked_bps() const { return history_.acked_bitrate_bps(); }
  BandwidthUsage usage() const { return delay_.usage(); }

  // Asks for probing towards `target_bps` (the total the allocator would
  // like to send) before a layer upgrade: clusters at 1.5x and 2x the target.
  // Ignored while another probe is sent or awaited (busy()), or when
  // target_bps is 0. Needs poll_probe() to be driven, and padding/RTX to send.
  void request_probe(Instant now, uint64_t target_bps);

  // Probe traffic due now; call when poll_timeout() is reached, send what it
  // asks, repeat until nullopt. Also starts initial probing on first call.
  std::optional<ProbeRequest> poll_probe(Instant now);

  // When poll_probe() next has something; nullopt when idle. A time in the
  // past (Instant{}) means at once.
  std::optional<Instant> poll_timeout() const;

  // The last valid probe result, if any (for the allocator's upgrade rule).
  std::optional<ProbeResult> last_probe_result() const { return last_probe_; }

 private:
  BweConfig config_;
  SendSideHistory history_;
  DelayBasedEstimator delay_;
  LossBasedEstimator loss_;
  ProbeController probes_;
  std::optional<ProbeResult> last_probe_;
  bool transport_cc_seen_ = false;
  std::optional<uint64_t> remb_bps_;  // max over the window
  struct RembSample {
    Instant at{};
    uint64_t bps = 0;
  };
  std::array<RembSample, 16> remb_window_{};  // ring, newest at remb_next_ - 1
  size_t remb_next_ = 0;
  std::optional<Instant> first_sent_;
  bool no_feedback_ = false;  // kNoFeedbackGrace passed without any
  bool initial_probe_pending_;
};

}  // namespace sfu::server::bwe
