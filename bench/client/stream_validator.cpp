#include "bench/client/stream_validator.hpp"

#include <algorithm>
#include <bit>

#include "bench/client/payload_probe.hpp"
#include "rtp/rtp_packet.hpp"
#include "rtp/sequence.hpp"

namespace sfu::client {

namespace {

std::string seq_text(uint16_t seq) { return "seq " + std::to_string(seq) + ": "; }

}  // namespace

std::string_view to_string(Violation v) {
  switch (v) {
    case Violation::ssrc_changed:
      return "ssrc_changed";
    case Violation::duplicate:
      return "duplicate";
    case Violation::unrepaired_gap:
      return "unrepaired_gap";
    case Violation::gap_overflow:
      return "gap_overflow";
    case Violation::timestamp_backwards:
      return "timestamp_backwards";
    case Violation::timestamp_in_frame:
      return "timestamp_in_frame";
    case Violation::picture_id_jump:
      return "picture_id_jump";
    case Violation::tl0picidx_jump:
      return "tl0picidx_jump";
    case Violation::frame_boundary:
      return "frame_boundary";
    case Violation::switch_without_keyframe:
      return "switch_without_keyframe";
    case Violation::initial_not_keyframe:
      return "initial_not_keyframe";
    case Violation::corrupt_payload:
      return "corrupt_payload";
    case Violation::malformed:
      return "malformed";
    case Violation::count_:
      break;
  }
  return "unknown";
}

StreamValidator::StreamValidator(ValidatorConfig config) : config_(config) {
  config_.window = std::bit_ceil(std::clamp<size_t>(config_.window, 16, 16384));
  config_.max_outstanding = std::max<size_t>(config_.max_outstanding, 1);
  slots_.resize(config_.window);
  gaps_.reserve(config_.max_outstanding);
}

void StreamValidator::report(Violation v, uint16_t seq, std::string_view what) {
  ++counts_[size_t(v)];
  ++total_;
  if (recorded_.size() < config_.max_recorded) {
    recorded_.push_back({v, seq, std::string(to_string(v)) + " " + seq_text(seq) + std::string(what)});
  }
}

std::string StreamValidator::summary() const {
  std::string s = std::to_string(total_) + " violation(s)";
  for (const ViolationRecord& r : recorded_) s += "\n  " + r.what;
  return s;
}

void StreamValidator::handle_rtp(Instant now, Bytes packet, bool retransmission) {
  auto view = rtp::parse_rtp(packet);
  if (!view) {
    report(Violation::malformed, 0, "not an RTP packet");
    return;
  }
  handle_packet(now,
                {view->ssrc(), view->sequence(), view->timestamp(), view->marker(), view->payload(), retransmission});
}

// ---- per-packet description -----------------------------------------------------

StreamValidator::Slot StreamValidator::describe(const MediaPacket& p) {
  Slot s;
  s.seq = p.seq;
  s.timestamp = p.timestamp;
  s.flags = kValid | (p.marker ? kMarker : 0);
  if (p.payload.empty()) return s;  // padding only: a place in the sequence, nothing to check
  const bool video = config_.kind == server::media::MediaKind::video;
  const PayloadLayout l = inspect_payload(video, p.payload);
  if (video) {
    if (!l.parsed) {
      report(Violation::malformed, p.seq, "VP8 payload descriptor does not parse");
      return s;
    }
    s.flags |= kVp8 | (l.vp8.picture_id_15bit ? kPic15 : 0);
    s.picture_id = l.vp8.picture_id;
    s.tl0picidx = l.vp8.tl0picidx;
    s.tid = l.vp8.tid;
    if (l.frame_start) s.flags |= kStart | (l.frame.keyframe ? kKey : 0);
    if (l.frame.has_dimensions) {
      width_ = l.frame.width;
      height_ = l.frame.height;
    }
  }
  if (config_.check_probe) check_probe(p, l.probe_offset, s);
  return s;
}

void StreamValidator::check_probe(const MediaPacket& p, size_t offset, Slot& s) {
  const ProbeResult r = read_probe(offset <= p.payload.size() ? p.payload.subspan(offset) : Bytes{});
  if (r.status != ProbeStatus::ok) {
    report(Violation::corrupt_payload, p.seq,
           r.status == ProbeStatus::corrupt ? "fill bytes changed" : "payload probe missing or invalid");
    return;
  }
  s.flags |= kProbe;
  s.layer = r.probe.layer;
  s.frame_counter = r.probe.frame_counter;
  if (config_.kind != server::media::MediaKind::video) return;
  const bool first = r.probe.packet_index == 0;
  const bool last = r.probe.packet_index + 1 == r.probe.packet_count;
  if (first != s.has(kStart) || last != s.has(kMarker)) {
    report(Violation::corrupt_payload, p.seq, "probe packet index disagrees with the S bit or the marker");
  } else if (first && r.probe.keyframe != s.has(kKey)) {
    report(Violation::corrupt_payload, p.seq, "probe key-frame flag disagrees with the VP8 header");
  } else if (r.probe.temporal_id != s.tid) {
    report(Violation::corrupt_payload, p.seq, "probe temporal id disagrees with the VP8 descriptor");
  }
}

// ---- sequence tracking ---------------------------------------------------------------

void StreamValidator::handle_packet(Instant now, const MediaPacket& p) {
  ++packets_;
  if (!ssrc_) ssrc_ = p.ssrc;
  if (p.ssrc != *ssrc_) {
    report(Violation::ssrc_changed, p.seq, "SSRC " + std::to_string(p.ssrc) + " after " + std::to_string(*ssrc_));
    return;
  }
  handle_timeout(now);
  const Slot s = describe(p);
  if (!started_) {
    started_ = true;
    highest_ = lowest_ = unwrap_ref_ = p.seq;
    ref_seq_ = p.seq;
    slots_[size_t(highest_) & (slots_.size() - 1)] = s;
    note_frame_start(highest_, s);
    return;
  }
  const int64_t ext = unwrap_ref_ + rtp::seq_diff(p.seq, ref_seq_);
  if (ext > highest_) {
    unwrap_ref_ = ext;
    ref_seq_ = p.seq;
    accept_newest(now, ext, s);
  } else {
    accept_late(now, ext, s, p.retransmission);
  }
  if (!initial_resolved_ && highest_ - lowest_ >= int64_t(slots_.size())) resolve_initial_keyframe();
}

void StreamValidator::accept_newest(Instant now, int64_t ext, const Slot& s) {
  const int64_t window = int64_t(slots_.size());
  const int64_t first_missing = std::max(highest_ + 1, ext - int64_t(config_.max_outstanding));
  if (ext - highest_ - 1 > int64_t(config_.max_outstanding)) {
    report(Violation::gap_overflow, s.seq, "jump of " + std::to_string(ext - highest_) + " sequence numbers");
  }
  for (int64_t e = first_missing; e < ext; ++e) {
    if (gaps_.size() == config_.max_outstanding) {
      report(Violation::gap_overflow, s.seq, "too many open gaps");
      break;
    }
    gaps_.push_back({e, to_micros(now)});
    ++gaps_opened_;
  }
  if (ext - highest_ >= window) {
    std::fill(slots_.begin(), slots_.end(), Slot{});
  } else {
    for (int64_t e = highest_ + 1; e < ext; ++e) slots_[size_t(e) & (slots_.size() - 1)] = Slot{};
  }
  highest_ = ext;
  slots_[size_t(ext) & (slots_.size() - 1)] = s;
  note_frame_start(ext, s);
  check_pair(ext - 1, ext);
}

void StreamValidator::accept_late(Instant now, int64_t ext, const Slot& s, bool retransmission) {
  const bool in_window = ext > highest_ - int64_t(slots_.size());
  const bool was_gap = fill_gap(ext);
  if (!was_gap && ext >= lowest_) {
    if (in_window && !slot_at(ext)) return;  // a gap already reported as unrepaired
    if (retransmission && config_.allow_rtx_duplicates) {
      ++rtx_duplicates_;
    } else {
      report(Violation::duplicate, s.seq,
             retransmission ? "retransmission of a packet already received" : "packet received twice");
    }
    return;
  }
  if (!was_gap) open_gaps_below(now, ext);  // older than the first packet: the stream began earlier
  if (!in_window) return;                   // too old for neighbour checks
  slots_[size_t(ext) & (slots_.size() - 1)] = s;
  note_frame_start(ext, s);
  check_pair(ext - 1, ext);
  check_pair(ext, ext + 1);
}

// A packet older than every one so far: the stream began at or before it,
// so whatever lies between it and the previous lowest is missing too.
void StreamValidator::open_gaps_below(Instant now, int64_t ext) {
  const int64_t count = lowest_ - ext - 1;
  lowest_ = ext;
  if (count <= 0) return;
  if (size_t(count) > config_.max_outstanding - gaps_.size()) {
    report(Violation::gap_overflow, uint16_t(ext), "packet far older than the stream's first");
    return;
  }
  const Gap first{ext + 1, to_micros(now)};
  gaps_.insert(gaps_.begin(), size_t(count), first);  // within the reserved capacity
  for (int64_t i = 1; i < count; ++i) gaps_[size_t(i)].ext = ext + 1 + i;
  gaps_opened_ += uint64_t(count);
}

bool StreamValidator::fill_gap(int64_t ext) {
  auto it = std::lower_bound(gaps_.begin(), gaps_.end(), ext, [](const Gap& g, int64_t e) { return g.ext < e; });
  if (it == gaps_.end() || it->ext != ext) return false;
  gaps_.erase(it);
  ++gaps_repaired_;
  return true;
}

void StreamValidator::handle_timeout(Instant now) {
  const int64_t limit = to_micros(now) - std::chrono::duration_cast<microseconds>(config_.gap_timeout).count();
  // Gaps are sorted by sequence number; their ages are sorted too except for
  // those opened below the first packet, so look at every one.
  size_t kept = 0;
  for (const Gap& g : gaps_) {
    if (g.since_us <= limit) {
      report(Violation::unrepaired_gap, uint16_t(g.ext), "missing and not repaired in time");
    } else {
      gaps_[kept++] = g;
    }
  }
  gaps_.resize(kept);
}

void StreamValidator::finish(Instant now) {
  handle_timeout(now);
  for (const Gap& g : gaps_) report(Violation::unrepaired_gap, uint16_t(g.ext), "still missing at the end");
  gaps_.clear();
  if (!initial_resolved_) resolve_initial_keyframe();
}

// ---- frames ------------------------------------------------------------------------------

void StreamValidator::note_frame_start(int64_t ext, const Slot& s) {
  if (!s.has(kStart)) return;
  ++frames_;
  if (s.has(kKey)) ++keyframes_;
  if (!initial_resolved_ && (!first_start_ext_ || ext < *first_start_ext_)) {
    first_start_ext_ = ext;
    first_start_key_ = s.has(kKey);
    first_start_seq_ = s.seq;
  }
}

void StreamValidator::resolve_initial_keyframe() {
  initial_resolved_ = true;
  if (config_.kind != server::media::MediaKind::video || !config_.require_initial_keyframe) return;
  if (first_start_ext_ && !first_start_key_) {
    report(Violation::initial_not_keyframe, first_start_seq_, "the stream's first frame is not a key frame");
  }
}

const StreamValidator::Slot* StreamValidator::slot_at(int64_t ext) const {
  if (ext > highest_ || ext <= highest_ - int64_t(slots_.size())) return nullptr;
  const Slot& s = slots_[size_t(ext) & (slots_.size() - 1)];
  return s.has(kValid) ? &s : nullptr;
}

// Checks two packets with consecutive sequence numbers a, b = a + 1.
void StreamValidator::check_pair(int64_t ext_a, int64_t ext_b) {
  const Slot* a = slot_at(ext_a);
  const Slot* b = slot_at(ext_b);
  if (!a || !b) return;
  if (rtp::timestamp_newer(a->timestamp, b->timestamp)) {
    report(Violation::timestamp_backwards, b->seq,
           "timestamp " + std::to_string(b->timestamp) + " after " + std::to_string(a->timestamp));
  }
  if (!a->has(kVp8) || !b->has(kVp8)) return;
  if (a->picture_id == b->picture_id) {
    check_same_frame(*a, *b);
  } else {
    check_next_frame(*a, *b);
  }
}

void StreamValidator::check_same_frame(const Slot& a, const Slot& b) {
  if (b.has(kStart) || a.has(kMarker)) {
    report(Violation::frame_boundary, b.seq,
           "new frame (S bit or marker before it) keeps picture id " + std::to_string(b.picture_id));
  }
  if (a.timestamp != b.timestamp) report(Violation::timestamp_in_frame, b.seq, "timestamp changes inside a frame");
  if (a.tl0picidx != b.tl0picidx || a.tid != b.tid) {
    report(Violation::tl0picidx_jump, b.seq, "TL0PICIDX or TID changes inside a frame");
  }
  if (a.has(kProbe) && b.has(kProbe) && (a.layer != b.layer || a.frame_counter != b.frame_counter)) {
    report(Violation::corrupt_payload, b.seq, "packets of two source frames share a picture id");
  }
}

void StreamValidator::check_next_frame(const Slot& a, const Slot& b) {
  const uint16_t mask = b.has(kPic15) ? 0x7fff : 0x7f;
  if (b.picture_id != ((a.picture_id + 1) & mask)) {
    report(Violation::picture_id_jump, b.seq,
           "picture id " + std::to_string(b.picture_id) + " after " + std::to_string(a.picture_id));
  } else if (!b.has(kStart)) {
    report(Violation::frame_boundary, b.seq, "picture id changes without S=1, PID=0");
  }
  const uint8_t expected_tl0 = uint8_t(a.tl0picidx + (b.tid == 0 ? 1 : 0));
  if (b.tl0picidx != expected_tl0) {
    report(Violation::tl0picidx_jump, b.seq,
           "TL0PICIDX " + std::to_string(b.tl0picidx) + " after " + std::to_string(a.tl0picidx) + " (TID " +
               std::to_string(b.tid) + ")");
  }
  if (a.has(kProbe) && b.has(kProbe) && a.layer != b.layer) {
    ++layer_switches_;
    if (!b.has(kKey)) {
      report(Violation::switch_without_keyframe, b.seq,
             "layer " + std::to_string(a.layer) + " -> " + std::to_string(b.layer) + " on a delta frame");
    }
  }
}

}  // namespace sfu::client
