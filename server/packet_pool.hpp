// Fixed-size packet buffers for one worker, preallocated in one slab and
// recycled through a free list. Single-threaded (owned by its worker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"

namespace sfu::server {

// Large enough for any datagram on a 1500-byte MTU plus SRTP/RTX growth.
inline constexpr size_t kPacketBufferSize = 2048;

class PacketPool {
 public:
  explicit PacketPool(size_t count) : slab_(count * kPacketBufferSize) {
    free_.reserve(count);
    for (size_t i = count; i-- > 0;) free_.push_back(slab_.data() + i * kPacketBufferSize);
  }
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;

  // A kPacketBufferSize buffer, or an empty span when the pool is exhausted
  // (the caller drops the packet and counts it). O(1), no allocation.
  MutBytes acquire() {
    if (free_.empty()) {
      ++exhausted_;
      return {};
    }
    uint8_t* p = free_.back();
    free_.pop_back();
    return MutBytes(p, kPacketBufferSize);
  }

  // Returns a buffer obtained from acquire() of this pool.
  void release(MutBytes buffer) { free_.push_back(buffer.data()); }

  bool owns(const uint8_t* p) const {
    return p >= slab_.data() && p < slab_.data() + slab_.size() && (p - slab_.data()) % kPacketBufferSize == 0;
  }
  size_t available() const { return free_.size(); }
  size_t capacity() const { return slab_.size() / kPacketBufferSize; }
  uint64_t exhausted() const { return exhausted_; }

 private:
  std::vector<uint8_t> slab_;
  std::vector<uint8_t*> free_;
  uint64_t exhausted_ = 0;
};

}  // namespace sfu::server
