// Upstream loss recovery for one received RTP stream: which sequence numbers
// to ask the publisher to resend with generic NACKs (RFC 4585 §6.2.1), and
// when to give up and ask for a keyframe instead.
//
//   packet ──► on_packet(now, seq, keyframe_start, rtx)   gaps become missing entries
//   timer  ──► poll_nacks(now, out) ──► write_nack(...)   due entries, oldest first
//              poll_timeout()                            when the next one is due
//              poll_keyframe_request()                   loss too large to repair
//
// Each missing number is NACKed as soon as it is seen missing, then again
// every max(rtt * rtt_factor, min_retry_interval) until it arrives, it has
// been asked for max_retries times, or it is older than max_age. Like
// libwebrtc's NackRequester, when the list would overflow it first drops
// what precedes the latest keyframe (a decoder can restart there); if that is
// not enough, or one gap alone exceeds max_tracked, it clears the list and
// asks for a keyframe.
//
// Sans-IO: time is an argument. The list is one array sized at construction
// and never grown, kept sorted by extended sequence number. One instance per
// received stream, owned by the media worker (not thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "rtp/sequence.hpp"

namespace sfu::server::media {

struct NackConfig {
  size_t max_tracked = 512;                        // missing numbers remembered at once (>= 1)
  uint32_t max_retries = 10;                       // NACKs per number before giving up
  Duration max_age = seconds(1);                   // give up on numbers missing for longer
  double rtt_factor = 1.0;                         // re-NACK after rtt * rtt_factor ...
  Duration min_retry_interval = milliseconds(20);  // ... but never sooner than this
  Duration initial_rtt = milliseconds(100);        // assumed until set_rtt
};

class NackGenerator {
 public:
  // A backward jump larger than this (not flagged as a repair), confirmed by
  // the next packet following it, is a restart of the sender's numbering
  // (the two-packet check of RFC 3550 §A.1).
  static constexpr int64_t kMaxMisorder = 1000;

  // Allocates the missing list (config.max_tracked entries) once, here.
  explicit NackGenerator(NackConfig config = {});

  // Accounts one RTP packet of the stream. `is_keyframe_start` marks the
  // first packet of a keyframe (from the codec parser); `is_retransmission`
  // a repair decapsulated from RTX. A jump forward records every number in
  // between as missing; the arrival of a missing number removes it.
  void on_packet(Instant now, uint16_t seq, bool is_keyframe_start, bool is_retransmission);

  // The current round-trip time to the publisher (from RR/DLSR or
  // transport-cc); it paces re-NACKs.
  void set_rtt(Duration rtt) { rtt_ = rtt; }

  // Writes into `out` the numbers due for a (re)NACK at `now`, oldest first,
  // at most out.size(), and marks them sent. Drops, counting them as
  // unrecovered, numbers past max_retries or max_age. Numbers that did not
  // fit stay due for the next call. Returns how many were written.
  size_t poll_nacks(Instant now, std::span<uint16_t> out);

  // When poll_nacks would next have something to do (a NACK or a give-up),
  // or nullopt when nothing is missing. May be in the past.
  std::optional<Instant> poll_timeout() const;

  // True once after loss too large to repair by NACK (gap or overflow);
  // cleared by the call and by the arrival of a keyframe.
  bool poll_keyframe_request();
  // Whether a keyframe request is pending, without clearing it.
  bool needs_keyframe() const { return needs_keyframe_; }

  size_t missing() const { return size_; }
  // Sequence numbers put into NACKs (one per number per retry).
  uint64_t nacks_sent() const { return nacks_sent_; }
  // Missing numbers that arrived after at least one NACK.
  uint64_t recovered() const { return recovered_; }
  // Missing numbers that arrived before any NACK for them went out.
  uint64_t reordered() const { return reordered_; }
  // Missing numbers given up on (retries, age, overflow, keyframe reset).
  uint64_t unrecovered() const { return unrecovered_; }
  // Times a keyframe request was raised.
  uint64_t keyframes_requested() const { return keyframes_requested_; }

 private:
  struct Entry {
    int64_t seq = 0;            // extended sequence number
    int64_t missing_since = 0;  // micros: when the gap was seen
    int64_t last_sent = 0;      // micros: last NACK, valid when retries > 0
    uint32_t retries = 0;       // NACKs sent so far
  };

  void add_missing(Instant now, int64_t from, int64_t to, bool is_keyframe_start);
  void on_late(int64_t ext);
  bool make_room(size_t needed);
  void request_keyframe();
  int64_t retry_interval_us() const;
  Entry* find(int64_t ext);

  NackConfig config_;
  std::vector<Entry> entries_;  // capacity max_tracked, sorted by seq; [0, size_) live
  size_t size_ = 0;
  Duration rtt_;

  bool started_ = false;
  rtp::SeqUnwrapper unwrapper_;  // reference kept at highest_
  int64_t highest_ = 0;
  std::optional<int64_t> last_keyframe_;  // extended seq of the newest keyframe start
  std::optional<uint16_t> restart_seq_;   // the seq that would confirm a backward restart
  bool needs_keyframe_ = false;

  uint64_t nacks_sent_ = 0;
  uint64_t recovered_ = 0;
  uint64_t reordered_ = 0;
  uint64_t unrecovered_ = 0;
  uint64_t keyframes_requested_ = 0;
};

// Builds a generic NACK (RFC 4585 §6.2.1) from `sender_ssrc` about
// `media_ssrc` for the numbers in `lost` (ascending modulo 2^16, as
// poll_nacks returns them) into `out`. Returns the bytes written, 0 if
// nothing fits or lost is empty; *consumed (if given) is how many leading
// entries of lost the packet covers, so the rest can go in another packet.
size_t write_nack(MutBytes out, uint32_t sender_ssrc, uint32_t media_ssrc, std::span<const uint16_t> lost,
                  size_t* consumed = nullptr);

}  // namespace sfu::server::media
