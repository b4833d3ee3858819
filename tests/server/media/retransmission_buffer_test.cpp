#include "server/media/retransmission_buffer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sfu::server::media {
namespace {

std::vector<uint8_t> pkt(uint16_t seq, size_t size = 100) {
  std::vector<uint8_t> p(size, uint8_t(seq));
  return p;
}

TEST(RetransmissionBuffer, StoresAndReturnsBySequence) {
  RetransmissionBuffer b;
  const Instant t0 = from_micros(1'000'000);
  for (uint16_t s = 100; s < 110; ++s) b.store(t0, s, pkt(s));
  auto got = b.get(t0 + milliseconds(10), 105);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size(), 100u);
  EXPECT_EQ((*got)[0], 105);
  EXPECT_FALSE(b.get(t0, 99));
  EXPECT_FALSE(b.get(t0, 110));
}

TEST(RetransmissionBuffer, WrapAroundAndOverwrite) {
  RetransmissionBuffer b({.slots = 64});
  const Instant t0 = from_micros(1'000'000);
  for (uint32_t i = 0; i < 100; ++i) b.store(t0, uint16_t(65500 + i), pkt(uint16_t(65500 + i)));
  // The last 64 stored are 65500+36 .. 65500+99, i.e. 0 .. 63 after the wrap.
  EXPECT_TRUE(b.get(t0, 63));
  EXPECT_TRUE(b.get(t0, 0));
  EXPECT_FALSE(b.get(t0, 65535));  // its slot (63) now holds seq 63
}

TEST(RetransmissionBuffer, ExpiresAfterMaxAge) {
  RetransmissionBuffer b({.max_age = milliseconds(1000)});
  const Instant t0 = from_micros(1'000'000);
  b.store(t0, 7, pkt(7));
  EXPECT_TRUE(b.get(t0 + milliseconds(1000), 7));
  EXPECT_FALSE(b.get(t0 + milliseconds(1001), 7));
}

TEST(RetransmissionBuffer, OversizedAndEmptyAreNotKept) {
  RetransmissionBuffer b({.max_packet_size = 200});
  const Instant t0 = from_micros(1'000'000);
  b.store(t0, 1, pkt(1, 201));
  b.store(t0, 2, {});
  EXPECT_FALSE(b.get(t0, 1));
  EXPECT_FALSE(b.get(t0, 2));
  EXPECT_EQ(b.too_large(), 2u);
  b.store(t0, 3, pkt(3, 200));
  EXPECT_TRUE(b.get(t0, 3));
}

TEST(RetransmissionBuffer, NonPowerOfTwoFallsBackToDefault) {
  RetransmissionBuffer b({.slots = 100});
  const Instant t0 = from_micros(1'000'000);
  for (uint32_t i = 0; i < 70000; i += 97) b.store(t0, uint16_t(i), pkt(uint16_t(i)));
  b.store(t0, 65535, pkt(65535));
  b.store(t0, 0, pkt(0));
  EXPECT_TRUE(b.get(t0, 65535));
  EXPECT_TRUE(b.get(t0, 0));
}

}  // namespace
}  // namespace sfu::server::media
