// RFC 3550 §6.4.1 report blocks.
#include "rtp/rtcp/report_block.hpp"

#include <gtest/gtest.h>

#include <array>
#include <iterator>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

static_assert(std::forward_iterator<ReportBlocks::iterator>);

constexpr uint8_t kBlock[] = {
    0xaa, 0xbb, 0xcc, 0xdd,  // SSRC_1
    0x19,                    // fraction lost 25/256
    0x00, 0x00, 0x2a,        // cumulative lost 42
    0x00, 0x01, 0x23, 0x45,  // extended highest seq: 1 cycle, seq 0x2345
    0x00, 0x00, 0x00, 0x64,  // interarrival jitter 100
    0x2b, 0x3c, 0x80, 0x00,  // LSR
    0x00, 0x01, 0x80, 0x00,  // DLSR 1.5 s (units of 1/65536 s)
};

TEST(ReportBlockTest, Rfc3550Section641Fields) {
  auto b = ReportBlock::parse(kBlock);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->ssrc, 0xaabbccddu);
  EXPECT_EQ(b->fraction_lost, 25);
  EXPECT_EQ(b->cumulative_lost, 42);
  EXPECT_EQ(b->extended_highest_seq, 0x00012345u);
  EXPECT_EQ(b->jitter, 100u);
  EXPECT_EQ(b->last_sr, 0x2b3c8000u);
  EXPECT_EQ(b->delay_since_last_sr, 0x00018000u);
}

TEST(ReportBlockTest, RoundTripByteExact) {
  auto b = ReportBlock::parse(kBlock);
  ASSERT_TRUE(b.ok());
  std::array<uint8_t, ReportBlock::kSize> out{};
  ASSERT_EQ(b->serialize_to(out), ReportBlock::kSize);
  EXPECT_EQ(test::bytes_of(out), test::bytes_of(kBlock));
}

TEST(ReportBlockTest, TruncatedBlock) {
  auto b = ReportBlock::parse(Bytes(kBlock).first(23));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error(), ParseError::truncated);
}

// Cumulative lost is a signed 24-bit field (RFC 3550 §6.4.1: duplicates can
// make it negative).
struct CumulativeLostCase {
  uint8_t wire[3];
  int32_t value;
};

class ReportBlockCumulativeLostTest : public ::testing::TestWithParam<CumulativeLostCase> {};

TEST_P(ReportBlockCumulativeLostTest, DecodesAndEncodesSigned24Bit) {
  const CumulativeLostCase& c = GetParam();
  std::array<uint8_t, ReportBlock::kSize> wire{};
  wire[5] = c.wire[0];
  wire[6] = c.wire[1];
  wire[7] = c.wire[2];
  const ReportBlock b = ReportBlock::decode(wire.data());
  EXPECT_EQ(b.cumulative_lost, c.value);
  std::array<uint8_t, ReportBlock::kSize> out{};
  ASSERT_EQ(b.serialize_to(out), ReportBlock::kSize);
  EXPECT_EQ(out, wire);
}

INSTANTIATE_TEST_SUITE_P(Table, ReportBlockCumulativeLostTest,
                         ::testing::Values(CumulativeLostCase{{0x00, 0x00, 0x00}, 0},
                                           CumulativeLostCase{{0x00, 0x00, 0x01}, 1},
                                           CumulativeLostCase{{0x7f, 0xff, 0xff}, 0x7fffff},
                                           CumulativeLostCase{{0xff, 0xff, 0xff}, -1},
                                           CumulativeLostCase{{0xff, 0xff, 0xfe}, -2},
                                           CumulativeLostCase{{0x80, 0x00, 0x00}, -0x800000}));

TEST(ReportBlockTest, CumulativeLostClampedToTwentyFourBits) {
  std::array<uint8_t, ReportBlock::kSize> out{};
  ReportBlock b;
  b.cumulative_lost = 20'000'000;
  ASSERT_EQ(b.serialize_to(out), ReportBlock::kSize);
  EXPECT_EQ(ReportBlock::decode(out.data()).cumulative_lost, ReportBlock::kMaxCumulativeLost);
  b.cumulative_lost = -20'000'000;
  ASSERT_EQ(b.serialize_to(out), ReportBlock::kSize);
  EXPECT_EQ(ReportBlock::decode(out.data()).cumulative_lost, ReportBlock::kMinCumulativeLost);
}

TEST(ReportBlockTest, SerializeIntoShortBufferWritesNothing) {
  std::array<uint8_t, ReportBlock::kSize - 1> out{};
  EXPECT_EQ(ReportBlock{}.serialize_to(out), 0u);
}

TEST(ReportBlockTest, ReportSectionSplitsBlocksAndExtension) {
  std::array<uint8_t, 2 * ReportBlock::kSize + 4> rest{};
  auto s = parse_report_section(rest, 2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->blocks.size(), 2u);
  EXPECT_EQ(s->profile_extension.size(), 4u);
  auto bad = parse_report_section(rest, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), ParseError::bad_length);
}

TEST(ReportBlockTest, ReportBlocksViewCopiesOut) {
  std::array<uint8_t, 2 * ReportBlock::kSize> rest{};
  std::copy(std::begin(kBlock), std::end(kBlock), rest.begin() + ReportBlock::kSize);
  ReportBlocks blocks(rest);
  std::array<ReportBlock, 4> out{};
  ASSERT_EQ(blocks.copy_to(out), 2u);
  EXPECT_EQ(out[0], ReportBlock{});
  EXPECT_EQ(out[1].ssrc, 0xaabbccddu);
  EXPECT_EQ(out[1], blocks[1]);
}

}  // namespace
}  // namespace sfu::rtp::rtcp
