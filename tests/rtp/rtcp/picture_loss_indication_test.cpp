// RFC 4585 §6.3.1 Picture Loss Indication.
#include "rtp/rtcp/picture_loss_indication.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;
using test::serialize;

constexpr uint8_t kPli[] = {
    0x81, 0xce, 0x00, 0x02,  // V=2 P=0 FMT=1, PT=PSFB(206), length 2
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x8f, 0x2e, 0x11, 0x05,  // SSRC of media source
};

TEST(RtcpPliTest, Rfc4585Section631Fields) {
  auto pli = PictureLossIndication::parse(packet_of(kPli));
  ASSERT_TRUE(pli.ok());
  EXPECT_EQ(pli->header.sender_ssrc, 1u);
  EXPECT_EQ(pli->header.media_ssrc, 0x8f2e1105u);
}

TEST(RtcpPliTest, RoundTripByteExact) {
  auto pli = PictureLossIndication::parse(packet_of(kPli));
  ASSERT_TRUE(pli.ok());
  EXPECT_EQ(serialize(*pli), bytes_of(kPli));
  EXPECT_EQ(serialize(PictureLossIndication{{1, 0x8f2e1105}}), bytes_of(kPli));
}

TEST(RtcpPliTest, UnexpectedFciIgnored) {
  constexpr uint8_t kPliFci[] = {
      0x81, 0xce, 0x00, 0x03,  // FMT=1, PT=PSFB, length 3
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x02,  // SSRC of media source
      0xff, 0xff, 0xff, 0xff,  // FCI a PLI should not have
  };
  auto pli = PictureLossIndication::parse(packet_of(kPliFci));
  ASSERT_TRUE(pli.ok());
  EXPECT_EQ(pli->header, (FeedbackHeader{1, 2}));
}

TEST(RtcpPliTest, Truncated) {
  constexpr uint8_t kShort[] = {
      0x81, 0xce, 0x00, 0x01,  // FMT=1, PT=PSFB, length 1
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender; media SSRC missing
  };
  auto pli = PictureLossIndication::parse(packet_of(kShort));
  ASSERT_FALSE(pli.ok());
  EXPECT_EQ(pli.error(), ParseError::truncated);
}

TEST(RtcpPliTest, WrongFormatOrType) {
  std::vector<uint8_t> fir = bytes_of(kPli);
  fir[0] = 0x84;  // FMT=4
  auto r = PictureLossIndication::parse(packet_of(fir));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_type);
  std::vector<uint8_t> nack = bytes_of(kPli);
  nack[1] = 0xcd;  // PT=RTPFB
  r = PictureLossIndication::parse(packet_of(nack));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_type);
}

TEST(RtcpPliTest, BuilderRefusesShortBuffer) {
  std::array<uint8_t, 11> small{};
  EXPECT_EQ(PictureLossIndication{}.serialize_to(small), 0u);
}

}  // namespace
}  // namespace sfu::rtp::rtcp
