#include "server/consumer.hpp"

#include <algorithm>

namespace sfu::server {

media::ForwarderConfig forwarder_config(const ConsumerSpec& spec, const Producer& producer) {
  media::ForwarderConfig cfg;
  cfg.kind = producer.spec().kind;
  cfg.codec = producer.spec().codecs.empty() ? media::Codec::other : producer.spec().codecs[0].codec;
  cfg.spatial_layers = producer.layer_count();
  // VP8/VP9 from browsers carry up to 3 temporal layers; unknown temporal
  // ids (-1) are never filtered, so 3 is safe for every video codec.
  cfg.temporal_layers = producer.spec().kind == media::MediaKind::video ? 3 : 1;
  cfg.ssrc = spec.ssrc;
  cfg.clock_rate = producer.spec().codecs.empty() ? media::kVideoClockRate : producer.spec().codecs[0].clock_rate;
  // Publisher payload types map to the subscriber's, codec by codec (the
  // signaling layer lists both in the same order).
  const auto& in = producer.spec().codecs;
  for (size_t i = 0; i < in.size() && i < spec.codecs.size() && cfg.payload_type_count < cfg.payload_types.size(); ++i)
    cfg.payload_types[cfg.payload_type_count++] = {in[i].payload_type, spec.codecs[i].payload_type};
  return cfg;
}

Consumer::Consumer(const ConsumerSpec& spec, const Producer& producer)
    : spec_(spec),
      kind_(producer.spec().kind),
      forwarder_(forwarder_config(spec, producer)),
      rtx_seq_(uint16_t(spec.id * 7919)),
      paused_(spec.paused) {
  forwarder_.set_preferred_layers(spec.preferred_spatial, spec.preferred_temporal);
  // Extension ids: publisher's → subscriber's; 0 strips (RFC 8285 padding).
  const ExtensionIds& from = producer.spec().extensions;
  const ExtensionIds& to = spec.extensions;
  auto map = [&](uint8_t in, uint8_t out) {
    if (in) ext_map_.map(in, out);
  };
  map(from.mid, 0);
  map(from.rid, 0);
  map(from.repaired_rid, 0);
  map(from.abs_send_time, to.abs_send_time);
  map(from.transport_cc, to.transport_cc);
  map(from.audio_level, to.audio_level);
}

uint8_t Consumer::rtx_payload_type_for(uint8_t subscriber_pt) const {
  for (const auto& c : spec_.codecs)
    if (c.payload_type == subscriber_pt && c.rtx_payload_type) return *c.rtx_payload_type;
  return subscriber_pt;
}

void Consumer::set_paused(bool p) { paused_ = p; }

}  // namespace sfu::server
