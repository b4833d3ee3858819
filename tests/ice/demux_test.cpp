// RFC 7983 §7 first-byte demultiplexing and the RFC 5761 §4 RTP/RTCP split,
// at every range boundary and over all 256 first bytes.
#include "ice/demux.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>

namespace sfu::ice {
namespace {

static_assert(classify_first_byte(0) == PacketKind::stun);
static_assert(classify_first_byte(128) == PacketKind::rtp);
static_assert(classify_packet(Bytes()) == PacketKind::unknown);

TEST(Demux, FirstByteBoundaries) {
  struct Case {
    uint8_t byte;
    PacketKind kind;
  };
  const Case cases[] = {
      {0, PacketKind::stun},          {3, PacketKind::stun},     {4, PacketKind::unknown},
      {15, PacketKind::unknown},      {16, PacketKind::zrtp},    {19, PacketKind::zrtp},
      {20, PacketKind::dtls},         {63, PacketKind::dtls},    {64, PacketKind::turn_channel},
      {79, PacketKind::turn_channel}, {80, PacketKind::unknown}, {127, PacketKind::unknown},
      {128, PacketKind::rtp},         {191, PacketKind::rtp},    {192, PacketKind::unknown},
      {255, PacketKind::unknown},
  };
  for (const Case& c : cases) EXPECT_EQ(classify_first_byte(c.byte), c.kind) << int(c.byte);
}

// The RFC 7983 §7 table, written as ranges, checked against every byte.
TEST(Demux, AllFirstBytesMatchRfc7983Table) {
  struct Range {
    int lo, hi;
    PacketKind kind;
  };
  const Range table[] = {{0, 3, PacketKind::stun},
                         {16, 19, PacketKind::zrtp},
                         {20, 63, PacketKind::dtls},
                         {64, 79, PacketKind::turn_channel},
                         {128, 191, PacketKind::rtp}};
  for (int b = 0; b < 256; ++b) {
    PacketKind expected = PacketKind::unknown;
    for (const Range& r : table) {
      if (b >= r.lo && b <= r.hi) expected = r.kind;
    }
    EXPECT_EQ(classify_first_byte(uint8_t(b)), expected) << b;
  }
}

TEST(Demux, RtpRtcpSplitOnSecondByte) {
  auto kind = [](uint8_t first, uint8_t second) {
    const std::array<uint8_t, 12> p = {first, second};
    return classify_packet(p);
  };
  EXPECT_EQ(kind(0x80, 0), PacketKind::rtp);
  EXPECT_EQ(kind(0x80, 111), PacketKind::rtp);        // PT 111, marker clear
  EXPECT_EQ(kind(0x80, 0x80 | 96), PacketKind::rtp);  // PT 96, marker set = 224
  EXPECT_EQ(kind(0x80, 191), PacketKind::rtp);
  EXPECT_EQ(kind(0x80, 192), PacketKind::rtcp);  // FIR
  EXPECT_EQ(kind(0x81, 200), PacketKind::rtcp);  // SR
  EXPECT_EQ(kind(0x81, 201), PacketKind::rtcp);  // RR
  EXPECT_EQ(kind(0x8f, 206), PacketKind::rtcp);  // PSFB
  EXPECT_EQ(kind(0xbf, 223), PacketKind::rtcp);
  EXPECT_EQ(kind(0x80, 224), PacketKind::rtp);
  EXPECT_EQ(kind(0x80, 255), PacketKind::rtp);
  for (int second = 0; second < 256; ++second) {
    EXPECT_EQ(is_rtcp_packet_type(uint8_t(second)), second >= 192 && second <= 223) << second;
  }
}

TEST(Demux, WholePacketsOfEachKind) {
  const uint8_t stun[] = {0x00, 0x01, 0x00, 0x00};
  const uint8_t dtls[] = {22, 0xfe, 0xfd};  // handshake, DTLS 1.2
  const uint8_t channel[] = {0x40, 0x00, 0x00, 0x04};
  const uint8_t zrtp[] = {0x10, 0x00};
  const uint8_t unknown[] = {0xff};
  EXPECT_EQ(classify_packet(stun), PacketKind::stun);
  EXPECT_EQ(classify_packet(dtls), PacketKind::dtls);
  EXPECT_EQ(classify_packet(channel), PacketKind::turn_channel);
  EXPECT_EQ(classify_packet(zrtp), PacketKind::zrtp);
  EXPECT_EQ(classify_packet(unknown), PacketKind::unknown);
}

TEST(Demux, ShortPackets) {
  const uint8_t one_rtp_byte[] = {0x80};
  const uint8_t one_stun_byte[] = {0x01};
  EXPECT_EQ(classify_packet(Bytes()), PacketKind::unknown);
  EXPECT_EQ(classify_packet(one_rtp_byte), PacketKind::unknown);
  EXPECT_EQ(classify_packet(one_stun_byte), PacketKind::stun);
}

TEST(Demux, Names) {
  EXPECT_STREQ(to_string(PacketKind::stun), "stun");
  EXPECT_STREQ(to_string(PacketKind::rtcp), "rtcp");
  EXPECT_STREQ(to_string(PacketKind::turn_channel), "turn_channel");
}

}  // namespace
}  // namespace sfu::ice
