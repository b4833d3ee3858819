// StreamValidator: checks, packet by packet, the promises an SFU makes about
// ONE stream it forwards to a subscriber (RTX already unwrapped):
//
//   ssrc               one SSRC for the whole stream
//   sequence           continuous: every gap is filled later (by RTX) within
//                      gap_timeout; no sequence number delivered twice, except
//                      an RTX copy of a packet that had been missing. The
//                      stream starts at the lowest number that arrives: a
//                      packet reordered before the first one opens gaps for
//                      the numbers between them
//   timestamp          non-decreasing in sequence order, equal within a frame
//   VP8 PictureID      the same within a frame, +1 per frame (15-bit wrap)
//   VP8 TL0PICIDX      +1 on each TL0 frame, unchanged on TL1+ frames
//   frame boundaries   a frame starts (S=1, PID=0) exactly where the picture
//                      id changes and right after a marker
//   key frames         the stream begins with a key frame, and a frame from
//                      another simulcast layer (a layer switch, i.e. a
//                      resolution change) is a key frame
//   payload            the PayloadProbe written by SyntheticPublisher is
//                      intact, consistent with the VP8 header and the marker,
//                      and its fill bytes are unchanged
//
// Neighbour checks run whenever two consecutive sequence numbers are both
// known, so a gap filled late is checked on both sides. Layers are told apart
// by the probe's layer field (the SFU rewrites everything else), so the
// switch check needs check_probe.
//
// Violations are counted by kind; the first max_recorded keep a description.
// Sans-IO, time is an argument; fixed memory after construction except the
// recorded descriptions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "server/media/media_types.hpp"

namespace sfu::client {

enum class Violation : uint8_t {
  ssrc_changed,
  duplicate,
  unrepaired_gap,
  gap_overflow,  // more open gaps than max_outstanding
  timestamp_backwards,
  timestamp_in_frame,  // timestamp differs inside one frame
  picture_id_jump,
  tl0picidx_jump,
  frame_boundary,  // S bit / marker / picture id disagree
  switch_without_keyframe,
  initial_not_keyframe,
  corrupt_payload,  // probe missing, inconsistent, or fill bytes changed
  malformed,        // not RTP, or the VP8 descriptor does not parse
  count_,
};

std::string_view to_string(Violation v);

struct ViolationRecord {
  Violation kind = Violation::malformed;
  uint16_t seq = 0;
  std::string what;
};

struct ValidatorConfig {
  server::media::MediaKind kind = server::media::MediaKind::video;  // video = VP8
  bool check_probe = true;                                          // payloads carry a PayloadProbe
  bool require_initial_keyframe = true;                             // video only
  bool allow_rtx_duplicates = true;                                 // an RTX copy of a packet already received is fine
  Duration gap_timeout = seconds(2);                                // a gap open this long is unrepaired
  size_t window = 512;           // sequence numbers kept for neighbour checks (rounded to 2^n)
  size_t max_outstanding = 512;  // open gaps tracked at once
  size_t max_recorded = 16;      // violations kept with a description
};

// One RTP packet as the receiver's depacketiser sees it: for RTX, the
// original SSRC, sequence number (OSN) and payload.
struct MediaPacket {
  uint32_t ssrc = 0;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  bool marker = false;
  Bytes payload;  // padding removed
  bool retransmission = false;
};

class StreamValidator {
 public:
  // Allocates the window and the gap list once, here.
  explicit StreamValidator(ValidatorConfig config = {});

  // Checks one packet that arrived at `now`. The payload is only read
  // during the call.
  void handle_packet(Instant now, const MediaPacket& p);
  // Same for a whole plaintext RTP packet; counts `malformed` when it does
  // not parse.
  void handle_rtp(Instant now, Bytes packet, bool retransmission = false);
  // Reports gaps open for longer than gap_timeout (handle_packet does this
  // too). Call when no packets come.
  void handle_timeout(Instant now);
  // End of the stream: every gap still open is unrepaired, and the initial
  // key frame is checked if it was not yet.
  void finish(Instant now);

  bool ok() const { return total_ == 0; }
  uint64_t violations() const { return total_; }
  uint64_t count(Violation v) const { return counts_[size_t(v)]; }
  const std::vector<ViolationRecord>& recorded() const { return recorded_; }
  // One line per recorded violation, for test failure messages.
  std::string summary() const;

  uint64_t packets() const { return packets_; }
  uint64_t frames() const { return frames_; }        // frame starts received
  uint64_t keyframes() const { return keyframes_; }  // key frame starts received
  uint64_t gaps_opened() const { return gaps_opened_; }
  uint64_t gaps_repaired() const { return gaps_repaired_; }
  size_t open_gaps() const { return gaps_.size(); }
  uint64_t rtx_duplicates() const { return rtx_duplicates_; }
  uint64_t layer_switches() const { return layer_switches_; }
  // Resolution of the last key frame with dimensions (0 x 0 before one).
  uint16_t width() const { return width_; }
  uint16_t height() const { return height_; }

 private:
  enum Flags : uint8_t { kValid = 1, kStart = 2, kMarker = 4, kKey = 8, kVp8 = 16, kProbe = 32, kPic15 = 64 };
  struct Slot {
    uint32_t timestamp = 0;
    uint32_t frame_counter = 0;
    uint16_t seq = 0;
    uint16_t picture_id = 0;
    uint8_t tl0picidx = 0;
    uint8_t tid = 0;
    uint8_t layer = 0;
    uint8_t flags = 0;
    bool has(uint8_t f) const { return (flags & f) != 0; }
  };
  struct Gap {
    int64_t ext = 0;
    int64_t since_us = 0;
  };

  Slot describe(const MediaPacket& p);
  void check_probe(const MediaPacket& p, size_t offset, Slot& s);
  void accept_newest(Instant now, int64_t ext, const Slot& s);
  void accept_late(Instant now, int64_t ext, const Slot& s, bool retransmission);
  void open_gaps_below(Instant now, int64_t ext);
  bool fill_gap(int64_t ext);
  void check_pair(int64_t ext_a, int64_t ext_b);
  void check_same_frame(const Slot& a, const Slot& b);
  void check_next_frame(const Slot& a, const Slot& b);
  void note_frame_start(int64_t ext, const Slot& s);
  void resolve_initial_keyframe();
  const Slot* slot_at(int64_t ext) const;
  void report(Violation v, uint16_t seq, std::string_view what);

  ValidatorConfig config_;
  std::vector<Slot> slots_;  // window, indexed by ext & (size - 1)
  std::vector<Gap> gaps_;    // open gaps, ascending ext
  std::optional<uint32_t> ssrc_;
  bool started_ = false;
  int64_t highest_ = 0;
  int64_t lowest_ = 0;
  int64_t unwrap_ref_ = 0;  // extended value of ref_seq_
  uint16_t ref_seq_ = 0;

  // The lowest frame start seen while the initial key frame is unresolved.
  bool initial_resolved_ = false;
  std::optional<int64_t> first_start_ext_;
  bool first_start_key_ = false;
  uint16_t first_start_seq_ = 0;

  std::array<uint64_t, size_t(Violation::count_)> counts_{};
  uint64_t total_ = 0;
  std::vector<ViolationRecord> recorded_;
  uint64_t packets_ = 0, frames_ = 0, keyframes_ = 0;
  uint64_t gaps_opened_ = 0, gaps_repaired_ = 0, rtx_duplicates_ = 0, layer_switches_ = 0;
  uint16_t width_ = 0, height_ = 0;
};

}  // namespace sfu::client
