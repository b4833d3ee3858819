// What a subscriber's bandwidth allocation needs of the room (the router
// runs it every 200 ms per subscriber transport, bwe/allocator.hpp decides):
// one AllocationInput per consumer, and whether the subscriber is still in
// its start-up, when every video gets its base layer. Pure functions.
#pragma once

#include <optional>

#include "common/time.hpp"
#include "server/bwe/allocator.hpp"
#include "server/bwe/bandwidth_estimator.hpp"
#include "server/consumer.hpp"
#include "server/producer.hpp"

namespace sfu::server {

// A subscriber's first media: base layers for every video this long at most.
inline constexpr Duration kStartupBaseLayers = seconds(4);

// What the allocator needs of one consumer: its kind and priority (audio,
// then screen share, then camera video), the producer's measured bitrate per
// spatial layer split over temporal layers (L1T3: TL0 ≈ 60 %, TL1 ≈ 80 %
// cumulative), the subscriber's preferred maximum and what is forwarded now.
// Layers the publisher is not sending (no packet for 2 s) cost 0, which the
// allocator reads as "not available": they cannot be chosen and take no
// budget, so a silent producer (audio included) never prices others out.
bwe::AllocationInput allocation_input(const Consumer& c, const Producer& p, Instant now);

// Base layers for every video until the estimate means something: without
// transport-cc (REMB or nothing, see Allocator::allocate), and in a new
// subscriber's first seconds (`first_media_at`: its first media packet),
// before a probe has measured the path and while the estimate has not
// fallen below its start (a congested path shows at once). The start
// estimate (300 kbit/s) fits one or two base layers, and pausing the rest
// would hold a new subscriber's videos black for seconds while the estimate
// climbs; base layers cost little, and feed that climb.
bool keeps_base_layers(const bwe::BandwidthEstimator& estimator, std::optional<Instant> first_media_at, Instant now);

}  // namespace sfu::server
