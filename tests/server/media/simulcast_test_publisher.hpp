// Test support for the simulcast forwarder: a synthetic three-layer VP8
// simulcast publisher (own SSRC, random sequence / timestamp / PictureID /
// TL0PICIDX bases per layer, 30 fps, temporal pattern 0,2,1,2 with
// layer-sync frames, several packets per frame, key frames at start, every
// N frames and on request) and a harness that runs it through a
// SimulcastForwarder on a virtual clock, playing the subscriber (receives,
// NACKs) and the server (PLIs, producer retransmission buffer).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "rtp/codecs/vp8.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/sequence.hpp"
#include "server/media/simulcast_forwarder.hpp"

namespace sfu::server::media::test_support {

inline constexpr uint32_t kFrameTicks = 3000;            // 30 fps at 90 kHz
inline constexpr int64_t kFrameMicros = 1'000'000 / 30;  // 33333 us
inline constexpr std::array<int, 4> kTemporalPattern = {0, 2, 1, 2};
inline const Instant kT0 = from_micros(10'000'000);

// ---- a synthetic three-layer VP8 simulcast publisher ------------------------------

struct PublisherOptions {
  int layers = 3;
  std::array<int, 3> packets_per_frame = {1, 2, 4};
  int keyframe_interval = 0;  // frames; 0 = key frames only at start and on request
  bool start_with_keyframe = true;
  int sync_every = 2;                 // layer-sync (Y) on TL1/TL2 frames of every n-th 4-frame cycle
  int pli_delay_frames = 3;           // frames between a request and the key frame
  uint16_t picture_id_base = 0xffff;  // 0xffff: random
  uint32_t seed = 1;
};

struct SimPacket {
  std::vector<uint8_t> bytes;
  int layer = 0;
  Instant arrival;
  int64_t frame = 0;
  uint32_t capture = 0;  // frame * kFrameTicks: the common timeline
  bool keyframe_start = false;
  int tid = 0;
  int index = 0;  // packet index within its frame
};

class SimulcastPublisher {
 public:
  explicit SimulcastPublisher(PublisherOptions o) : o_(o), rng_(o.seed) {
    for (int l = 0; l < o_.layers; ++l) {
      Layer& s = layers_[size_t(l)];
      s.ssrc = uint32_t(rng_());
      s.seq = uint16_t(rng_());
      s.ts_base = uint32_t(rng_());
      s.picture_id = o_.picture_id_base == 0xffff ? uint16_t(rng_() & 0x7fff) : o_.picture_id_base;
      s.tl0 = uint8_t(rng_());
      s.keyframe_at = o_.start_with_keyframe ? 0 : -1;
    }
  }

  // All packets of the next frame, layer 0 first, each layer 1 ms after the
  // previous one and 100 us between packets.
  std::vector<SimPacket> next_frame() {
    std::vector<SimPacket> out;
    for (int l = 0; l < o_.layers; ++l) emit_layer(l, out);
    ++frame_;
    return out;
  }

  void request_keyframe(int layer) {
    Layer& s = layers_[size_t(layer)];
    if (s.keyframe_at < frame_) s.keyframe_at = frame_ + o_.pli_delay_frames;
  }
  // Sender report of `layer` for the current frame's capture instant.
  uint64_t ntp_now() const { return (uint64_t(5000) << 32) + (uint64_t(frame_) * kFrameTicks << 32) / 90000; }
  uint32_t rtp_now(int layer) const { return layers_[size_t(layer)].ts_base + uint32_t(frame_) * kFrameTicks; }
  int64_t frame() const { return frame_; }
  Instant frame_time(int64_t f) const { return kT0 + microseconds(f * kFrameMicros); }
  void set_ssrc(int layer, uint32_t ssrc) { layers_[size_t(layer)].ssrc = ssrc; }

 private:
  struct Layer {
    uint32_t ssrc = 0;
    uint16_t seq = 0;
    uint32_t ts_base = 0;
    uint16_t picture_id = 0;
    uint8_t tl0 = 0;
    int64_t gop_pos = 0;
    int64_t keyframe_at = -1;
  };

  void emit_layer(int l, std::vector<SimPacket>& out) {
    Layer& s = layers_[size_t(l)];
    const bool key = frame_ == s.keyframe_at || (o_.keyframe_interval > 0 && frame_ % o_.keyframe_interval == 0);
    if (key) s.gop_pos = 0;
    const int tid = kTemporalPattern[size_t(s.gop_pos % 4)];
    const bool sync = tid > 0 && (s.gop_pos / 4) % o_.sync_every == 0;
    if (tid == 0) ++s.tl0;
    const int n = o_.packets_per_frame[size_t(l)];
    for (int p = 0; p < n; ++p) {
      SimPacket sp;
      sp.layer = l;
      sp.frame = frame_;
      sp.capture = uint32_t(frame_) * kFrameTicks;
      sp.arrival = frame_time(frame_) + microseconds(l * 1000 + p * 100);
      sp.keyframe_start = key && p == 0;
      sp.tid = tid;
      sp.index = p;
      sp.bytes = build(s, sp.capture, p == 0, p == n - 1, key, tid, sync);
      out.push_back(std::move(sp));
      ++s.seq;
    }
    s.picture_id = uint16_t((s.picture_id + 1) & 0x7fff);
    ++s.gop_pos;
  }

  static std::vector<uint8_t> build(const Layer& s, uint32_t capture, bool first, bool last, bool key, int tid,
                                    bool sync) {
    std::vector<uint8_t> payload = {
        uint8_t(0x80 | (first ? 0x10 : 0)),  // X, S, PID 0
        0xe0,                                // I L T
        uint8_t(0x80 | (s.picture_id >> 8)),
        uint8_t(s.picture_id),                  // M=1, 15-bit PictureID
        s.tl0,                                  // TL0PICIDX
        uint8_t(tid << 6 | (sync ? 0x20 : 0)),  // TID, Y
    };
    if (first) {  // VP8 frame tag (P = !key), key-frame start code, 640x360
      for (uint8_t b : {uint8_t(key ? 0x10 : 0x11), uint8_t(0x02), uint8_t(0x00), uint8_t(0x9d), uint8_t(0x01),
                        uint8_t(0x2a), uint8_t(0x80), uint8_t(0x02), uint8_t(0x68), uint8_t(0x01)}) {
        payload.push_back(b);
      }
    }
    payload.resize(60, 0x5a);
    rtp::RtpHeader h;
    h.marker = last;
    h.payload_type = 96;
    h.sequence = s.seq;
    h.timestamp = s.ts_base + capture;
    h.ssrc = s.ssrc;
    h.payload = payload;
    std::vector<uint8_t> bytes(h.serialized_size());
    h.serialize_to(bytes);
    return bytes;
  }

  PublisherOptions o_;
  std::mt19937 rng_;
  std::array<Layer, 3> layers_{};
  int64_t frame_ = 0;
};

// ---- harness: publisher -> forwarder -> what the subscriber receives ---------------

struct Received {
  uint16_t seq = 0;
  uint32_t ts = 0;
  uint32_t ssrc = 0;
  bool marker = false;
  uint16_t picture_id = 0;
  uint8_t tl0 = 0;
  int tid = 0;
  int layer = 0;
  int64_t frame = 0;
  uint32_t capture = 0;
  bool keyframe_start = false;
  uint16_t in_seq = 0;
  std::vector<uint8_t> source;  // the packet as published
  std::vector<uint8_t> bytes;   // the packet as forwarded
};

inline ForwarderConfig vp8_config(int spatial = 3, int temporal = 3) {
  ForwarderConfig c;
  c.kind = MediaKind::video;
  c.codec = Codec::vp8;
  c.spatial_layers = spatial;
  c.temporal_layers = temporal;
  c.ssrc = 0x5e5e5e5e;
  c.payload_types[0] = {96, 100};
  c.payload_type_count = 1;
  return c;
}

class Harness {
 public:
  explicit Harness(PublisherOptions po = {}, ForwarderConfig fc = vp8_config()) : pub(po), fwd(fc) {}

  // Runs `frames` frames; `lose` returns true for packets the network loses.
  void run(int64_t frames, const std::function<bool(const SimPacket&)>& lose = {}) {
    for (int64_t i = 0; i < frames; ++i) {
      if (send_sender_reports && pub.frame() % 30 == 0) {
        for (int l = 0; l < 3; ++l) fwd.on_sender_report(l, pub.ntp_now(), pub.rtp_now(l));
      }
      std::vector<SimPacket> packets = pub.next_frame();
      if (reorder) reorder(packets);
      for (const SimPacket& p : packets) {
        if (!lose || !lose(p)) feed(p);
      }
      now = pub.frame_time(pub.frame()) - microseconds(1);
      while (auto layer = fwd.poll_keyframe_request(now)) {
        plis.push_back({now, *layer});
        if (answer_plis) pub.request_keyframe(*layer);
      }
      while (auto e = fwd.poll_event()) events.push_back(*e);
      if (nack) send_nacks();
    }
  }

  // The subscriber's NACK generator, once per frame: every missing output
  // number is asked for once; those the forwarder cannot answer are counted.
  void send_nacks() {
    const std::vector<int64_t> missing(missing_.begin(), missing_.end());
    for (int64_t m : missing) {
      if (!retransmit(uint16_t(m))) unanswered_nacks.push_back(uint16_t(m));
      missing_.erase(m);
    }
  }

  void note_received(uint16_t seq) {
    const int64_t e = unwrap_.unwrap(seq);
    if (highest_ && e > *highest_) {
      for (int64_t m = *highest_ + 1; m < e; ++m) missing_.insert(m);
    }
    if (!highest_ || e > *highest_) highest_ = e;
    missing_.erase(e);
  }

  ForwardDecision feed(const SimPacket& p) {
    now = p.arrival;
    const auto in = rtp::parse_rtp(p.bytes);
    EXPECT_TRUE(in.ok());
    producer_buffer[{p.layer, in->sequence()}] = p;
    const auto view = rtp::parse_rtp(p.bytes);
    EXPECT_TRUE(view.ok());
    const ForwardDecision d = fwd.on_packet(p.arrival, p.layer, *view, describe_vp8(view->payload(), view->marker()));
    if (!d.forward) return d;
    Received r;
    r.source = p.bytes;
    r.bytes = p.bytes;
    const auto copy = rtp::parse_rtp(r.bytes);
    EXPECT_TRUE(SimulcastForwarder::apply(r.bytes, *copy, d.rewrite));
    const auto vp8 = rtp::codecs::parse_vp8(copy->payload());
    EXPECT_TRUE(vp8.ok());
    r.seq = copy->sequence();
    r.ts = copy->timestamp();
    r.ssrc = copy->ssrc();
    r.marker = copy->marker();
    r.picture_id = vp8->picture_id;
    r.tl0 = vp8->tl0picidx;
    r.tid = vp8->tid;
    r.layer = p.layer;
    r.frame = p.frame;
    r.capture = p.capture;
    r.keyframe_start = p.keyframe_start;
    r.in_seq = view->sequence();
    note_received(r.seq);
    out.push_back(std::move(r));
    return d;
  }

  SimulcastPublisher pub;
  SimulcastForwarder fwd;
  std::vector<Received> out;
  std::vector<LayersChanged> events;
  std::vector<std::pair<Instant, int>> plis;
  // Answers a subscriber NACK the way the server does: translate, fetch from
  // the producer's buffer, rewrite the copy. False when it cannot.
  bool retransmit(uint16_t out_seq) {
    const auto info = fwd.lookup_for_nack(out_seq);
    if (!info) return false;
    const auto it = producer_buffer.find({info->spatial_layer, info->sequence});
    if (it == producer_buffer.end()) return false;
    Received r;
    r.source = r.bytes = it->second.bytes;
    const auto view = rtp::parse_rtp(r.bytes);
    EXPECT_TRUE(SimulcastForwarder::apply(r.bytes, *view, info->rewrite));
    const auto vp8 = rtp::codecs::parse_vp8(view->payload());
    r.seq = view->sequence();
    r.ts = view->timestamp();
    r.ssrc = view->ssrc();
    r.picture_id = vp8->picture_id;
    r.tl0 = vp8->tl0picidx;
    r.tid = vp8->tid;
    r.layer = it->second.layer;
    r.frame = it->second.frame;
    r.in_seq = info->sequence;
    note_received(r.seq);
    out.push_back(std::move(r));
    return true;
  }

  std::map<std::pair<int, uint16_t>, SimPacket> producer_buffer;
  bool nack = false;
  std::vector<uint16_t> unanswered_nacks;
  rtp::SeqUnwrapper unwrap_;
  std::optional<int64_t> highest_;
  std::set<int64_t> missing_;
  Instant now = kT0;
  bool send_sender_reports = false;
  bool answer_plis = true;
  std::function<void(std::vector<SimPacket>&)> reorder;  // network reordering within a frame's burst
};

// Every output packet is the previous one + 1.
inline void expect_contiguous(const std::vector<Received>& out) {
  for (size_t i = 1; i < out.size(); ++i) {
    ASSERT_EQ(uint16_t(out[i - 1].seq + 1), out[i].seq) << "at output packet " << i;
  }
}

// Indices of output packets where the forwarded layer changes.
inline std::vector<size_t> switch_points(const std::vector<Received>& out) {
  std::vector<size_t> s;
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].layer != out[i - 1].layer) s.push_back(i);
  }
  return s;
}

// Random preferences and bandwidth caps, 20..59 frames each.
inline void run_random_switching(Harness& h, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int round = 0; round < 120; ++round) {
    h.fwd.set_preferred_layers(int(rng() % 3), int(rng() % 4) - 1);
    if (rng() % 3 == 0) h.fwd.set_max_layers_by_bandwidth(int(rng() % 3), int(rng() % 3));
    h.run(20 + rng() % 40);
  }
}

}  // namespace sfu::server::media::test_support
