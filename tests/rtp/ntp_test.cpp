#include "rtp/ntp.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace sfu::rtp {
namespace {

// RFC 5905 §6: the Unix epoch is 2,208,988,800 s after the NTP epoch.
TEST(Ntp, UnixEpochAndFractions) {
  EXPECT_EQ(ntp_from_unix_micros(0), uint64_t(2'208'988'800) << 32);
  EXPECT_EQ(ntp_from_unix_micros(500'000), (uint64_t(2'208'988'800) << 32) | 0x80000000u);  // half a second
  EXPECT_EQ(ntp_from_unix_micros(250'000) & 0xffffffffu, 0x40000000u);
  // 2026-12-07T00:00:00Z = 1,796,601,600 s Unix.
  EXPECT_EQ(ntp_from_unix_micros(int64_t(1'796'601'600) * 1'000'000) >> 32, uint64_t(1'796'601'600) + 2'208'988'800);
  // Before the base: floor, not truncation towards zero.
  EXPECT_EQ(ntp_from_micros(-1), (uint64_t(-1) << 32) | ((uint64_t(999'999) << 32) / 1'000'000));
  EXPECT_EQ(ntp_from_micros(0), 0u);
}

TEST(Ntp, AdvanceAndTicks) {
  const uint64_t t0 = ntp_from_unix_micros(123'456'789);
  EXPECT_EQ(ntp_plus_micros(t0, 0), t0);
  EXPECT_EQ(ntp_plus_micros(t0, 2'500'000), ntp_from_unix_micros(123'456'789 + 2'500'000) + 0);
  // Within one fraction unit of the direct conversion over a long span.
  const uint64_t later = ntp_plus_micros(t0, int64_t(3600) * 1'000'000 + 1);
  EXPECT_LE(later - ntp_from_unix_micros(123'456'789 + int64_t(3600) * 1'000'000 + 1) + 1, 2u);
  // Differences in RTP ticks, 90 kHz video and 48 kHz audio, both signs.
  EXPECT_EQ(ntp_delta_to_ticks(int64_t(3) << 31, 90'000), 135'000);   // 1.5 s
  EXPECT_EQ(ntp_delta_to_ticks(-(int64_t(1) << 31), 90'000), -45'000);  // -0.5 s
  EXPECT_EQ(ntp_delta_to_ticks(int64_t(86'400) << 32, 48'000), int64_t(86'400) * 48'000);  // a day, no overflow
}

// RFC 3550 §6.4.1: LSR is the middle 32 bits; DLSR counts 1/65536 s.
TEST(Ntp, CompactFormAndDlsr) {
  EXPECT_EQ(compact_ntp(0x0123456789abcdefull), 0x456789abu);
  EXPECT_EQ(to_compact_ntp_duration(seconds(1)), 65'536u);
  EXPECT_EQ(to_compact_ntp_duration(milliseconds(500)), 32'768u);
  EXPECT_EQ(to_compact_ntp_duration(-seconds(1)), 0u);
  EXPECT_EQ(to_compact_ntp_duration(seconds(70'000)), UINT32_MAX);  // saturates
  EXPECT_EQ(from_compact_ntp_duration(65'536), seconds(1));
  EXPECT_EQ(from_compact_ntp_duration(to_compact_ntp_duration(milliseconds(1250))), milliseconds(1250));
}

TEST(WallClock, OffsetFromTheSteadyClock) {
  const WallClock fixed{seconds(1'796'601'600) - from_micros(10'000'000).time_since_epoch()};
  EXPECT_EQ(fixed.unix_micros(from_micros(10'000'000)), int64_t(1'796'601'600) * 1'000'000);
  EXPECT_EQ(fixed.unix_micros(from_micros(10'250'000)), int64_t(1'796'601'600) * 1'000'000 + 250'000);
  // The system one is close to the system clock (to a second: reading two clocks is not atomic).
  const WallClock sys = WallClock::system();
  const int64_t now_us = std::chrono::duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(double(sys.unix_micros(Clock::now())), double(now_us), 1e6);
}

}  // namespace
}  // namespace sfu::rtp
