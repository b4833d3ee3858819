// VP8 payload descriptor (RFC 7741 §4.2), key frames (RFC 7741 §4.3,
// RFC 6386 §9.1) and the in-place PictureID / TL0PICIDX rewrite.
#include "rtp/codecs/vp8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "rtp/codecs/keyframe.hpp"

namespace sfu::rtp::codecs {
namespace {

using Buf = std::vector<uint8_t>;

Bytes view(const Buf& b) { return Bytes(b.data(), b.size()); }
MutBytes mut(Buf& b) { return MutBytes(b.data(), b.size()); }

Buf cat(Buf a, const Buf& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// The first bytes of a 640x480 key frame (RFC 6386 §9.1).
const Buf kKeyFrame640x480 = {
    0x50, 0x01, 0x00,  // frame tag: size0=2 H=1 VER=0 P=0 (key frame)
    0x9d, 0x01, 0x2a,  // start code
    0x80, 0x02,        // width 640 (0x0280 little endian), horizontal scale 0
    0xe0, 0x01,        // height 480 (0x01e0 little endian), vertical scale 0
};

// ---- Parsing, RFC 7741 §4.2 --------------------------------------------------

TEST(Vp8Descriptor, Rfc7741Sec42MinimalDescriptorIsOneOctet) {
  const Buf p = {
      0x10,  // X=0 R=0 N=0 S=1 R=0 PID=0
      0xaa,  // VP8 payload
  };
  auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->descriptor_size, 1u);
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_EQ(d->partition_index, 0);
  EXPECT_FALSE(d->non_reference);
  EXPECT_FALSE(d->has_picture_id);
  EXPECT_FALSE(d->has_tl0picidx);
  EXPECT_FALSE(d->has_tid);
  EXPECT_FALSE(d->has_keyidx);
}

TEST(Vp8Descriptor, Rfc7741Sec42AllExtensionFieldsWith15BitPictureId) {
  const Buf p = {
      0xb0,        // X=1 R=0 N=1 S=1 R=0 PID=0
      0xf0,        // I=1 L=1 T=1 K=1 RSV=0
      0x92, 0x34,  // M=1 PictureID=0x1234
      0x56,        // TL0PICIDX=0x56
      0xb5,        // TID=2 Y=1 KEYIDX=21
      0x00,        // VP8 payload
  };
  auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->non_reference);
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_TRUE(d->has_picture_id);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(d->picture_id, 0x1234);
  EXPECT_TRUE(d->has_tl0picidx);
  EXPECT_EQ(d->tl0picidx, 0x56);
  EXPECT_TRUE(d->has_tid);
  EXPECT_EQ(d->tid, 2);
  EXPECT_TRUE(d->layer_sync);
  EXPECT_TRUE(d->has_keyidx);
  EXPECT_EQ(d->keyidx, 21);
  EXPECT_EQ(d->descriptor_size, 6u);
}

TEST(Vp8Descriptor, Rfc7741Sec42SevenBitPictureId) {
  const Buf p = {
      0x90,  // X=1 S=1 PID=0
      0x80,  // I=1
      0x11,  // M=0 PictureID=17
  };
  auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->has_picture_id);
  EXPECT_FALSE(d->picture_id_15bit);
  EXPECT_EQ(d->picture_id, 17);
  EXPECT_EQ(d->descriptor_size, 3u);  // an empty VP8 payload is accepted
}

TEST(Vp8Descriptor, Rfc7741Sec42TidOnlyIgnoresKeyIdx) {
  const Buf p = {
      0x83,  // X=1 S=0 PID=3
      0x20,  // T=1
      0x5f,  // TID=1 Y=0 KEYIDX=31 (ignored, K=0)
  };
  auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->start_of_partition);
  EXPECT_EQ(d->partition_index, 3);
  EXPECT_TRUE(d->has_tid);
  EXPECT_EQ(d->tid, 1);
  EXPECT_FALSE(d->layer_sync);
  EXPECT_FALSE(d->has_keyidx);
  EXPECT_EQ(d->keyidx, 0);
}

TEST(Vp8Descriptor, Rfc7741Sec42KeyIdxOnlyIgnoresTid) {
  const Buf p = {
      0x80,  // X=1
      0x10,  // K=1
      0xe7,  // TID=3 Y=1 (ignored, T=0) KEYIDX=7
  };
  auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->has_tid);
  EXPECT_EQ(d->tid, 0);
  EXPECT_FALSE(d->layer_sync);
  EXPECT_TRUE(d->has_keyidx);
  EXPECT_EQ(d->keyidx, 7);
}

TEST(Vp8Descriptor, Rfc7741Sec42ReservedBitsAreIgnored) {
  const Buf p = {
      0xd8,  // X=1 R=1 N=0 S=1 R=1 PID=0
      0x4f,  // L=1 RSV=1111
      0x09,  // TL0PICIDX=9
  };
  auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->start_of_partition);
  EXPECT_EQ(d->partition_index, 0);
  EXPECT_TRUE(d->has_tl0picidx);
  EXPECT_EQ(d->tl0picidx, 9);
  EXPECT_EQ(d->descriptor_size, 3u);
}

// ---- Malformed descriptors ----------------------------------------------------

TEST(Vp8Malformed, Rfc7741Sec42EveryTruncationIsReported) {
  const struct {
    const char* name;
    Buf bytes;
  } cases[] = {
      {"empty payload", {}},
      {"truncated after X", {0x90}},                       // X=1, no extension octet
      {"I set, no PictureID", {0x90, 0x80}},               // I=1
      {"M bit set but one byte", {0x90, 0x80, 0x81}},      // I=1; M=1, low octet missing
      {"L set, no TL0PICIDX", {0x90, 0x40}},               // L=1
      {"T set, no TID octet", {0x90, 0x20}},               // T=1
      {"K set, no KEYIDX octet", {0x90, 0x10}},            // K=1
      {"I L set, TL0PICIDX missing", {0x90, 0xc0, 0x05}},  // 7-bit PictureID then nothing
      {"I L T set, TID octet missing", {0x90, 0xe0, 0x80, 0x01, 0x02}},  // 15-bit id, TL0
  };
  for (const auto& c : cases) {
    auto d = parse_vp8(view(c.bytes));
    ASSERT_FALSE(d.ok()) << c.name;
    EXPECT_EQ(d.error(), ParseError::truncated) << c.name;
    EXPECT_FALSE(is_vp8_keyframe(view(c.bytes))) << c.name;
  }
}

// ---- Key frames, RFC 7741 §4.3 ------------------------------------------------

TEST(Vp8Keyframe, Rfc7741Sec43KeyFrameWithDimensions) {
  const Buf p = cat(
      {
          0x90, 0x80, 0x05,  // X=1 S=1 PID=0; I=1; PictureID=5
      },
      kKeyFrame640x480);
  auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  const Vp8FrameInfo info = vp8_frame_info(view(p), *d);
  EXPECT_TRUE(info.keyframe);
  EXPECT_TRUE(info.has_dimensions);
  EXPECT_EQ(info.width, 640);
  EXPECT_EQ(info.height, 480);
  EXPECT_EQ(info.horizontal_scale, 0);
  EXPECT_EQ(info.vertical_scale, 0);
  EXPECT_TRUE(is_vp8_keyframe(view(p)));
  EXPECT_TRUE(is_keyframe(VideoCodec::vp8, view(p)));
}

TEST(Vp8Keyframe, Rfc6386Sec91ScaleBitsAreSeparatedFromSize) {
  const Buf p = {
      0x10,              // S=1 PID=0
      0x00, 0x00, 0x00,  // frame tag, P=0
      0x9d, 0x01, 0x2a,  // start code
      0x00, 0x45,        // 0x4500: horizontal scale 1, width 1280
      0xd0, 0xc2,        // 0xc2d0: vertical scale 3, height 720
  };
  const auto info = vp8_frame_info(view(p), *parse_vp8(view(p)));
  EXPECT_TRUE(info.keyframe);
  ASSERT_TRUE(info.has_dimensions);
  EXPECT_EQ(info.width, 1280);
  EXPECT_EQ(info.horizontal_scale, 1);
  EXPECT_EQ(info.height, 720);
  EXPECT_EQ(info.vertical_scale, 3);
}

TEST(Vp8Keyframe, Rfc7741Sec43KeyFrameWithoutRoomForDimensions) {
  const Buf p = {
      0x10,              // S=1 PID=0
      0x50, 0x01, 0x00,  // frame tag, P=0
      0x9d, 0x01,        // start code cut short
  };
  const auto info = vp8_frame_info(view(p), *parse_vp8(view(p)));
  EXPECT_TRUE(info.keyframe);
  EXPECT_FALSE(info.has_dimensions);
  EXPECT_EQ(info.width, 0);
}

TEST(Vp8Keyframe, Rfc6386Sec91WrongStartCodeGivesNoDimensions) {
  const Buf p = {
      0x10,                    // S=1 PID=0
      0x50, 0x01, 0x00,        // frame tag, P=0
      0x9d, 0x01, 0x2b,        // not the start code
      0x80, 0x02, 0xe0, 0x01,  // 640x480
  };
  const auto info = vp8_frame_info(view(p), *parse_vp8(view(p)));
  EXPECT_TRUE(info.keyframe);
  EXPECT_FALSE(info.has_dimensions);
}

TEST(Vp8Keyframe, Rfc7741Sec43InterFrameIsNotKeyFrame) {
  const Buf p = {
      0x90, 0x80, 0x06,  // X=1 S=1 PID=0; I=1; PictureID=6
      0x51, 0x01, 0x00,  // frame tag: P=1 (inter frame)
      0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01,
  };
  EXPECT_FALSE(is_vp8_keyframe(view(p)));
  EXPECT_FALSE(is_keyframe(VideoCodec::vp8, view(p)));
}

TEST(Vp8Keyframe, Rfc7741Sec43OnlyFirstPacketOfFrameCarriesPayloadHeader) {
  const Buf continuation = cat(
      {
          0x80, 0x80, 0x06,  // X=1 S=0 PID=0; I=1; PictureID=6
      },
      kKeyFrame640x480);
  const Buf other_partition = cat(
      {
          0x91, 0x80, 0x06,  // X=1 S=1 PID=1; I=1; PictureID=6
      },
      kKeyFrame640x480);
  const Buf no_payload = {
      0x90, 0x80, 0x06,  // X=1 S=1 PID=0, nothing after the descriptor
  };
  EXPECT_FALSE(is_vp8_keyframe(view(continuation)));
  EXPECT_FALSE(is_vp8_keyframe(view(other_partition)));
  EXPECT_FALSE(is_vp8_keyframe(view(no_payload)));
}

TEST(Vp8Keyframe, FrameInfoNeverReadsPastAShortPayload) {
  const Buf p = {0x10};  // S=1 PID=0, empty VP8 payload
  Vp8Descriptor lying;
  lying.start_of_partition = true;
  lying.descriptor_size = 40;  // says more than the span holds
  EXPECT_FALSE(vp8_frame_info(view(p), lying).keyframe);
}

// ---- In-place rewrite ---------------------------------------------------------

// Bytes other than those at `changed` offsets must be identical.
void expect_only_changed(const Buf& before, const Buf& after, std::initializer_list<size_t> changed) {
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) {
    bool allowed = false;
    for (size_t c : changed) allowed = allowed || c == i;
    if (!allowed) {
      EXPECT_EQ(before[i], after[i]) << "byte " << i;
    }
  }
}

TEST(Vp8Rewrite, Rfc7741Sec42FifteenBitPictureIdAndTl0RoundTrip) {
  const Buf original = cat(
      {
          0x90,        // X=1 S=1 PID=0
          0xe0,        // I=1 L=1 T=1
          0x92, 0x34,  // M=1 PictureID=0x1234
          0x56,        // TL0PICIDX
          0x40,        // TID=1
      },
      kKeyFrame640x480);
  Buf p = original;
  const auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(rewrite_vp8(mut(p), *d, 0x0abc, 0x99));
  const auto r = parse_vp8(view(p));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->picture_id, 0x0abc);
  EXPECT_TRUE(r->picture_id_15bit);
  EXPECT_EQ(r->tl0picidx, 0x99);
  EXPECT_EQ(r->tid, 1);
  EXPECT_EQ(r->descriptor_size, d->descriptor_size);
  expect_only_changed(original, p, {2, 3, 4});
  EXPECT_TRUE(vp8_frame_info(view(p), *r).keyframe);
}

TEST(Vp8Rewrite, Rfc7741Sec42FifteenBitPictureIdWrapsFrom7fffToZero) {
  Buf p = {
      0x90, 0x80,  // X=1 S=1; I=1
      0xff, 0xfe,  // M=1 PictureID=0x7ffe
      0x00,        // VP8 payload
  };
  const auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  const struct {
    uint16_t in;
    uint16_t out;
  } steps[] = {{0x7ffe, 0x7ffe}, {0x7fff, 0x7fff}, {0x8000, 0x0000},
               {0x0000, 0x0000}, {0x0001, 0x0001}, {0xffff, 0x7fff}};
  for (const auto& s : steps) {
    ASSERT_TRUE(rewrite_vp8(mut(p), *d, s.in, 0));
    const auto r = parse_vp8(view(p));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->picture_id, s.out) << "in=" << s.in;
    EXPECT_TRUE(r->picture_id_15bit);
  }
}

TEST(Vp8Rewrite, Rfc7741Sec42SevenBitFieldKeepsItsWidth) {
  const Buf original = {
      0x90,  // X=1 S=1 PID=0
      0xc0,  // I=1 L=1
      0x7f,  // M=0 PictureID=127
      0x03,  // TL0PICIDX=3
      0xab,  // VP8 payload
  };
  Buf p = original;
  const auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  const struct {
    uint16_t in;
    uint16_t out;
  } steps[] = {{0x007f, 0x7f}, {0x0080, 0x00}, {0x1234, 0x34}, {0x7fff, 0x7f}, {0x0005, 0x05}};
  for (const auto& s : steps) {
    ASSERT_TRUE(rewrite_vp8(mut(p), *d, s.in, 0x04));
    const auto r = parse_vp8(view(p));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->picture_id, s.out) << "in=" << s.in;
    EXPECT_FALSE(r->picture_id_15bit);
    EXPECT_EQ(r->tl0picidx, 0x04);
    EXPECT_EQ(r->descriptor_size, 4u);
    expect_only_changed(original, p, {2, 3});
  }
}

TEST(Vp8Rewrite, Rfc7741Sec42Tl0PicIdxWithoutPictureId) {
  const Buf original = {
      0x90,  // X=1 S=1
      0x60,  // L=1 T=1
      0xfe,  // TL0PICIDX=254
      0x80,  // TID=2
  };
  Buf p = original;
  const auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(rewrite_vp8(mut(p), *d, 0x1234, 0xff));
  EXPECT_EQ(p[2], 0xff);
  ASSERT_TRUE(rewrite_vp8(mut(p), *d, 0x1234, 0x00));  // 8-bit wrap
  EXPECT_EQ(p[2], 0x00);
  expect_only_changed(original, p, {2});
  EXPECT_FALSE(parse_vp8(view(p))->has_picture_id);
}

TEST(Vp8Rewrite, DescriptorWithoutRewritableFieldsIsLeftAlone) {
  const Buf original = {
      0x10,        // S=1, no extension
      0x01, 0x02,  // VP8 payload
  };
  Buf p = original;
  const auto d = parse_vp8(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(rewrite_vp8(mut(p), *d, 7, 7));
  EXPECT_EQ(p, original);
}

TEST(Vp8Rewrite, RefusesBytesThatDoNotMatchTheDescriptor) {
  const Buf seven_bit = {0x90, 0x80, 0x11, 0x00};          // I=1, 7-bit id
  const Buf fifteen_bit = {0x90, 0x80, 0x80, 0x11, 0x00};  // I=1, 15-bit id
  const Buf tl0_only = {0x90, 0x40, 0x11, 0x00};           // L=1
  const auto d7 = *parse_vp8(view(seven_bit));
  const auto d15 = *parse_vp8(view(fifteen_bit));

  Buf p = fifteen_bit;
  EXPECT_FALSE(rewrite_vp8(mut(p), d7, 1, 1));  // M bit disagrees
  EXPECT_EQ(p, fifteen_bit);
  p = seven_bit;
  EXPECT_FALSE(rewrite_vp8(mut(p), d15, 1, 1));
  EXPECT_EQ(p, seven_bit);
  p = tl0_only;
  EXPECT_FALSE(rewrite_vp8(mut(p), d7, 1, 1));  // I/L bits disagree
  EXPECT_EQ(p, tl0_only);
  p = fifteen_bit;
  EXPECT_FALSE(rewrite_vp8(mut(p).first(3), d15, 1, 1));  // span shorter than the descriptor
  EXPECT_EQ(p, fifteen_bit);
  Buf no_x = {0x10, 0x80, 0x11};  // X=0
  EXPECT_FALSE(rewrite_vp8(mut(no_x), d7, 1, 1));
}

}  // namespace
}  // namespace sfu::rtp::codecs
