// Transport-wide congestion control feedback,
// draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.
#include "rtp/rtcp/transport_cc.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <iterator>
#include <vector>

namespace sfu::rtp::rtcp {
namespace {

static_assert(std::input_iterator<TransportCcView::Iterator>);
static_assert(std::sentinel_for<std::default_sentinel_t, TransportCcView::Iterator>);

std::vector<TransportCcPacketStatus> collect(const TransportCcView& v) {
  std::vector<TransportCcPacketStatus> out;
  for (const auto& p : v) out.push_back(p);
  return out;
}

std::vector<uint8_t> serialize(const TransportCcBuilder& b) {
  std::vector<uint8_t> out(b.serialized_size());
  EXPECT_EQ(b.serialize_to(out), out.size());
  return out;
}

// The status chunk words of a serialised packet with `count` chunks.
std::vector<uint16_t> chunk_words(const std::vector<uint8_t>& packet, size_t count) {
  std::vector<uint16_t> words;
  for (size_t i = 0; i < count; ++i) words.push_back(load_be16(&packet[20 + 2 * i]));
  return words;
}

int64_t quantised(int64_t us) { return (us >= 0 ? us / 250 : -((-us + 249) / 250)) * 250; }

// ---- Fixtures from the draft ---------------------------------------------

// §3.1.3 example 1: a run of 221 "packet not received".
constexpr std::array<uint8_t, 24> kRunLengthExample = {
    0x8f, 0xcd, 0x00, 0x05,  // V=2 P=0 FMT=15, PT=205 (RTPFB), length 5 (24 bytes)
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x12, 0x34, 0x56, 0x78,  // SSRC of media source
    0x00, 0x64,              // base sequence number 100
    0x00, 0xdd,              // packet status count 221
    0x00, 0x00, 0x10,        // reference time 16 (x 64 ms = 1.024 s)
    0x07,                    // fb pkt. count 7
    0x00, 0xdd,              // |0|0 0|0 0000 1101 1101|: run of 221 x "not received"
    0x00, 0x00,              // zero padding
};

TEST(TransportCcDraft, RunLengthChunkExample1) {
  auto v = parse_transport_cc(kRunLengthExample);
  ASSERT_TRUE(v.ok()) << to_string(v.error());
  EXPECT_EQ(v->sender_ssrc(), 1u);
  EXPECT_EQ(v->media_ssrc(), 0x12345678u);
  EXPECT_EQ(v->base_sequence(), 100);
  EXPECT_EQ(v->status_count(), 221);
  EXPECT_EQ(v->received_count(), 0);
  EXPECT_EQ(v->reference_time(), 16);
  EXPECT_EQ(v->reference_time_us(), 1'024'000);
  EXPECT_EQ(v->feedback_count(), 7);
  const auto all = collect(*v);
  ASSERT_EQ(all.size(), 221u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence, uint16_t(100 + i));
    EXPECT_FALSE(all[i].received);
  }
}

// §3.1.3 example 2 uses symbol 11, which §3.1.1 lists as reserved.
TEST(TransportCcDraft, RunLengthChunkExample2UsesReservedSymbol) {
  auto bytes = kRunLengthExample;
  bytes[15] = 24;    // packet status count 24
  bytes[20] = 0x60;  // |0|1 1|0 0000 0001 1000|: run of 24 x symbol 11
  bytes[21] = 0x18;
  auto v = parse_transport_cc(bytes);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error(), ParseError::bad_value);
}

// §3.1.4 example 1: a 1-bit status vector.
constexpr std::array<uint8_t, 32> kOneBitVectorExample = {
    0x8f, 0xcd, 0x00, 0x07,  // V=2 P=0 FMT=15, PT=205, length 7 (32 bytes)
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x12, 0x34, 0x56, 0x78,  // SSRC of media source
    0x03, 0xe8,              // base sequence number 1000
    0x00, 0x0e,              // packet status count 14
    0x00, 0x00, 0x00,        // reference time 0
    0x00,                    // fb pkt. count 0
    0x9f, 0x1c,              // |1|0|0 1 1 1 1 1 0 0 0 1 1 1 0 0|: 1 lost, 5 recv, 3 lost, 3 recv, 2 lost
    0x01, 0x02, 0x03, 0x04,  // recv deltas (small, 250 µs units): 1001..1004
    0x05, 0x06, 0x07, 0x08,  //                                    1005, 1009..1011
    0x00, 0x00,              // zero padding
};

TEST(TransportCcDraft, StatusVectorChunkExample1) {
  auto v = parse_transport_cc(kOneBitVectorExample);
  ASSERT_TRUE(v.ok()) << to_string(v.error());
  EXPECT_EQ(v->received_count(), 8);
  const auto all = collect(*v);
  ASSERT_EQ(all.size(), 14u);
  const std::array<bool, 14> received = {0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0};
  const std::array<int64_t, 8> arrivals = {250, 750, 1500, 2500, 3750, 5250, 7000, 9000};
  size_t r = 0;
  for (size_t i = 0; i < 14; ++i) {
    EXPECT_EQ(all[i].sequence, uint16_t(1000 + i));
    EXPECT_EQ(all[i].received, received[i]) << i;
    if (!all[i].received) continue;
    EXPECT_EQ(all[i].delta_us, int64_t(r + 1) * 250);
    EXPECT_EQ(all[i].arrival_us, arrivals[r]);
    ++r;
  }
}

// §3.1.4 example 2: a 2-bit vector with symbol 11 (reserved) in it.
TEST(TransportCcDraft, StatusVectorChunkExample2UsesReservedSymbol) {
  constexpr std::array<uint8_t, 28> bytes = {
      0x8f, 0xcd, 0x00, 0x06,  // V=2 P=0 FMT=15, PT=205, length 6 (28 bytes)
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x12, 0x34, 0x56, 0x78,  // SSRC of media source
      0x00, 0x01,              // base sequence number 1
      0x00, 0x07,              // packet status count 7
      0x00, 0x00, 0x02,        // reference time 2 (128 ms)
      0x00,                    // fb pkt. count 0
      0xcd, 0x50,              // |1|1|00 11 01 01 01 00 00|
      0x08, 0x08, 0x08,        // three small deltas
      0x00,                    // zero padding
  };
  auto v = parse_transport_cc(bytes);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error(), ParseError::bad_value);
}

// The same example with 10 (large or negative delta) in place of 11.
TEST(TransportCcDraft, StatusVectorChunkExample2WithLargeDelta) {
  constexpr std::array<uint8_t, 28> bytes = {
      0x8f, 0xcd, 0x00, 0x06,  // V=2 P=0 FMT=15, PT=205, length 6 (28 bytes)
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
      0x12, 0x34, 0x56, 0x78,  // SSRC of media source
      0x00, 0x01,              // base sequence number 1
      0x00, 0x07,              // packet status count 7
      0x00, 0x00, 0x02,        // reference time 2 (128 ms)
      0x00,                    // fb pkt. count 0
      0xc9, 0x50,              // |1|1|00 10 01 01 01 00 00|: lost, large, 3 x small, 2 x lost
      0xff, 0xfc,              // large delta -4 (-1 ms): 127 ms
      0x08, 0x08, 0x08,        // small deltas 2 ms each: 129, 131, 133 ms
      0x00,                    // zero padding
  };
  auto v = parse_transport_cc(bytes);
  ASSERT_TRUE(v.ok()) << to_string(v.error());
  const auto all = collect(*v);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_FALSE(all[0].received);
  EXPECT_TRUE(all[1].received);
  EXPECT_EQ(all[1].delta_us, -1000);
  EXPECT_EQ(all[1].arrival_us, 127'000);
  EXPECT_EQ(all[2].arrival_us, 129'000);
  EXPECT_EQ(all[3].arrival_us, 131'000);
  EXPECT_EQ(all[4].arrival_us, 133'000);
  EXPECT_FALSE(all[5].received);
  EXPECT_FALSE(all[6].received);
  EXPECT_EQ(all[6].sequence, 7);
}

// ---- A packet shaped like Chrome's (libwebrtc) ---------------------------

// 12 packets across the sequence wrap, 65534 and 3 lost, a 70 ms gap before
// 2. libwebrtc emits a 2-bit vector of 7 once a large delta cannot join the
// window, encodes the last partial chunk as a 2-bit vector (unused slots
// zero) and pads with the P bit, the padding count in the last byte.
constexpr std::array<uint8_t, 36> kChromeLike = {
    0xaf, 0xcd, 0x00, 0x08,  // V=2 P=1 FMT=15, PT=205, length 8 (36 bytes)
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x5e, 0xed, 0xf0, 0x0d,  // SSRC of media source
    0xff, 0xfa,              // base sequence number 65530
    0x00, 0x0c,              // packet status count 12 (65530..65535, 0..5)
    0x1a, 0x2b, 0x3c,        // reference time 1715004 (x 64 ms)
    0x2a,                    // fb pkt. count 42
    0xd5, 0x45,              // |1|1|01 01 01 01 00 01 01|: 65530..0, 65534 lost
    0xd8, 0x50,              // |1|1|01 10 00 01 01 00 00|: 1 small, 2 large, 3 lost, 4 5 small
    0x0c, 0x14, 0x04, 0x28,  // deltas 65530..65533: 3, 5, 1, 10 ms
    0x3c, 0x08, 0x00,        // 65535: 15 ms, 0: 2 ms, 1: 0 ms
    0x01, 0x18,              // 2: large delta 280 (70 ms)
    0xff, 0x04,              // 4: 63.75 ms, 5: 1 ms
    0x01,                    // RTCP padding, count 1
};
constexpr int64_t kChromeRefUs = int64_t(0x1a2b3c) * 64'000;
struct ChromeArrival {
  uint16_t seq;
  int64_t offset_us;  // from the reference time
};
constexpr std::array<ChromeArrival, 10> kChromeArrivals = {{
    {65530, 3000},
    {65531, 8000},
    {65532, 9000},
    {65533, 19000},
    {65535, 34000},
    {0, 36000},
    {1, 36000},
    {2, 106000},
    {4, 169750},
    {5, 170750},
}};

TEST(TransportCcChrome, ParsesLibwebrtcShapedPacket) {
  auto v = parse_transport_cc(kChromeLike);
  ASSERT_TRUE(v.ok()) << to_string(v.error());
  EXPECT_EQ(v->media_ssrc(), 0x5eedf00du);
  EXPECT_EQ(v->feedback_count(), 42);
  EXPECT_EQ(v->status_count(), 12);
  EXPECT_EQ(v->received_count(), 10);
  EXPECT_EQ(v->reference_time_us(), kChromeRefUs);
  size_t r = 0;
  uint16_t seq = 65530;
  for (const auto& p : *v) {
    EXPECT_EQ(p.sequence, seq);
    if (r < kChromeArrivals.size() && kChromeArrivals[r].seq == seq) {
      ASSERT_TRUE(p.received) << seq;
      EXPECT_EQ(p.arrival_us, kChromeRefUs + kChromeArrivals[r].offset_us) << seq;
      ++r;
    } else {
      EXPECT_FALSE(p.received) << seq;
    }
    ++seq;
  }
  EXPECT_EQ(r, kChromeArrivals.size());
  EXPECT_EQ(seq, 6);
}

// Our builder picks the same chunks; only the padding style differs.
TEST(TransportCcChrome, BuilderChoosesTheSameChunks) {
  TransportCcBuilder b;
  b.set_sender_ssrc(1);
  b.set_media_ssrc(0x5eedf00d);
  b.set_feedback_count(42);
  for (const auto& a : kChromeArrivals) ASSERT_TRUE(b.add_received(a.seq, kChromeRefUs + a.offset_us));
  const auto out = serialize(b);
  ASSERT_EQ(out.size(), kChromeLike.size());
  EXPECT_EQ(out[0], 0x8f);  // P=0: zero padding instead
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 1, out.end() - 1),
            std::vector<uint8_t>(kChromeLike.begin() + 1, kChromeLike.end() - 1));
  EXPECT_EQ(out.back(), 0x00);
}

// ---- Build -> parse round trips --------------------------------------------

struct Arrival {
  uint16_t seq;
  int64_t us;
};

struct RoundTripCase {
  const char* name;
  std::vector<Arrival> arrivals;
};

std::vector<Arrival> evenly(uint16_t first, size_t n, int64_t start_us, int64_t step_us, size_t lose_every = 0) {
  std::vector<Arrival> out;
  for (size_t i = 0; i < n; ++i) {
    if (lose_every && i % lose_every == lose_every - 1) continue;
    out.push_back({uint16_t(first + i), start_us + int64_t(i) * step_us});
  }
  return out;
}

std::vector<RoundTripCase> round_trip_cases() {
  std::vector<RoundTripCase> cases;
  cases.push_back({"all received, small deltas with sub-250us jitter", {}});
  for (uint16_t i = 0; i < 40; ++i) cases.back().arrivals.push_back({uint16_t(500 + i), 7'000'037 + i * 1'013});
  cases.push_back({"gaps", {{10, 1'000'000}, {11, 1'001'000}, {14, 1'004'000}, {20, 1'010'000}, {21, 1'010'250}}});
  cases.push_back({"large delta", {{1, 64'000}, {2, 65'000}, {3, 165'000}, {4, 166'000}}});
  cases.push_back({"negative delta", {{1, 64'000}, {2, 70'000}, {3, 69'000}, {4, 69'500}, {5, 60'000}}});
  cases.push_back({"wrap 65535 -> 0", evenly(65530, 12, 5'000'000, 1'500)});
  cases.push_back({"wrap with loss across it", {{65533, 0}, {65535, 2'000}, {1, 4'000}, {2, 5'000}}});
  cases.push_back({"long run of losses > 8191", {{100, 1'000'000}, {uint16_t(100 + 20'001), 1'003'000}}});
  cases.push_back({"extreme deltas", {{1, 0}, {2, 63'750}, {3, 63'750 + 8'191'750}, {4, 63'750}}});
  cases.push_back({"2% loss at 1 ms", evenly(4000, 100, 123'456'789, 1'000, 50)});
  cases.push_back({"negative arrival times", {{7, -1}, {8, -250}, {9, 100'000}}});
  cases.push_back({"single packet", {{42, 42}}});
  cases.push_back({"alternating loss", evenly(0, 60, 1'000'000, 2'000, 2)});
  return cases;
}

TEST(TransportCcRoundTrip, TableOfArrivalPatterns) {
  for (const auto& c : round_trip_cases()) {
    SCOPED_TRACE(c.name);
    TransportCcBuilder b;
    b.set_sender_ssrc(0xaabbccdd);
    b.set_media_ssrc(0x11223344);
    b.set_feedback_count(9);
    for (const auto& a : c.arrivals) ASSERT_TRUE(b.add_received(a.seq, a.us)) << a.seq;
    const auto bytes = serialize(b);
    ASSERT_EQ(bytes.size() % 4, 0u);
    auto v = parse_transport_cc(bytes);
    ASSERT_TRUE(v.ok()) << to_string(v.error());
    EXPECT_EQ(v->sender_ssrc(), 0xaabbccddu);
    EXPECT_EQ(v->media_ssrc(), 0x11223344u);
    EXPECT_EQ(v->feedback_count(), 9);
    EXPECT_EQ(v->base_sequence(), c.arrivals.front().seq);
    EXPECT_EQ(v->status_count(), uint16_t(c.arrivals.back().seq - c.arrivals.front().seq + 1));
    EXPECT_EQ(size_t(v->received_count()), c.arrivals.size());
    EXPECT_EQ(v->reference_time_us(), b.reference_time_us());
    size_t r = 0;
    uint16_t seq = c.arrivals.front().seq;
    for (const auto& p : *v) {
      ASSERT_EQ(p.sequence, seq);
      const bool expect_received = r < c.arrivals.size() && c.arrivals[r].seq == seq;
      ASSERT_EQ(p.received, expect_received) << seq;
      if (expect_received) {
        EXPECT_EQ(p.arrival_us, quantised(c.arrivals[r++].us)) << seq;
      }
      ++seq;
    }
    EXPECT_EQ(r, c.arrivals.size());
  }
}

TEST(TransportCcRoundTrip, LongRunsSplitIntoRunLengthChunks) {
  TransportCcBuilder b;
  ASSERT_TRUE(b.add_received(100, 0));
  ASSERT_TRUE(b.add_received(uint16_t(100 + 20'001), 1'000));
  const auto out = serialize(b);
  // received, 20000 x lost, received: [R + 13 x lost] fill a 1-bit vector,
  // then runs of 8191 + 8191 + 3605 lost, then a run of one received.
  EXPECT_EQ(chunk_words(out, 5), (std::vector<uint16_t>{0xa000, 0x1fff, 0x1fff, 0x0e15, 0x2001}));
}

TEST(TransportCcRoundTrip, OneBitVectorWhenNoLargeDelta) {
  TransportCcBuilder b;
  for (uint16_t i = 0; i < 28; i += 2) ASSERT_TRUE(b.add_received(i, int64_t(i) * 1'000));
  const auto out = serialize(b);
  // 27 statuses: R L R L ... R. One 1-bit vector of 14, then 13 more.
  EXPECT_EQ(b.status_count(), 27);
  EXPECT_EQ(chunk_words(out, 2), (std::vector<uint16_t>{0xaaaa, 0xaaaa}));
  EXPECT_EQ(out.size(), 20u + 4u + 14u + 2u);
}

TEST(TransportCcRoundTrip, TwoBitVectorsAroundLargeDelta) {
  TransportCcBuilder b;
  const std::array<int64_t, 9> t = {0, 1'000, 2'000, 3'000, 100'000, 101'000, 102'000, 103'000, 104'000};
  for (uint16_t i = 0; i < 9; ++i) {
    if (i == 2) continue;  // one loss so the window is not a run
    ASSERT_TRUE(b.add_received(i, t[i]));
  }
  const auto out = serialize(b);
  // R R L R G R R | R R  (G = large): a 2-bit vector of 7, then a run of 2.
  EXPECT_EQ(chunk_words(out, 2), (std::vector<uint16_t>{0xd465, 0x2002}));
}

TEST(TransportCcRoundTrip, UniformSmallDeltasUseOneRun) {
  TransportCcBuilder b;
  for (uint16_t i = 0; i < 300; ++i) ASSERT_TRUE(b.add_received(i, int64_t(i) * 1'000));
  const auto out = serialize(b);
  EXPECT_EQ(chunk_words(out, 1), (std::vector<uint16_t>{0x212c}));  // run of 300 x small
  EXPECT_EQ(out.size(), 20u + 2u + 300u + 2u);
}

// ---- Builder limits ---------------------------------------------------------

TEST(TransportCcBuilder, RefusesWhatDoesNotFitAndStaysUnchanged) {
  TransportCcBuilder b;
  ASSERT_TRUE(b.add_received(10, 1'000'000));
  ASSERT_TRUE(b.add_received(11, 1'001'000));
  const auto before = serialize(b);
  EXPECT_FALSE(b.add_received(12, 1'001'000 + 8'192'000));         // delta > 8191.75 ms
  EXPECT_FALSE(b.add_received(13, 1'001'000 - 8'192'250));         // delta < -8192 ms
  EXPECT_FALSE(b.add_received(11, 1'002'000));                     // duplicate
  EXPECT_FALSE(b.add_received(5, 1'002'000));                      // older
  EXPECT_FALSE(b.add_received(uint16_t(12 + 0x8000), 1'002'000));  // 2^15 ahead of the next
  EXPECT_EQ(serialize(b), before);
  EXPECT_TRUE(b.add_received(12, 1'001'000 + 8'191'750));
}

TEST(TransportCcBuilder, ReportsFullAndStartsOver) {
  TransportCcBuilder b;
  uint16_t seq = 0;
  while (b.add_received(seq, int64_t(seq) * 1'000)) ++seq;
  EXPECT_LE(b.serialized_size(), kTransportCcMaxSize);
  EXPECT_GT(b.serialized_size(), kTransportCcMaxSize - 4);
  const auto full = serialize(b);
  auto v = parse_transport_cc(full);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->status_count(), seq);
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.serialized_size(), 0u);
  ASSERT_TRUE(b.add_received(seq, int64_t(seq) * 1'000));
  EXPECT_EQ(b.base_sequence(), seq);
}

TEST(TransportCcBuilder, SmallMaxSize) {
  TransportCcBuilder b(32);  // 20 fixed + at most 12 bytes of chunks and deltas
  uint16_t n = 0;
  while (b.add_received(n, int64_t(n) * 1'000)) ++n;
  EXPECT_EQ(n, 10);  // one run chunk (2) + 10 deltas
  EXPECT_EQ(b.serialized_size(), 32u);
  std::array<uint8_t, 31> small{};
  EXPECT_EQ(b.serialize_to(small), 0u);
}

TEST(TransportCcBuilder, ReferenceTimeWrapsAt24Bits) {
  const int64_t wrap_us = (int64_t(1) << 24) * 64'000;
  const int64_t t0 = wrap_us + int64_t(5) * 64'000 + 1'234;
  TransportCcBuilder b;
  ASSERT_TRUE(b.add_received(1, t0));
  ASSERT_TRUE(b.add_received(2, t0 + 10'000));
  auto bytes = serialize(b);
  auto v = parse_transport_cc(bytes);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->reference_time_raw(), 5u);
  const auto all = collect(*v);
  EXPECT_EQ(all[0].arrival_us, quantised(t0) - wrap_us);
  EXPECT_EQ(all[1].arrival_us, quantised(t0 + 10'000) - wrap_us);

  // Past 2^23 units the field reads back negative, as the draft's signed
  // 24-bit integer.
  TransportCcBuilder c;
  ASSERT_TRUE(c.add_received(1, (int64_t(1) << 23) * 64'000));
  bytes = serialize(c);
  v = parse_transport_cc(bytes);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->reference_time_raw(), 0x800000u);
  EXPECT_EQ(v->reference_time(), -(1 << 23));
  EXPECT_EQ(collect(*v)[0].arrival_us, -(int64_t(1) << 23) * 64'000);
}

TEST(TransportCcBuilder, StatusCountLimit) {
  TransportCcBuilder b;
  ASSERT_TRUE(b.add_received(0, 0));
  ASSERT_TRUE(b.add_received(0x7fff, 0));  // largest gap allowed: 0x7ffe lost
  ASSERT_TRUE(b.add_received(0xfffe, 0));  // 65535 entries in all
  EXPECT_EQ(b.status_count(), 0xffff);
  EXPECT_FALSE(b.add_received(0xffff, 0));  // a 65536th entry does not fit the field
  auto bytes = serialize(b);
  auto v = parse_transport_cc(bytes);
  ASSERT_TRUE(v.ok()) << to_string(v.error());
  EXPECT_EQ(v->status_count(), 0xffff);
  EXPECT_EQ(v->received_count(), 3);
}

TEST(TransportCcView, FromCompoundDatagram) {
  // A receiver report with no blocks, then the Chrome-shaped feedback.
  std::vector<uint8_t> datagram = {
      0x80, 0xc9, 0x00, 0x01,  // V=2 RC=0, PT=201 (RR), length 1
      0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
  };
  datagram.insert(datagram.end(), kChromeLike.begin(), kChromeLike.end());
  CompoundReader reader(datagram);
  size_t feedbacks = 0;
  while (auto p = reader.next()) {
    if (p->type != pt::kRtpFeedback || p->count != fmt::kTransportCc) continue;
    auto v = parse_transport_cc(*p);
    ASSERT_TRUE(v.ok()) << to_string(v.error());
    EXPECT_EQ(v->received_count(), 10);
    ++feedbacks;
  }
  EXPECT_FALSE(reader.error().has_value());
  EXPECT_EQ(feedbacks, 1u);
}

TEST(TransportCcView, DefaultIteratorIsAtEnd) {
  TransportCcView::Iterator it;
  EXPECT_TRUE(it == std::default_sentinel);
  ++it;
  EXPECT_TRUE(it == std::default_sentinel);
  EXPECT_TRUE(TransportCcView().begin() == std::default_sentinel);
}

// ---- Malformed input --------------------------------------------------------

TEST(TransportCcMalformed, TruncatedHeader) {
  constexpr std::array<uint8_t, 16> bytes = {
      0x8f, 0xcd, 0x00, 0x03,  // length 3: 16 bytes, 4 short of the fixed fields
      0x00, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78, 0x00, 0x64, 0x00, 0x00,
  };
  auto v = parse_transport_cc(bytes);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error(), ParseError::truncated);
  EXPECT_EQ(parse_transport_cc(Bytes(kRunLengthExample).first(3)).error(), ParseError::truncated);
  EXPECT_EQ(parse_transport_cc(Bytes(kRunLengthExample).first(20)).error(), ParseError::bad_length);
}

TEST(TransportCcMalformed, WrongType) {
  auto bytes = kRunLengthExample;
  bytes[0] = 0x81;  // FMT=1 (generic NACK)
  EXPECT_EQ(parse_transport_cc(bytes).error(), ParseError::bad_type);
  bytes = kRunLengthExample;
  bytes[1] = 206;  // PSFB
  EXPECT_EQ(parse_transport_cc(bytes).error(), ParseError::bad_type);
}

TEST(TransportCcMalformed, StatusCountLargerThanChunksCover) {
  auto bytes = kRunLengthExample;
  bytes[15] = 0xde;  // 222: one more than the run covers; the padding reads as an empty run
  EXPECT_EQ(parse_transport_cc(bytes).error(), ParseError::truncated);
}

TEST(TransportCcMalformed, MissingDeltaBytes) {
  constexpr std::array<uint8_t, 32> bytes = {
      0x8f, 0xcd, 0x00, 0x07,                                      // length 7 (32 bytes)
      0x00, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78, 0x00, 0x01,  // base sequence number 1
      0x00, 0x07,                                                  // packet status count 7
      0x00, 0x00, 0x00, 0x00,                                      // reference time 0, fb pkt. count 0
      0xea, 0xaa,  // |1|1|10 10 10 10 10 10 10|: 7 large deltas = 14 bytes
      0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01,  // only 10 bytes
  };
  EXPECT_EQ(parse_transport_cc(bytes).error(), ParseError::truncated);
}

TEST(TransportCcMalformed, ReservedSymbolIgnoredOnlyPastTheCount) {
  auto bytes = kOneBitVectorExample;
  // 2-bit vector |1|1|01 01 01 01 01 01 11| with status count 6: the
  // trailing reserved symbol is past the count, so it is ignored.
  bytes[15] = 6;
  bytes[20] = 0xd5;
  bytes[21] = 0x57;
  bytes[3] = 0x06;  // length 6 (28 bytes): 6 deltas, no padding
  auto v = parse_transport_cc(bytes);
  ASSERT_TRUE(v.ok()) << to_string(v.error());
  EXPECT_EQ(v->received_count(), 6);
  bytes[15] = 7;  // now it counts
  EXPECT_EQ(parse_transport_cc(bytes).error(), ParseError::bad_value);
}

TEST(TransportCcMalformed, BadPadding) {
  auto bytes = kRunLengthExample;
  bytes[23] = 0x01;  // non-zero padding
  EXPECT_EQ(parse_transport_cc(bytes).error(), ParseError::bad_padding);

  std::array<uint8_t, 28> longer{};  // 4 zero bytes after the chunks
  std::copy(kRunLengthExample.begin(), kRunLengthExample.end(), longer.begin());
  longer[3] = 0x06;
  EXPECT_EQ(parse_transport_cc(longer).error(), ParseError::bad_length);

  auto padded = kChromeLike;
  padded[35] = 0x00;  // P bit set but a padding count of zero
  EXPECT_EQ(parse_transport_cc(padded).error(), ParseError::bad_padding);
}

TEST(TransportCcMalformed, EmptyRunsAreSkipped) {
  auto bytes = kRunLengthExample;
  // 0x0000 (run of 0) before a run of 1: legal, if wasteful.
  bytes[15] = 1;
  bytes[20] = 0x00;
  bytes[21] = 0x00;
  bytes[22] = 0x00;
  bytes[23] = 0x01;
  auto v = parse_transport_cc(bytes);
  ASSERT_TRUE(v.ok()) << to_string(v.error());
  const auto all = collect(*v);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_FALSE(all[0].received);
}

}  // namespace
}  // namespace sfu::rtp::rtcp
