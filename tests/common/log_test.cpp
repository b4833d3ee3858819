#include "common/log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace sfu::log {
namespace {

using namespace std::chrono_literals;

// 2026-12-07T05:01:02.123Z
const auto kTs = std::chrono::system_clock::time_point(std::chrono::seconds(1796619662)) + 123ms;

TEST(LogFormat, TextIsTimestampLevelEventThenFields) {
  EXPECT_EQ(format_line(Format::text, Level::info, kTs, "peer joined", {{"room", "r1"}, {"peer", "p_x"}, {"transport", 12}}),
            "2026-12-07T05:01:02.123Z info peer joined room=r1 peer=p_x transport=12");
  EXPECT_EQ(format_line(Format::text, Level::warn, kTs, "stopped", {}), "2026-12-07T05:01:02.123Z warn stopped");
}

TEST(LogFormat, TextQuotesValuesWithSpacesQuotesOrEquals) {
  const auto line = format_line(Format::text, Level::debug, kTs, "x",
                                {{"name", "Ana Lima"}, {"q", "say \"hi\""}, {"eq", "a=b"}, {"empty", ""},
                                 {"bs", "c:\\tmp"}, {"plain", "[::1]:80"}});
  EXPECT_EQ(line, "2026-12-07T05:01:02.123Z debug x name=\"Ana Lima\" q=\"say \\\"hi\\\"\" eq=\"a=b\" empty=\"\" "
                  "bs=\"c:\\\\tmp\" plain=[::1]:80");
}

TEST(LogFormat, TextNeverBreaksTheLine) {
  const auto line = format_line(Format::text, Level::error, kTs, "bad\nevent", {{"v", "a\nb\r\tc\x01"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line, "2026-12-07T05:01:02.123Z error bad\\nevent v=\"a\\nb\\r\\tc\\x01\"");
}

TEST(LogFormat, JsonIsOneObjectWithFieldsInOrder) {
  EXPECT_EQ(format_line(Format::json, Level::info, kTs, "peer joined", {{"room", "r1"}, {"peer", "p_x"}, {"transport", 12}}),
            R"({"ts":"2026-12-07T05:01:02.123Z","level":"info","msg":"peer joined","room":"r1","peer":"p_x",)"
            R"("transport":"12"})");
}

TEST(LogFormat, JsonEscapesAndStaysValid) {
  const auto line = format_line(Format::json, Level::warn, kTs, "say \"hi\"\n",
                                {{"path", "c:\\tmp"}, {"ctl", std::string("\x01\t", 2)}, {"bad", "\xff\xfe"},
                                 {"msg", "not the message"}, {"ok", true}, {"ratio", 0.5}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto j = nlohmann::json::parse(line);  // throws if invalid
  EXPECT_EQ(j["msg"], "say \"hi\"\n");
  EXPECT_EQ(j["path"], "c:\\tmp");
  EXPECT_EQ(j["ctl"], "\x01\t");
  EXPECT_EQ(j["bad"], "\xEF\xBF\xBD\xEF\xBF\xBD");  // invalid UTF-8 replaced by U+FFFD
  EXPECT_EQ(j["_msg"], "not the message");          // a field never overwrites ts/level/msg
  EXPECT_EQ(j["ok"], "true");
  EXPECT_EQ(j["ratio"], "0.5");
  EXPECT_EQ(j["level"], "warn");
}

TEST(LogLevel, NamesRoundTrip) {
  for (auto l : {Level::trace, Level::debug, Level::info, Level::warn, Level::error, Level::off})
    EXPECT_EQ(parse_level(to_string(l)), l);
  EXPECT_EQ(parse_level("warning"), std::nullopt);
  EXPECT_EQ(parse_format("json"), Format::json);
  EXPECT_EQ(parse_format("text"), Format::text);
  EXPECT_EQ(parse_format("xml"), std::nullopt);
}

class LogOutput : public ::testing::Test {
 protected:
  void TearDown() override { init(Level::info, Format::text); }
  std::ostringstream out_;
};

TEST_F(LogOutput, FiltersByLevel) {
  init(Level::warn, Format::text, &out_);
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::warn));
  EXPECT_TRUE(enabled(Level::error));
  EXPECT_FALSE(enabled(Level::off));
  info("hidden");
  debug("hidden");
  warn("shown", {{"k", 1}});
  error("also shown");
  const auto text = out_.str();
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_NE(text.find(" warn shown k=1\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" error also shown\n"), std::string::npos) << text;
}

TEST_F(LogOutput, OffWritesNothing) {
  init(Level::off, Format::text, &out_);
  error("nothing");
  EXPECT_FALSE(enabled(Level::error));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(LogOutput, JsonLinesParse) {
  init(Level::trace, Format::json, &out_);
  trace("t", {{"a", "b"}});
  info("i");
  std::istringstream lines(out_.str());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
    ++n;
  }
  EXPECT_EQ(n, 2);
}

TEST(RateLimited, AdmitsNPerIntervalAndCountsTheRest) {
  RateLimited limiter(2, 1s);
  const auto t0 = RateLimited::Clock::time_point(10s);
  EXPECT_EQ(limiter.admit(t0), 0u);
  EXPECT_EQ(limiter.admit(t0 + 10ms), 0u);
  EXPECT_EQ(limiter.admit(t0 + 20ms), std::nullopt);
  EXPECT_EQ(limiter.admit(t0 + 999ms), std::nullopt);
  EXPECT_EQ(limiter.suppressed_total(), 2u);
  // A new window: the first line reports what was refused before it.
  EXPECT_EQ(limiter.admit(t0 + 1s), 2u);
  EXPECT_EQ(limiter.admit(t0 + 1s + 1ms), 0u);
  EXPECT_EQ(limiter.admit(t0 + 1s + 2ms), std::nullopt);
  EXPECT_EQ(limiter.admit(t0 + 5s), 1u);
  EXPECT_EQ(limiter.suppressed_total(), 3u);
}

TEST(RateLimited, ZeroLinesRefusesEverything) {
  RateLimited limiter(0, 1s);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.admit(RateLimited::Clock::time_point(std::chrono::seconds(i))), std::nullopt);
  EXPECT_EQ(limiter.suppressed_total(), 5u);
}

}  // namespace
}  // namespace sfu::log
