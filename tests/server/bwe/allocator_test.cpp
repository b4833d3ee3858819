// Allocator: audio first, screen share before cameras, cameras round-robin in
// preference order, upgrades with a 10 % margin (or a probe), downgrades at
// once.
#include "server/bwe/allocator.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sfu::server::bwe {
namespace {

constexpr Instant kT0 = Instant{} + seconds(100);

AllocationInput audio(uint32_t bps = 40'000) {
  AllocationInput a;
  a.kind = ConsumerKind::audio;
  a.bitrate_bps[0][0] = bps;
  return a;
}

// Three simulcast layers, three temporal layers each (cumulative bitrates).
AllocationInput camera(uint8_t priority = 0, int8_t cur_s = -1, int8_t cur_t = -1) {
  AllocationInput v;
  v.kind = ConsumerKind::video;
  v.priority = priority;
  v.bitrate_bps = {{{100'000, 150'000, 200'000}, {300'000, 450'000, 600'000}, {900'000, 1'200'000, 1'500'000}}};
  v.current_spatial = cur_s;
  v.current_temporal = cur_t;
  return v;
}

AllocationInput screen() {
  AllocationInput s;
  s.kind = ConsumerKind::screen;
  s.bitrate_bps = {{{300'000, 500'000, 800'000}, {}, {}}};
  return s;
}

struct Layers {
  int s;
  int t;
  bool operator==(const Layers&) const = default;
};

std::vector<Layers> layers(const std::vector<AllocationResult>& r) {
  std::vector<Layers> out;
  for (const auto& x : r) out.push_back({x.spatial, x.temporal});
  return out;
}

std::vector<AllocationResult> allocate(Allocator& a, uint64_t estimate, const std::vector<AllocationInput>& in,
                                       std::optional<uint64_t> probed = std::nullopt, Instant now = kT0,
                                       AllocationSummary* summary = nullptr) {
  std::vector<AllocationResult> out(in.size());
  const AllocationSummary s = a.allocate(now, estimate, in, out, probed);
  if (summary) *summary = s;
  return out;
}

TEST(Allocator, AudioAlwaysFirstEvenBeyondTheEstimate) {
  Allocator a;
  AllocationSummary s;
  const auto r = allocate(a, 30'000, {audio(), audio(25'000)}, std::nullopt, kT0, &s);
  EXPECT_EQ(layers(r), (std::vector<Layers>{{0, 0}, {0, 0}}));
  EXPECT_EQ(s.allocated_bps, 65'000u);
}

// Beyond the estimate, the first video in priority order keeps its base
// layer as audio does (a subscriber always sees one video, and its traffic
// is what lets the estimate climb); every other video waits.
TEST(Allocator, TheFirstVideoKeepsItsBaseLayerBeyondTheEstimate) {
  Allocator a;
  AllocationSummary s;
  auto r = allocate(a, 30'000, {camera(1), audio(), camera(0)}, std::nullopt, kT0, &s);
  EXPECT_EQ(layers(r), (std::vector<Layers>{{-1, -1}, {0, 0}, {0, 0}}));
  EXPECT_EQ(s.allocated_bps, 140'000u);
  EXPECT_TRUE(r[0].upgrade_held);  // the second camera waits for the estimate (or a probe)
  // A screen share comes first.
  r = allocate(a, 30'000, {camera(0), screen(), audio()});
  EXPECT_EQ(layers(r), (std::vector<Layers>{{-1, -1}, {0, 0}, {0, 0}}));
  // A camera whose publisher sends no layer is skipped: the next one keeps its base.
  AllocationInput silent = camera(0);
  silent.bitrate_bps = {};
  r = allocate(a, 30'000, {silent, camera(1), camera(2)});
  EXPECT_EQ(layers(r), (std::vector<Layers>{{-1, -1}, {0, 0}, {-1, -1}}));
  // Only a cheap base layer: one 2.5 Mbit/s layer (no simulcast) stays
  // paused on a 60 kbit/s estimate; at 1.5 Mbit/s (twice that covers it) it goes.
  AllocationInput single = camera(0);
  single.bitrate_bps = {{{2'500'000, 2'500'000, 2'500'000}, {}, {}}};
  r = allocate(a, 60'000, {single, audio()});
  EXPECT_EQ(layers(r), (std::vector<Layers>{{-1, -1}, {0, 0}}));
  r = allocate(a, 1'500'000, {single, audio()});
  EXPECT_EQ(layers(r), (std::vector<Layers>{{0, 0}, {0, 0}}));
  // Within the estimate the usual rules apply: it goes up like any other.
  r = allocate(a, 2'000'000, {camera(0), audio()});
  EXPECT_GT(r[0].spatial, 0);
}

// With a receiver-derived estimate (REMB) every video keeps its base layer,
// as audio does; what fits beyond it still goes round-robin.
TEST(Allocator, KeepBaseLayersGivesEveryVideoItsLowestLayerBeyondTheEstimate) {
  Allocator a;
  std::vector<AllocationInput> in = {camera(0), camera(1), audio(), screen()};
  std::vector<AllocationResult> out(in.size());
  const AllocationSummary s = a.allocate(kT0, 50'000, in, out, std::nullopt, /*keep_base_layers=*/true);
  EXPECT_EQ(layers(out), (std::vector<Layers>{{0, 0}, {0, 0}, {0, 0}, {0, 0}}));
  EXPECT_EQ(s.allocated_bps, 100'000u + 100'000u + 40'000u + 300'000u);
  // Without it, only audio and the first video (the screen share) get
  // theirs beyond 50 kbit/s.
  Allocator b;
  EXPECT_EQ(layers(allocate(b, 50'000, in)), (std::vector<Layers>{{-1, -1}, {-1, -1}, {0, 0}, {0, 0}}));
  // Room above the base layers is still shared by the usual rules.
  Allocator c;
  std::vector<AllocationResult> more(in.size());
  c.allocate(kT0, 2'000'000, in, more, std::nullopt, true);
  EXPECT_GT(more[0].spatial, 0);
}

TEST(Allocator, ScreenShareBeforeCamera) {
  Allocator a;
  // 40k audio + 800k screen = 840k; x 1.1 = 924k <= 1M. Camera base:
  // 940k x 1.1 > 1M, so it waits.
  const auto r = allocate(a, 1'000'000, {camera(), screen(), audio()});
  EXPECT_EQ(layers(r), (std::vector<Layers>{{-1, -1}, {0, 2}, {0, 0}}));
  EXPECT_TRUE(r[0].upgrade_held);
  EXPECT_TRUE(r[0].probe);
  EXPECT_EQ(r[0].probe_target_bps, 940'000u);
}

TEST(Allocator, CamerasShareRoundRobinInPreferenceOrder) {
  Allocator a;
  // A = camera(0) (preferred), B = camera(1). 1.1 x total <= 1M: ~909k.
  // Round 1: A(0,0) B(0,0) = 200k; 2: (0,1) (0,1) = 300k; 3: (0,2) (0,2) =
  // 400k; 4: (1,0) (1,0) = 600k; 5: (1,1) (1,1) = 900k; 6: A(1,2) would be
  // 1.05M: stop; B likewise.
  const auto r = allocate(a, 1'000'000, {camera(1), camera(0)});
  EXPECT_EQ(layers(r), (std::vector<Layers>{{1, 1}, {1, 1}}));
  // With 1.2M (budget ~1.09M) the preferred camera moves first: A(1,2) =
  // 1.05M fits, B(1,2) = 1.2M does not.
  const auto r2 = allocate(a, 1'200'000, {camera(1), camera(0)});
  EXPECT_EQ(layers(r2), (std::vector<Layers>{{1, 1}, {1, 2}}));
}

TEST(Allocator, KeepsTheCurrentLayerWithoutMargin) {
  Allocator a;
  // Forwarding (1,2) = 600k with a 620k estimate: fits, keep it.
  EXPECT_EQ(layers(allocate(a, 620'000, {camera(0, 1, 2)})), (std::vector<Layers>{{1, 2}}));
  // From (1,1), going to (1,2) needs 660k: held back, probe asked.
  const auto r = allocate(a, 620'000, {camera(0, 1, 1)});
  EXPECT_EQ(layers(r), (std::vector<Layers>{{1, 1}}));
  EXPECT_TRUE(r[0].upgrade_held);
  EXPECT_EQ(r[0].probe_target_bps, 600'000u);
  // A probe that measured 650k lets it up without the margin.
  EXPECT_EQ(layers(allocate(a, 620'000, {camera(0, 1, 1)}, 650'000)), (std::vector<Layers>{{1, 2}}));
}

TEST(Allocator, DowngradesAtOnce) {
  Allocator a;
  // Forwarding (2,2) = 1.5M; the estimate fell to 1M: (2,0) = 900k fits.
  EXPECT_EQ(layers(allocate(a, 1'000'000, {camera(0, 2, 2)})), (std::vector<Layers>{{2, 0}}));
  // Fell to 250k: only (0,2) = 200k.
  EXPECT_EQ(layers(allocate(a, 250'000, {camera(0, 2, 2)})), (std::vector<Layers>{{0, 2}}));
  // Fell below the base layer: the second camera pauses, the first keeps its base layer.
  EXPECT_EQ(layers(allocate(a, 50'000, {camera(0, 2, 2), camera(1, 0, 0)})), (std::vector<Layers>{{0, 0}, {-1, -1}}));
}

TEST(Allocator, HysteresisDoesNotFlap) {
  Allocator a;
  // The estimate hovers around (2,1) = 1.2M.
  AllocationInput c = camera(0, 2, 1);
  auto r = allocate(a, 1'150'000, {c});  // no longer fits: down to (2,0)
  ASSERT_EQ(layers(r), (std::vector<Layers>{{2, 0}}));
  c.current_spatial = r[0].spatial;
  c.current_temporal = r[0].temporal;
  r = allocate(a, 1'250'000, {c});  // 1.2M x 1.1 > 1.25M: stays down
  EXPECT_EQ(layers(r), (std::vector<Layers>{{2, 0}}));
  r = allocate(a, 1'330'000, {c});  // >= 1.2M x 1.1: up again
  EXPECT_EQ(layers(r), (std::vector<Layers>{{2, 1}}));
}

TEST(Allocator, ProbeRequestsAreRateLimited) {
  Allocator a;
  AllocationSummary s;
  auto r = allocate(a, 620'000, {camera(0, 1, 1)}, std::nullopt, kT0, &s);
  EXPECT_TRUE(r[0].probe);
  EXPECT_EQ(s.probe_target_bps, 600'000u);
  r = allocate(a, 620'000, {camera(0, 1, 1)}, std::nullopt, kT0 + seconds(1), &s);
  EXPECT_TRUE(r[0].upgrade_held);
  EXPECT_FALSE(r[0].probe);
  EXPECT_FALSE(s.probe_target_bps);
  r = allocate(a, 620'000, {camera(0, 1, 1)}, std::nullopt, kT0 + seconds(2), &s);
  EXPECT_TRUE(r[0].probe);
}

// After a probe the link carried (climbing), the next may come after 1 s;
// after one that saturated it (or none), only after 2 s.
TEST(Allocator, ProbesFollowSoonerWhileClimbing) {
  Allocator a;
  AllocationResult out[1];
  const AllocationInput in[1] = {camera(0, 1, 1)};
  EXPECT_TRUE(a.allocate(kT0, 620'000, in, out, std::nullopt, false, true).probe_target_bps);
  EXPECT_FALSE(a.allocate(kT0 + milliseconds(900), 620'000, in, out, std::nullopt, false, true).probe_target_bps);
  EXPECT_TRUE(a.allocate(kT0 + seconds(1), 620'000, in, out, std::nullopt, false, true).probe_target_bps);
  // The last probe saturated the link: back to 2 s.
  EXPECT_FALSE(a.allocate(kT0 + seconds(2), 620'000, in, out, std::nullopt, false, false).probe_target_bps);
  EXPECT_TRUE(a.allocate(kT0 + seconds(3), 620'000, in, out, std::nullopt, false, false).probe_target_bps);
}

TEST(Allocator, RespectsPreferredMaximumAndSkipsMissingLayers) {
  Allocator a;
  AllocationInput c = camera();
  c.max_spatial = 0;
  c.max_temporal = 1;
  EXPECT_EQ(layers(allocate(a, 10'000'000, {c})), (std::vector<Layers>{{0, 1}}));
  AllocationInput gap = camera();
  gap.bitrate_bps[1] = {0, 0, 0};  // the middle simulcast layer is not being sent
  gap.max_temporal = 0;
  EXPECT_EQ(layers(allocate(a, 10'000'000, {gap})), (std::vector<Layers>{{2, 0}}));
}

TEST(Allocator, EmptyInputAndShortOutput) {
  Allocator a;
  std::vector<AllocationResult> none;
  EXPECT_EQ(a.allocate(kT0, 1'000'000, {}, none).allocated_bps, 0u);
  const std::vector<AllocationInput> in{audio(), camera()};
  std::vector<AllocationResult> one(1);
  const AllocationSummary s = a.allocate(kT0, 1'000'000, in, one);
  EXPECT_EQ(one[0].spatial, 0);
  EXPECT_EQ(s.allocated_bps, 40'000u);  // the camera had no output slot
}

}  // namespace
}  // namespace sfu::server::bwe
