// RFC 3550 §6.4.2 receiver reports.
#include "rtp/rtcp/receiver_report.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;
using test::serialize;

constexpr uint8_t kRrTwoBlocks[] = {
    0x82, 0xc9, 0x00, 0x0d,  // V=2 P=0 RC=2, PT=RR(201), length 13 (56 bytes)
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x11, 0x11, 0x11, 0x11,  // block 1: SSRC_1
    0x00, 0x00, 0x00, 0x00,  //   fraction lost 0, cumulative lost 0
    0x00, 0x00, 0x10, 0x00,  //   extended highest seq 4096
    0x00, 0x00, 0x00, 0x0a,  //   jitter 10
    0x00, 0x00, 0x00, 0x00,  //   LSR 0: no SR received yet
    0x00, 0x00, 0x00, 0x00,  //   DLSR 0
    0x22, 0x22, 0x22, 0x22,  // block 2: SSRC_2
    0x80, 0x00, 0x01, 0x00,  //   fraction lost 128 (50 %), cumulative lost 256
    0x00, 0x02, 0xff, 0xff,  //   extended highest seq: 2 cycles, seq 65535
    0x00, 0x00, 0x01, 0x00,  //   jitter 256
    0x12, 0x34, 0x56, 0x78,  //   LSR
    0x00, 0x00, 0x40, 0x00,  //   DLSR 0.25 s
};

TEST(ReceiverReportTest, Rfc3550Section642Fields) {
  auto rr = ReceiverReportView::parse(packet_of(kRrTwoBlocks));
  ASSERT_TRUE(rr.ok());
  EXPECT_EQ(rr->ssrc, 1u);
  ASSERT_EQ(rr->report_blocks.size(), 2u);
  std::vector<uint32_t> ssrcs;
  for (ReportBlock b : rr->report_blocks) ssrcs.push_back(b.ssrc);
  EXPECT_EQ(ssrcs, (std::vector<uint32_t>{0x11111111, 0x22222222}));
  const ReportBlock b2 = rr->report_blocks[1];
  EXPECT_EQ(b2.fraction_lost, 128);
  EXPECT_EQ(b2.cumulative_lost, 256);
  EXPECT_EQ(b2.extended_highest_seq, 0x0002ffffu);
  EXPECT_EQ(b2.delay_since_last_sr, 0x4000u);
}

TEST(ReceiverReportTest, RoundTripByteExact) {
  auto rr = ReceiverReportView::parse(packet_of(kRrTwoBlocks));
  ASSERT_TRUE(rr.ok());
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
  const size_t n = rr->report_blocks.copy_to(blocks);
  EXPECT_EQ(serialize(ReceiverReport{rr->ssrc, {blocks.data(), n}, rr->profile_extension}), bytes_of(kRrTwoBlocks));
}

// RFC 3550 §6.4: an RR with no blocks heads a compound when there is
// nothing to report.
TEST(ReceiverReportTest, EmptyReceiverReport) {
  constexpr uint8_t kRr[] = {
      0x80, 0xc9, 0x00, 0x01,  // RC=0, PT=RR, length 1 (8 bytes)
      0xfe, 0xdc, 0xba, 0x98,  // SSRC of packet sender
  };
  auto rr = ReceiverReportView::parse(packet_of(kRr));
  ASSERT_TRUE(rr.ok());
  EXPECT_EQ(rr->ssrc, 0xfedcba98u);
  EXPECT_TRUE(rr->report_blocks.empty());
  EXPECT_EQ(serialize(ReceiverReport{0xfedcba98, {}, {}}), bytes_of(kRr));
}

TEST(ReceiverReportTest, ProfileExtensionToleratedAndKept) {
  constexpr uint8_t kRr[] = {
      0x80, 0xc9, 0x00, 0x02,  // RC=0, PT=RR, length 2 (12 bytes)
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x01, 0x02, 0x03, 0x04,  // profile-specific extension
  };
  auto rr = ReceiverReportView::parse(packet_of(kRr));
  ASSERT_TRUE(rr.ok());
  EXPECT_EQ(rr->profile_extension.size(), 4u);
  EXPECT_EQ(serialize(ReceiverReport{rr->ssrc, {}, rr->profile_extension}), bytes_of(kRr));
}

TEST(ReceiverReportTest, TruncatedSenderSsrc) {
  constexpr uint8_t kRr[] = {
      0x80, 0xc9, 0x00, 0x00,  // RC=0, PT=RR, length 0: no SSRC
  };
  auto rr = ReceiverReportView::parse(packet_of(kRr));
  ASSERT_FALSE(rr.ok());
  EXPECT_EQ(rr.error(), ParseError::truncated);
}

TEST(ReceiverReportTest, RcClaimsMoreBlocksThanPresent) {
  constexpr uint8_t kRr[] = {
      0x81, 0xc9, 0x00, 0x01,  // RC=1, PT=RR, length 1: no room for the block
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
  };
  auto rr = ReceiverReportView::parse(packet_of(kRr));
  ASSERT_FALSE(rr.ok());
  EXPECT_EQ(rr.error(), ParseError::bad_length);
}

TEST(ReceiverReportTest, PartialBlockIsBadLength) {
  std::vector<uint8_t> rr = bytes_of(kRrTwoBlocks);
  rr[3] = 0x0c;  // length 12: the second block loses its last word
  rr.resize(52);
  auto r = ReceiverReportView::parse(packet_of(rr));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_length);
}

TEST(ReceiverReportTest, WrongPacketType) {
  constexpr uint8_t kSr[] = {0x80, 0xc8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01};  // PT=SR
  auto rr = ReceiverReportView::parse(packet_of(kSr));
  ASSERT_FALSE(rr.ok());
  EXPECT_EQ(rr.error(), ParseError::bad_type);
}

TEST(ReceiverReportTest, BuilderLimits) {
  std::array<ReportBlock, kMaxReportBlocks + 1> blocks{};
  std::vector<uint8_t> out(2048);
  EXPECT_EQ((ReceiverReport{1, blocks, {}}.serialize_to(out)), 0u);
  EXPECT_EQ((ReceiverReport{1, std::span(blocks).first(31), {}}.serialize_to(out)), 8u + 31 * 24);
  std::array<uint8_t, 7> small{};
  EXPECT_EQ((ReceiverReport{1, {}, {}}.serialize_to(small)), 0u);
}

}  // namespace
}  // namespace sfu::rtp::rtcp
