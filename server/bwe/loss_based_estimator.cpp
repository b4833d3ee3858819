#include "server/bwe/loss_based_estimator.hpp"

#include <algorithm>

namespace sfu::server::bwe {

namespace {
constexpr Duration kDecreaseInterval = milliseconds(300);  // + RTT
}  // namespace

LossBasedEstimator::LossBasedEstimator(const LossBasedConfig& config)
    : config_(config), estimate_bps_(std::clamp(config.start_bps, config.min_bps, config.max_bps)) {}

uint64_t LossBasedEstimator::clamp(double bps) const {
  return std::clamp(uint64_t(std::max(bps, 0.0)), config_.min_bps, config_.max_bps);
}

void LossBasedEstimator::on_feedback(Instant now, uint32_t received, uint32_t lost, uint64_t delay_based_bps) {
  interval_received_ += received;
  interval_lost_ += lost;
  const uint32_t reported = interval_received_ + interval_lost_;
  if (reported < config_.min_packets) return;
  const double p = double(interval_lost_) / double(reported);
  interval_received_ = interval_lost_ = 0;
  last_loss_ = p;

  const double in_force = double(std::min(estimate_bps_, delay_based_bps));
  if (p < config_.increase_below) {
    estimate_bps_ = clamp(config_.increase_factor * in_force);
  } else if (p <= config_.decrease_above) {
    estimate_bps_ = clamp(in_force);
  } else if (!last_decrease_ || now - *last_decrease_ >= kDecreaseInterval + rtt_) {
    estimate_bps_ = clamp(in_force * (1 - 0.5 * p));
    last_decrease_ = now;
  } else {
    estimate_bps_ = clamp(in_force);
  }
}

void LossBasedEstimator::on_probe(uint64_t bps) { estimate_bps_ = std::max(estimate_bps_, clamp(double(bps))); }

}  // namespace sfu::server::bwe
