#include "server/producer.hpp"

#include "rtp/codecs/h264.hpp"
#include "rtp/codecs/vp9.hpp"
#include "rtp/header_extensions.hpp"

namespace sfu::server {

namespace {

media::RetransmissionBufferConfig buffer_config(media::MediaKind kind) {
  // Audio: ~50 packets/s of ~100 bytes; video: up to ~300 packets/s per layer.
  if (kind == media::MediaKind::audio) return {.slots = 128, .max_packet_size = 512, .max_age = seconds(1)};
  return {.slots = 512, .max_packet_size = 1280, .max_age = seconds(1)};
}

}  // namespace

Producer::Producer(const ProducerSpec& spec) : spec_(spec), paused_(spec.paused) {
  size_t count = 1;
  if (!spec.rids.empty()) count = spec.rids.size();
  else if (!spec.ssrcs.empty()) count = spec.ssrcs.size();
  count = std::min<size_t>(count, kMaxLayers);
  layers_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    ProducerLayer l{.nacks = media::NackGenerator(media::NackConfig{}), .keyframes = media::KeyframeRequester(media::KeyframeRequesterConfig{}),
                    .buffer = media::RetransmissionBuffer(buffer_config(spec.kind))};
    if (i < spec.rids.size()) l.rid = spec.rids[i];
    if (i < spec.ssrcs.size()) l.ssrc = spec.ssrcs[i];
    if (i < spec.rtx_ssrcs.size()) l.rtx_ssrc = spec.rtx_ssrcs[i];
    if (l.ssrc) l.stream.emplace(l.ssrc, spec.codecs.empty() ? media::kVideoClockRate : spec.codecs[0].clock_rate);
    layers_.push_back(std::move(l));
  }
}

const media::CodecInfo* Producer::codec(uint8_t pt) const {
  for (const auto& c : spec_.codecs)
    if (c.payload_type == pt) return &c;
  return nullptr;
}

std::optional<uint8_t> Producer::apt(uint8_t rtx_pt) const {
  for (const auto& c : spec_.codecs)
    if (c.rtx_payload_type && *c.rtx_payload_type == rtx_pt) return c.payload_type;
  return std::nullopt;
}

std::optional<ProducerMatch> Producer::match(uint32_t ssrc) const {
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].ssrc == ssrc) return ProducerMatch{int(i), false};
    if (layers_[i].rtx_ssrc && layers_[i].rtx_ssrc == ssrc) return ProducerMatch{int(i), true};
  }
  return std::nullopt;
}

std::optional<ProducerMatch> Producer::learn(const rtp::RtpView& packet) {
  const auto& ext = spec_.extensions;
  // The MID must name this producer when the publisher sends it (RFC 8843 §9.2).
  if (ext.mid) {
    auto mid = packet.extension(ext.mid);
    if (mid) {
      auto value = rtp::ext::parse_mid(*mid);
      if (!value || *value != spec_.mid) return std::nullopt;
    } else if (spec_.rids.empty() && spec_.ssrcs.empty()) {
      return std::nullopt;  // nothing else can tell us this packet is ours
    }
  }
  const bool rtx = is_rtx_payload_type(packet.payload_type());
  int layer = 0;
  if (!spec_.rids.empty()) {
    // RID on media packets, repaired-RID on RTX (RFC 8852 §3.1, §3.2).
    const uint8_t id = rtx ? ext.repaired_rid : ext.rid;
    auto raw = id ? packet.extension(id) : std::nullopt;
    if (!raw) return std::nullopt;
    auto rid = rtx ? rtp::ext::parse_repaired_rid(*raw) : rtp::ext::parse_rid(*raw);
    if (!rid) return std::nullopt;
    layer = -1;
    for (size_t i = 0; i < layers_.size(); ++i)
      if (layers_[i].rid == *rid) layer = int(i);
    if (layer < 0) return std::nullopt;
  } else if (!spec_.ssrcs.empty()) {
    return std::nullopt;  // SSRC-signalled simulcast: unknown SSRCs are not ours
  }
  ProducerLayer& l = layers_[size_t(layer)];
  if (rtx) {
    if (l.rtx_ssrc && l.rtx_ssrc != packet.ssrc()) return std::nullopt;
    l.rtx_ssrc = packet.ssrc();
  } else {
    if (l.ssrc && l.ssrc != packet.ssrc()) return std::nullopt;  // one SSRC per layer; a change needs renegotiation
    l.ssrc = packet.ssrc();
    const auto* c = codec(packet.payload_type());
    l.stream.emplace(l.ssrc, c ? c->clock_rate : media::kVideoClockRate);
  }
  return ProducerMatch{layer, rtx};
}

media::PacketMeta Producer::on_packet(int index, bool rtx, Instant now, const rtp::RtpView& view) {
  const media::PacketMeta meta = describe(now, view);
  ProducerLayer& l = layer(index);
  if (l.stream) l.stream->on_packet(now, view.sequence(), view.timestamp(), view.packet().size(), rtx);
  l.nacks.on_packet(now, view.sequence(), meta.keyframe, rtx);
  if (meta.keyframe) l.keyframes.on_keyframe(now);
  l.last_packet = now;
  ++l.packets;
  l.buffer.store(now, view.sequence(), view.packet());
  return meta;
}

media::PacketMeta Producer::describe(Instant now, const rtp::RtpView& view) {
  media::PacketMeta meta;
  meta.end_of_frame = view.marker();
  const media::CodecInfo* info = codec(view.payload_type());
  if (!info) return meta;
  const Bytes payload = view.payload();
  switch (info->codec) {
    case media::Codec::vp8:
      meta = media::describe_vp8(payload, view.marker());
      break;
    case media::Codec::vp9: {
      auto d = rtp::codecs::parse_vp9(payload);
      if (!d) break;
      meta.keyframe = rtp::codecs::is_vp9_keyframe(*d);
      if (d->has_layer_indices) {
        meta.temporal_id = d->temporal_id;
        meta.layer_sync = d->switching_up_point;
      }
      break;
    }
    case media::Codec::h264: {
      auto h264 = rtp::codecs::parse_h264(payload);
      if (h264) meta.keyframe = h264->keyframe;
      break;
    }
    case media::Codec::opus:
      meta.keyframe = true;  // every audio packet decodes on its own
      if (const uint8_t id = spec_.extensions.audio_level) {
        if (auto raw = view.extension(id)) {
          if (auto level = rtp::ext::parse_audio_level(*raw)) note_audio_level(now, level->level);
        }
      }
      break;
    case media::Codec::other:
      break;
  }
  return meta;
}

}  // namespace sfu::server
