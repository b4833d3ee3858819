// Transport-wide congestion control feedback: RTPFB FMT=15
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
//
// The receiver of media reports, per transport-wide sequence number, whether
// the packet arrived and when (to 250 µs). The sender's bandwidth estimator
// (GCC) consumes these; the SFU both generates them (towards publishers) and
// parses them (from subscribers).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

// Packet status symbols (§3.1.1). `reserved` is refused by the parser; the
// draft's own examples use it as "received, w/o recv delta", which no
// deployed sender emits.
enum class TransportCcSymbol : uint8_t {
  not_received = 0,
  small_delta = 1,  // received, 8-bit unsigned delta follows
  large_delta = 2,  // received, 16-bit signed delta follows
  reserved = 3,
};

inline constexpr int64_t kTransportCcDeltaUnitUs = 250;         // recv delta unit (§3.1.5)
inline constexpr int64_t kTransportCcReferenceUnitUs = 64'000;  // reference time unit (§3.1)
inline constexpr size_t kTransportCcFixedSize = 20;             // common header + fixed fields
inline constexpr size_t kTransportCcMaxSize = 1200;             // what the builder fills at most
inline constexpr uint16_t kTransportCcMaxRunLength = 0x1fff;    // 13-bit run length (§3.1.3)

// One entry of a feedback packet, in sequence order.
struct TransportCcPacketStatus {
  uint16_t sequence = 0;  // transport-wide sequence number (wraps 65535 -> 0)
  bool received = false;
  // Receive delta from the previous received packet of this feedback (from
  // the reference time for the first one), a multiple of 250 µs; 0 when not
  // received.
  int64_t delta_us = 0;
  // reference_time_us() plus every delta up to and including this one: the
  // arrival time in the feedback sender's time base; 0 when not received.
  int64_t arrival_us = 0;
};

// A validated transport-cc feedback packet. Holds spans into the caller's
// buffer, which must outlive the view. Every length and symbol was checked by
// parse_transport_cc, so iteration cannot fail.
class TransportCcView {
 public:
  // Yields one TransportCcPacketStatus per reported sequence number, base
  // first; compare with std::default_sentinel (view.end()).
  class Iterator {
   public:
    using value_type = TransportCcPacketStatus;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::input_iterator_tag;

    Iterator() = default;
    const TransportCcPacketStatus& operator*() const { return cur_; }
    const TransportCcPacketStatus* operator->() const { return &cur_; }
    Iterator& operator++();
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& it, std::default_sentinel_t) { return it.remaining_ == 0; }

   private:
    friend class TransportCcView;
    TransportCcSymbol next_symbol();
    void decode_current();

    Bytes chunks_;
    Bytes deltas_;
    size_t chunk_pos_ = 0;     // byte offset of the next chunk word
    size_t delta_pos_ = 0;     // byte offset of the next recv delta
    uint16_t word_ = 0;        // current chunk
    uint16_t chunk_left_ = 0;  // symbols of word_ not yet consumed
    uint8_t chunk_index_ = 0;  // index of the next symbol within word_
    uint32_t remaining_ = 0;   // entries left, cur_ included
    int64_t time_us_ = 0;      // arrival time of the last received packet
    TransportCcPacketStatus cur_;
  };

  uint32_t sender_ssrc() const { return sender_ssrc_; }
  uint32_t media_ssrc() const { return media_ssrc_; }
  uint16_t base_sequence() const { return base_sequence_; }
  // Number of entries (received or not) the iteration yields.
  uint16_t status_count() const { return status_count_; }
  // Entries with a receive delta.
  uint16_t received_count() const { return received_count_; }
  uint8_t feedback_count() const { return feedback_count_; }
  // The 24-bit field as sent.
  uint32_t reference_time_raw() const { return reference_time_raw_; }
  // The field as the draft defines it: a signed count of 64 ms units.
  int32_t reference_time() const { return int32_t(reference_time_raw_ << 8) >> 8; }
  int64_t reference_time_us() const { return int64_t(reference_time()) * kTransportCcReferenceUnitUs; }

  // Entries in sequence order; allocation-free, O(1) per step.
  Iterator begin() const;
  std::default_sentinel_t end() const { return {}; }

 private:
  friend Result<TransportCcView, ParseError> parse_transport_cc(const PacketView& packet);

  Bytes chunks_;
  Bytes deltas_;
  uint32_t sender_ssrc_ = 0;
  uint32_t media_ssrc_ = 0;
  uint32_t reference_time_raw_ = 0;
  uint16_t base_sequence_ = 0;
  uint16_t status_count_ = 0;
  uint16_t received_count_ = 0;
  uint8_t feedback_count_ = 0;
};

// Parses the body of an RTCP packet already split off by parse_packet /
// CompoundReader. Refuses (bad_type) anything but PT=205 FMT=15. Checks that
// the chunks cover the packet status count (truncated otherwise), that no
// counted symbol is `reserved` (bad_value), that a recv delta is present for
// every received packet (truncated), and that what follows the deltas is at
// most 3 zero bytes of padding (bad_length / bad_padding). Symbols in the last
// chunk beyond the status count are ignored. Allocation-free.
Result<TransportCcView, ParseError> parse_transport_cc(const PacketView& packet);

// Same, for a buffer that starts with the RTCP common header (one packet; any
// bytes after it are ignored).
Result<TransportCcView, ParseError> parse_transport_cc(Bytes packet);

// Builds one feedback packet from arrivals given in increasing sequence
// order. Fixed capacity (no heap): at most max_size bytes on the wire, 1200
// by default. When add_received() says false because the packet is full,
// serialise this one, clear() and add the packet again to the next.
//
// Status chunks are chosen greedily as packets are added: run-length chunks
// for runs of one symbol, 2-bit vectors (7 symbols) when a large delta is in
// the window, otherwise 1-bit vectors (14 symbols).
class TransportCcBuilder {
 public:
  // max_size is clamped to [24, kTransportCcMaxSize] and rounded down to a
  // multiple of 4.
  explicit TransportCcBuilder(size_t max_size = kTransportCcMaxSize);

  // Header fields; may be set at any time before serialize_to().
  void set_sender_ssrc(uint32_t ssrc) { sender_ssrc_ = ssrc; }
  void set_media_ssrc(uint32_t ssrc) { media_ssrc_ = ssrc; }
  void set_feedback_count(uint8_t count) { feedback_count_ = count; }

  // Drops every added packet (SSRCs, feedback count and max size stay), so
  // the builder can start the next feedback packet.
  void clear() { state_ = State{}; }

  // Records that `seq` arrived at `arrival_us` (any monotonic µs clock). The
  // first call fixes the base sequence number and the reference time
  // (floor(arrival / 64 ms), sent modulo 2^24). Sequence numbers skipped since
  // the previous call are reported as not received. Returns false, leaving
  // the builder unchanged, when seq is not newer than the previous one
  // (modulo 2^16, less than 2^15 ahead), when the delta to the previous
  // arrival (quantised to 250 µs) is outside [-8192, 8191.75] ms, or when the
  // packet would exceed max_size or 65535 entries.
  bool add_received(uint16_t seq, int64_t arrival_us);

  bool empty() const { return state_.status_count == 0; }
  uint16_t base_sequence() const { return state_.base_seq; }
  uint16_t status_count() const { return uint16_t(state_.status_count); }
  uint16_t received_count() const { return state_.received; }
  // floor(first arrival / 64 ms) · 64 ms, not wrapped; meaningless when empty.
  int64_t reference_time_us() const { return state_.reference * kTransportCcReferenceUnitUs; }
  size_t max_size() const { return max_size_; }

  // Bytes serialize_to() writes: a multiple of 4, 0 when empty.
  size_t serialized_size() const { return size_of(state_); }

  // Writes the whole RTCP packet (common header included) to the front of
  // `out`. Returns the bytes written, or 0 when empty or `out` is too small.
  size_t serialize_to(MutBytes out) const;

 private:
  // Symbols not yet committed to a chunk. Invariant: they always fit one
  // chunk (a run, a 1-bit vector of <= 14 or a 2-bit vector of <= 7).
  struct Pending {
    std::array<uint8_t, 14> symbols{};  // valid for i < min(size, 14)
    uint16_t size = 0;
    bool uniform = true;  // all symbols equal
    bool large = false;   // any large_delta symbol
  };
  struct State {
    Pending pending;
    uint32_t status_count = 0;
    size_t chunk_count = 0;
    size_t delta_size = 0;
    int64_t reference = 0;   // 64 ms units, unwrapped
    int64_t last_ticks = 0;  // 250 µs units, last received arrival
    uint16_t base_seq = 0;
    uint16_t next_seq = 0;
    uint16_t received = 0;
  };

  static constexpr size_t kMaxChunks = (kTransportCcMaxSize - kTransportCcFixedSize) / 2;
  static constexpr size_t kMaxDeltaBytes = kTransportCcMaxSize - kTransportCcFixedSize - 2;

  size_t size_of(const State& s) const;
  bool push_symbols(State& s, uint8_t symbol, uint32_t n);
  bool emit_front(State& s);

  std::array<uint16_t, kMaxChunks> chunks_{};
  std::array<uint8_t, kMaxDeltaBytes> deltas_{};
  State state_;
  size_t max_size_;
  uint32_t sender_ssrc_ = 0;
  uint32_t media_ssrc_ = 0;
  uint8_t feedback_count_ = 0;
};

}  // namespace sfu::rtp::rtcp
