// A consumer: one producer forwarded to one subscriber transport, with its
// own stable SSRC, layer selection and header-extension mapping.
// Worker thread only.
#pragma once

#include <cstdint>

#include "rtp/rtp_rewriter.hpp"
#include "server/media/simulcast_forwarder.hpp"
#include "server/producer.hpp"
#include "server/room_api.hpp"

namespace sfu::server {

class TransportSender;

struct ConsumerStats {
  uint64_t packets = 0;
  uint64_t octets = 0;  // payload octets, for SR (RFC 3550 §6.4.1)
  uint64_t retransmissions = 0;
  uint64_t nacks_received = 0;
  uint64_t plis_received = 0;
  uint64_t firs_received = 0;
  uint32_t last_rtp_timestamp = 0;
  uint16_t last_sequence = 0;
  uint32_t timestamp_offset = 0;  // out − in RTP timestamp of the last forwarded packet (its layer epoch)
  Instant last_sent_at{};
  bool sent_any = false;
  // From our last SR and the subscriber's RR about it (RFC 3550 §6.4.1).
  uint32_t last_sr_compact = 0;
  Instant last_sr_sent_at{};
  Duration rtt{};
  uint8_t fraction_lost = 0;
  uint32_t jitter = 0;
};

class Consumer {
 public:
  Consumer(const ConsumerSpec& spec, const Producer& producer);

  ConsumerId id() const { return spec_.id; }
  ProducerId producer() const { return spec_.producer; }
  TransportId transport() const { return spec_.transport; }
  const ConsumerSpec& spec() const { return spec_; }
  media::SimulcastForwarder& forwarder() { return forwarder_; }
  const media::SimulcastForwarder& forwarder() const { return forwarder_; }
  // Publisher extension ids → this subscriber's ids; MID/RID/RRID stripped.
  // The router adds the subscriber's MID on every packet, and send time and
  // transport-wide seq where the publisher's packet lacks them (it rewrites
  // their values in any case).
  const rtp::ExtensionIdMap& extension_map() const { return ext_map_; }
  // The subscriber-side payload type for a publisher payload type.
  uint8_t rtx_payload_type_for(uint8_t subscriber_pt) const;
  // The next RTX sequence number, and moving past it once a packet used it.
  uint16_t rtx_sequence() const { return rtx_seq_; }
  void advance_rtx_sequence() { ++rtx_seq_; }
  // A packet of this consumer's stream went out (first transmission, or a
  // resend on the media SSRC when it has no RTX): the SR statistics.
  // `in_timestamp`: the publisher's timestamp of the packet rewritten by `rw`.
  void on_sent(Instant now, const media::Rewrite& rw, uint32_t in_timestamp, size_t payload_size) {
    stats_.timestamp_offset = rw.timestamp - in_timestamp;
    stats_.last_sequence = rw.sequence;
    ++stats_.packets;
    stats_.octets += payload_size;
    stats_.last_rtp_timestamp = rw.timestamp;
    stats_.last_sent_at = now;
    stats_.sent_any = true;
  }
  // The sender of its subscriber's transport (the router sets it).
  TransportSender* sender() const { return sender_; }
  void set_sender(TransportSender* s) { sender_ = s; }

  bool paused() const { return paused_; }
  void set_paused(bool p);
  // Its transport is connected: until then nothing is forwarded, not even
  // the key frame that would open its epoch (it would be dropped unsent and
  // the subscriber would start on a delta frame).
  bool ready() const { return ready_; }
  void set_ready(bool r) { ready_ = r; }
  // The forwarder runs only while neither side paused it and it is ready.
  void update_forwarding(bool producer_paused) { forwarder_.set_paused(paused_ || producer_paused || !ready_); }
  // The subscriber-side MID (its m-section), written on every packet.
  Bytes mid() const { return Bytes(reinterpret_cast<const uint8_t*>(spec_.mid.data()), spec_.mid.size()); }
  // setPreferredLayers: the forwarder never goes above these.
  void set_preferred_layers(int spatial, int temporal) {
    spec_.preferred_spatial = spatial;
    spec_.preferred_temporal = temporal;
    forwarder_.set_preferred_layers(spatial, temporal);
  }
  media::MediaKind kind() const { return kind_; }
  ConsumerStats& stats() { return stats_; }
  const ConsumerStats& stats() const { return stats_; }

 private:
  ConsumerSpec spec_;
  media::MediaKind kind_;
  media::SimulcastForwarder forwarder_;
  rtp::ExtensionIdMap ext_map_{};
  uint16_t rtx_seq_;
  bool paused_;
  bool ready_ = false;
  TransportSender* sender_ = nullptr;
  ConsumerStats stats_;
};

// The forwarder configuration for a consumer of `producer`.
media::ForwarderConfig forwarder_config(const ConsumerSpec& spec, const Producer& producer);

}  // namespace sfu::server
