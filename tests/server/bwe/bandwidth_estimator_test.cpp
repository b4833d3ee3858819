// The estimator end to end over a simulated bottleneck (bwe_link_sim.hpp):
// convergence, reaction to a capacity drop, random loss, probing; and the
// probe controller's pacing and result rules alone.
#include "server/bwe/bandwidth_estimator.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "server/bwe/bwe_link_sim.hpp"

namespace sfu::server::bwe {
namespace {

using test::BweLinkSim;
using test::LinkConfig;

struct Trace {
  uint64_t min_bps = UINT64_MAX;
  uint64_t max_bps = 0;
  double avg_bps = 0;
};

// Runs `sim` for `d`, sampling the estimate every 100 ms.
Trace run_sampled(BweLinkSim& sim, Duration d) {
  Trace t;
  double sum = 0;
  int n = 0;
  const Instant end = sim.now + d;
  while (sim.now < end) {
    sim.run_until(sim.now + milliseconds(100));
    const uint64_t e = sim.bwe.estimate_bps();
    t.min_bps = std::min(t.min_bps, e);
    t.max_bps = std::max(t.max_bps, e);
    sum += double(e);
    ++n;
  }
  t.avg_bps = n ? sum / n : 0;
  return t;
}

class BandwidthEstimatorConvergence : public ::testing::TestWithParam<uint64_t> {};

TEST_P(BandwidthEstimatorConvergence, WithinThirtyPercentOfCapacityIn10Seconds) {
  const uint64_t capacity = GetParam();
  BweLinkSim sim(BweConfig{}, LinkConfig{.capacity_bps = capacity});
  sim.run_until(sim.now + seconds(8));
  const Trace last = run_sampled(sim, seconds(2));  // t = 8..10 s
  std::printf("[ sim      ] capacity %llu: estimate at 10 s %llu, 8-10 s min %llu avg %.0f max %llu\n",
              (unsigned long long)capacity, (unsigned long long)sim.bwe.estimate_bps(),
              (unsigned long long)last.min_bps, last.avg_bps, (unsigned long long)last.max_bps);
  EXPECT_GE(double(last.min_bps), 0.7 * double(capacity));
  EXPECT_LE(double(last.max_bps), 1.3 * double(capacity));
}

INSTANTIATE_TEST_SUITE_P(BandwidthEstimator, BandwidthEstimatorConvergence,
                         ::testing::Values(150'000, 600'000, 2'500'000));

TEST(BandwidthEstimatorSim, DropsWithin2sWhenCapacityFalls) {
  BweLinkSim sim(BweConfig{}, LinkConfig{.capacity_bps = 2'500'000});
  sim.run_until(sim.now + seconds(10));
  const uint64_t before = sim.bwe.estimate_bps();
  sim.set_capacity(500'000);
  const Instant drop = sim.now;
  Duration took = seconds(99);
  while (sim.now < drop + seconds(3)) {
    sim.run_until(sim.now + milliseconds(50));
    if (double(sim.bwe.estimate_bps()) <= 1.3 * 500'000) {
      took = sim.now - drop;
      break;
    }
  }
  std::printf("[ sim      ] 2.5 Mbit/s -> 500 kbit/s: estimate %llu before, <= 650 kbit/s after %lld ms\n",
              (unsigned long long)before, (long long)std::chrono::duration_cast<milliseconds>(took).count());
  EXPECT_LE(took, seconds(2));
  // And it settles near the new capacity rather than collapsing.
  const Trace later = run_sampled(sim, seconds(8));
  std::printf("[ sim      ] after the drop, next 8 s: min %llu avg %.0f max %llu\n", (unsigned long long)later.min_bps,
              later.avg_bps, (unsigned long long)later.max_bps);
  EXPECT_GE(later.avg_bps, 0.7 * 500'000);
  EXPECT_LE(later.avg_bps, 1.3 * 500'000);
}

TEST(BandwidthEstimatorSim, RandomLossDoesNotCollapseTheEstimate) {
  // 5 % random loss is in GCC's hold band (§6: 2-10 %): the loss-based
  // estimate must hold, not shrink towards the minimum.
  BweLinkSim sim(BweConfig{}, LinkConfig{.capacity_bps = 10'000'000, .loss = 0.05});
  sim.run_until(sim.now + seconds(2));
  const Trace t = run_sampled(sim, seconds(10));
  std::printf("[ sim      ] 10 Mbit/s, 5%% loss: 2-12 s min %llu avg %.0f max %llu; loss-based %llu delay-based %llu\n",
              (unsigned long long)t.min_bps, t.avg_bps, (unsigned long long)t.max_bps,
              (unsigned long long)sim.bwe.loss_based_bps(), (unsigned long long)sim.bwe.delay_based_bps());
  EXPECT_GE(t.min_bps, BweConfig{}.start_bps);
  EXPECT_EQ(sim.bwe.estimate_bps(), std::min(sim.bwe.loss_based_bps(), sim.bwe.delay_based_bps()));
}

TEST(BandwidthEstimatorSim, HeavyLossCutsTheEstimate) {
  BweLinkSim sim(BweConfig{}, LinkConfig{.capacity_bps = 10'000'000});
  sim.run_until(sim.now + seconds(5));
  const uint64_t before = sim.bwe.estimate_bps();
  sim.set_loss(0.3);
  sim.run_until(sim.now + seconds(3));
  std::printf("[ sim      ] 30%% loss: %llu -> %llu\n", (unsigned long long)before,
              (unsigned long long)sim.bwe.estimate_bps());
  EXPECT_LT(double(sim.bwe.estimate_bps()), 0.5 * double(before));
  EXPECT_EQ(sim.bwe.estimate_bps(), sim.bwe.loss_based_bps());
}

TEST(BandwidthEstimatorSim, ProbeRaisesTheEstimateWithin1s) {
  BweLinkSim sim(BweConfig{.initial_probing = false}, LinkConfig{.capacity_bps = 3'000'000});
  sim.run_until(sim.now + seconds(1));
  const uint64_t before = sim.bwe.estimate_bps();
  ASSERT_LT(before, 400'000u);
  const Instant asked = sim.now;
  sim.bwe.request_probe(sim.now, 1'000'000);
  Duration took = seconds(99);
  while (sim.now < asked + seconds(2)) {
    sim.run_until(sim.now + milliseconds(10));
    if (sim.bwe.estimate_bps() > 1'000'000) {
      took = sim.now - asked;
      break;
    }
  }
  std::printf("[ sim      ] probe from %llu: estimate %llu after %lld ms (probe result %llu)\n",
              (unsigned long long)before, (unsigned long long)sim.bwe.estimate_bps(),
              (long long)std::chrono::duration_cast<milliseconds>(took).count(),
              (unsigned long long)(sim.bwe.last_probe_result() ? sim.bwe.last_probe_result()->bps : 0));
  EXPECT_LE(took, seconds(1));
  ASSERT_TRUE(sim.bwe.last_probe_result().has_value());
}

TEST(BandwidthEstimatorSim, WithoutProbingRampIsMultiplicative) {
  // §5.5: far from convergence the rate grows ~8 %/s; after 5 s without
  // probing it is about 300k · 1.08^5 ≈ 440k, far below the 3 Mbit/s link.
  BweLinkSim sim(BweConfig{.initial_probing = false}, LinkConfig{.capacity_bps = 3'000'000});
  sim.run_until(sim.now + seconds(5));
  EXPECT_GT(sim.bwe.estimate_bps(), 400'000u);
  EXPECT_LT(sim.bwe.estimate_bps(), 500'000u);
  EXPECT_EQ(sim.probe_packets, 0u);
}

// ---- ProbeController alone ---------------------------------------------------

constexpr Instant kT0 = Instant{} + seconds(100);

TEST(BandwidthEstimatorProbe, ClusterIsPacedAtItsTarget) {
  ProbeController pc(20'000'000);
  const int16_t id = pc.add_cluster(kT0, 960'000);  // 120 kB/s: a 1200-byte packet per 10 ms
  auto r = pc.poll(kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cluster_id, id);
  EXPECT_EQ(r->target_bps, 960'000u);
  pc.on_sent(kT0, id, 1200);
  EXPECT_FALSE(pc.poll(kT0));
  EXPECT_EQ(*pc.poll_timeout(), kT0 + milliseconds(10));
  EXPECT_FALSE(pc.poll(kT0 + milliseconds(9)));
  r = pc.poll(kT0 + milliseconds(10));
  ASSERT_TRUE(r);
  // 5 packets and 15 ms at least, then the cluster is done.
  for (int i = 0; i < 4; ++i) pc.on_sent(kT0 + milliseconds(10), id, 1200);
  EXPECT_FALSE(pc.poll(kT0 + milliseconds(100)));
  EXPECT_FALSE(pc.poll_timeout());
  EXPECT_TRUE(pc.busy(kT0 + milliseconds(100)));   // awaiting its result
  EXPECT_FALSE(pc.busy(kT0 + milliseconds(1001)));
}

// A cluster polled while nothing could be sent (the transport not yet
// connected) starts when its first packet goes out: it is then paced from
// there, not owed in one burst for the time it waited. A burst has no send
// interval and measures nothing, so a slow link kept the unchecked start
// estimate (the 150 kbit/s subscriber of the router simulations).
TEST(BandwidthEstimatorProbe, ClusterStartsAtItsFirstPacketNotAtItsFirstPoll) {
  ProbeController pc(20'000'000);
  const int16_t id = pc.add_cluster(kT0, 960'000);
  for (int ms = 0; ms < 200; ms += 10) {  // polled, nothing sent
    const auto r = pc.poll(kT0 + milliseconds(ms));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, 1u);
  }
  EXPECT_FALSE(pc.sending_cluster());
  EXPECT_EQ(*pc.poll_timeout(), Instant{});
  const Instant sent = kT0 + milliseconds(200);
  pc.on_sent(sent, id, 1200);
  EXPECT_EQ(pc.sending_cluster(), id);
  EXPECT_FALSE(pc.poll(sent));
  EXPECT_FALSE(pc.poll(sent + milliseconds(9)));
  const auto r = pc.poll(sent + milliseconds(20));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 1200u);  // 20 ms at 120 kB/s, less the first packet
}

PacketResult probe_packet(int16_t id, int64_t send_ms, int64_t arrival_ms) {
  PacketResult r;
  r.send_us = send_ms * 1000;
  r.arrival_us = arrival_ms * 1000;
  r.size = 1000;
  r.probe_cluster = id;
  return r;
}

TEST(BandwidthEstimatorProbe, ResultIsMinOfSendAndReceiveRate) {
  ProbeController pc(20'000'000);
  const int16_t id = pc.add_cluster(kT0, 1'000'000);
  // 5 packets of 1000 bytes sent 8 ms apart (1 Mbit/s), arriving 8 ms apart.
  for (int i = 0; i < 5; ++i) pc.on_result(probe_packet(id, i * 8, 50 + i * 8));
  const auto res = pc.evaluate(kT0);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->bps, 1'000'000u);  // 4000 bytes / 32 ms both ways
  EXPECT_FALSE(pc.evaluate(kT0));   // nothing new
}

TEST(BandwidthEstimatorProbe, SaturatedLinkGives95PercentOfReceiveRate) {
  ProbeController pc(20'000'000);
  const int16_t id = pc.add_cluster(kT0, 1'000'000);
  // Sent at 1 Mbit/s, received at 500 kbit/s (16 ms apart).
  for (int i = 0; i < 5; ++i) pc.on_result(probe_packet(id, i * 8, 50 + i * 16));
  const auto res = pc.evaluate(kT0);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->bps, 475'000u);
}

TEST(BandwidthEstimatorProbe, TooFewPacketsOrBunchedArrivalsGiveNoResult) {
  ProbeController pc(20'000'000);
  const int16_t a = pc.add_cluster(kT0, 1'000'000);
  for (int i = 0; i < 3; ++i) pc.on_result(probe_packet(a, i * 8, 50 + i * 8));
  EXPECT_FALSE(pc.evaluate(kT0));  // 3 < 80 % of 5
  const int16_t b = pc.add_cluster(kT0, 1'000'000);
  for (int i = 0; i < 5; ++i) pc.on_result(probe_packet(b, i * 8, 50 + i * 2));
  EXPECT_FALSE(pc.evaluate(kT0));  // received 4x faster than sent: not a measurement
}

TEST(BandwidthEstimatorProbe, ExponentialProbingContinuesOnGoodResults) {
  ProbeController pc(20'000'000);
  pc.start_exponential(kT0, 300'000);  // clusters 0 (900k) and 1 (1.8M)
  // Cluster 1 measured at 1.8 Mbit/s (>= 70 % of its target): probe 3.6M next.
  for (int i = 0; i < 5; ++i) {
    PacketResult r = probe_packet(1, i * 4, 50 + i * 4);
    r.size = 900;  // 3600 bytes / 16 ms = 1.8 Mbit/s
    pc.on_result(r);
  }
  const auto res = pc.evaluate(kT0 + milliseconds(100));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->bps, 1'800'000u);
  // Drain clusters 0 and 1; the next one is the 3.6 Mbit/s continuation.
  for (int16_t id : {0, 1}) {
    for (int i = 0; i < 5; ++i) pc.on_sent(kT0 + milliseconds(100), id, 1200);
  }
  const auto next = pc.poll(kT0 + milliseconds(100));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->cluster_id, 2);
  EXPECT_EQ(next->target_bps, 3'600'000u);
}

TEST(BandwidthEstimatorProbe, RequestProbeIgnoredWhileBusy) {
  BandwidthEstimator bwe(BweConfig{.initial_probing = false});
  EXPECT_FALSE(bwe.poll_timeout());
  bwe.request_probe(kT0, 1'000'000);
  auto r = bwe.poll_probe(kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target_bps, 1'500'000u);
  bwe.request_probe(kT0, 5'000'000);  // busy: ignored
  for (int i = 0; i < 5; ++i) bwe.on_packet_sent(kT0, 1200, PacketFlags{.padding = true, .probe_cluster = r->cluster_id});
  r = bwe.poll_probe(kT0 + milliseconds(50));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target_bps, 2'000'000u);
}

TEST(BandwidthEstimatorProbe, InitialProbingStartsOnFirstPoll) {
  BandwidthEstimator bwe;
  ASSERT_TRUE(bwe.poll_timeout());
  EXPECT_EQ(*bwe.poll_timeout(), Instant{});
  const auto r = bwe.poll_probe(kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target_bps, 900'000u);  // 3x the 300 kbit/s start
  EXPECT_EQ(bwe.estimate_bps(), 300'000u);
}

// Subscribers without transport-cc (aiortc negotiates REMB only): the
// receiver's REMB is the estimate; it stops counting once transport-cc
// feedback arrives (the over-the-link sim sends transport-cc).
TEST(BandwidthEstimatorRemb, RembIsTheEstimateWithoutTransportCc) {
  BandwidthEstimator bwe(BweConfig{.initial_probing = false});
  Instant now = from_micros(1'000'000);
  bwe.on_packet_sent(now, 1200);
  EXPECT_EQ(bwe.estimate_bps(), 300'000u);
  bwe.on_remb(now, 1'800'000);
  EXPECT_EQ(bwe.estimate_bps(), 1'800'000u);
  bwe.on_remb(now += seconds(4), 10);  // the 1.8M is out of the window; clamped to min_bps
  EXPECT_EQ(bwe.estimate_bps(), 30'000u);
  for (int i = 0; i < 100; ++i) bwe.on_packet_sent(now += milliseconds(50), 1200);
  EXPECT_EQ(bwe.estimate_bps(), 30'000u) << "a REMB is feedback: no floor";
}

// A receiver's REMB dips on one delay spike; obeying it at once would pause
// a single-layer video, and a receiver capped by what it receives could not
// climb back. Only a dip that lasts kRembWindow counts.
TEST(BandwidthEstimatorRemb, ShortDipIsIgnoredALastingOneObeyed) {
  BandwidthEstimator bwe(BweConfig{.initial_probing = false});
  Instant now = from_micros(1'000'000);
  for (int i = 0; i < 10; ++i) bwe.on_remb(now += milliseconds(500), 1'000'000);
  bwe.on_remb(now += milliseconds(500), 300'000);  // a dip
  EXPECT_EQ(bwe.estimate_bps(), 1'000'000u);
  bwe.on_remb(now += milliseconds(500), 900'000);
  EXPECT_EQ(bwe.estimate_bps(), 1'000'000u);
  for (int i = 0; i < 8; ++i) bwe.on_remb(now += milliseconds(500), 300'000);  // it lasts
  EXPECT_EQ(bwe.estimate_bps(), 300'000u);
}

TEST(BandwidthEstimatorRemb, TransportCcWinsOverRemb) {
  BweLinkSim sim(BweConfig{}, LinkConfig{.capacity_bps = 1'000'000});
  sim.run_until(sim.now + seconds(2));
  const uint64_t gcc = sim.bwe.estimate_bps();
  sim.bwe.on_remb(sim.now, 50'000'000);
  EXPECT_EQ(sim.bwe.estimate_bps(), gcc);
}

// No congestion feedback of any kind: after the grace period the estimate
// is at least the documented floor, never the 300 kbit/s start forever.
TEST(BandwidthEstimatorRemb, NoFeedbackAtAllGetsTheFloorAfterGrace) {
  BandwidthEstimator bwe(BweConfig{.initial_probing = false});
  Instant now = from_micros(1'000'000);
  bwe.on_packet_sent(now, 1200);
  while (now < from_micros(1'000'000) + BandwidthEstimator::kNoFeedbackGrace - milliseconds(100)) {
    bwe.on_packet_sent(now += milliseconds(20), 1200);
    ASSERT_EQ(bwe.estimate_bps(), 300'000u);
  }
  for (int i = 0; i < 10; ++i) bwe.on_packet_sent(now += milliseconds(20), 1200);
  EXPECT_EQ(bwe.estimate_bps(), BandwidthEstimator::kNoFeedbackFloorBps);
}

}  // namespace
}  // namespace sfu::server::bwe
