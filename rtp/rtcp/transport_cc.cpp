#include "rtp/rtcp/transport_cc.hpp"

#include <algorithm>
#include <bit>

namespace sfu::rtp::rtcp {
namespace {

constexpr size_t kFixedBodySize = kTransportCcFixedSize - kHeaderSize;  // 16
constexpr uint8_t kNotReceived = uint8_t(TransportCcSymbol::not_received);
constexpr uint8_t kSmall = uint8_t(TransportCcSymbol::small_delta);
constexpr uint8_t kLarge = uint8_t(TransportCcSymbol::large_delta);
constexpr uint8_t kReserved = uint8_t(TransportCcSymbol::reserved);
constexpr int64_t kTicksPerReference = kTransportCcReferenceUnitUs / kTransportCcDeltaUnitUs;  // 256

// Chunk word layout (§3.1.3, §3.1.4); bit 0 of the draft is the MSB here.
constexpr bool is_vector(uint16_t w) { return (w & 0x8000) != 0; }
constexpr bool is_two_bit(uint16_t w) { return (w & 0x4000) != 0; }
constexpr uint8_t run_symbol(uint16_t w) { return uint8_t((w >> 13) & 3); }
constexpr uint16_t run_length(uint16_t w) { return w & kTransportCcMaxRunLength; }
constexpr uint16_t vector_capacity(uint16_t w) { return is_two_bit(w) ? 7 : 14; }
constexpr uint16_t chunk_capacity(uint16_t w) { return is_vector(w) ? vector_capacity(w) : run_length(w); }

// Symbol i (0-based, first = most significant) of a chunk.
constexpr uint8_t chunk_symbol(uint16_t w, unsigned i) {
  if (!is_vector(w)) return run_symbol(w);
  if (!is_two_bit(w)) return uint8_t((w >> (13 - i)) & 1);
  return uint8_t((w >> (12 - 2 * i)) & 3);
}

constexpr size_t delta_size(uint8_t symbol) { return symbol == kSmall ? 1 : symbol == kLarge ? 2 : 0; }

constexpr int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct ChunkTally {
  uint32_t covered = 0;  // symbols counted towards the status count
  uint32_t received = 0;
  size_t delta_bytes = 0;
  bool reserved = false;
};

// Counts the first `limit` symbols of a chunk (fewer if the chunk holds fewer).
ChunkTally tally_chunk(uint16_t w, uint32_t limit) {
  ChunkTally t;
  t.covered = std::min<uint32_t>(chunk_capacity(w), limit);
  if (!is_vector(w)) {
    const uint8_t s = run_symbol(w);
    // A run of the reserved symbol is refused even when it counts nothing.
    t.reserved = s == kReserved;
    t.received = s == kNotReceived ? 0 : t.covered;
    t.delta_bytes = delta_size(s) * t.covered;
  } else if (!is_two_bit(w)) {
    // 1-bit vector: 1 = received (small delta), 0 = not received. (The
    // draft's prose swaps the two; its example 1 and every sender agree.)
    const unsigned bits = unsigned(w & 0x3fff) >> (14 - t.covered);
    t.received = uint32_t(std::popcount(bits));
    t.delta_bytes = t.received;
  } else {
    for (unsigned i = 0; i < t.covered; ++i) {
      const uint8_t s = chunk_symbol(w, i);
      t.reserved |= s == kReserved;
      t.received += s != kNotReceived;
      t.delta_bytes += delta_size(s);
    }
  }
  return t;
}

}  // namespace

//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |V=2|P|  FMT=15 |    PT=205     |           length              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     SSRC of packet sender                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                      SSRC of media source                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      base sequence number     |      packet status count      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 reference time                | fb pkt. count |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          packet chunk         |         packet chunk          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// .                                                               .
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |         packet chunk          |  recv delta   |  recv delta   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// .                                                               .
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           recv delta          |  recv delta   | zero padding  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Run length chunk (§3.1.3)          Status vector chunk (§3.1.4)
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |T| S |       Run Length        |  |T|S|       symbol list         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  T=0, S = symbol, 13-bit length     T=1, S=0: 14 x 1 bit, S=1: 7 x 2 bits
//
// Recv delta (§3.1.5): 8 bits unsigned for symbol 01, 16 bits signed for 10,
// in 250 µs units; the first is relative to the reference time (64 ms units,
// 24-bit signed).
Result<TransportCcView, ParseError> parse_transport_cc(const PacketView& packet) {
  if (packet.type != pt::kRtpFeedback || packet.count != fmt::kTransportCc) return fail(ParseError::bad_type);
  const Bytes body = packet.body;
  if (body.size() < kFixedBodySize) return fail(ParseError::truncated);

  TransportCcView v;
  v.sender_ssrc_ = load_be32(&body[0]);  // length checked above
  v.media_ssrc_ = load_be32(&body[4]);
  v.base_sequence_ = load_be16(&body[8]);
  v.status_count_ = load_be16(&body[10]);
  v.reference_time_raw_ = load_be24(&body[12]);
  v.feedback_count_ = body[15];

  size_t pos = kFixedBodySize;
  uint32_t covered = 0;
  uint32_t received = 0;
  size_t delta_bytes = 0;
  while (covered < v.status_count_) {
    if (body.size() - pos < 2) return fail(ParseError::truncated);  // chunks end before the count
    const ChunkTally t = tally_chunk(load_be16(&body[pos]), v.status_count_ - covered);
    pos += 2;
    if (t.reserved) return fail(ParseError::bad_value);
    covered += t.covered;
    received += t.received;
    delta_bytes += t.delta_bytes;
  }
  v.chunks_ = body.subspan(kFixedBodySize, pos - kFixedBodySize);
  if (body.size() - pos < delta_bytes) return fail(ParseError::truncated);  // missing recv deltas
  v.deltas_ = body.subspan(pos, delta_bytes);
  v.received_count_ = uint16_t(received);  // <= status count
  pos += delta_bytes;

  // Zero padding to the 32-bit boundary; RTCP padding (P bit) was already
  // stripped by parse_packet.
  const Bytes tail = body.subspan(pos);
  if (tail.size() > 3) return fail(ParseError::bad_length);
  if (std::any_of(tail.begin(), tail.end(), [](uint8_t b) { return b != 0; })) return fail(ParseError::bad_padding);
  return v;
}

Result<TransportCcView, ParseError> parse_transport_cc(Bytes packet) {
  auto p = parse_packet(packet);
  if (!p) return fail(p.error());
  return parse_transport_cc(*p);
}

TransportCcView::Iterator TransportCcView::begin() const {
  Iterator it;
  it.chunks_ = chunks_;
  it.deltas_ = deltas_;
  it.remaining_ = status_count_;
  it.time_us_ = reference_time_us();
  it.cur_.sequence = base_sequence_;
  if (it.remaining_ > 0) it.decode_current();
  return it;
}

TransportCcView::Iterator& TransportCcView::Iterator::operator++() {
  if (remaining_ == 0) return *this;
  if (--remaining_ == 0) return *this;
  ++cur_.sequence;  // wraps 65535 -> 0
  decode_current();
  return *this;
}

TransportCcSymbol TransportCcView::Iterator::next_symbol() {
  while (chunk_left_ == 0) {
    // parse_transport_cc checked that the chunks cover every entry; the
    // bound check only keeps a default-constructed iterator safe.
    if (chunks_.size() - chunk_pos_ < 2) return TransportCcSymbol::not_received;
    word_ = load_be16(&chunks_[chunk_pos_]);
    chunk_pos_ += 2;
    chunk_left_ = chunk_capacity(word_);
    chunk_index_ = 0;
  }
  --chunk_left_;
  return TransportCcSymbol(chunk_symbol(word_, is_vector(word_) ? chunk_index_++ : 0));
}

void TransportCcView::Iterator::decode_current() {
  const TransportCcSymbol s = next_symbol();
  int64_t ticks = 0;
  if (s == TransportCcSymbol::small_delta && deltas_.size() - delta_pos_ >= 1) {
    ticks = deltas_[delta_pos_];
    delta_pos_ += 1;
  } else if (s == TransportCcSymbol::large_delta && deltas_.size() - delta_pos_ >= 2) {
    ticks = int16_t(load_be16(&deltas_[delta_pos_]));
    delta_pos_ += 2;
  } else {
    cur_.received = false;
    cur_.delta_us = 0;
    cur_.arrival_us = 0;
    return;
  }
  cur_.received = true;
  cur_.delta_us = ticks * kTransportCcDeltaUnitUs;
  time_us_ += cur_.delta_us;
  cur_.arrival_us = time_us_;
}

// ---- Builder ---------------------------------------------------------------

namespace {

uint16_t encode_run(uint8_t symbol, uint16_t length) { return uint16_t(symbol << 13 | length); }

// A vector chunk from the first `n` symbols; unused slots are zero
// (not received), which the parser ignores in the last chunk.
uint16_t encode_vector(const uint8_t* symbols, size_t n, bool two_bit) {
  uint16_t w = two_bit ? 0xc000 : 0x8000;
  for (size_t i = 0; i < n; ++i) w |= two_bit ? uint16_t(symbols[i] << (12 - 2 * i)) : uint16_t(symbols[i] << (13 - i));
  return w;
}

// The single chunk the pending symbols fit (see the Pending invariant).
template <class Pending>
uint16_t encode_pending(const Pending& p) {
  if (p.uniform) return encode_run(p.symbols[0], p.size);
  return encode_vector(p.symbols.data(), p.size, p.large);
}

template <class Pending>
bool fits_with(const Pending& p, uint8_t symbol) {
  const bool uniform = p.size == 0 || (p.uniform && p.symbols[0] == symbol);
  const bool large = p.large || symbol == kLarge;
  const uint32_t size = p.size + 1u;
  return (uniform && size <= kTransportCcMaxRunLength) || (!large && size <= 14) || size <= 7;
}

}  // namespace

TransportCcBuilder::TransportCcBuilder(size_t max_size)
    : max_size_(std::clamp<size_t>(max_size, kTransportCcFixedSize + 4, kTransportCcMaxSize) & ~size_t(3)) {}

size_t TransportCcBuilder::size_of(const State& s) const {
  if (s.status_count == 0) return 0;
  const size_t chunks = s.chunk_count + (s.pending.size > 0 ? 1 : 0);
  const size_t raw = kTransportCcFixedSize + 2 * chunks + s.delta_size;
  return (raw + 3) & ~size_t(3);
}

// Commits the front of the pending symbols to one chunk.
bool TransportCcBuilder::emit_front(State& s) {
  Pending& p = s.pending;
  if (s.chunk_count == kMaxChunks) return false;
  if (p.uniform) {
    chunks_[s.chunk_count++] = encode_run(p.symbols[0], p.size);
    p = Pending{};
    return true;
  }
  // Mixed symbols: emit_front is only reached when the next symbol does not
  // fit, so there are 14 small/missing ones or at least 7 before a large one.
  const size_t n = (!p.large && p.size >= 14) ? 14 : 7;
  chunks_[s.chunk_count++] = encode_vector(p.symbols.data(), n, n == 7);
  Pending rest;
  for (size_t i = n; i < p.size; ++i) {
    const uint8_t sym = p.symbols[i];
    rest.uniform = rest.size == 0 || (rest.uniform && rest.symbols[0] == sym);
    rest.large |= sym == kLarge;
    rest.symbols[rest.size++] = sym;
  }
  p = rest;
  return true;
}

// Appends `n` copies of `symbol`, committing chunks as the pending window
// fills. Uniform runs are extended in bulk, so long gaps cost O(n / 8191).
bool TransportCcBuilder::push_symbols(State& s, uint8_t symbol, uint32_t n) {
  Pending& p = s.pending;
  while (n > 0) {
    if (p.size == 0 || (p.uniform && p.symbols[0] == symbol)) {
      const uint32_t take = std::min<uint32_t>(n, kTransportCcMaxRunLength - p.size);
      if (take == 0) {
        if (!emit_front(s)) return false;
        continue;
      }
      for (uint32_t i = p.size; i < std::min<uint32_t>(p.size + take, 14); ++i) p.symbols[i] = symbol;
      p.size = uint16_t(p.size + take);
      p.uniform = true;
      p.large |= symbol == kLarge;
      n -= take;
    } else if (fits_with(p, symbol)) {
      p.symbols[p.size++] = symbol;  // mixed, so size <= 14
      p.uniform = false;
      p.large |= symbol == kLarge;
      --n;
    } else if (!emit_front(s)) {
      return false;
    }
  }
  return true;
}

bool TransportCcBuilder::add_received(uint16_t seq, int64_t arrival_us) {
  State s = state_;  // work on a copy: failure leaves the builder unchanged
  const int64_t ticks = floor_div(arrival_us, kTransportCcDeltaUnitUs);
  if (s.status_count == 0) {
    s.reference = floor_div(arrival_us, kTransportCcReferenceUnitUs);
    s.last_ticks = s.reference * kTicksPerReference;
    s.base_seq = seq;
    s.next_seq = seq;
  }
  const uint16_t gap = uint16_t(seq - s.next_seq);  // wraps 65535 -> 0
  if (gap >= 0x8000) return false;                  // not newer than the last one
  if (s.status_count + gap + 1 > 0xffff) return false;

  const int64_t delta = ticks - s.last_ticks;
  uint8_t symbol = kSmall;
  if (delta < 0 || delta > 0xff) {
    if (delta < INT16_MIN || delta > INT16_MAX) return false;
    symbol = kLarge;
  }
  if (s.delta_size + delta_size(symbol) > kMaxDeltaBytes) return false;
  if (gap > 0 && !push_symbols(s, kNotReceived, gap)) return false;
  if (!push_symbols(s, symbol, 1)) return false;

  // Slots past state_.delta_size are unused, so writing before the size
  // check below does not disturb the committed state.
  if (symbol == kSmall) {
    deltas_[s.delta_size++] = uint8_t(delta);
  } else {
    store_be16(&deltas_[s.delta_size], uint16_t(int16_t(delta)));
    s.delta_size += 2;
  }
  s.status_count += gap + 1u;
  s.next_seq = uint16_t(seq + 1);
  s.last_ticks = ticks;
  ++s.received;
  if (size_of(s) > max_size_) return false;
  state_ = s;
  return true;
}

size_t TransportCcBuilder::serialize_to(MutBytes out) const {
  const size_t size = serialized_size();
  if (size == 0 || out.size() < size) return 0;
  if (!write_header(out, fmt::kTransportCc, pt::kRtpFeedback, size)) return 0;
  ByteWriter w(out.subspan(kHeaderSize, size - kHeaderSize));
  w.write_u32(sender_ssrc_);
  w.write_u32(media_ssrc_);
  w.write_u16(state_.base_seq);
  w.write_u16(uint16_t(state_.status_count));
  w.write_u24(uint32_t(uint64_t(state_.reference) & 0xffffff));  // 24-bit wrap
  w.write_u8(feedback_count_);
  for (size_t i = 0; i < state_.chunk_count; ++i) w.write_u16(chunks_[i]);
  if (state_.pending.size > 0) w.write_u16(encode_pending(state_.pending));
  w.write_bytes(Bytes(deltas_.data(), state_.delta_size));
  w.write_zeros(w.remaining());
  return w.ok() ? size : 0;
}

}  // namespace sfu::rtp::rtcp
