// The delay-based controller's stages (draft-ietf-rmcat-gcc-02 §5.2-§5.5)
// one at a time, then composed.
#include "server/bwe/delay_based_estimator.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sfu::server::bwe {
namespace {

constexpr Instant kT0 = Instant{} + seconds(100);

PacketResult packet(int64_t send_us, int64_t arrival_us, uint16_t size = 1200) {
  PacketResult r;
  r.send_us = send_us;
  r.arrival_us = arrival_us;
  r.size = size;
  return r;
}

// ---- §5.2 InterArrival ---------------------------------------------------------

TEST(DelayBasedEstimatorInterArrival, GroupsFiveMillisecondSendBursts) {
  InterArrival ia;
  // Group A: sent 0, 2, 4 ms; group B: sent 10, 12 ms; group C starts at 20.
  EXPECT_FALSE(ia.add(packet(0, 50'000)));
  EXPECT_FALSE(ia.add(packet(2'000, 52'000)));
  EXPECT_FALSE(ia.add(packet(4'000, 54'000)));
  EXPECT_FALSE(ia.add(packet(10'000, 61'000)));  // closes A; no previous group yet
  EXPECT_FALSE(ia.add(packet(12'000, 63'000)));
  const auto d = ia.add(packet(20'000, 70'000));  // closes B: deltas B - A
  ASSERT_TRUE(d);
  EXPECT_DOUBLE_EQ(d->send_delta_ms, 8.0);     // 12 - 4
  EXPECT_DOUBLE_EQ(d->arrival_delta_ms, 9.0);  // 63 - 54
  EXPECT_EQ(d->arrival_us, 63'000);
}

TEST(DelayBasedEstimatorInterArrival, QueuedBurstJoinsTheGroup) {
  InterArrival ia;
  EXPECT_FALSE(ia.add(packet(0, 50'000)));
  // Sent 20 ms later but arrived 1 ms after the previous (it was queued
  // behind it): arrival delta < 5 ms and negative propagation delta.
  EXPECT_FALSE(ia.add(packet(20'000, 51'000)));
  EXPECT_FALSE(ia.add(packet(40'000, 90'000)));  // closes the group {0, 20}
  const auto d = ia.add(packet(60'000, 110'000));
  ASSERT_TRUE(d);
  EXPECT_DOUBLE_EQ(d->send_delta_ms, 20.0);  // 40 - 20
  EXPECT_DOUBLE_EQ(d->arrival_delta_ms, 39.0);  // 90 - 51
}

TEST(DelayBasedEstimatorInterArrival, ReorderedPacketsAreIgnored) {
  InterArrival ia;
  ia.add(packet(10'000, 50'000));
  EXPECT_FALSE(ia.add(packet(1'000, 51'000)));  // sent before the group began
}

// ---- §5.3 TrendlineFilter ------------------------------------------------------

TEST(DelayBasedEstimatorTrendline, SlopeOfGrowingQueue) {
  TrendlineFilter f;
  // Each 10 ms group arrives 1 ms later than the last: d(i) = 1 ms. The
  // accumulated delay grows 0.1 ms per ms; smoothing lags but the slope of a
  // long run converges to 0.1.
  double m = 0;
  for (int i = 1; i <= 200; ++i) m = f.update(1.0, int64_t(i) * 10'000);
  EXPECT_NEAR(f.trend(), 0.1, 0.005);
  EXPECT_NEAR(m, 60 * 0.1 * 4, 1.0);  // min(n, 60) · slope · gain 4
}

TEST(DelayBasedEstimatorTrendline, FlatDelayHasNoTrend) {
  TrendlineFilter f;
  for (int i = 1; i <= 50; ++i) f.update(i % 2 ? 0.5 : -0.5, int64_t(i) * 10'000);
  EXPECT_NEAR(f.trend(), 0.0, 0.01);
}

TEST(DelayBasedEstimatorTrendline, NeedsFivePoints) {
  TrendlineFilter f;
  for (int i = 1; i < int(TrendlineFilter::kMinPoints); ++i) EXPECT_EQ(f.update(5.0, i * 10'000), 0.0);
  EXPECT_GT(f.update(5.0, 50'000), 0.0);
}

// ---- §5.4 OveruseDetector ------------------------------------------------------

TEST(DelayBasedEstimatorDetector, OveruseNeedsTimeAndTwoGroups) {
  OveruseDetector d(0.01, 0.00018);
  // m well above the 12.5 ms threshold (by more than 15: no adaptation).
  EXPECT_EQ(d.detect(40, 1.0, 5, 0, 10), BandwidthUsage::normal);  // 2.5 ms over, 1 group
  EXPECT_EQ(d.detect(40, 1.0, 5, 5'000, 10), BandwidthUsage::normal);  // 7.5 ms
  EXPECT_EQ(d.detect(40, 1.0, 5, 10'000, 10), BandwidthUsage::overusing);  // 12.5 ms > 10
  EXPECT_DOUBLE_EQ(d.threshold(), 12.5);
}

TEST(DelayBasedEstimatorDetector, NoOveruseWhileTrendFalls) {
  OveruseDetector d(0.01, 0.00018);
  d.detect(40, 1.0, 10, 0, 10);
  d.detect(40, 0.9, 10, 10'000, 10);
  EXPECT_EQ(d.detect(40, 0.8, 10, 20'000, 10), BandwidthUsage::normal);
}

TEST(DelayBasedEstimatorDetector, UnderuseAtOnce) {
  OveruseDetector d(0.01, 0.00018);
  EXPECT_EQ(d.detect(-13, -1, 5, 0, 10), BandwidthUsage::underusing);
  EXPECT_EQ(d.detect(0, 0, 5, 5'000, 10), BandwidthUsage::normal);
}

TEST(DelayBasedEstimatorDetector, FewerThanTwoDeltasIsNormal) {
  OveruseDetector d(0.01, 0.00018);
  EXPECT_EQ(d.detect(-100, -1, 5, 0, 1), BandwidthUsage::normal);
}

TEST(DelayBasedEstimatorDetector, ThresholdAdaptsWithKuAndKd) {
  // §5.4: del_var_th += dt · K · (|m| - del_var_th), dt in ms (capped 100).
  OveruseDetector up(0.01, 0.00018);
  up.detect(0, 0, 5, 0, 10);                   // first call sets the clock; |m| < th: K_d, dt 0
  up.detect(20, 0, 5, 100'000, 10);            // K_u: 12.5 + 100 · 0.01 · 7.5
  EXPECT_NEAR(up.threshold(), 20.0, 1e-9);
  OveruseDetector down(0.01, 0.00018);
  down.detect(0, 0, 5, 0, 10);
  down.detect(0, 0, 5, 100'000, 10);           // K_d: 12.5 - 100 · 0.00018 · 12.5
  EXPECT_NEAR(down.threshold(), 12.275, 1e-9);
  down.detect(0, 0, 5, 10'000'000, 10);        // dt capped at 100 ms
  EXPECT_NEAR(down.threshold(), 12.275 - 0.018 * 12.275, 1e-9);
}

TEST(DelayBasedEstimatorDetector, ThresholdStaysWithinBounds) {
  OveruseDetector d(0.01, 0.00018);
  for (int i = 0; i < 10'000; ++i) d.detect(0, 0, 5, int64_t(i) * 100'000, 10);
  EXPECT_DOUBLE_EQ(d.threshold(), 6.0);
}

// ---- §5.5 AimdRateControl ------------------------------------------------------

TEST(DelayBasedEstimatorAimd, StartsAtTheStartBitrate) {
  AimdRateControl r(DelayBasedConfig{});
  EXPECT_EQ(r.estimate_bps(), 300'000u);
  AimdRateControl low(DelayBasedConfig{.start_bps = 1000});
  EXPECT_EQ(low.estimate_bps(), 30'000u);  // clamped to min
}

TEST(DelayBasedEstimatorAimd, MultiplicativeIncreaseEightPercentPerSecond) {
  AimdRateControl r(DelayBasedConfig{});
  r.update(kT0, BandwidthUsage::normal, std::nullopt);
  for (int i = 1; i <= 20; ++i) r.update(kT0 + milliseconds(50 * i), BandwidthUsage::normal, std::nullopt);
  EXPECT_NEAR(double(r.estimate_bps()), 300'000 * 1.08, 50);
}

TEST(DelayBasedEstimatorAimd, IncreaseLimitedByAckedBitrate) {
  AimdRateControl r(DelayBasedConfig{});
  r.set_estimate(kT0, 1'000'000);
  r.update(kT0 + seconds(1), BandwidthUsage::normal, 100'000);
  EXPECT_EQ(r.estimate_bps(), 1'000'000u);  // not raised above 1.5 · 100k + 10k, not lowered either
}

TEST(DelayBasedEstimatorAimd, OveruseDecreasesToBetaTimesAcked) {
  AimdRateControl r(DelayBasedConfig{});
  r.set_estimate(kT0, 1'000'000);
  r.update(kT0, BandwidthUsage::overusing, 900'000);
  EXPECT_EQ(r.estimate_bps(), 765'000u);  // 0.85 · 900k
  // Hold after a decrease; normal resumes increasing, now additively (near
  // the capacity just measured): alpha = 0.5 · 50 ms / (100 ms RTT + 100 ms)
  // of a ~8.5 kbit packet (765k / 30 fps in 3 packets) = ~1.06 kbit.
  EXPECT_TRUE(r.near_capacity());
  r.update(kT0 + milliseconds(50), BandwidthUsage::normal, 760'000);
  EXPECT_NEAR(double(r.estimate_bps()), 765'000 + 1062.5, 1);
}

TEST(DelayBasedEstimatorAimd, RepeatedOveruseWaitsForTheLastDecrease) {
  AimdRateControl r(DelayBasedConfig{});
  r.set_rtt(milliseconds(100));
  r.set_estimate(kT0, 1'000'000);
  r.update(kT0, BandwidthUsage::overusing, 1'000'000);
  EXPECT_EQ(r.estimate_bps(), 850'000u);
  r.update(kT0 + milliseconds(50), BandwidthUsage::overusing, 700'000);  // < RTT since
  EXPECT_EQ(r.estimate_bps(), 850'000u);
  r.update(kT0 + milliseconds(100), BandwidthUsage::overusing, 700'000);
  EXPECT_EQ(r.estimate_bps(), 595'000u);
  r.update(kT0 + milliseconds(110), BandwidthUsage::overusing, 200'000);  // R_hat < half: at once
  EXPECT_EQ(r.estimate_bps(), 170'000u);
}

TEST(DelayBasedEstimatorAimd, UnderuseHolds) {
  AimdRateControl r(DelayBasedConfig{});
  r.update(kT0, BandwidthUsage::underusing, std::nullopt);
  r.update(kT0 + seconds(1), BandwidthUsage::underusing, std::nullopt);
  EXPECT_EQ(r.estimate_bps(), 300'000u);
}

TEST(DelayBasedEstimatorAimd, BoundedByMinAndMax) {
  AimdRateControl r(DelayBasedConfig{.min_bps = 50'000, .max_bps = 400'000});
  r.update(kT0, BandwidthUsage::overusing, 10'000);
  EXPECT_EQ(r.estimate_bps(), 50'000u);
  r.set_estimate(kT0, 10'000'000);
  EXPECT_EQ(r.estimate_bps(), 400'000u);
}

// ---- Composed --------------------------------------------------------------------

// Feeds `seconds_` of 1200-byte packets sent at `send_bps` through a link of
// `link_bps` (queue builds when send > link), one feedback per 50 ms.
uint64_t run(DelayBasedEstimator& e, uint64_t send_bps, uint64_t link_bps, int seconds_) {
  const int64_t gap_us = int64_t(1200ULL * 8 * 1'000'000 / send_bps);
  const int64_t service_us = int64_t(1200ULL * 8 * 1'000'000 / link_bps);
  int64_t free_at = 0;
  std::vector<PacketResult> batch;
  int64_t next_feedback = 50'000;
  for (int64_t t = 0; t < int64_t(seconds_) * 1'000'000; t += gap_us) {
    free_at = std::max(free_at, t) + service_us;
    batch.push_back(packet(t, free_at + 20'000));
    if (t >= next_feedback) {
      e.update(kT0 + microseconds(t), batch, link_bps < send_bps ? link_bps : send_bps);
      batch.clear();
      next_feedback += 50'000;
    }
  }
  return e.estimate_bps();
}

TEST(DelayBasedEstimator, IncreasesWhileTheLinkKeepsUp) {
  DelayBasedEstimator e;
  run(e, 300'000, 10'000'000, 3);
  EXPECT_EQ(e.usage(), BandwidthUsage::normal);
  EXPECT_GT(e.estimate_bps(), 300'000u);
}

TEST(DelayBasedEstimator, DecreasesWhenTheQueueGrows) {
  DelayBasedEstimator e;
  e.set_estimate(kT0, 1'000'000);
  run(e, 1'000'000, 600'000, 1);
  EXPECT_LE(e.estimate_bps(), 0.85 * 600'000 + 1);
}

}  // namespace
}  // namespace sfu::server::bwe
