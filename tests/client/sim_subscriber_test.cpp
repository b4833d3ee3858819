// SimSubscriber against a SyntheticPublisher through an identity "SFU" (one
// layer's packets passed straight through) over simulated links on a virtual
// clock: validity over 30 s, rates, latency, NACK/RTX repair of 5 % loss,
// PLI round trips, transport-cc feedback and receiver reports.
#include "bench/client/sim_subscriber.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <vector>

#include "bench/client/payload_probe.hpp"
#include "bench/client/sim_link.hpp"
#include "bench/client/synthetic_publisher.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp/receiver_report.hpp"
#include "rtp/rtcp/rtcp_header.hpp"
#include "rtp/rtcp/sender_report.hpp"
#include "rtp/rtcp/transport_cc.hpp"
#include "rtp/rtp_packet.hpp"

namespace sfu::client {
namespace {

using server::media::MediaKind;

const Instant kStart = from_micros(9'000'000'000);

bool is_rtcp(Bytes b) { return b.size() >= 2 && b[1] >= 192 && b[1] <= 223; }  // RFC 5761 §4

// Publisher ─► identity SFU (one layer, its RTX, optionally audio) ─► down
// link ─► subscriber; subscriber RTCP ─► up link ─► publisher.
class IdentityLoop {
 public:
  IdentityLoop(PublisherConfig pc, size_t layer, LinkProfile down, LinkProfile up = {}, SubscriberConfig sc = {})
      : pub(pc),
        layer_(pc.video.layers.at(layer)),
        audio_ssrc_(pc.audio.ssrc),
        down_(11, down),
        up_(12, up),
        sub_config_(std::move(sc)),
        sub(make_subscriber(pc)) {
    pub.start(kStart);
  }

  // Advances the virtual clock to `end`, event by event (events at `end`
  // itself are left for the next run).
  void run_until(Instant end) {
    int stuck = 0;
    for (;;) {
      std::optional<Instant> next;
      auto consider = [&next](std::optional<Instant> t) {
        if (t) next = next ? std::min(*next, *t) : *t;
      };
      consider(pub.poll_timeout());
      consider(sub.poll_timeout());
      consider(down_.next_delivery());
      consider(up_.next_delivery());
      if (!next || *next >= end) break;
      stuck = *next <= now ? stuck + 1 : 0;
      ASSERT_LT(stuck, 100) << "an endpoint keeps asking for the same instant";
      now = std::max(now, *next);
      step();
    }
    now = end;
  }

  void run_for(Duration d) { run_until(now + d); }

  SubscriberStreamStats stats() const { return *sub.stream_stats(layer_.ssrc, now); }

  SyntheticPublisher pub;
  Instant now = kStart;
  uint64_t media_dropped = 0;  // forwarded media packets of the layer lost on the down link
  uint64_t forwarded_media = 0;
  bool forward_audio = false;
  std::function<bool(Bytes)> sfu_filter;                          // false: the "SFU" drops the packet
  std::vector<std::pair<Instant, std::vector<uint8_t>>> up_rtcp;  // what the subscriber sent
  std::vector<std::pair<Instant, rtp::rtcp::SenderInfo>> srs_delivered;
  std::set<uint16_t> twcc_delivered;

 private:
  SimSubscriber make_subscriber(const PublisherConfig& pc) {
    SubscriberConfig c = sub_config_;
    c.streams.push_back({MediaKind::video, layer_.ssrc, layer_.rtx_ssrc, 96, 97, 0, true});
    if (pc.audio.enabled) c.streams.push_back({MediaKind::audio, pc.audio.ssrc, 0, 111, 0, 0, false});
    return SimSubscriber(c);
  }

  void forward(Bytes p) {
    const uint32_t ssrc = load_be32(&p[8]);
    const bool media = ssrc == layer_.ssrc;
    if (!media && ssrc != layer_.rtx_ssrc && !(forward_audio && ssrc == audio_ssrc_)) return;
    if (sfu_filter && !sfu_filter(p)) return;
    if (media) ++forwarded_media;
    if (!down_.send(now, p) && media) ++media_dropped;
  }

  void deliver_down(Bytes d) {
    if (is_rtcp(d)) {
      rtp::rtcp::CompoundReader r(d);
      if (auto sr = rtp::rtcp::SenderReportView::parse(*r.next())) srs_delivered.push_back({now, sr->info});
      sub.handle_rtcp(now, d);
      return;
    }
    if (auto v = rtp::parse_rtp(d)) twcc_delivered.insert(*rtp::ext::parse_transport_sequence(*v->extension(3)));
    sub.handle_rtp(now, d);
  }

  void step() {
    pub.handle_timeout(now);
    while (auto p = pub.poll_rtp()) forward(*p);
    while (auto p = pub.poll_rtcp()) {
      if (load_be32(&(*p)[4]) == layer_.ssrc) down_.send(now, *p);  // the layer's SR
    }
    while (auto d = down_.pop_due(now)) deliver_down(*d);
    while (auto r = sub.poll_rtcp(now)) {
      up_rtcp.push_back({now, {r->begin(), r->end()}});
      up_.send(now, *r);
    }
    while (auto d = up_.pop_due(now)) pub.handle_rtcp(now, *d);
  }

  VideoLayerConfig layer_;
  uint32_t audio_ssrc_;
  SimLink down_, up_;
  SubscriberConfig sub_config_;

 public:
  SimSubscriber sub;
};

PublisherConfig three_layers(int temporal_layers = 1) {
  PublisherConfig c = default_publisher_config(5000);
  c.video.temporal_layers = temporal_layers;
  return c;
}

TEST(SimSubscriber, IdentityLoopIsValidForThirtySeconds) {
  SubscriberConfig strict;
  strict.validator.allow_rtx_duplicates = false;  // nothing is lost: no RTX at all
  IdentityLoop loop(three_layers(3), 2, {0, milliseconds(20), milliseconds(0)}, {0, milliseconds(20)}, strict);
  loop.forward_audio = true;
  loop.run_until(kStart + seconds(30));
  loop.pub.stop();
  loop.run_for(seconds(1));
  loop.sub.finish(loop.now);
  ASSERT_TRUE(loop.sub.ok()) << loop.sub.validator(5005)->summary();

  const SubscriberStreamStats s = loop.stats();
  EXPECT_EQ(s.frames_completed, 900u);
  EXPECT_EQ(s.keyframes, 10u);
  EXPECT_EQ(s.lost, 0);
  EXPECT_EQ(s.plis_sent, 0u);
  EXPECT_EQ(s.width, 1280);
  EXPECT_EQ(s.height, 720);
  const double bps = double(s.bytes) * 8 / 30;
  EXPECT_NEAR(bps, 1'500'000, 0.15 * 1'500'000);
  EXPECT_NEAR(double(s.latency_p50_us), 20'000, 1'000);
  EXPECT_NEAR(double(s.latency_p99_us), 20'000, 1'000);
  EXPECT_EQ(loop.sub.validator(5005)->frames(), 900u);

  // The steady rate by whole seconds (sfu-load's bitrate rule) is the layer's.
  EXPECT_NEAR(loop.sub.stream_bps(5005, kStart + seconds(5), kStart + seconds(30)), 1'500'000, 0.05 * 1'500'000);
  EXPECT_EQ(loop.sub.stream_bps(4242, kStart, kStart + seconds(30)), 0);

  const SubscriberStreamStats audio = *loop.sub.stream_stats(5000, loop.now);
  EXPECT_EQ(audio.packets, 1500u);
  EXPECT_NEAR(double(audio.latency_p50_us), 20'000, 1'000);
  EXPECT_EQ(loop.sub.counters().unknown_ssrc, 0u);
}

// Liveness (sfu-load counts a track only while it keeps arriving): the
// longest time without a new media packet, RTX repairs not counted, and a
// stream that stopped shows the time since its last packet.
TEST(SimSubscriber, LongestSilenceIsTheLongestGapBetweenNewMediaPackets) {
  IdentityLoop loop(three_layers(), 0, {0, milliseconds(20), milliseconds(0)});
  const Instant hole_from = kStart + seconds(5), hole_to = hole_from + milliseconds(1500);
  bool stopped = false;
  loop.sfu_filter = [&](Bytes) { return !stopped && (loop.now < hole_from || loop.now >= hole_to); };
  loop.run_until(kStart + seconds(4));
  SubscriberStreamStats s = loop.stats();
  ASSERT_TRUE(s.first_media_at.has_value());
  EXPECT_LE(*s.first_media_at, kStart + milliseconds(60));
  EXPECT_LT(s.longest_silence, milliseconds(100)) << "30 frames a second";
  loop.run_until(kStart + seconds(10));
  s = loop.stats();
  EXPECT_GE(s.longest_silence, milliseconds(1450));
  EXPECT_LE(s.longest_silence, milliseconds(1600));
  EXPECT_GT(s.rtx_packets, 0u) << "the hole was NACKed and repaired, which does not end the silence";
  stopped = true;
  loop.run_until(kStart + seconds(13));
  EXPECT_GE(loop.stats().longest_silence, milliseconds(2900)) << "stopped 3 s ago";
}

TEST(SimSubscriber, EveryLayerIsValidOnItsOwn) {
  for (size_t layer = 0; layer < 3; ++layer) {
    IdentityLoop loop(three_layers(3), layer, {0, milliseconds(5)});
    loop.run_until(kStart + seconds(5));
    loop.sub.finish(loop.now);
    const uint32_t ssrc = 5001 + 2 * uint32_t(layer);
    EXPECT_TRUE(loop.sub.ok()) << loop.sub.validator(ssrc)->summary();
    const double target = loop.pub.config().video.layers[layer].target_bps;
    EXPECT_NEAR(double(loop.stats().bytes) * 8 / 5, target, 0.15 * target) << layer;
    EXPECT_EQ(loop.stats().width, loop.pub.config().video.layers[layer].width);
  }
}

TEST(SimSubscriber, NackAndRtxRepairFivePercentLoss) {
  IdentityLoop loop(three_layers(), 2, {0.05, milliseconds(20), milliseconds(0)}, {0.05, milliseconds(20)});
  loop.run_until(kStart + seconds(20));
  loop.pub.stop();
  loop.run_for(seconds(2));
  loop.sub.finish(loop.now);

  const SubscriberStreamStats s = loop.stats();
  ASSERT_GT(loop.media_dropped, 100u);
  EXPECT_GT(double(s.recovered_by_rtx), 0.99 * double(loop.media_dropped))
      << s.recovered_by_rtx << " of " << loop.media_dropped;
  EXPECT_EQ(s.lost, 0);
  EXPECT_GT(s.nacks_sent, loop.media_dropped);  // lost RTX and lost NACKs are asked for again
  EXPECT_TRUE(loop.sub.ok()) << loop.sub.validator(5005)->summary();
  EXPECT_EQ(s.frames_completed, 600u);
  EXPECT_GT(loop.pub.layer_stats(2).retransmissions, loop.media_dropped * 9 / 10);
}

TEST(SimSubscriber, SurvivesReorderingWithLoss) {
  // Independent per-packet jitter reorders every burst: the NackGenerator
  // asks for reordered packets too, and the extra RTX copies are tolerated.
  IdentityLoop loop(three_layers(3), 2, {0.05, milliseconds(20), milliseconds(5), true}, {0.05, milliseconds(20)});
  loop.run_until(kStart + seconds(10));
  loop.pub.stop();
  loop.run_for(seconds(2));
  loop.sub.finish(loop.now);
  const SubscriberStreamStats s = loop.stats();
  EXPECT_TRUE(loop.sub.ok()) << loop.sub.validator(5005)->summary();
  EXPECT_EQ(s.lost, 0);
  EXPECT_EQ(s.frames_completed, 300u);
  EXPECT_GT(loop.sub.validator(5005)->rtx_duplicates(), 100u);
  EXPECT_NEAR(double(s.latency_p50_us), 22'500, 1'500);
}

TEST(SimSubscriber, PliBringsAKeyframeWithinOneFrameInterval) {
  PublisherConfig pc = three_layers();
  pc.video.keyframe_interval = seconds(100);
  const Duration delay = milliseconds(5);
  IdentityLoop loop(pc, 1, {0, delay}, {0, delay});
  loop.run_until(kStart + seconds(2) + milliseconds(10));
  ASSERT_EQ(loop.stats().keyframes, 1u);
  loop.sub.request_keyframe(5003);
  // PLI up (5 ms), at most one frame interval to the next frame, down (5 ms).
  loop.run_for(2 * delay + microseconds(33'334));
  EXPECT_EQ(loop.stats().keyframes, 2u);
  EXPECT_EQ(loop.stats().plis_sent, 1u);
  EXPECT_EQ(loop.pub.layer_stats(1).plis, 1u);
  EXPECT_EQ(loop.pub.layer_stats(1).keyframes, 2u);
  EXPECT_EQ(loop.pub.layer_stats(2).keyframes, 1u);
}

TEST(SimSubscriber, SendsPliWhenNoKeyframeArrivesForOneSecond) {
  PublisherConfig pc = three_layers();
  pc.video.keyframe_interval = seconds(100);
  IdentityLoop loop(pc, 0, {0, milliseconds(5)}, {0, milliseconds(5)});
  bool started = false;  // the "SFU" starts forwarding on the first delta frame
  loop.sfu_filter = [&started](Bytes p) {
    auto v = rtp::parse_rtp(p);
    if (!started && v->ssrc() == 5001) {
      const PayloadLayout l = inspect_payload(true, v->payload());
      started = l.frame_start && !l.frame.keyframe;
    }
    return started;
  };
  loop.run_until(kStart + milliseconds(900));
  EXPECT_EQ(loop.stats().plis_sent, 0u);
  EXPECT_GT(loop.stats().frames_completed, 20u);
  EXPECT_EQ(loop.stats().keyframes, 0u);
  loop.run_until(kStart + milliseconds(1200));
  EXPECT_EQ(loop.stats().plis_sent, 1u);
  EXPECT_EQ(loop.stats().keyframes, 1u);
  loop.run_until(kStart + seconds(3));
  EXPECT_EQ(loop.stats().plis_sent, 1u) << "no more PLIs once a key frame is in";
  loop.sub.finish(loop.now);
  EXPECT_EQ(loop.sub.validator(5001)->count(Violation::initial_not_keyframe), 1u);
}

TEST(SimSubscriber, TransportCcFeedbackReportsEveryArrival) {
  IdentityLoop loop(three_layers(), 1, {0, milliseconds(10)}, {0, milliseconds(10)});
  loop.forward_audio = true;
  loop.run_until(kStart + seconds(2));
  std::set<uint16_t> reported;
  size_t feedbacks = 0;
  for (const auto& [at, bytes] : loop.up_rtcp) {
    rtp::rtcp::CompoundReader r(bytes);
    while (auto p = r.next()) {
      auto fb = rtp::rtcp::parse_transport_cc(*p);
      if (!fb) continue;
      ++feedbacks;
      EXPECT_EQ(fb->sender_ssrc(), 1u);
      for (const auto& status : *fb) {
        if (!status.received) continue;
        EXPECT_TRUE(reported.insert(status.sequence).second) << "reported twice";
      }
    }
    ASSERT_FALSE(r.error().has_value());
  }
  EXPECT_NEAR(double(feedbacks), 40, 2);  // every 50 ms
  // Everything delivered up to the last feedback round was reported.
  std::set<uint16_t> delivered = loop.twcc_delivered;
  for (auto it = delivered.begin(); it != delivered.end();) it = reported.count(*it) ? delivered.erase(it) : ++it;
  EXPECT_LE(delivered.size(), 40u) << "only the last 50 ms may be unreported";
  EXPECT_EQ(loop.pub.counters().transport_cc, feedbacks);
}

TEST(SimSubscriber, SplitsTransportCcFeedbackThatDoesNotFitOnePacket) {
  SimSubscriber sub(SubscriberConfig{});
  // 3000 arrivals 1 ms apart, polled at once: more than one 1200-byte
  // feedback packet, across a sequence number wrap, every 7th one missing.
  std::array<uint8_t, 64> buf{};
  std::array<uint8_t, 2> twcc{};
  std::set<uint16_t> sent;
  for (int i = 0; i < 3500; ++i) {
    if (i % 7 == 3) continue;
    const uint16_t seq = uint16_t(64000 + i);
    rtp::ext::write_transport_sequence(twcc, seq);
    rtp::RtpHeader h;
    h.ssrc = 77;
    h.sequence = uint16_t(i);
    h.add_extension(3, twcc);
    const size_t n = h.serialize_to(buf);
    sub.handle_rtp(kStart + milliseconds(i), Bytes(buf.data(), n));
    sent.insert(seq);
  }
  const Instant t = kStart + seconds(4);
  std::set<uint16_t> reported;
  int datagrams = 0;
  while (auto d = sub.poll_rtcp(t)) {
    ++datagrams;
    EXPECT_LE(d->size(), 1200u);
    rtp::rtcp::CompoundReader r(*d);
    while (auto p = r.next()) {
      auto fb = rtp::rtcp::parse_transport_cc(*p);
      ASSERT_TRUE(fb.ok());
      for (const auto& status : *fb) {
        if (!status.received) continue;
        EXPECT_TRUE(reported.insert(status.sequence).second);
      }
    }
  }
  EXPECT_GE(datagrams, 2);
  EXPECT_EQ(reported, sent);
  EXPECT_EQ(sub.counters().unknown_ssrc, sent.size());
  EXPECT_EQ(sub.counters().transport_cc_dropped, 0u);
}

TEST(SimSubscriber, ReceiverReportsEchoTheLastSenderReport) {
  SubscriberConfig sc;
  sc.report_interval = milliseconds(700);  // RRs between the SRs (1 s apart)
  IdentityLoop loop(three_layers(), 2, {0, milliseconds(10)}, {0, milliseconds(10)}, sc);
  loop.run_until(kStart + milliseconds(3500));
  ASSERT_GE(loop.srs_delivered.size(), 2u);
  int checked = 0;
  for (const auto& [at, bytes] : loop.up_rtcp) {
    rtp::rtcp::CompoundReader r(bytes);
    auto p = r.next();
    if (p->type != rtp::rtcp::pt::kReceiverReport) continue;
    auto rr = rtp::rtcp::ReceiverReportView::parse(*p);
    ASSERT_TRUE(rr.ok());
    EXPECT_EQ(rr->ssrc, 1u);
    for (const rtp::rtcp::ReportBlock& b : rr->report_blocks) {
      if (b.ssrc != 5005 || b.last_sr == 0) continue;
      // The SR this block answers: the last one delivered before it.
      const auto* last = &loop.srs_delivered.front();
      for (const auto& sr : loop.srs_delivered) {
        if (sr.first <= at) last = &sr;
      }
      EXPECT_EQ(b.last_sr, rtp::rtcp::compact_ntp(last->second.ntp_timestamp));
      const double dlsr_s = double(b.delay_since_last_sr) / 65536.0;
      EXPECT_NEAR(dlsr_s, std::chrono::duration<double>(at - last->first).count(), 0.001);
      EXPECT_EQ(b.fraction_lost, 0);
      ++checked;
    }
  }
  EXPECT_GE(checked, 2);
}

TEST(SimSubscriber, CountsWhatItCannotUse) {
  SubscriberConfig c;
  c.streams.push_back({MediaKind::video, 10, 11, 96, 97, 0, true});
  SimSubscriber sub(c);
  const uint8_t junk[] = {0x80, 0x60, 0x00};
  sub.handle_rtp(kStart, junk);
  SyntheticPublisher pub(default_publisher_config(100, 1));
  pub.start(kStart);
  pub.handle_timeout(kStart);
  sub.handle_rtp(kStart, *pub.poll_rtp());  // SSRC 101: not expected
  EXPECT_EQ(sub.counters().malformed, 1u);
  EXPECT_EQ(sub.counters().unknown_ssrc, 1u);
  EXPECT_FALSE(sub.stream_stats(101, kStart).has_value());
  EXPECT_TRUE(sub.remove_stream(10));
  EXPECT_FALSE(sub.remove_stream(10));
  EXPECT_EQ(sub.stream_count(), 0u);
}

TEST(SimSubscriber, PlisAStreamThatNeverStartsOncePerTimeout) {
  SubscriberConfig c;
  c.streams.push_back({MediaKind::video, 10, 11, 96, 97, 0, true});
  SimSubscriber sub(c);
  EXPECT_FALSE(sub.poll_rtcp(kStart).has_value());  // starts the key-frame clock
  auto t = sub.poll_timeout();
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, kStart + seconds(1));
  auto rtcp = sub.poll_rtcp(*t);
  ASSERT_TRUE(rtcp.has_value());
  rtp::rtcp::CompoundReader r(*rtcp);
  auto p = r.next();
  EXPECT_EQ(p->type, rtp::rtcp::pt::kPsFeedback);
  EXPECT_EQ(sub.stream_stats(10, *t)->plis_sent, 1u);
  EXPECT_EQ(*sub.poll_timeout(), kStart + seconds(2));
}

}  // namespace
}  // namespace sfu::client
