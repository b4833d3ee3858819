#include "server/subscriber_feedback.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

namespace sfu::server {
namespace {

namespace rtcp = rtp::rtcp;

// A browser's compound (RFC 3550 §6.1: RR first), then the feedback it sends
// (RFC 4585, RFC 5104, REMB), each read back as one typed item, in order.
TEST(SubscriberFeedback, EachItemOfACompoundInOrder) {
  std::array<uint8_t, 512> buf{};
  rtcp::CompoundBuilder out(buf);
  const std::array<rtcp::ReportBlock, 2> blocks = {rtcp::ReportBlock{.ssrc = 11, .fraction_lost = 3, .last_sr = 77},
                                                    rtcp::ReportBlock{.ssrc = 12, .jitter = 9}};
  ASSERT_TRUE(out.append(rtcp::ReceiverReport{1, blocks, {}}));
  ASSERT_TRUE(out.append(rtcp::PictureLossIndication{{1, 11}}));
  const std::array<rtcp::FirEntry, 1> fir = {rtcp::FirEntry{12, 4}};
  ASSERT_TRUE(out.append(rtcp::FullIntraRequest{{1, 0}, fir}));
  const std::array<uint32_t, 1> remb_ssrcs = {11};
  ASSERT_TRUE(out.append(rtcp::Remb{{1, 0}, 256000, remb_ssrcs}));
  std::vector<uint8_t> packet(out.data().begin(), out.data().end());
  // A generic NACK for 100, 101 and 103 (one item with a bitmask).
  std::array<uint8_t, 64> nack{};
  const std::array<uint16_t, 3> lost = {100, 101, 103};
  const size_t n = rtcp::TransportLayerNack::serialize_lost({1, 12}, lost, nack);
  ASSERT_GT(n, 0u);
  packet.insert(packet.end(), nack.begin(), nack.begin() + ptrdiff_t(n));

  std::vector<SubscriberFeedback> items;
  for_each_subscriber_feedback(packet, [&](const SubscriberFeedback& f) { items.push_back(f); });
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(std::get<ReceptionReport>(items[0]).block.ssrc, 11u);
  EXPECT_EQ(std::get<ReceptionReport>(items[0]).block.last_sr, 77u);
  EXPECT_EQ(std::get<ReceptionReport>(items[1]).block.jitter, 9u);
  EXPECT_EQ(std::get<KeyframeRequest>(items[2]).media_ssrc, 11u);
  EXPECT_FALSE(std::get<KeyframeRequest>(items[2]).fir);
  EXPECT_EQ(std::get<KeyframeRequest>(items[3]).media_ssrc, 12u);  // FIR: the entry's SSRC
  EXPECT_TRUE(std::get<KeyframeRequest>(items[3]).fir);
  EXPECT_EQ(std::get<RembReport>(items[4]).bitrate_bps, 256000u);
  const auto& nack_item = std::get<NackRequest>(items[5]).nack;
  EXPECT_EQ(nack_item.header.media_ssrc, 12u);
  std::vector<uint16_t> seqs;
  for (uint16_t s : nack_item.lost_packets()) seqs.push_back(s);
  EXPECT_EQ(seqs, (std::vector<uint16_t>{100, 101, 103}));
}

// Hostile input: a truncated packet ends the compound, a FIR without
// entries and unknown types are skipped, nothing is read past the end.
TEST(SubscriberFeedback, MalformedItemsAreSkipped) {
  std::array<uint8_t, 128> buf{};
  rtcp::CompoundBuilder out(buf);
  ASSERT_TRUE(out.append(rtcp::PictureLossIndication{{1, 5}}));
  std::vector<uint8_t> packet(out.data().begin(), out.data().end());
  // FIR header with no FCI (RFC 5104 §4.3.1.2 needs one entry).
  const uint8_t empty_fir[] = {0x84, 206, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0};
  packet.insert(packet.end(), std::begin(empty_fir), std::end(empty_fir));
  // An APP packet (PT 204), then a header claiming more than is left.
  const uint8_t app[] = {0x80, 204, 0x00, 0x02, 0, 0, 0, 1, 'n', 'a', 'm', 'e'};
  packet.insert(packet.end(), std::begin(app), std::end(app));
  const uint8_t truncated[] = {0x81, 205, 0x00, 0x09, 0, 0, 0, 1};
  packet.insert(packet.end(), std::begin(truncated), std::end(truncated));
  std::vector<SubscriberFeedback> items;
  for_each_subscriber_feedback(packet, [&](const SubscriberFeedback& f) { items.push_back(f); });
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(std::get<KeyframeRequest>(items[0]).media_ssrc, 5u);
  for_each_subscriber_feedback(Bytes{}, [&](const SubscriberFeedback&) { ADD_FAILURE() << "empty input"; });
}

}  // namespace
}  // namespace sfu::server
