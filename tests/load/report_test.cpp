// The report's verdicts: VOID when the load generator was CPU-bound, and
// the --check conditions (every expected track, no loss, no failure).
#include "bench/load/report.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bench/client/sim_subscriber.hpp"

namespace sfu::load {
namespace {

ReportInput input(double self_cpu_seconds, int cores) {
  ReportInput in;
  in.started = from_micros(1'000'000);
  in.media_stopped = from_micros(11'000'000);  // 10 s
  in.self_cpu_seconds = self_cpu_seconds;
  in.cores_used = cores;
  in.participants = {ParticipantInfo{0, 0, true, 2, ""}, ParticipantInfo{1, 0, false, 2, ""}};
  return in;
}

TEST(Report, VoidWhenTheGeneratorUsesOver70PercentOfItsCores) {
  EXPECT_FALSE(build_report(input(13.9, 2)).void_run);  // 69.5 % of 2 cores
  const Report r = build_report(input(14.1, 2));        // 70.5 %
  EXPECT_TRUE(r.void_run);
  EXPECT_NEAR(r.self_cpu_percent, 141, 0.01);
  EXPECT_NE(format_table(r).find("VOID"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(to_json(r))["void"].get<bool>());
}

TEST(Report, VoidWhenOneGeneratorThreadIsOver70PercentOfACore) {
  ReportInput in = input(8, 2);  // 40 % of 2 cores in total...
  in.self_busiest_thread_percent = 69;
  EXPECT_FALSE(build_report(in).void_run);
  in.self_busiest_thread_percent = 75;  // ...but one media thread saturated
  const Report r = build_report(in);
  EXPECT_TRUE(r.void_run);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(to_json(r))["loadGenerator"]["busiestThreadPercent"].get<double>(), 75);
}

TEST(Report, SteadyWindowLeavesTheRampOut) {
  ReportInput in = input(1, 2);
  in.steady = SteadyWindow{8.0, 8000, 24000, 2.0};  // 8 s: 1000/s in, 3000/s out, 2 CPU s
  const Report r = build_report(in);
  EXPECT_DOUBLE_EQ(r.steady_packets_in_per_s, 1000);
  EXPECT_DOUBLE_EQ(r.steady_packets_out_per_s, 3000);
  EXPECT_DOUBLE_EQ(r.steady_server_cpu, 25);
  const auto j = nlohmann::json::parse(to_json(r));
  EXPECT_DOUBLE_EQ(j["steady"]["serverCpuPercent"].get<double>(), 25);
  EXPECT_NE(format_table(r).find("steady state"), std::string::npos);
  // No window (a short run) and no server pid.
  const Report none = build_report(input(1, 2));
  EXPECT_EQ(none.steady_seconds, 0);
  EXPECT_EQ(format_table(none).find("steady state"), std::string::npos);
  in.steady.server_cpu_seconds = -1;
  EXPECT_EQ(build_report(in).steady_server_cpu, -1);
}

TEST(Report, CheckNeedsEveryTrack) {
  const Report r = build_report(input(1, 2));
  EXPECT_EQ(r.tracks_expected, 4u);
  EXPECT_EQ(r.tracks_received, 0u);  // no media thread: nothing received
  EXPECT_NE(check_failures(r).find("tracks received 0 of 4"), std::string::npos);
}

TEST(Report, TrackStateNeedsAFrameAndNoSecondOfSilence) {
  client::SubscriberStreamStats v;
  v.kind = server::media::MediaKind::video;
  v.packets = 500;  // packets but no complete frame
  EXPECT_EQ(track_state(v), TrackState::missing);
  v.frames_completed = 90;
  v.longest_silence = milliseconds(400);
  EXPECT_EQ(track_state(v), TrackState::received);
  v.longest_silence = milliseconds(1000);
  EXPECT_EQ(track_state(v), TrackState::stalled);
  client::SubscriberStreamStats a;
  a.kind = server::media::MediaKind::audio;
  EXPECT_EQ(track_state(a), TrackState::missing);
  a.packets = 1;
  EXPECT_EQ(track_state(a), TrackState::received);
  a.longest_silence = seconds(3);
  EXPECT_EQ(track_state(a), TrackState::stalled);
}

// A track that went silent for a second or more is not received (the
// report says how many stalled): "any packet ever" hid a starved publisher.
TEST(Report, StalledTracksAreNotReceived) {
  Report r = build_report(input(1, 2));
  r.tracks_received = 3;
  r.tracks_stalled = 1;
  r.longest_silence_ms = 2500;
  EXPECT_NE(check_failures(r).find("tracks received 3 of 4 (1 stalled)"), std::string::npos);
  const std::string text = format_table(r);
  EXPECT_NE(text.find("1 silent >= 1000 ms (longest silence 2500 ms)"), std::string::npos) << text;
  EXPECT_NE(to_json(r).find("\"tracksStalled\": 1"), std::string::npos) << to_json(r);
}

TEST(Report, FailuresAreListed) {
  ReportInput in = input(1, 2);
  in.participants[1].failure = "join: 4013 room full";
  const Report r = build_report(in);
  EXPECT_EQ(r.failed_participants, 1);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0], "participant 1: join: 4013 room full");
  const auto j = nlohmann::json::parse(to_json(r));
  EXPECT_EQ(j["failedParticipants"], 1);
  EXPECT_EQ(j["tracksExpected"], 4);
}

}  // namespace
}  // namespace sfu::load
