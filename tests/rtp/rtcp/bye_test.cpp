// RFC 3550 §6.6 BYE packets.
#include "rtp/rtcp/bye.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;
using test::serialize;

constexpr uint8_t kByeReason[] = {
    0x82, 0xcb, 0x00, 0x05,  // V=2 P=0 SC=2, PT=BYE(203), length 5 (24 bytes)
    0x11, 0x22, 0x33, 0x44,  // SSRC
    0x55, 0x66, 0x77, 0x88,  // CSRC
    0x0a, 'c',  'a',  'm',   // reason length 10, "camera off"
    'e',  'r',  'a',  ' ',   //
    'o',  'f',  'f',  0x00,  //   one null to the 32-bit boundary
};

TEST(ByeTest, Rfc3550Section66WithReason) {
  auto bye = ByeView::parse(packet_of(kByeReason));
  ASSERT_TRUE(bye.ok());
  ASSERT_EQ(bye->ssrcs.size(), 2u);
  EXPECT_EQ(bye->ssrcs[0], 0x11223344u);
  EXPECT_EQ(bye->ssrcs[1], 0x55667788u);
  EXPECT_EQ(bye->reason, "camera off");
}

TEST(ByeTest, RoundTripByteExact) {
  auto bye = ByeView::parse(packet_of(kByeReason));
  ASSERT_TRUE(bye.ok());
  std::array<uint32_t, kMaxByeSsrcs> ssrcs{};
  const size_t n = bye->ssrcs.copy_to(ssrcs);
  EXPECT_EQ(serialize(Bye{{ssrcs.data(), n}, bye->reason}), bytes_of(kByeReason));
}

TEST(ByeTest, SingleSsrcNoReason) {
  constexpr uint8_t kBye[] = {
      0x81, 0xcb, 0x00, 0x01,  // SC=1, PT=BYE, length 1
      0xde, 0xad, 0xbe, 0xef,  // SSRC
  };
  auto bye = ByeView::parse(packet_of(kBye));
  ASSERT_TRUE(bye.ok());
  ASSERT_EQ(bye->ssrcs.size(), 1u);
  EXPECT_EQ(*bye->ssrcs.begin(), 0xdeadbeefu);
  EXPECT_TRUE(bye->reason.empty());
  const uint32_t ssrc = 0xdeadbeef;
  EXPECT_EQ(serialize(Bye{{&ssrc, 1}, {}}), bytes_of(kBye));
}

// RFC 3550 §6.6: a reason that fills the packet to the boundary has no null.
TEST(ByeTest, ReasonFillingTheWordHasNoNull) {
  constexpr uint8_t kBye[] = {
      0x81, 0xcb, 0x00, 0x02,  // SC=1, PT=BYE, length 2
      0x00, 0x00, 0x00, 0x01,  // SSRC
      0x03, 'b',  'y',  'e',   // reason "bye", exactly one word
  };
  auto bye = ByeView::parse(packet_of(kBye));
  ASSERT_TRUE(bye.ok());
  EXPECT_EQ(bye->reason, "bye");
  const uint32_t ssrc = 1;
  EXPECT_EQ(serialize(Bye{{&ssrc, 1}, "bye"}), bytes_of(kBye));
}

TEST(ByeTest, ZeroLengthReasonReadsAsNoReason) {
  constexpr uint8_t kBye[] = {
      0x81, 0xcb, 0x00, 0x02,  // SC=1, PT=BYE, length 2
      0x00, 0x00, 0x00, 0x01,  // SSRC
      0x00, 0x00, 0x00, 0x00,  // reason length 0 (or null padding)
  };
  auto bye = ByeView::parse(packet_of(kBye));
  ASSERT_TRUE(bye.ok());
  EXPECT_TRUE(bye->reason.empty());
}

TEST(ByeTest, ScClaimsMoreSsrcsThanPresent) {
  constexpr uint8_t kBye[] = {
      0x83, 0xcb, 0x00, 0x02,  // SC=3, PT=BYE, length 2: room for two
      0x00, 0x00, 0x00, 0x01,  // SSRC
      0x00, 0x00, 0x00, 0x02,  // CSRC
  };
  auto bye = ByeView::parse(packet_of(kBye));
  ASSERT_FALSE(bye.ok());
  EXPECT_EQ(bye.error(), ParseError::bad_length);
}

TEST(ByeTest, ReasonOverrunningThePacket) {
  constexpr uint8_t kBye[] = {
      0x81, 0xcb, 0x00, 0x02,  // SC=1, PT=BYE, length 2
      0x00, 0x00, 0x00, 0x01,  // SSRC
      0x09, 'g',  'o',  'n',   // reason claims 9 octets, 3 present
  };
  auto bye = ByeView::parse(packet_of(kBye));
  ASSERT_FALSE(bye.ok());
  EXPECT_EQ(bye.error(), ParseError::bad_length);
}

TEST(ByeTest, WrongPacketType) {
  constexpr uint8_t kRr[] = {0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01};  // PT=RR
  auto bye = ByeView::parse(packet_of(kRr));
  ASSERT_FALSE(bye.ok());
  EXPECT_EQ(bye.error(), ParseError::bad_type);
}

TEST(ByeTest, BuilderLimits) {
  std::vector<uint8_t> out(2048);
  std::array<uint32_t, kMaxByeSsrcs + 1> ssrcs{};
  EXPECT_EQ((Bye{ssrcs, {}}.serialize_to(out)), 0u);
  const std::string reason(256, 'r');
  EXPECT_EQ((Bye{std::span(ssrcs).first(1), reason}.serialize_to(out)), 0u);
  EXPECT_EQ((Bye{std::span(ssrcs).first(1), std::string_view(reason).substr(0, 255)}.serialize_to(out)),
            4u + 4 + 256);
  std::array<uint8_t, 7> small{};
  EXPECT_EQ((Bye{std::span(ssrcs).first(1), {}}.serialize_to(small)), 0u);
}

}  // namespace
}  // namespace sfu::rtp::rtcp
