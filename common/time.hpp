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

// Wall-clock time as the steady clock plus an offset, read once by whoever
// owns the clocks (a worker when it starts; a simulation picks a fixed
// value) and passed in, so an engine that stamps wall-clock time (RTCP
// sender reports) reads no clock itself. The offset does not follow later
// changes of the system clock: NTP timestamps in reports must not jump.
struct WallClock {
  Duration unix_minus_steady{};  // Unix time of steady-clock instant t: t + this

  static WallClock system() {
    return {std::chrono::duration_cast<Duration>(std::chrono::system_clock::now().time_since_epoch()) -
            Clock::now().time_since_epoch()};
  }
  int64_t unix_micros(Instant t) const {
    return std::chrono::duration_cast<microseconds>(t.time_since_epoch() + unix_minus_steady).count();
  }
};

}  // namespace sfu
