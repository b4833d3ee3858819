// A deterministic simulated network for sans-IO engines: datagrams between
// two endpoints with loss, random delay (hence reordering) and a virtual
// clock that jumps to the next event instead of sleeping.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <vector>

#include "common/time.hpp"
#include "ice/path.hpp"

namespace sfu::test {

struct LinkProfile {
  double loss = 0.0;                      // probability a datagram is dropped
  Duration min_delay = milliseconds(5);   // one-way delay, uniform in [min, max]:
  Duration max_delay = milliseconds(5);   // a spread reorders packets
};

class SimNetwork {
 public:
  struct Datagram {
    Instant deliver_at;
    uint64_t order;  // tie-break: FIFO for equal times
    int to;          // endpoint index 0 or 1
    ice::Path path;  // as the receiver sees it
    std::vector<uint8_t> bytes;
    bool operator>(const Datagram& o) const {
      return deliver_at != o.deliver_at ? deliver_at > o.deliver_at : order > o.order;
    }
  };

  explicit SimNetwork(uint32_t seed, LinkProfile link = {}) : rng_(seed), link_(link) {}

  void set_link(LinkProfile link) { link_ = link; }
  // Sends from endpoint `from` (0 or 1) to the other; `arrives_as` is the
  // path the receiver will see it on.
  void send(int from, const ice::Path& arrives_as, Bytes bytes) {
    ++sent_;
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < link_.loss) {
      ++lost_;
      return;
    }
    const auto spread = (link_.max_delay - link_.min_delay).count();
    const Duration delay = link_.min_delay + Duration(spread > 0 ? std::uniform_int_distribution<int64_t>(0, spread)(rng_) : 0);
    queue_.push({now + delay, order_++, 1 - from, arrives_as, {bytes.begin(), bytes.end()}});
  }

  std::optional<Instant> next_delivery() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.top().deliver_at;
  }
  // Pops the next datagram due at or before `now`.
  std::optional<Datagram> pop_due() {
    if (queue_.empty() || queue_.top().deliver_at > now) return std::nullopt;
    Datagram d = queue_.top();
    queue_.pop();
    return d;
  }

  Instant now = from_micros(1'000'000'000);
  uint64_t sent() const { return sent_; }
  uint64_t lost() const { return lost_; }

 private:
  std::mt19937 rng_;
  LinkProfile link_;
  std::priority_queue<Datagram, std::vector<Datagram>, std::greater<>> queue_;
  uint64_t order_ = 0, sent_ = 0, lost_ = 0;
};

}  // namespace sfu::test
