// Metrics in the Prometheus text exposition format (version 0.0.4), and
// the two pieces every node-level metric is built from: a fixed-bucket
// histogram, and Published<T>, which carries a plain struct of counters
// from the thread that owns them to the thread that scrapes.
//
// How a worker's numbers reach GET /metrics (no lock, no allocation, and
// nothing added to the packet path):
//
//   packet path ── ++plain counters (TransportCounters, RouterCounters, …)
//        │
//   worker, once a second ── sums live objects + retired ones ──► Sample
//        │                                         (monotonic counters)
//   Published<Sample>::publish ── relaxed atomic store per field
//        │
//   control thread, per scrape ── Published<Sample>::load ──► Exposition
//
// A sample is not a consistent cut across its fields (one may be a second
// newer than another), which Prometheus does not need.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sfu::server {

// Observations counted into buckets with fixed upper bounds (ascending, in
// the unit values are observed in; +Inf is implied). Single writer.
class Histogram {
 public:
  explicit Histogram(std::span<const uint64_t> bounds) : bounds_(bounds), buckets_(bounds.size() + 1) {}

  void observe(uint64_t value);
  void merge(const Histogram& other);  // same bounds

  std::span<const uint64_t> bounds() const { return bounds_; }
  // Per bucket, not cumulative; the last one is (bounds.back(), +Inf).
  const std::vector<uint64_t>& buckets() const { return buckets_; }
  uint64_t sum() const { return sum_; }
  uint64_t count() const { return count_; }

  // For Published<T>: every number of the histogram, in a fixed order.
  template <class F>
  void for_each_field(F&& f) {
    for (auto& b : buckets_) f(b);
    f(sum_);
    f(count_);
  }

 private:
  std::span<const uint64_t> bounds_;
  std::vector<uint64_t> buckets_;
  uint64_t sum_ = 0, count_ = 0;
};

// Bucket bounds used by the node's histograms.
inline constexpr uint64_t kBitrateBoundsBps[] = {100'000,   250'000,   500'000,   1'000'000,  1'500'000,
                                                 2'500'000, 4'000'000, 6'000'000, 10'000'000, 20'000'000};
inline constexpr uint64_t kLatencyBoundsMicros[] = {50'000,    100'000,   200'000,   300'000,   400'000,
                                                    500'000,   750'000,   1'000'000, 1'500'000, 2'000'000,
                                                    3'000'000, 5'000'000, 10'000'000};

// A struct of uint64_t counters (T::for_each_field visits each one, in a
// fixed order) copied across threads field by field through relaxed
// atomics: publish() on the owning thread, load() on any other. Lock-free;
// allocation only at construction.
template <class T>
class Published {
 public:
  explicit Published(T shape) {
    size_t n = 0;
    shape.for_each_field([&](uint64_t&) { ++n; });
    slots_ = std::make_unique<std::atomic<uint64_t>[]>(n);
    size_ = n;
  }
  void publish(T& value) {
    size_t i = 0;
    value.for_each_field([&](uint64_t& v) { slots_[i++].store(v, std::memory_order_relaxed); });
  }
  // Fills `out` (which must have the shape given at construction).
  void load(T& out) const {
    size_t i = 0;
    out.for_each_field([&](uint64_t& v) { v = slots_[i++].load(std::memory_order_relaxed); });
  }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> slots_;
  size_t size_ = 0;
};

// Writes the text exposition format 0.0.4: for each family `# HELP` and
// `# TYPE` once, then its samples. Names are checked ([a-zA-Z_:][a-zA-Z0-9_:]*,
// label names without ':'); an invalid one throws std::invalid_argument (a
// programming error, caught by the unit tests). Label values and help text
// are escaped as the format requires.
class Exposition {
 public:
  enum class Type { counter, gauge, histogram };
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // Starts a family. Each name once per exposition.
  void family(std::string_view name, Type type, std::string_view help);
  // One sample of the current family (for histograms use histogram()).
  void sample(Labels labels, double value);
  void sample(Labels labels, uint64_t value);
  void sample(double value) { sample({}, value); }
  void sample(uint64_t value) { sample({}, value); }
  // A histogram sample set of the current family: cumulative _bucket lines
  // with `le` (bounds divided by `divisor`, e.g. 1e6 for microseconds
  // exposed as seconds), then _sum and _count.
  void histogram(Labels labels, const Histogram& h, double divisor = 1.0);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void write_labels(Labels labels, std::string_view extra_key = {}, std::string_view extra_value = {});
  void write_value(double v);

  std::string out_;
  std::string current_;
};

// Label values and help text escaping (exposed for tests).
std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
// A float as the format spells it: "+Inf", "-Inf", "NaN", or the shortest
// decimal that reads back to the same double.
std::string format_value(double v);

}  // namespace sfu::server
