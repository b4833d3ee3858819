// The send pacer of sfu-load's publishing PeerConnection: a byte budget
// refilled at a fixed rate (2.5x the publisher's target, as browsers pace),
// so a key frame's packets leave spread over milliseconds rather than in one
// burst. Sans-IO: the caller asks how much it may send now, reports what it
// sent, and is told when to come back.
//
// Two states:
//   - idle (the last call sent everything queued): unused budget is capped
//     at a 5 ms burst, so a quiet stream does not save up a burst;
//   - backlogged (the last call stopped for budget): the whole time since
//     is owed to the waiting packets, up to kMaxOwed. A media thread that
//     wakes late (a busy generator wakes every 10-20 ms, not every 1-2)
//     would otherwise lose budget at every wake-up, fall behind its own
//     frames for good, and starve: seen as 341 of 1,506 top-layer packets
//     put on the wire at load.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>

#include "common/time.hpp"

namespace sfu::load {

class Pacer {
 public:
  static constexpr Duration kBurst = milliseconds(5);
  static constexpr Duration kMaxOwed = seconds(1);
  static constexpr double kBurstSlackBytes = 1500;  // one packet more than the burst

  void set_rate(double bytes_per_second) { bytes_per_us_ = bytes_per_second / 1e6; }
  double rate_bytes_per_second() const { return bytes_per_us_ * 1e6; }

  // Refills the budget for the time since the last call; true while a
  // packet may be sent now.
  bool may_send(Instant now) {
    if (at_ != Instant{} && now > at_) {
      budget_ += bytes_per_us_ * double(std::chrono::duration_cast<microseconds>(now - at_).count());
    }
    at_ = now;
    const Duration window = backlogged_ ? kMaxOwed : kBurst;
    budget_ = std::min(budget_, bytes_per_us_ * double(to_micros_count(window)) + kBurstSlackBytes);
    return budget_ > 0;
  }
  void on_sent(size_t bytes) { budget_ -= double(bytes); }
  // The caller ran out of packets (idle) or of budget (backlogged, come
  // back at next_send()).
  void on_idle() { backlogged_ = false; }
  void on_out_of_budget() { backlogged_ = true; }
  bool backlogged() const { return backlogged_; }
  // When the budget is positive again (only meaningful when backlogged).
  Instant next_send() const {
    if (bytes_per_us_ <= 0) return at_ + kMaxOwed;  // no rate: nothing to pace (set_rate was never called)
    return at_ + microseconds(int64_t(std::max(0.0, -budget_) / bytes_per_us_) + 1);
  }

 private:
  static int64_t to_micros_count(Duration d) { return std::chrono::duration_cast<microseconds>(d).count(); }

  double bytes_per_us_ = 0;
  double budget_ = 0;
  Instant at_{};
  bool backlogged_ = false;
};

}  // namespace sfu::load
