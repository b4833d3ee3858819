// A room for router simulations on SimWorld: one SyntheticPublisher (three
// VP8 simulcast layers + Opus) and SimSubscribers behind capped downlinks,
// wired to the server's Router exactly as signaling would (ProducerSpec per
// track, ConsumerSpec per subscriber and track). Used by router_sim_test.cpp.
#pragma once

#include <algorithm>
#include <array>

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "bench/client/sim_subscriber.hpp"
#include "bench/client/synthetic_publisher.hpp"
#include "tests/server/sim_world.hpp"

namespace sfu::test {

using server::media::MediaKind;

// ClientApp for a SyntheticPublisher: sends media and SRs, answers NACK/PLI.
class PublisherApp : public ClientApp {
 public:
  explicit PublisherApp(client::PublisherConfig config) : pub(std::move(config)) {}

  void on_rtp(Instant, Bytes) override {}  // a publisher receives no media
  void on_rtcp(Instant now, Bytes packet) override { pub.handle_rtcp(now, packet); }
  std::optional<Instant> poll_timeout() override { return pub.poll_timeout(); }
  void handle_timeout(Instant now) override { pub.handle_timeout(now); }
  std::optional<Bytes> poll_rtp(Instant) override { return pub.poll_rtp(); }
  std::optional<Bytes> poll_rtcp(Instant) override { return pub.poll_rtcp(); }

  client::SyntheticPublisher pub;
};

// ClientApp for a SimSubscriber: receives media, sends RR/NACK/PLI/transport-cc.
class SubscriberApp : public ClientApp {
 public:
  explicit SubscriberApp(client::SubscriberConfig config) : sub(std::move(config)) {}

  void on_rtp(Instant now, Bytes packet) override { sub.handle_rtp(now, packet); }
  void on_rtcp(Instant now, Bytes packet) override { sub.handle_rtcp(now, packet); }
  std::optional<Instant> poll_timeout() override { return sub.poll_timeout(); }
  void handle_timeout(Instant) override {}  // poll_rtcp(now) does the work
  std::optional<Bytes> poll_rtp(Instant) override { return std::nullopt; }
  std::optional<Bytes> poll_rtcp(Instant now) override { return sub.poll_rtcp(now); }

  client::SimSubscriber sub;
};

// Rates of the publisher's layers: each fits under the next cap (150k, 600k).
inline constexpr uint32_t kLayerBps[3] = {100'000, 400'000, 1'200'000};
inline constexpr uint16_t kLayerWidth[3] = {320, 640, 1280};
inline constexpr server::ProducerId kVideoProducer = 1;
inline constexpr server::ProducerId kAudioProducer = 2;

struct SubscriberHandle {
  int client = 0;
  SubscriberApp* app = nullptr;
  server::ConsumerId video = 0, audio = 0;
  uint32_t video_ssrc = 0, rtx_ssrc = 0, audio_ssrc = 0;
};

class RouterRoom {
 public:
  explicit RouterRoom(uint32_t seed = 1) : world(seed) {}

  // The publisher (client 0) and its two producers; media starts at start().
  // `sent_layers` < 3: the producer announces q, h and f, the publisher
  // sends only the lowest ones (Chrome short of bandwidth or CPU).
  void add_publisher(std::array<uint32_t, 3> layer_bps = {kLayerBps[0], kLayerBps[1], kLayerBps[2]},
                     int sent_layers = 3, Duration keyframe_interval = seconds(3)) {
    auto& c = world.add_client(true);
    auto cfg = client::default_publisher_config(5000, 3);
    for (size_t i = 0; i < 3; ++i) cfg.video.layers[i].target_bps = layer_bps[i];
    cfg.video.layers.resize(size_t(std::clamp(sent_layers, 1, 3)));
    cfg.video.keyframe_interval = keyframe_interval;
    cfg.video.temporal_layers = 3;  // L1T3, as Chrome sends VP8 simulcast
    cfg.audio.payload_size = 60;    // Opus voice at ~24 kbit/s: L0 + audio fit under 150k
    auto app = std::make_unique<PublisherApp>(cfg);
    publisher = app.get();
    c.app = std::move(app);
    const auto& e = cfg.extensions;
    const server::ExtensionIds ids{.mid = e.mid, .rid = e.rid, .repaired_rid = e.repaired_rid,
                                   .abs_send_time = e.abs_send_time, .transport_cc = e.transport_cc,
                                   .audio_level = e.audio_level};
    server::ProducerSpec video{.id = kVideoProducer, .transport = c.server_id, .kind = MediaKind::video,
                               .mid = cfg.video.mid, .codecs = {vp8()}, .rids = {"q", "h", "f"}, .extensions = ids};
    server::ProducerSpec audio{.id = kAudioProducer, .transport = c.server_id, .kind = MediaKind::audio,
                               .source = server::ProducerSource::microphone, .mid = cfg.audio.mid,
                               .codecs = {opus()}, .extensions = ids};
    world.router().add_producer(video);
    world.router().add_producer(audio);
  }

  // A subscriber with downlink cap `cap_bps` (0: unlimited) consuming both
  // tracks. `validate_audio`: only over a loss-free downlink.
  SubscriberHandle& add_subscriber(uint64_t cap_bps, bool validate_audio = true) {
    Link down;
    down.cap_bps = cap_bps;
    auto& c = world.add_client(false, {}, down);
    SubscriberHandle h;
    h.client = c.index;
    const uint32_t base = 10'000 * uint32_t(c.index);
    h.video_ssrc = base + 1, h.rtx_ssrc = base + 2, h.audio_ssrc = base + 3;
    h.video = server::ConsumerId(c.index * 10 + 1);
    h.audio = server::ConsumerId(c.index * 10 + 2);
    client::SubscriberConfig sc;
    sc.rtcp_ssrc = base + 9;
    sc.transport_cc_ext_id = server::kSubscriberExtensionIds.transport_cc;
    sc.streams.push_back({MediaKind::video, h.video_ssrc, h.rtx_ssrc, 96, 97, 0, true});
    sc.streams.push_back({MediaKind::audio, h.audio_ssrc, 0, 111, 0, 0, validate_audio});
    auto app = std::make_unique<SubscriberApp>(sc);
    h.app = app.get();
    c.app = std::move(app);
    server::ConsumerSpec v{.id = h.video, .producer = kVideoProducer, .transport = c.server_id,
                           .ssrc = h.video_ssrc, .rtx_ssrc = h.rtx_ssrc, .codecs = {vp8()}};
    server::ConsumerSpec a{.id = h.audio, .producer = kAudioProducer, .transport = c.server_id,
                           .ssrc = h.audio_ssrc, .codecs = {opus()}};
    if (!world.router().add_consumer(v) || !world.router().add_consumer(a)) std::abort();
    subscribers.push_back(std::make_unique<SubscriberHandle>(h));
    return *subscribers.back();
  }

  void start() { publisher->pub.start(world.now); }

  // The spatial layer consumer `id` forwards (-1: none or closed).
  int layer(server::ConsumerId id) {
    const auto* c = world.router().consumer(id);
    return c ? c->forwarder().current_layers().spatial : -1;
  }
  client::SubscriberStreamStats video_stats(const SubscriberHandle& h) {
    return *h.app->sub.stream_stats(h.video_ssrc, world.now);
  }
  client::SubscriberStreamStats audio_stats(const SubscriberHandle& h) {
    return *h.app->sub.stream_stats(h.audio_ssrc, world.now);
  }
  Link& downlink(const SubscriberHandle& h) { return world.client(h.client).down; }

  // Runs until `pred` holds (checked every `step`) or `limit` passes; the
  // time it took, or nullopt.
  template <class Pred>
  std::optional<Duration> run_until_true(Duration limit, Pred pred, Duration step = milliseconds(20)) {
    const Instant start = world.now;
    while (world.now - start <= limit) {
      if (pred()) return world.now - start;
      world.run_for(step);
    }
    return std::nullopt;
  }

  static server::media::CodecInfo vp8() { return {server::media::Codec::vp8, 96, 90000, 97}; }
  static server::media::CodecInfo opus() { return {server::media::Codec::opus, 111, 48000, std::nullopt}; }

  SimWorld world;
  PublisherApp* publisher = nullptr;
  std::vector<std::unique_ptr<SubscriberHandle>> subscribers;
};

inline double ms(Duration d) { return double(std::chrono::duration_cast<microseconds>(d).count()) / 1000.0; }

}  // namespace sfu::test
