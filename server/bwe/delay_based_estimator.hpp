// GCC delay-based control (draft-ietf-rmcat-gcc-02 §5), send-side variant:
//
//   PacketResult (send time, arrival time, size), sorted by arrival
//     -> InterArrival     §5.2  5 ms send-time groups (+ arrival bursts)
//     -> TrendlineFilter  §5.3  (libwebrtc's replacement of the draft's
//                               Kalman filter: least-squares slope of the
//                               smoothed accumulated delay over 20 groups)
//     -> OveruseDetector  §5.4  adaptive threshold, K_u = 0.01, K_d = 0.00018
//     -> AimdRateControl  §5.5  increase / hold / decrease, bounded [min, max]
//
// Each stage is a small class so tests can drive it alone. Everything is
// fixed-size; update() does no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/time.hpp"
#include "server/bwe/send_side_history.hpp"

namespace sfu::server::bwe {

// The overuse detector's signal (§5.4).
enum class BandwidthUsage : uint8_t { normal, overusing, underusing };

struct DelayBasedConfig {
  uint64_t start_bps = 300'000;  // libwebrtc's default start bitrate: safe on any link, one VGA-ish layer
  uint64_t min_bps = 30'000;     // audio plus a thumbnail still fit
  uint64_t max_bps = 20'000'000;
  double k_up = 0.01;        // §5.4 K_u, per ms
  double k_down = 0.00018;   // §5.4 K_d, per ms
  double beta = 0.85;        // §5.5 decrease factor
  double eta_per_s = 1.08;   // §5.5 multiplicative increase per second
};

// §5.2 pre-filtering. Packets sent within 5 ms of a group's first packet
// form one group; so do packets arriving within 5 ms of the previous one
// with a negative propagation delta (a burst queued behind something), for
// at most 100 ms of arrival time.
class InterArrival {
 public:
  static constexpr int64_t kBurstUs = 5'000;
  static constexpr int64_t kMaxBurstUs = 100'000;
  static constexpr int64_t kTimeoutUs = 2'000'000;  // a gap this long restarts grouping

  struct Delta {
    double send_delta_ms = 0;     // between the last packets of two groups
    double arrival_delta_ms = 0;  // idem, by the receiver's clock
    int64_t arrival_us = 0;       // arrival of the newer group's last packet
  };

  // Feeds one packet (in arrival order). Returns the deltas between the two
  // groups before it when `r` starts a new group. Packets sent before the
  // current group started (reordered) are ignored.
  std::optional<Delta> add(const PacketResult& r);
  // Forgets both groups (the next two groups give no delta).
  void reset();

 private:
  struct Group {
    int64_t first_send_us = 0;
    int64_t last_send_us = 0;
    int64_t first_arrival_us = 0;
    int64_t last_arrival_us = 0;
  };
  bool belongs(const PacketResult& r) const;

  std::optional<Group> current_;
  std::optional<Group> previous_;
};

// §5.3 arrival-time filter. d(i) = arrival delta - send delta is accumulated,
// exponentially smoothed (coefficient 0.9) and a line is fitted through the
// last kWindow (arrival time, smoothed delay) points (at least kMinPoints);
// its slope is the trend.
// The detector sees modified_trend = min(n, 60) · slope · 4 (libwebrtc's
// scaling: n = deltas seen, 4 = threshold gain), comparable with ms.
class TrendlineFilter {
 public:
  static constexpr size_t kWindow = 20;
  static constexpr size_t kMinPoints = 5;  // fewer: trend 0

  // Adds one group delta; returns the modified trend.
  double update(double delay_variation_ms, int64_t arrival_us);
  // The last fitted slope (ms of delay per ms of arrival time); 0 at first.
  double trend() const { return trend_; }
  // Group deltas seen so far.
  uint32_t num_deltas() const { return num_deltas_; }
  // Back to the initial state.
  void reset();

 private:
  struct Point {
    double x_ms = 0;
    double y_ms = 0;
  };
  std::optional<double> slope() const;

  std::array<Point, kWindow> points_{};
  size_t count_ = 0;
  size_t head_ = 0;  // next slot to write
  std::optional<int64_t> first_arrival_us_;
  double accumulated_ms_ = 0;
  double smoothed_ms_ = 0;
  double trend_ = 0;
  uint32_t num_deltas_ = 0;
};

// §5.4 over-use detector with the adaptive threshold del_var_th:
//   del_var_th(i) = del_var_th(i-1) + dt · K(i) · (|m(i)| - del_var_th(i-1)),
//   K = K_d when |m| < del_var_th else K_u; clamped to [6, 600] ms and not
//   adapted when |m| exceeds it by more than 15 ms (a sudden spike, §5.4).
// Overuse is signalled after m stayed above the threshold for more than
// 10 ms (overuse_time_th) over at least two groups and m is not decreasing;
// underuse as soon as m < -threshold; otherwise normal.
class OveruseDetector {
 public:
  OveruseDetector(double k_up, double k_down) : k_up_(k_up), k_down_(k_down) {}

  // m = modified trend, ts_delta_ms = arrival delta of the group, arrival_us
  // = its arrival time (drives the threshold adaptation), num_deltas = groups
  // seen (fewer than 2: always normal).
  BandwidthUsage detect(double m, double trend, double ts_delta_ms, int64_t arrival_us, uint32_t num_deltas);
  // The last signal, and the current del_var_th (ms).
  BandwidthUsage state() const { return state_; }
  double threshold() const { return threshold_; }

 private:
  void update_threshold(double m, int64_t arrival_us);

  double k_up_;
  double k_down_;
  double threshold_ = 12.5;  // §5.4 initial del_var_th, ms
  std::optional<int64_t> last_update_us_;
  double time_over_using_ms_ = -1;
  uint32_t overuse_counter_ = 0;
  double prev_trend_ = 0;
  BandwidthUsage state_ = BandwidthUsage::normal;
};

// §5.5 rate control. States and transitions:
//
//            | hold      increase   decrease
//   ---------+-------------------------------
//   overuse  | decrease  decrease   decrease
//   normal   | increase  increase   hold
//   underuse | hold      hold       hold
//
// Decrease: A = beta · R_hat (acknowledged bitrate), once, then hold.
// Increase: multiplicative (eta_per_s per second) while far from the link
// capacity, additive (max(1 kbit, alpha · packet size) per update, alpha =
// 0.5 · min(dt / (RTT + 100 ms), 1)) once near it. "Near": within 3 standard
// deviations of the average R_hat at past decreases (libwebrtc's link
// capacity estimate); an R_hat above that band forgets it. Never more than
// 1.5 · R_hat + 10 kbit/s (§5.5: don't diverge from what is actually sent).
class AimdRateControl {
 public:
  explicit AimdRateControl(const DelayBasedConfig& config);

  // Applies one detector signal at `now`; returns the new estimate. While
  // overuse persists, decreases again only when time_to_reduce_further()
  // (and R_hat is known); otherwise holds.
  uint64_t update(Instant now, BandwidthUsage usage, std::optional<uint64_t> acked_bps);
  // Overrides the estimate (probe result), clamped to [min, max].
  void set_estimate(Instant now, uint64_t bps);
  // RTT for the additive increase's response time and the decrease spacing
  // (default 100 ms until told).
  void set_rtt(Duration rtt) { rtt_ = rtt; }
  uint64_t estimate_bps() const { return uint64_t(rate_bps_); }
  // Whether another decrease is allowed while overuse persists: at most once
  // per RTT (clamped to [10, 200] ms), or at once when R_hat fell below half
  // the estimate (libwebrtc's rule).
  bool time_to_reduce_further(Instant now, uint64_t acked_bps) const;
  // Whether a link capacity estimate exists (increase is additive then).
  bool near_capacity() const { return capacity_kbps_.has_value(); }

 private:
  enum class State : uint8_t { hold, increase, decrease };
  void transition(BandwidthUsage usage);
  double increased(double dt_s, std::optional<uint64_t> acked_bps);
  void decrease(Instant now, uint64_t acked_bps);
  void update_capacity(double acked_kbps);
  double additive_increase(double dt_s) const;

  DelayBasedConfig config_;
  double rate_bps_;
  State state_ = State::increase;
  std::optional<Instant> last_update_;
  std::optional<Instant> last_decrease_;
  Duration rtt_ = milliseconds(100);
  std::optional<double> capacity_kbps_;  // average R_hat at decreases
  double capacity_var_ = 0.4;            // normalised variance, kbit/s
};

// The composition: feed it each feedback's received packets.
class DelayBasedEstimator {
 public:
  explicit DelayBasedEstimator(const DelayBasedConfig& config = {});

  // Runs the packets of one feedback (sorted by arrival, as
  // SendSideHistory::on_feedback returns them) through the detector, then
  // updates the rate once: overuse anywhere in the batch counts as overuse.
  // `acked_bps` is R_hat; without it a decrease waits.
  void update(Instant now, std::span<const PacketResult> received, std::optional<uint64_t> acked_bps);
  // A probe result (or any outside knowledge) replaces the estimate.
  void set_estimate(Instant now, uint64_t bps) { rate_.set_estimate(now, bps); }
  // See AimdRateControl::set_rtt.
  void set_rtt(Duration rtt) { rate_.set_rtt(rtt); }

  // The delay-based estimate, in [min_bps, max_bps].
  uint64_t estimate_bps() const { return rate_.estimate_bps(); }
  // The detector's signal after the last update().
  BandwidthUsage usage() const { return last_usage_; }
  // Detector internals, for metrics and tests.
  double threshold_ms() const { return detector_.threshold(); }
  double trend() const { return trendline_.trend(); }

 private:
  InterArrival inter_arrival_;
  TrendlineFilter trendline_;
  OveruseDetector detector_;
  AimdRateControl rate_;
  BandwidthUsage last_usage_ = BandwidthUsage::normal;
};

}  // namespace sfu::server::bwe
