// FeedbackGenerator: what it sends parses back (rtp::rtcp::parse_transport_cc)
// to exactly the recorded arrivals, across the 65535 -> 0 wrap and gaps, on
// the documented schedule (50 ms, or 100 pending packets).
#include "server/bwe/feedback_generator.hpp"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <vector>

#include "rtp/rtcp/transport_cc.hpp"

namespace sfu::server::bwe {
namespace {

using rtp::rtcp::parse_transport_cc;
using rtp::rtcp::TransportCcView;

constexpr Instant kT0 = Instant{} + seconds(10);
// Arrival times on the 250 µs grid the wire format carries.
Instant at_us(int64_t us) { return kT0 + microseconds(us); }
int64_t us_of(Instant t) { return to_micros(t); }

struct Entry {
  uint16_t seq;
  bool received;
  int64_t arrival_us;
};

struct Parsed {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  uint8_t count = 0;
  std::vector<Entry> entries;
};

Parsed parse(std::span<const uint8_t> bytes) {
  auto v = parse_transport_cc(bytes);
  EXPECT_TRUE(v.ok());
  Parsed p;
  if (!v.ok()) return p;
  p.sender_ssrc = v->sender_ssrc();
  p.media_ssrc = v->media_ssrc();
  p.count = v->feedback_count();
  for (auto it = v->begin(); it != v->end(); ++it) p.entries.push_back({it->sequence, it->received, it->arrival_us});
  return p;
}

// Drains every feedback packet due at `now`.
std::vector<Parsed> drain(FeedbackGenerator& g, Instant now) {
  std::vector<Parsed> out;
  std::array<uint8_t, rtp::rtcp::kTransportCcMaxSize> buf{};
  while (const size_t n = g.poll_feedback(now, buf)) out.push_back(parse(std::span(buf.data(), n)));
  return out;
}

TEST(FeedbackGenerator, RoundTripsArrivalsAcrossWrapAndGaps) {
  FeedbackGenerator g(0x11223344);
  // 65530 .. 65535, 0 .. 9 with 65533, 2 and 3 lost; 1 ms apart.
  std::map<uint16_t, int64_t> sent;
  uint16_t seq = 65530;
  for (int i = 0; i < 16; ++i, ++seq) {
    if (seq == 65533 || seq == 2 || seq == 3) continue;
    const Instant a = at_us(i * 1000 + (i % 3) * 250);
    g.on_packet(a, seq, 0xabcdef01);
    sent[seq] = us_of(a);
  }
  g.on_packet(at_us(20'000), 10, 0x99999999);  // a second media SSRC: ignored
  sent[10] = us_of(at_us(20'000));

  const auto fbs = drain(g, at_us(20'000) + milliseconds(50));
  ASSERT_EQ(fbs.size(), 1u);
  const Parsed& p = fbs[0];
  EXPECT_EQ(p.sender_ssrc, 0x11223344u);
  EXPECT_EQ(p.media_ssrc, 0xabcdef01u);  // the first media SSRC seen
  EXPECT_EQ(p.count, 0);
  ASSERT_EQ(p.entries.size(), 17u);  // 65530 .. 10
  uint16_t expect = 65530;
  for (const Entry& e : p.entries) {
    EXPECT_EQ(e.seq, expect);
    const auto s = sent.find(e.seq);
    EXPECT_EQ(e.received, s != sent.end()) << e.seq;
    if (s != sent.end()) {
      EXPECT_EQ(e.arrival_us, s->second) << e.seq;
    }
    ++expect;
  }
}

TEST(FeedbackGenerator, NothingToSendWithoutPackets) {
  FeedbackGenerator g(1);
  EXPECT_FALSE(g.poll_timeout());
  std::array<uint8_t, 1200> buf{};
  EXPECT_EQ(g.poll_feedback(kT0 + seconds(5), buf), 0u);
}

TEST(FeedbackGenerator, EveryFiftyMillisecondsWhilePacketsArrive) {
  FeedbackGenerator g(1);
  g.on_packet(kT0, 100);
  ASSERT_TRUE(g.poll_timeout());
  EXPECT_EQ(*g.poll_timeout(), kT0 + milliseconds(50));  // stream start: one interval
  EXPECT_TRUE(drain(g, kT0 + milliseconds(49)).empty());
  EXPECT_EQ(drain(g, kT0 + milliseconds(50)).size(), 1u);
  EXPECT_FALSE(g.poll_timeout());  // nothing pending

  g.on_packet(kT0 + milliseconds(60), 101);
  EXPECT_EQ(*g.poll_timeout(), kT0 + milliseconds(100));
  EXPECT_EQ(drain(g, kT0 + milliseconds(100)).size(), 1u);

  // After a quiet period, the first packet is reported at once.
  g.on_packet(kT0 + seconds(3), 102);
  EXPECT_EQ(*g.poll_timeout(), kT0 + seconds(3));
}

TEST(FeedbackGenerator, EarlyWhenHundredPacketsPending) {
  FeedbackGenerator g(1);
  for (int i = 0; i < 99; ++i) g.on_packet(kT0 + microseconds(i * 100), uint16_t(i));
  EXPECT_EQ(*g.poll_timeout(), kT0 + milliseconds(50));
  g.on_packet(kT0 + microseconds(9'900), 99);
  EXPECT_EQ(*g.poll_timeout(), kT0 + microseconds(9'900));
  const auto fbs = drain(g, kT0 + milliseconds(10));
  ASSERT_EQ(fbs.size(), 1u);
  EXPECT_EQ(fbs[0].entries.size(), 100u);
}

TEST(FeedbackGenerator, FeedbackCountIncrements) {
  FeedbackGenerator g(1);
  for (int i = 0; i < 3; ++i) {
    g.on_packet(kT0 + milliseconds(100 * i), uint16_t(i));
    const auto fbs = drain(g, kT0 + milliseconds(100 * i + 50));
    ASSERT_EQ(fbs.size(), 1u);
    EXPECT_EQ(fbs[0].count, i);
  }
}

TEST(FeedbackGenerator, LossAtWindowStartIsReportedFromThePreviousBase) {
  FeedbackGenerator g(1);
  for (uint16_t s = 0; s < 10; ++s) g.on_packet(at_us(s * 1000), s);
  ASSERT_EQ(drain(g, kT0 + milliseconds(50)).size(), 1u);
  // 10 and 11 lost; 12..14 arrive.
  for (uint16_t s = 12; s < 15; ++s) g.on_packet(at_us(60'000 + s * 1000), s);
  const auto fbs = drain(g, kT0 + milliseconds(100));
  ASSERT_EQ(fbs.size(), 1u);
  const auto& e = fbs[0].entries;
  ASSERT_EQ(e.size(), 6u);  // 9 (again, as base), 10, 11, 12, 13, 14
  EXPECT_EQ(e[0].seq, 9);
  EXPECT_TRUE(e[0].received);
  EXPECT_EQ(e[0].arrival_us, us_of(at_us(9'000)));
  EXPECT_FALSE(e[1].received);
  EXPECT_FALSE(e[2].received);
  EXPECT_TRUE(e[3].received);
  EXPECT_EQ(e[3].arrival_us, us_of(at_us(72'000)));
}

TEST(FeedbackGenerator, LateArrivalIsReReported) {
  FeedbackGenerator g(1);
  for (uint16_t s = 0; s < 10; ++s) {
    if (s != 5) g.on_packet(at_us(s * 1000), s);
  }
  auto fbs = drain(g, kT0 + milliseconds(50));
  ASSERT_EQ(fbs.size(), 1u);
  EXPECT_FALSE(fbs[0].entries[5].received);
  // 5 shows up late: the next feedback starts at it and re-reports 6..9.
  g.on_packet(at_us(55'000), 5);
  fbs = drain(g, kT0 + milliseconds(100));
  ASSERT_EQ(fbs.size(), 1u);
  const auto& e = fbs[0].entries;
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].seq, 5);
  EXPECT_TRUE(e[0].received);
  EXPECT_EQ(e[0].arrival_us, us_of(at_us(55'000)));
  EXPECT_EQ(e[4].seq, 9);
  EXPECT_EQ(e[4].arrival_us, us_of(at_us(9'000)));  // negative delta back in time
}

TEST(FeedbackGenerator, DuplicatesIgnored) {
  FeedbackGenerator g(1);
  g.on_packet(at_us(0), 7);
  g.on_packet(at_us(1000), 7);
  EXPECT_EQ(g.duplicates(), 1u);
  const auto fbs = drain(g, kT0 + milliseconds(50));
  ASSERT_EQ(fbs.size(), 1u);
  ASSERT_EQ(fbs[0].entries.size(), 1u);
  EXPECT_EQ(fbs[0].entries[0].arrival_us, us_of(at_us(0)));
}

TEST(FeedbackGenerator, ReorderingBeforeFirstFeedbackExtendsTheWindowDown) {
  FeedbackGenerator g(1);
  g.on_packet(at_us(0), 20);
  g.on_packet(at_us(250), 18);
  const auto fbs = drain(g, kT0 + milliseconds(50));
  ASSERT_EQ(fbs.size(), 1u);
  const auto& e = fbs[0].entries;
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].seq, 18);
  EXPECT_FALSE(e[1].received);
  EXPECT_EQ(e[2].arrival_us, us_of(at_us(0)));
}

TEST(FeedbackGenerator, SplitsALargeWindowIntoSeveralPackets) {
  FeedbackGenerator g(1);
  // 2000 packets 70 ms apart (> 63.75 ms: 2-byte deltas), drained only at
  // the end: ~590 fit one 1200-byte packet.
  std::map<uint16_t, int64_t> sent;
  for (int i = 0; i < 2000; ++i) {
    const uint16_t seq = uint16_t(65000 + i);
    const Instant a = at_us(int64_t(i) * 70'000);
    g.on_packet(a, seq);
    sent[seq] = us_of(a);
  }
  const auto fbs = drain(g, at_us(2000LL * 70'000));
  ASSERT_GE(fbs.size(), 3u);
  std::map<uint16_t, int64_t> got;
  uint8_t count = 0;
  for (const auto& p : fbs) {
    EXPECT_EQ(p.count, count++);
    for (const Entry& e : p.entries) {
      ASSERT_TRUE(e.received);
      got[e.seq] = e.arrival_us;
    }
  }
  EXPECT_EQ(got, sent);
}

TEST(FeedbackGenerator, ForgetsWhatFellOutOfTheRing) {
  FeedbackGenerator g(1);
  g.on_packet(at_us(0), 0);
  g.on_packet(at_us(1000), 5000);  // jumps more than the 4096-entry ring
  g.on_packet(at_us(2000), 10);    // too old now
  EXPECT_EQ(g.too_old(), 1u);
  const auto fbs = drain(g, at_us(1000) + milliseconds(50));
  size_t total = 0;
  for (const auto& p : fbs) total += p.entries.size();
  EXPECT_LE(total, FeedbackGenerator::kRingSize);
  ASSERT_FALSE(fbs.empty());
  EXPECT_EQ(fbs.back().entries.back().seq, 5000);
}

}  // namespace
}  // namespace sfu::server::bwe
