// Bytes per whole second of a clock, for the last kSeconds seconds: what a
// stream received inside a window known only afterwards (sfu-load's steady
// window starts a few seconds after the last join). O(1) per packet, no heap.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>

#include "common/time.hpp"

namespace sfu::client {

class RateWindow {
 public:
  static constexpr int64_t kSeconds = 128;

  void add(Instant now, uint64_t bytes) {
    const int64_t s = second_of(now);
    Slot& slot = slots_[size_t(s % kSeconds)];
    if (slot.second != s) slot = Slot{s, 0};
    slot.bytes += bytes;
  }

  // Bit/s over the whole seconds inside [from, to) (at most the last
  // kSeconds); 0 when that holds no whole second.
  double bps(Instant from, Instant to) const {
    const int64_t first = second_of(from) + (from > second_start(second_of(from)) ? 1 : 0);
    const int64_t end = second_of(to);  // second end-1 is over by `to`
    const int64_t start = std::max(first, end - kSeconds);
    if (end <= start) return 0;
    uint64_t bytes = 0;
    for (int64_t s = start; s < end; ++s) {
      const Slot& slot = slots_[size_t(s % kSeconds)];
      if (slot.second == s) bytes += slot.bytes;
    }
    return double(bytes) * 8 / double(end - start);
  }

 private:
  struct Slot {
    int64_t second = -1;
    uint64_t bytes = 0;
  };
  static int64_t second_of(Instant t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  }
  static Instant second_start(int64_t s) { return Instant{} + std::chrono::seconds(s); }

  std::array<Slot, kSeconds> slots_{};
};

}  // namespace sfu::client
