// draft-alvestrand-rmcat-remb-03 §2.2 REMB.
#include "rtp/rtcp/remb.hpp"

#include <gtest/gtest.h>

#include <array>
#include <limits>
#include <vector>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;
using test::serialize;

constexpr uint8_t kRemb[] = {
    0x8f, 0xce, 0x00, 0x06,  // V=2 P=0 FMT=15, PT=PSFB(206), length 6 (28 bytes)
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x00, 0x00, 0x00, 0x00,  // SSRC of media source: always 0
    'R',  'E',  'M',  'B',   // unique identifier
    0x02, 0x0b, 0xd0, 0x90,  // Num SSRC 2, BR Exp 2, BR Mantissa 250000: 1 Mbps
    0x11, 0x11, 0x11, 0x11,  // SSRC feedback 1
    0x22, 0x22, 0x22, 0x22,  // SSRC feedback 2
};

TEST(RtcpRembTest, DraftSection22Fields) {
  auto remb = RembView::parse(packet_of(kRemb));
  ASSERT_TRUE(remb.ok());
  EXPECT_EQ(remb->header, (FeedbackHeader{1, 0}));
  EXPECT_EQ(remb->encoded, (RembBitrate{2, 250000}));
  EXPECT_EQ(remb->bitrate_bps, 1'000'000u);
  ASSERT_EQ(remb->ssrcs.size(), 2u);
  EXPECT_EQ(remb->ssrcs[0], 0x11111111u);
  EXPECT_EQ(remb->ssrcs[1], 0x22222222u);
}

TEST(RtcpRembTest, RoundTripByteExact) {
  auto remb = RembView::parse(packet_of(kRemb));
  ASSERT_TRUE(remb.ok());
  std::array<uint32_t, kMaxRembSsrcs> ssrcs{};
  const size_t n = remb->ssrcs.copy_to(ssrcs);
  EXPECT_EQ(serialize(Remb{remb->header, remb->bitrate_bps, {ssrcs.data(), n}}), bytes_of(kRemb));
}

struct BitrateCase {
  uint64_t bps;
  RembBitrate encoded;
};

class RtcpRembBitrateTest : public ::testing::TestWithParam<BitrateCase> {};

TEST_P(RtcpRembBitrateTest, SmallestExponentRoundingDown) {
  const BitrateCase& c = GetParam();
  const RembBitrate e = encode_remb_bitrate(c.bps);
  EXPECT_EQ(e, c.encoded);
  const uint64_t decoded = uint64_t(e.mantissa) << e.exponent;
  EXPECT_LE(decoded, c.bps);                        // never advertises more
  EXPECT_LT(c.bps - decoded, uint64_t(1) << e.exponent);  // loses less than one step
}

constexpr uint64_t kMax64 = std::numeric_limits<uint64_t>::max();

INSTANTIATE_TEST_SUITE_P(Table, RtcpRembBitrateTest,
                         ::testing::Values(BitrateCase{0, {0, 0}},
                                           BitrateCase{1, {0, 1}},
                                           BitrateCase{262143, {0, 262143}},
                                           BitrateCase{262144, {1, 131072}},
                                           BitrateCase{262145, {1, 131072}},
                                           BitrateCase{1'000'000, {2, 250000}},
                                           BitrateCase{2'500'001, {4, 156250}},
                                           BitrateCase{uint64_t(1) << 40, {23, 131072}},
                                           BitrateCase{kMax64, {46, 262143}}));

TEST(RtcpRembTest, LargestBitrateRoundTrips) {
  const Remb remb{{1, 0}, kMax64, {}};
  const std::vector<uint8_t> wire = serialize(remb);
  auto parsed = RembView::parse(packet_of(wire));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->bitrate_bps, uint64_t(262143) << 46);
  EXPECT_TRUE(parsed->ssrcs.empty());
}

TEST(RtcpRembTest, IsRembAndBadIdentifier) {
  EXPECT_TRUE(is_remb(packet_of(kRemb)));
  std::vector<uint8_t> other = bytes_of(kRemb);
  other[15] = 'C';  // "REMC": some other application-layer feedback
  EXPECT_FALSE(is_remb(packet_of(other)));
  auto r = RembView::parse(packet_of(other));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_type);
}

TEST(RtcpRembTest, NumSsrcClaimsMoreThanPresent) {
  std::vector<uint8_t> remb = bytes_of(kRemb);
  remb[16] = 0x03;  // Num SSRC 3, two present
  auto r = RembView::parse(packet_of(remb));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_length);
}

TEST(RtcpRembTest, TruncatedBitrateWord) {
  constexpr uint8_t kShort[] = {
      0x8f, 0xce, 0x00, 0x03,  // FMT=15, PT=PSFB, length 3
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x00,  // SSRC of media source
      'R',  'E',  'M',  'B',   // identifier; Num SSRC / BR word missing
  };
  auto r = RembView::parse(packet_of(kShort));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::truncated);
}

TEST(RtcpRembTest, TruncatedIdentifier) {
  constexpr uint8_t kShort[] = {
      0x8f, 0xce, 0x00, 0x02,  // FMT=15, PT=PSFB, length 2: no FCI
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x00,  // SSRC of media source
  };
  auto r = RembView::parse(packet_of(kShort));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::truncated);
}

TEST(RtcpRembTest, BitrateOverflowingSixtyFourBits) {
  std::vector<uint8_t> remb = bytes_of(kRemb);
  remb[17] = 0xfc;  // BR Exp 63, mantissa high bits 00
  remb[18] = 0x00;
  remb[19] = 0x03;  // mantissa 3: 3 << 63 does not fit
  auto r = RembView::parse(packet_of(remb));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_value);
  remb[19] = 0x01;  // mantissa 1: 1 << 63 fits
  r = RembView::parse(packet_of(remb));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bitrate_bps, uint64_t(1) << 63);
}

TEST(RtcpRembTest, WrongFormat) {
  std::vector<uint8_t> remb = bytes_of(kRemb);
  remb[0] = 0x81;  // FMT=1
  auto r = RembView::parse(packet_of(remb));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_type);
}

TEST(RtcpRembTest, BuilderLimits) {
  std::vector<uint32_t> ssrcs(kMaxRembSsrcs + 1);
  std::vector<uint8_t> out(2048);
  EXPECT_EQ((Remb{{1, 0}, 1000, ssrcs}.serialize_to(out)), 0u);
  EXPECT_EQ((Remb{{1, 0}, 1000, std::span(ssrcs).first(255)}.serialize_to(out)), 20u + 255 * 4);
  std::array<uint8_t, 19> small{};
  EXPECT_EQ((Remb{{1, 0}, 1000, {}}.serialize_to(small)), 0u);
}

}  // namespace
}  // namespace sfu::rtp::rtcp
