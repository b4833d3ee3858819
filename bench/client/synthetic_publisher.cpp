#include "bench/client/synthetic_publisher.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "bench/client/payload_probe.hpp"
#include "bench/client/synthetic_publisher_state.hpp"
#include "rtp/header_extensions.hpp"
#include "rtp/rtp_packet.hpp"

namespace sfu::client {

using namespace publisher_detail;  // NOLINT(google-build-using-namespace): the publisher's own constants

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Bytes text_bytes(const std::string& s) { return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

}  // namespace

PublisherConfig default_publisher_config(uint32_t ssrc_base, int video_layers) {
  struct Defaults {
    const char* rid;
    uint32_t bps;
    uint16_t width, height;
  };
  static constexpr Defaults kDefaults[3] = {
      {"q", 150'000, 320, 180}, {"h", 500'000, 640, 360}, {"f", 1'500'000, 1280, 720}};
  PublisherConfig c;
  const int n = std::clamp(video_layers, 0, 3);
  for (int i = 0; i < n; ++i) {
    const Defaults& d = kDefaults[3 - n + i];
    VideoLayerConfig l;
    l.rid = n > 1 ? d.rid : "";
    l.ssrc = ssrc_base + 1 + 2 * uint32_t(i);
    l.rtx_ssrc = ssrc_base + 2 + 2 * uint32_t(i);
    l.target_bps = d.bps;
    l.width = d.width;
    l.height = d.height;
    c.video.layers.push_back(l);
  }
  c.video.enabled = n > 0;
  c.audio.ssrc = ssrc_base;
  c.seed = ssrc_base;
  return c;
}

// ---- PacketQueue ----------------------------------------------------------

void SyntheticPublisher::PacketQueue::push(QueuedPacket p) {
  if (size_ == ring_.size()) {  // grow to the high-water mark, then never again
    std::vector<QueuedPacket> bigger(std::max<size_t>(64, ring_.size() * 2));
    for (size_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_ = std::move(bigger);
    head_ = 0;
  }
  ring_[(head_ + size_) & (ring_.size() - 1)] = p;
  ++size_;
}

SyntheticPublisher::QueuedPacket SyntheticPublisher::PacketQueue::pop() {
  const QueuedPacket p = ring_[head_];
  head_ = (head_ + 1) & (ring_.size() - 1);
  --size_;
  return p;
}

// ---- construction -----------------------------------------------------------

SyntheticPublisher::SyntheticPublisher(PublisherConfig config) : config_(std::move(config)), rng_(config_.seed) {
  config_.video.fps = std::max<uint32_t>(config_.video.fps, 1);
  config_.video.max_payload_size = std::clamp(config_.video.max_payload_size, kMinPayloadSize, kMaxPayloadSize);
  if (config_.video.temporal_layers != 3) config_.video.temporal_layers = 1;
  if (config_.video.layers.size() > kMaxLayers) config_.video.layers.resize(kMaxLayers);
  streams_.reserve(kMaxLayers + 1);
  if (config_.video.enabled) {
    for (size_t i = 0; i < config_.video.layers.size(); ++i) add_video_stream(config_.video.layers[i], uint8_t(i));
  }
  if (config_.audio.enabled) add_audio_stream();
}

SyntheticPublisher::~SyntheticPublisher() = default;
SyntheticPublisher::SyntheticPublisher(SyntheticPublisher&&) noexcept = default;
SyntheticPublisher& SyntheticPublisher::operator=(SyntheticPublisher&&) noexcept = default;

void SyntheticPublisher::add_video_stream(const VideoLayerConfig& layer, uint8_t index) {
  Stream s;
  s.layer = index;
  s.ssrc = layer.ssrc;
  s.rtx_ssrc = layer.rtx_ssrc;
  s.payload_type = config_.video.payload_type;
  s.rtx_payload_type = config_.video.rtx_payload_type;
  s.rid = layer.rid;
  s.target_bps = layer.target_bps;
  s.width = layer.width;
  s.height = layer.height;
  s.next_seq = uint16_t(splitmix64(rng_));
  s.next_rtx_seq = uint16_t(splitmix64(rng_));
  s.ts_base = uint32_t(splitmix64(rng_));
  s.picture_id = uint16_t(splitmix64(rng_) & 0x7fff);
  s.tl0picidx = uint8_t(splitmix64(rng_));
  s.history.resize(kVideoHistorySize);
  s.stats.ssrc = s.ssrc;
  ExtensionValues values;
  rtp::RtpHeader h;
  fill_header(s, Record{}, std::nullopt, values, h);
  s.header_size = h.header_size();
  streams_.push_back(std::move(s));
}

void SyntheticPublisher::add_audio_stream() {
  Stream s;
  s.audio = true;
  s.layer = kAudioLayer;
  s.ssrc = config_.audio.ssrc;
  s.payload_type = config_.audio.payload_type;
  s.clock_rate = kAudioClock;
  s.next_seq = uint16_t(splitmix64(rng_));
  s.ts_base = uint32_t(splitmix64(rng_));
  s.history.resize(kAudioHistorySize);
  s.stats.ssrc = s.ssrc;
  ExtensionValues values;
  rtp::RtpHeader h;
  fill_header(s, Record{}, std::nullopt, values, h);
  s.header_size = h.header_size();
  audio_index_ = streams_.size();
  streams_.push_back(std::move(s));
}

// ---- timing -------------------------------------------------------------------

void SyntheticPublisher::start(Instant now) {
  if (started_ || stopped_) return;
  started_ = true;
  start_ = now;
  next_frame_ = 0;
  next_audio_ = 0;
  for (Stream& s : streams_) {
    s.force_keyframe = true;
    s.next_keyframe = now;
    s.next_sr = now + config_.rtcp_interval;
  }
}

Instant SyntheticPublisher::frame_time(int64_t index) const {
  return start_ + microseconds(index * 1'000'000 / int64_t(config_.video.fps));
}

Instant SyntheticPublisher::audio_time(int64_t index) const { return start_ + microseconds(index * kAudioPacketUs); }

std::optional<Instant> SyntheticPublisher::poll_timeout() const {
  if (!started_) return std::nullopt;
  std::optional<Instant> t;
  auto consider = [&t](Instant c) { t = t ? std::min(*t, c) : c; };
  if (streams_.size() > (audio_index_ ? 1u : 0u)) consider(frame_time(next_frame_));
  if (audio_index_) consider(audio_time(next_audio_));
  for (const Stream& s : streams_) consider(s.next_sr);
  return t;
}

void SyntheticPublisher::handle_timeout(Instant now) {
  if (!started_) return;
  const size_t video_streams = video_layer_count();
  if (video_streams > 0) {
    for (Instant t = frame_time(next_frame_); t <= now; t = frame_time(++next_frame_)) {
      for (size_t i = 0; i < video_streams; ++i) produce_video_frame(streams_[i], next_frame_, t);
    }
  }
  if (audio_index_) {
    for (Instant t = audio_time(next_audio_); t <= now; t = audio_time(++next_audio_)) {
      produce_audio_packet(streams_[*audio_index_], next_audio_, t);
    }
  }
  for (Stream& s : streams_) {
    if (now < s.next_sr) continue;
    snapshot_sender_report(s, now);
    s.next_sr += config_.rtcp_interval;
    if (s.next_sr <= now) s.next_sr = now + config_.rtcp_interval;
  }
}

double SyntheticPublisher::next_unit() { return double(splitmix64(rng_) >> 11) * 0x1.0p-53; }

// ---- frames and packets ------------------------------------------------------------

void SyntheticPublisher::produce_video_frame(Stream& s, int64_t frame_index, Instant capture) {
  static constexpr uint8_t kPattern[4] = {0, 2, 1, 2};  // L1T3
  const bool key = s.force_keyframe || capture >= s.next_keyframe;
  if (key) {
    s.force_keyframe = false;
    s.next_keyframe = capture + config_.video.keyframe_interval;
    s.pattern = 0;
    ++s.stats.keyframes;
  }
  Record frame;
  if (config_.video.temporal_layers == 3) {
    const uint32_t pos = s.pattern % 4;
    frame.tid = kPattern[pos];
    frame.layer_sync = pos == 1 || pos == 2;  // reference TL0 only
  }
  ++s.pattern;
  if (s.stats.frames > 0) {
    s.picture_id = uint16_t((s.picture_id + 1) & 0x7fff);
    if (frame.tid == 0) ++s.tl0picidx;
  }
  ++s.frame_counter;
  ++s.stats.frames;
  frame.keyframe = key;
  frame.picture_id = s.picture_id;
  frame.tl0picidx = s.tl0picidx;
  frame.frame_counter = s.frame_counter;
  frame.send_us = to_micros(capture);
  frame.timestamp = s.ts_base + uint32_t(uint64_t(frame_index) * kVideoClock / config_.video.fps);
  packetize_frame(s, frame, frame_wire_bytes(s, key, frame.tid));
}

// Bytes on the wire for the next frame: the per-frame budget shaped by frame
// type and noise, minus a share of what earlier frames overspent.
size_t SyntheticPublisher::frame_wire_bytes(Stream& s, bool keyframe, uint8_t tid) {
  const double budget = double(s.target_bps) / 8.0 / double(config_.video.fps);
  double factor = keyframe ? config_.video.keyframe_size_factor : 1.0;
  if (!keyframe && config_.video.temporal_layers == 3) factor = kTemporalFactor[std::min<uint8_t>(tid, 2)];
  double size = budget * factor * (0.85 + 0.3 * next_unit());
  if (!keyframe) size = std::max(size - s.debt / 15.0, 0.3 * budget * factor);
  const size_t floor = s.header_size + kVp8DescriptorSize + kVp8KeyHeaderSize + kProbeSize + 16;
  const size_t wire = std::max(size_t(size), floor);
  s.debt += double(wire) - budget;
  return wire;
}

// Splits a frame of `wire_bytes` (RTP headers included) evenly into packets
// of at most max_payload_size payload bytes.
void SyntheticPublisher::packetize_frame(Stream& s, const Record& frame, size_t wire_bytes) {
  const size_t vp8_header = frame.keyframe ? kVp8KeyHeaderSize : kVp8DeltaHeaderSize;
  const size_t overhead = s.header_size + kVp8DescriptorSize + kProbeSize;
  const size_t max_fill = config_.video.max_payload_size - kVp8DescriptorSize - kProbeSize - vp8_header;
  size_t n = std::max<size_t>(1, (wire_bytes + s.header_size + config_.video.max_payload_size - 1) /
                                     (s.header_size + config_.video.max_payload_size));
  size_t fill = 0;
  for (;; ++n) {
    const size_t fixed = n * overhead + vp8_header;
    fill = wire_bytes > fixed ? wire_bytes - fixed : 0;
    if ((fill + n - 1) / n <= max_fill) break;
  }
  for (size_t i = 0; i < n; ++i) {
    Record r = frame;
    r.packet_index = uint16_t(i);
    r.packet_count = uint16_t(n);
    r.fill = uint16_t(fill / n + (i < fill % n ? 1 : 0));
    r.marker = i + 1 == n;
    const size_t payload = kVp8DescriptorSize + (i == 0 ? vp8_header : 0) + kProbeSize + r.fill;
    store_and_queue(s, r, payload);
  }
}

void SyntheticPublisher::produce_audio_packet(Stream& s, int64_t index, Instant capture) {
  const AudioConfig& a = config_.audio;
  bool talking = true;
  if (a.silence > Duration::zero()) {
    const auto cycle = (a.talk_spurt + a.silence).count();
    talking = cycle <= 0 || (capture - start_).count() % cycle < a.talk_spurt.count();
  }
  Record r;
  r.send_us = to_micros(capture);
  r.timestamp = s.ts_base + uint32_t(index) * kAudioTimestampStep;
  r.frame_counter = ++s.frame_counter;
  r.marker = talking && !s.talking;  // first packet of a talk spurt (RFC 3551 §4.1)
  s.talking = talking;
  const uint8_t jitter = uint8_t(splitmix64(rng_) % 5);
  r.audio_level = talking ? uint8_t(0x80 | std::min(127, a.talking_level + jitter))
                          : uint8_t(std::min(127, a.silent_level + jitter));
  const size_t payload = std::max<size_t>(size_t(double(a.payload_size) * (0.9 + 0.2 * next_unit())), 1 + kProbeSize);
  r.fill = uint16_t(std::min<size_t>(payload - 1 - kProbeSize, 1200));
  ++s.stats.frames;
  store_and_queue(s, r, 1 + kProbeSize + r.fill);
}

void SyntheticPublisher::store_and_queue(Stream& s, const Record& r, size_t payload_size) {
  Record& slot = s.history[s.next_seq & (s.history.size() - 1)];
  slot = r;
  slot.seq = s.next_seq++;
  slot.valid = true;
  media_queue_.push({uint8_t(&s - streams_.data()), slot.seq});
  ++s.stats.packets;
  s.stats.bytes += s.header_size + payload_size;
  s.stats.payload_bytes += payload_size;
}

// ---- serialisation -------------------------------------------------------------------

void SyntheticPublisher::fill_header(const Stream& s, const Record& r, std::optional<uint16_t> rtx_seq,
                                     ExtensionValues& v, rtp::RtpHeader& h) const {
  const ExtensionIds& ids = config_.extensions;
  h.marker = r.marker;
  h.payload_type = rtx_seq ? s.rtx_payload_type : s.payload_type;
  h.sequence = rtx_seq ? *rtx_seq : r.seq;
  h.timestamp = r.timestamp;
  h.ssrc = rtx_seq ? s.rtx_ssrc : s.ssrc;
  const std::string& mid = s.audio ? config_.audio.mid : config_.video.mid;
  if (ids.mid != 0 && !mid.empty()) h.add_extension(ids.mid, text_bytes(mid));
  const uint8_t rid_id = rtx_seq ? ids.repaired_rid : ids.rid;
  if (rid_id != 0 && !s.rid.empty()) h.add_extension(rid_id, text_bytes(s.rid));
  if (ids.abs_send_time != 0) {
    // A retransmission is stamped with its own send time, as libwebrtc does.
    const int64_t sent_us = rtx_seq ? r.last_rtx_us : r.send_us;
    rtp::ext::write_abs_send_time(v.abs_send_time, rtp::ext::abs_send_time_from_micros(sent_us));
    h.add_extension(ids.abs_send_time, v.abs_send_time);
  }
  if (ids.transport_cc != 0) {
    rtp::ext::write_transport_sequence(v.transport_seq, counters_.next_transport_seq);
    h.add_extension(ids.transport_cc, v.transport_seq);
  }
  if (s.audio && ids.audio_level != 0) {
    v.audio_level[0] = r.audio_level;
    h.add_extension(ids.audio_level, v.audio_level);
  }
}

size_t SyntheticPublisher::write_packet(const Stream& s, const Record& r, std::optional<uint16_t> rtx_seq,
                                        MutBytes out) {
  ExtensionValues values;
  rtp::RtpHeader h;
  fill_header(s, r, rtx_seq, values, h);
  const size_t header = h.header_size();
  const size_t osn = rtx_seq ? 2 : 0;  // RFC 4588 §4: original sequence number first
  if (out.size() < header + osn) return 0;
  MutBytes body = out.subspan(header + osn);
  const size_t payload = s.audio ? write_audio_payload(r, body) : write_video_payload(s, r, body);
  if (payload == 0) return 0;
  if (rtx_seq) store_be16(&out[header], r.seq);  // size checked above
  h.payload = Bytes(out.data() + header, osn + payload);
  const size_t n = h.serialize_to(out);
  if (n != 0) ++counters_.next_transport_seq;
  return n;
}

// VP8 payload descriptor (RFC 7741 §4.2) with X, I (M=1), L, T, then on a
// frame's first packet the payload header (RFC 6386 §9.1), then the probe.
size_t SyntheticPublisher::write_video_payload(const Stream& s, const Record& r, MutBytes out) const {
  const bool first = r.packet_index == 0;
  const size_t vp8_header = first ? (r.keyframe ? kVp8KeyHeaderSize : kVp8DeltaHeaderSize) : 0;
  if (out.size() < kVp8DescriptorSize + vp8_header + kProbeSize + r.fill) return 0;
  uint8_t* b = out.data();                             // size checked above
  b[0] = uint8_t(0x80 | (first ? 0x10 : 0));           // X, S; N = 0, PID = 0
  b[1] = 0xe0;                                         // I, L, T; K = 0
  store_be16(b + 2, uint16_t(0x8000 | r.picture_id));  // M = 1: 15-bit PictureID
  b[4] = r.tl0picidx;
  b[5] = uint8_t(r.tid << 6 | (r.layer_sync ? 0x20 : 0));
  size_t pos = kVp8DescriptorSize;
  if (first) {
    // Frame tag, little endian: P (0 = key frame), version 0, show_frame 1,
    // first partition size (19 bits; a plausible share of the frame).
    const uint32_t partition = std::min<uint32_t>(uint32_t(r.fill) * r.packet_count / 4, 0x7ffff);
    const uint32_t tag = (r.keyframe ? 0u : 1u) | 1u << 4 | partition << 5;
    b[pos] = uint8_t(tag);
    b[pos + 1] = uint8_t(tag >> 8);
    b[pos + 2] = uint8_t(tag >> 16);
    pos += kVp8DeltaHeaderSize;
    if (r.keyframe) {
      const uint8_t start_code[3] = {0x9d, 0x01, 0x2a};
      std::copy(start_code, start_code + 3, b + pos);
      b[pos + 3] = uint8_t(s.width);  // 14-bit size, 2-bit scale 0, little endian
      b[pos + 4] = uint8_t((s.width >> 8) & 0x3f);
      b[pos + 5] = uint8_t(s.height);
      b[pos + 6] = uint8_t((s.height >> 8) & 0x3f);
      pos += kVp8KeyHeaderSize - kVp8DeltaHeaderSize;
    }
  }
  PayloadProbe p{s.layer, r.keyframe, r.tid, r.frame_counter, r.send_us, r.packet_index, r.packet_count};
  const size_t n = write_probe(out.subspan(pos), p, r.fill);
  return n == 0 ? 0 : pos + n;
}

size_t SyntheticPublisher::write_audio_payload(const Record& r, MutBytes out) const {
  if (out.empty()) return 0;
  out[0] = kOpusToc;
  const PayloadProbe p{kAudioLayer, false, 0, r.frame_counter, r.send_us, 0, 1};
  const size_t n = write_probe(out.subspan(1), p, r.fill);
  return n == 0 ? 0 : 1 + n;
}

std::optional<Bytes> SyntheticPublisher::poll_rtp() {
  while (!rtx_queue_.empty() || !media_queue_.empty()) {
    const bool rtx = !rtx_queue_.empty();
    const QueuedPacket q = rtx ? rtx_queue_.pop() : media_queue_.pop();
    Stream& s = streams_[q.stream];
    Record& r = s.history[q.seq & (s.history.size() - 1)];
    if (!r.valid || r.seq != q.seq) continue;  // overwritten while queued
    std::optional<uint16_t> rtx_seq;
    if (rtx) {
      r.rtx_queued = false;
      rtx_seq = s.next_rtx_seq++;
    }
    const size_t n = write_packet(s, r, rtx_seq, rtp_buf_);
    if (n == 0) continue;
    if (rtx) {
      ++s.stats.retransmissions;
      s.stats.retransmitted_bytes += n;
    }
    return Bytes(rtp_buf_.data(), n);
  }
  return std::nullopt;
}

// ---- control and stats ----------------------------------------------------------------------

void SyntheticPublisher::request_keyframe(size_t layer) {
  if (layer < video_layer_count()) streams_[layer].force_keyframe = true;
}

void SyntheticPublisher::set_target_bitrate(size_t layer, uint32_t bps) {
  if (layer < video_layer_count()) streams_[layer].target_bps = bps;
}

size_t SyntheticPublisher::video_layer_count() const { return streams_.size() - (audio_index_ ? 1 : 0); }

const PublisherStreamStats& SyntheticPublisher::layer_stats(size_t layer) const { return streams_[layer].stats; }

const PublisherStreamStats& SyntheticPublisher::audio_stats() const {
  static const PublisherStreamStats kNone;
  return audio_index_ ? streams_[*audio_index_].stats : kNone;
}

PublisherStreamStats SyntheticPublisher::totals() const {
  PublisherStreamStats t;
  for (const Stream& s : streams_) {
    t.packets += s.stats.packets;
    t.bytes += s.stats.bytes;
    t.payload_bytes += s.stats.payload_bytes;
    t.frames += s.stats.frames;
    t.keyframes += s.stats.keyframes;
    t.retransmissions += s.stats.retransmissions;
    t.retransmitted_bytes += s.stats.retransmitted_bytes;
    t.nacked += s.stats.nacked;
    t.nack_misses += s.stats.nack_misses;
    t.plis += s.stats.plis;
    t.firs += s.stats.firs;
    t.sender_reports += s.stats.sender_reports;
  }
  return t;
}

}  // namespace sfu::client
