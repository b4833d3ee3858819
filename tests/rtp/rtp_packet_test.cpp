#include "rtp/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace sfu::rtp {
namespace {

using Packet = std::vector<uint8_t>;

std::vector<uint8_t> to_vec(Bytes b) { return {b.begin(), b.end()}; }

RtpView parse_ok(const Packet& p) {
  auto r = parse_rtp(p);
  EXPECT_TRUE(r.ok()) << to_string(r.ok() ? ParseError::count_ : r.error());
  return r.ok() ? *r : RtpView{};
}

ParseError parse_err(const Packet& p) {
  auto r = parse_rtp(p);
  EXPECT_FALSE(r.ok());
  return r.ok() ? ParseError::count_ : r.error();
}

// Re-serialises `view` through RtpHeader and returns the bytes.
Packet reserialise(const RtpView& view) {
  auto h = RtpHeader::from_view(view);
  EXPECT_TRUE(h.ok());
  Packet out(h->serialized_size());
  EXPECT_EQ(h->serialize_to(out), out.size());
  return out;
}

// A Chrome-style VP8 packet with three one-byte extensions.
const Packet kChromeVp8 = {
    0x90, 0xE0,              // V=2 P=0 X=1 CC=0, M=1 PT=96
    0x12, 0x34,              // sequence number 0x1234
    0x00, 0x01, 0xE2, 0x40,  // timestamp 123456
    0xDE, 0xAD, 0xBE, 0xEF,  // SSRC
    0xBE, 0xDE, 0x00, 0x03,  // one-byte profile, length 3 words
    0x22, 0x01, 0x02, 0x03,  // ID=2 L=2: abs-send-time 0x010203
    0x31, 0x00, 0x07,        // ID=3 L=1: transport-wide seq 7
    0x40, 0x30,              // ID=4 L=0: one byte '0' (mid)
    0x00, 0x00, 0x00,        // padding to 32 bits
    0x90, 0xE0, 0x12, 0x34,  // payload: VP8 descriptor + data
    0xAA, 0xBB,              //
};

TEST(RtpPacket, Rfc3550MinimalFixedHeader) {
  const Packet p = {
      0x80, 0x08,              // V=2 P=0 X=0 CC=0, M=0 PT=8 (PCMA)
      0xFF, 0xFF,              // sequence 65535
      0xFF, 0xFF, 0xFF, 0xFF,  // timestamp 2^32-1
      0x00, 0x00, 0x00, 0x01,  // SSRC 1
  };
  const RtpView v = parse_ok(p);
  EXPECT_EQ(v.version(), 2);
  EXPECT_FALSE(v.has_padding());
  EXPECT_FALSE(v.has_extension());
  EXPECT_FALSE(v.marker());
  EXPECT_EQ(v.payload_type(), 8);
  EXPECT_EQ(v.sequence(), 65535);
  EXPECT_EQ(v.timestamp(), 0xFFFFFFFFu);
  EXPECT_EQ(v.ssrc(), 1u);
  EXPECT_EQ(v.csrc_count(), 0);
  EXPECT_EQ(v.header_size(), 12u);
  EXPECT_TRUE(v.payload().empty());
  EXPECT_EQ(v.padding_size(), 0u);
  EXPECT_EQ(v.extension_form(), ExtensionForm::none);
  EXPECT_EQ(v.extension_profile(), 0);
  EXPECT_FALSE(v.extension(1).has_value());
  EXPECT_EQ(reserialise(v), p);
}

TEST(RtpPacket, ChromeVp8WithOneByteExtensions) {
  const RtpView v = parse_ok(kChromeVp8);
  EXPECT_TRUE(v.marker());
  EXPECT_EQ(v.payload_type(), 96);
  EXPECT_EQ(v.sequence(), 0x1234);
  EXPECT_EQ(v.timestamp(), 123456u);
  EXPECT_EQ(v.ssrc(), 0xDEADBEEFu);
  EXPECT_EQ(v.extension_form(), ExtensionForm::one_byte);
  EXPECT_EQ(v.extension_profile(), 0xBEDE);
  EXPECT_EQ(v.extension_block_offset(), 16u);
  EXPECT_EQ(v.extension_block().size(), 12u);
  EXPECT_EQ(v.header_size(), 28u);
  EXPECT_EQ(to_vec(v.payload()), (Packet{0x90, 0xE0, 0x12, 0x34, 0xAA, 0xBB}));
  EXPECT_EQ(to_vec(*v.extension(2)), (Packet{0x01, 0x02, 0x03}));
  EXPECT_EQ(to_vec(*v.extension(3)), (Packet{0x00, 0x07}));
  EXPECT_EQ(to_vec(*v.extension(4)), (Packet{'0'}));
  EXPECT_FALSE(v.extension(1).has_value());
  EXPECT_FALSE(v.extension(0).has_value());
  EXPECT_FALSE(v.extension(15).has_value());  // not a valid one-byte id
  EXPECT_FALSE(v.extension(255).has_value());
}

TEST(RtpPacket, ExtensionIterationGivesIdsValuesAndOffsets) {
  const RtpView v = parse_ok(kChromeVp8);
  std::vector<uint8_t> ids;
  std::vector<size_t> offsets;
  for (const ExtensionElement& e : v.extensions()) {
    ids.push_back(e.id);
    offsets.push_back(e.offset);
    EXPECT_EQ(e.value.data(), v.packet().data() + e.offset + 1);  // one-byte element header
  }
  EXPECT_EQ(ids, (std::vector<uint8_t>{2, 3, 4}));
  EXPECT_EQ(offsets, (std::vector<size_t>{16, 20, 23}));
}

TEST(RtpPacket, ChromeVp8RoundTripIsByteExact) { EXPECT_EQ(reserialise(parse_ok(kChromeVp8)), kChromeVp8); }

// RFC 8285 §4.2, the one-byte header example: L=0 (1 byte), L=1 (2 bytes),
// two padding bytes between elements, then L=3 (4 bytes).
const Packet kRfc8285OneByteExample = {
    0x90, 0x6F, 0x00, 0x01,  // V=2 X=1, PT=111, seq 1
    0x00, 0x00, 0x00, 0x02,  // timestamp 2
    0x00, 0x00, 0x00, 0x03,  // SSRC 3
    0xBE, 0xDE, 0x00, 0x03,  // 0xBEDE, length=3
    0x10, 0xA1,              // ID=1 L=0, data
    0x21, 0xB1, 0xB2,        // ID=2 L=1, data...
    0x00, 0x00,              // 0 (pad), 0 (pad)
    0x33, 0xC1, 0xC2, 0xC3,  // ID=3 L=3, data...
    0xC4,                    //
};

TEST(RtpPacket, Rfc8285Sec42OneByteExample) {
  const RtpView v = parse_ok(kRfc8285OneByteExample);
  EXPECT_EQ(v.extension_form(), ExtensionForm::one_byte);
  EXPECT_EQ(to_vec(*v.extension(1)), (Packet{0xA1}));
  EXPECT_EQ(to_vec(*v.extension(2)), (Packet{0xB1, 0xB2}));
  EXPECT_EQ(to_vec(*v.extension(3)), (Packet{0xC1, 0xC2, 0xC3, 0xC4}));
  EXPECT_TRUE(v.payload().empty());
  // Re-serialising moves the padding to the end of the block; same size.
  const Packet again = reserialise(v);
  ASSERT_EQ(again.size(), kRfc8285OneByteExample.size());
  const RtpView w = parse_ok(again);
  for (uint8_t id = 1; id <= 14; ++id) {
    ASSERT_EQ(v.extension(id).has_value(), w.extension(id).has_value()) << int(id);
    if (v.extension(id)) {
      EXPECT_EQ(to_vec(*v.extension(id)), to_vec(*w.extension(id)));
    }
  }
}

// RFC 8285 §4.3, the two-byte header example: L=0, L=1, one padding byte,
// then L=4.
const Packet kRfc8285TwoByteExample = {
    0x90, 0x6F, 0x00, 0x01,  // V=2 X=1, PT=111, seq 1
    0x00, 0x00, 0x00, 0x02,  // timestamp 2
    0x00, 0x00, 0x00, 0x03,  // SSRC 3
    0x10, 0x00, 0x00, 0x03,  // 0x100 + appbits 0, length=3
    0x01, 0x00,              // ID=1 L=0
    0x10, 0x01,              // ID=16 L=1
    0xB1, 0x00,              // data, 0 (pad)
    0xFF, 0x04,              // ID=255 L=4
    0xD1, 0xD2, 0xD3, 0xD4,  // data
    0x5A,                    // payload
};

TEST(RtpPacket, Rfc8285Sec43TwoByteExample) {
  const RtpView v = parse_ok(kRfc8285TwoByteExample);
  EXPECT_EQ(v.extension_form(), ExtensionForm::two_byte);
  ASSERT_TRUE(v.extension(1).has_value());
  EXPECT_TRUE(v.extension(1)->empty());  // zero-length element
  EXPECT_EQ(to_vec(*v.extension(16)), (Packet{0xB1}));
  EXPECT_EQ(to_vec(*v.extension(255)), (Packet{0xD1, 0xD2, 0xD3, 0xD4}));
  EXPECT_FALSE(v.extension(2).has_value());
  EXPECT_EQ(to_vec(v.payload()), (Packet{0x5A}));
}

TEST(RtpPacket, Rfc8285Sec43TwoByteRoundTripIsByteExact) {
  const Packet p = {
      0x90, 0x60, 0x00, 0x07,  // V=2 X=1, PT=96, seq 7
      0x00, 0x00, 0x00, 0x08,  // timestamp 8
      0x00, 0x00, 0x00, 0x09,  // SSRC 9
      0x10, 0x00, 0x00, 0x02,  // two-byte profile, length 2 words
      0x01, 0x00,              // ID=1 L=0 (forces two-byte form)
      0x14, 0x02, 0xAB, 0xCD,  // ID=20 L=2
      0x00, 0x00,              // padding to 32 bits
      0x01, 0x02,              // payload
  };
  EXPECT_EQ(reserialise(parse_ok(p)), p);
}

TEST(RtpPacket, Rfc8285Sec43TwoByteAppBitsAccepted) {
  Packet p = kRfc8285TwoByteExample;
  p[13] = 0x0F;  // 0x100F: appbits 0xF
  const RtpView v = parse_ok(p);
  EXPECT_EQ(v.extension_profile(), 0x100F);
  EXPECT_EQ(v.extension_form(), ExtensionForm::two_byte);
  EXPECT_TRUE(v.extension(255).has_value());
}

TEST(RtpPacket, Rfc8285Sec42Id15StopsProcessing) {
  const Packet p = {
      0x90, 0x60, 0x00, 0x01,  // V=2 X=1, PT=96, seq 1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0xBE, 0xDE, 0x00, 0x02,  // one-byte profile, length 2
      0x10, 0x11,              // ID=1 L=0
      0xF7,                    // ID=15: stop here, len ignored
      0x2F, 0x00, 0x00,        // ID=2 L=15 would overrun: never read
      0x00, 0x00,              //
  };
  const RtpView v = parse_ok(p);
  EXPECT_EQ(to_vec(*v.extension(1)), (Packet{0x11}));
  EXPECT_FALSE(v.extension(2).has_value());
  size_t n = 0;
  for (const auto& e : v.extensions()) n += e.id != 0;
  EXPECT_EQ(n, 1u);
}

TEST(RtpPacket, OtherProfileIsKeptRaw) {
  const Packet p = {
      0x90, 0x60, 0x00, 0x01,  // V=2 X=1, PT=96, seq 1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0xAB, 0xCD, 0x00, 0x01,  // profile 0xABCD, length 1
      0x12, 0x34, 0x56, 0x78,  // opaque
  };
  const RtpView v = parse_ok(p);
  EXPECT_EQ(v.extension_form(), ExtensionForm::other);
  EXPECT_EQ(v.extension_profile(), 0xABCD);
  EXPECT_EQ(to_vec(v.extension_block()), (Packet{0x12, 0x34, 0x56, 0x78}));
  EXPECT_FALSE(v.extension(1).has_value());
  EXPECT_TRUE(v.extensions().begin() == std::default_sentinel);
  auto h = RtpHeader::from_view(v);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error(), ParseError::bad_type);
}

TEST(RtpPacket, EmptyExtensionBlock) {
  const Packet p = {
      0x90, 0x60, 0x00, 0x01,  // V=2 X=1, PT=96, seq 1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0xBE, 0xDE, 0x00, 0x00,  // one-byte profile, length 0
      0x77,                    // payload
  };
  const RtpView v = parse_ok(p);
  EXPECT_EQ(v.extension_form(), ExtensionForm::one_byte);
  EXPECT_TRUE(v.extension_block().empty());
  EXPECT_EQ(v.header_size(), 16u);
  EXPECT_EQ(v.payload().size(), 1u);
}

TEST(RtpPacket, Rfc3550CsrcList) {
  const Packet p = {
      0x82, 0x00, 0x00, 0x01,  // V=2 CC=2, PT=0, seq 1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0x11, 0x11, 0x11, 0x11,  // CSRC 0
      0x22, 0x22, 0x22, 0x22,  // CSRC 1
      0x99,                    // payload
  };
  const RtpView v = parse_ok(p);
  EXPECT_EQ(v.csrc_count(), 2);
  EXPECT_EQ(v.csrc(0), 0x11111111u);
  EXPECT_EQ(v.csrc(1), 0x22222222u);
  EXPECT_EQ(v.csrc(2), 0u);  // out of range
  EXPECT_EQ(v.header_size(), 20u);
  EXPECT_EQ(to_vec(v.payload()), (Packet{0x99}));
  EXPECT_EQ(reserialise(v), p);
}

TEST(RtpPacket, Rfc3550Padding) {
  const Packet p = {
      0xA0, 0x60, 0x00, 0x01,  // V=2 P=1, PT=96, seq 1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0x01, 0x02, 0x03,        // payload
      0x00, 0x00, 0x00, 0x04,  // padding, count 4 (itself included)
  };
  const RtpView v = parse_ok(p);
  EXPECT_TRUE(v.has_padding());
  EXPECT_EQ(v.padding_size(), 4u);
  EXPECT_EQ(to_vec(v.payload()), (Packet{1, 2, 3}));
  EXPECT_EQ(reserialise(v), p);
}

TEST(RtpPacket, Rfc3550PaddingOnlyProbe) {
  Packet p = {
      0xA0, 0x61, 0x00, 0x01,  // P=1, PT=97
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
  };
  p.resize(12 + 255, 0);
  p.back() = 255;  // the largest padding: all of the rest
  const RtpView v = parse_ok(p);
  EXPECT_TRUE(v.payload().empty());
  EXPECT_EQ(v.padding_size(), 255u);
  EXPECT_EQ(reserialise(v), p);
}

// ---- malformed input: each gets its own reason -----------------------------------

TEST(RtpPacketErrors, TruncatedFixedHeader) {
  for (size_t n = 0; n < kFixedHeaderSize; ++n) {
    EXPECT_EQ(parse_err(Packet(kChromeVp8.begin(), kChromeVp8.begin() + long(n))), ParseError::truncated) << n;
  }
}

TEST(RtpPacketErrors, BadVersion) {
  for (uint8_t v : {0, 1, 3}) {
    Packet p = kChromeVp8;
    p[0] = uint8_t((p[0] & 0x3F) | v << 6);
    EXPECT_EQ(parse_err(p), ParseError::bad_version) << int(v);
  }
}

TEST(RtpPacketErrors, CsrcCountBeyondData) {
  const Packet p = {
      0x83, 0x00, 0x00, 0x01,  // CC=3
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0x11, 0x11, 0x11, 0x11,  // CSRC 0
      0x22, 0x22, 0x22, 0x22,  // CSRC 1, CSRC 2 missing
  };
  EXPECT_EQ(parse_err(p), ParseError::truncated);
}

TEST(RtpPacketErrors, ExtensionHeaderTruncated) {
  const Packet p = {
      0x90, 0x00, 0x00, 0x01,  // X=1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0xBE, 0xDE, 0x00,        // extension header cut short
  };
  EXPECT_EQ(parse_err(p), ParseError::truncated);
}

TEST(RtpPacketErrors, ExtensionLengthBeyondData) {
  Packet p = kChromeVp8;
  p[15] = 0x05;  // length 5 words = 20 bytes; only 18 follow
  EXPECT_EQ(parse_err(p), ParseError::bad_length);
}

TEST(RtpPacketErrors, OneByteElementOverrunsBlock) {
  Packet p = kChromeVp8;
  p[23] = 0x4F;  // ID=4 L=15: 16 bytes, but 4 remain in the block
  EXPECT_EQ(parse_err(p), ParseError::bad_extension);
}

TEST(RtpPacketErrors, OneByteIdZeroWithLengthIsNotPadding) {
  Packet p = kChromeVp8;
  p[25] = 0x01;  // ID=0 L=1 where a padding byte (0x00) belongs
  EXPECT_EQ(parse_err(p), ParseError::bad_extension);
}

TEST(RtpPacketErrors, TwoByteElementOverrunsBlock) {
  Packet p = kRfc8285TwoByteExample;
  p[23] = 0x05;  // ID=255 L=5: one byte more than the block holds
  EXPECT_EQ(parse_err(p), ParseError::bad_extension);
}

TEST(RtpPacketErrors, TwoByteLengthByteMissing) {
  const Packet p = {
      0x90, 0x00, 0x00, 0x01,  // X=1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0x10, 0x00, 0x00, 0x01,  // two-byte profile, length 1
      0x00, 0x00, 0x00, 0x07,  // padding x3, then ID=7 with no length byte
  };
  EXPECT_EQ(parse_err(p), ParseError::bad_extension);
}

TEST(RtpPacketErrors, PaddingCountZero) {
  const Packet p = {
      0xA0, 0x60, 0x00, 0x01,  // P=1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0x01, 0x02, 0x00,        // payload, count 0
  };
  EXPECT_EQ(parse_err(p), ParseError::bad_padding);
}

TEST(RtpPacketErrors, PaddingCountBeyondPayload) {
  const Packet p = {
      0xA0, 0x60, 0x00, 0x01,  // P=1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0x01, 0x02, 0x04,        // three bytes after the header, count 4
  };
  EXPECT_EQ(parse_err(p), ParseError::bad_padding);
}

TEST(RtpPacketErrors, PaddingBitWithNoBytesAfterHeader) {
  const Packet p = {
      0xA0, 0x60, 0x00, 0x01,  // P=1, last byte 0x03
      0x00, 0x00, 0x00, 0x0C,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
  };
  EXPECT_EQ(parse_err(p), ParseError::bad_padding);  // the count byte is the SSRC's
}

// ---- RtpHeader serialisation ----------------------------------------------------------

TEST(RtpHeader, BuildsOneByteFormWhenEverythingFits) {
  const std::array<uint8_t, 3> ast = {0x01, 0x02, 0x03};
  const std::array<uint8_t, 2> tw = {0x00, 0x07};
  const std::array<uint8_t, 1> mid = {'0'};
  const std::array<uint8_t, 6> payload = {0x90, 0xE0, 0x12, 0x34, 0xAA, 0xBB};
  RtpHeader h;
  h.marker = true;
  h.payload_type = 96;
  h.sequence = 0x1234;
  h.timestamp = 123456;
  h.ssrc = 0xDEADBEEF;
  ASSERT_TRUE(h.add_extension(2, ast));
  ASSERT_TRUE(h.add_extension(3, tw));
  ASSERT_TRUE(h.add_extension(4, mid));
  h.payload = payload;
  EXPECT_EQ(h.extension_form(), ExtensionForm::one_byte);
  EXPECT_EQ(h.header_size(), 28u);
  ASSERT_EQ(h.serialized_size(), kChromeVp8.size());
  Packet out(h.serialized_size());
  EXPECT_EQ(h.serialize_to(out), out.size());
  EXPECT_EQ(out, kChromeVp8);
}

TEST(RtpHeader, Rfc8285ChoosesTwoByteForm) {
  const std::array<uint8_t, 17> long_value{};
  const std::array<uint8_t, 1> one{};
  RtpHeader by_id;
  ASSERT_TRUE(by_id.add_extension(15, one));  // id 15 is reserved in the one-byte form
  EXPECT_EQ(by_id.extension_form(), ExtensionForm::two_byte);
  RtpHeader by_len;
  ASSERT_TRUE(by_len.add_extension(1, long_value));  // 17 bytes > 16
  EXPECT_EQ(by_len.extension_form(), ExtensionForm::two_byte);
  RtpHeader by_empty;
  ASSERT_TRUE(by_empty.add_extension(1, {}));  // zero length
  EXPECT_EQ(by_empty.extension_form(), ExtensionForm::two_byte);
  RtpHeader forced;
  forced.force_two_byte = true;
  ASSERT_TRUE(forced.add_extension(1, one));
  EXPECT_EQ(forced.extension_form(), ExtensionForm::two_byte);
  RtpHeader none;
  none.force_two_byte = true;
  EXPECT_EQ(none.extension_form(), ExtensionForm::none);
  EXPECT_EQ(none.header_size(), 12u);
}

TEST(RtpHeader, RefusesInvalidFields) {
  RtpHeader h;
  EXPECT_FALSE(h.add_extension(0, {}));  // id 0 is padding
  const std::array<uint8_t, 256> too_long{};
  EXPECT_FALSE(h.add_extension(1, too_long));
  for (uint32_t i = 0; i < kMaxCsrcs; ++i) EXPECT_TRUE(h.add_csrc(i));
  EXPECT_FALSE(h.add_csrc(99));
  for (uint8_t i = 1; i <= kMaxHeaderExtensions; ++i) EXPECT_TRUE(h.add_extension(i, {}));
  EXPECT_FALSE(h.add_extension(100, {}));
  EXPECT_TRUE(h.valid());
  h.payload_type = 128;
  EXPECT_FALSE(h.valid());
  EXPECT_EQ(h.serialized_size(), 0u);
  std::array<uint8_t, 512> out{};
  EXPECT_EQ(h.serialize_to(out), 0u);
}

TEST(RtpHeader, SerializeToTooSmallWritesNothing) {
  auto h = RtpHeader::from_view(parse_ok(kChromeVp8));
  ASSERT_TRUE(h.ok());
  Packet out(kChromeVp8.size() - 1, 0xEE);
  EXPECT_EQ(h->serialize_to(out), 0u);
  EXPECT_EQ(out, Packet(kChromeVp8.size() - 1, 0xEE));
}

TEST(RtpHeader, PayloadAlreadyInPlaceIsKept) {
  RtpHeader h;
  h.payload_type = 111;
  h.sequence = 5;
  h.padding_size = 3;
  const std::array<uint8_t, 1> level = {0x85};
  ASSERT_TRUE(h.add_extension(1, level));
  Packet buf(64, 0);
  const size_t at = h.header_size();
  ASSERT_EQ(at, 20u);  // 12 + 4 + one 2-byte element padded to 4

  for (size_t i = 0; i < 10; ++i) buf[at + i] = uint8_t(i + 1);  // payload written in place
  h.payload = Bytes(buf).subspan(at, 10);
  const size_t n = h.serialize_to(buf);
  ASSERT_EQ(n, 20u + 10 + 3);
  const Packet out(buf.begin(), buf.begin() + long(n));  // the view borrows it
  const RtpView v = parse_ok(out);
  EXPECT_EQ(to_vec(v.payload()), (Packet{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(v.padding_size(), 3u);
  EXPECT_EQ(to_vec(*v.extension(1)), (Packet{0x85}));
}

TEST(RtpHeader, FromViewTooManyExtensions) {
  Packet p = {
      0x90, 0x00, 0x00, 0x01,  // X=1
      0x00, 0x00, 0x00, 0x02,  // timestamp
      0x00, 0x00, 0x00, 0x03,  // SSRC
      0xBE, 0xDE, 0x00, 0x09,  // one-byte profile, 9 words = 18 elements of 2 bytes
  };
  for (uint8_t i = 0; i < 18; ++i) {
    p.push_back(uint8_t((i % 14 + 1) << 4));  // ID=1..14 L=0
    p.push_back(i);
  }
  const RtpView v = parse_ok(p);
  auto h = RtpHeader::from_view(v);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error(), ParseError::too_large);
}

}  // namespace
}  // namespace sfu::rtp
