#include "server/bwe/bandwidth_estimator.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace sfu::server::bwe {

namespace {
constexpr double kFirstExponentialScale = 3.0;   // initial clusters: 3x and 6x start
constexpr double kSecondExponentialScale = 6.0;
constexpr double kFurtherScale = 2.0;            // then 2x each good result
constexpr double kFurtherMinFraction = 0.7;      // "good": >= 70 % of the target
constexpr double kRequestLowScale = 1.5;         // request_probe: 1.5x and 2x
constexpr double kRequestHighScale = 2.0;
constexpr double kMinReceivedFraction = 0.8;     // of packets and bytes
constexpr int64_t kMaxIntervalUs = 1'000'000;
constexpr double kMaxValidRatio = 2.0;           // receive / send
constexpr double kSaturatedRatio = 0.9;
constexpr double kSaturatedUtilisation = 0.95;

double seconds_of(Duration d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

// ---- ProbeController ---------------------------------------------------------

int16_t ProbeController::add_cluster(Instant now, uint64_t target_bps) {
  Cluster& c = clusters_[next_slot_];
  next_slot_ = (next_slot_ + 1) % kMaxClusters;
  c = Cluster{};
  c.id = next_id_;
  next_id_ = next_id_ == INT16_MAX ? 0 : int16_t(next_id_ + 1);
  c.target_bps = std::max<uint64_t>(1, std::min(target_bps, max_bps_));
  c.created = now;
  c.min_bytes = uint64_t(double(c.target_bps) * seconds_of(kMinDuration) / 8);
  c.sending = true;
  return c.id;
}

void ProbeController::start_exponential(Instant now, uint64_t start_bps) {
  add_cluster(now, uint64_t(kFirstExponentialScale * double(start_bps)));
  const uint64_t second = uint64_t(kSecondExponentialScale * double(start_bps));
  add_cluster(now, second);
  further_min_bps_ = uint64_t(kFurtherMinFraction * double(std::min(second, max_bps_)));
  further_deadline_ = now + kMaxWait;
}

ProbeController::Cluster* ProbeController::find(int16_t id) {
  for (Cluster& c : clusters_) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

const ProbeController::Cluster* ProbeController::active() const {
  // Oldest first: slots in ring order starting at the next one to reuse.
  for (size_t i = 0; i < kMaxClusters; ++i) {
    const Cluster& c = clusters_[(next_slot_ + i) % kMaxClusters];
    if (c.id >= 0 && c.sending) return &c;
  }
  return nullptr;
}

ProbeController::Cluster* ProbeController::active() {
  return const_cast<Cluster*>(std::as_const(*this).active());
}

std::optional<ProbeRequest> ProbeController::poll(Instant now) {
  Cluster* c = active();
  while (c && now - c->created > kMaxWait) {  // never sent (no padding?): give up
    c->sending = false;
    c = active();
  }
  if (!c) return std::nullopt;
  // Its clock starts with its first packet (on_sent), not with this poll:
  // a transport that could not send yet (not connected) would otherwise
  // owe the whole cluster at once when it can, a burst that measures
  // nothing (send interval 0; seen on a 150 kbit/s link, whose estimate
  // then stayed at the unchecked start value).
  if (!c->start) return ProbeRequest{c->id, c->target_bps, 1};
  // Integer µs arithmetic, so that poll_timeout()'s instant is never a hair
  // early: bytes allowed so far = target · elapsed / 8.
  const uint64_t elapsed_us = uint64_t(std::max<int64_t>(0, to_micros(now) - to_micros(*c->start)));
  const uint64_t allowed = c->target_bps * elapsed_us / 8'000'000;
  if (c->sent_bytes > 0 && c->sent_bytes > allowed) return std::nullopt;
  return ProbeRequest{c->id, c->target_bps, size_t(std::max<uint64_t>(1, allowed - c->sent_bytes))};
}

std::optional<Instant> ProbeController::poll_timeout() const {
  const Cluster* c = active();
  if (!c) return std::nullopt;
  if (!c->start) return Instant{};
  // The first µs at which poll() allows sent_bytes + 1 (rounded up).
  const uint64_t due_us = (c->sent_bytes * 8'000'000 + c->target_bps - 1) / c->target_bps;
  return std::min(*c->start + microseconds(int64_t(due_us)), c->created + kMaxWait);
}

std::optional<int16_t> ProbeController::sending_cluster() const {
  const Cluster* c = active();
  if (!c || !c->start) return std::nullopt;
  return c->id;
}

bool ProbeController::busy(Instant now) const {
  // A cluster still sending after kMaxWait is abandoned by poll(), so age
  // alone decides (and a cluster nobody polls cannot block probing forever).
  for (const Cluster& c : clusters_) {
    if (c.id >= 0 && now - c.created < kMaxWait) return true;
  }
  return false;
}

void ProbeController::on_sent(Instant now, int16_t cluster_id, size_t bytes) {
  Cluster* c = find(cluster_id);
  if (!c || !c->sending) return;
  if (!c->start) c->start = now;
  c->sent_bytes += bytes;
  ++c->sent_packets;
  if (c->sent_bytes >= c->min_bytes && c->sent_packets >= kMinPackets) c->sending = false;
}

void ProbeController::on_result(const PacketResult& r) {
  Cluster* c = find(r.probe_cluster);
  if (!c) return;
  if (c->recv_packets == 0) {
    c->first_send_us = c->last_send_us = r.send_us;
    c->first_arrival_us = c->last_arrival_us = r.arrival_us;
    c->last_send_size = c->first_arrival_size = r.size;
  } else {
    c->first_send_us = std::min(c->first_send_us, r.send_us);
    if (r.send_us >= c->last_send_us) {
      c->last_send_us = r.send_us;
      c->last_send_size = r.size;
    }
    if (r.arrival_us < c->first_arrival_us) {
      c->first_arrival_us = r.arrival_us;
      c->first_arrival_size = r.size;
    }
    c->last_arrival_us = std::max(c->last_arrival_us, r.arrival_us);
  }
  ++c->recv_packets;
  c->recv_bytes += r.size;
  c->touched = true;
}

std::optional<ProbeController::Measurement> ProbeController::measure(const Cluster& c) {
  if (double(c.recv_packets) < kMinReceivedFraction * kMinPackets) return std::nullopt;
  if (double(c.recv_bytes) < kMinReceivedFraction * double(c.min_bytes)) return std::nullopt;
  const int64_t send_us = c.last_send_us - c.first_send_us;
  const int64_t recv_us = c.last_arrival_us - c.first_arrival_us;
  if (send_us <= 0 || send_us > kMaxIntervalUs || recv_us <= 0 || recv_us > kMaxIntervalUs) return std::nullopt;
  // The last packet sent opens no send interval; the first to arrive closes
  // no receive interval: leave their bytes out of each rate.
  const double send_bps = double(c.recv_bytes - c.last_send_size) * 8e6 / double(send_us);
  const double recv_bps = double(c.recv_bytes - c.first_arrival_size) * 8e6 / double(recv_us);
  if (recv_bps > kMaxValidRatio * send_bps) return std::nullopt;  // bunched up on the way: no signal
  if (recv_bps < kSaturatedRatio * send_bps) return Measurement{uint64_t(kSaturatedUtilisation * recv_bps), true};
  return Measurement{uint64_t(std::min(send_bps, recv_bps)), false};
}

std::optional<ProbeResult> ProbeController::evaluate(Instant now) {
  std::optional<ProbeResult> best;
  for (Cluster& c : clusters_) {
    if (!c.touched) continue;
    c.touched = false;
    const auto m = measure(c);
    if (m && (!best || m->bps > best->bps)) best = ProbeResult{c.id, c.target_bps, m->bps, m->saturated, now};
  }
  if (best && further_min_bps_ > 0 && now < further_deadline_ && best->bps >= further_min_bps_) {
    if (best->bps < max_bps_) {
      const uint64_t next = std::min(uint64_t(kFurtherScale * double(best->bps)), max_bps_);
      add_cluster(now, next);
      // A cluster clamped to max_bps is the last one (libwebrtc's
      // ProbeController: probe_further = false); otherwise a link faster
      // than max_bps would be probed at max_bps forever.
      further_min_bps_ = next < max_bps_ ? uint64_t(kFurtherMinFraction * double(next)) : 0;
      further_deadline_ = now + kMaxWait;
    } else {
      further_min_bps_ = 0;  // reached the ceiling
    }
  }
  return best;
}

// ---- BandwidthEstimator ------------------------------------------------------

BandwidthEstimator::BandwidthEstimator(const BweConfig& config)
    : config_(config),
      delay_(DelayBasedConfig{.start_bps = config.start_bps, .min_bps = config.min_bps, .max_bps = config.max_bps}),
      loss_(LossBasedConfig{.start_bps = config.start_bps, .min_bps = config.min_bps, .max_bps = config.max_bps}),
      probes_(config.max_bps),
      initial_probe_pending_(config.initial_probing) {}

uint16_t BandwidthEstimator::on_packet_sent(Instant send_time, size_t size, PacketFlags flags) {
  if (!first_sent_) first_sent_ = send_time;
  no_feedback_ = !transport_cc_seen_ && !remb_bps_ && send_time - *first_sent_ >= kNoFeedbackGrace;
  // Media sent while a cluster is being sent is part of it (as libwebrtc's
  // pacer does): the cluster measures everything that crossed the link, and
  // its padding only makes up the difference to the target rate.
  if (flags.probe_cluster == kNotProbe) flags.probe_cluster = probes_.sending_cluster().value_or(kNotProbe);
  if (flags.probe_cluster != kNotProbe) probes_.on_sent(send_time, flags.probe_cluster, size);
  return history_.on_packet_sent(send_time, size, flags);
}

void BandwidthEstimator::on_feedback(Instant now, const rtp::rtcp::TransportCcView& feedback) {
  transport_cc_seen_ = true;
  no_feedback_ = false;
  const FeedbackSummary summary = history_.on_feedback(now, feedback);
  const auto acked = history_.acked_bitrate_bps();
  delay_.update(now, summary.received, acked);
  loss_.on_feedback(now, summary.received_count, summary.lost, delay_.estimate_bps());
  for (const PacketResult& r : summary.received) {
    if (r.probe_cluster != kNotProbe) probes_.on_result(r);
  }
  const auto probe = probes_.evaluate(now);
  if (!probe) return;
  last_probe_ = probe;
  if (delay_.usage() == BandwidthUsage::overusing) return;  // the queue says otherwise
  if (probe->bps > delay_.estimate_bps() || probe->saturated) delay_.set_estimate(now, probe->bps);
  loss_.on_probe(probe->bps);
}

void BandwidthEstimator::on_rtt(Duration rtt) {
  delay_.set_rtt(rtt);
  loss_.set_rtt(rtt);
}

void BandwidthEstimator::on_remb(Instant now, uint64_t bps) {
  if (transport_cc_seen_) return;
  remb_window_[remb_next_++ % remb_window_.size()] = RembSample{now, bps};
  uint64_t best = 0;
  for (const RembSample& r : remb_window_)
    if (r.at != Instant{} && now - r.at < kRembWindow) best = std::max(best, r.bps);
  remb_bps_ = std::max(best, bps);
  no_feedback_ = false;
}

uint64_t BandwidthEstimator::estimate_bps() const {
  if (!transport_cc_seen_ && remb_bps_) return std::clamp(*remb_bps_, config_.min_bps, config_.max_bps);
  const uint64_t gcc = std::clamp(std::min(delay_.estimate_bps(), loss_.estimate_bps()), config_.min_bps, config_.max_bps);
  return no_feedback_ ? std::max(gcc, std::min(kNoFeedbackFloorBps, config_.max_bps)) : gcc;
}

void BandwidthEstimator::request_probe(Instant now, uint64_t target_bps) {
  if (target_bps == 0 || probes_.busy(now)) return;
  probes_.add_cluster(now, uint64_t(kRequestLowScale * double(target_bps)));
  probes_.add_cluster(now, uint64_t(kRequestHighScale * double(target_bps)));
}

std::optional<ProbeRequest> BandwidthEstimator::poll_probe(Instant now) {
  if (initial_probe_pending_) {
    initial_probe_pending_ = false;
    probes_.start_exponential(now, config_.start_bps);
  }
  return probes_.poll(now);
}

std::optional<Instant> BandwidthEstimator::poll_timeout() const {
  if (initial_probe_pending_) return Instant{};
  return probes_.poll_timeout();
}

}  // namespace sfu::server::bwe
