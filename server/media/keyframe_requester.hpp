// Coalesces keyframe requests for one upstream stream (one simulcast layer of
// one publisher). Many subscribers may ask for a keyframe of the same layer
// at once (joins, layer switches, their own PLIs); the publisher gets one
// request for all of them.
//
// Two kinds of request:
// - a new consumer's first one (it has forwarded nothing yet, so its
//   viewer has nothing to show): sent at once, unless a request already sent is still
//   unanswered (the key frame on its way serves this consumer too) or one
//   went out less than first_interval (100 ms) ago. A join storm thus
//   costs the publisher at most one key frame per first_interval, and a
//   viewer waits for at most that plus the key frame's trip.
// - a repeat (a subscriber's own PLI/FIR, a layer switch, a resume, loss):
//   at most one per min_interval (500 ms).
// A request that may not go out yet is remembered and sent when its
// interval ends, unless a keyframe arrives first.
//
//   consumer asks ──► request_first(now) / request(now) ──► true: send write_request(...) now
//   timer         ──► poll_timeout() / poll_due(now)    ──► true: send now
//   keyframe seen ──► on_keyframe(now): nothing left pending or unanswered
//
// The request is a PLI (RFC 4585 §6.3.1) unless the publisher negotiated
// only "ccm fir" (RFC 5104 §7.1), in which case it is a FIR (§4.3.1) with
// this requester's command sequence number.
//
// Sans-IO: time is an argument. Owned by the media worker (not thread-safe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/time.hpp"

namespace sfu::server::media {

struct KeyframeRequesterConfig {
  Duration min_interval = milliseconds(500);    // before a repeat request goes upstream
  Duration first_interval = milliseconds(100);  // before a new consumer's request goes upstream
  bool fir_only = false;                        // the stream negotiated ccm fir but not nack pli
};

class KeyframeRequester {
 public:
  explicit KeyframeRequester(KeyframeRequesterConfig config = {}) : config_(config) {}

  // A consumer wants a keyframe at `now` (a repeat). Returns true when a
  // request should be sent upstream now (write_request); otherwise the
  // request is kept pending and poll_due() will say when to send it.
  bool request(Instant now);
  // A new consumer's first request: the same, with the rules above.
  bool request_first(Instant now);

  // When the pending request becomes due, or nullopt if none is pending.
  std::optional<Instant> poll_timeout() const;

  // Returns true (once) when a pending request is due at `now`: send it.
  bool poll_due(Instant now);

  // A keyframe (its first packet) arrived from the publisher: a pending
  // request is satisfied and dropped, and the last one sent is answered.
  // Does not reset the rate limit.
  void on_keyframe(Instant now);

  bool pending() const { return pending_; }
  // A request went out and no keyframe has arrived since.
  bool unanswered() const { return unanswered_; }

  // Writes the request for this stream, PLI or FIR by config.fir_only.
  // Returns the bytes written, 0 when out is too small.
  size_t write_request(MutBytes out, uint32_t sender_ssrc, uint32_t media_ssrc) const;

  // Writes a PLI (RFC 4585 §6.3.1, 12 bytes) from sender_ssrc about
  // media_ssrc. Returns 12, or 0 when out is smaller.
  static size_t write_pli(MutBytes out, uint32_t sender_ssrc, uint32_t media_ssrc);

  // Writes a FIR (RFC 5104 §4.3.1, 20 bytes) asking media_ssrc for a
  // decoder refresh, carrying the sequence number of the latest command
  // (fir_seq_nr()). Writing twice repeats the same command, as §4.3.1.2
  // requires of retransmissions. Returns 20, or 0 when out is smaller.
  size_t write_fir(MutBytes out, uint32_t sender_ssrc, uint32_t media_ssrc) const;

  // RFC 5104 §4.3.1.2: incremented (modulo 256) for each new request that
  // request()/poll_due() decide to send.
  uint8_t fir_seq_nr() const { return fir_seq_nr_; }

  // Requests from consumers, and requests actually sent upstream.
  uint64_t requests() const { return requests_; }
  uint64_t sent() const { return sent_; }

 private:
  bool elapsed(Instant now, Duration interval) const { return !last_sent_ || now - *last_sent_ >= interval; }
  // Keeps the request for later: due when `interval` after the last one
  // sent has passed (the earlier of two pending dues).
  void defer(Duration interval);
  void mark_sent(Instant now);

  KeyframeRequesterConfig config_;
  std::optional<Instant> last_sent_;
  bool pending_ = false;
  Instant due_{};  // when pending_
  bool unanswered_ = false;
  uint8_t fir_seq_nr_ = 0;
  uint64_t requests_ = 0;
  uint64_t sent_ = 0;
};

}  // namespace sfu::server::media
