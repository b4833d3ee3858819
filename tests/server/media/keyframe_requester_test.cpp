// Coalescing keyframe requests upstream: repeats at most once per layer per
// 500 ms, a new consumer's first request at once unless one is unanswered
// or went out under 100 ms ago, a pending request sent when its interval
// ends, none once a keyframe has arrived; PLI (RFC 4585 §6.3.1) and FIR
// (RFC 5104 §4.3.1) bytes.
#include "server/media/keyframe_requester.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace sfu::server::media {
namespace {

const Instant kT0 = from_micros(7'000'000'000);

Instant at_ms(int64_t ms) { return kT0 + milliseconds(ms); }

TEST(KeyframeRequesterTest, TenRequestsWithinIntervalGiveTwoPlis) {
  KeyframeRequester k;
  EXPECT_TRUE(k.request(at_ms(0)));                                                        // the first goes out at once
  for (int i = 1; i < 10; ++i) EXPECT_FALSE(k.request(at_ms(50 * i))) << "request " << i;  // up to 450 ms
  EXPECT_TRUE(k.pending());
  EXPECT_EQ(k.poll_timeout(), at_ms(500));
  EXPECT_FALSE(k.poll_due(at_ms(499)));
  EXPECT_TRUE(k.poll_due(at_ms(500)));  // the coalesced nine, once
  EXPECT_FALSE(k.poll_due(at_ms(500)));
  EXPECT_FALSE(k.poll_timeout().has_value());
  EXPECT_FALSE(k.poll_due(at_ms(2000)));
  EXPECT_EQ(k.requests(), 10u);
  EXPECT_EQ(k.sent(), 2u);
}

TEST(KeyframeRequesterTest, NoneAfterKeyframeArrives) {
  KeyframeRequester k;
  EXPECT_TRUE(k.request(at_ms(0)));
  EXPECT_FALSE(k.request(at_ms(100)));
  EXPECT_FALSE(k.request(at_ms(150)));
  k.on_keyframe(at_ms(200));
  EXPECT_FALSE(k.pending());
  EXPECT_FALSE(k.poll_timeout().has_value());
  EXPECT_FALSE(k.poll_due(at_ms(500)));
  EXPECT_FALSE(k.poll_due(at_ms(1000)));
  EXPECT_EQ(k.sent(), 1u);
}

TEST(KeyframeRequesterTest, RequestsSpacedByIntervalAreImmediate) {
  KeyframeRequester k;
  EXPECT_TRUE(k.request(at_ms(0)));
  EXPECT_TRUE(k.request(at_ms(500)));
  EXPECT_FALSE(k.request(at_ms(999)));
  EXPECT_TRUE(k.poll_due(at_ms(1000)));
  // The interval counts from the last send, whichever path sent it.
  EXPECT_FALSE(k.request(at_ms(1200)));
  EXPECT_EQ(k.poll_timeout(), at_ms(1500));
  EXPECT_EQ(k.sent(), 3u);
}

TEST(KeyframeRequesterTest, KeyframeDoesNotLiftRateLimit) {
  KeyframeRequester k;
  EXPECT_TRUE(k.request(at_ms(0)));
  k.on_keyframe(at_ms(100));
  EXPECT_FALSE(k.request(at_ms(200)));  // a new loss soon after: still rate-limited
  EXPECT_TRUE(k.poll_due(at_ms(500)));
}

TEST(KeyframeRequesterTest, CustomInterval) {
  KeyframeRequester k({.min_interval = milliseconds(100)});
  EXPECT_TRUE(k.request(at_ms(0)));
  EXPECT_FALSE(k.request(at_ms(50)));
  EXPECT_EQ(k.poll_timeout(), at_ms(100));
  EXPECT_TRUE(k.poll_due(at_ms(130)));  // a late timer still sends
}

TEST(KeyframeRequesterTest, ANewConsumersFirstRequestGoesOutAtOnceAfterTheLastKeyframe) {
  KeyframeRequester k;
  EXPECT_TRUE(k.request_first(at_ms(0)));
  k.on_keyframe(at_ms(40));
  // A repeat would wait for 500 ms; a newcomer does not.
  EXPECT_TRUE(k.request_first(at_ms(150)));
  EXPECT_EQ(k.sent(), 2u);
}

TEST(KeyframeRequesterTest, NewcomersWhileAKeyframeIsOnItsWayShareIt) {
  KeyframeRequester k;
  EXPECT_TRUE(k.request_first(at_ms(0)));
  for (int i = 1; i <= 5; ++i) EXPECT_FALSE(k.request_first(at_ms(10 * i)));  // a join storm
  EXPECT_TRUE(k.unanswered());
  k.on_keyframe(at_ms(60));  // the one key frame serves all six
  EXPECT_FALSE(k.pending());
  EXPECT_FALSE(k.poll_due(at_ms(1000)));
  EXPECT_EQ(k.requests(), 6u);
  EXPECT_EQ(k.sent(), 1u);
}

TEST(KeyframeRequesterTest, AnUnansweredRequestIsRepeatedWhenARepeatMayGo) {
  KeyframeRequester k;
  EXPECT_TRUE(k.request_first(at_ms(0)));
  EXPECT_FALSE(k.request_first(at_ms(200)));  // still unanswered: wait for it
  EXPECT_EQ(k.poll_timeout(), at_ms(500));
  EXPECT_TRUE(k.poll_due(at_ms(500)));  // the publisher never answered: ask again
  EXPECT_EQ(k.sent(), 2u);
}

TEST(KeyframeRequesterTest, FirstRequestsAreSpacedByTheFirstInterval) {
  KeyframeRequester k;
  EXPECT_TRUE(k.request_first(at_ms(0)));
  k.on_keyframe(at_ms(30));
  EXPECT_FALSE(k.request_first(at_ms(60)));  // answered, but the last went out 60 ms ago
  EXPECT_EQ(k.poll_timeout(), at_ms(100));
  EXPECT_FALSE(k.request(at_ms(70)));  // a repeat meanwhile does not push the due time back
  EXPECT_EQ(k.poll_timeout(), at_ms(100));
  EXPECT_TRUE(k.poll_due(at_ms(100)));
  EXPECT_FALSE(k.pending());
  // A repeat after a first request keeps the 500 ms rule.
  EXPECT_FALSE(k.request(at_ms(150)));
  EXPECT_EQ(k.poll_timeout(), at_ms(600));
  EXPECT_EQ(k.sent(), 2u);
}

TEST(KeyframeRequesterTest, WritesPliRfc4585Section631) {
  KeyframeRequester k;
  std::array<uint8_t, 32> buf{};
  ASSERT_EQ(k.write_request(buf, 0x11223344, 0xaabbccdd), 12u);
  const std::array<uint8_t, 12> expected = {
      0x81, 0xce, 0x00, 0x02,  // V=2 FMT=1 (PLI), PT=PSFB(206), length 2
      0x11, 0x22, 0x33, 0x44,  // SSRC of packet sender
      0xaa, 0xbb, 0xcc, 0xdd,  // SSRC of media source
  };
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), buf.begin()));
  EXPECT_EQ(KeyframeRequester::write_pli(std::span<uint8_t>(buf).first(11), 1, 2), 0u);
}

TEST(KeyframeRequesterTest, WritesFirRfc5104Section431WhenOnlyFirNegotiated) {
  KeyframeRequester k({.min_interval = milliseconds(500), .fir_only = true});
  std::array<uint8_t, 32> buf{};
  ASSERT_TRUE(k.request(at_ms(0)));
  ASSERT_EQ(k.write_request(buf, 0x11223344, 0xaabbccdd), 20u);
  const std::array<uint8_t, 20> first = {
      0x84, 0xce, 0x00, 0x04,  // V=2 FMT=4 (FIR), PT=PSFB(206), length 4
      0x11, 0x22, 0x33, 0x44,  // SSRC of packet sender
      0x00, 0x00, 0x00, 0x00,  // SSRC of media source: 0 (§4.3.1.2)
      0xaa, 0xbb, 0xcc, 0xdd,  // FCI: SSRC of the target
      0x01, 0x00, 0x00, 0x00,  // Seq nr. 1, reserved
  };
  EXPECT_TRUE(std::equal(first.begin(), first.end(), buf.begin()));
  // Writing again repeats the same command: same sequence number (§4.3.1.2).
  ASSERT_EQ(k.write_fir(buf, 0x11223344, 0xaabbccdd), 20u);
  EXPECT_EQ(buf[16], 1);
  // The next request sent upstream is a new command.
  EXPECT_FALSE(k.request(at_ms(10)));
  ASSERT_TRUE(k.poll_due(at_ms(500)));
  ASSERT_EQ(k.write_request(buf, 0x11223344, 0xaabbccdd), 20u);
  EXPECT_EQ(buf[16], 2);
  EXPECT_EQ(k.fir_seq_nr(), 2);
  EXPECT_EQ(k.write_fir(std::span<uint8_t>(buf).first(19), 1, 2), 0u);
}

TEST(KeyframeRequesterTest, FirSequenceNumberWraps) {
  KeyframeRequester k({.min_interval = milliseconds(1), .fir_only = true});
  for (int i = 0; i < 256; ++i) ASSERT_TRUE(k.request(at_ms(i)));
  EXPECT_EQ(k.fir_seq_nr(), 0);
  ASSERT_TRUE(k.request(at_ms(256)));
  EXPECT_EQ(k.fir_seq_nr(), 1);
}

}  // namespace
}  // namespace sfu::server::media
