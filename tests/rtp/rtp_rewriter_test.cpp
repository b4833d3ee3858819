#include "rtp/rtp_rewriter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "rtp/header_extensions.hpp"
#include "rtp/rtx.hpp"
#include <random>

namespace sfu::rtp {
namespace {

using Packet = std::vector<uint8_t>;

std::vector<uint8_t> to_vec(Bytes b) { return {b.begin(), b.end()}; }

RtpView parse_ok(const Packet& p) {
  auto r = parse_rtp(p);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : RtpView{};
}

// One-byte extensions as Chrome sends them on a video stream.
const Packet kOneByte = {
    0x90, 0xE0, 0x12, 0x34,  // V=2 X=1, M=1 PT=96, seq 0x1234
    0x00, 0x01, 0xE2, 0x40,  // timestamp 123456
    0xDE, 0xAD, 0xBE, 0xEF,  // SSRC
    0xBE, 0xDE, 0x00, 0x03,  // one-byte profile, length 3
    0x22, 0x01, 0x02, 0x03,  // ID=2 L=2: abs-send-time
    0x31, 0x00, 0x07,        // ID=3 L=1: transport-wide seq 7
    0x40, 0x30,              // ID=4 L=0: mid "0"
    0x00, 0x00, 0x00,        // padding
    0xAA, 0xBB,              // payload
};

// Two-byte extensions (RFC 8285 §4.3).
const Packet kTwoByte = {
    0x90, 0x60, 0x00, 0x01,  // V=2 X=1, PT=96, seq 1
    0x00, 0x00, 0x00, 0x02,  // timestamp
    0x00, 0x00, 0x00, 0x03,  // SSRC
    0x10, 0x00, 0x00, 0x02,  // two-byte profile, length 2
    0x01, 0x00,              // ID=1 L=0
    0x14, 0x02, 0xAB, 0xCD,  // ID=20 L=2
    0x00, 0x00,              // padding
    0x01,                    // payload
};

TEST(RtpRewriter, Rfc3550FixedFieldsInPlace) {
  Packet p = kOneByte;
  const RtpView v = parse_ok(p);
  EXPECT_TRUE(set_ssrc(p, 0x01020304));
  EXPECT_TRUE(set_sequence(p, 0xFFFF));
  EXPECT_TRUE(set_timestamp(p, 0xCAFEBABE));
  EXPECT_TRUE(set_payload_type(p, 100));
  EXPECT_EQ(v.ssrc(), 0x01020304u);  // the view reads the bytes live
  EXPECT_EQ(v.sequence(), 0xFFFF);
  EXPECT_EQ(v.timestamp(), 0xCAFEBABEu);
  EXPECT_EQ(v.payload_type(), 100);
  EXPECT_TRUE(v.marker());  // PT rewrite keeps M
  EXPECT_TRUE(set_marker(p, false));
  EXPECT_FALSE(v.marker());
  EXPECT_EQ(v.payload_type(), 100);  // marker rewrite keeps PT
  EXPECT_EQ(p[0], 0x90);             // V/P/X/CC untouched
  const Packet expect_head = {0x90, 0x64, 0xFF, 0xFF, 0xCA, 0xFE, 0xBA, 0xBE, 0x01, 0x02, 0x03, 0x04};
  EXPECT_EQ(Packet(p.begin(), p.begin() + 12), expect_head);
  EXPECT_EQ(Packet(p.begin() + 12, p.end()), Packet(kOneByte.begin() + 12, kOneByte.end()));
}

TEST(RtpRewriter, FixedFieldsRefuseBadInput) {
  Packet p = kOneByte;
  EXPECT_FALSE(set_payload_type(p, 128));
  EXPECT_EQ(p, kOneByte);
  std::array<uint8_t, 11> short_buf{};
  EXPECT_FALSE(set_ssrc(short_buf, 1));
  EXPECT_FALSE(set_sequence(short_buf, 1));
  EXPECT_FALSE(set_timestamp(short_buf, 1));
  EXPECT_FALSE(set_payload_type(short_buf, 1));
  EXPECT_FALSE(set_marker(short_buf, true));
  EXPECT_EQ(short_buf, (std::array<uint8_t, 11>{}));
}

TEST(RtpRewriter, Rfc8285Sec42RemapOneByteIds) {
  Packet p = kOneByte;
  const RtpView v = parse_ok(p);
  ExtensionIdMap map;
  map.map(2, 5);   // abs-send-time 2 -> 5
  map.map(3, 14);  // transport-wide 3 -> 14
  map.map(4, 1);   // mid 4 -> 1
  ASSERT_TRUE(remap_extension_ids(p, v, map).ok());
  EXPECT_EQ(p[16], 0x52);  // ID=5 L=2
  EXPECT_EQ(p[20], 0xE1);  // ID=14 L=1
  EXPECT_EQ(p[23], 0x10);  // ID=1 L=0
  const RtpView w = parse_ok(p);
  EXPECT_EQ(to_vec(*w.extension(5)), (Packet{0x01, 0x02, 0x03}));
  EXPECT_EQ(to_vec(*w.extension(14)), (Packet{0x00, 0x07}));
  EXPECT_EQ(to_vec(*w.extension(1)), (Packet{'0'}));
  EXPECT_FALSE(w.extension(2).has_value());
}

TEST(RtpRewriter, Rfc8285Sec41StripBecomesPadding) {
  Packet p = kOneByte;
  const RtpView v = parse_ok(p);
  ExtensionIdMap map = ExtensionIdMap::identity();
  map.map(3, 0);  // strip transport-wide seq
  ASSERT_TRUE(remap_extension_ids(p, v, map).ok());
  const Packet expect_block = {
      0x22, 0x01, 0x02, 0x03,  // ID=2 kept
      0x00, 0x00, 0x00,        // ID=3 element now padding
      0x40, 0x30,              // ID=4 kept
      0x00, 0x00, 0x00,        // padding
  };
  EXPECT_EQ(Packet(p.begin() + 16, p.begin() + 28), expect_block);
  const RtpView w = parse_ok(p);  // still a valid block
  EXPECT_FALSE(w.extension(3).has_value());
  EXPECT_TRUE(w.extension(2).has_value());
  EXPECT_TRUE(w.extension(4).has_value());
  EXPECT_EQ(to_vec(w.payload()), (Packet{0xAA, 0xBB}));
}

TEST(RtpRewriter, StripAllLeavesAPaddingOnlyBlock) {
  Packet p = kOneByte;
  const RtpView v = parse_ok(p);
  ASSERT_TRUE(remap_extension_ids(p, v, ExtensionIdMap{}).ok());
  EXPECT_EQ(Packet(p.begin() + 16, p.begin() + 28), Packet(12, 0));
  const RtpView w = parse_ok(p);
  EXPECT_TRUE(w.extensions().begin() == std::default_sentinel);
}

TEST(RtpRewriter, OneByteIdAbove14IsRefusedAndNothingChanges) {
  Packet p = kOneByte;
  const RtpView v = parse_ok(p);
  ExtensionIdMap map = ExtensionIdMap::identity();
  map.map(2, 1);
  map.map(4, 15);  // reserved in the one-byte form
  auto r = remap_extension_ids(p, v, map);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), RewriteError::id_out_of_range);
  EXPECT_EQ(p, kOneByte);
}

TEST(RtpRewriter, Rfc8285Sec43RemapTwoByteIds) {
  Packet p = kTwoByte;
  const RtpView v = parse_ok(p);
  ExtensionIdMap map;
  map.map(1, 0);  // strip the empty element
  map.map(20, 200);
  ASSERT_TRUE(remap_extension_ids(p, v, map).ok());
  const Packet expect_block = {0x00, 0x00, 0xC8, 0x02, 0xAB, 0xCD, 0x00, 0x00};
  EXPECT_EQ(Packet(p.begin() + 16, p.begin() + 24), expect_block);
  const RtpView w = parse_ok(p);
  EXPECT_EQ(to_vec(*w.extension(200)), (Packet{0xAB, 0xCD}));
  EXPECT_FALSE(w.extension(1).has_value());
}

TEST(RtpRewriter, RemapRefusals) {
  Packet p = kOneByte;
  const Packet copy = kOneByte;
  const RtpView foreign = parse_ok(copy);
  EXPECT_EQ(remap_extension_ids(p, foreign, ExtensionIdMap{}).error(), RewriteError::foreign_view);
  Packet other = {
      0x90, 0x60, 0x00, 0x01,  // V=2 X=1, PT=96, seq 1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0xAB, 0xCD, 0x00, 0x01,  // profile 0xABCD, length 1
      0x11, 0x22, 0x33, 0x44,  // opaque
  };
  const RtpView ov = parse_ok(other);
  EXPECT_EQ(remap_extension_ids(other, ov, ExtensionIdMap{}).error(), RewriteError::not_rfc8285);
  Packet plain = {0x80, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03};  // X=0
  const RtpView pv = parse_ok(plain);
  EXPECT_TRUE(remap_extension_ids(plain, pv, ExtensionIdMap{}).ok());
}

TEST(RtpRewriter, OverwriteTransportSequenceAndAbsSendTime) {
  Packet p = kOneByte;
  const RtpView v = parse_ok(p);
  auto tw = mutable_extension(p, v, 3);
  ASSERT_TRUE(tw.has_value());
  EXPECT_EQ(ext::write_transport_sequence(*tw, 0xBEEF), 2u);
  EXPECT_EQ(*ext::parse_transport_sequence(*v.extension(3)), 0xBEEF);
  const std::array<uint8_t, 3> ast = {0x0A, 0x0B, 0x0C};
  ASSERT_TRUE(set_extension(p, v, 2, ast).ok());
  EXPECT_EQ(*ext::parse_abs_send_time(*v.extension(2)), 0x0A0B0Cu);
  EXPECT_EQ(p[16], 0x22);  // element header untouched
  EXPECT_EQ(p[20], 0x31);
}

TEST(RtpRewriter, SetExtensionRefusals) {
  Packet p = kOneByte;
  const RtpView v = parse_ok(p);
  const std::array<uint8_t, 2> two = {1, 2};
  EXPECT_EQ(set_extension(p, v, 2, two).error(), RewriteError::size_mismatch);
  EXPECT_EQ(set_extension(p, v, 9, two).error(), RewriteError::not_found);
  const Packet copy = kOneByte;
  EXPECT_EQ(set_extension(p, parse_ok(copy), 3, two).error(), RewriteError::foreign_view);
  EXPECT_FALSE(mutable_extension(p, parse_ok(copy), 3).has_value());
  EXPECT_EQ(p, kOneByte);
}

// copy_with_extensions: the subscriber's block is rebuilt in the send slot,
// so elements the publisher did not send (our MID, send time, transport-wide
// seq) can be added and the publisher's MID dropped.
TEST(CopyWithExtensions, Rfc8285Sec42DropsMapsAndAddsInOneByteForm) {
  const RtpView in = parse_ok(kOneByte);
  ExtensionIdMap map;  // drops everything ...
  map.map(2, 5);       // ... but abs-send-time, renumbered
  const uint8_t mid[] = {'1', '7'};
  const uint8_t tw[] = {0, 0};
  const ExtensionToAdd add[] = {{3, Bytes(tw, 2)}, {4, Bytes(mid, 2)}};
  std::array<uint8_t, 128> out{};
  const size_t n = copy_with_extensions(in, map, add, out);
  const Packet expected = {
      0x90, 0xE0, 0x12, 0x34, 0x00, 0x01, 0xE2, 0x40, 0xDE, 0xAD, 0xBE, 0xEF,  // fixed header, unchanged
      0xBE, 0xDE, 0x00, 0x04,  // one-byte profile, 4 words
      0x52, 0x01, 0x02, 0x03,  // ID=5 L=2: abs-send-time value kept
      0x31, 0x00, 0x00,        // ID=3 L=1: added
      0x41, '1', '7',          // ID=4 L=1: MID "17"
      0x00, 0x00, 0x00, 0x00, 0x00,  // the dropped transport seq (3) and mid (2) as padding
      0x00,                    // padding to 32 bits
      0xAA, 0xBB,              // payload
  };
  ASSERT_EQ(n, expected.size());
  EXPECT_EQ(Packet(out.begin(), out.begin() + ptrdiff_t(n)), expected);
  auto v = parse_rtp(Bytes(out.data(), n));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(to_vec(*v->extension(4)), (Packet{'1', '7'}));
  EXPECT_EQ(to_vec(v->payload()), (Packet{0xAA, 0xBB}));
}

TEST(CopyWithExtensions, AddsABlockToAPacketWithoutOne) {
  const Packet plain = {0x80, 0x6F, 0x00, 0x05, 0, 0, 0, 9, 0, 0, 0, 7, 0x11, 0x22, 0x33};
  const uint8_t mid[] = {'3'};
  const ExtensionToAdd add[] = {{4, Bytes(mid, 1)}};
  std::array<uint8_t, 64> out{};
  const size_t n = copy_with_extensions(parse_ok(plain), ExtensionIdMap{}, add, out);
  ASSERT_EQ(n, plain.size() + 8);
  auto v = parse_rtp(Bytes(out.data(), n));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->has_extension());
  EXPECT_EQ(to_vec(*v->extension(4)), (Packet{'3'}));
  EXPECT_EQ(to_vec(v->payload()), (Packet{0x11, 0x22, 0x33}));
}

// Dropping keeps the size (RFC 8285 §4.1 padding), as remap_extension_ids.
TEST(CopyWithExtensions, DroppedElementsBecomePadding) {
  std::array<uint8_t, 64> out{};
  const size_t n = copy_with_extensions(parse_ok(kOneByte), ExtensionIdMap{}, {}, out);
  ASSERT_EQ(n, kOneByte.size());
  auto v = parse_rtp(Bytes(out.data(), n));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(std::all_of(v->extension_block().begin(), v->extension_block().end(), [](uint8_t b) { return b == 0; }));
  EXPECT_EQ(v->extensions().begin(), v->extensions().end());
  EXPECT_EQ(to_vec(v->payload()), (Packet{0xAA, 0xBB}));
}

// An element the packet already carries (mapped) is not added twice.
TEST(CopyWithExtensions, AddedIdAlreadyPresentIsNotRepeated) {
  ExtensionIdMap map = ExtensionIdMap::identity();
  const uint8_t tw[] = {0, 0};
  const ExtensionToAdd add[] = {{3, Bytes(tw, 1)}};
  std::array<uint8_t, 64> out{};
  const size_t n = copy_with_extensions(parse_ok(kOneByte), map, add, out);
  ASSERT_EQ(n, kOneByte.size());
  EXPECT_EQ(Packet(out.begin(), out.begin() + ptrdiff_t(n)), kOneByte);
}

TEST(CopyWithExtensions, NoExtensionsInNoneOutKeepsXClear) {
  const Packet plain = {0x80, 0x6F, 0x00, 0x05, 0, 0, 0, 9, 0, 0, 0, 7, 0x11};
  std::array<uint8_t, 64> out{};
  const size_t n = copy_with_extensions(parse_ok(plain), ExtensionIdMap::identity(), {}, out);
  ASSERT_EQ(n, plain.size());
  EXPECT_EQ(Packet(out.begin(), out.begin() + ptrdiff_t(n)), plain);
}

// §4.3: an id above 14 (or an empty value) needs the two-byte form.
TEST(CopyWithExtensions, Rfc8285Sec43TwoByteFormWhenNeeded) {
  const RtpView in = parse_ok(kTwoByte);
  ExtensionIdMap map = ExtensionIdMap::identity();
  const uint8_t mid[] = {'9'};
  const ExtensionToAdd add[] = {{4, Bytes(mid, 1)}};
  std::array<uint8_t, 64> out{};
  const size_t n = copy_with_extensions(in, map, add, out);
  ASSERT_GT(n, 0u);
  auto v = parse_rtp(Bytes(out.data(), n));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->extension_form(), ExtensionForm::two_byte);
  EXPECT_EQ(to_vec(*v->extension(20)), (Packet{0xAB, 0xCD}));
  EXPECT_TRUE(v->extension(1).has_value());
  EXPECT_EQ(to_vec(*v->extension(4)), (Packet{'9'}));
  EXPECT_EQ(to_vec(v->payload()), (Packet{0x01}));
}

TEST(CopyWithExtensions, Refusals) {
  std::array<uint8_t, 16> small{};
  EXPECT_EQ(copy_with_extensions(parse_ok(kOneByte), ExtensionIdMap::identity(), {}, small), 0u) << "out too small";
  std::array<uint8_t, 64> out{};
  const ExtensionToAdd zero_id[] = {{0, {}}};
  EXPECT_EQ(copy_with_extensions(parse_ok(kOneByte), ExtensionIdMap{}, zero_id, out), 0u);
  std::array<uint8_t, 300> big{};
  const ExtensionToAdd too_long[] = {{5, Bytes(big.data(), 256)}};
  EXPECT_EQ(copy_with_extensions(parse_ok(kOneByte), ExtensionIdMap{}, too_long, out), 0u);
}


// ---- write_outgoing: the send path's single pass ----------------------------

// write_outgoing replaces the value of a mapped element with its id (the
// sender's send time), where copy_with_extensions would keep the publisher's.
TEST(WriteOutgoing, SetReplacesAMappedValueAndAddsTheRest) {
  ExtensionIdMap map;
  map.map(2, 2);  // abs-send-time kept; transport seq and MID dropped
  const uint8_t ast[] = {9, 8, 7};
  const uint8_t mid[] = {'5'};
  const ExtensionToAdd set[] = {{2, Bytes(ast, 3)}, {4, Bytes(mid, 1)}};
  const OutgoingHeader h{.ssrc = 0x01020304, .sequence = 0x0506, .timestamp = 0x0708090A, .payload_type = 100,
                         .marker = false};
  std::array<uint8_t, 128> out{};
  const OutgoingLayout l = write_outgoing(parse_ok(kOneByte), map, set, h, std::nullopt, out);
  const Packet expected = {
      0x90, 0x64, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x01, 0x02, 0x03, 0x04,  // M=0 PT=100, our fields
      0xBE, 0xDE, 0x00, 0x03,  // one-byte profile, 3 words
      0x22, 9, 8, 7,           // ID=2 L=2: our send time in the publisher's element
      0x40, '5',               // ID=4 L=0: MID "5"
      0x00, 0x00, 0x00, 0x00, 0x00,  // the dropped transport seq (3) and mid (2) as padding
      0x00,                    // to 32 bits
      0xAA, 0xBB,
  };
  ASSERT_EQ(l.length, expected.size());
  EXPECT_EQ(Packet(out.begin(), out.begin() + ptrdiff_t(l.length)), expected);
  EXPECT_EQ(l.payload_offset, expected.size() - 2);
  EXPECT_EQ(l.payload_size, 2u);
  EXPECT_EQ(l.set_at[0], 17u);  // our send time, in the publisher's element
  EXPECT_EQ(l.set_at[1], 21u);  // the MID, added
}

// RFC 4588 §4: the RTX twin keeps the rewritten header (timestamp, marker,
// extensions), takes its own SSRC, sequence number and PT, clears P, puts
// the OSN first and leaves the original's padding out.
TEST(WriteOutgoing, Rfc4588Sec4RtxTwinDropsPaddingAndCarriesTheOsn) {
  const Packet padded = {0xA0, 0xE0, 0x00, 0x05, 0, 0, 0, 9, 0, 0, 0, 7,  // P=1 M=1 PT=96 seq 5
                         0x11, 0x22, 0x33, 0x00, 0x00, 0x03};             // payload, 3 padding bytes
  const OutgoingHeader h{.ssrc = 0xABCD, .sequence = 77, .timestamp = 9, .payload_type = 97, .marker = true};
  std::array<uint8_t, 64> out{};
  const OutgoingLayout l = write_outgoing(parse_ok(padded), ExtensionIdMap{}, {}, h, uint16_t(0x1234), out);
  const Packet expected = {0x80, 0xE1, 0x00, 77, 0, 0, 0, 9, 0, 0, 0xAB, 0xCD,  // P=0, M=1 PT=97
                           0x12, 0x34,                                          // OSN
                           0x11, 0x22, 0x33};
  ASSERT_EQ(l.length, expected.size());
  EXPECT_EQ(Packet(out.begin(), out.begin() + ptrdiff_t(l.length)), expected);
  EXPECT_EQ(l.payload_offset, 14u);
  EXPECT_EQ(l.payload_size, 3u);
}

TEST(WriteOutgoing, RefusesOverlapASmallBufferAndABadPayloadType) {
  Packet buf = kOneByte;
  buf.resize(256);
  const Packet source = kOneByte;  // outlives the view
  const RtpView v = parse_ok(source);
  std::array<uint8_t, 16> small{};
  EXPECT_EQ(write_outgoing(v, ExtensionIdMap::identity(), {}, {}, std::nullopt, small).length, 0u);
  std::array<uint8_t, 128> out{};
  EXPECT_EQ(write_outgoing(v, ExtensionIdMap::identity(), {}, {.payload_type = 128}, std::nullopt, out).length, 0u);
  // The source inside the destination.
  auto self = parse_rtp(Bytes(buf.data(), kOneByte.size()));
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(write_outgoing(*self, ExtensionIdMap::identity(), {}, {}, std::nullopt, MutBytes(buf).subspan(8)).length,
            0u);
}

// The single pass writes exactly what the send path wrote before in four
// steps (copy_with_extensions with placeholders, the header rewrite, the
// send time and transport seq written over the placeholders, rtx_wrap into
// a second buffer), for random packets: CSRCs, one- and two-byte blocks,
// elements mapped, renumbered or dropped, padding, media and RTX.
TEST(WriteOutgoing, SamePacketsAsTheFourStepSendPath) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return int(std::uniform_int_distribution<int>(lo, hi)(rng)); };
  int compared = 0;
  for (int round = 0; round < 3000; ++round) {
    std::vector<std::vector<uint8_t>> values;
    values.reserve(16);
    RtpHeader in;
    in.marker = pick(0, 1);
    in.payload_type = uint8_t(pick(96, 127));
    in.sequence = uint16_t(pick(0, 65535));
    in.timestamp = uint32_t(rng());
    in.ssrc = uint32_t(rng());
    for (int i = pick(0, 2); i > 0; --i) in.add_csrc(uint32_t(rng()));
    const bool two_byte = pick(0, 3) == 0;
    in.force_two_byte = two_byte;
    std::array<bool, 256> used{};
    for (int i = pick(0, 5); i > 0; --i) {
      const uint8_t id = uint8_t(two_byte ? pick(1, 20) : pick(1, 14));
      if (used[id]) continue;
      used[id] = true;
      // Send time 3 bytes and transport seq 2 (as negotiated), others any size.
      const int size = id == 2 ? 3 : id == 3 ? 2 : pick(1, 16);
      values.emplace_back(size_t(size));
      for (auto& b : values.back()) b = uint8_t(rng());
      in.add_extension(id, values.back());
    }
    std::vector<uint8_t> payload(size_t(pick(0, 40)));
    for (auto& b : payload) b = uint8_t(rng());
    in.payload = payload;
    in.padding_size = uint8_t(pick(0, 3) == 0 ? pick(1, 8) : 0);
    std::vector<uint8_t> wire(in.serialized_size());
    ASSERT_EQ(in.serialize_to(wire), wire.size());
    const RtpView view = parse_ok(wire);
    // The subscriber: ids renumbered or dropped at random; its send time,
    // transport seq and MID ids (some equal to a mapped one, some not).
    // (One-to-one, as a negotiated mapping is.)
    ExtensionIdMap map;
    std::array<uint8_t, 20> targets{};
    for (size_t i = 0; i < targets.size(); ++i) targets[i] = uint8_t(i + 1);
    std::shuffle(targets.begin(), targets.begin() + 14, rng);
    for (int id = 1; id < 21; ++id) map.map(uint8_t(id), pick(0, 2) ? targets[size_t(id - 1)] : 0);
    const uint8_t ast_id = uint8_t(pick(0, 3) ? pick(1, 14) : 0), tw_id = uint8_t(pick(0, 3) ? pick(1, 14) : 0);
    if (ast_id && ast_id == tw_id) continue;
    const uint8_t mid_id = uint8_t(pick(0, 1) ? pick(1, 14) : 0);
    if (mid_id && (mid_id == ast_id || mid_id == tw_id)) continue;
    // A mapped element on the send time / transport seq id must have its size.
    bool sizes_match = true;
    for (const ExtensionElement& e : view.extensions()) {
      const uint8_t to = map.out[e.id];
      if ((to && to == ast_id && e.value.size() != 3) || (to && to == tw_id && e.value.size() != 2)) sizes_match = false;
      if (to && to == mid_id) sizes_match = false;  // the MID is stripped from the map in production
    }
    if (!sizes_match) continue;
    const uint8_t ast[3] = {uint8_t(rng()), uint8_t(rng()), uint8_t(rng())};
    const uint8_t tw[2] = {uint8_t(rng()), uint8_t(rng())};
    const uint8_t mid[2] = {'1', '2'};
    const OutgoingHeader h{uint32_t(rng()), uint16_t(rng()), uint32_t(rng()), uint8_t(pick(0, 127)), bool(pick(0, 1))};
    const bool rtx = pick(0, 2) == 0;
    const uint32_t rtx_ssrc = uint32_t(rng());
    const uint16_t rtx_seq = uint16_t(rng());
    const uint8_t rtx_pt = uint8_t(pick(0, 127));

    // Before: four steps.
    static constexpr uint8_t kZeros[3] = {};
    std::vector<ExtensionToAdd> placeholders, set;
    if (ast_id) placeholders.push_back({ast_id, Bytes(kZeros, 3)}), set.push_back({ast_id, Bytes(ast, 3)});
    if (tw_id) placeholders.push_back({tw_id, Bytes(kZeros, 2)}), set.push_back({tw_id, Bytes(tw, 2)});
    if (mid_id) placeholders.push_back({mid_id, Bytes(mid, 2)}), set.push_back({mid_id, Bytes(mid, 2)});
    std::array<uint8_t, 512> old_buf{};
    size_t old_len = copy_with_extensions(view, map, placeholders, old_buf);
    OutgoingHeader media = h;
    std::array<uint8_t, 512> new_buf{};
    if (rtx) media = {rtx_ssrc, rtx_seq, h.timestamp, rtx_pt, h.marker};
    const OutgoingLayout l =
        write_outgoing(view, map, set, media, rtx ? std::optional<uint16_t>(h.sequence) : std::nullopt, new_buf);
    if (old_len == 0) {
      EXPECT_EQ(l.length, 0u);
      continue;
    }
    MutBytes old_packet = MutBytes(old_buf).first(old_len);
    set_ssrc(old_packet, h.ssrc), set_sequence(old_packet, h.sequence), set_timestamp(old_packet, h.timestamp);
    set_payload_type(old_packet, h.payload_type), set_marker(old_packet, h.marker);
    if (rtx) {
      std::array<uint8_t, 512> tmp{};
      const size_t n = rtx_wrap(parse_ok(to_vec(old_packet)), {rtx_ssrc, rtx_seq, rtx_pt}, tmp);
      ASSERT_GT(n, 0u);
      std::copy_n(tmp.begin(), n, old_buf.begin());
      old_len = n;
      old_packet = MutBytes(old_buf).first(old_len);
    }
    if (ast_id) (void)set_extension(old_packet, *parse_rtp(old_packet), ast_id, Bytes(ast, 3));
    if (tw_id) (void)set_extension(old_packet, *parse_rtp(old_packet), tw_id, Bytes(tw, 2));
    ASSERT_EQ(l.length, old_len);
    EXPECT_EQ(to_vec(Bytes(new_buf).first(l.length)), to_vec(old_packet));
    const Packet written = to_vec(Bytes(new_buf).first(l.length));  // outlives the view
    const RtpView out = parse_ok(written);
    EXPECT_EQ(l.payload_size, view.payload().size());
    EXPECT_EQ(l.payload_offset, out.header_size() + (rtx ? 2u : 0u));
    for (size_t i = 0; i < set.size(); ++i) {  // where each value went
      ASSERT_GT(l.set_at[i], 0u);
      EXPECT_EQ(to_vec(Bytes(new_buf).subspan(l.set_at[i], set[i].value.size())), to_vec(set[i].value));
    }
    ++compared;
  }
  EXPECT_GT(compared, 1000);
}

}  // namespace
}  // namespace sfu::rtp
