// StreamValidator: a clean synthetic stream passes, and every fault the SFU
// could introduce is caught (the validator is a test that can fail).
#include "bench/client/stream_validator.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "bench/client/payload_probe.hpp"
#include "bench/client/synthetic_publisher.hpp"
#include "rtp/codecs/vp8.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_rewriter.hpp"

namespace sfu::client {
namespace {

const Instant kStart = from_micros(5'000'000'000);

struct Sent {
  Instant at;
  std::vector<uint8_t> bytes;
};

// Everything a publisher sends in `duration` (RTP only).
std::vector<Sent> capture(PublisherConfig config, Duration duration) {
  SyntheticPublisher pub(std::move(config));
  pub.start(kStart);
  std::vector<Sent> out;
  for (auto t = pub.poll_timeout(); t && *t < kStart + duration; t = pub.poll_timeout()) {
    pub.handle_timeout(*t);
    while (auto p = pub.poll_rtp()) out.push_back({*t, {p->begin(), p->end()}});
    while (pub.poll_rtcp()) {
    }
  }
  return out;
}

PublisherConfig video_only(int layers, int temporal_layers = 1) {
  PublisherConfig c = default_publisher_config(1000, layers);
  c.audio.enabled = false;
  c.video.temporal_layers = temporal_layers;
  return c;
}

uint32_t ssrc_of(const std::vector<uint8_t>& p) { return load_be32(&p[8]); }

// Packets of one SSRC, in send order.
std::vector<Sent> only_ssrc(const std::vector<Sent>& all, uint32_t ssrc) {
  std::vector<Sent> out;
  for (const Sent& s : all) {
    if (ssrc_of(s.bytes) == ssrc) out.push_back(s);
  }
  return out;
}

void feed(StreamValidator& v, const std::vector<Sent>& packets) {
  for (const Sent& s : packets) v.handle_rtp(s.at, s.bytes);
}

// A naive forwarder for building spliced streams: one output SSRC,
// continuous sequence numbers, picture ids +1 per forwarded source frame,
// TL0PICIDX +1 per TL0 frame, timestamps from the capture frame index (all
// layers share the capture clock).
class NaiveForwarder {
 public:
  std::vector<uint8_t> forward(const Sent& in) {
    std::vector<uint8_t> p = in.bytes;
    auto view = rtp::parse_rtp(p);
    EXPECT_TRUE(view.ok());
    const size_t off = view->header_size();
    const MutBytes payload(p.data() + off, view->payload().size());
    auto d = rtp::codecs::parse_vp8(payload);
    EXPECT_TRUE(d.ok());
    const PayloadLayout l = inspect_payload(true, payload);
    const ProbeResult probe = read_probe(payload.subspan(l.probe_offset));
    if (l.frame_start) {
      pic_ = started_ ? uint16_t((pic_ + 1) & 0x7fff) : 100;
      if (d->tid == 0) tl0_ = started_ ? uint8_t(tl0_ + 1) : 7;
      started_ = true;
    }
    rtp::set_ssrc(p, 4242);
    rtp::set_sequence(p, seq_++);
    rtp::set_timestamp(p, 1000 + probe.probe.frame_counter * 3000);
    rtp::codecs::rewrite_vp8(payload, *d, pic_, tl0_);
    return p;
  }

 private:
  bool started_ = false;
  uint16_t seq_ = 65500;  // wraps during the test
  uint16_t pic_ = 0;
  uint8_t tl0_ = 0;
};

bool frame_start(const std::vector<uint8_t>& p, bool* keyframe = nullptr) {
  auto view = rtp::parse_rtp(p);
  const PayloadLayout l = inspect_payload(true, view->payload());
  if (keyframe) *keyframe = l.frame_start && l.frame.keyframe;
  return l.frame_start;
}

TEST(StreamValidator, AcceptsTenSecondsOfASyntheticLayer) {
  const auto all = capture(video_only(3), seconds(10));
  const auto layer = only_ssrc(all, 1005);  // "f"
  StreamValidator v;
  feed(v, layer);
  v.finish(all.back().at);
  EXPECT_TRUE(v.ok()) << v.summary();
  EXPECT_EQ(v.packets(), layer.size());
  EXPECT_EQ(v.frames(), 300u);
  EXPECT_EQ(v.keyframes(), 4u);  // 0, 3, 6, 9 s
  EXPECT_EQ(v.width(), 1280);
  EXPECT_EQ(v.height(), 720);
}

TEST(StreamValidator, AcceptsTemporalLayersAndTheirFiltering) {
  const auto layer = only_ssrc(capture(video_only(1, 3), seconds(4)), 1001);
  StreamValidator all;
  feed(all, layer);
  all.finish(layer.back().at);
  EXPECT_TRUE(all.ok()) << all.summary();

  // Dropping TL2 (what an SFU does for a subscriber on 15 fps) and
  // renumbering keeps the stream valid.
  NaiveForwarder fwd;
  StreamValidator filtered;
  for (const Sent& s : layer) {
    auto view = rtp::parse_rtp(s.bytes);
    if (rtp::codecs::parse_vp8(view->payload())->tid == 2) continue;
    filtered.handle_rtp(s.at, fwd.forward(s));
  }
  filtered.finish(layer.back().at);
  EXPECT_TRUE(filtered.ok()) << filtered.summary();
  EXPECT_EQ(filtered.frames(), 60u);  // half of 4 s at 30 fps
}

TEST(StreamValidator, CatchesADuplicatedPacket) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  layer.insert(layer.begin() + 20, layer[10]);
  StreamValidator v;
  feed(v, layer);
  v.finish(layer.back().at);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.count(Violation::duplicate), 1u) << v.summary();
}

TEST(StreamValidator, ToleratesAnRtxCopyOfAPacketAlreadyReceived) {
  const auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  StreamValidator v;
  feed(v, layer);
  v.handle_rtp(layer.back().at, layer[10].bytes, /*retransmission=*/true);
  v.finish(layer.back().at);
  EXPECT_TRUE(v.ok()) << v.summary();
  EXPECT_EQ(v.rtx_duplicates(), 1u);
}

TEST(StreamValidator, CatchesASequenceHoleNeverRepaired) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  layer.erase(layer.begin() + 15);
  StreamValidator v;
  feed(v, layer);
  EXPECT_EQ(v.open_gaps(), 1u);
  v.finish(layer.back().at);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.count(Violation::unrepaired_gap), 1u) << v.summary();
}

TEST(StreamValidator, CatchesAHoleRepairedTooLate) {
  auto layer = only_ssrc(capture(video_only(1), seconds(4)), 1001);
  const Sent missing = layer[15];
  layer.erase(layer.begin() + 15);
  StreamValidator v;  // gap_timeout 2 s
  feed(v, layer);
  EXPECT_EQ(v.count(Violation::unrepaired_gap), 1u) << v.summary();
  v.handle_rtp(layer.back().at, missing.bytes, true);  // neither a gap nor a duplicate any more
  EXPECT_EQ(v.violations(), 1u) << v.summary();
}

TEST(StreamValidator, AcceptsAHoleRepairedByRetransmission) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  const Sent missing = layer[15];
  layer.erase(layer.begin() + 15);
  StreamValidator v;
  for (size_t i = 0; i < layer.size(); ++i) {
    v.handle_rtp(layer[i].at, layer[i].bytes);
    if (i == 25) v.handle_rtp(layer[i].at, missing.bytes, /*retransmission=*/true);
  }
  v.finish(layer.back().at);
  EXPECT_TRUE(v.ok()) << v.summary();
  EXPECT_EQ(v.gaps_opened(), 1u);
  EXPECT_EQ(v.gaps_repaired(), 1u);
}

TEST(StreamValidator, PacketsReorderedBeforeTheFirstOpenGapsBelowIt) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  // 2 arrives first, then 0: 1 is missing although it is below the first arrival.
  std::swap(layer[0], layer[2]);
  const Sent one = layer[1];
  layer.erase(layer.begin() + 1);
  StreamValidator lossy;
  feed(lossy, layer);
  EXPECT_EQ(lossy.open_gaps(), 1u);
  lossy.finish(layer.back().at);
  EXPECT_EQ(lossy.count(Violation::unrepaired_gap), 1u) << lossy.summary();

  layer.insert(layer.begin() + 1, one);  // 2, 1, 0, 3, ...: reordered, nothing lost
  StreamValidator reordered;
  feed(reordered, layer);
  reordered.finish(layer.back().at);
  EXPECT_TRUE(reordered.ok()) << reordered.summary();
  EXPECT_EQ(reordered.keyframes(), 1u);
}

TEST(StreamValidator, CatchesATimestampGoingBackwards) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  // Every packet of the 10th frame gets a timestamp before the 9th's.
  size_t frames = 0;
  uint32_t previous_ts = 0;
  for (Sent& s : layer) {
    if (frame_start(s.bytes)) ++frames;
    if (frames == 9) previous_ts = load_be32(&s.bytes[4]);
    if (frames == 10) rtp::set_timestamp(s.bytes, previous_ts - 3000);
  }
  StreamValidator v;
  feed(v, layer);
  v.finish(layer.back().at);
  EXPECT_FALSE(v.ok());
  EXPECT_GE(v.count(Violation::timestamp_backwards), 1u) << v.summary();
}

TEST(StreamValidator, CatchesATimestampChangeInsideAFrame) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);  // key frame: several packets
  rtp::set_timestamp(layer[1].bytes, load_be32(&layer[1].bytes[4]) + 1);
  StreamValidator v;
  feed(v, layer);
  EXPECT_GE(v.count(Violation::timestamp_in_frame), 1u) << v.summary();
}

TEST(StreamValidator, CatchesAPictureIdJump) {
  const auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  // A forwarder that skips a picture id at the 12th frame.
  NaiveForwarder fwd;
  StreamValidator v;
  size_t frames = 0;
  for (const Sent& s : layer) {
    if (frame_start(s.bytes)) ++frames;
    std::vector<uint8_t> out = fwd.forward(s);
    if (frames >= 12) {
      auto view = rtp::parse_rtp(out);
      const MutBytes payload(out.data() + view->header_size(), view->payload().size());
      auto d = rtp::codecs::parse_vp8(payload);
      rtp::codecs::rewrite_vp8(payload, *d, uint16_t(d->picture_id + 1), d->tl0picidx);
    }
    v.handle_rtp(s.at, out);
  }
  v.finish(layer.back().at);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.count(Violation::picture_id_jump), 1u) << v.summary();
}

TEST(StreamValidator, CatchesATl0PicIdxJump) {
  auto layer = only_ssrc(capture(video_only(1, 3), seconds(1)), 1001);
  size_t frames = 0;
  for (Sent& s : layer) {
    if (frame_start(s.bytes)) ++frames;
    if (frames < 9) continue;
    auto view = rtp::parse_rtp(s.bytes);
    const MutBytes payload(s.bytes.data() + view->header_size(), view->payload().size());
    auto d = rtp::codecs::parse_vp8(payload);
    rtp::codecs::rewrite_vp8(payload, *d, d->picture_id, uint8_t(d->tl0picidx + 3));
  }
  StreamValidator v;
  feed(v, layer);
  EXPECT_EQ(v.count(Violation::tl0picidx_jump), 1u) << v.summary();
}

// Splices layer 0 then layer 1 of a two-layer publisher at the n-th frame
// of the capture.
std::vector<std::vector<uint8_t>> splice(const std::vector<Sent>& all, size_t switch_frame) {
  NaiveForwarder fwd;
  std::vector<std::vector<uint8_t>> out;
  size_t frames = 0;
  for (const Sent& s : all) {
    const uint32_t ssrc = ssrc_of(s.bytes);
    if (ssrc != 1001 && ssrc != 1003) continue;
    if (ssrc == 1001 && frame_start(s.bytes)) ++frames;
    if ((ssrc == 1001) == (frames <= switch_frame)) out.push_back(fwd.forward(s));
  }
  return out;
}

TEST(StreamValidator, CatchesADeltaFrameAfterALayerSwitch) {
  const auto all = capture(video_only(2), seconds(4));
  StreamValidator at_delta;
  for (const auto& p : splice(all, 40)) at_delta.handle_rtp(kStart, p);
  EXPECT_FALSE(at_delta.ok());
  EXPECT_EQ(at_delta.count(Violation::switch_without_keyframe), 1u) << at_delta.summary();
  EXPECT_EQ(at_delta.layer_switches(), 1u);

  // The same switch on a key frame (frame 91, t = 3 s) is what an SFU must do.
  StreamValidator at_key;
  for (const auto& p : splice(all, 90)) at_key.handle_rtp(kStart, p);
  at_key.finish(kStart);
  EXPECT_TRUE(at_key.ok()) << at_key.summary();
  EXPECT_EQ(at_key.layer_switches(), 1u);
  EXPECT_EQ(at_key.width(), 1280);  // the upper layer's key frame
}

TEST(StreamValidator, CatchesAStreamStartingOnADeltaFrame) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  size_t second = 1;  // the first packet of the second frame (a delta frame)
  while (!frame_start(layer[second].bytes)) ++second;
  layer.erase(layer.begin(), layer.begin() + std::ptrdiff_t(second));
  bool key = true;
  frame_start(layer.front().bytes, &key);
  ASSERT_FALSE(key);
  StreamValidator v;
  feed(v, layer);
  v.finish(layer.back().at);
  EXPECT_EQ(v.count(Violation::initial_not_keyframe), 1u) << v.summary();
}

TEST(StreamValidator, CatchesCorruptedPayloadBytes) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  layer[30].bytes[layer[30].bytes.size() - 7] ^= 0x01;
  StreamValidator v;
  feed(v, layer);
  EXPECT_EQ(v.count(Violation::corrupt_payload), 1u) << v.summary();
}

TEST(StreamValidator, CatchesASecondSsrc) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  rtp::set_ssrc(layer[5].bytes, 77);
  StreamValidator v;
  feed(v, layer);
  EXPECT_EQ(v.count(Violation::ssrc_changed), 1u) << v.summary();
}

TEST(StreamValidator, CatchesAFrameCutWithoutAMarker) {
  auto layer = only_ssrc(capture(video_only(1), seconds(1)), 1001);
  for (Sent& s : layer) rtp::set_marker(s.bytes, false);
  StreamValidator v;
  feed(v, layer);
  EXPECT_GE(v.count(Violation::corrupt_payload), 1u) << v.summary();
}

TEST(StreamValidator, RecordsOnlyTheFirstDescriptions) {
  auto layer = only_ssrc(capture(video_only(1), seconds(2)), 1001);
  ValidatorConfig c;
  c.max_recorded = 3;
  StreamValidator v(c);
  for (const Sent& s : layer) {
    v.handle_rtp(s.at, s.bytes);
    v.handle_rtp(s.at, s.bytes);  // every packet twice
  }
  EXPECT_EQ(v.count(Violation::duplicate), layer.size());
  EXPECT_EQ(v.recorded().size(), 3u);
  EXPECT_NE(v.summary().find("duplicate"), std::string::npos);
}

TEST(StreamValidator, ChecksAudioSequenceAndProbe) {
  PublisherConfig c = default_publisher_config(1000, 0);
  auto audio = only_ssrc(capture(c, seconds(2)), 1000);
  EXPECT_EQ(audio.size(), 100u);
  ValidatorConfig vc;
  vc.kind = server::media::MediaKind::audio;
  StreamValidator ok(vc);
  feed(ok, audio);
  ok.finish(audio.back().at);
  EXPECT_TRUE(ok.ok()) << ok.summary();

  audio.erase(audio.begin() + 50);
  StreamValidator lossy(vc);
  feed(lossy, audio);
  lossy.finish(audio.back().at);
  EXPECT_EQ(lossy.count(Violation::unrepaired_gap), 1u);
}

}  // namespace
}  // namespace sfu::client
