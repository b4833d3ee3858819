#include "rtp/rtx.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace sfu::rtp {
namespace {

using Packet = std::vector<uint8_t>;

std::vector<uint8_t> to_vec(Bytes b) { return {b.begin(), b.end()}; }

RtpView parse_ok(Bytes p) {
  auto r = parse_rtp(p);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : RtpView{};
}

// Original media packet, with an extension, a CSRC and RTP padding.
const Packet kOriginal = {
    0xB1, 0xE0, 0x12, 0x34,  // V=2 P=1 X=1 CC=1, M=1 PT=96, seq 0x1234
    0x00, 0x01, 0xE2, 0x40,  // timestamp 123456
    0xDE, 0xAD, 0xBE, 0xEF,  // SSRC (media)
    0x0C, 0x0C, 0x0C, 0x0C,  // CSRC
    0xBE, 0xDE, 0x00, 0x01,  // one-byte profile, length 1
    0x31, 0x00, 0x07, 0x00,  // ID=3 L=1: transport-wide seq 7, padding
    0xAA, 0xBB, 0xCC,        // payload
    0x00, 0x02,              // RTP padding, count 2
};

// Its retransmission (RFC 4588 §4): new SSRC, sequence number and PT, no
// padding, OSN in front of the payload; everything else copied.
const Packet kRtx = {
    0x91, 0xE1, 0x00, 0x01,  // V=2 P=0 X=1 CC=1, M=1 PT=97, seq 1
    0x00, 0x01, 0xE2, 0x40,  // timestamp 123456 (same)
    0x11, 0x22, 0x33, 0x44,  // SSRC (RTX)
    0x0C, 0x0C, 0x0C, 0x0C,  // CSRC (same)
    0xBE, 0xDE, 0x00, 0x01,  // extensions (same)
    0x31, 0x00, 0x07, 0x00,  //
    0x12, 0x34,              // OSN = 0x1234
    0xAA, 0xBB, 0xCC,        // original payload
};

const RtxRewrite kRtxFields{0x11223344, 0x0001, 97};
const RtxRewrite kMediaFields{0xDEADBEEF, 0, 96};

// The original without its padding, P cleared: what unwrapping restores.
Packet original_without_padding() {
  Packet p(kOriginal.begin(), kOriginal.end() - 2);
  p[0] = 0x91;
  return p;
}

TEST(Rtx, Rfc4588Sec4WrapIsByteExact) {
  const RtpView original = parse_ok(kOriginal);
  EXPECT_EQ(rtx_wrapped_size(original), kRtx.size());
  Packet out(kRtx.size() + 10, 0xEE);
  ASSERT_EQ(rtx_wrap(original, kRtxFields, out), kRtx.size());
  out.resize(kRtx.size());
  EXPECT_EQ(out, kRtx);
}

TEST(Rtx, WrapRefusals) {
  const RtpView original = parse_ok(kOriginal);
  Packet small(kRtx.size() - 1, 0xEE);
  EXPECT_EQ(rtx_wrap(original, kRtxFields, small), 0u);
  EXPECT_EQ(small, Packet(kRtx.size() - 1, 0xEE));
  Packet out(kRtx.size());
  EXPECT_EQ(rtx_wrap(original, RtxRewrite{1, 1, 128}, out), 0u);
}

TEST(Rtx, WrapEmptyPayloadCarriesOnlyOsn) {
  const Packet empty = {0x80, 0x60, 0xAB, 0xCD, 0, 0, 0, 1, 0, 0, 0, 2};  // PT=96 seq 0xABCD, no payload
  Packet out(14);
  ASSERT_EQ(rtx_wrap(parse_ok(empty), kRtxFields, out), 14u);
  const RtpView rtx = parse_ok(out);
  EXPECT_FALSE(rtx_is_padding_only(rtx));
  auto c = rtx_content(rtx);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->original_sequence, 0xABCD);
  EXPECT_TRUE(c->payload.empty());
}

TEST(Rtx, Rfc4588Sec4ContentGivesOsnAndPayload) {
  const RtpView rtx = parse_ok(kRtx);
  auto c = rtx_content(rtx);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->original_sequence, 0x1234);
  EXPECT_EQ(to_vec(c->payload), (Packet{0xAA, 0xBB, 0xCC}));
}

TEST(Rtx, UnwrapIntoBufferRestoresOriginal) {
  const RtpView rtx = parse_ok(kRtx);
  EXPECT_EQ(rtx_unwrapped_size(rtx), kRtx.size() - 2);
  Packet out(64, 0xEE);
  auto n = rtx_unwrap(rtx, kMediaFields, out);
  ASSERT_TRUE(n.ok());
  out.resize(*n);
  EXPECT_EQ(out, original_without_padding());
}

TEST(Rtx, UnwrapInPlaceRestoresOriginal) {
  Packet buf = kRtx;
  const RtpView rtx = parse_ok(buf);
  auto restored = rtx_unwrap_in_place(buf, rtx, kMediaFields);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->data(), buf.data() + 2);  // header moved over the OSN
  EXPECT_EQ(to_vec(*restored), original_without_padding());
}

TEST(Rtx, UnwrapDropsRtxPadding) {
  Packet padded = kRtx;
  padded[0] |= 0x20;  // P=1
  padded.insert(padded.end(), {0x00, 0x00, 0x03});
  const RtpView rtx = parse_ok(padded);
  Packet out(64);
  auto n = rtx_unwrap(rtx, kMediaFields, out);
  ASSERT_TRUE(n.ok());
  out.resize(*n);
  EXPECT_EQ(out, original_without_padding());
  auto in_place = rtx_unwrap_in_place(padded, rtx, kMediaFields);
  ASSERT_TRUE(in_place.ok());
  EXPECT_EQ(to_vec(*in_place), original_without_padding());
}

TEST(Rtx, PaddingOnlyProbeHasNoOsn) {
  Packet probe = {
      0xA0, 0x61, 0x00, 0x09,  // V=2 P=1, PT=97 (RTX), seq 9
      0x00, 0x00, 0x00, 0x01,  // timestamp
      0x11, 0x22, 0x33, 0x44,  // RTX SSRC
      0x00, 0x00, 0x00, 0x04,  // padding only, count 4
  };
  const RtpView rtx = parse_ok(probe);
  EXPECT_TRUE(rtx_is_padding_only(rtx));
  EXPECT_EQ(rtx_unwrapped_size(rtx), 0u);
  EXPECT_EQ(rtx_content(rtx).error(), ParseError::truncated);
  Packet out(64);
  EXPECT_EQ(rtx_unwrap(rtx, kMediaFields, out).error(), ParseError::truncated);
  const Packet before = probe;
  EXPECT_EQ(rtx_unwrap_in_place(probe, rtx, kMediaFields).error(), ParseError::truncated);
  EXPECT_EQ(probe, before);
}

TEST(Rtx, OneBytePayloadIsTruncatedOsn) {
  const Packet p = {0x80, 0x61, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0x12};  // 1-byte payload
  const RtpView rtx = parse_ok(p);
  EXPECT_FALSE(rtx_is_padding_only(rtx));
  EXPECT_EQ(rtx_content(rtx).error(), ParseError::truncated);
}

TEST(Rtx, UnwrapRefusals) {
  const RtpView rtx = parse_ok(kRtx);
  Packet small(kRtx.size() - 3);
  EXPECT_EQ(rtx_unwrap(rtx, kMediaFields, small).error(), ParseError::too_large);
  Packet out(64);
  EXPECT_EQ(rtx_unwrap(rtx, RtxRewrite{1, 0, 200}, out).error(), ParseError::bad_value);
  Packet other = kRtx;
  EXPECT_EQ(rtx_unwrap_in_place(other, rtx, kMediaFields).error(), ParseError::bad_value);  // foreign view
  EXPECT_EQ(other, kRtx);
}

TEST(Rtx, WrapThenUnwrapRoundTrip) {
  const RtpView original = parse_ok(kOriginal);
  std::array<uint8_t, 64> rtx_buf{};
  const size_t n = rtx_wrap(original, kRtxFields, rtx_buf);
  ASSERT_GT(n, 0u);
  const RtpView rtx = parse_ok(Bytes(rtx_buf).first(n));
  EXPECT_EQ(rtx.ssrc(), kRtxFields.ssrc);
  EXPECT_EQ(rtx.sequence(), kRtxFields.sequence);
  EXPECT_EQ(rtx.payload_type(), kRtxFields.payload_type);
  EXPECT_EQ(rtx.timestamp(), original.timestamp());
  EXPECT_EQ(rtx.marker(), original.marker());
  EXPECT_EQ(to_vec(*rtx.extension(3)), to_vec(*original.extension(3)));
  std::array<uint8_t, 64> back{};
  auto m = rtx_unwrap(rtx, kMediaFields, back);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(to_vec(Bytes(back).first(*m)), original_without_padding());
}

}  // namespace
}  // namespace sfu::rtp
