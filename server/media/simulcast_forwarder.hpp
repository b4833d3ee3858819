// SimulcastForwarder: layer selection and stream rewriting for ONE consumer
// (one subscriber receiving one producer). Sans-IO: packets, sender reports
// and the time come in as arguments; decisions, rewrites, key-frame requests
// and layer events go out through return values and poll_*(). Nothing here
// allocates, locks or logs per packet.
//
// The producer publishes up to three spatial layers (simulcast encodings,
// each with its own SSRC, sequence space and RTP timestamp base), each with
// up to four temporal layers. The subscriber receives ONE stream: one stable
// SSRC, contiguous sequence numbers, continuous timestamps and (VP8)
// continuous PictureID / TL0PICIDX, whatever layers are switched underneath.
//
// Target layers: the lexicographic minimum of the subscriber's preferred
// (spatial, temporal) and what the bandwidth allocator allows.
//
// Spatial state machine (per consumer):
//
//                  set_paused(true) / target spatial -1 / source restart
//          +--------------------------------------------------------------+
//          v                                                              |
//   +-------------+  key frame start on the target     +----------------+ |
//   |   STOPPED   |  layer; after 500 ms on any below  |   FORWARDING   |-+
//   | current -1  |  it (then climbs as a switch).     |  current = c   |
//   | drops all,  |  Audio: any packet of the layer.   | forwards layer |<-+
//   | PLI target, | ---------------------------------> | c only         |  |
//   | 500 ms: base|                                    |                |  |
//   +-------------+                                    +----------------+  |
//                                                 target spatial != c |    |
//                                                                     v    |
//                                                      +----------------+  |
//                                                      |   SWITCHING    |  |
//                                                      | forwards c,    |--+
//                                                      | PLIs target,   | key frame start
//                                                      | waits for its  | on target layer
//                                                      | key frame      | (or target back to c)
//                                                      +----------------+
//
// Every entry into FORWARDING opens an epoch: new sequence / timestamp /
// PictureID / TL0PICIDX offsets so the first packet continues the output
// exactly (see serial_mapper.hpp for the sequence rule, aligned_timestamp()
// in the .cpp for the timestamp rule).
//
// Temporal layers (within FORWARDING, decided once per frame at its first
// packet so a frame is never cut): a key frame jumps to the target temporal
// layer; a lower target applies at the next frame; a higher one is climbed
// one layer at a time, at a frame of exactly that layer with the layer-sync
// bit (VP8 Y), because only such a frame is decodable without the frames
// of that layer we did not forward. While SWITCHING, the layer still being
// forwarded already follows the target's temporal layer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "rtp/rtp_packet.hpp"
#include "server/media/media_types.hpp"
#include "server/media/serial_mapper.hpp"

namespace sfu::server::media {

inline constexpr int kMaxSpatialLayers = 3;
inline constexpr int kMaxTemporalLayers = 4;
inline constexpr size_t kMaxPayloadTypeMappings = 8;
// Forwarded packets remembered for NACK translation (out seq -> source).
inline constexpr size_t kForwardHistorySize = 1024;
// At most one key-frame request per layer per this interval.
inline constexpr Duration kKeyframeRequestInterval = milliseconds(500);

struct PayloadTypeMapping {
  uint8_t incoming = 0;
  uint8_t outgoing = 0;
};

struct ForwarderConfig {
  MediaKind kind = MediaKind::video;
  Codec codec = Codec::vp8;
  int spatial_layers = 1;   // 1..3; 1 = plain stream (still rewritten for seamless pause/producer change)
  int temporal_layers = 1;  // 1..4; 1 = no temporal filtering
  uint32_t ssrc = 0;        // the consumer's outgoing SSRC
  // Incoming payload type -> outgoing. With count 0 payload types pass
  // through unchanged; otherwise an unmapped payload type is dropped.
  std::array<PayloadTypeMapping, kMaxPayloadTypeMappings> payload_types{};
  size_t payload_type_count = 0;
  uint32_t clock_rate = kVideoClockRate;
};

// What the receive path already knows about one packet.
struct PacketMeta {
  bool keyframe = false;        // first packet of a key frame
  int temporal_id = -1;         // -1: unknown (never filtered)
  bool layer_sync = false;      // VP8 Y / VP9 U: decodable from TL0 alone
  bool end_of_frame = false;    // marker bit: last packet of its frame
  bool start_of_frame = false;  // first packet of its frame (VP8: S=1, PID=0); false = unknown
  bool has_vp8 = false;         // a VP8 payload descriptor was parsed
  bool vp8_has_picture_id = false;
  bool vp8_picture_id_15bit = false;
  uint16_t vp8_picture_id = 0;
  bool vp8_has_tl0picidx = false;
  uint8_t vp8_tl0picidx = 0;
};

// PacketMeta of a VP8 packet from its RTP payload (padding removed) and
// marker bit; a payload that does not parse gives has_vp8 = false.
PacketMeta describe_vp8(Bytes payload, bool marker);

// The header fields a forwarded packet gets. Reproducible: the same packet
// retransmitted later gets the very same values (lookup_for_nack).
struct Rewrite {
  uint32_t ssrc = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint8_t payload_type = 0;
  bool marker = false;
  bool apply_vp8 = false;  // rewrite the VP8 PictureID / TL0PICIDX below
  uint16_t vp8_picture_id = 0;
  uint8_t vp8_tl0picidx = 0;

  friend bool operator==(const Rewrite&, const Rewrite&) = default;
};

enum class DropReason : uint8_t {
  not_target_layer,      // another layer than the one forwarded (or target is none)
  paused,                // consumer or producer paused
  waiting_for_keyframe,  // target layer, but no key frame yet to start on
  temporal_filtered,     // temporal layer above the current one
  duplicate,             // this input sequence number was already handled
  stale,                 // older than the current epoch or the reorder window
  unknown_payload_type,  // not in the payload type table
  bad_layer,             // spatial layer index outside the configured count
  count_,                // number of reasons; keep last
};

std::string_view to_string(DropReason r);

struct ForwardDecision {
  bool forward = false;
  DropReason reason = DropReason::not_target_layer;  // when !forward
  Rewrite rewrite;                                   // when forward
};

struct Layers {
  int spatial = -1;
  int temporal = -1;
  friend bool operator==(const Layers&, const Layers&) = default;
};

// consumerLayersChanged: the forwarded layers changed ({-1, -1}: none).
struct LayersChanged {
  int spatial = -1;
  int temporal = -1;
  friend bool operator==(const LayersChanged&, const LayersChanged&) = default;
};

// How to answer a subscriber's NACK: fetch `sequence` of `spatial_layer`
// from the producer's retransmission buffer and apply `rewrite` to a copy.
struct RetransmitInfo {
  int spatial_layer = 0;
  uint16_t sequence = 0;
  Rewrite rewrite;
};

struct ForwarderStats {
  uint64_t forwarded = 0;
  std::array<uint64_t, size_t(DropReason::count_)> dropped{};
  uint64_t keyframe_requests = 0;
  uint64_t epochs = 0;            // starts, switches, resumes, restarts
  uint64_t truncated_frames = 0;  // a switch left a forwarded frame unfinished
  uint64_t adopted_early = 0;     // key-frame packets that overtook its start, numbered for NACK
};

class SimulcastForwarder {
 public:
  // Layer counts are clamped to 1..3 / 1..4, a zero clock rate becomes
  // 90 kHz. Starts with preferred = bandwidth cap = the highest layers,
  // STOPPED; the first key frame of the target layer starts forwarding.
  explicit SimulcastForwarder(const ForwarderConfig& config);

  // From setPreferredLayers: spatial clamped to the layer count, temporal -1
  // (or beyond the count) = highest. Takes effect as described above.
  void set_preferred_layers(int spatial, int temporal);

  // From the bandwidth allocator: the highest layers the subscriber's
  // estimate allows. spatial -1 = nothing fits (forwarding stops at once);
  // temporal -1 = highest.
  void set_max_layers_by_bandwidth(int spatial, int temporal);

  // Pause/resume of the consumer or its producer. Pausing stops at once
  // ({-1,-1} event); resuming waits for a key frame (video) and continues
  // the output sequence and timeline seamlessly.
  void set_paused(bool paused);

  // A sender report of `spatial_layer`: `ntp` (RFC 3550 §4, 32.32 fixed
  // point) is the same wall-clock instant as RTP timestamp `rtp_ts`. Used
  // to align the timeline when switching between layers; the latest report
  // per layer is kept. Call from the RTCP path, any time.
  void on_sender_report(int spatial_layer, uint64_t ntp, uint32_t rtp_ts);

  // Decides one incoming RTP packet of `spatial_layer` that arrived at
  // `arrival`. `packet` is only read; on forward, apply rewrite to a copy.
  // The output numbering (exact rules in serial_mapper.hpp):
  //   out_seq = in_seq + seq_offset, per epoch; an epoch starts at last_out_seq
  //     + 1; every filtered packet lowers the offset by one (no hole); an
  //     input gap stays a gap (the subscriber NACKs it; a late packet fills
  //     it) unless it provably belongs to filtered frames; a packet older
  //     than the epoch's first is dropped as stale, a repeat as duplicate.
  //   out_ts = in_ts + ts_offset, per epoch (aligned_timestamp in the .cpp).
  //   VP8 PictureID: the same rule per frame in its 15- or 7-bit space;
  //   TL0PICIDX: + tl0_offset per epoch, continuing at last + 1.
  ForwardDecision on_packet(Instant arrival, int spatial_layer, const rtp::RtpView& packet, const PacketMeta& meta);

  // Rewrites `packet` in place: SSRC, sequence, timestamp, payload type,
  // marker and (apply_vp8) the VP8 PictureID / TL0PICIDX. `view` is
  // parse_rtp of `packet` or of the packet it was copied from (same bytes,
  // so each subscriber's copy needs no second parse). Returns false (header
  // possibly rewritten, VP8 not) when the sizes differ or the VP8 descriptor
  // does not parse. Header extension ids are remapped separately
  // (rtp::remap_extension_ids).
  static bool apply(MutBytes packet, const rtp::RtpView& view, const Rewrite& rewrite);
  // The payload part of apply(): the VP8 PictureID / TL0PICIDX of a copy's
  // payload (without padding), when rewrite.apply_vp8. False when the
  // descriptor does not parse or has no such field to rewrite.
  static bool apply_to_payload(MutBytes payload, const Rewrite& rewrite);

  // The layer to send a PLI for, when one is due: while the target layer
  // is not being forwarded (start, switch, resume), at most once per layer
  // per kKeyframeRequestInterval; once nothing has been forwarded (start,
  // resume) for one such interval, the base layer's as well, as its key
  // frame starts forwarding too. Call until nullopt when poll_timeout() has
  // passed, or after any input.
  std::optional<int> poll_keyframe_request(Instant now);

  // When poll_keyframe_request may next return a layer; nullopt when no
  // key frame is wanted. A time in the past means "now".
  std::optional<Instant> poll_timeout() const;

  // The next consumerLayersChanged event, oldest first (queue of 8; the
  // oldest is dropped on overflow, the latest state is never lost).
  std::optional<LayersChanged> poll_event();

  // Translates a subscriber NACK for `out_seq` into the source packet and
  // its original rewrite; nullopt when that number was never forwarded or
  // is older than the last kForwardHistorySize output numbers.
  std::optional<RetransmitInfo> lookup_for_nack(uint16_t out_seq) const;

  // The layers being forwarded now ({-1, -1}: none), as last reported by
  // a LayersChanged event once poll_event() has drained the queue.
  Layers current_layers() const { return current_; }
  // The layers selection aims for: min(preferred, bandwidth cap).
  Layers target_layers() const { return target_; }
  bool paused() const { return paused_; }
  // Counters for metrics; never reset.
  const ForwarderStats& stats() const { return stats_; }

 private:
  struct SenderClock {
    bool valid = false;
    bool ssrc_known = false;  // a report received before the layer's first packet learns it then
    uint32_t ssrc = 0;        // the layer's input SSRC the report belongs to
    uint64_t ntp = 0;
    uint32_t rtp_ts = 0;
  };
  struct FrameEntry {
    uint32_t timestamp = 0;
    bool used = false;
    bool forward = false;
  };
  struct HistoryEntry {
    uint32_t timestamp = 0;
    uint16_t out_seq = 0;
    uint16_t in_seq = 0;
    uint16_t picture_id = 0;
    uint8_t tl0picidx = 0;
    uint8_t payload_type = 0;
    int8_t layer = -1;
    uint8_t flags = 0;  // kHistory* bits
  };
  struct EarlyPacket {
    uint32_t timestamp = 0;
    uint16_t sequence = 0;
    uint8_t payload_type = 0;
    bool marker = false;
    int8_t layer = -1;
  };
  static constexpr size_t kFrameRing = 16;
  static constexpr size_t kEarlyPackets = 8;
  static constexpr size_t kEventQueue = 8;
  static constexpr int64_t kMaxMisorder = 1500;

  void update_target();
  bool needs_keyframe() const { return config_.kind == MediaKind::video; }
  bool wants_keyframe() const;
  std::array<std::pair<int, Instant>, 2> wanted_keyframes() const;
  bool starts_below_target(Instant now) const;
  void note_source(int layer, uint32_t ssrc);
  std::optional<uint8_t> map_payload_type(uint8_t pt) const;
  void begin_epoch(Instant arrival, int layer, const rtp::RtpView& packet, const PacketMeta& meta);
  uint32_t aligned_timestamp(Instant arrival, int layer, uint32_t in_ts) const;
  std::optional<uint32_t> sender_report_timestamp(int layer, uint32_t in_ts) const;
  ForwardDecision forward_in_epoch(Instant arrival, const rtp::RtpView& packet, const PacketMeta& meta,
                                   uint8_t payload_type);
  ForwardDecision drop_in_epoch(const SerialPosition& pos, const rtp::RtpView& packet, const PacketMeta& meta,
                                bool absorb);
  bool gap_in_dropped_frames(uint32_t ts, const PacketMeta& meta, bool dropped) const;
  bool decide_frame(uint32_t ts, const PacketMeta& meta, bool newest);
  bool temporal_step(const PacketMeta& meta);
  void remember_frame(uint32_t ts, bool forward);
  void rewrite_vp8_fields(const PacketMeta& meta, Rewrite& rw);
  void note_newest(uint32_t ts, bool dropped, const PacketMeta& meta);
  void record(uint16_t in_seq, const Rewrite& rw);
  void remember_early(const rtp::RtpView& packet, uint8_t payload_type);
  void adopt_early(const rtp::RtpView& key, const Rewrite& key_rewrite);
  void forget_history(uint16_t from, uint16_t to);
  ForwardDecision route(Instant arrival, int layer, const rtp::RtpView& packet, const PacketMeta& meta);
  ForwardDecision drop(DropReason r);
  void emit_if_changed();

  ForwarderConfig config_;
  Layers preferred_;
  Layers bandwidth_cap_;
  Layers target_;
  Layers current_;
  Layers reported_;
  bool paused_ = false;

  std::array<std::optional<Instant>, kMaxSpatialLayers> last_keyframe_request_{};
  std::optional<Instant> stopped_since_;  // first key-frame request of this STOPPED spell
  std::array<uint32_t, kMaxSpatialLayers> layer_ssrc_{};
  std::array<bool, kMaxSpatialLayers> layer_ssrc_known_{};
  std::array<SenderClock, kMaxSpatialLayers> sender_clock_{};

  // The current epoch (valid while current_.spatial >= 0) and the output
  // continuity that survives epochs.
  int epoch_layer_ = -1;     // layer of the latest epoch, kept after it ends
  uint32_t epoch_ssrc_ = 0;  // its input SSRC
  uint32_t ts_offset_ = 0;
  SerialMapper<512> seq_{kMaxMisorder};
  SerialMapper<64> picture_ids_;
  bool tl0_started_ = false;
  uint8_t tl0_offset_ = 0;
  bool has_tl0_out_ = false;
  uint8_t last_out_tl0_ = 0;
  bool frame_known_ = false;  // newest_ts_ holds the newest frame of the epoch
  uint32_t newest_ts_ = 0;
  bool newest_dropped_ = false;
  bool newest_end_of_frame_ = false;
  bool newest_has_picture_id_ = false;
  uint16_t newest_picture_id_ = 0;
  bool frame_open_ = false;  // the newest forwarded frame has not ended yet
  std::array<FrameEntry, kFrameRing> frames_{};
  size_t frame_next_ = 0;
  bool has_output_ = false;
  uint32_t last_out_ts_ = 0;
  Instant last_out_arrival_{};

  std::array<EarlyPacket, kEarlyPackets> early_{};
  size_t early_next_ = 0;
  size_t early_count_ = 0;

  std::array<HistoryEntry, kForwardHistorySize> history_{};
  std::array<LayersChanged, kEventQueue> events_{};
  size_t event_head_ = 0;
  size_t event_count_ = 0;
  ForwarderStats stats_;
};

}  // namespace sfu::server::media
