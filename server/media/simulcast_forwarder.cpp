#include "server/media/simulcast_forwarder.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "rtp/codecs/vp8.hpp"
#include "rtp/ntp.hpp"
#include "rtp/rtp_rewriter.hpp"
#include "rtp/sequence.hpp"

namespace sfu::server::media {

namespace {

constexpr uint8_t kHistoryValid = 1;
constexpr uint8_t kHistoryMarker = 2;
constexpr uint8_t kHistoryVp8 = 4;

// Serial order of 8-bit TL0PICIDX values: true when a comes after b.
bool tl0_newer(uint8_t a, uint8_t b) { return a != b && uint8_t(a - b) < 128; }

}  // namespace

std::string_view to_string(DropReason r) {
  switch (r) {
    case DropReason::not_target_layer:
      return "not_target_layer";
    case DropReason::paused:
      return "paused";
    case DropReason::waiting_for_keyframe:
      return "waiting_for_keyframe";
    case DropReason::temporal_filtered:
      return "temporal_filtered";
    case DropReason::duplicate:
      return "duplicate";
    case DropReason::stale:
      return "stale";
    case DropReason::unknown_payload_type:
      return "unknown_payload_type";
    case DropReason::bad_layer:
      return "bad_layer";
    case DropReason::count_:
      break;
  }
  return "unknown";
}

PacketMeta describe_vp8(Bytes payload, bool marker) {
  PacketMeta m;
  m.end_of_frame = marker;
  const auto d = rtp::codecs::parse_vp8(payload);
  if (!d.ok()) return m;
  m.has_vp8 = true;
  m.start_of_frame = d->start_of_partition && d->partition_index == 0;
  m.keyframe = rtp::codecs::vp8_frame_info(payload, *d).keyframe;
  m.temporal_id = d->has_tid ? int(d->tid) : -1;
  m.layer_sync = d->has_tid && d->layer_sync;
  m.vp8_has_picture_id = d->has_picture_id;
  m.vp8_picture_id_15bit = d->picture_id_15bit;
  m.vp8_picture_id = d->picture_id;
  m.vp8_has_tl0picidx = d->has_tl0picidx;
  m.vp8_tl0picidx = d->tl0picidx;
  return m;
}

SimulcastForwarder::SimulcastForwarder(const ForwarderConfig& config) : config_(config) {
  config_.spatial_layers = std::clamp(config_.spatial_layers, 1, kMaxSpatialLayers);
  config_.temporal_layers = std::clamp(config_.temporal_layers, 1, kMaxTemporalLayers);
  config_.payload_type_count = std::min(config_.payload_type_count, kMaxPayloadTypeMappings);
  if (config_.clock_rate == 0) config_.clock_rate = kVideoClockRate;
  preferred_ = {config_.spatial_layers - 1, config_.temporal_layers - 1};
  bandwidth_cap_ = preferred_;
  update_target();
}

// ---- layer selection -------------------------------------------------------------

void SimulcastForwarder::set_preferred_layers(int spatial, int temporal) {
  const int max_t = config_.temporal_layers - 1;
  preferred_ = {std::clamp(spatial, 0, config_.spatial_layers - 1), temporal < 0 ? max_t : std::min(temporal, max_t)};
  update_target();
}

void SimulcastForwarder::set_max_layers_by_bandwidth(int spatial, int temporal) {
  const int max_t = config_.temporal_layers - 1;
  if (spatial < 0) {
    bandwidth_cap_ = {-1, -1};
  } else {
    bandwidth_cap_ = {std::min(spatial, config_.spatial_layers - 1), temporal < 0 ? max_t : std::min(temporal, max_t)};
  }
  update_target();
}

// target = lexicographic min(preferred, bandwidth cap). A spatial change is
// carried out at the target's next key frame (on_packet); a temporal one at
// the next suitable frame (temporal_step); "none" stops at once.
void SimulcastForwarder::update_target() {
  Layers want = preferred_;
  const Layers& cap = bandwidth_cap_;
  if (cap.spatial < want.spatial || (cap.spatial == want.spatial && cap.temporal < want.temporal)) want = cap;
  if (want.spatial < 0) want = {-1, -1};
  if (want.spatial >= 0 && (config_.kind == MediaKind::audio || config_.temporal_layers == 1)) want.temporal = 0;
  target_ = want;
  if (target_.spatial < 0) {
    current_ = {-1, -1};
    stopped_since_.reset();
  }
  emit_if_changed();
}

void SimulcastForwarder::set_paused(bool paused) {
  paused_ = paused;
  if (paused_) current_ = {-1, -1};
  stopped_since_.reset();
  emit_if_changed();
}

void SimulcastForwarder::on_sender_report(int spatial_layer, uint64_t ntp, uint32_t rtp_ts) {
  if (spatial_layer < 0 || spatial_layer >= config_.spatial_layers) return;
  const size_t l = size_t(spatial_layer);
  sender_clock_[l] = {true, layer_ssrc_known_[l], layer_ssrc_[l], ntp, rtp_ts};
}

// ---- the packet path ---------------------------------------------------------------

ForwardDecision SimulcastForwarder::on_packet(Instant arrival, int spatial_layer, const rtp::RtpView& packet,
                                              const PacketMeta& meta) {
  if (spatial_layer < 0 || spatial_layer >= config_.spatial_layers) return drop(DropReason::bad_layer);
  note_source(spatial_layer, packet.ssrc());
  const ForwardDecision d = route(arrival, spatial_layer, packet, meta);
  emit_if_changed();
  return d;
}

ForwardDecision SimulcastForwarder::route(Instant arrival, int layer, const rtp::RtpView& packet,
                                          const PacketMeta& meta) {
  if (paused_) return drop(DropReason::paused);
  const std::optional<uint8_t> pt = map_payload_type(packet.payload_type());
  if (!pt) return drop(DropReason::unknown_payload_type);
  // STOPPED/SWITCHING -> FORWARDING: at a key frame start of the target
  // (audio needs none). Until then the current layer, if any, keeps going.
  // A STOPPED spell that has waited one request interval also starts on a
  // key frame below the target, and climbs from there (wanted_keyframes()).
  const bool starts = layer != current_.spatial && (meta.keyframe || !needs_keyframe()) &&
                      (layer == target_.spatial || (layer < target_.spatial && starts_below_target(arrival)));
  if (starts) begin_epoch(arrival, layer, packet, meta);
  if (layer != current_.spatial) {
    if (layer != target_.spatial) return drop(DropReason::not_target_layer);
    remember_early(packet, *pt);
    return drop(DropReason::waiting_for_keyframe);
  }
  const ForwardDecision d = forward_in_epoch(arrival, packet, meta, *pt);
  if (starts && d.forward) adopt_early(packet, d.rewrite);
  if (starts) early_count_ = early_next_ = 0;
  return d;
}

// Packets of the target layer dropped while waiting for its key frame. When
// the key frame's first packet arrives after some of its own later packets
// (reordering), those were dropped as "waiting"; adopt_early() gives them
// their output numbers after all, so the receiver NACKs them and
// lookup_for_nack() finds them, instead of a hole nobody can fill.
void SimulcastForwarder::remember_early(const rtp::RtpView& packet, uint8_t payload_type) {
  if (!needs_keyframe()) return;
  early_[early_next_] = {packet.timestamp(), packet.sequence(), payload_type, packet.marker(), int8_t(target_.spatial)};
  early_next_ = (early_next_ + 1) % kEarlyPackets;
  early_count_ = std::min(early_count_ + 1, kEarlyPackets);
}

void SimulcastForwarder::adopt_early(const rtp::RtpView& key, const Rewrite& key_rewrite) {
  for (size_t n = 0; n < early_count_; ++n) {  // ascending input order; at most kEarlyPackets passes
    const EarlyPacket* next = nullptr;
    for (size_t i = 0; i < early_count_; ++i) {
      const EarlyPacket& e = early_[i];
      const bool same_frame = e.layer == epoch_layer_ && e.timestamp == key.timestamp();
      if (!same_frame || seq_.locate(e.sequence).order != SerialOrder::newest) continue;  // not after the key, or done
      if (!next || rtp::seq_newer(next->sequence, e.sequence)) next = &e;
    }
    if (!next) break;
    Rewrite rw = key_rewrite;  // same frame: same timestamp, PictureID, TL0PICIDX
    rw.payload_type = next->payload_type;
    rw.marker = next->marker;
    const uint16_t previous_last = uint16_t(seq_.last_out());
    rw.sequence = uint16_t(seq_.forward(seq_.locate(next->sequence)));
    forget_history(uint16_t(previous_last + 1), rw.sequence);
    record(next->sequence, rw);
    newest_end_of_frame_ = next->marker;
    frame_open_ = !next->marker;
    ++stats_.adopted_early;
  }
}

// A layer whose SSRC changes is a new source (producer replaced, encoder
// restarted): its numbering and clock are unrelated to the old one, so the
// epoch on it ends and its sender report is forgotten; video then waits for
// a key frame of the new source.
void SimulcastForwarder::note_source(int layer, uint32_t ssrc) {
  const size_t l = size_t(layer);
  if (layer_ssrc_known_[l] && layer_ssrc_[l] == ssrc) return;
  SenderClock& clock = sender_clock_[l];
  if (layer_ssrc_known_[l]) {
    clock = {};
    if (layer == current_.spatial) {
      current_ = {-1, -1};
      stopped_since_.reset();
    }
  } else if (clock.valid && !clock.ssrc_known) {
    clock.ssrc_known = true;
    clock.ssrc = ssrc;
  }
  layer_ssrc_known_[l] = true;
  layer_ssrc_[l] = ssrc;
}

std::optional<uint8_t> SimulcastForwarder::map_payload_type(uint8_t pt) const {
  if (config_.payload_type_count == 0) return pt;
  for (size_t i = 0; i < config_.payload_type_count; ++i) {
    if (config_.payload_types[i].incoming == pt) return config_.payload_types[i].outgoing;
  }
  return std::nullopt;
}

void SimulcastForwarder::begin_epoch(Instant arrival, int layer, const rtp::RtpView& packet, const PacketMeta& meta) {
  const uint32_t first_ts = aligned_timestamp(arrival, layer, packet.timestamp());
  if (current_.spatial >= 0 && frame_open_) ++stats_.truncated_frames;
  ts_offset_ = first_ts - packet.timestamp();
  epoch_layer_ = layer;
  epoch_ssrc_ = packet.ssrc();
  seq_.begin(16);
  picture_ids_.begin(meta.vp8_has_picture_id && !meta.vp8_picture_id_15bit ? 7 : 15);
  tl0_started_ = false;
  frame_known_ = false;
  newest_dropped_ = false;
  frame_open_ = false;
  frames_.fill({});
  current_ = {layer, target_.temporal};
  stopped_since_.reset();
  ++stats_.epochs;
}

// The output timestamp of an epoch's first packet. Layers have unrelated
// RTP bases, so the old epoch's offset means nothing for the new layer:
//  1. With a sender report of both the previous epoch's source and this
//     one (RFC 3550 §6.4.1: NTP and RTP time of the same instant), map the
//     packet onto the previous source's clock and apply its offset: the
//     same capture instant keeps the same output time.
//  2. Otherwise (or when 1 disagrees with arrival time by more than a
//     second: a stale or bogus report) continue from the last output
//     timestamp by the arrival time elapsed since it, in clock ticks.
// Either way the result is at least last + 1, so frames of the old and new
// layer never share a timestamp and the output never runs backwards.
uint32_t SimulcastForwarder::aligned_timestamp(Instant arrival, int layer, uint32_t in_ts) const {
  if (!has_output_) return in_ts;
  const int64_t us = std::chrono::duration_cast<microseconds>(arrival - last_out_arrival_).count();
  const int64_t ticks = std::max<int64_t>(1, us * int64_t(config_.clock_rate) / 1'000'000);
  uint32_t out = last_out_ts_ + uint32_t(ticks);
  if (const auto sr = sender_report_timestamp(layer, in_ts)) {
    if (std::abs(rtp::timestamp_diff(*sr, out)) <= int64_t(config_.clock_rate)) out = *sr;
  }
  if (rtp::timestamp_diff(out, last_out_ts_) < 1) out = last_out_ts_ + 1;
  return out;
}

std::optional<uint32_t> SimulcastForwarder::sender_report_timestamp(int layer, uint32_t in_ts) const {
  if (epoch_layer_ < 0) return std::nullopt;
  const SenderClock& old_clock = sender_clock_[size_t(epoch_layer_)];
  const SenderClock& new_clock = sender_clock_[size_t(layer)];
  if (!old_clock.valid || !new_clock.valid || !old_clock.ssrc_known || !new_clock.ssrc_known) return std::nullopt;
  if (old_clock.ssrc != epoch_ssrc_ || new_clock.ssrc != layer_ssrc_[size_t(layer)]) return std::nullopt;
  // The old source's RTP clock at the instant of the new source's report.
  const int64_t ticks = rtp::ntp_delta_to_ticks(int64_t(new_clock.ntp - old_clock.ntp), config_.clock_rate);
  const uint32_t old_at_new_report = old_clock.rtp_ts + uint32_t(ticks);
  const uint32_t on_old_clock = in_ts - new_clock.rtp_ts + old_at_new_report;
  return on_old_clock + ts_offset_;
}

ForwardDecision SimulcastForwarder::forward_in_epoch(Instant arrival, const rtp::RtpView& packet,
                                                     const PacketMeta& meta, uint8_t payload_type) {
  const SerialPosition pos = seq_.locate(packet.sequence());
  if (pos.order == SerialOrder::duplicate) return drop(DropReason::duplicate);
  if (pos.order == SerialOrder::stale) return drop(DropReason::stale);
  const bool newest = pos.order != SerialOrder::late;
  const bool forward = decide_frame(packet.timestamp(), meta, newest) && !pos.removed;
  const bool absorb =
      pos.order == SerialOrder::newest && pos.gap > 0 && gap_in_dropped_frames(packet.timestamp(), meta, !forward);
  if (!forward) return drop_in_epoch(pos, packet, meta, absorb);

  Rewrite rw;
  rw.ssrc = config_.ssrc;
  rw.payload_type = payload_type;
  rw.marker = packet.marker();
  rw.timestamp = packet.timestamp() + ts_offset_;
  const bool had_out = seq_.has_out();
  const uint16_t previous_last = uint16_t(seq_.last_out());
  rw.sequence = uint16_t(seq_.forward(pos, absorb));
  if (newest && had_out) forget_history(uint16_t(previous_last + 1), rw.sequence);
  rewrite_vp8_fields(meta, rw);
  if (newest) {
    note_newest(packet.timestamp(), false, meta);
    if (!has_output_ || rtp::timestamp_diff(rw.timestamp, last_out_ts_) >= 0) {
      last_out_ts_ = rw.timestamp;
      last_out_arrival_ = arrival;
    }
    has_output_ = true;
  }
  record(packet.sequence(), rw);
  ++stats_.forwarded;
  return {true, DropReason::not_target_layer, rw};
}

// A filtered packet. As the newest it takes its sequence number (and, with
// `absorb`, the gap before it) out of the output; late, it leaves the gap
// already reserved for it.
ForwardDecision SimulcastForwarder::drop_in_epoch(const SerialPosition& pos, const rtp::RtpView& packet,
                                                  const PacketMeta& meta, bool absorb) {
  seq_.drop(pos, absorb);
  if (config_.codec == Codec::vp8 && meta.has_vp8 && meta.vp8_has_picture_id) {
    picture_ids_.drop(picture_ids_.locate(meta.vp8_picture_id), false);
  }
  if (pos.order != SerialOrder::late) note_newest(packet.timestamp(), true, meta);
  return drop(DropReason::temporal_filtered);
}

// Whether the input numbers missing between the newest packet X and this
// packet Y can only belong to dropped frames, so that removing them from the
// output creates no hole for the receiver to NACK in vain. The missing
// packets are X's frame's tail (unless X ended its frame) and Y's frame's
// head (unless Y starts it); no whole frame may lie between (same frame, or
// VP8 PictureIDs adjacent). When either side is forwarded, or we cannot
// tell, the gap is kept: it is then a real loss in a forwarded frame.
bool SimulcastForwarder::gap_in_dropped_frames(uint32_t ts, const PacketMeta& meta, bool dropped) const {
  if (!frame_known_) return false;
  if (ts == newest_ts_) return dropped && newest_dropped_;
  const bool adjacent = meta.has_vp8 && meta.vp8_has_picture_id && newest_has_picture_id_ &&
                        ((newest_picture_id_ + 1u) & picture_ids_.mask()) == meta.vp8_picture_id;
  if (!adjacent) return false;
  const bool tail_dropped = newest_end_of_frame_ || newest_dropped_;
  const bool head_dropped = meta.start_of_frame || dropped;
  return tail_dropped && head_dropped && !(newest_end_of_frame_ && meta.start_of_frame);
}

// Forward or drop, once per frame: the first packet of a new frame (newest
// sequence number, new timestamp) decides and may move the temporal layer;
// later and late packets of a remembered frame repeat that decision.
bool SimulcastForwarder::decide_frame(uint32_t ts, const PacketMeta& meta, bool newest) {
  const bool filtering = config_.kind == MediaKind::video && config_.temporal_layers > 1;
  const bool new_frame = newest && (!frame_known_ || ts != newest_ts_);
  if (!filtering || meta.temporal_id < 0) {
    if (new_frame && filtering) current_.temporal = target_.temporal;  // nothing to filter on
    return true;
  }
  if (new_frame) {
    const bool forward = temporal_step(meta);
    remember_frame(ts, forward);
    return forward;
  }
  for (const FrameEntry& f : frames_) {
    if (f.used && f.timestamp == ts) return f.forward;
  }
  const bool forward = meta.temporal_id <= current_.temporal;  // a late frame never seen: no switching
  remember_frame(ts, forward);
  return forward;
}

// Moves the current temporal layer at a frame boundary; true when the frame
// is forwarded. Up-switch one layer at a time, at a layer-sync frame of
// exactly that layer: it references only TL0, which we forward.
bool SimulcastForwarder::temporal_step(const PacketMeta& meta) {
  const int tid = meta.temporal_id;
  int cur = current_.temporal;
  if (meta.keyframe) {
    cur = target_.temporal;
  } else if (target_.temporal < cur) {
    cur = target_.temporal;
  } else if (tid == cur + 1 && tid <= target_.temporal && meta.layer_sync) {
    cur = tid;
  }
  current_.temporal = cur;
  return tid <= cur;
}

void SimulcastForwarder::remember_frame(uint32_t ts, bool forward) {
  frames_[frame_next_] = {ts, true, forward};
  frame_next_ = (frame_next_ + 1) % kFrameRing;
}

void SimulcastForwarder::note_newest(uint32_t ts, bool dropped, const PacketMeta& meta) {
  frame_known_ = true;
  newest_ts_ = ts;
  newest_dropped_ = dropped;
  newest_end_of_frame_ = meta.end_of_frame;
  newest_has_picture_id_ = meta.has_vp8 && meta.vp8_has_picture_id;
  newest_picture_id_ = meta.vp8_picture_id;
  if (!dropped) frame_open_ = !meta.end_of_frame;
}

// PictureID: renumbered per frame like sequence numbers per packet (dropped
// frames leave no gap, +1 across a switch). TL0PICIDX: offset per epoch so
// the first TL0 frame continues at last + 1; TL0 frames are never filtered,
// so no renumbering is needed within an epoch.
void SimulcastForwarder::rewrite_vp8_fields(const PacketMeta& meta, Rewrite& rw) {
  if (config_.codec != Codec::vp8 || !meta.has_vp8) return;
  if (meta.vp8_has_picture_id) {
    const SerialPosition p = picture_ids_.locate(meta.vp8_picture_id);
    uint32_t out = 0;
    if (p.order == SerialOrder::duplicate) {
      out = picture_ids_.out_of(p.ext).value_or(picture_ids_.approximate_out(meta.vp8_picture_id));
    } else if (p.order == SerialOrder::stale || p.removed) {
      out = picture_ids_.approximate_out(meta.vp8_picture_id);
    } else {
      out = picture_ids_.forward(p);
    }
    rw.vp8_picture_id = uint16_t(out);
    rw.apply_vp8 = true;
  }
  if (meta.vp8_has_tl0picidx) {
    const uint8_t in = meta.vp8_tl0picidx;
    if (!tl0_started_) {
      tl0_offset_ = has_tl0_out_ ? uint8_t(last_out_tl0_ + 1 - in) : 0;
      tl0_started_ = true;
    }
    const uint8_t out = uint8_t(in + tl0_offset_);
    if (!has_tl0_out_ || tl0_newer(out, last_out_tl0_)) last_out_tl0_ = out;
    has_tl0_out_ = true;
    rw.vp8_tl0picidx = out;
    rw.apply_vp8 = true;
  }
}

bool SimulcastForwarder::apply(MutBytes packet, const rtp::RtpView& view, const Rewrite& rewrite) {
  if (view.packet().size() != packet.size()) return false;
  // parse_rtp accepted these bytes (or an identical copy), so the fixed header is there.
  rtp::set_ssrc(packet, rewrite.ssrc);
  rtp::set_sequence(packet, rewrite.sequence);
  rtp::set_timestamp(packet, rewrite.timestamp);
  rtp::set_payload_type(packet, rewrite.payload_type);
  rtp::set_marker(packet, rewrite.marker);
  return apply_to_payload(packet.subspan(view.header_size(), view.payload().size()), rewrite);
}

bool SimulcastForwarder::apply_to_payload(MutBytes payload, const Rewrite& rewrite) {
  if (!rewrite.apply_vp8) return true;
  // The descriptor is read from the copy itself: rewrite_vp8 checks it
  // against what it parsed, so a view of some other bytes cannot corrupt it.
  const auto d = rtp::codecs::parse_vp8(payload);
  if (!d.ok()) return false;
  return rtp::codecs::rewrite_vp8(payload, *d, rewrite.vp8_picture_id, rewrite.vp8_tl0picidx);
}

// ---- NACK translation --------------------------------------------------------------

void SimulcastForwarder::record(uint16_t in_seq, const Rewrite& rw) {
  HistoryEntry& e = history_[rw.sequence % kForwardHistorySize];
  e.timestamp = rw.timestamp;
  e.out_seq = rw.sequence;
  e.in_seq = in_seq;
  e.picture_id = rw.vp8_picture_id;
  e.tl0picidx = rw.vp8_tl0picidx;
  e.payload_type = rw.payload_type;
  e.layer = int8_t(epoch_layer_);
  e.flags = uint8_t(kHistoryValid | (rw.marker ? kHistoryMarker : 0) | (rw.apply_vp8 ? kHistoryVp8 : 0));
}

// Output numbers [from, to) were skipped (input loss): whatever an older lap
// left in their history slots must not answer a NACK for them.
void SimulcastForwarder::forget_history(uint16_t from, uint16_t to) {
  for (size_t n = 0; from != to && n < kForwardHistorySize; ++n, ++from) {
    history_[from % kForwardHistorySize].flags = 0;
  }
}

std::optional<RetransmitInfo> SimulcastForwarder::lookup_for_nack(uint16_t out_seq) const {
  if (!seq_.has_out()) return std::nullopt;
  const int32_t age = rtp::seq_diff(uint16_t(seq_.last_out()), out_seq);
  if (age < 0 || age >= int32_t(kForwardHistorySize)) return std::nullopt;
  const HistoryEntry& e = history_[out_seq % kForwardHistorySize];
  if ((e.flags & kHistoryValid) == 0 || e.out_seq != out_seq) return std::nullopt;
  RetransmitInfo info;
  info.spatial_layer = e.layer;
  info.sequence = e.in_seq;
  info.rewrite = {config_.ssrc,
                  out_seq,
                  e.timestamp,
                  e.payload_type,
                  (e.flags & kHistoryMarker) != 0,
                  (e.flags & kHistoryVp8) != 0,
                  e.picture_id,
                  e.tl0picidx};
  return info;
}

// ---- key-frame requests and events -------------------------------------------------

bool SimulcastForwarder::wants_keyframe() const {
  return needs_keyframe() && !paused_ && target_.spatial >= 0 && current_.spatial != target_.spatial;
}

// The key frames wanted: the target layer's and, once a STOPPED spell has
// waited one request interval for it, the base layer's too, and route()
// then starts on a key frame of any layer below the target and climbs from
// there. A publisher that stopped sending its top layer for lack of
// bandwidth or CPU ignores requests for that layer (Chrome does), and the
// allocator sees the layer idle only seconds later: the subscriber would see
// nothing until then. Not at once: usually the target's key frame comes
// within a frame or two, and starting below it would cost a second key
// frame and a switch. {layer, earliest time}; layer -1: none.
std::array<std::pair<int, Instant>, 2> SimulcastForwarder::wanted_keyframes() const {
  std::array<std::pair<int, Instant>, 2> wanted{{{-1, Instant{}}, {-1, Instant{}}}};
  if (!wants_keyframe()) return wanted;
  const auto earliest = [&](int layer, Instant not_before) {
    const std::optional<Instant>& last = last_keyframe_request_[size_t(layer)];
    return std::pair<int, Instant>{layer, last ? std::max(not_before, *last + kKeyframeRequestInterval) : not_before};
  };
  wanted[0] = earliest(target_.spatial, Instant{});
  if (current_.spatial < 0 && target_.spatial > 0 && stopped_since_)
    wanted[1] = earliest(0, *stopped_since_ + kKeyframeRequestInterval);
  return wanted;
}

bool SimulcastForwarder::starts_below_target(Instant now) const {
  return current_.spatial < 0 && target_.spatial > 0 && stopped_since_ && now - *stopped_since_ >= kKeyframeRequestInterval;
}

std::optional<int> SimulcastForwarder::poll_keyframe_request(Instant now) {
  if (wants_keyframe() && current_.spatial < 0 && !stopped_since_) stopped_since_ = now;
  for (const auto& [layer, at] : wanted_keyframes()) {
    if (layer < 0 || now < at) continue;
    last_keyframe_request_[size_t(layer)] = now;
    ++stats_.keyframe_requests;
    return layer;
  }
  return std::nullopt;
}

std::optional<Instant> SimulcastForwarder::poll_timeout() const {
  std::optional<Instant> due;
  for (const auto& [layer, at] : wanted_keyframes())
    if (layer >= 0 && (!due || at < *due)) due = at;
  return due;
}

std::optional<LayersChanged> SimulcastForwarder::poll_event() {
  if (event_count_ == 0) return std::nullopt;
  const LayersChanged e = events_[event_head_];
  event_head_ = (event_head_ + 1) % kEventQueue;
  --event_count_;
  return e;
}

void SimulcastForwarder::emit_if_changed() {
  if (current_ == reported_) return;
  reported_ = current_;
  if (event_count_ == kEventQueue) {  // full: the oldest state is superseded anyway
    event_head_ = (event_head_ + 1) % kEventQueue;
    --event_count_;
  }
  events_[(event_head_ + event_count_) % kEventQueue] = {current_.spatial, current_.temporal};
  ++event_count_;
}

ForwardDecision SimulcastForwarder::drop(DropReason r) {
  ++stats_.dropped[size_t(r)];
  return {false, r, {}};
}

}  // namespace sfu::server::media
