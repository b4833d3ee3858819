#include "server/bwe/allocator.hpp"

#include <algorithm>

namespace sfu::server::bwe {

namespace {

struct Layer {
  int8_t spatial;
  int8_t temporal;
};

// (s, t) order: (0,0) < (0,1) < ... < (1,0) < ...; (-1,-1) is "nothing".
bool above(Layer a, int8_t spatial, int8_t temporal) {
  return a.spatial != spatial ? a.spatial > spatial : a.temporal > temporal;
}

// The next available layer above the chosen one, within the preferred max.
std::optional<Layer> next_layer(const AllocationInput& d, const AllocationResult& c) {
  const int max_s = std::min<int>(d.max_spatial, int(kMaxSpatialLayers) - 1);
  const int max_t = std::min<int>(d.max_temporal, int(kMaxTemporalLayers) - 1);
  int s = c.spatial;
  int t = c.temporal;
  for (;;) {
    if (s < 0) {
      s = 0;
      t = 0;
    } else if (t < max_t) {
      ++t;
    } else {
      ++s;
      t = 0;
    }
    if (s > max_s || max_t < 0) return std::nullopt;
    if (d.bitrate_bps[size_t(s)][size_t(t)] > 0) return Layer{int8_t(s), int8_t(t)};
  }
}

// One allocation run: the running total and the budget rules.
class Pass {
 public:
  Pass(uint64_t estimate, std::optional<uint64_t> probed, std::span<const AllocationInput> consumers,
       std::span<AllocationResult> out)
      : estimate_(estimate), probed_(probed), consumers_(consumers), out_(out) {}

  void give_audio(size_t i) {
    AllocationResult& c = out_[i];
    c.spatial = c.temporal = 0;
    c.bps = consumers_[i].bitrate_bps[0][0];
    total_ += c.bps;
  }

  // The lowest available layer, whether it fits or not, if it costs at most
  // `max_bps`; false when the consumer has none (its producer sends no
  // layer) or it costs more.
  bool give_base(size_t i, uint64_t max_bps = UINT64_MAX) {
    const AllocationInput& d = consumers_[i];
    AllocationResult& c = out_[i];
    const auto first = next_layer(d, c);
    if (!first || d.bitrate_bps[size_t(first->spatial)][size_t(first->temporal)] > max_bps) return false;
    c.spatial = first->spatial;
    c.temporal = first->temporal;
    c.bps = d.bitrate_bps[size_t(first->spatial)][size_t(first->temporal)];
    total_ += c.bps;
    return true;
  }

  // Moves consumer i one layer up if that fits; false (and marks `probe`
  // when an upgrade was refused) otherwise.
  bool step(size_t i) {
    const AllocationInput& d = consumers_[i];
    AllocationResult& c = out_[i];
    const auto next = next_layer(d, c);
    if (!next) return false;
    const uint64_t cost = d.bitrate_bps[size_t(next->spatial)][size_t(next->temporal)];
    const uint64_t total = total_ - c.bps + cost;
    if (!fits(d, *next, total)) {
      if (above(*next, d.current_spatial, d.current_temporal)) {
        c.upgrade_held = true;
        c.probe_target_bps = total;
        if (!probe_consumer_) probe_consumer_ = i;
      }
      return false;
    }
    c.spatial = next->spatial;
    c.temporal = next->temporal;
    c.bps = cost;
    total_ = total;
    return true;
  }

  uint64_t total() const { return total_; }
  // The first (highest priority) consumer whose upgrade was held back.
  std::optional<size_t> probe_consumer() const { return probe_consumer_; }

 private:
  bool fits(const AllocationInput& d, Layer layer, uint64_t total) const {
    if (total > estimate_) return false;
    if (!above(layer, d.current_spatial, d.current_temporal)) return true;  // keep or go down
    if (double(total) * Allocator::kUpgradeMargin <= double(estimate_)) return true;
    return probed_ && total <= *probed_;  // a probe showed the link carries it
  }

  uint64_t estimate_;
  std::optional<uint64_t> probed_;
  std::span<const AllocationInput> consumers_;
  std::span<AllocationResult> out_;
  uint64_t total_ = 0;
  std::optional<size_t> probe_consumer_;
};

}  // namespace

AllocationSummary Allocator::allocate(Instant now, uint64_t estimate_bps, std::span<const AllocationInput> consumers,
                                      std::span<AllocationResult> out, std::optional<uint64_t> probed_bps,
                                      bool keep_base_layers, bool climbing) {
  const size_t n = std::min(consumers.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = AllocationResult{};
  const size_t m = std::min(n, kMaxConsumers);
  std::array<uint16_t, kMaxConsumers> order{};
  for (size_t i = 0; i < m; ++i) order[i] = uint16_t(i);
  // Kinds are declared in priority order: audio, screen, video.
  std::sort(order.begin(), order.begin() + ptrdiff_t(m), [&](uint16_t a, uint16_t b) {
    const AllocationInput& x = consumers[a];
    const AllocationInput& y = consumers[b];
    if (x.kind != y.kind) return x.kind < y.kind;
    return x.priority != y.priority ? x.priority < y.priority : a < b;
  });

  Pass pass(estimate_bps, probed_bps, consumers, out);
  const auto is = [&](size_t k, ConsumerKind kind) { return consumers[order[k]].kind == kind; };
  for (size_t k = 0; k < m; ++k) {
    if (is(k, ConsumerKind::audio)) pass.give_audio(order[k]);
  }
  if (keep_base_layers) {
    for (size_t k = 0; k < m; ++k)
      if (!is(k, ConsumerKind::audio)) pass.give_base(order[k]);
  }
  for (size_t k = 0; k < m; ++k) {
    if (is(k, ConsumerKind::screen)) {
      while (pass.step(order[k])) {
      }
    }
  }
  // Video: round-robin, one step per consumer per round, until none moves.
  std::array<bool, kMaxConsumers> done{};
  for (bool moved = true; moved;) {
    moved = false;
    for (size_t k = 0; k < m; ++k) {
      if (!is(k, ConsumerKind::video) || done[k]) continue;
      if (pass.step(order[k])) {
        moved = true;
      } else {
        done[k] = true;
      }
    }
  }

  // Nothing fitted: the first video with a layer gets its base layer
  // anyway, if that layer is cheap (see the header, rule 4).
  bool any_video = false;
  for (size_t k = 0; k < m; ++k) any_video = any_video || (!is(k, ConsumerKind::audio) && out[order[k]].spatial >= 0);
  const uint64_t cheap = std::max<uint64_t>(2 * estimate_bps, kForcedBaseMaxBps);
  for (size_t k = 0; k < m && !any_video; ++k)
    if (!is(k, ConsumerKind::audio)) any_video = pass.give_base(order[k], cheap);

  AllocationSummary summary;
  summary.allocated_bps = pass.total();
  const Duration interval = climbing ? kClimbProbeInterval : kProbeInterval;
  if (const auto i = pass.probe_consumer(); i && (!last_probe_ || now - *last_probe_ >= interval)) {
    out[*i].probe = true;
    summary.probe_target_bps = out[*i].probe_target_bps;
    last_probe_ = now;
  }
  return summary;
}

}  // namespace sfu::server::bwe
