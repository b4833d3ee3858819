// Per-SSRC state of one direction of an SRTP session: the highest RTP
// packet index with its replay window (RFC 3711 §3.3.1-§3.3.2), and the
// SRTCP index (sender: the next to use; receiver: a 128-index replay window).
//
// The arithmetic deliberately matches libsrtp 2.x, so that a session of
// either backend accepts and refuses exactly the same packets (the
// differential fuzzer checks that):
//   - index estimation: RFC 3711 Appendix A, except that while the highest
//     index is at most 2^15 the ROC is taken to be 0 (the RFC's guess would
//     be ROC - 1 = 2^32 - 1 for a sequence number far above it);
//   - the replay window is the configured size rounded up to a multiple of
//     32, ending at the highest index; delta > 0 is always new;
//   - a stream that has never been seen behaves as highest index 0 with an
//     empty window, so its first packet is taken at ROC 0 whatever its SEQ;
//   - SRTCP: a window of 128 indices [start, start + 128), moved forward so
//     that the newest index is its last.
//
// Storage: a dense array of streams, an open-addressing index over it
// (linear probing, load <= 1/2, multiplicative hash with a per-table random
// multiplier so that a peer cannot pick colliding SSRCs offline) and one
// bitmap block per stream. Everything for `initial_streams` SSRCs is
// allocated up front (control path). A new SSRC beyond that doubles the
// table: that allocates once, when the SSRC first appears, never per
// packet, and never for a packet that failed authentication (receivers
// insert only after the tag verified). At `max_streams` insert refuses and
// the caller drops the packet and counts it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sfu::dtls {

// An estimated SRTP packet index (RFC 3711 §3.3.1).
struct SrtpIndexGuess {
  uint64_t index = 0;  // ROC << 16 | SEQ, for the transform (at most 48 bits)
  int32_t delta = 0;   // how far the guess is past the highest index (<= 0: older)
};

// The index a packet with sequence number `seq` has, given the highest
// index accepted so far on its stream (0 for a new stream). See above for
// the one deviation from Appendix A and why.
SrtpIndexGuess srtp_estimate_index(uint64_t highest, uint16_t seq);

enum class SrtpReplay : uint8_t {
  fresh,      // not seen, inside or ahead of the window
  duplicate,  // inside the window and already seen
  too_old,    // behind the window
};

class SrtpStreamTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  // Largest max_streams: slots hold a 16-bit stream number.
  static constexpr size_t kMaxStreamsLimit = 32768;

  // replay_window: RTP window in packets, 1..32767 (the session checks the
  // range it allows); initial_streams: SSRCs allocated now (rounded up to a
  // power of two); max_streams: the cap (<= kMaxStreamsLimit);
  // hash_seed: any value, made odd. Control path: allocates.
  SrtpStreamTable(size_t replay_window, size_t initial_streams, size_t max_streams, uint32_t hash_seed);

  // The stream number of `ssrc`, or kNone. Allocation-free.
  uint32_t find(uint32_t ssrc) const;

  // Adds `ssrc`, which must not be present, with fresh state and returns its
  // number; kNone when max_streams are in use. Numbers stay valid for the
  // table's life. Allocates only when the table grows (see above).
  uint32_t insert(uint32_t ssrc);

  size_t size() const { return streams_.size(); }
  size_t capacity() const { return capacity_; }
  // The window size in effect (the configured one rounded up to 32).
  size_t replay_window() const { return window_; }

  // ---- RTP; `stream` may be kNone for an SSRC not in the table (fresh state).
  // The index of `seq` on `stream` (srtp_estimate_index).
  SrtpIndexGuess rtp_estimate(uint32_t stream, uint16_t seq) const;
  // RFC 3711 §3.3.2: may the packet at guess delta `delta` be accepted?
  SrtpReplay rtp_check(uint32_t stream, int32_t delta) const;
  // Records the packet at `delta` as seen, moving the window forward if
  // delta > 0. Call after rtp_check said fresh (or, sender, duplicate).
  void rtp_add(uint32_t stream, int32_t delta);
  // The highest index recorded (ROC << 16 | SEQ).
  uint64_t rtp_highest(uint32_t stream) const { return stream == kNone ? 0 : streams_[stream].rtp_highest; }

  // ---- SRTCP receiver: the 128-index window.
  SrtpReplay rtcp_check(uint32_t stream, uint32_t index) const;
  void rtcp_add(uint32_t stream, uint32_t index);

  // ---- SRTCP sender: the next index to send (starts at 0, RFC 3711 §3.4).
  uint32_t rtcp_next(uint32_t stream) const { return streams_[stream].rtcp_index; }
  void set_rtcp_next(uint32_t stream, uint32_t index) { streams_[stream].rtcp_index = index; }

 private:
  struct Stream {
    uint64_t rtp_highest = 0;
    uint64_t rtcp_bits[2] = {0, 0};  // receiver: bit k = index rtcp_index + k seen
    uint32_t ssrc = 0;
    uint32_t rtcp_index = 0;  // sender: next index; receiver: window start
  };

  size_t slot_of(uint32_t ssrc) const { return size_t(uint32_t(ssrc * seed_) >> slot_shift_); }
  uint64_t* bits(uint32_t stream) { return &bits_[size_t(stream) * words_]; }
  const uint64_t* bits(uint32_t stream) const { return &bits_[size_t(stream) * words_]; }
  void rebuild_slots(size_t capacity);

  size_t window_;     // libsrtp's window: configured size rounded up to 32
  size_t ring_bits_;  // bitmap bits per stream: a power of two >= window_
  size_t words_;      // ring_bits_ / 64
  size_t capacity_;   // streams allocated
  size_t max_streams_;
  uint32_t seed_;
  unsigned slot_shift_ = 0;
  std::vector<Stream> streams_;
  std::vector<uint64_t> bits_;   // capacity_ * words_: the RTP windows as rings
  std::vector<uint16_t> slots_;  // 2 * capacity_: stream number + 1, 0 = empty
};

}  // namespace sfu::dtls
