#include "server/subscriber_allocation.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace sfu::server {

bwe::AllocationInput allocation_input(const Consumer& c, const Producer& p, Instant now) {
  bwe::AllocationInput in;
  in.id = uint32_t(c.id());
  in.kind = c.kind() == media::MediaKind::audio       ? bwe::ConsumerKind::audio
            : p.spec().source == ProducerSource::screen ? bwe::ConsumerKind::screen
                                                        : bwe::ConsumerKind::video;
  constexpr std::array<double, bwe::kMaxTemporalLayers> kTemporalShare = {0.6, 0.8, 1.0};
  int highest_active = -1;
  for (int s = 0; s < p.layer_count() && s < int(bwe::kMaxSpatialLayers); ++s) {
    const ProducerLayer& l = p.layer(s);
    const bool active = l.stream && now - l.last_packet < seconds(2);
    const uint64_t bps = active ? std::max<uint64_t>(l.stream->bitrate_bps(now), 1) : 0;
    for (size_t t = 0; t < bwe::kMaxTemporalLayers; ++t)
      in.bitrate_bps[size_t(s)][t] =
          active ? uint32_t(std::clamp<double>(double(bps) * kTemporalShare[t], 1.0, UINT32_MAX - 1.0)) : 0;
    if (active) highest_active = s;
  }
  const auto current = c.forwarder().current_layers();
  in.max_spatial = int8_t(std::min(highest_active, std::max(0, int(c.spec().preferred_spatial))));
  in.max_temporal = int8_t(std::clamp(c.spec().preferred_temporal, 0, int(bwe::kMaxTemporalLayers) - 1));
  in.current_spatial = int8_t(current.spatial);
  in.current_temporal = int8_t(current.temporal);
  return in;
}

bool keeps_base_layers(const bwe::BandwidthEstimator& estimator, std::optional<Instant> first_media_at, Instant now) {
  if (!estimator.has_transport_cc() || !first_media_at) return true;
  return now - *first_media_at < kStartupBaseLayers && !estimator.last_probe_result() &&
         estimator.estimate_bps() >= bwe::BweConfig{}.start_bps;
}

}  // namespace sfu::server
