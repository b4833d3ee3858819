// RFC 3550 §6.4.1 sender reports.
#include "rtp/rtcp/sender_report.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;
using test::serialize;

// An SR with one report block, as a browser sends it.
constexpr uint8_t kSrOneBlock[] = {
    0x81, 0xc8, 0x00, 0x0c,  // V=2 P=0 RC=1, PT=SR(200), length 12 (52 bytes)
    0x12, 0x34, 0x56, 0x78,  // SSRC of sender
    0xe8, 0x9a, 0x2b, 0x3c,  // NTP timestamp, most significant word
    0x80, 0x00, 0x00, 0x00,  // NTP timestamp, least significant word (0.5 s)
    0x00, 0x01, 0xe2, 0x40,  // RTP timestamp 123456
    0x00, 0x00, 0x03, 0xe8,  // sender's packet count 1000
    0x00, 0x0f, 0x42, 0x40,  // sender's octet count 1000000
    0xaa, 0xbb, 0xcc, 0xdd,  // report block 1: SSRC_1
    0x19, 0xff, 0xff, 0xfe,  //   fraction lost 25, cumulative lost -2
    0x00, 0x01, 0x23, 0x45,  //   extended highest sequence number
    0x00, 0x00, 0x00, 0x64,  //   interarrival jitter 100
    0x2b, 0x3c, 0x80, 0x00,  //   LSR
    0x00, 0x01, 0x80, 0x00,  //   DLSR
};

TEST(SenderReportTest, Rfc3550Section641Fields) {
  auto sr = SenderReportView::parse(packet_of(kSrOneBlock));
  ASSERT_TRUE(sr.ok());
  EXPECT_EQ(sr->ssrc, 0x12345678u);
  EXPECT_EQ(sr->info.ntp_timestamp, 0xe89a2b3c80000000u);
  EXPECT_EQ(sr->info.rtp_timestamp, 123456u);
  EXPECT_EQ(sr->info.packet_count, 1000u);
  EXPECT_EQ(sr->info.octet_count, 1000000u);
  ASSERT_EQ(sr->report_blocks.size(), 1u);
  const ReportBlock b = sr->report_blocks[0];
  EXPECT_EQ(b.ssrc, 0xaabbccddu);
  EXPECT_EQ(b.fraction_lost, 25);
  EXPECT_EQ(b.cumulative_lost, -2);
  EXPECT_EQ(b.last_sr, compact_ntp(sr->info.ntp_timestamp));
  EXPECT_TRUE(sr->profile_extension.empty());
}

TEST(SenderReportTest, RoundTripByteExact) {
  auto sr = SenderReportView::parse(packet_of(kSrOneBlock));
  ASSERT_TRUE(sr.ok());
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
  const size_t n = sr->report_blocks.copy_to(blocks);
  const SenderReport out{sr->ssrc, sr->info, {blocks.data(), n}, sr->profile_extension};
  EXPECT_EQ(serialize(out), bytes_of(kSrOneBlock));
}

TEST(SenderReportTest, NoReportBlocks) {
  constexpr uint8_t kSr[] = {
      0x80, 0xc8, 0x00, 0x06,  // RC=0, PT=SR, length 6 (28 bytes)
      0x00, 0x00, 0x00, 0x01,  // SSRC of sender
      0x00, 0x00, 0x00, 0x02,  // NTP MSW
      0x00, 0x00, 0x00, 0x03,  // NTP LSW
      0x00, 0x00, 0x00, 0x04,  // RTP timestamp
      0x00, 0x00, 0x00, 0x05,  // packet count
      0x00, 0x00, 0x00, 0x06,  // octet count
  };
  auto sr = SenderReportView::parse(packet_of(kSr));
  ASSERT_TRUE(sr.ok());
  EXPECT_TRUE(sr->report_blocks.empty());
  EXPECT_EQ(sr->info.ntp_timestamp, 0x0000000200000003u);
  EXPECT_EQ(serialize(SenderReport{sr->ssrc, sr->info, {}, {}}), bytes_of(kSr));
}

// RFC 3550 §6.4.1: profile-specific extensions may follow the blocks.
TEST(SenderReportTest, ProfileExtensionToleratedAndKept) {
  constexpr uint8_t kSr[] = {
      0x80, 0xc8, 0x00, 0x08,  // RC=0, PT=SR, length 8 (36 bytes)
      0x00, 0x00, 0x00, 0x01,  // SSRC of sender
      0x00, 0x00, 0x00, 0x02,  // NTP MSW
      0x00, 0x00, 0x00, 0x03,  // NTP LSW
      0x00, 0x00, 0x00, 0x04,  // RTP timestamp
      0x00, 0x00, 0x00, 0x05,  // packet count
      0x00, 0x00, 0x00, 0x06,  // octet count
      0xde, 0xad, 0xbe, 0xef,  // profile-specific extension
      0xca, 0xfe, 0xba, 0xbe,  // profile-specific extension
  };
  auto sr = SenderReportView::parse(packet_of(kSr));
  ASSERT_TRUE(sr.ok());
  EXPECT_EQ(bytes_of(sr->profile_extension), bytes_of(Bytes(kSr).last(8)));
  EXPECT_EQ(serialize(SenderReport{sr->ssrc, sr->info, {}, sr->profile_extension}), bytes_of(kSr));
}

TEST(SenderReportTest, PaddingIsNotPartOfTheReport) {
  constexpr uint8_t kSr[] = {
      0xa0, 0xc8, 0x00, 0x07,  // P=1 RC=0, PT=SR, length 7 (32 bytes)
      0x00, 0x00, 0x00, 0x01,  // SSRC of sender
      0x00, 0x00, 0x00, 0x02,  // NTP MSW
      0x00, 0x00, 0x00, 0x03,  // NTP LSW
      0x00, 0x00, 0x00, 0x04,  // RTP timestamp
      0x00, 0x00, 0x00, 0x05,  // packet count
      0x00, 0x00, 0x00, 0x06,  // octet count
      0x00, 0x00, 0x00, 0x04,  // padding, 4 octets
  };
  auto sr = SenderReportView::parse(packet_of(kSr));
  ASSERT_TRUE(sr.ok());
  EXPECT_TRUE(sr->profile_extension.empty());
}

TEST(SenderReportTest, BadPaddingCountRejected) {
  constexpr uint8_t kSr[] = {
      0xa0, 0xc8, 0x00, 0x01,  // P=1 RC=0, PT=SR, length 1
      0x00, 0x00, 0x00, 0x00,  // padding count 0: invalid (RFC 3550 §6.4.1)
  };
  auto p = parse_packet(kSr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error(), ParseError::bad_padding);
}

TEST(SenderReportTest, TruncatedSenderInfo) {
  constexpr uint8_t kSr[] = {
      0x80, 0xc8, 0x00, 0x05,  // RC=0, PT=SR, length 5: one word short
      0x00, 0x00, 0x00, 0x01,  // SSRC of sender
      0x00, 0x00, 0x00, 0x02,  // NTP MSW
      0x00, 0x00, 0x00, 0x03,  // NTP LSW
      0x00, 0x00, 0x00, 0x04,  // RTP timestamp
      0x00, 0x00, 0x00, 0x05,  // packet count; octet count missing
  };
  auto sr = SenderReportView::parse(packet_of(kSr));
  ASSERT_FALSE(sr.ok());
  EXPECT_EQ(sr.error(), ParseError::truncated);
}

TEST(SenderReportTest, RcClaimsMoreBlocksThanPresent) {
  std::vector<uint8_t> sr = bytes_of(kSrOneBlock);
  sr[0] = 0x82;  // RC=2, but the length leaves room for one block
  auto r = SenderReportView::parse(packet_of(sr));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_length);
}

TEST(SenderReportTest, WrongPacketType) {
  std::vector<uint8_t> rr = bytes_of(kSrOneBlock);
  rr[1] = 0xc9;  // PT=RR
  auto r = SenderReportView::parse(packet_of(rr));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ParseError::bad_type);
}

TEST(SenderReportTest, ThirtyOneBlocksRoundTrip) {
  std::array<ReportBlock, kMaxReportBlocks> blocks{};
  for (size_t i = 0; i < blocks.size(); ++i) blocks[i].ssrc = uint32_t(i + 1);
  const SenderReport sr{7, SenderInfo{1, 2, 3, 4}, blocks, {}};
  const std::vector<uint8_t> wire = serialize(sr);
  ASSERT_EQ(wire.size(), 28u + 31 * 24);
  EXPECT_EQ(wire[0], 0x9f);  // V=2, RC=31
  auto parsed = SenderReportView::parse(packet_of(wire));
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->report_blocks.size(), 31u);
  size_t i = 0;
  for (ReportBlock b : parsed->report_blocks) EXPECT_EQ(b, blocks[i++]);
}

TEST(SenderReportTest, BuilderRefusesThirtyTwoBlocks) {
  std::array<ReportBlock, kMaxReportBlocks + 1> blocks{};
  std::vector<uint8_t> out(2048);
  EXPECT_EQ((SenderReport{1, {}, blocks, {}}.serialize_to(out)), 0u);
}

TEST(SenderReportTest, BuilderRefusesShortBuffer) {
  const SenderReport sr{1, {}, {}, {}};
  std::vector<uint8_t> out(sr.serialized_size() - 1);
  EXPECT_EQ(sr.serialize_to(out), 0u);
}

TEST(SenderReportTest, UnalignedExtensionIsZeroPadded) {
  constexpr uint8_t kExt[] = {0x01, 0x02, 0x03, 0x04, 0x05};
  const SenderReport sr{1, {}, {}, kExt};
  const std::vector<uint8_t> wire = serialize(sr);
  ASSERT_EQ(wire.size(), 28u + 8);
  EXPECT_EQ(std::vector<uint8_t>(wire.end() - 8, wire.end()),
            (std::vector<uint8_t>{0x01, 0x02, 0x03, 0x04, 0x05, 0x00, 0x00, 0x00}));
}

}  // namespace
}  // namespace sfu::rtp::rtcp
