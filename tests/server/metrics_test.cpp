// The Prometheus text exposition format 0.0.4 writer, the histogram and
// Published<T> (server/metrics.hpp).
#include "server/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

#include "server/worker_media.hpp"

namespace sfu::server {
namespace {

TEST(Exposition, CounterFamilyHasHelpTypeAndSamples) {
  Exposition x;
  x.family("sfu_joins_total", Exposition::Type::counter, "Successful joins.");
  x.sample(uint64_t(42));
  EXPECT_EQ(x.text(),
            "# HELP sfu_joins_total Successful joins.\n"
            "# TYPE sfu_joins_total counter\n"
            "sfu_joins_total 42\n");
}

TEST(Exposition, LabelsInOrderWithEscapedValues) {
  Exposition x;
  x.family("sfu_x", Exposition::Type::gauge, "h");
  x.sample({{"worker", "0"}, {"reason", "a\"b\\c\nd"}}, uint64_t(1));
  EXPECT_EQ(x.text(),
            "# HELP sfu_x h\n# TYPE sfu_x gauge\n"
            "sfu_x{worker=\"0\",reason=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Exposition, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(escape_help("a\\b\nc\"d"), "a\\\\b\\nc\"d");
  EXPECT_EQ(escape_label_value("x\"y"), "x\\\"y");
}

TEST(Exposition, FloatsAndSpecialValues) {
  EXPECT_EQ(format_value(0.05), "0.05");
  EXPECT_EQ(format_value(1.5), "1.5");
  EXPECT_EQ(format_value(3.0), "3");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(Exposition, InvalidNamesAreProgrammingErrors) {
  Exposition x;
  EXPECT_THROW(x.family("9starts_with_digit", Exposition::Type::gauge, ""), std::invalid_argument);
  EXPECT_THROW(x.family("has-dash", Exposition::Type::gauge, ""), std::invalid_argument);
  EXPECT_THROW(x.family("", Exposition::Type::gauge, ""), std::invalid_argument);
  EXPECT_NO_THROW(x.family("ns:sub_name_total", Exposition::Type::counter, ""));
  EXPECT_THROW(x.sample({{"bad:label", "v"}}, uint64_t(1)), std::invalid_argument);
  EXPECT_THROW(x.sample({{"__reserved", "v"}}, uint64_t(1)), std::invalid_argument);
}

TEST(Histogram, BucketsAreUpperInclusiveAndExposedCumulatively) {
  static constexpr uint64_t kBounds[] = {10, 100};
  Histogram h(kBounds);
  h.observe(0);
  h.observe(10);   // le=10 is inclusive
  h.observe(11);
  h.observe(100);
  h.observe(1000);  // +Inf only
  EXPECT_EQ(h.buckets(), (std::vector<uint64_t>{2, 2, 1}));
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sum(), 1121u);

  Exposition x;
  x.family("sfu_lat_seconds", Exposition::Type::histogram, "Latency.");
  x.histogram({{"stage", "a"}}, h, 1000.0);  // observed in ms, exposed in seconds
  EXPECT_EQ(x.text(),
            "# HELP sfu_lat_seconds Latency.\n# TYPE sfu_lat_seconds histogram\n"
            "sfu_lat_seconds_bucket{stage=\"a\",le=\"0.01\"} 2\n"
            "sfu_lat_seconds_bucket{stage=\"a\",le=\"0.1\"} 4\n"
            "sfu_lat_seconds_bucket{stage=\"a\",le=\"+Inf\"} 5\n"
            "sfu_lat_seconds_sum{stage=\"a\"} 1.121\n"
            "sfu_lat_seconds_count{stage=\"a\"} 5\n");
}

TEST(Histogram, EmptyHistogramStillListsEveryBucket) {
  static constexpr uint64_t kBounds[] = {1};
  Histogram h(kBounds);
  Exposition x;
  x.family("h", Exposition::Type::histogram, "");
  x.histogram({}, h);
  EXPECT_EQ(x.text(), "# HELP h \n# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST(Histogram, MergeAddsBucketsSumAndCount) {
  Histogram a(kLatencyBoundsMicros), b(kLatencyBoundsMicros);
  a.observe(60'000);
  b.observe(60'000);
  b.observe(20'000'000);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.buckets()[1], 2u);
  EXPECT_EQ(a.buckets().back(), 1u);
}

// Every field of a MediaSample crosses intact, histogram buckets included.
TEST(Published, CarriesEveryFieldOfASample) {
  MediaSample s;
  uint64_t n = 1;
  s.for_each_field([&](uint64_t& v) { v = n++; });
  Published<MediaSample> slots{MediaSample{}};
  EXPECT_EQ(slots.size(), n - 1);
  slots.publish(s);
  MediaSample out;
  slots.load(out);
  uint64_t expect = 1;
  out.for_each_field([&](uint64_t& v) { EXPECT_EQ(v, expect++); });
  EXPECT_EQ(out.bwe.count(), s.bwe.count());
  EXPECT_EQ(out.routers.rtp_forwarded, s.routers.rtp_forwarded);
}

// One writer thread publishing, one reader loading: under TSan this is the
// proof that scrapes and workers share no unsynchronised memory.
TEST(Published, ConcurrentPublishAndLoad) {
  Published<LoopSample> slots{LoopSample{}};
  std::thread writer([&] {
    LoopSample s;
    for (uint64_t i = 1; i <= 20000; ++i) {
      s.udp.datagrams_received = i;
      s.loop.loop_iterations = i;
      slots.publish(s);
    }
  });
  uint64_t last = 0;
  for (int i = 0; i < 20000; ++i) {
    LoopSample s;
    slots.load(s);
    EXPECT_GE(s.udp.datagrams_received, last);  // one writer: a field never goes back
    last = s.udp.datagrams_received;
  }
  writer.join();
  LoopSample s;
  slots.load(s);
  EXPECT_EQ(s.udp.datagrams_received, 20000u);
}

}  // namespace
}  // namespace sfu::server
