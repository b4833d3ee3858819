// Time types. Protocol engines never read a clock: `now` is an argument of
// type Instant, supplied by server/ (real clock) or by a test (virtual clock).
#pragma once

#include <chrono>
#include <cstdint>

namespace sfu {

using Clock = std::chrono::steady_clock;
using Instant = Clock::time_point;
using Duration = Clock::duration;

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Microseconds since the clock's epoch, for arithmetic in integer domains.
constexpr int64_t to_micros(Instant t) {
  return std::chrono::duration_cast<microseconds>(t.time_since_epoch()).count();
}
constexpr Instant from_micros(int64_t us) { return Instant(microseconds(us)); }

}  // namespace sfu
