// RFC 4585 §6.2.1 generic NACK.
#include "rtp/rtcp/transport_layer_nack.hpp"

#include <gtest/gtest.h>

#include <array>
#include <iterator>
#include <vector>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;
using test::serialize;

static_assert(std::forward_iterator<NackItems::iterator>);
static_assert(std::forward_iterator<LostPackets::iterator>);

constexpr uint8_t kNack[] = {
    0x81, 0xcd, 0x00, 0x04,  // V=2 P=0 FMT=1, PT=RTPFB(205), length 4 (20 bytes)
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x00, 0xab, 0xcd, 0xef,  // SSRC of media source
    0x00, 0x64, 0x00, 0x05,  // PID 100, BLP 0b101: 100, 101, 103 lost
    0xff, 0xff, 0x80, 0x01,  // PID 65535, BLP bits 0 and 15: 65535, 0, 15 lost
};

std::vector<uint16_t> lost_of(const TransportLayerNackView& v) {
  std::vector<uint16_t> out;
  for (uint16_t s : v.lost_packets()) out.push_back(s);
  return out;
}

TEST(TransportLayerNackTest, Rfc4585Section621Fields) {
  auto nack = TransportLayerNackView::parse(packet_of(kNack));
  ASSERT_TRUE(nack.ok());
  EXPECT_EQ(nack->header.sender_ssrc, 1u);
  EXPECT_EQ(nack->header.media_ssrc, 0x00abcdefu);
  ASSERT_EQ(nack->items.size(), 2u);
  EXPECT_EQ(nack->items[0], (NackItem{100, 0x0005}));
  EXPECT_EQ(nack->items[1], (NackItem{65535, 0x8001}));
  EXPECT_EQ(lost_of(*nack), (std::vector<uint16_t>{100, 101, 103, 65535, 0, 15}));
}

TEST(TransportLayerNackTest, RoundTripByteExact) {
  auto nack = TransportLayerNackView::parse(packet_of(kNack));
  ASSERT_TRUE(nack.ok());
  std::array<NackItem, 8> items{};
  const size_t n = nack->items.copy_to(items);
  EXPECT_EQ(serialize(TransportLayerNack{nack->header, {items.data(), n}}), bytes_of(kNack));
}

TEST(TransportLayerNackTest, LostPacketsFromFullBitmask) {
  constexpr uint8_t kFull[] = {
      0x81, 0xcd, 0x00, 0x03,  // FMT=1, PT=RTPFB, length 3
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x02,  // SSRC of media source
      0xff, 0xf8, 0xff, 0xff,  // PID 65528, all 16 BLP bits: 65528..65535, 0..8
  };
  auto nack = TransportLayerNackView::parse(packet_of(kFull));
  ASSERT_TRUE(nack.ok());
  std::vector<uint16_t> expected;
  for (unsigned i = 0; i <= 16; ++i) expected.push_back(uint16_t(65528 + i));
  EXPECT_EQ(lost_of(*nack), expected);
}

// Table-driven packing (RFC 4585 §6.2.1), wrap-around included.
struct PackCase {
  const char* name;
  std::vector<uint16_t> lost;
  std::vector<NackItem> items;
};

class NackPackTest : public ::testing::TestWithParam<PackCase> {};

TEST_P(NackPackTest, PacksIntoPidBlp) {
  const PackCase& c = GetParam();
  std::array<NackItem, 16> items{};
  const NackPackResult r = pack_nack_items(c.lost, items);
  EXPECT_EQ(r.consumed, c.lost.size());
  EXPECT_EQ(std::vector<NackItem>(items.begin(), items.begin() + long(r.items)), c.items);
}

INSTANTIATE_TEST_SUITE_P(
    Table, NackPackTest,
    ::testing::Values(
        PackCase{"Empty", {}, {}},
        PackCase{"Single", {7}, {{7, 0}}},
        PackCase{"WrapIntoOneItem", {65534, 65535, 0, 1}, {{65534, 0b111}}},
        PackCase{"WrapSixteenAhead", {65535, 15}, {{65535, 0x8000}}},
        PackCase{"WrapSeventeenAhead", {65535, 16}, {{65535, 0}, {16, 0}}},
        PackCase{"SeventeenInARow", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}, {{1, 0xffff}}},
        PackCase{"EighteenInARow",
                 {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18},
                 {{1, 0xffff}, {18, 0}}},
        PackCase{"Gaps", {100, 101, 103, 200}, {{100, 0b101}, {200, 0}}},
        PackCase{"DuplicateSkipped", {5, 5, 6}, {{5, 1}}},
        PackCase{"OutOfOrderStartsNewItem", {10, 5}, {{10, 0}, {5, 0}}},
        PackCase{"HalfwayRound", {0, 32768}, {{0, 0}, {32768, 0}}}),
    [](const ::testing::TestParamInfo<PackCase>& p) { return std::string(p.param.name); });

TEST(TransportLayerNackTest, PackThenExpandIsIdentity) {
  std::vector<uint16_t> lost;
  for (uint32_t s = 65500; s < 65536 + 40; s += (s % 7 == 0 ? 20 : 1)) lost.push_back(uint16_t(s));
  std::array<NackItem, 64> items{};
  const NackPackResult r = pack_nack_items(lost, items);
  ASSERT_EQ(r.consumed, lost.size());
  const TransportLayerNack nack{{1, 2}, {items.data(), r.items}};
  const std::vector<uint8_t> wire = serialize(nack);
  auto parsed = TransportLayerNackView::parse(packet_of(wire));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(lost_of(*parsed), lost);
}

TEST(TransportLayerNackTest, PackCapsAtOutputCapacity) {
  const std::vector<uint16_t> lost = {10, 40, 70, 100};
  std::array<NackItem, 2> items{};
  const NackPackResult r = pack_nack_items(lost, items);
  EXPECT_EQ(r.items, 2u);
  EXPECT_EQ(r.consumed, 2u);  // 70 and 100 are left for the next packet
}

TEST(TransportLayerNackTest, SerializeLostFitsWhatItCan) {
  const std::vector<uint16_t> lost = {65534, 65535, 0, 1, 300, 600};
  std::array<uint8_t, 12 + 2 * 4> out{};  // room for two items of three
  size_t consumed = 0;
  const size_t n = TransportLayerNack::serialize_lost({1, 2}, lost, out, &consumed);
  ASSERT_EQ(n, out.size());
  EXPECT_EQ(consumed, 5u);
  constexpr uint8_t kExpected[] = {
      0x81, 0xcd, 0x00, 0x04,  // FMT=1, PT=RTPFB, length 4
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x02,  // SSRC of media source
      0xff, 0xfe, 0x00, 0x07,  // PID 65534, BLP 0b111: 65535, 0, 1
      0x01, 0x2c, 0x00, 0x00,  // PID 300
  };
  EXPECT_EQ(bytes_of(out), bytes_of(kExpected));

  std::array<uint8_t, 15> tiny{};  // not even one item fits
  EXPECT_EQ(TransportLayerNack::serialize_lost({1, 2}, lost, tiny, &consumed), 0u);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(TransportLayerNack::serialize_lost({1, 2}, {}, out, &consumed), 0u);
}

TEST(TransportLayerNackTest, TruncatedFeedbackHeader) {
  constexpr uint8_t kShort[] = {
      0x81, 0xcd, 0x00, 0x01,  // FMT=1, PT=RTPFB, length 1
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender; media SSRC missing
  };
  auto nack = TransportLayerNackView::parse(packet_of(kShort));
  ASSERT_FALSE(nack.ok());
  EXPECT_EQ(nack.error(), ParseError::truncated);
}

TEST(TransportLayerNackTest, EmptyFciIsBadLength) {
  constexpr uint8_t kEmpty[] = {
      0x81, 0xcd, 0x00, 0x02,  // FMT=1, PT=RTPFB, length 2: no FCI
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x02,  // SSRC of media source
  };
  auto nack = TransportLayerNackView::parse(packet_of(kEmpty));
  ASSERT_FALSE(nack.ok());
  EXPECT_EQ(nack.error(), ParseError::bad_length);
}

TEST(TransportLayerNackTest, PartialFciItemIsBadLength) {
  constexpr uint8_t kPartial[] = {
      0xa1, 0xcd, 0x00, 0x04,  // P=1 FMT=1, PT=RTPFB, length 4
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x02,  // SSRC of media source
      0x00, 0x64, 0x00, 0x00,  // PID 100, BLP 0
      0x00, 0x65, 0x00, 0x02,  // half an item, then 2 octets of padding
  };
  auto nack = TransportLayerNackView::parse(packet_of(kPartial));
  ASSERT_FALSE(nack.ok());
  EXPECT_EQ(nack.error(), ParseError::bad_length);
}

TEST(TransportLayerNackTest, WrongFormatOrType) {
  std::vector<uint8_t> tcc = bytes_of(kNack);
  tcc[0] = 0x8f;  // FMT=15: transport-cc, not a NACK
  auto r = TransportLayerNackView::parse(packet_of(tcc));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_type);
  std::vector<uint8_t> psfb = bytes_of(kNack);
  psfb[1] = 0xce;  // PT=PSFB FMT=1 is a PLI
  r = TransportLayerNackView::parse(packet_of(psfb));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_type);
}

TEST(TransportLayerNackTest, BuilderRefusesEmptyOrShort) {
  std::array<uint8_t, 64> out{};
  EXPECT_EQ((TransportLayerNack{{1, 2}, {}}.serialize_to(out)), 0u);
  const NackItem item{1, 0};
  std::array<uint8_t, 15> small{};
  EXPECT_EQ((TransportLayerNack{{1, 2}, {&item, 1}}.serialize_to(small)), 0u);
}

}  // namespace
}  // namespace sfu::rtp::rtcp
