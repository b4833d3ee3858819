// Serial-number arithmetic (RFC 1982) for RTP sequence numbers (16 bits,
// RFC 3550 §5.1) and RTP timestamps (32 bits), and unwrappers that extend
// them to 64-bit counters.
//
// RFC 1982 §3.2 leaves the comparison of two numbers exactly half the space
// apart undefined. We break that tie deterministically (the numerically larger
// one is "newer"), so that for a != b exactly one of newer(a, b) and
// newer(b, a) holds and diff(a, b) == -diff(b, a) except at the tie.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>

namespace sfu::rtp {

namespace detail {

// Unsigned serial types we do arithmetic on: uint16_t and uint32_t.
template <class T>
concept SerialWord = std::same_as<T, uint16_t> || std::same_as<T, uint32_t>;

template <SerialWord T>
inline constexpr T kHalf = T(T(1) << (std::numeric_limits<T>::digits - 1));

template <SerialWord T>
constexpr bool serial_newer(T a, T b) {
  const T d = T(a - b);
  if (d == kHalf<T>) return a > b;  // the undefined case of RFC 1982 §3.2
  return d != 0 && d < kHalf<T>;
}

// Signed distance a - b, in [-half, half], consistent with serial_newer.
template <SerialWord T>
constexpr int64_t serial_diff(T a, T b) {
  const T d = T(a - b);
  const int64_t half = int64_t(kHalf<T>);
  if (d == kHalf<T>) return a > b ? half : -half;
  return d < kHalf<T> ? int64_t(d) : int64_t(d) - 2 * half;
}

}  // namespace detail

// True when sequence number `a` comes after `b` (RFC 1982 serial order,
// wrap-aware: seq_newer(0, 65535) is true). False when a == b.
constexpr bool seq_newer(uint16_t a, uint16_t b) { return detail::serial_newer(a, b); }

// How far `a` is ahead of `b` in packets, negative when behind; in
// [-32768, 32768]. seq_diff(0, 65535) == 1, seq_diff(65535, 0) == -1.
constexpr int32_t seq_diff(uint16_t a, uint16_t b) { return int32_t(detail::serial_diff(a, b)); }

// True when RTP timestamp `a` comes after `b` (32-bit serial order).
constexpr bool timestamp_newer(uint32_t a, uint32_t b) { return detail::serial_newer(a, b); }

// How far timestamp `a` is ahead of `b` in clock ticks, negative when behind;
// in [-2^31, 2^31].
constexpr int64_t timestamp_diff(uint32_t a, uint32_t b) { return detail::serial_diff(a, b); }

// Extends a wrapping T counter to int64_t. The first value maps to itself;
// each later value maps to the extended number nearest (in serial order) to
// the previous one, so forward wraps count up (65535, 0 -> 65535, 65536) and
// reordered packets across a wrap count down (0, 65535 -> 0, -1). Every call
// moves the reference to the value just unwrapped. Holds no allocation; one
// instance per stream, not thread-safe (like everything on the media path).
template <detail::SerialWord T>
class SerialUnwrapper {
 public:
  // Returns the extended value of `v` and makes it the new reference.
  constexpr int64_t unwrap(T v) {
    const int64_t ext = peek(v);
    last_ = ext;
    last_raw_ = v;
    return ext;
  }

  // Returns what unwrap(v) would return, without changing the reference.
  constexpr int64_t peek(T v) const {
    if (!last_) return int64_t(v);
    return *last_ + detail::serial_diff(v, last_raw_);
  }

  // The last extended value returned by unwrap(), if any.
  constexpr std::optional<int64_t> last() const { return last_; }

  // Forgets the reference; the next value maps to itself again.
  constexpr void reset() { last_.reset(); }

 private:
  std::optional<int64_t> last_;
  T last_raw_ = 0;
};

// RTP sequence numbers (RFC 3550 §5.1) -> extended int64 sequence.
using SeqUnwrapper = SerialUnwrapper<uint16_t>;
// RTP timestamps (RFC 3550 §5.1) -> extended int64 timestamp.
using TimestampUnwrapper = SerialUnwrapper<uint32_t>;

}  // namespace sfu::rtp
