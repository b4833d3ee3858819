#include "common/bytes.hpp"

#include <gtest/gtest.h>

#include <array>

#include "common/result.hpp"
#include "common/parse_error.hpp"

namespace sfu {
namespace {

TEST(ByteReader, ReadsBigEndianFieldsInOrder) {
  const std::array<uint8_t, 18> data = {0x01,                                            // u8
                                        0x02, 0x03,                                      // u16
                                        0x04, 0x05, 0x06,                                // u24
                                        0x07, 0x08, 0x09, 0x0a,                          // u32
                                        0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12}; // u64
  ByteReader r(data);
  uint8_t a = 0;
  uint16_t b = 0;
  uint32_t c = 0, d = 0;
  uint64_t e = 0;
  ASSERT_TRUE(r.read_u8(a) && r.read_u16(b) && r.read_u24(c) && r.read_u32(d) && r.read_u64(e));
  EXPECT_EQ(a, 0x01);
  EXPECT_EQ(b, 0x0203);
  EXPECT_EQ(c, 0x040506u);
  EXPECT_EQ(d, 0x0708090au);
  EXPECT_EQ(e, 0x0b0c0d0e0f101112ull);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(r.ok());
}

TEST(ByteReader, ShortReadFailsAndSticks) {
  const std::array<uint8_t, 3> data = {0xaa, 0xbb, 0xcc};
  ByteReader r(data);
  uint32_t v = 0x12345678;
  EXPECT_FALSE(r.read_u32(v));
  EXPECT_EQ(v, 0x12345678u);  // untouched
  EXPECT_FALSE(r.ok());
  uint8_t b = 0;
  EXPECT_FALSE(r.read_u8(b));  // sticky: later reads fail too
  Bytes out;
  EXPECT_FALSE(ByteReader(data).read_bytes(4, out));
  ByteReader r2(data);
  EXPECT_TRUE(r2.skip(1) && r2.read_bytes(2, out));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], 0xbb);
  EXPECT_EQ(r2.rest().size(), 0u);
  EXPECT_FALSE(r2.skip(SIZE_MAX));  // no overflow in the bounds check
}

TEST(ByteWriter, WritesAndRefusesOverflow) {
  std::array<uint8_t, 7> buf{};
  ByteWriter w(buf);
  EXPECT_TRUE(w.write_u16(0x0102) && w.write_u24(0x030405) && w.write_u8(0x06));
  EXPECT_FALSE(w.write_u16(0x0708));  // one byte left
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(buf[6], 0x00);  // nothing written past the failure
  EXPECT_EQ(w.written().size(), 6u);
  EXPECT_EQ(load_be24(&buf[2]), 0x030405u);
}

TEST(ByteWriter, BytesAndZeros) {
  std::array<uint8_t, 6> buf;
  buf.fill(0xff);
  const std::array<uint8_t, 2> src = {0x11, 0x22};
  ByteWriter w(buf);
  EXPECT_TRUE(w.write_bytes(src) && w.write_zeros(3));
  EXPECT_FALSE(w.write_bytes(src));
  EXPECT_EQ(buf[1], 0x22);
  EXPECT_EQ(buf[4], 0x00);
  EXPECT_EQ(buf[5], 0xff);
}

TEST(LoadStore, RoundTripAllWidths) {
  std::array<uint8_t, 8> b{};
  store_be64(b.data(), 0x8877665544332211ull);
  EXPECT_EQ(load_be64(b.data()), 0x8877665544332211ull);
  EXPECT_EQ(b[0], 0x88);
  store_be32(b.data(), 0xdeadbeef);
  EXPECT_EQ(load_be32(b.data()), 0xdeadbeefu);
  store_be16(b.data(), 0xcafe);
  EXPECT_EQ(load_be16(b.data()), 0xcafe);
}

Result<int, ParseError> half(int v) {
  if (v % 2) return fail(ParseError::bad_value);
  return v / 2;
}

TEST(Result, ValueOrError) {
  auto ok = half(8);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 4);
  auto bad = half(3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), ParseError::bad_value);
  EXPECT_EQ(to_string(bad.error()), "bad_value");
  Result<void, ParseError> v;
  EXPECT_TRUE(v.ok());
  Result<void, ParseError> e = fail(ParseError::truncated);
  EXPECT_EQ(e.error(), ParseError::truncated);
  // Same type for value and error still works.
  Result<int, int> same = fail(7);
  EXPECT_FALSE(same.ok());
  EXPECT_EQ(same.error(), 7);
}

}  // namespace
}  // namespace sfu
