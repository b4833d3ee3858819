#include "server/media/simulcast_forwarder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "rtp/codecs/vp8.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/sequence.hpp"
#include "simulcast_test_publisher.hpp"

namespace sfu::server::media {
namespace {

using namespace test_support;

// ---- the forwarder -------------------------------------------------------------------

TEST(SimulcastForwarder, StartsOnlyOnKeyFrameOfTargetLayer) {
  Harness h({.start_with_keyframe = false});
  h.fwd.set_preferred_layers(1, -1);
  ASSERT_TRUE(h.out.empty());
  h.run(2);
  EXPECT_TRUE(h.out.empty());
  EXPECT_EQ(h.fwd.stats().dropped[size_t(DropReason::waiting_for_keyframe)], 4u);
  ASSERT_FALSE(h.plis.empty());
  EXPECT_EQ(h.plis[0].second, 1);
  h.run(10);
  ASSERT_FALSE(h.out.empty());
  EXPECT_TRUE(h.out[0].keyframe_start);
  for (const Received& r : h.out) EXPECT_EQ(r.layer, 1);
  EXPECT_EQ(h.fwd.current_layers(), (Layers{1, 2}));
  EXPECT_EQ(h.out[0].ssrc, 0x5e5e5e5eu);
  EXPECT_EQ(h.out[0].bytes[1] & 0x7f, 100);  // payload type mapped
}

// A publisher short of bandwidth or CPU stops sending its top layer and
// ignores key-frame requests for it (Chrome's VP8 encoder answers a request
// for a layer it sends with a key frame on every layer it sends). A starting
// consumer asks the target's key frame; after one request interval it asks
// the base layer's too and starts on the first key frame below the target,
// rather than waiting seconds for the allocator to see the top layer idle.
// Within that interval a lower key frame does not start it (the target's
// usually comes within a frame or two).
TEST(SimulcastForwarder, StartsBelowTargetWhenTheTargetsKeyFrameDoesNotCome) {
  Harness h({.layers = 2, .start_with_keyframe = false});  // sends layers 0 and 1 only
  h.answer_plis = false;
  h.pub.request_keyframe(0);  // someone else's request: a layer-0 key frame at frame 3 (100 ms)
  size_t answered = 0;
  for (int f = 0; f < 40; ++f) {
    h.run(1);
    for (; answered < h.plis.size(); ++answered) {
      if (h.plis[answered].second >= 2) continue;  // not sent: ignored
      h.pub.request_keyframe(0);
      h.pub.request_keyframe(1);
    }
  }
  ASSERT_GE(h.plis.size(), 3u);
  EXPECT_EQ(h.plis[0].second, 2);
  EXPECT_LT(h.plis[0].first - kT0, milliseconds(40));
  // 500 ms later: the target again, and the base layer.
  EXPECT_EQ(h.plis[1].second, 2);
  EXPECT_EQ(h.plis[2].second, 0);
  EXPECT_GE(h.plis[2].first - h.plis[0].first, kKeyframeRequestInterval);
  EXPECT_LT(h.plis[2].first - h.plis[0].first, kKeyframeRequestInterval + milliseconds(40));
  ASSERT_FALSE(h.out.empty());
  EXPECT_TRUE(h.out[0].keyframe_start);
  EXPECT_EQ(h.out[0].layer, 0);
  // Not the layer-0 key frame at 100 ms: the one asked for at 500 ms, three frames later.
  EXPECT_GT(h.pub.frame_time(h.out[0].frame) - kT0, kKeyframeRequestInterval);
  EXPECT_LT(h.pub.frame_time(h.out[0].frame) - kT0, milliseconds(700));
  EXPECT_EQ(h.fwd.current_layers().spatial, 0);
  EXPECT_EQ(h.fwd.target_layers().spatial, 2);  // still climbing: the allocator lowers it once layer 2 reads idle
  expect_contiguous(h.out);
  // Started: no more base-layer requests; the target's repeat every interval.
  for (size_t i = 3; i < h.plis.size(); ++i) EXPECT_EQ(h.plis[i].second, 2) << i;
  h.fwd.set_max_layers_by_bandwidth(1, -1);
  const size_t before = h.out.size();
  h.run(10);
  ASSERT_GT(h.out.size(), before);
  EXPECT_EQ(h.fwd.current_layers().spatial, 0);  // layer 1's key frame was asked for, not answered here
  EXPECT_EQ(h.plis.back().second, 1);
}

// The target's key frame within the interval: a start as always, one request.
TEST(SimulcastForwarder, StartsOnTheTargetWhenItsKeyFrameComesInTime) {
  Harness h({.start_with_keyframe = false});
  h.run(30);
  ASSERT_FALSE(h.out.empty());
  EXPECT_EQ(h.out[0].layer, 2);
  EXPECT_TRUE(h.out[0].keyframe_start);
  ASSERT_EQ(h.plis.size(), 1u);
  EXPECT_EQ(h.plis[0].second, 2);
  EXPECT_EQ(switch_points(h.out).size(), 0u);
}

TEST(SimulcastForwarder, UpAndDownSwitchesHappenAtKeyFrames) {
  Harness h;
  const std::array<int, 6> caps = {2, 0, 1, 2, 1, 0};
  for (int cap : caps) {
    h.fwd.set_max_layers_by_bandwidth(cap, -1);
    h.run(30);
    EXPECT_EQ(h.fwd.current_layers().spatial, cap);
  }
  const auto switches = switch_points(h.out);
  EXPECT_EQ(switches.size(), caps.size() - 1);
  for (size_t i : switches) {
    EXPECT_TRUE(h.out[i].keyframe_start) << "switch at output packet " << i;
    EXPECT_EQ(h.out[i].tid, 0);
  }
  // Only key frames requested by a switch: one PLI per switch, for its layer.
  EXPECT_EQ(h.plis.size(), switches.size());
}

TEST(SimulcastForwarder, KeepsForwardingCurrentLayerWhileWaiting) {
  Harness h({}, vp8_config());
  h.answer_plis = false;
  h.run(10);
  const size_t before = h.out.size();
  h.fwd.set_preferred_layers(0, -1);
  h.run(10);
  EXPECT_EQ(h.fwd.current_layers().spatial, 2);
  EXPECT_GT(h.out.size(), before);  // layer 2 keeps going: no freeze
  EXPECT_GT(h.fwd.stats().dropped[size_t(DropReason::waiting_for_keyframe)], 0u);
}

TEST(SimulcastForwarder, SequenceContiguousAcrossSwitchesAndFiltering) {
  Harness h({.keyframe_interval = 97});
  run_random_switching(h, 7);
  ASSERT_GT(h.out.size(), 5000u);
  EXPECT_GT(switch_points(h.out).size(), 10u);
  EXPECT_GT(h.fwd.stats().dropped[size_t(DropReason::temporal_filtered)], 500u);
  expect_contiguous(h.out);
  for (const Received& r : h.out) EXPECT_EQ(r.ssrc, 0x5e5e5e5eu);
}

TEST(SimulcastForwarder, ReorderingKeepsOrderFramesAndUniqueness) {
  Harness h({.packets_per_frame = {3, 3, 3}, .keyframe_interval = 97});
  h.nack = true;
  std::mt19937 rng(9);
  h.reorder = [&](std::vector<SimPacket>& v) {
    for (size_t i = 0; i + 1 < v.size(); ++i) {
      if (rng() % 4 == 0) std::swap(v[i], v[i + 1]);
    }
  };
  run_random_switching(h, 13);
  ASSERT_GT(h.out.size(), 5000u);
  const auto by_output_order = [&](std::vector<Received> v) {
    std::sort(v.begin(), v.end(), [&](const Received& a, const Received& b) {
      return rtp::seq_diff(a.seq, h.out[0].seq) < rtp::seq_diff(b.seq, h.out[0].seq);
    });
    return v;
  };
  // The subscriber NACKs every hole; the forwarder answers all but packets
  // a switch cut out of the old layer's last frame.
  EXPECT_GT(h.fwd.stats().adopted_early, 0u);
  std::vector<Received> sorted = by_output_order(h.out);
  std::map<uint16_t, size_t> index_of;
  for (size_t i = 0; i < sorted.size(); ++i) index_of[sorted[i].seq] = i;
  for (uint16_t u : h.unanswered_nacks) {  // the hole is in the old layer's last frame
    uint16_t after = uint16_t(u + 1);
    while (!index_of.count(after)) ++after;
    size_t j = index_of[after];
    ASSERT_GT(j, 0u);
    if (sorted[j - 1].layer != sorted[j].layer) continue;  // right at the switch
    while (j + 1 < sorted.size() && sorted[j + 1].layer == sorted[j].layer && sorted[j + 1].frame == sorted[j].frame)
      ++j;
    ASSERT_LT(j + 1, sorted.size());
    EXPECT_NE(sorted[j].layer, sorted[j + 1].layer) << "unanswered NACK " << u << " not at a switch";
  }
  EXPECT_LT(h.unanswered_nacks.size(), switch_points(sorted).size());
  for (size_t i = 1; i < sorted.size(); ++i) {
    const Received& a = sorted[i - 1];
    const Received& b = sorted[i];
    ASSERT_GT(rtp::seq_diff(b.seq, a.seq), 0) << "duplicate output " << b.seq;
    if (a.layer == b.layer && a.frame <= b.frame) {  // same epoch: input order kept
      EXPECT_GT(rtp::seq_diff(b.in_seq, a.in_seq), 0) << "at " << i;
    }
    if (a.layer == b.layer && a.frame == b.frame) {
      EXPECT_EQ(a.ts, b.ts);
      EXPECT_EQ(a.picture_id, b.picture_id);
    }
  }
  // Whole frames, but for frames a switch cut short.
  std::map<std::pair<int, int64_t>, int> per_frame;
  for (const Received& r : h.out) ++per_frame[{r.layer, r.frame}];
  size_t partial = 0;
  for (const auto& [frame, n] : per_frame) partial += n == 3 ? 0 : 1;
  EXPECT_LE(partial, h.fwd.stats().truncated_frames + h.unanswered_nacks.size());
}

TEST(SimulcastForwarder, DuplicatesAreDropped) {
  Harness h;
  h.run(5);
  SimPacket again;
  again.layer = h.out.back().layer;
  again.bytes = h.out.back().source;
  again.arrival = h.now;
  EXPECT_EQ(h.feed(again).reason, DropReason::duplicate);
  h.run(5);
  expect_contiguous(h.out);
}

// Output frame timestamps minus the capture timeline: constant but for the
// +1 a same-instant switch adds (SR) / within ~5 ms per switch (arrival).
void check_timeline(const Harness& h, int64_t per_switch_tolerance) {
  const auto switches = switch_points(h.out);
  ASSERT_GT(switches.size(), 4u);
  const int64_t base = int64_t(h.out[0].ts) - int64_t(h.out[0].capture);
  for (size_t i = 1; i < h.out.size(); ++i) {
    EXPECT_GE(rtp::timestamp_diff(h.out[i].ts, h.out[i - 1].ts), 0) << "at " << i;
    if (h.out[i].ts != h.out[i - 1].ts) {
      EXPECT_LE(rtp::timestamp_diff(h.out[i].ts, h.out[i - 1].ts), 6 * int64_t(kFrameTicks)) << "at " << i;
    }
    const int64_t drift = rtp::timestamp_diff(uint32_t(h.out[i].ts - h.out[i].capture), uint32_t(base));
    EXPECT_LE(std::abs(drift), per_switch_tolerance * int64_t(switches.size())) << "at " << i;
    if (per_switch_tolerance <= 1) {
      EXPECT_GE(drift, 0);
    }
  }
}

TEST(SimulcastForwarder, TimestampsContinuousWithSenderReports) {
  Harness h({.keyframe_interval = 97});
  h.send_sender_reports = true;
  run_random_switching(h, 11);
  check_timeline(h, 1);
}

TEST(SimulcastForwarder, TimestampsContinuousByArrivalTimeWithoutSenderReports) {
  Harness h({.keyframe_interval = 97});
  run_random_switching(h, 11);
  check_timeline(h, 450);  // 5 ms at 90 kHz
}

TEST(SimulcastForwarder, Vp8PictureIdAndTl0PicIdxContinuous) {
  Harness h({.keyframe_interval = 97, .picture_id_base = 32700});
  run_random_switching(h, 3);
  bool wrapped = false;
  std::optional<uint8_t> last_tl0;
  for (size_t i = 1; i < h.out.size(); ++i) {
    const Received& a = h.out[i - 1];
    const Received& b = h.out[i];
    if (b.ts == a.ts) {
      EXPECT_EQ(b.picture_id, a.picture_id);
      continue;
    }
    ASSERT_EQ(b.picture_id, (a.picture_id + 1) & 0x7fff) << "at " << i;
    wrapped |= b.picture_id == 0;
    if (b.tid == 0) {
      if (last_tl0) {
        EXPECT_EQ(b.tl0, uint8_t(*last_tl0 + 1)) << "at " << i;
      }
      last_tl0 = b.tl0;
    } else if (last_tl0) {
      EXPECT_EQ(b.tl0, *last_tl0) << "at " << i;
    }
  }
  EXPECT_TRUE(wrapped);
}

TEST(SimulcastForwarder, TemporalFilteringAndLayerSyncUpswitch) {
  Harness h({.packets_per_frame = {3, 3, 3}, .sync_every = 3});
  h.fwd.set_preferred_layers(0, 0);
  h.run(40);
  ASSERT_FALSE(h.out.empty());
  for (const Received& r : h.out) EXPECT_EQ(r.tid, 0);
  const size_t mark = h.out.size();
  h.fwd.set_preferred_layers(0, 2);
  h.run(40);
  EXPECT_EQ(h.fwd.current_layers(), (Layers{0, 2}));
  int current = 0;
  for (size_t i = mark; i < h.out.size(); ++i) {
    const Received& r = h.out[i];
    if (r.tid > current) {  // a climb: exactly one layer, at a sync frame
      EXPECT_EQ(r.tid, current + 1) << "at " << i;
      const auto vp8 = rtp::codecs::parse_vp8(rtp::parse_rtp(r.bytes)->payload());
      EXPECT_TRUE(vp8->layer_sync) << "at " << i;
      current = r.tid;
    }
  }
  EXPECT_EQ(current, 2);
  // Whole frames only: 3 packets of every forwarded frame.
  std::map<int64_t, int> per_frame;
  for (const Received& r : h.out) ++per_frame[r.frame];
  for (const auto& [frame, n] : per_frame) EXPECT_EQ(n, 3) << "frame " << frame;
  expect_contiguous(h.out);
}

TEST(SimulcastForwarder, KeyFrameRequestsRateLimitedPerLayer) {
  Harness h({.start_with_keyframe = false});
  h.answer_plis = false;
  SimulcastForwarder& f = h.fwd;
  f.set_preferred_layers(2, -1);
  std::vector<std::pair<Instant, int>> got;
  for (int64_t ms = 0; ms <= 3000; ms += 10) {
    const Instant now = kT0 + milliseconds(ms);
    if (ms == 1200) f.set_preferred_layers(1, -1);
    if (ms == 1300) f.set_preferred_layers(2, -1);  // back to 2: its own limit still holds
    while (auto l = f.poll_keyframe_request(now)) got.push_back({now, *l});
    ASSERT_TRUE(f.poll_timeout());
    EXPECT_LE(*f.poll_timeout(), now + kKeyframeRequestInterval);
  }
  for (size_t i = 0; i < got.size(); ++i) {
    for (size_t j = i + 1; j < got.size(); ++j) {
      if (got[i].second == got[j].second) {
        EXPECT_GE(got[j].first - got[i].first, kKeyframeRequestInterval);
      }
    }
  }
  // Layer 2 at 0, 500, 1000, 1500 ... 3000; layer 1 once at 1200.
  EXPECT_EQ(std::count_if(got.begin(), got.end(), [](auto& g) { return g.second == 2; }), 7);
  EXPECT_EQ(std::count_if(got.begin(), got.end(), [](auto& g) { return g.second == 1; }), 1);
  EXPECT_EQ(f.stats().keyframe_requests, got.size());
}

TEST(SimulcastForwarder, PauseResumeWaitsForKeyFrameAndStaysContiguous) {
  Harness h;
  h.run(30);
  const Received before = h.out.back();
  h.fwd.set_paused(true);
  const size_t n = h.out.size();
  h.run(30);  // ~1 s paused, the publisher keeps sending
  EXPECT_EQ(h.out.size(), n);
  EXPECT_TRUE(h.plis.empty() || h.plis.back().first < h.pub.frame_time(30));
  h.fwd.set_paused(false);
  h.run(30);
  ASSERT_GT(h.out.size(), n);
  EXPECT_TRUE(h.out[n].keyframe_start);
  EXPECT_EQ(h.out[n].seq, uint16_t(before.seq + 1));
  const int64_t jump = rtp::timestamp_diff(h.out[n].ts, before.ts);
  const int64_t expected = int64_t(h.out[n].capture - before.capture);
  EXPECT_NEAR(double(jump), double(expected), 450.0);
  expect_contiguous(h.out);
  ASSERT_GE(h.events.size(), 3u);
  EXPECT_EQ(h.events[h.events.size() - 2], (LayersChanged{-1, -1}));
  EXPECT_EQ(h.events.back(), (LayersChanged{2, 2}));
}

TEST(SimulcastForwarder, NackLookupReproducesTheOriginalRewrite) {
  Harness h({.keyframe_interval = 97});
  run_random_switching(h, 5);
  const size_t first = h.out.size() - 1000;
  for (size_t i = first; i < h.out.size(); ++i) {
    const Received& r = h.out[i];
    const auto info = h.fwd.lookup_for_nack(r.seq);
    ASSERT_TRUE(info) << "out seq " << r.seq;
    EXPECT_EQ(info->spatial_layer, r.layer);
    EXPECT_EQ(info->sequence, r.in_seq);
    std::vector<uint8_t> copy = r.source;  // from the producer's buffer
    const auto view = rtp::parse_rtp(copy);
    ASSERT_TRUE(SimulcastForwarder::apply(copy, *view, info->rewrite));
    EXPECT_EQ(copy, r.bytes);
  }
  EXPECT_FALSE(h.fwd.lookup_for_nack(uint16_t(h.out[first].seq - 100)));  // beyond the history
  EXPECT_FALSE(h.fwd.lookup_for_nack(uint16_t(h.out.back().seq + 1)));    // not sent yet
}

TEST(SimulcastForwarder, InputLossKeepsAGapAndLatePacketFillsIt) {
  Harness h({.packets_per_frame = {4, 4, 4}});
  h.fwd.set_preferred_layers(0, 0);  // TL0 only: three of four frames filtered
  h.run(8);
  // Frame 8 (TL0, forwarded) loses its 2nd packet; frame 9 (TL2, filtered)
  // its 2nd and 3rd.
  std::optional<SimPacket> held;
  h.run(2, [&](const SimPacket& p) {
    if (p.layer != 0) return false;
    if (p.frame == 8 && p.index == 1) return held = p, true;
    return p.frame == 9 && (p.index == 1 || p.index == 2);
  });
  h.run(8);
  ASSERT_TRUE(held);
  std::optional<size_t> gap_at;
  for (size_t i = 1; i < h.out.size(); ++i) {
    const int d = rtp::seq_diff(h.out[i].seq, h.out[i - 1].seq);
    ASSERT_TRUE(d == 1 || (d == 2 && !gap_at)) << "at " << i;  // one gap only: the filtered frame's loss vanished
    if (d == 2) gap_at = i;
  }
  ASSERT_TRUE(gap_at);
  EXPECT_EQ(h.out[*gap_at].frame, 8);
  // The retransmission arrives late and lands exactly in the gap, with the
  // picture id of its frame.
  const ForwardDecision d = h.feed(*held);
  ASSERT_TRUE(d.forward);
  EXPECT_EQ(d.rewrite.sequence, uint16_t(h.out[*gap_at].seq - 1));
  EXPECT_EQ(d.rewrite.vp8_picture_id, h.out[*gap_at].picture_id);
  EXPECT_EQ(d.rewrite.timestamp, h.out[*gap_at].ts);
  EXPECT_EQ(h.feed(*held).reason, DropReason::duplicate);
}

TEST(SimulcastForwarder, LayersChangedEvents) {
  Harness h;
  h.run(5);
  h.fwd.set_preferred_layers(1, 1);
  h.run(10);
  h.fwd.set_preferred_layers(1, 0);
  h.run(5);
  h.fwd.set_max_layers_by_bandwidth(-1, -1);
  h.run(2);
  // While waiting for layer 1's key frame, layer 2 already drops to TL1.
  const std::vector<LayersChanged> expected = {{2, 2}, {2, 1}, {1, 1}, {1, 0}, {-1, -1}};
  EXPECT_EQ(h.events, expected);
  EXPECT_EQ(h.fwd.target_layers(), (Layers{-1, -1}));
  EXPECT_FALSE(h.fwd.poll_keyframe_request(h.now + seconds(5)));  // nothing wanted
}

TEST(SimulcastForwarder, SourceRestartOnCurrentLayerWaitsForKeyFrame) {
  Harness h;
  h.run(10);
  const Received before = h.out.back();
  h.pub.set_ssrc(2, 0xabcdef01);
  h.run(10);
  expect_contiguous(h.out);
  ASSERT_GT(h.out.size(), 0u);
  EXPECT_GT(h.fwd.stats().epochs, 1u);
  EXPECT_EQ(h.fwd.current_layers(), (Layers{2, 2}));
  EXPECT_EQ(h.out.back().ssrc, before.ssrc);
}

// ---- a plain (non-simulcast) audio stream --------------------------------------------

std::vector<uint8_t> opus_packet(uint32_t ssrc, uint16_t seq, uint32_t ts) {
  rtp::RtpHeader h;
  h.payload_type = 111;
  h.sequence = seq;
  h.timestamp = ts;
  h.ssrc = ssrc;
  const std::array<uint8_t, 40> payload{};
  h.payload = payload;
  std::vector<uint8_t> bytes(h.serialized_size());
  h.serialize_to(bytes);
  return bytes;
}

TEST(SimulcastForwarderAudio, OpusForwardsEveryPacketAcrossPauseAndProducerChange) {
  ForwarderConfig c;
  c.kind = MediaKind::audio;
  c.codec = Codec::opus;
  c.ssrc = 0x0a0d10;
  c.clock_rate = kOpusClockRate;
  SimulcastForwarder f(c);
  std::vector<std::pair<uint16_t, uint32_t>> out;
  uint32_t ssrc = 0x1111;
  uint16_t seq = 65000;
  uint32_t ts = 4'294'000'000u;
  Instant t = kT0;
  auto send = [&](int packets) {
    for (int i = 0; i < packets; ++i, ++seq, ts += 960, t += milliseconds(20)) {
      std::vector<uint8_t> p = opus_packet(ssrc, seq, ts);
      const auto view = rtp::parse_rtp(p);
      const ForwardDecision d = f.on_packet(t, 0, *view, PacketMeta{});
      if (!d.forward) continue;
      EXPECT_TRUE(SimulcastForwarder::apply(p, *view, d.rewrite));
      EXPECT_EQ(view->ssrc(), 0x0a0d10u);
      out.push_back({view->sequence(), view->timestamp()});
    }
  };
  send(600);  // wraps both sequence and timestamp
  EXPECT_EQ(out.size(), 600u);
  f.set_paused(true);
  send(50);  // 1 s
  EXPECT_EQ(out.size(), 600u);
  f.set_paused(false);
  send(100);
  EXPECT_EQ(out.size(), 700u);
  ssrc = 0x2222;  // producer replaced: new SSRC, sequence and timestamp bases
  seq = 123;
  ts = 77;
  send(100);
  ASSERT_EQ(out.size(), 800u);
  EXPECT_FALSE(f.poll_keyframe_request(t));
  for (size_t i = 1; i < out.size(); ++i) {
    ASSERT_EQ(uint16_t(out[i - 1].first + 1), out[i].first) << i;
    const int64_t dt = rtp::timestamp_diff(out[i].second, out[i - 1].second);
    EXPECT_EQ(dt, i == 600 ? 51 * 960 : 960) << i;  // the pause shows as elapsed time
  }
}

}  // namespace
}  // namespace sfu::server::media
