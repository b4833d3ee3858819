// RateWindow (bench/client/rate_window.hpp): bytes by whole second, read
// back over a window chosen afterwards.
#include "bench/client/rate_window.hpp"

#include <gtest/gtest.h>

namespace sfu::client {
namespace {

const Instant kT0 = Instant{} + seconds(1000);  // on a second boundary

TEST(RateWindow, AverageOverTheWholeSecondsInside) {
  RateWindow w;
  // 1,000 bytes every 10 ms for 10 s: 800 kbit/s; then 2,000 bytes: 1.6 Mbit/s for 5 s.
  for (int i = 0; i < 1000; ++i) w.add(kT0 + milliseconds(10 * i), 1000);
  for (int i = 0; i < 500; ++i) w.add(kT0 + seconds(10) + milliseconds(10 * i), 2000);
  EXPECT_DOUBLE_EQ(w.bps(kT0, kT0 + seconds(10)), 800'000);
  EXPECT_DOUBLE_EQ(w.bps(kT0 + seconds(10), kT0 + seconds(15)), 1'600'000);
  // Partial seconds at either end are left out: [2.5, 12.7) reads 3..12.
  EXPECT_DOUBLE_EQ(w.bps(kT0 + milliseconds(2500), kT0 + milliseconds(12700)), (7 * 800'000.0 + 2 * 1'600'000) / 9);
  // Seconds without a packet count as 0; a window without a whole second reads 0.
  EXPECT_DOUBLE_EQ(w.bps(kT0 + seconds(14), kT0 + seconds(16)), 800'000);
  EXPECT_DOUBLE_EQ(w.bps(kT0 + milliseconds(100), kT0 + milliseconds(900)), 0);
  EXPECT_DOUBLE_EQ(w.bps(kT0 + seconds(5), kT0 + seconds(5)), 0);
}

TEST(RateWindow, OnlyTheLastSecondsAreKept) {
  RateWindow w;
  const int64_t n = RateWindow::kSeconds + 10;
  for (int64_t s = 0; s < n; ++s) w.add(kT0 + seconds(s), uint64_t(s < 10 ? 1'000'000 : 1000));
  // The window is cut to the last kSeconds: the first 10 (big) seconds are gone.
  EXPECT_DOUBLE_EQ(w.bps(kT0, kT0 + seconds(n)), 8000);
}

}  // namespace
}  // namespace sfu::client
