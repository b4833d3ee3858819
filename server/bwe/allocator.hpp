// Shares one subscriber transport's bandwidth estimate among its consumers:
// which spatial/temporal layer each one forwards.
//
// Priority (the issue): audio first, then screen share, then video in the
// subscriber's preference order (AllocationInput::priority, lower first; input
// order breaks ties).
//   1. Audio: every audio consumer gets its single layer, even beyond the
//      estimate (it is tens of kbit/s and the last thing to cut).
//   2. Screen share, one consumer at a time: base layer, then step up as far
//      as it fits. Text on a screen is unreadable at low resolution, so it
//      is served before any camera.
//   3. Video: first the base layer (0,0) of each in preference order (as
//      many as fit, the rest paused), then round-robin one step at a time in
//      preference order, so the budget spreads instead of one camera taking
//      it all.
//   4. When no video got a layer within the estimate, the first one in
//      priority order with a layer (screen share, else the most preferred
//      camera) gets its base layer anyway. A subscriber always sees one
//      video, as a browser's own encoder never goes below its minimum
//      bitrate; and that stream's acknowledged rate is what lets the
//      estimate climb back. The estimate may rise to 1.5x what is
//      acknowledged, so with audio alone it could never reach a base
//      layer, and a probe on a busy receiver may measure nothing: video
//      would stay paused for good (seen with three browsers on 2 cores:
//      76 kbit/s, every video paused for 45 s). Only a cheap base layer:
//      at most max(2x the estimate, kForcedBaseMaxBps), so a publisher
//      without simulcast (one 2.5 Mbit/s layer) is not pushed through a
//      link measured at 60 kbit/s, where it would take audio down too.
// Steps go through layers in (spatial, temporal) order: (0,0) (0,1) (0,2)
// (1,0) ... up to the preferred maximum; a layer whose measured bitrate is 0
// is not available and skipped.
//
// Hysteresis: keeping (or going down to) a layer at or below the one being
// forwarded needs the total to fit the estimate; going above it needs
// total x 1.1 <= estimate, or a successful probe that measured at least the
// total (and the total to fit the estimate). So a consumer downgrades at once
// when it no longer fits and does not flap back on the next call. An upgrade
// that does not fit is held back; the first such (highest priority) consumer
// gets `probe` set with the total to probe towards in probe_target_bps, at
// most once per kProbeInterval (2 s), or kClimbProbeInterval (1 s) after a
// probe that the link carried (`climbing`: it had room, so keep climbing;
// a 2 s wait per step left 2-10 of 132 top-layer tracks at 0.43-0.9x their
// rate 5 s after 64 viewers joined, 0 at 1 s): the caller passes it to
// BandwidthEstimator::request_probe(). A link a probe saturated is probed
// again only after 2 s.
//
// A pure function of its inputs except for that probe rate limit. No heap;
// at most kMaxConsumers consumers are considered (any beyond are paused).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/time.hpp"

namespace sfu::server::bwe {

enum class ConsumerKind : uint8_t { audio, screen, video };

inline constexpr size_t kMaxSpatialLayers = 3;
inline constexpr size_t kMaxTemporalLayers = 3;

// One consumer as the allocator sees it.
struct AllocationInput {
  uint32_t id = 0;  // the caller's, not used
  ConsumerKind kind = ConsumerKind::video;
  uint8_t priority = 0;  // within a kind: lower first
  // bitrate_bps[s][t]: forwarding spatial layer s with temporal layers 0..t,
  // as measured on the producer; 0 = not available. Audio uses [0][0].
  std::array<std::array<uint32_t, kMaxTemporalLayers>, kMaxSpatialLayers> bitrate_bps{};
  int8_t max_spatial = kMaxSpatialLayers - 1;  // the subscriber's preferred maximum
  int8_t max_temporal = kMaxTemporalLayers - 1;
  int8_t current_spatial = -1;  // what is forwarded now; -1 = nothing
  int8_t current_temporal = -1;
};

// The allocator's answer for one consumer.
struct AllocationResult {
  int8_t spatial = -1;  // -1: paused, nothing fits
  int8_t temporal = -1;
  uint64_t bps = 0;     // cost of the chosen layer
  bool upgrade_held = false;  // the next layer up did not fit (waits for estimate or a probe)
  bool probe = false;         // request a probe now, towards probe_target_bps
  uint64_t probe_target_bps = 0;  // the total allocation the upgrade would need
};

// Totals of one allocate() call.
struct AllocationSummary {
  uint64_t allocated_bps = 0;
  std::optional<uint64_t> probe_target_bps;  // same as the probing consumer's
};

class Allocator {
 public:
  static constexpr size_t kMaxConsumers = 128;
  static constexpr double kUpgradeMargin = 1.1;
  static constexpr Duration kProbeInterval = seconds(2);
  static constexpr Duration kClimbProbeInterval = seconds(1);
  static constexpr uint64_t kForcedBaseMaxBps = 300'000;  // rule 4: a base layer this cheap is always affordable

  // Chooses a layer for each consumer: out[i] answers consumers[i]
  // (out.size() >= consumers.size(); extra outputs untouched). `probed_bps`:
  // the last successful probe's measured rate, if recent (the caller decides
  // what recent means; BandwidthEstimator::last_probe_result()).
  // `keep_base_layers`: every video and screen consumer gets its lowest
  // available layer even beyond the estimate, as audio does. For estimates
  // a receiver derives from what it receives (REMB), or none yet: pausing a
  // video would take away the traffic its estimate needs to climb back.
  // `climbing`: the last probe got through without saturating the link
  // (the next one may come after kClimbProbeInterval).
  AllocationSummary allocate(Instant now, uint64_t estimate_bps, std::span<const AllocationInput> consumers,
                             std::span<AllocationResult> out, std::optional<uint64_t> probed_bps = std::nullopt,
                             bool keep_base_layers = false, bool climbing = false);

 private:
  std::optional<Instant> last_probe_;
};

}  // namespace sfu::server::bwe
