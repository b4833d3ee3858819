// The loss-based controller (draft-ietf-rmcat-gcc-02 §6), table-driven.
#include "server/bwe/loss_based_estimator.hpp"

#include <gtest/gtest.h>

namespace sfu::server::bwe {
namespace {

constexpr Instant kT0 = Instant{} + seconds(100);

struct LossCase {
  const char* name;
  uint32_t received;
  uint32_t lost;
  uint64_t expect_bps;  // from 1 Mbit/s, delay-based far above
};

class LossBasedEstimatorTable : public ::testing::TestWithParam<LossCase> {};

TEST_P(LossBasedEstimatorTable, OneInterval) {
  const LossCase& c = GetParam();
  LossBasedEstimator e(LossBasedConfig{.start_bps = 1'000'000});
  e.on_feedback(kT0, c.received, c.lost, 50'000'000);
  EXPECT_EQ(e.estimate_bps(), c.expect_bps);
}

INSTANTIATE_TEST_SUITE_P(
    LossBasedEstimator, LossBasedEstimatorTable,
    ::testing::Values(LossCase{"no_loss_increases_5_percent", 100, 0, 1'050'000},
                      LossCase{"one_percent_increases", 99, 1, 1'050'000},
                      LossCase{"two_percent_holds", 98, 2, 1'000'000},
                      LossCase{"ten_percent_holds", 90, 10, 1'000'000},
                      LossCase{"twenty_percent_cuts_by_half_of_it", 80, 20, 900'000},
                      LossCase{"half_lost", 50, 50, 750'000}),
    [](const ::testing::TestParamInfo<LossCase>& p) { return std::string(p.param.name); });

TEST(LossBasedEstimator, WaitsForTwentyPackets) {
  LossBasedEstimator e(LossBasedConfig{.start_bps = 1'000'000});
  e.on_feedback(kT0, 10, 9, 50'000'000);  // 19 packets: not yet
  EXPECT_EQ(e.estimate_bps(), 1'000'000u);
  EXPECT_FALSE(e.last_loss());
  e.on_feedback(kT0, 1, 0, 50'000'000);  // 20: 45 % lost
  EXPECT_EQ(e.estimate_bps(), 775'000u);
  EXPECT_DOUBLE_EQ(*e.last_loss(), 0.45);
}

TEST(LossBasedEstimator, StepsFromTheEstimateInForce) {
  // The delay-based estimate is lower: increase, hold and decrease all start
  // from it, so a loss event cuts the rate actually in use.
  LossBasedEstimator e(LossBasedConfig{.start_bps = 1'000'000});
  e.on_feedback(kT0, 100, 0, 500'000);
  EXPECT_EQ(e.estimate_bps(), 525'000u);
  e.on_feedback(kT0, 95, 5, 400'000);
  EXPECT_EQ(e.estimate_bps(), 400'000u);
}

TEST(LossBasedEstimator, DecreasesAtMostOncePer300msPlusRtt) {
  LossBasedEstimator e(LossBasedConfig{.start_bps = 1'000'000});
  e.set_rtt(milliseconds(100));
  e.on_feedback(kT0, 80, 20, 50'000'000);
  EXPECT_EQ(e.estimate_bps(), 900'000u);
  e.on_feedback(kT0 + milliseconds(200), 80, 20, 50'000'000);  // too soon: hold
  EXPECT_EQ(e.estimate_bps(), 900'000u);
  e.on_feedback(kT0 + milliseconds(400), 80, 20, 50'000'000);
  EXPECT_EQ(e.estimate_bps(), 810'000u);
}

TEST(LossBasedEstimator, BoundedAndRaisedByProbes) {
  LossBasedEstimator e(LossBasedConfig{.start_bps = 40'000, .min_bps = 30'000, .max_bps = 2'000'000});
  e.on_feedback(kT0, 0, 100, 50'000'000);  // 100 % loss: 40k · 0.5 = 20k -> 30k
  EXPECT_EQ(e.estimate_bps(), 30'000u);
  e.on_probe(1'500'000);
  EXPECT_EQ(e.estimate_bps(), 1'500'000u);
  e.on_probe(900'000);  // never lowers
  EXPECT_EQ(e.estimate_bps(), 1'500'000u);
  e.on_probe(9'000'000);
  EXPECT_EQ(e.estimate_bps(), 2'000'000u);
}

}  // namespace
}  // namespace sfu::server::bwe
