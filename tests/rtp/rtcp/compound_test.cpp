// Compound RTCP (RFC 3550 §6.1), reduced-size RTCP (RFC 5506), classify()
// and CompoundBuilder.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "rtp/rtcp/bye.hpp"
#include "rtp/rtcp/classify.hpp"
#include "rtp/rtcp/compound_builder.hpp"
#include "rtp/rtcp/full_intra_request.hpp"
#include "rtp/rtcp/picture_loss_indication.hpp"
#include "rtp/rtcp/receiver_report.hpp"
#include "rtp/rtcp/remb.hpp"
#include "rtp/rtcp/sdes.hpp"
#include "rtp/rtcp/sender_report.hpp"
#include "rtp/rtcp/transport_layer_nack.hpp"
#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;

std::vector<MessageKind> kinds_of(Bytes datagram) {
  std::vector<MessageKind> kinds;
  CompoundReader r(datagram);
  while (auto p = r.next()) kinds.push_back(classify(*p));
  EXPECT_FALSE(r.error().has_value());
  return kinds;
}

// SR + SDES, as Chrome sends for a video sender.
constexpr uint8_t kSrSdes[] = {
    0x80, 0xc8, 0x00, 0x06,  // SR: RC=0, PT=200, length 6
    0x5e, 0x1f, 0x0a, 0x31,  //   SSRC of sender
    0xe8, 0x9a, 0x2b, 0x3c,  //   NTP MSW
    0x12, 0x34, 0x56, 0x78,  //   NTP LSW
    0x9a, 0xbc, 0xde, 0xf0,  //   RTP timestamp
    0x00, 0x00, 0x01, 0x2c,  //   packet count 300
    0x00, 0x04, 0x93, 0xe0,  //   octet count 300000
    0x81, 0xca, 0x00, 0x06,  // SDES: SC=1, PT=202, length 6
    0x5e, 0x1f, 0x0a, 0x31,  //   chunk SSRC
    0x01, 0x10, 'k',  'G',   //   CNAME, length 16
    'p',  '2',  'r',  'V',   //
    '9',  's',  'Q',  '1',   //
    'x',  'W',  '4',  'z',   //
    'Y',  't',  0x00, 0x00,  //   END, null
};

TEST(RtcpCompoundTest, SenderReportPlusSdes) {
  EXPECT_EQ(kinds_of(kSrSdes), (std::vector<MessageKind>{MessageKind::sender_report, MessageKind::sdes}));
  CompoundReader r(kSrSdes);
  auto sr = SenderReportView::parse(*r.next());
  ASSERT_TRUE(sr.ok());
  EXPECT_EQ(sr->info.packet_count, 300u);
  auto sdes = SdesView::parse(*r.next());
  ASSERT_TRUE(sdes.ok());
  EXPECT_EQ(sdes->cname(sr->ssrc), "kGp2rV9sQ1xW4zYt");
  EXPECT_FALSE(r.next().has_value());
  EXPECT_FALSE(r.error().has_value());
}

TEST(RtcpCompoundTest, BuilderReproducesSenderReportPlusSdes) {
  std::array<uint8_t, 1200> buf{};
  CompoundBuilder b(buf);
  EXPECT_TRUE(b.append(SenderReport{0x5e1f0a31, {0xe89a2b3c12345678, 0x9abcdef0, 300, 300000}, {}, {}}));
  EXPECT_TRUE(b.append(CnameSdes{0x5e1f0a31, "kGp2rV9sQ1xW4zYt"}));
  EXPECT_TRUE(b.ok());
  EXPECT_EQ(bytes_of(b.data()), bytes_of(kSrSdes));
}

// RR + REMB, as a receive-only browser sends them.
constexpr uint8_t kRrRemb[] = {
    0x81, 0xc9, 0x00, 0x07,  // RR: RC=1, PT=201, length 7
    0x00, 0x00, 0x00, 0x01,  //   SSRC of packet sender
    0x5e, 0x1f, 0x0a, 0x31,  //   block: SSRC_1
    0x00, 0x00, 0x00, 0x03,  //     fraction lost 0, cumulative lost 3
    0x00, 0x00, 0x27, 0x10,  //     extended highest seq 10000
    0x00, 0x00, 0x00, 0x20,  //     jitter 32
    0x2b, 0x3c, 0x12, 0x34,  //     LSR
    0x00, 0x00, 0x80, 0x00,  //     DLSR 0.5 s
    0x8f, 0xce, 0x00, 0x05,  // REMB: FMT=15, PT=206, length 5
    0x00, 0x00, 0x00, 0x01,  //   SSRC of packet sender
    0x00, 0x00, 0x00, 0x00,  //   SSRC of media source
    'R',  'E',  'M',  'B',   //   identifier
    0x01, 0x0b, 0xd0, 0x90,  //   Num SSRC 1, 1 Mbps
    0x5e, 0x1f, 0x0a, 0x31,  //   SSRC feedback
};

TEST(RtcpCompoundTest, ReceiverReportPlusRemb) {
  EXPECT_EQ(kinds_of(kRrRemb), (std::vector<MessageKind>{MessageKind::receiver_report, MessageKind::remb}));
  CompoundReader r(kRrRemb);
  auto rr = ReceiverReportView::parse(*r.next());
  ASSERT_TRUE(rr.ok());
  EXPECT_EQ(rr->report_blocks[0].cumulative_lost, 3);
  auto remb = RembView::parse(*r.next());
  ASSERT_TRUE(remb.ok());
  EXPECT_EQ(remb->bitrate_bps, 1'000'000u);
  EXPECT_EQ(remb->ssrcs[0], rr->report_blocks[0].ssrc);
}

TEST(RtcpCompoundTest, BuilderReproducesReceiverReportPlusRemb) {
  std::array<uint8_t, 1200> buf{};
  CompoundBuilder b(buf);
  const ReportBlock block{0x5e1f0a31, 0, 3, 10000, 32, 0x2b3c1234, 0x8000};
  const uint32_t ssrc = 0x5e1f0a31;
  b.append(ReceiverReport{1, {&block, 1}, {}});
  b.append(Remb{{1, 0}, 1'000'000, {&ssrc, 1}});
  EXPECT_TRUE(b.ok());
  EXPECT_EQ(bytes_of(b.data()), bytes_of(kRrRemb));
}

// RFC 5506: a reduced-size datagram holds a single feedback message.
TEST(RtcpCompoundTest, ReducedSizeSinglePli) {
  constexpr uint8_t kPli[] = {
      0x81, 0xce, 0x00, 0x02,  // PLI: FMT=1, PT=206, length 2
      0x00, 0x00, 0x00, 0x01,  //   SSRC of packet sender
      0x5e, 0x1f, 0x0a, 0x31,  //   SSRC of media source
  };
  EXPECT_EQ(kinds_of(kPli), (std::vector<MessageKind>{MessageKind::pli}));
  CompoundReader r(kPli);
  auto pli = PictureLossIndication::parse(*r.next());
  ASSERT_TRUE(pli.ok());
  EXPECT_EQ(pli->header.media_ssrc, 0x5e1f0a31u);
}

TEST(RtcpCompoundTest, ReceiverReportPlusNackBuiltAndWalked) {
  std::array<uint8_t, 1200> buf{};
  CompoundBuilder b(buf);
  const std::array<uint16_t, 5> lost = {65534, 65535, 0, 1, 40};
  std::array<NackItem, 4> items{};
  const NackPackResult packed = pack_nack_items(lost, items);
  b.append(ReceiverReport{1, {}, {}});
  b.append(CnameSdes{1, "sfu"});
  b.append(TransportLayerNack{{1, 0x5e1f0a31}, {items.data(), packed.items}});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(kinds_of(b.data()),
            (std::vector<MessageKind>{MessageKind::receiver_report, MessageKind::sdes, MessageKind::nack}));
  CompoundReader r(b.data());
  r.next();
  r.next();
  auto nack = TransportLayerNackView::parse(*r.next());
  ASSERT_TRUE(nack.ok());
  std::vector<uint16_t> got;
  for (uint16_t s : nack->lost_packets()) got.push_back(s);
  EXPECT_EQ(got, (std::vector<uint16_t>(lost.begin(), lost.end())));
}

TEST(RtcpCompoundTest, TruncatedSecondPacketStopsTheWalk) {
  std::vector<uint8_t> d = bytes_of(kRrRemb);
  d.resize(d.size() - 4);  // REMB length now runs past the datagram
  CompoundReader r(d);
  ASSERT_TRUE(r.next().has_value());
  EXPECT_FALSE(r.next().has_value());
  ASSERT_TRUE(r.error().has_value());
  EXPECT_EQ(*r.error(), ParseError::bad_length);
}

TEST(RtcpCompoundTest, BuilderOverflowKeepsWhatFit) {
  std::array<uint8_t, 40> buf{};
  CompoundBuilder b(buf);
  EXPECT_TRUE(b.append(ReceiverReport{1, {}, {}}));          // 8 bytes
  EXPECT_FALSE(b.append(CnameSdes{1, std::string_view("0123456789012345678901234567890123456789")}));
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(b.size(), 8u);
  EXPECT_TRUE(b.append(PictureLossIndication{{1, 2}}));      // still fits after
  EXPECT_EQ(b.size(), 20u);
  EXPECT_FALSE(b.ok());
  b.clear();
  EXPECT_TRUE(b.ok());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.remaining(), buf.size());
}

struct ClassifyCase {
  std::vector<uint8_t> packet;
  MessageKind kind;
};

class RtcpClassifyTest : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(RtcpClassifyTest, ByTypeFormatAndIdentifier) {
  EXPECT_EQ(classify(packet_of(GetParam().packet)), GetParam().kind) << to_string(GetParam().kind);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RtcpClassifyTest,
    ::testing::Values(
        ClassifyCase{{0x80, 0xc8, 0x00, 0x00}, MessageKind::sender_report},
        ClassifyCase{{0x80, 0xc9, 0x00, 0x00}, MessageKind::receiver_report},
        ClassifyCase{{0x80, 0xca, 0x00, 0x00}, MessageKind::sdes},
        ClassifyCase{{0x80, 0xcb, 0x00, 0x00}, MessageKind::bye},
        ClassifyCase{{0x80, 0xcc, 0x00, 0x00}, MessageKind::app},
        ClassifyCase{{0x81, 0xcd, 0x00, 0x00}, MessageKind::nack},
        ClassifyCase{{0x8f, 0xcd, 0x00, 0x00}, MessageKind::transport_cc},
        ClassifyCase{{0x83, 0xcd, 0x00, 0x00}, MessageKind::other_rtpfb},  // TMMBR
        ClassifyCase{{0x81, 0xce, 0x00, 0x00}, MessageKind::pli},
        ClassifyCase{{0x84, 0xce, 0x00, 0x00}, MessageKind::fir},
        ClassifyCase{{0x8f, 0xce, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E', 'M', 'B'}, MessageKind::remb},
        ClassifyCase{{0x8f, 0xce, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 'G', 'O', 'O', 'G'},
                     MessageKind::other_psfb},
        ClassifyCase{{0x8f, 0xce, 0x00, 0x00}, MessageKind::other_psfb},  // AFB too short to be REMB
        ClassifyCase{{0x82, 0xce, 0x00, 0x00}, MessageKind::other_psfb},  // SLI
        ClassifyCase{{0x80, 0xcf, 0x00, 0x00}, MessageKind::unknown}));   // XR

TEST(RtcpClassifyNamesTest, NamesAreStable) {
  EXPECT_EQ(to_string(MessageKind::nack), "nack");
  EXPECT_EQ(to_string(MessageKind::remb), "remb");
  EXPECT_EQ(to_string(MessageKind::count_), "invalid");
}

}  // namespace
}  // namespace sfu::rtp::rtcp
