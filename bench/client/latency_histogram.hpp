// A fixed-size histogram of latencies in microseconds with ~3 % relative
// resolution: 32 linear buckets of 32 µs below 1.024 ms, then 32 buckets per
// octave up to 2^32 µs (71 minutes). Percentiles return the bucket's
// midpoint. No allocation; 2.9 KB per instance.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace sfu::client {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 5;                                     // 32 buckets per octave
  static constexpr int64_t kLinearLimit = int64_t(1) << (kSubBits + 5);  // 1024 µs
  static constexpr int kMaxExponent = 32;
  static constexpr size_t kBuckets = size_t(1 << kSubBits) * size_t(kMaxExponent - kSubBits - 4);

  // Counts one sample; negative values (clock skew) count as 0.
  void record(int64_t us) {
    ++counts_[index_of(std::max<int64_t>(us, 0))];
    ++total_;
  }

  uint64_t count() const { return total_; }

  // The value below which a fraction `q` (0..1) of the samples lie; 0 when
  // empty.
  int64_t percentile(double q) const {
    if (total_ == 0) return 0;
    const uint64_t rank = std::min<uint64_t>(total_ - 1, uint64_t(q * double(total_)));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen > rank) return midpoint_of(i);
    }
    return midpoint_of(kBuckets - 1);
  }

  // Adds every sample of `other` (histograms of several streams, say).
  void merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
  }

  void reset() {
    counts_.fill(0);
    total_ = 0;
  }

 private:
  static constexpr int64_t kLinearWidth = kLinearLimit >> kSubBits;  // 32 µs

  static size_t index_of(int64_t us) {
    if (us < kLinearLimit) return size_t(us / kLinearWidth);
    const int exp = std::min(kMaxExponent - 1, int(std::bit_width(uint64_t(us))) - 1);  // >= 10
    const int64_t sub = (us >> (exp - kSubBits)) & ((1 << kSubBits) - 1);
    const size_t i = size_t(1 << kSubBits) * size_t(exp - kSubBits - 4) + size_t(sub);
    return std::min(i, kBuckets - 1);
  }

  static int64_t midpoint_of(size_t i) {
    const size_t per = size_t(1) << kSubBits;
    if (i < per) return int64_t(i) * kLinearWidth + kLinearWidth / 2;
    const int exp = int(i / per) + kSubBits + 4;
    const int64_t width = int64_t(1) << (exp - kSubBits);
    return (int64_t(1) << exp) + int64_t(i % per) * width + width / 2;
  }

  std::array<uint32_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};

}  // namespace sfu::client
