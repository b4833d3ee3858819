// RFC 4585 §6.1 common feedback header shared by NACK, PLI, FIR and REMB.
#include "rtp/rtcp/feedback.hpp"

#include <gtest/gtest.h>

#include <array>

#include "tests/rtp/rtcp/rtcp_test_util.hpp"

namespace sfu::rtp::rtcp {
namespace {

using test::bytes_of;
using test::packet_of;

constexpr uint8_t kFeedback[] = {
    0x83, 0xcd, 0x00, 0x03,  // V=2 P=0 FMT=3 (TMMBR), PT=RTPFB(205), length 3
    0x01, 0x02, 0x03, 0x04,  // SSRC of packet sender
    0x05, 0x06, 0x07, 0x08,  // SSRC of media source
    0xaa, 0xbb, 0xcc, 0xdd,  // FCI
};

TEST(RtcpFeedbackTest, Rfc4585Section61SplitsHeaderAndFci) {
  auto fb = parse_feedback(packet_of(kFeedback), pt::kRtpFeedback, 3);
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(fb->header, (FeedbackHeader{0x01020304, 0x05060708}));
  EXPECT_EQ(bytes_of(fb->fci), bytes_of(Bytes(kFeedback).last(4)));
}

TEST(RtcpFeedbackTest, WrongTypeOrFormat) {
  auto fb = parse_feedback(packet_of(kFeedback), pt::kPsFeedback, 3);
  ASSERT_FALSE(fb.ok());
  EXPECT_EQ(fb.error(), ParseError::bad_type);
  fb = parse_feedback(packet_of(kFeedback), pt::kRtpFeedback, fmt::kNack);
  ASSERT_FALSE(fb.ok());
  EXPECT_EQ(fb.error(), ParseError::bad_type);
}

TEST(RtcpFeedbackTest, TruncatedSsrcs) {
  constexpr uint8_t kShort[] = {
      0x83, 0xcd, 0x00, 0x01,  // FMT=3, PT=RTPFB, length 1
      0x01, 0x02, 0x03, 0x04,  // SSRC of packet sender; media SSRC missing
  };
  auto fb = parse_feedback(packet_of(kShort), pt::kRtpFeedback, 3);
  ASSERT_FALSE(fb.ok());
  EXPECT_EQ(fb.error(), ParseError::truncated);
}

TEST(RtcpFeedbackTest, WritesHeaderAndSsrcs) {
  std::array<uint8_t, 16> out{};
  ASSERT_TRUE(write_feedback_header(out, pt::kRtpFeedback, 3, {0x01020304, 0x05060708}, 16));
  out[12] = 0xaa;
  out[13] = 0xbb;
  out[14] = 0xcc;
  out[15] = 0xdd;
  EXPECT_EQ(bytes_of(out), bytes_of(kFeedback));
  EXPECT_FALSE(write_feedback_header(out, pt::kRtpFeedback, 3, {}, 20));  // larger than out
  EXPECT_FALSE(write_feedback_header(out, pt::kRtpFeedback, 3, {}, 8));   // no room for the SSRCs
  EXPECT_FALSE(write_feedback_header(out, pt::kRtpFeedback, 3, {}, 14));  // not whole words
}

}  // namespace
}  // namespace sfu::rtp::rtcp
