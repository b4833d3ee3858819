// SyntheticPublisher: packets shaped like Chrome's, rates, key-frame cadence,
// temporal pattern, sender reports, and the RTCP it answers (NACK, PLI, FIR).
#include "bench/client/synthetic_publisher.hpp"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <string_view>
#include <vector>

#include "bench/client/payload_probe.hpp"
#include "rtp/codecs/vp8.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtcp/compound_builder.hpp"
#include "rtp/rtcp/full_intra_request.hpp"
#include "rtp/rtcp/picture_loss_indication.hpp"
#include "rtp/rtcp/rtcp_header.hpp"
#include "rtp/rtcp/sdes.hpp"
#include "rtp/rtcp/sender_report.hpp"
#include "rtp/rtcp/transport_layer_nack.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/rtx.hpp"

namespace sfu::client {
namespace {

const Instant kStart = from_micros(7'000'000'000);

struct Sent {
  Instant at;
  std::vector<uint8_t> bytes;
};

struct Capture {
  std::vector<Sent> rtp;
  std::vector<Sent> rtcp;
};

// Runs `pub` (already started) on a virtual clock until `end`.
void run(SyntheticPublisher& pub, Instant end, Capture& out) {
  for (auto t = pub.poll_timeout(); t && *t < end; t = pub.poll_timeout()) {
    pub.handle_timeout(*t);
    while (auto p = pub.poll_rtp()) out.rtp.push_back({*t, {p->begin(), p->end()}});
    while (auto p = pub.poll_rtcp()) out.rtcp.push_back({*t, {p->begin(), p->end()}});
  }
}

std::vector<Sent> of_ssrc(const std::vector<Sent>& all, uint32_t ssrc) {
  std::vector<Sent> out;
  for (const Sent& s : all) {
    if (load_be32(&s.bytes[8]) == ssrc) out.push_back(s);
  }
  return out;
}

std::string_view text(Bytes b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

rtp::codecs::Vp8Descriptor vp8_of(const std::vector<uint8_t>& p) {
  return *rtp::codecs::parse_vp8(rtp::parse_rtp(p)->payload());
}

TEST(SyntheticPublisher, PacketsLookLikeChromeSimulcast) {
  SyntheticPublisher pub(default_publisher_config(1000));
  pub.start(kStart);
  Capture c;
  run(pub, kStart + milliseconds(1), c);  // the first frame of every layer and one audio packet
  ASSERT_FALSE(c.rtp.empty());
  const std::map<uint32_t, std::string_view> rids = {{1001, "q"}, {1003, "h"}, {1005, "f"}};
  const std::map<uint32_t, std::pair<int, int>> sizes = {{1001, {320, 180}}, {1003, {640, 360}}, {1005, {1280, 720}}};
  std::optional<uint16_t> twcc;
  for (const Sent& s : c.rtp) {
    auto v = rtp::parse_rtp(s.bytes);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->extension_form(), rtp::ExtensionForm::one_byte);
    const uint16_t seq = *rtp::ext::parse_transport_sequence(*v->extension(3));
    if (twcc) {
      EXPECT_EQ(seq, uint16_t(*twcc + 1)) << "one transport-wide counter across SSRCs";
    }
    twcc = seq;
    EXPECT_TRUE(v->extension(2).has_value());  // abs-send-time
    if (v->ssrc() == 1000) {
      EXPECT_EQ(v->payload_type(), 111);
      EXPECT_EQ(text(*v->extension(1)), "0");
      EXPECT_FALSE(v->extension(10).has_value());
      EXPECT_TRUE(rtp::ext::parse_audio_level(*v->extension(4)).ok());
      continue;
    }
    EXPECT_EQ(v->payload_type(), 96);
    EXPECT_EQ(text(*v->extension(1)), "1");
    EXPECT_EQ(text(*v->extension(10)), rids.at(v->ssrc()));
    EXPECT_LE(v->payload().size(), 1100u);
    const auto d = *rtp::codecs::parse_vp8(v->payload());
    EXPECT_TRUE(d.has_picture_id && d.picture_id_15bit && d.has_tl0picidx && d.has_tid);
    const auto info = rtp::codecs::vp8_frame_info(v->payload(), d);
    if (d.start_of_partition) {
      EXPECT_TRUE(info.keyframe);
      ASSERT_TRUE(info.has_dimensions);
      EXPECT_EQ(info.width, sizes.at(v->ssrc()).first);
      EXPECT_EQ(info.height, sizes.at(v->ssrc()).second);
    }
  }
  // Each layer's first frame: first packet S=1, last packet marker, all one timestamp.
  for (uint32_t ssrc : {1001u, 1003u, 1005u}) {
    const auto layer = of_ssrc(c.rtp, ssrc);
    ASSERT_GE(layer.size(), 2u) << ssrc;
    EXPECT_TRUE(vp8_of(layer.front().bytes).start_of_partition);
    EXPECT_FALSE(vp8_of(layer.back().bytes).start_of_partition);
    EXPECT_TRUE(rtp::parse_rtp(layer.back().bytes)->marker());
    EXPECT_FALSE(rtp::parse_rtp(layer.front().bytes)->marker());
    EXPECT_EQ(rtp::parse_rtp(layer.front().bytes)->timestamp(), rtp::parse_rtp(layer.back().bytes)->timestamp());
  }
}

TEST(SyntheticPublisher, PayloadCarriesAnIntactProbe) {
  SyntheticPublisher pub(default_publisher_config(1000, 1));
  pub.start(kStart);
  Capture c;
  run(pub, kStart + milliseconds(100), c);
  for (const Sent& s : of_ssrc(c.rtp, 1001)) {
    const Bytes payload = rtp::parse_rtp(s.bytes)->payload();
    const PayloadLayout l = inspect_payload(true, payload);
    const ProbeResult r = read_probe(payload.subspan(l.probe_offset));
    ASSERT_EQ(r.status, ProbeStatus::ok);
    EXPECT_EQ(r.probe.send_time_us, to_micros(s.at));
    EXPECT_EQ(r.probe.layer, 0);
  }
}

// Bytes on the wire of each layer over `secs` seconds, against its target.
void expect_rates(PublisherConfig config, int secs) {
  config.audio.enabled = false;
  SyntheticPublisher pub(config);
  pub.start(kStart);
  Capture c;
  run(pub, kStart + seconds(secs), c);
  for (size_t i = 0; i < config.video.layers.size(); ++i) {
    const double bps = double(pub.layer_stats(i).bytes) * 8 / secs;
    const double target = config.video.layers[i].target_bps;
    EXPECT_NEAR(bps, target, 0.15 * target) << "layer " << i;
    EXPECT_NEAR(bps, target, 0.05 * target) << "layer " << i << " (the rate control is closer than required)";
  }
}

TEST(SyntheticPublisher, BitratesMatchTheTargets) {
  expect_rates(default_publisher_config(1000), 30);
  PublisherConfig load = default_publisher_config(1000);
  load.video.temporal_layers = 3;
  const uint32_t rates[3] = {200'000, 700'000, 2'500'000};
  for (size_t i = 0; i < 3; ++i) load.video.layers[i].target_bps = rates[i];
  expect_rates(load, 30);
}

TEST(SyntheticPublisher, AudioIsFiftyPacketsASecondWithLevels) {
  PublisherConfig config = default_publisher_config(1000, 0);
  SyntheticPublisher pub(config);
  pub.start(kStart);
  Capture c;
  run(pub, kStart + seconds(3), c);
  const auto audio = of_ssrc(c.rtp, 1000);
  ASSERT_EQ(audio.size(), 150u);
  int talking = 0;
  for (size_t i = 0; i < audio.size(); ++i) {
    auto v = rtp::parse_rtp(audio[i].bytes);
    EXPECT_NEAR(double(v->payload().size()), 100.0, 11.0);
    if (i > 0) {
      EXPECT_EQ(v->timestamp() - rtp::parse_rtp(audio[i - 1].bytes)->timestamp(), 960u);
    }
    const auto level = *rtp::ext::parse_audio_level(*v->extension(4));
    talking += level.voice_activity;
    EXPECT_EQ(level.voice_activity, level.level < 60);
  }
  EXPECT_EQ(talking, 100);  // 2 s talking, 1 s silence
}

TEST(SyntheticPublisher, KeyframeEveryThreeSeconds) {
  PublisherConfig config = default_publisher_config(1000, 1);
  SyntheticPublisher pub(config);
  pub.start(kStart);
  Capture c;
  run(pub, kStart + seconds(30), c);
  std::vector<Instant> keys;
  for (const Sent& s : of_ssrc(c.rtp, 1001)) {
    const auto d = vp8_of(s.bytes);
    if (d.start_of_partition && rtp::codecs::is_vp8_keyframe(rtp::parse_rtp(s.bytes)->payload())) keys.push_back(s.at);
  }
  ASSERT_EQ(keys.size(), 10u);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(keys[i], kStart + seconds(3 * int(i)));
  EXPECT_EQ(pub.layer_stats(0).keyframes, 10u);
  EXPECT_EQ(pub.layer_stats(0).frames, 900u);
}

TEST(SyntheticPublisher, TemporalLayersFollowL1T3) {
  PublisherConfig config = default_publisher_config(1000, 1);
  config.video.temporal_layers = 3;
  SyntheticPublisher pub(config);
  pub.start(kStart);
  Capture c;
  run(pub, kStart + milliseconds(400), c);
  std::vector<rtp::codecs::Vp8Descriptor> frames;
  for (const Sent& s : of_ssrc(c.rtp, 1001)) {
    const auto d = vp8_of(s.bytes);
    if (d.start_of_partition) frames.push_back(d);
  }
  ASSERT_EQ(frames.size(), 12u);
  const uint8_t tids[4] = {0, 2, 1, 2};
  const bool syncs[4] = {false, true, true, false};
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].tid, tids[i % 4]) << i;
    EXPECT_EQ(frames[i].layer_sync, syncs[i % 4]) << i;
    EXPECT_EQ(frames[i].picture_id, (frames[0].picture_id + i) & 0x7fff);
    EXPECT_EQ(frames[i].tl0picidx, uint8_t(frames[0].tl0picidx + i / 4));
  }
}

TEST(SyntheticPublisher, SenderReportsMapNtpToRtp) {
  SyntheticPublisher pub(default_publisher_config(1000, 1));
  pub.start(kStart);
  Capture c;
  run(pub, kStart + milliseconds(2500), c);
  std::vector<std::pair<Instant, rtp::rtcp::SenderInfo>> video;
  for (const Sent& s : c.rtcp) {
    rtp::rtcp::CompoundReader r(s.bytes);
    auto sr = rtp::rtcp::SenderReportView::parse(*r.next());
    ASSERT_TRUE(sr.ok());
    auto sdes = rtp::rtcp::SdesView::parse(*r.next());
    ASSERT_TRUE(sdes.ok());
    EXPECT_EQ(sdes->cname(sr->ssrc), "synthetic");
    if (sr->ssrc == 1001) video.push_back({s.at, sr->info});
  }
  ASSERT_EQ(video.size(), 2u);  // at 1 s and 2 s
  EXPECT_EQ(video[0].first, kStart + seconds(1));
  const auto& [t0, a] = video[0];
  const auto& b = video[1].second;
  EXPECT_EQ(b.ntp_timestamp - a.ntp_timestamp, uint64_t(1) << 32);
  EXPECT_EQ(b.rtp_timestamp - a.rtp_timestamp, 90000u);
  // The frame captured at t0 carries the SR's RTP timestamp.
  for (const Sent& s : of_ssrc(c.rtp, 1001)) {
    if (s.at != t0) continue;
    EXPECT_EQ(rtp::parse_rtp(s.bytes)->timestamp(), a.rtp_timestamp);
  }
  // Counts cover what was sent up to the report (RFC 3550 §6.4.1: payload octets).
  uint32_t packets = 0, octets = 0;
  for (const Sent& s : of_ssrc(c.rtp, 1001)) {
    if (s.at > t0) continue;
    ++packets;
    octets += uint32_t(rtp::parse_rtp(s.bytes)->payload().size());
  }
  EXPECT_EQ(a.packet_count, packets);
  EXPECT_EQ(a.octet_count, octets);
}

std::vector<uint8_t> nack(uint32_t media_ssrc, std::vector<uint16_t> lost) {
  std::vector<uint8_t> buf(1200);
  const size_t n = rtp::rtcp::TransportLayerNack::serialize_lost({1, media_ssrc}, lost, buf);
  buf.resize(n);
  return buf;
}

TEST(SyntheticPublisher, AnswersNackWithRtxFromHistory) {
  SyntheticPublisher pub(default_publisher_config(1000, 2));
  pub.start(kStart);
  Capture c;
  run(pub, kStart + milliseconds(500), c);
  const auto layer = of_ssrc(c.rtp, 1003);  // "f" with two layers
  const Sent& original = layer[40];
  const auto ov = *rtp::parse_rtp(original.bytes);
  const Instant now = kStart + milliseconds(500);
  pub.handle_rtcp(now, nack(1003, {ov.sequence()}));
  pub.handle_rtcp(now, nack(1003, {ov.sequence()}));  // a duplicate NACK is not answered twice
  auto p = pub.poll_rtp();
  ASSERT_TRUE(p.has_value());
  auto rv = *rtp::parse_rtp(*p);  // a view of the publisher's buffer: valid until the next poll
  const uint16_t rtx_seq = rv.sequence();
  EXPECT_EQ(rv.ssrc(), 1004u);
  EXPECT_EQ(rv.payload_type(), 97);
  EXPECT_EQ(rv.timestamp(), ov.timestamp());
  EXPECT_EQ(rv.marker(), ov.marker());
  EXPECT_EQ(text(*rv.extension(11)), "f");  // repaired-rid
  EXPECT_EQ(*rtp::ext::parse_abs_send_time(*rv.extension(2)), rtp::ext::abs_send_time_from_instant(now));
  EXPECT_FALSE(rv.extension(10).has_value());
  auto content = rtp::rtx_content(rv);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(content->original_sequence, ov.sequence());
  EXPECT_TRUE(std::equal(content->payload.begin(), content->payload.end(), ov.payload().begin(), ov.payload().end()));
  EXPECT_FALSE(pub.poll_rtp().has_value());
  EXPECT_EQ(pub.layer_stats(1).retransmissions, 1u);

  // Past the retransmit interval it is resent; past the history it is not.
  pub.handle_rtcp(now + milliseconds(20), nack(1003, {ov.sequence()}));
  auto again = pub.poll_rtp();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(rtp::parse_rtp(*again)->sequence(), uint16_t(rtx_seq + 1));
  pub.handle_rtcp(original.at + milliseconds(1001), nack(1003, {ov.sequence()}));
  EXPECT_FALSE(pub.poll_rtp().has_value());
  EXPECT_EQ(pub.layer_stats(1).nack_misses, 1u);
}

TEST(SyntheticPublisher, RetransmissionsGoAheadOfMedia) {
  SyntheticPublisher pub(default_publisher_config(1000, 1));
  pub.start(kStart);
  pub.handle_timeout(kStart);
  const auto first = *rtp::parse_rtp(*pub.poll_rtp());
  pub.handle_rtcp(kStart, nack(1001, {first.sequence()}));
  EXPECT_EQ(rtp::parse_rtp(*pub.poll_rtp())->ssrc(), 1002u);
}

TEST(SyntheticPublisher, PliMakesTheNextFrameOfThatLayerAKeyframe) {
  SyntheticPublisher pub(default_publisher_config(1000, 3));
  pub.start(kStart);
  Capture c;
  run(pub, kStart + milliseconds(500), c);
  std::array<uint8_t, 12> pli{};
  ASSERT_EQ((rtp::rtcp::PictureLossIndication{{1, 1003}}.serialize_to(pli)), 12u);
  pub.handle_rtcp(kStart + milliseconds(500), pli);
  Capture after;
  run(pub, kStart + milliseconds(510), after);  // exactly one more frame
  for (const Sent& s : after.rtp) {
    const uint32_t ssrc = load_be32(&s.bytes[8]);
    if (ssrc == 1000 || !vp8_of(s.bytes).start_of_partition) continue;
    EXPECT_EQ(rtp::codecs::is_vp8_keyframe(rtp::parse_rtp(s.bytes)->payload()), ssrc == 1003) << ssrc;
  }
  EXPECT_EQ(pub.layer_stats(1).plis, 1u);
  EXPECT_EQ(pub.layer_stats(1).keyframes, 2u);
  EXPECT_EQ(pub.layer_stats(0).keyframes, 1u);
}

TEST(SyntheticPublisher, FirWithARepeatedSequenceNumberIsServedOnce) {
  SyntheticPublisher pub(default_publisher_config(1000, 1));
  pub.start(kStart);
  Capture c;
  run(pub, kStart + milliseconds(100), c);
  const rtp::rtcp::FirEntry entry{1001, 5};
  std::array<uint8_t, 20> fir{};
  ASSERT_EQ((rtp::rtcp::FullIntraRequest{{1, 0}, std::span(&entry, 1)}.serialize_to(fir)), 20u);
  pub.handle_rtcp(kStart + milliseconds(100), fir);
  run(pub, kStart + milliseconds(134), c);
  pub.handle_rtcp(kStart + milliseconds(134), fir);  // the same request again
  run(pub, kStart + milliseconds(168), c);
  EXPECT_EQ(pub.layer_stats(0).firs, 1u);
  EXPECT_EQ(pub.layer_stats(0).keyframes, 2u);
}

TEST(SyntheticPublisher, DropsMalformedRtcpAndCountsUnknownSsrcs) {
  SyntheticPublisher pub(default_publisher_config(1000, 1));
  pub.start(kStart);
  const uint8_t junk[] = {0x80, 0xc8, 0x00, 0x09, 0x01};
  pub.handle_rtcp(kStart, junk);
  pub.handle_rtcp(kStart, nack(999, {1, 2, 3}));
  EXPECT_EQ(pub.counters().rtcp_malformed, 1u);
  EXPECT_EQ(pub.counters().unknown_ssrc_feedback, 1u);
  EXPECT_FALSE(pub.poll_rtp().has_value());
}

TEST(SyntheticPublisher, StopEndsMediaButStillAnswersNacks) {
  SyntheticPublisher pub(default_publisher_config(1000, 1));
  pub.start(kStart);
  pub.handle_timeout(kStart);
  const uint16_t first = rtp::parse_rtp(*pub.poll_rtp())->sequence();
  while (pub.poll_rtp()) {
  }
  pub.stop();
  EXPECT_FALSE(pub.poll_timeout().has_value());
  pub.handle_rtcp(kStart + milliseconds(50), nack(1001, {first}));
  EXPECT_TRUE(pub.poll_rtp().has_value());
}

}  // namespace
}  // namespace sfu::client
