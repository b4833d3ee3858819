#include "rtp/header_extensions.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace sfu::rtp::ext {
namespace {

Bytes bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

TEST(HeaderExtUris, MatchTheExtmapNames) {
  EXPECT_EQ(kAbsSendTimeUri, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time");
  EXPECT_EQ(kTransportWideCcUri, "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01");
  EXPECT_EQ(kAudioLevelUri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
  EXPECT_EQ(kMidUri, "urn:ietf:params:rtp-hdrext:sdes:mid");
  EXPECT_EQ(kRidUri, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id");
  EXPECT_EQ(kRepairedRidUri, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id");
}

// ---- abs-send-time: 6.18 fixed-point seconds, modulo 64 s ----------------------------

struct AbsSendTimeCase {
  int64_t micros;
  uint32_t value;
};

TEST(HeaderExtAbsSendTime, FromMicrosTable) {
  const AbsSendTimeCase cases[] = {
      {0, 0x000000},           // epoch
      {1, 0x000000},           // 0.26 tick rounds down
      {2, 0x000001},           // 0.52 tick rounds up
      {500'000, 0x020000},     // 0.5 s
      {1'000'000, 0x040000},   // 1 s = 1 << 18
      {63'000'000, 0xFC0000},  // 63 s
      {63'999'999, 0x000000},  // rounds up to 64 s, which wraps
      {64'000'000, 0x000000},  // wraps every 64 s
      {65'000'000, 0x040000},  // 65 s = 1 s after the wrap
      {-1'000'000, 0xFC0000},  // before the epoch: -1 s = 63 s
  };
  for (const auto& c : cases) EXPECT_EQ(abs_send_time_from_micros(c.micros), c.value) << c.micros;
}

// Steady clocks far from their epoch: no overflow in the 6.18 conversion.
TEST(HeaderExtAbsSendTime, FromMicrosLargeTimes) {
  const AbsSendTimeCase cases[] = {
      {int64_t(1) << 50, 0xB5ED9},      // 2^50 us = 2842624 us past a 64 s boundary
      {-(int64_t(1) << 50), 0xF4A127},  // 61157376 us past one
  };
  for (const auto& c : cases) EXPECT_EQ(abs_send_time_from_micros(c.micros), c.value) << c.micros;
}

TEST(HeaderExtAbsSendTime, ToMicrosTable) {
  EXPECT_EQ(abs_send_time_to_micros(0), 0);
  EXPECT_EQ(abs_send_time_to_micros(1), 4);  // 3.81 us
  EXPECT_EQ(abs_send_time_to_micros(0x040000), 1'000'000);
  EXPECT_EQ(abs_send_time_to_micros(0xFFFFFF), 63'999'996);
  EXPECT_EQ(abs_send_time_to_micros(0x1040000), 1'000'000);  // upper bits ignored
}

TEST(HeaderExtAbsSendTime, FromInstantUsesSteadyMicros) {
  EXPECT_EQ(abs_send_time_from_instant(from_micros(2'500'000)), 0x0A0000u);
}

TEST(HeaderExtAbsSendTime, ToInstantUnwrapsAroundReference) {
  // 100 s is 36 s into the 64 s cycle.
  const Instant ref = from_micros(100'000'000);
  EXPECT_EQ(abs_send_time_to_instant(37u << 18, ref), from_micros(101'000'000));  // just ahead
  EXPECT_EQ(abs_send_time_to_instant(5u << 18, ref), from_micros(69'000'000));    // 31 s back
  EXPECT_EQ(abs_send_time_to_instant(3u << 18, ref), from_micros(131'000'000));   // 33 s back = 31 s ahead
}

TEST(HeaderExtAbsSendTime, RoundTripThroughInstantWithinOneTick) {
  for (int64_t us = 0; us < 200'000'000; us += 7'777'777) {
    const uint32_t v = abs_send_time_from_micros(us);
    const int64_t back = to_micros(abs_send_time_to_instant(v, from_micros(us + 1'000'000)));
    EXPECT_LE(std::abs(back - us), 2) << us;
    EXPECT_EQ(abs_send_time_from_micros(back), v) << us;
  }
}

TEST(HeaderExtAbsSendTime, ParseAndWrite) {
  const std::array<uint8_t, 3> wire = {0x12, 0x34, 0x56};
  auto v = parse_abs_send_time(wire);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0x123456u);
  std::array<uint8_t, 3> out{};
  EXPECT_EQ(write_abs_send_time(out, 0xFF123456), 3u);  // only the low 24 bits
  EXPECT_EQ(out, wire);
  EXPECT_EQ(write_abs_send_time(MutBytes(out).first(2), 1), 0u);
  EXPECT_EQ(parse_abs_send_time(Bytes(wire).first(2)).error(), ParseError::bad_length);
  const std::array<uint8_t, 4> four{};
  EXPECT_EQ(parse_abs_send_time(four).error(), ParseError::bad_length);
}

// ---- transport-wide sequence number -------------------------------------------------

TEST(HeaderExtTransportSequence, ParseAndWrite) {
  const std::array<uint8_t, 2> wire = {0xAB, 0xCD};  // seq 0xABCD, big-endian
  auto v = parse_transport_sequence(wire);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0xABCD);
  std::array<uint8_t, 2> out{};
  EXPECT_EQ(write_transport_sequence(out, 0xABCD), 2u);
  EXPECT_EQ(out, wire);
  EXPECT_EQ(write_transport_sequence(MutBytes(out).first(1), 1), 0u);
  EXPECT_EQ(parse_transport_sequence(Bytes(wire).first(1)).error(), ParseError::bad_length);
  const std::array<uint8_t, 4> v2_form{};  // transport-cc v2 adds 2 bytes: not this codec
  EXPECT_EQ(parse_transport_sequence(v2_form).error(), ParseError::bad_length);
}

// ---- ssrc-audio-level, RFC 6464 §3 --------------------------------------------------------

TEST(HeaderExtAudioLevel, Rfc6464Sec3VoiceBitAndLevel) {
  const std::array<uint8_t, 1> speech = {0x85};   // V=1, level 5 (-5 dBov)
  const std::array<uint8_t, 1> silence = {0x7F};  // V=0, level 127 (silence)
  EXPECT_EQ(*parse_audio_level(speech), (AudioLevel{true, 5}));
  EXPECT_EQ(*parse_audio_level(silence), (AudioLevel{false, 127}));
  std::array<uint8_t, 1> out{};
  EXPECT_EQ(write_audio_level(out, {true, 5}), 1u);
  EXPECT_EQ(out, speech);
  EXPECT_EQ(write_audio_level(out, {false, 128}), 0u);  // level is 7 bits
  EXPECT_EQ(write_audio_level({}, {false, 1}), 0u);
  const std::array<uint8_t, 2> two{};
  EXPECT_EQ(parse_audio_level(two).error(), ParseError::bad_length);
  EXPECT_EQ(parse_audio_level({}).error(), ParseError::bad_length);
}

// ---- MID / rid / repaired-rid ---------------------------------------------------------------

struct TextCase {
  std::string_view text;
  bool valid;
};

TEST(HeaderExtRid, Rfc8851RidSyntaxTable) {
  const TextCase cases[] = {
      {"h", true},
      {"q", true},
      {"hi-res_0", true},
      {"ABCDEFGHIJKLMNOP", true},    // 16 characters
      {"ABCDEFGHIJKLMNOPQ", false},  // 17
      {"", false},
      {"a.b", false},  // not in rid-id
      {"a b", false},
      {"~", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_valid_rid(c.text), c.valid) << c.text;
    EXPECT_EQ(parse_rid(bytes_of(c.text)).ok(), c.valid) << c.text;
    EXPECT_EQ(parse_repaired_rid(bytes_of(c.text)).ok(), c.valid) << c.text;
  }
}

TEST(HeaderExtMid, Rfc4566TokenSyntaxTable) {
  const TextCase cases[] = {
      {"0", true},
      {"audio", true},
      {"sdparta_0", true},
      {"a.b", true},                 // '.' is a token-char
      {"!#$%&'*+-.^_`{|", true},     // 15 of the punctuation token-chars
      {"!#$%&'*+-.^_`{|}~", false},  // 17 characters
      {"a b", false},
      {"a\"b", false},
      {"", false},
      {"(", false},
      {"a,b", false},
      {"\x7f", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_valid_mid(c.text), c.valid) << c.text;
    EXPECT_EQ(parse_mid(bytes_of(c.text)).ok(), c.valid) << c.text;
  }
}

TEST(HeaderExtMid, ParseReasons) {
  EXPECT_EQ(parse_mid({}).error(), ParseError::bad_length);
  EXPECT_EQ(parse_mid(bytes_of("0123456789abcdefg")).error(), ParseError::bad_length);
  EXPECT_EQ(parse_mid(bytes_of("a b")).error(), ParseError::bad_value);
  EXPECT_EQ(parse_rid(bytes_of("a.b")).error(), ParseError::bad_value);
}

TEST(HeaderExtMid, TrailingZeroFillIgnored) {
  const std::array<uint8_t, 4> wire = {'v', '1', 0, 0};
  auto mid = parse_mid(wire);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(*mid, "v1");
  const std::array<uint8_t, 2> zeros{};
  EXPECT_EQ(parse_mid(zeros).error(), ParseError::bad_length);
  const std::array<uint8_t, 3> inner_zero = {'a', 0, 'b'};
  EXPECT_EQ(parse_rid(inner_zero).error(), ParseError::bad_value);
}

TEST(HeaderExtMid, ParseBorrowsTheBytes) {
  const std::array<uint8_t, 3> wire = {'m', 'i', 'd'};
  auto mid = parse_mid(wire);
  ASSERT_TRUE(mid.ok());
  EXPECT_EQ(static_cast<const void*>(mid->data()), static_cast<const void*>(wire.data()));
}

TEST(HeaderExtMid, Write) {
  std::array<uint8_t, 16> out{};
  EXPECT_EQ(write_mid(out, "audio.0"), 7u);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(out.data()), 7), "audio.0");
  EXPECT_EQ(write_rid(out, "audio.0"), 0u);  // '.' is not in rid-id
  EXPECT_EQ(write_rid(out, "hi"), 2u);
  EXPECT_EQ(write_repaired_rid(out, "lo"), 2u);
  EXPECT_EQ(write_mid(MutBytes(out).first(2), "abc"), 0u);  // too small
  EXPECT_EQ(write_mid(out, ""), 0u);
}

}  // namespace
}  // namespace sfu::rtp::ext
