// The receive side of one RTP stream (one SSRC a publisher sends us): the
// reception statistics of RFC 3550 Appendix A that feed our receiver reports
// upstream, plus counters and an incoming bitrate for the layer selector and
// the stats API.
//
//   arrival ──► on_packet(now, seq, ts, size, rtx) ──► ArrivalKind (drop duplicates)
//   SR      ──► on_sender_report(now, ntp, rtp_ts) ──► sr_mapping() for our own SRs
//   timer   ──► make_report_block(now) ──► RR / SR report block (resets the interval)
//
// Sequence tracking (RFC 3550 §A.1, A.3): 16-bit sequence numbers are
// extended relative to the highest one seen, so reordering never moves the
// reference backwards. A forward jump larger than kMaxDropout, or a backward
// one larger than kMaxMisorder, is taken as a restart of the sender's
// numbering only when the next packet follows it (A.1's two-packet check);
// the counts up to the restart are kept, so cumulative loss stays monotone.
//
// Sans-IO and allocation-free: time is an argument, state is fixed-size.
// One instance per received SSRC, owned by the media worker (not thread-safe).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/time.hpp"
#include "rtp/rtcp/report_block.hpp"
#include "rtp/sequence.hpp"

namespace sfu::server::media {

// What on_packet made of a packet's sequence number.
enum class ArrivalKind : uint8_t {
  newest,     // the highest sequence number so far (or the first packet)
  late,       // older than the highest, not seen before (reordered or repaired)
  duplicate,  // already received; the caller should not forward it again
  suspect,    // a jump beyond kMaxDropout / kMaxMisorder, not yet confirmed as a restart
};

// The NTP ↔ RTP timestamp pair of the last sender report (RFC 3550 §6.4.1),
// with the local time it arrived, so a consumer can map the publisher's RTP
// clock onto wall-clock time in the SRs it sends downstream.
struct SrMapping {
  uint64_t ntp = 0;     // 32.32 fixed-point seconds since 1900
  uint32_t rtp_ts = 0;  // the same instant on the stream's RTP clock
  Instant arrival;      // when the SR reached us
  bool operator==(const SrMapping&) const = default;
};

class ReceiveStream {
 public:
  // RFC 3550 §A.1 suggests MAX_DROPOUT 3000 and MAX_MISORDER 100. We accept
  // packets further behind because NACK repairs without RTX arrive up to the
  // NackGenerator's max_age (1 s) late; the window for duplicate detection
  // covers the same distance.
  static constexpr int64_t kMaxDropout = 3000;
  static constexpr int64_t kMaxMisorder = 1000;
  static constexpr size_t kDuplicateWindow = 2048;  // sequence numbers remembered (power of two)
  // Incoming bitrate: a sliding 1 s window in 20 buckets of 50 ms.
  static constexpr size_t kRateBuckets = 20;
  static constexpr Duration kRateBucket = milliseconds(50);

  // `ssrc` is what report blocks name; `clock_rate` (Hz, > 0) converts
  // arrival times into RTP timestamp units for the jitter of RFC 3550 §A.8.
  ReceiveStream(uint32_t ssrc, uint32_t clock_rate);

  // Accounts one RTP packet of this SSRC that arrived at `arrival`. `size`
  // is its size on the wire (counted into bytes and the bitrate);
  // `is_retransmission` marks a repair decapsulated from RTX (RFC 4588),
  // which fills a hole but is left out of the jitter (its timestamp is old).
  // Every packet is counted in packets_received()/bytes_received(); only
  // packets new to the sequence space count as received for loss. Returns
  // how the sequence number relates to what came before.
  ArrivalKind on_packet(Instant arrival, uint16_t seq, uint32_t rtp_timestamp, size_t size, bool is_retransmission);

  // Remembers a sender report for this SSRC that arrived at `arrival`: its
  // NTP timestamp feeds LSR/DLSR (RFC 3550 §6.4.1) and the NTP ↔ RTP pair is
  // kept for sr_mapping().
  void on_sender_report(Instant arrival, uint64_t ntp, uint32_t rtp_ts);

  // The last sender report's timestamps, if one has arrived.
  std::optional<SrMapping> sr_mapping() const { return sr_; }

  // The report block for this stream as of `now` (RFC 3550 §6.4.1, §A.3),
  // and the start of a new reporting interval for fraction lost: call once
  // per report actually sent. Before any packet all counts are zero.
  rtp::rtcp::ReportBlock make_report_block(Instant now);

  // Incoming bitrate over the last second before `now` (all packets, with
  // retransmissions and duplicates), bits per second. `now` must not be
  // earlier than the last arrival.
  uint64_t bitrate_bps(Instant now) const;

  uint32_t ssrc() const { return ssrc_; }
  uint32_t clock_rate() const { return clock_rate_; }
  bool has_received() const { return started_; }
  // Every packet passed to on_packet, and their bytes.
  uint64_t packets_received() const { return packets_; }
  uint64_t bytes_received() const { return bytes_; }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t retransmissions() const { return retransmissions_; }
  // RFC 3550 §A.3: expected minus received since the first packet, summed
  // over restarts. Duplicates are not counted as received, so it is >= 0.
  int64_t cumulative_lost() const;
  // Cycles << 16 | highest sequence number (RFC 3550 §6.4.1).
  uint32_t extended_highest_seq() const { return uint32_t(max_seq_); }
  // Interarrival jitter (RFC 3550 §A.8) in RTP timestamp units, and in ms.
  uint32_t jitter() const;
  double jitter_ms() const { return double(jitter()) * 1000.0 / double(clock_rate_); }

 private:
  void start_epoch(uint16_t seq);
  bool track_sequence(uint16_t seq, bool is_retransmission, ArrivalKind& kind);
  uint64_t expected_in_epoch() const;
  bool mark_received(int64_t ext);
  void advance_window(int64_t new_max);
  void update_jitter(Instant arrival, uint32_t rtp_timestamp);
  void add_to_rate(Instant arrival, size_t size);

  uint32_t ssrc_;
  uint32_t clock_rate_;
  bool started_ = false;

  // RFC 3550 §A.1 / §A.3 state, in extended sequence numbers.
  rtp::SeqUnwrapper unwrapper_;  // reference kept at max_seq_
  int64_t base_seq_ = 0;
  int64_t max_seq_ = 0;
  uint64_t received_ = 0;        // distinct packets in this epoch
  uint64_t prior_expected_ = 0;  // totals from epochs before a restart
  uint64_t prior_received_ = 0;
  uint64_t expected_prior_ = 0;  // §A.3: as of the last report block
  uint64_t received_prior_ = 0;
  std::optional<uint16_t> bad_seq_;                     // §A.1: the seq that would confirm a restart
  std::array<uint64_t, kDuplicateWindow / 64> seen_{};  // bit per ext seq in (max - window, max]

  // RFC 3550 §A.8 state.
  Instant first_arrival_;
  bool have_transit_ = false;
  uint32_t last_transit_ = 0;
  int64_t jitter_q4_ = 0;  // jitter * 16

  uint64_t packets_ = 0;
  uint64_t bytes_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t retransmissions_ = 0;

  std::optional<SrMapping> sr_;

  struct RateBucket {
    int64_t index = -1;  // arrival time / kRateBucket
    uint64_t bytes = 0;
  };
  std::array<RateBucket, kRateBuckets> rate_{};
};

}  // namespace sfu::server::media
