#include "server/media/active_speaker.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sfu::server::media {
namespace {

using Level = ActiveSpeakerDetector::Level;
const Instant t0 = from_micros(10'000'000);

TEST(ActiveSpeaker, LoudestAudibleProducerBecomesTheSpeaker) {
  ActiveSpeakerDetector d;
  EXPECT_EQ(d.update(t0, {}), std::nullopt);
  const std::vector<Level> levels = {{1, 40, t0}, {2, 20, t0}, {3, 127, t0}};
  EXPECT_EQ(d.update(t0, levels), 2u);
  EXPECT_EQ(d.current(), 2u);
  EXPECT_EQ(d.update(t0 + milliseconds(300), levels), std::nullopt);  // unchanged: no new event
}

// RFC 6464 levels are -dBov: a lead under 5 dB keeps the current speaker.
TEST(ActiveSpeaker, HysteresisKeepsTheSpeakerAgainstASmallLead) {
  ActiveSpeakerDetector d;
  ASSERT_EQ(d.update(t0, std::vector<Level>{{1, 30, t0}}), 1u);
  EXPECT_EQ(d.update(t0, std::vector<Level>{{1, 30, t0}, {2, 26, t0}}), std::nullopt);  // 4 dB louder
  EXPECT_EQ(d.update(t0, std::vector<Level>{{1, 30, t0}, {2, 25, t0}}), 2u);           // 5 dB louder
}

TEST(ActiveSpeaker, SilentOrStaleSpeakerGivesWayAtOnce) {
  ActiveSpeakerDetector d;
  ASSERT_EQ(d.update(t0, std::vector<Level>{{1, 20, t0}}), 1u);
  EXPECT_EQ(d.update(t0, std::vector<Level>{{1, 127, t0}, {2, 60, t0}}), 2u);  // silence
  const Instant later = t0 + ActiveSpeakerDetector::kStale + milliseconds(1);
  EXPECT_EQ(d.update(later, std::vector<Level>{{2, 20, t0}, {3, 70, later}}), 3u);  // 2's level is stale
}

TEST(ActiveSpeaker, NobodyAudibleKeepsTheLastSpeaker) {
  ActiveSpeakerDetector d;
  ASSERT_EQ(d.update(t0, std::vector<Level>{{1, 20, t0}}), 1u);
  EXPECT_EQ(d.update(t0 + seconds(5), std::vector<Level>{{1, 20, t0}}), std::nullopt);
  EXPECT_EQ(d.current(), 1u);
}

// A paused producer cannot take over; a paused speaker with a recent level
// still holds its place against a small lead.
TEST(ActiveSpeaker, PausedProducersDoNotTakeOver) {
  ActiveSpeakerDetector d;
  EXPECT_EQ(d.update(t0, std::vector<Level>{{1, 10, t0, true}}), std::nullopt);
  ASSERT_EQ(d.update(t0, std::vector<Level>{{1, 10, t0, true}, {2, 40, t0}}), 2u);
  EXPECT_EQ(d.update(t0, std::vector<Level>{{2, 40, t0, true}, {3, 38, t0}}), std::nullopt);
  d.forget(2);
  EXPECT_EQ(d.current(), std::nullopt);
  EXPECT_EQ(d.update(t0, std::vector<Level>{{3, 38, t0}}), 3u);
}

}  // namespace
}  // namespace sfu::server::media
