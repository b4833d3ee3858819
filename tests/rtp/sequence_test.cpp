#include "rtp/sequence.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace sfu::rtp {
namespace {

// Compile-time checks: the helpers are constexpr.
static_assert(seq_newer(1, 0));
static_assert(seq_newer(0, 65535));
static_assert(seq_diff(0, 65535) == 1);
static_assert(timestamp_diff(0, 0xFFFFFFFF) == 1);

struct SeqCase {
  uint16_t a;
  uint16_t b;
  bool a_newer;
  int32_t diff;  // a - b in serial arithmetic
};

// RFC 1982 §3.2 serial comparison with SERIAL_BITS = 16.
TEST(SeqNewer, Rfc1982Table) {
  const SeqCase cases[] = {
      {1, 0, true, 1},
      {0, 1, false, -1},
      {5, 5, false, 0},
      {0, 65535, true, 1},    // forward wrap
      {65535, 0, false, -1},  // reordered across the wrap
      {10, 65530, true, 16},  // wrap with a gap
      {65530, 10, false, -16},
      {32767, 0, true, 32767},    // largest forward step
      {32769, 0, false, -32767},  // beyond half: behind
      {0x8000, 0, true, 32768},   // exactly half: the larger wins (tie-break)
      {0, 0x8000, false, -32768},
      {0xC000, 0x4000, true, 32768},  // tie-break again
      {0x4000, 0xC000, false, -32768},
      {100, 40000, true, 25636},  // large jump across the wrap
  };
  for (const auto& c : cases) {
    EXPECT_EQ(seq_newer(c.a, c.b), c.a_newer) << c.a << " vs " << c.b;
    EXPECT_EQ(seq_diff(c.a, c.b), c.diff) << c.a << " - " << c.b;
  }
}

TEST(SeqNewer, ExactlyOneDirectionForDistinctValues) {
  for (uint32_t a = 0; a < 65536; a += 97) {
    for (uint32_t b = 0; b < 65536; b += 101) {
      if (a == b) continue;
      EXPECT_NE(seq_newer(uint16_t(a), uint16_t(b)), seq_newer(uint16_t(b), uint16_t(a)));
      EXPECT_EQ(seq_newer(uint16_t(a), uint16_t(b)), seq_diff(uint16_t(a), uint16_t(b)) > 0);
    }
  }
}

struct TsCase {
  uint32_t a;
  uint32_t b;
  bool a_newer;
  int64_t diff;
};

TEST(TimestampNewer, Rfc1982Table) {
  const TsCase cases[] = {
      {90000, 0, true, 90000},
      {0, 90000, false, -90000},
      {0, 0xFFFFFFFF, true, 1},
      {0xFFFFFFFF, 0, false, -1},
      {1000, 0xFFFFF000, true, 5096},
      {0x80000000, 0, true, 2147483648},  // tie-break
      {0, 0x80000000, false, -2147483648},
      {0x7FFFFFFF, 0, true, 2147483647},
      {7, 7, false, 0},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(timestamp_newer(c.a, c.b), c.a_newer) << c.a << " vs " << c.b;
    EXPECT_EQ(timestamp_diff(c.a, c.b), c.diff) << c.a << " - " << c.b;
  }
}

struct UnwrapCase {
  const char* name;
  std::vector<uint16_t> in;
  std::vector<int64_t> out;
};

TEST(SeqUnwrapper, WrapAndReorderTable) {
  const UnwrapCase cases[] = {
      {"in order", {1, 2, 3}, {1, 2, 3}},
      {"forward wrap 65535->0", {65534, 65535, 0, 1}, {65534, 65535, 65536, 65537}},
      {"reorder across wrap", {65535, 0, 65534, 1}, {65535, 65536, 65534, 65537}},
      {"backward from start 0->65535", {0, 65535, 65534}, {0, -1, -2}},
      {"two full wraps", {0, 30000, 60000, 24464, 54464, 18928}, {0, 30000, 60000, 90000, 120000, 150000}},
      {"large forward jump", {100, 32867}, {100, 32867}},
      {"jump beyond half is backward", {100, 32869}, {100, -32667}},
      {"duplicates", {7, 7, 7}, {7, 7, 7}},
  };
  for (const auto& c : cases) {
    SeqUnwrapper u;
    std::vector<int64_t> got;
    for (uint16_t s : c.in) got.push_back(u.unwrap(s));
    EXPECT_EQ(got, c.out) << c.name;
  }
}

TEST(SeqUnwrapper, PeekDoesNotMove) {
  SeqUnwrapper u;
  EXPECT_FALSE(u.last().has_value());
  EXPECT_EQ(u.peek(65535), 65535);
  EXPECT_EQ(u.unwrap(65535), 65535);
  EXPECT_EQ(u.peek(0), 65536);
  EXPECT_EQ(u.peek(0), 65536);
  EXPECT_EQ(*u.last(), 65535);
  u.reset();
  EXPECT_EQ(u.unwrap(0), 0);
}

TEST(SeqUnwrapper, LongRunCountsEveryPacket) {
  SeqUnwrapper u;
  uint16_t s = 60000;
  for (int64_t i = 0; i < 300000; ++i, ++s) ASSERT_EQ(u.unwrap(s), 60000 + i);
}

TEST(TimestampUnwrapper, WrapAndReorder) {
  TimestampUnwrapper u;
  EXPECT_EQ(u.unwrap(0xFFFFFF00), 0xFFFFFF00);
  EXPECT_EQ(u.unwrap(0x00000100), 0x100000100);  // forward across the wrap
  EXPECT_EQ(u.unwrap(0xFFFFFFF0), 0xFFFFFFF0);   // reordered, behind the wrap
  EXPECT_EQ(u.unwrap(0x00000200), 0x100000200);
  TimestampUnwrapper v;
  EXPECT_EQ(v.unwrap(0), 0);
  EXPECT_EQ(v.unwrap(0xFFFFFFFF), -1);  // backward from the start
  // 90 kHz video advancing 3000 ticks per frame for more than one wrap.
  TimestampUnwrapper w;
  uint32_t ts = 0xFFF00000;
  for (int64_t i = 0; i < 2'000'000; ++i, ts += 3000) ASSERT_EQ(w.unwrap(ts), 0xFFF00000 + i * 3000);
}

}  // namespace
}  // namespace sfu::rtp
