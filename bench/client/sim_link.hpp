// SimLink: one direction of a simulated network path for the synthetic
// endpoints: a fixed delay plus uniform jitter, random loss, all from a
// seeded generator so runs are reproducible. Like a real path the link is
// FIFO (jitter delays a datagram and everything behind it) unless `reorder`
// lets each datagram take its own delay. Datagrams are
// copied into recycled buffers, so a long run allocates only up to its
// high-water mark. Time is an argument; nothing here reads a clock.
//
//   link.send(now, bytes);                      // may drop
//   while (auto d = link.pop_due(now)) ...;     // in delivery order
//   link.next_delivery()                        // for the virtual clock
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"

namespace sfu::client {

struct LinkProfile {
  double loss = 0.0;                  // probability that a datagram is dropped
  Duration delay = milliseconds(0);   // one-way base delay
  Duration jitter = milliseconds(0);  // extra delay, uniform in [0, jitter]
  bool reorder = false;               // independent delays: datagrams overtake each other
};

class SimLink {
 public:
  explicit SimLink(uint64_t seed = 1, LinkProfile profile = {}) : rng_(seed), profile_(profile) {}

  void set_profile(LinkProfile profile) { profile_ = profile; }
  const LinkProfile& profile() const { return profile_; }

  // Queues a copy of `datagram` for delivery after the link's delay, unless
  // the loss draw drops it. Returns false when dropped.
  bool send(Instant now, Bytes datagram) {
    ++sent_;
    if (profile_.loss > 0 && next_unit() < profile_.loss) {
      ++lost_;
      return false;
    }
    Duration delay = profile_.delay;
    if (profile_.jitter > Duration::zero())
      delay += Duration(Duration::rep(next_unit() * double(profile_.jitter.count())));
    Instant at = now + delay;
    if (!profile_.reorder) at = std::max(at, last_at_);
    last_at_ = at;
    const size_t slot = take_buffer();
    buffers_[slot].assign(datagram.begin(), datagram.end());
    queue_.push({at, order_++, slot});
    return true;
  }

  // When the next datagram is due, or nullopt when none is in flight.
  std::optional<Instant> next_delivery() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.top().at;
  }

  // The next datagram due at or before `now` (earliest first, FIFO among
  // equal times), or nullopt. The span is valid until the next pop_due().
  std::optional<Bytes> pop_due(Instant now) {
    if (last_) {
      free_.push_back(*last_);
      last_.reset();
    }
    if (queue_.empty() || queue_.top().at > now) return std::nullopt;
    const size_t slot = queue_.top().slot;
    queue_.pop();
    last_ = slot;
    ++delivered_;
    return Bytes(buffers_[slot]);
  }

  uint64_t sent() const { return sent_; }
  uint64_t lost() const { return lost_; }
  uint64_t delivered() const { return delivered_; }
  size_t in_flight() const { return queue_.size(); }

 private:
  struct Pending {
    Instant at;
    uint64_t order = 0;
    size_t slot = 0;
    bool operator>(const Pending& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  size_t take_buffer() {
    if (!free_.empty()) {
      const size_t s = free_.back();
      free_.pop_back();
      return s;
    }
    buffers_.emplace_back();
    return buffers_.size() - 1;
  }

  double next_unit() {  // splitmix64 -> [0, 1)
    uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return double((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  }

  uint64_t rng_;
  LinkProfile profile_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> queue_;
  std::vector<std::vector<uint8_t>> buffers_;
  std::vector<size_t> free_;
  std::optional<size_t> last_;
  Instant last_at_{};
  uint64_t order_ = 0, sent_ = 0, lost_ = 0, delivered_ = 0;
};

}  // namespace sfu::client
