#include "server/bwe/delay_based_estimator.hpp"

#include <algorithm>
#include <cmath>

namespace sfu::server::bwe {

// ---- InterArrival (§5.2) -----------------------------------------------------

bool InterArrival::belongs(const PacketResult& r) const {
  const Group& g = *current_;
  if (r.send_us - g.first_send_us <= kBurstUs) return true;  // same 5 ms send burst
  // §5.2: a packet arriving less than burst_time after the previous one with
  // d(i) < 0 was queued behind it: same group (bounded to 100 ms).
  const int64_t arrival_delta = r.arrival_us - g.last_arrival_us;
  const int64_t propagation_delta = arrival_delta - (r.send_us - g.last_send_us);
  return arrival_delta < kBurstUs && propagation_delta < 0 && r.arrival_us - g.first_arrival_us < kMaxBurstUs;
}

std::optional<InterArrival::Delta> InterArrival::add(const PacketResult& r) {
  if (!current_) {
    current_ = Group{r.send_us, r.send_us, r.arrival_us, r.arrival_us};
    return std::nullopt;
  }
  if (r.send_us < current_->first_send_us) return std::nullopt;  // reordered
  if (belongs(r)) {
    current_->last_send_us = std::max(current_->last_send_us, r.send_us);
    current_->last_arrival_us = std::max(current_->last_arrival_us, r.arrival_us);
    return std::nullopt;
  }
  std::optional<Delta> out;
  if (previous_) {
    const int64_t send_delta = current_->last_send_us - previous_->last_send_us;
    const int64_t arrival_delta = current_->last_arrival_us - previous_->last_arrival_us;
    if (arrival_delta < 0 || arrival_delta > kTimeoutUs) {
      previous_.reset();  // clock jump or a long pause: start over
    } else {
      out = Delta{double(send_delta) / 1000.0, double(arrival_delta) / 1000.0, current_->last_arrival_us};
    }
  }
  previous_ = current_;
  current_ = Group{r.send_us, r.send_us, r.arrival_us, r.arrival_us};
  return out;
}

void InterArrival::reset() {
  current_.reset();
  previous_.reset();
}

// ---- TrendlineFilter (§5.3) --------------------------------------------------

namespace {
constexpr double kSmoothing = 0.9;
constexpr double kThresholdGain = 4.0;
constexpr uint32_t kMaxDeltaCount = 60;
}  // namespace

std::optional<double> TrendlineFilter::slope() const {
  double x_avg = 0, y_avg = 0;
  for (size_t i = 0; i < count_; ++i) {
    x_avg += points_[i].x_ms;
    y_avg += points_[i].y_ms;
  }
  x_avg /= double(count_);
  y_avg /= double(count_);
  double num = 0, den = 0;
  for (size_t i = 0; i < count_; ++i) {
    const double dx = points_[i].x_ms - x_avg;
    num += dx * (points_[i].y_ms - y_avg);
    den += dx * dx;
  }
  if (den == 0) return std::nullopt;
  return num / den;
}

double TrendlineFilter::update(double delay_variation_ms, int64_t arrival_us) {
  if (!first_arrival_us_) first_arrival_us_ = arrival_us;
  if (num_deltas_ < UINT32_MAX) ++num_deltas_;
  accumulated_ms_ += delay_variation_ms;
  smoothed_ms_ = kSmoothing * smoothed_ms_ + (1 - kSmoothing) * accumulated_ms_;
  points_[head_] = Point{double(arrival_us - *first_arrival_us_) / 1000.0, smoothed_ms_};
  head_ = (head_ + 1) % kWindow;
  if (count_ < kWindow) ++count_;
  // libwebrtc waits for a full window; we fit from kMinPoints on, so that a
  // queue filling at start-up (initial probes into a slow link) is seen
  // before a drop-tail buffer is full and the delay stops growing. The
  // min(n, 60) factor keeps these early, noisier slopes small.
  if (count_ >= kMinPoints) {
    if (auto s = slope()) trend_ = *s;
  }
  return double(std::min(num_deltas_, kMaxDeltaCount)) * trend_ * kThresholdGain;
}

void TrendlineFilter::reset() { *this = TrendlineFilter{}; }

// ---- OveruseDetector (§5.4) --------------------------------------------------

namespace {
constexpr double kOverusingTimeMs = 10;  // §5.4 overuse_time_th
constexpr double kMaxAdaptOffsetMs = 15;
constexpr double kMinThresholdMs = 6;
constexpr double kMaxThresholdMs = 600;
constexpr int64_t kMaxAdaptStepUs = 100'000;
}  // namespace

BandwidthUsage OveruseDetector::detect(double m, double trend, double ts_delta_ms, int64_t arrival_us,
                                       uint32_t num_deltas) {
  if (num_deltas < 2) return state_ = BandwidthUsage::normal;
  if (m > threshold_) {
    time_over_using_ms_ = time_over_using_ms_ < 0 ? ts_delta_ms / 2 : time_over_using_ms_ + ts_delta_ms;
    ++overuse_counter_;
    if (time_over_using_ms_ > kOverusingTimeMs && overuse_counter_ > 1 && trend >= prev_trend_) {
      time_over_using_ms_ = 0;
      overuse_counter_ = 0;
      state_ = BandwidthUsage::overusing;
    }
  } else if (m < -threshold_) {
    time_over_using_ms_ = -1;
    overuse_counter_ = 0;
    state_ = BandwidthUsage::underusing;
  } else {
    time_over_using_ms_ = -1;
    overuse_counter_ = 0;
    state_ = BandwidthUsage::normal;
  }
  prev_trend_ = trend;
  update_threshold(m, arrival_us);
  return state_;
}

void OveruseDetector::update_threshold(double m, int64_t arrival_us) {
  if (!last_update_us_) last_update_us_ = arrival_us;
  const double abs_m = std::fabs(m);
  if (abs_m > threshold_ + kMaxAdaptOffsetMs) {
    // A spike (a sudden queue, a route change) must not drag the threshold.
    last_update_us_ = arrival_us;
    return;
  }
  const double k = abs_m < threshold_ ? k_down_ : k_up_;
  const int64_t dt_us = std::clamp<int64_t>(arrival_us - *last_update_us_, 0, kMaxAdaptStepUs);
  threshold_ += k * (abs_m - threshold_) * double(dt_us) / 1000.0;
  threshold_ = std::clamp(threshold_, kMinThresholdMs, kMaxThresholdMs);
  last_update_us_ = arrival_us;
}

// ---- AimdRateControl (§5.5) --------------------------------------------------

namespace {
constexpr double kMinAdditiveBps = 1000;  // §5.5 max(1000, ...)
constexpr double kAckedHeadroom = 1.5;    // §5.5 A_hat < 1.5 R_hat
constexpr double kAckedSlackBps = 10'000;
constexpr double kCapacityAlpha = 0.05;
constexpr double kAssumedFps = 30;  // to guess the packet size from the rate
constexpr double kMtuBits = 1200 * 8;
double seconds_of(Duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

AimdRateControl::AimdRateControl(const DelayBasedConfig& config)
    : config_(config), rate_bps_(double(std::clamp(config.start_bps, config.min_bps, config.max_bps))) {}

void AimdRateControl::transition(BandwidthUsage usage) {
  switch (usage) {
    case BandwidthUsage::overusing: state_ = State::decrease; break;
    case BandwidthUsage::underusing: state_ = State::hold; break;
    case BandwidthUsage::normal: state_ = state_ == State::decrease ? State::hold : State::increase; break;
  }
}

double AimdRateControl::additive_increase(double dt_s) const {
  // Expected packet size: a 30 fps frame of the current rate split into
  // MTU-sized packets (libwebrtc's guess; the draft leaves it open).
  const double frame_bits = rate_bps_ / kAssumedFps;
  const double packets = std::max(1.0, std::ceil(frame_bits / kMtuBits));
  const double packet_bits = frame_bits / packets;
  const double response_s = seconds_of(rtt_) + 0.1;
  const double alpha = 0.5 * std::min(dt_s / response_s, 1.0);
  return std::max(kMinAdditiveBps, alpha * packet_bits);
}

double AimdRateControl::increased(double dt_s, std::optional<uint64_t> acked_bps) {
  if (acked_bps && capacity_kbps_) {
    const double upper = *capacity_kbps_ + 3 * std::sqrt(*capacity_kbps_ * capacity_var_);
    if (double(*acked_bps) / 1000 > upper) capacity_kbps_.reset();  // the link got faster
  }
  double next = capacity_kbps_ ? rate_bps_ + additive_increase(dt_s)
                               : rate_bps_ * std::pow(config_.eta_per_s, std::min(dt_s, 1.0));
  if (acked_bps) next = std::min(next, std::max(rate_bps_, kAckedHeadroom * double(*acked_bps) + kAckedSlackBps));
  return next;
}

void AimdRateControl::update_capacity(double acked_kbps) {
  if (!capacity_kbps_) {
    capacity_kbps_ = acked_kbps;
  } else {
    *capacity_kbps_ = (1 - kCapacityAlpha) * *capacity_kbps_ + kCapacityAlpha * acked_kbps;
  }
  const double error = *capacity_kbps_ - acked_kbps;
  capacity_var_ = (1 - kCapacityAlpha) * capacity_var_ + kCapacityAlpha * error * error / std::max(*capacity_kbps_, 1.0);
  capacity_var_ = std::clamp(capacity_var_, 0.4, 2.5);
}

void AimdRateControl::decrease(Instant now, uint64_t acked_bps) {
  // §5.5: A = beta · R_hat, a little under what gets through, so the queue
  // drains. When that is no decrease (R_hat still shows the rate before the
  // last decrease, or probe traffic), fall back to beta times the capacity
  // estimate; never increase on overuse (libwebrtc's rule, which keeps
  // back-to-back overuse signals from compounding beta · beta · ...).
  double next = config_.beta * double(acked_bps);
  if (next >= rate_bps_ && capacity_kbps_) next = config_.beta * *capacity_kbps_ * 1000;
  if (next < rate_bps_) rate_bps_ = next;
  update_capacity(double(acked_bps) / 1000);
  last_decrease_ = now;
}

uint64_t AimdRateControl::update(Instant now, BandwidthUsage usage, std::optional<uint64_t> acked_bps) {
  const double dt_s = last_update_ ? std::max(0.0, seconds_of(now - *last_update_)) : 0.0;
  last_update_ = now;
  if (usage == BandwidthUsage::overusing && !(acked_bps && time_to_reduce_further(now, *acked_bps))) {
    // Overuse persists but the last decrease has not had time to show (or
    // R_hat is unknown): hold rather than decrease again.
    state_ = State::hold;
    return estimate_bps();
  }
  transition(usage);
  if (state_ == State::increase) {
    rate_bps_ = increased(dt_s, acked_bps);
  } else if (state_ == State::decrease) {
    if (acked_bps) decrease(now, *acked_bps);
    state_ = State::hold;  // one decrease per overuse signal
  }
  rate_bps_ = std::clamp(rate_bps_, double(config_.min_bps), double(config_.max_bps));
  return estimate_bps();
}

void AimdRateControl::set_estimate(Instant now, uint64_t bps) {
  rate_bps_ = double(std::clamp(bps, config_.min_bps, config_.max_bps));
  last_update_ = now;
}

bool AimdRateControl::time_to_reduce_further(Instant now, uint64_t acked_bps) const {
  if (!last_decrease_) return true;
  const Duration interval = std::clamp<Duration>(rtt_, milliseconds(10), milliseconds(200));
  if (now - *last_decrease_ >= interval) return true;
  return double(acked_bps) < 0.5 * rate_bps_;
}

// ---- DelayBasedEstimator -----------------------------------------------------

DelayBasedEstimator::DelayBasedEstimator(const DelayBasedConfig& config)
    : detector_(config.k_up, config.k_down), rate_(config) {}

void DelayBasedEstimator::update(Instant now, std::span<const PacketResult> received,
                                 std::optional<uint64_t> acked_bps) {
  if (received.empty()) return;
  bool overused = false;
  for (const PacketResult& r : received) {
    const auto delta = inter_arrival_.add(r);
    if (!delta) continue;
    const double m = trendline_.update(delta->arrival_delta_ms - delta->send_delta_ms, delta->arrival_us);
    const BandwidthUsage u =
        detector_.detect(m, trendline_.trend(), delta->arrival_delta_ms, delta->arrival_us, trendline_.num_deltas());
    overused |= u == BandwidthUsage::overusing;
  }
  last_usage_ = overused ? BandwidthUsage::overusing : detector_.state();
  rate_.update(now, last_usage_, acked_bps);
}

}  // namespace sfu::server::bwe
