// Send-side history of one subscriber transport: assigns transport-wide
// sequence numbers (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2)
// to outgoing packets, remembers when each was sent, and turns the
// subscriber's transport-cc feedback into per-packet results (send time,
// arrival time, size) for the estimators (draft-ietf-rmcat-gcc-02 §4: the
// send-side variant, where the sender computes the delay variation).
//
// Fixed memory: a ring of kCapacity sent packets (16 bytes each) kept for at
// most kMaxAge, and a result buffer of kMaxResults entries reused by every
// on_feedback(). No allocation after construction.
//
// Duplicate handling, matching what receivers do (see FeedbackGenerator): a
// packet is reported received at most once; a packet reported lost may later
// be reported received (reordering) and then yields a result (its loss stays
// counted in that earlier summary); repeated loss reports count once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/time.hpp"
#include "rtp/rtcp/transport_cc.hpp"

namespace sfu::server::bwe {

inline constexpr int16_t kNotProbe = -1;

// What the caller says about a packet it is about to send.
struct PacketFlags {
  bool padding = false;  // padding-only packet (RFC 3550 §5.1 P bit, no media)
  bool rtx = false;      // retransmission (RFC 4588), including RTX used as padding
  int16_t probe_cluster = kNotProbe;  // >= 0: sent for this probe cluster
};

// One packet the feedback reported received.
struct PacketResult {
  int64_t send_us = 0;     // local clock (to_micros of the send time)
  int64_t arrival_us = 0;  // the feedback sender's clock, unwrapped across feedbacks
  uint16_t size = 0;       // bytes as given to on_packet_sent (clamped to 65535)
  uint16_t seq = 0;        // transport-wide sequence number (tie-break only)
  int16_t probe_cluster = kNotProbe;
  uint8_t flags = 0;  // kPadding | kRtx
  static constexpr uint8_t kPadding = 1;
  static constexpr uint8_t kRtx = 2;
};

// What one feedback packet told us. `received` is sorted by arrival time (ties
// by send time), as the delay-based estimator wants it (libwebrtc sorts the
// same way). `received_count` can exceed received.size() only if a feedback
// acknowledges more than kMaxResults packets; the extra ones still count for
// the acknowledged bitrate.
struct FeedbackSummary {
  std::span<const PacketResult> received;
  uint32_t received_count = 0;
  uint32_t lost = 0;        // newly reported lost
  uint32_t unknown = 0;     // not in the history (too old, never sent, ...)
  uint32_t duplicates = 0;  // already reported (received, or lost again)
};

// Acknowledged bitrate over a sliding window of arrival time: bytes of the
// packets that arrived in the last kWindow (by the receiver's clock), divided
// by the time they span. Needs no RTT (draft-ietf-rmcat-gcc-02 §5.5 R_hat).
class AckedBitrateEstimator {
 public:
  static constexpr int64_t kBucketUs = 25'000;
  static constexpr size_t kBuckets = 20;  // 500 ms window

  // Adds a received packet; arrivals older than the window are ignored.
  void add(int64_t arrival_us, size_t bytes);
  // Bits per second over the window; nullopt before 2 packets spanning > 0.
  std::optional<uint64_t> bitrate_bps() const;

 private:
  std::array<uint64_t, kBuckets> bytes_{};
  int64_t newest_bucket_ = 0;
  int64_t first_arrival_us_ = 0;
  int64_t latest_arrival_us_ = 0;
  uint32_t packets_ = 0;  // saturates at 2: only "enough" matters
};

class SendSideHistory {
 public:
  static constexpr size_t kCapacity = 4096;  // ~2 s at 20 Mbit/s of 1200-byte packets
  static constexpr size_t kMaxResults = 1200;  // > received packets in one 1200-byte feedback
  static constexpr Duration kMaxAge = seconds(2);

  // `first_seq`: the first transport-wide sequence number to hand out.
  explicit SendSideHistory(uint16_t first_seq = 0);

  // Call once per packet at the moment it is handed to the socket, before
  // SRTP protection: returns the transport-wide sequence number the caller
  // writes into the packet's extension (rtp::write_transport_sequence).
  // `size` is the packet's size on the wire (RTP header + payload; callers
  // may add a fixed overhead, consistently). O(1).
  uint16_t on_packet_sent(Instant send_time, size_t size, PacketFlags flags = {});

  // Matches a feedback packet to the history. The returned spans stay valid
  // until the next on_feedback(). `now` only expires entries older than
  // kMaxAge. Also feeds the acknowledged bitrate.
  FeedbackSummary on_feedback(Instant now, const rtp::rtcp::TransportCcView& feedback);

  // Acknowledged bitrate (all received packets, padding and probes included).
  std::optional<uint64_t> acked_bitrate_bps() const { return acked_.bitrate_bps(); }

  // Packets handed out so far.
  uint64_t packets_sent() const { return uint64_t(next_seq_ - first_seq_); }

 private:
  struct Entry {
    int64_t send_us = 0;
    uint16_t size = 0;
    uint8_t flags = 0;
    uint8_t state = 0;  // kSent / kAcked / kLost
    int16_t probe_cluster = kNotProbe;
  };
  static_assert(sizeof(Entry) == 16);
  static constexpr uint8_t kSent = 0, kAcked = 1, kLost = 2;

  Entry* find(uint16_t seq, int64_t oldest_send_us);
  int64_t unwrap_arrival_base(const rtp::rtcp::TransportCcView& feedback);
  void record(const rtp::rtcp::TransportCcPacketStatus& status, Entry& e, int64_t arrival_offset_us,
              FeedbackSummary& summary);

  std::array<Entry, kCapacity> ring_{};
  std::array<PacketResult, kMaxResults> results_{};
  AckedBitrateEstimator acked_;
  int64_t first_seq_ = 0;
  int64_t next_seq_ = 0;  // unwrapped, next to hand out
  std::optional<int64_t> reference_;  // last feedback reference time, 64 ms units, unwrapped
  uint32_t reference_raw_ = 0;
};

}  // namespace sfu::server::bwe
