// NTP time as RTCP carries it (RFC 3550 §4): 64-bit fixed point, 32 bits of
// seconds since 1900-01-01 (RFC 5905 era 0) and 32 bits of fraction; its
// middle 32 bits ("compact", 16.16) are a report block's LSR, and DLSR is a
// duration in units of 1/65536 s (RFC 3550 §6.4.1). All of our NTP
// arithmetic is here; none of it reads a clock (see WallClock in
// common/time.hpp for where wall-clock time comes from).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "common/time.hpp"

namespace sfu::rtp {

// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
inline constexpr uint64_t kNtpUnixEpochSeconds = 2'208'988'800ull;
inline constexpr int64_t kMicrosPerSecond = 1'000'000;

// NTP time for `us` microseconds since the NTP epoch (floor for negatives).
constexpr uint64_t ntp_from_micros(int64_t us) {
  const int64_t secs = us >= 0 ? us / kMicrosPerSecond : (us - (kMicrosPerSecond - 1)) / kMicrosPerSecond;
  const uint64_t frac_us = uint64_t(us - secs * kMicrosPerSecond);
  return uint64_t(secs) << 32 | (frac_us << 32) / uint64_t(kMicrosPerSecond);
}

// NTP time of a wall-clock instant given as microseconds since the Unix epoch.
constexpr uint64_t ntp_from_unix_micros(int64_t unix_us) {
  return ntp_from_micros(unix_us + int64_t(kNtpUnixEpochSeconds) * kMicrosPerSecond);
}

// `ntp` advanced by `us` microseconds (us >= 0).
constexpr uint64_t ntp_plus_micros(uint64_t ntp, int64_t us) {
  return ntp + (uint64_t(us / kMicrosPerSecond) << 32) + (uint64_t(us % kMicrosPerSecond) << 32) / uint64_t(kMicrosPerSecond);
}

// A signed NTP difference in ticks of a `clock_rate` Hz RTP clock; split
// into seconds and fraction so that long spans do not overflow.
constexpr int64_t ntp_delta_to_ticks(int64_t ntp_delta, uint32_t clock_rate) {
  const int64_t seconds_part = ntp_delta >> 32;  // floor, also for negative deltas
  const uint64_t fraction = uint64_t(ntp_delta) & 0xffffffffu;
  return seconds_part * int64_t(clock_rate) + int64_t((fraction * clock_rate) >> 32);
}

// The middle 32 bits of an NTP timestamp: a report block's LSR.
constexpr uint32_t compact_ntp(uint64_t ntp) { return uint32_t(ntp >> 16); }

// A duration in compact NTP units (1/65536 s), as DLSR: negative gives 0,
// saturating at 2^32 - 1.
constexpr uint32_t to_compact_ntp_duration(Duration d) {
  const int64_t us = std::max<int64_t>(0, std::chrono::duration_cast<microseconds>(d).count());
  const uint64_t units = uint64_t(us) * 65536 / uint64_t(kMicrosPerSecond);
  return uint32_t(std::min<uint64_t>(units, std::numeric_limits<uint32_t>::max()));
}
constexpr Duration from_compact_ntp_duration(uint32_t units) {
  return microseconds(int64_t(units) * kMicrosPerSecond / 65536);
}

}  // namespace sfu::rtp
