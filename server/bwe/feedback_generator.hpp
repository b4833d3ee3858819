// Receive-side transport-wide congestion control feedback, for publishers
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). The browser's
// send-side estimator (GCC) only ramps up to full simulcast when somebody
// tells it when each of its packets arrived; this is that somebody.
//
// Sans-IO: the transport calls on_packet() for every RTP packet carrying the
// transport-wide sequence number extension, asks poll_timeout() when to come
// back, and drains poll_feedback() into RTCP packets when it is due.
//
// Feedback interval rule (ours; libwebrtc adapts 50-250 ms to the bitrate):
//   * every 50 ms while packets arrive (the first feedback of the stream
//     50 ms after its first packet; after a quiet period, at once), and
//   * at once when 100 packets are pending, so that one feedback packet stays
//     small (~100 deltas) at high rates.
// Nothing is sent while no packet arrived since the last feedback.
//
// Window rule: each feedback covers every sequence number from the end of the
// previous one up to the highest received. Two refinements:
//   * a loss at the start of the window is reported by re-reporting the last
//     packet of the previous feedback as the base (TransportCcBuilder's base
//     must be a received packet); the sender ignores that duplicate;
//   * a packet that arrives after its sequence number was reported lost
//     (reordering) rewinds the window to it: the next feedback re-reports
//     from that sequence number on, as libwebrtc's receive side does. Senders
//     take the late arrival and ignore the re-reported duplicates.
// Up to kRingSize (4096) sequence numbers are remembered; anything older is
// forgotten and never (re-)reported.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "rtp/rtcp/transport_cc.hpp"
#include "rtp/sequence.hpp"

namespace sfu::server::bwe {

class FeedbackGenerator {
 public:
  static constexpr size_t kRingSize = 4096;  // power of two
  static constexpr Duration kInterval = milliseconds(50);
  static constexpr uint32_t kEarlyPackets = 100;

  // sender_ssrc: the SSRC the SFU uses as RTCP sender towards this publisher.
  explicit FeedbackGenerator(uint32_t sender_ssrc);

  // Records the arrival of a packet with transport-wide sequence number
  // `transport_seq` at `arrival` (the worker's receive time). Duplicates and
  // packets older than the remembered window are ignored (and counted).
  // O(1) amortised, allocation-free.
  void on_packet(Instant arrival, uint16_t transport_seq);

  // Same, also remembering `media_ssrc` when it is the first one seen: the
  // feedback's "SSRC of media source" is the first media SSRC given here, or
  // 0 when none was (the field is informative for transport-wide feedback).
  void on_packet(Instant arrival, uint16_t transport_seq, uint32_t media_ssrc);

  // When the next feedback is due; nullopt while nothing is pending. A time
  // in the past means "now".
  std::optional<Instant> poll_timeout() const;

  // When feedback is due at `now`, writes one transport-cc RTCP packet
  // (common header included, at most kTransportCcMaxSize bytes) to the front
  // of `out` and returns its size; 0 when nothing is due or `out` is too
  // small (state unchanged then). When the pending window does not fit one
  // packet, the rest is due at once: call again until it returns 0. Each
  // packet carries the next feedback packet count (mod 256).
  size_t poll_feedback(Instant now, MutBytes out);

  // Counters for metrics.
  uint64_t duplicates() const { return duplicates_; }
  uint64_t too_old() const { return too_old_; }
  uint64_t feedback_sent() const { return feedback_sent_; }

 private:
  static constexpr int64_t kNotReceived = INT64_MIN;

  int64_t& slot(int64_t seq) { return arrivals_[uint64_t(seq) & (kRingSize - 1)]; }
  int64_t slot(int64_t seq) const { return arrivals_[uint64_t(seq) & (kRingSize - 1)]; }
  void clear_range(int64_t from, int64_t to);  // [from, to)
  void advance_to(int64_t seq);
  void record_older(int64_t seq, int64_t arrival_us);
  void note_pending(Instant arrival);
  int64_t window_base() const;

  rtp::rtcp::TransportCcBuilder builder_;
  std::array<int64_t, kRingSize> arrivals_{};  // µs, kNotReceived if not (yet) received
  rtp::SeqUnwrapper unwrapper_;
  bool started_ = false;
  int64_t oldest_ = 0;   // lowest sequence number whose slot is valid
  int64_t highest_ = 0;  // highest received sequence number
  int64_t next_ = 0;     // first sequence number of the next feedback
  uint32_t pending_ = 0;  // packets recorded since the last feedback
  Instant first_pending_{};
  Instant early_due_{};  // arrival of the kEarlyPackets-th pending packet
  std::optional<Instant> last_feedback_;
  bool continuation_ = false;  // the last feedback did not cover the window
  std::optional<uint32_t> media_ssrc_;
  uint8_t feedback_count_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t too_old_ = 0;
  uint64_t feedback_sent_ = 0;
};

}  // namespace sfu::server::bwe
