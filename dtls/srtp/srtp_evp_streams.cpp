// Per-SSRC SRTP state: index estimation and replay windows (see the header).
#include "dtls/srtp/srtp_evp_streams.hpp"

#include <algorithm>
#include <bit>

namespace sfu::dtls {

namespace {

constexpr uint64_t kSeqMedian = 1u << 15;  // RFC 3711 Appendix A: 2^(16-1)
constexpr int32_t kSeqSpan = 1 << 16;
constexpr uint32_t kRtcpWindow = 128;

// Clears `count` bits of the ring `words` (`ring_bits` long, a power of
// two) starting at bit `from` (taken modulo ring_bits).
void clear_ring(uint64_t* words, size_t ring_bits, uint64_t from, uint64_t count) {
  if (count >= ring_bits) {
    std::fill(words, words + ring_bits / 64, 0);
    return;
  }
  size_t pos = size_t(from & (ring_bits - 1));
  while (count > 0) {
    const size_t bit = pos % 64;
    const size_t n = std::min<uint64_t>(count, 64 - bit);
    const uint64_t mask = (n == 64 ? ~uint64_t(0) : (uint64_t(1) << n) - 1) << bit;
    words[pos / 64] &= ~mask;
    count -= n;
    pos = (pos + n) & (ring_bits - 1);
  }
}

}  // namespace

SrtpIndexGuess srtp_estimate_index(uint64_t highest, uint16_t seq) {
  // While the highest index is at most 2^15 (ROC 0), take ROC = 0: a SEQ
  // far above it is a jump forward, not the previous cycle (which would
  // be ROC 2^32 - 1). libsrtp does the same.
  if (highest <= kSeqMedian) return {seq, int32_t(seq) - int32_t(highest)};
  // RFC 3711 Appendix A: v = ROC - 1, ROC or ROC + 1, whichever puts the
  // index closest to s_l.
  const uint32_t roc = uint32_t(highest >> 16);
  const int32_t s_l = int32_t(highest & 0xffff);
  const int32_t s = seq;
  uint32_t guess_roc = roc;
  int32_t delta = s - s_l;
  if (s_l < int32_t(kSeqMedian)) {
    if (s - s_l > int32_t(kSeqMedian)) {
      guess_roc = roc - 1;
      delta = s - s_l - kSeqSpan;
    }
  } else if (s_l - int32_t(kSeqMedian) > s) {
    guess_roc = roc + 1;
    delta = s - s_l + kSeqSpan;
  }
  return {uint64_t(guess_roc) << 16 | seq, delta};
}

SrtpStreamTable::SrtpStreamTable(size_t replay_window, size_t initial_streams, size_t max_streams, uint32_t hash_seed)
    : window_((std::max<size_t>(replay_window, 1) + 31) & ~size_t(31)),
      ring_bits_(std::max<size_t>(64, std::bit_ceil(window_))),
      words_(ring_bits_ / 64),
      capacity_(std::bit_ceil(std::clamp<size_t>(initial_streams, 1, kMaxStreamsLimit))),
      max_streams_(std::clamp<size_t>(max_streams, 1, kMaxStreamsLimit)),
      seed_(hash_seed | 1) {
  streams_.reserve(capacity_);
  bits_.assign(capacity_ * words_, 0);
  rebuild_slots(capacity_);
}

void SrtpStreamTable::rebuild_slots(size_t capacity) {
  const size_t slots = 2 * capacity;  // load factor <= 1/2
  slots_.assign(slots, 0);
  slot_shift_ = 32 - unsigned(std::countr_zero(slots));
  for (size_t i = 0; i < streams_.size(); ++i) {
    size_t s = slot_of(streams_[i].ssrc);
    while (slots_[s] != 0) s = (s + 1) & (slots - 1);
    slots_[s] = uint16_t(i + 1);
  }
}

uint32_t SrtpStreamTable::find(uint32_t ssrc) const {
  const size_t mask = slots_.size() - 1;
  for (size_t s = slot_of(ssrc);; s = (s + 1) & mask) {
    const uint16_t v = slots_[s];
    if (v == 0) return kNone;  // terminates: at least half the slots are empty
    if (streams_[v - 1].ssrc == ssrc) return v - 1u;
  }
}

uint32_t SrtpStreamTable::insert(uint32_t ssrc) {
  if (streams_.size() >= max_streams_) return kNone;
  if (streams_.size() == capacity_) {
    // Grow by doubling: allocates once for this new SSRC (see the header).
    capacity_ *= 2;
    streams_.reserve(capacity_);
    bits_.resize(capacity_ * words_, 0);
    rebuild_slots(capacity_);
  }
  const uint32_t n = uint32_t(streams_.size());
  streams_.push_back(Stream{.ssrc = ssrc});
  std::fill(bits(n), bits(n) + words_, 0);
  size_t s = slot_of(ssrc);
  while (slots_[s] != 0) s = (s + 1) & (slots_.size() - 1);
  slots_[s] = uint16_t(n + 1);
  return n;
}

// ---- RTP ------------------------------------------------------------------------

SrtpIndexGuess SrtpStreamTable::rtp_estimate(uint32_t stream, uint16_t seq) const {
  return srtp_estimate_index(rtp_highest(stream), seq);
}

SrtpReplay SrtpStreamTable::rtp_check(uint32_t stream, int32_t delta) const {
  // RFC 3711 §3.3.2: ahead of the highest index is always new; behind the
  // window is too old; inside it, the bitmap decides.
  if (delta > 0 || stream == kNone) return SrtpReplay::fresh;
  const uint64_t age = uint64_t(-int64_t(delta));
  if (age >= window_) return SrtpReplay::too_old;
  const size_t pos = size_t((streams_[stream].rtp_highest - age) & (ring_bits_ - 1));
  return (bits(stream)[pos / 64] >> (pos % 64)) & 1 ? SrtpReplay::duplicate : SrtpReplay::fresh;
}

void SrtpStreamTable::rtp_add(uint32_t stream, int32_t delta) {
  uint64_t& highest = streams_[stream].rtp_highest;
  uint64_t* ring = bits(stream);
  if (delta > 0) {
    // The window slides: the positions of the indices it skips over are
    // recycled from the oldest end of the ring.
    clear_ring(ring, ring_bits_, highest + 1, uint64_t(delta));
    highest += uint64_t(delta);
  }
  const uint64_t at = delta > 0 ? highest : highest - uint64_t(-int64_t(delta));
  const size_t pos = size_t(at & (ring_bits_ - 1));
  ring[pos / 64] |= uint64_t(1) << (pos % 64);
}

// ---- SRTCP receiver ---------------------------------------------------------------

SrtpReplay SrtpStreamTable::rtcp_check(uint32_t stream, uint32_t index) const {
  const uint64_t start = stream == kNone ? 0 : streams_[stream].rtcp_index;
  if (index >= start + kRtcpWindow) return SrtpReplay::fresh;
  if (index < start) return SrtpReplay::too_old;
  if (stream == kNone) return SrtpReplay::fresh;
  const uint32_t k = uint32_t(index - start);
  return (streams_[stream].rtcp_bits[k / 64] >> (k % 64)) & 1 ? SrtpReplay::duplicate : SrtpReplay::fresh;
}

void SrtpStreamTable::rtcp_add(uint32_t stream, uint32_t index) {
  Stream& st = streams_[stream];
  if (index < st.rtcp_index) return;  // behind the window: rtcp_check refused it
  uint32_t k = index - st.rtcp_index;
  if (k >= kRtcpWindow) {
    // Move the window so that `index` is its last entry: bit j becomes
    // bit j - shift (a 128-bit right shift over two words).
    const uint32_t shift = k - (kRtcpWindow - 1);
    uint64_t* b = st.rtcp_bits;
    if (shift >= 128) {
      b[0] = b[1] = 0;
    } else if (shift >= 64) {
      b[0] = b[1] >> (shift - 64);
      b[1] = 0;
    } else {
      b[0] = (b[0] >> shift) | (b[1] << (64 - shift));  // shift >= 1 here
      b[1] >>= shift;
    }
    st.rtcp_index += shift;
    k = kRtcpWindow - 1;
  }
  st.rtcp_bits[k / 64] |= uint64_t(1) << (k % 64);
}

}  // namespace sfu::dtls
