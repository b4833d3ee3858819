// GCC loss-based control (draft-ietf-rmcat-gcc-02 §6). Runs beside the
// delay-based controller; the sender uses min(delay-based, loss-based).
//
// Loss is measured over intervals of at least kMinPackets reported packets
// (libwebrtc's 20; fewer make 1 loss look like 10 %), accumulated across
// feedback packets. At the end of each interval, with p = lost / reported and
// A = the estimate in force (min of this one and the delay-based one):
//
//   p <  2 %        As = 1.05 · A              (§6: increase)
//   2 % <= p <= 10 % As = A                     (§6: hold)
//   p > 10 %        As = A · (1 - 0.5 · p)      (§6: decrease)
//
// Basing the step on A rather than on As alone keeps As from running away
// above the delay-based estimate while nothing is lost (so that a later
// loss event cuts the rate actually in use), as libwebrtc does by basing its
// loss-based step on the current target. Decreases happen at most once per
// 300 ms + RTT (libwebrtc) so one loss burst reported in several feedback
// packets counts once; in between, a > 10 % interval holds.
#pragma once

#include <cstdint>
#include <optional>

#include "common/time.hpp"

namespace sfu::server::bwe {

struct LossBasedConfig {
  uint64_t start_bps = 300'000;
  uint64_t min_bps = 30'000;
  uint64_t max_bps = 20'000'000;
  uint32_t min_packets = 20;
  double increase_below = 0.02;  // §6
  double decrease_above = 0.10;  // §6
  double increase_factor = 1.05;
};

class LossBasedEstimator {
 public:
  explicit LossBasedEstimator(const LossBasedConfig& config = {});

  // Adds one feedback's counts (packets newly reported received and lost).
  // `delay_based_bps` is the delay-based estimate now in force. Updates the
  // estimate when an interval of min_packets completes.
  void on_feedback(Instant now, uint32_t received, uint32_t lost, uint64_t delay_based_bps);

  // A successful probe showed the link carries `bps`: never limit below it
  // (libwebrtc resets its loss-based target to the probe result).
  void on_probe(uint64_t bps);

  // RTT for the decrease spacing (default 100 ms until told).
  void set_rtt(Duration rtt) { rtt_ = rtt; }

  // The loss-based estimate As, in [min_bps, max_bps].
  uint64_t estimate_bps() const { return estimate_bps_; }
  // Loss fraction of the last completed interval.
  std::optional<double> last_loss() const { return last_loss_; }

 private:
  uint64_t clamp(double bps) const;

  LossBasedConfig config_;
  uint64_t estimate_bps_;
  uint32_t interval_received_ = 0;
  uint32_t interval_lost_ = 0;
  std::optional<double> last_loss_;
  std::optional<Instant> last_decrease_;
  Duration rtt_ = milliseconds(100);
};

}  // namespace sfu::server::bwe
