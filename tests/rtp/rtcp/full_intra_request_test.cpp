// RFC 5104 §4.3.1 Full Intra Request.
#include "rtp/rtcp/full_intra_request.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;
using test::serialize;

constexpr uint8_t kFir[] = {
    0x84, 0xce, 0x00, 0x06,  // V=2 P=0 FMT=4, PT=PSFB(206), length 6 (28 bytes)
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x00, 0x00, 0x00, 0x00,  // SSRC of media source: 0 (§4.3.1.2)
    0x0a, 0x0b, 0x0c, 0x0d,  // FCI 1: SSRC
    0x07, 0x00, 0x00, 0x00,  //   seq nr 7, reserved
    0x01, 0x02, 0x03, 0x04,  // FCI 2: SSRC
    0xff, 0x00, 0x00, 0x00,  //   seq nr 255, reserved
};

TEST(RtcpFirTest, Rfc5104Section431Fields) {
  auto fir = FullIntraRequestView::parse(packet_of(kFir));
  ASSERT_TRUE(fir.ok());
  EXPECT_EQ(fir->header, (FeedbackHeader{1, 0}));
  std::vector<FirEntry> entries(fir->entries.begin(), fir->entries.end());
  EXPECT_EQ(entries, (std::vector<FirEntry>{{0x0a0b0c0d, 7}, {0x01020304, 255}}));
}

TEST(RtcpFirTest, RoundTripByteExact) {
  auto fir = FullIntraRequestView::parse(packet_of(kFir));
  ASSERT_TRUE(fir.ok());
  std::array<FirEntry, 4> entries{};
  const size_t n = fir->entries.copy_to(entries);
  EXPECT_EQ(serialize(FullIntraRequest{fir->header, {entries.data(), n}}), bytes_of(kFir));
}

// RFC 5104 §4.3.1.1: reserved bits are set to 0 and ignored on receipt.
TEST(RtcpFirTest, ReservedBitsIgnoredAndZeroedOnWrite) {
  std::vector<uint8_t> fir = bytes_of(kFir);
  fir[17] = 0xff;  // reserved octets of FCI 1
  fir[19] = 0x01;
  auto r = FullIntraRequestView::parse(packet_of(fir));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries[0], (FirEntry{0x0a0b0c0d, 7}));
  std::array<FirEntry, 4> entries{};
  const size_t n = r->entries.copy_to(entries);
  EXPECT_EQ(serialize(FullIntraRequest{r->header, {entries.data(), n}}), bytes_of(kFir));
}

TEST(RtcpFirTest, EmptyFciIsBadLength) {
  constexpr uint8_t kEmpty[] = {
      0x84, 0xce, 0x00, 0x02,  // FMT=4, PT=PSFB, length 2: no FCI
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x00,  // SSRC of media source
  };
  auto fir = FullIntraRequestView::parse(packet_of(kEmpty));
  ASSERT_FALSE(fir.ok());
  EXPECT_EQ(fir.error(), ParseError::bad_length);
}

TEST(RtcpFirTest, HalfAnEntryIsBadLength) {
  constexpr uint8_t kHalf[] = {
      0x84, 0xce, 0x00, 0x03,  // FMT=4, PT=PSFB, length 3
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x00,  // SSRC of media source
      0x0a, 0x0b, 0x0c, 0x0d,  // FCI SSRC; seq nr word missing
  };
  auto fir = FullIntraRequestView::parse(packet_of(kHalf));
  ASSERT_FALSE(fir.ok());
  EXPECT_EQ(fir.error(), ParseError::bad_length);
}

TEST(RtcpFirTest, TruncatedAndWrongType) {
  constexpr uint8_t kShort[] = {0x84, 0xce, 0x00, 0x00};  // FMT=4, PT=PSFB, length 0
  auto fir = FullIntraRequestView::parse(packet_of(kShort));
  ASSERT_FALSE(fir.ok());
  EXPECT_EQ(fir.error(), ParseError::truncated);
  std::vector<uint8_t> pli = bytes_of(kFir);
  pli[0] = 0x81;  // FMT=1
  fir = FullIntraRequestView::parse(packet_of(pli));
  ASSERT_FALSE(fir.ok());
  EXPECT_EQ(fir.error(), ParseError::bad_type);
}

TEST(RtcpFirTest, BuilderRefusesEmptyOrShort) {
  std::array<uint8_t, 64> out{};
  EXPECT_EQ((FullIntraRequest{{1, 0}, {}}.serialize_to(out)), 0u);
  const FirEntry e{5, 1};
  std::array<uint8_t, 19> small{};
  EXPECT_EQ((FullIntraRequest{{1, 0}, {&e, 1}}.serialize_to(small)), 0u);
}

}  // namespace
}  // namespace sfu::rtp::rtcp
