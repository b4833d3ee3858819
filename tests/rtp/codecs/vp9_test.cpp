// VP9 payload descriptor (RFC 9628 §4.2), scalability structure
// (RFC 9628 §4.2.1) and the key-frame rule.
#include "rtp/codecs/vp9.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "rtp/codecs/keyframe.hpp"

namespace sfu::rtp::codecs {
namespace {

using Buf = std::vector<uint8_t>;

Bytes view(const Buf& b) { return Bytes(b.data(), b.size()); }

// ---- Non-flexible mode, RFC 9628 §4.2 ---------------------------------------

TEST(Vp9Descriptor, Rfc9628Sec42NonFlexibleModeAllFields) {
  const Buf p = {
      0xac,        // I=1 P=0 L=1 F=0 B=1 E=1 V=0 Z=0
      0x81, 0x23,  // M=1 PICTURE ID=0x0123
      0x53,        // TID=2 U=1 SID=1 D=1
      0x07,        // TL0PICIDX=7
      0xde, 0xad,  // VP9 frame data
  };
  auto d = parse_vp9(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->has_picture_id);
  EXPECT_TRUE(d->picture_id_15bit);
  EXPECT_EQ(d->picture_id, 0x0123);
  EXPECT_FALSE(d->inter_picture_predicted);
  EXPECT_TRUE(d->has_layer_indices);
  EXPECT_FALSE(d->flexible_mode);
  EXPECT_TRUE(d->start_of_frame);
  EXPECT_TRUE(d->end_of_frame);
  EXPECT_FALSE(d->has_scalability_structure);
  EXPECT_FALSE(d->not_reference_for_upper_spatial);
  EXPECT_EQ(d->temporal_id, 2);
  EXPECT_TRUE(d->switching_up_point);
  EXPECT_EQ(d->spatial_id, 1);
  EXPECT_TRUE(d->inter_layer_dependency);
  EXPECT_TRUE(d->has_tl0picidx);
  EXPECT_EQ(d->tl0picidx, 7);
  EXPECT_EQ(d->num_p_diffs, 0);
  EXPECT_EQ(d->descriptor_size, 5u);
  // P=0 but SID=1: an upper spatial layer is not a key frame on its own.
  EXPECT_FALSE(is_vp9_keyframe(*d));
}

TEST(Vp9Descriptor, Rfc9628Sec42SevenBitPictureIdWithoutLayerIndices) {
  const Buf p = {
      0x84,  // I=1 E=1
      0x7f,  // M=0 PICTURE ID=127
  };
  auto d = parse_vp9(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->picture_id_15bit);
  EXPECT_EQ(d->picture_id, 127);
  EXPECT_FALSE(d->has_layer_indices);
  EXPECT_EQ(d->spatial_id, 0);
  EXPECT_EQ(d->temporal_id, 0);
  EXPECT_FALSE(d->has_tl0picidx);
  EXPECT_EQ(d->descriptor_size, 2u);
}

// ---- Flexible mode, RFC 9628 §4.2 -------------------------------------------

TEST(Vp9Descriptor, Rfc9628Sec42FlexibleModeThreePDiffs) {
  const Buf p = {
      0xf9,        // I=1 P=1 L=1 F=1 B=1 E=0 V=0 Z=1
      0xff, 0xff,  // M=1 PICTURE ID=0x7fff
      0x20,        // TID=1 U=0 SID=0 D=0 (no TL0PICIDX in flexible mode)
      0x03,        // P_DIFF=1 N=1
      0x05,        // P_DIFF=2 N=1
      0x0a,        // P_DIFF=5 N=0
      0x00,        // VP9 frame data
  };
  auto d = parse_vp9(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->picture_id, 0x7fff);
  EXPECT_TRUE(d->flexible_mode);
  EXPECT_TRUE(d->inter_picture_predicted);
  EXPECT_TRUE(d->not_reference_for_upper_spatial);
  EXPECT_EQ(d->temporal_id, 1);
  EXPECT_FALSE(d->has_tl0picidx);
  ASSERT_EQ(d->num_p_diffs, 3);
  EXPECT_EQ(d->p_diff[0], 1);
  EXPECT_EQ(d->p_diff[1], 2);
  EXPECT_EQ(d->p_diff[2], 5);
  EXPECT_EQ(d->descriptor_size, 7u);
  EXPECT_FALSE(is_vp9_keyframe(*d));
}

TEST(Vp9Descriptor, Rfc9628Sec42FlexibleModeWithoutPHasNoPDiff) {
  const Buf p = {
      0xb8,  // I=1 P=0 L=1 F=1 B=1
      0x01,  // PICTURE ID=1
      0x00,  // TID=0 SID=0
      0x03,  // VP9 frame data (would be a P_DIFF with N=1 if P were set)
  };
  auto d = parse_vp9(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->num_p_diffs, 0);
  EXPECT_EQ(d->descriptor_size, 3u);
  EXPECT_TRUE(is_vp9_keyframe(*d));
}

// ---- Scalability structure, RFC 9628 §4.2.1 ----------------------------------

// Key picture of a 3-spatial-layer, L3T3-style stream with its SS.
const Buf kKeyFrameWithSs = {
    0xaa,        // I=1 P=0 L=1 F=0 B=1 E=0 V=1 Z=0
    0x05,        // M=0 PICTURE ID=5
    0x00,        // TID=0 U=0 SID=0 D=0
    0x00,        // TL0PICIDX=0
    0x58,        // SS: N_S=2 (3 layers) Y=1 G=1
    0x01, 0x40,  // layer 0 WIDTH=320
    0x00, 0xb4,  // layer 0 HEIGHT=180
    0x02, 0x80,  // layer 1 WIDTH=640
    0x01, 0x68,  // layer 1 HEIGHT=360
    0x05, 0x00,  // layer 2 WIDTH=1280
    0x02, 0xd0,  // layer 2 HEIGHT=720
    0x04,        // N_G=4
    0x04, 0x04,  // TID=0 U=0 R=1; P_DIFF=4
    0x54, 0x01,  // TID=2 U=1 R=1; P_DIFF=1
    0x34, 0x02,  // TID=1 U=1 R=1; P_DIFF=2
    0x58, 0x01, 0x03,  // TID=2 U=1 R=2; P_DIFF=1, P_DIFF=3
    0x82, 0x49,  // VP9 frame data
};

TEST(Vp9ScalabilityStructure, Rfc9628Sec421ResolutionsAndPictureGroup) {
  auto d = parse_vp9(view(kKeyFrameWithSs));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->has_scalability_structure);
  EXPECT_EQ(d->descriptor_size, kKeyFrameWithSs.size() - 2);
  const auto& ss = d->ss;
  EXPECT_EQ(ss.num_spatial_layers, 3);
  ASSERT_TRUE(ss.has_resolution);
  EXPECT_EQ(ss.width[0], 320);
  EXPECT_EQ(ss.height[0], 180);
  EXPECT_EQ(ss.width[1], 640);
  EXPECT_EQ(ss.height[1], 360);
  EXPECT_EQ(ss.width[2], 1280);
  EXPECT_EQ(ss.height[2], 720);
  EXPECT_EQ(ss.width[3], 0);
  ASSERT_TRUE(ss.has_gof);
  EXPECT_EQ(ss.num_gof_pictures, 4);

  const Vp9GofPicture expected[] = {
      {0, false, 1, {4, 0, 0}},
      {2, true, 1, {1, 0, 0}},
      {1, true, 1, {2, 0, 0}},
      {2, true, 2, {1, 3, 0}},
  };
  Vp9GofReader r(ss);
  for (const auto& e : expected) {
    auto pic = r.next();
    ASSERT_TRUE(pic.has_value());
    EXPECT_EQ(*pic, e);
  }
  EXPECT_FALSE(r.next().has_value());
  EXPECT_TRUE(is_vp9_keyframe(*d));
  EXPECT_TRUE(is_keyframe(VideoCodec::vp9, view(kKeyFrameWithSs)));
}

TEST(Vp9ScalabilityStructure, Rfc9628Sec421PictureGroupWithoutResolution) {
  const Buf p = {
      0x0a,  // B=1 V=1
      0x08,  // SS: N_S=0 Y=0 G=1
      0x01,  // N_G=1
      0x10,  // TID=0 U=1 R=0
  };
  auto d = parse_vp9(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->ss.num_spatial_layers, 1);
  EXPECT_FALSE(d->ss.has_resolution);
  EXPECT_EQ(d->ss.width[0], 0);
  Vp9GofReader r(d->ss);
  auto pic = r.next();
  ASSERT_TRUE(pic.has_value());
  EXPECT_TRUE(pic->switching_up_point);
  EXPECT_EQ(pic->num_references, 0);
  EXPECT_FALSE(r.next().has_value());
  EXPECT_EQ(d->descriptor_size, 4u);
}

TEST(Vp9ScalabilityStructure, Rfc9628Sec421ResolutionWithoutPictureGroup) {
  const Buf p = {
      0x0a,        // B=1 V=1
      0x10,        // SS: N_S=0 Y=1 G=0 (no N_G octet)
      0x02, 0x80,  // WIDTH=640
      0x01, 0xe0,  // HEIGHT=480
      0x00,        // VP9 frame data
  };
  auto d = parse_vp9(view(p));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->ss.width[0], 640);
  EXPECT_EQ(d->ss.height[0], 480);
  EXPECT_FALSE(d->ss.has_gof);
  EXPECT_EQ(d->ss.num_gof_pictures, 0);
  EXPECT_FALSE(Vp9GofReader(d->ss).next().has_value());
  EXPECT_EQ(d->descriptor_size, 6u);
}

TEST(Vp9ScalabilityStructure, GofReaderStopsAtTheEndOfAHandMadeView) {
  const Buf gof = {
      0x08,  // TID=0 U=0 R=2
      0x01,  // P_DIFF=1, second P_DIFF missing
  };
  Vp9ScalabilityStructure ss;
  ss.has_gof = true;
  ss.num_gof_pictures = 5;
  ss.gof = view(gof);
  Vp9GofReader r(ss);
  EXPECT_FALSE(r.next().has_value());
}

// ---- Key frames ---------------------------------------------------------------

TEST(Vp9Keyframe, StartOfNonPredictedBaseLayerFrame) {
  const struct {
    const char* name;
    Buf bytes;
    bool keyframe;
  } cases[] = {
      {"B=1 P=0, no layer indices", {0x08}, true},
      {"B=1 P=1", {0x48}, false},
      {"B=0 P=0 (continuation)", {0xa0, 0x01, 0x00, 0x00}, false},  // I L; SID=0
      {"B=1 P=0 SID=0", {0xa8, 0x01, 0x00, 0x00}, true},             // I L B
      {"B=1 P=0 SID=2 D=1", {0xa8, 0x01, 0x05, 0x00}, false},        // SID=2 D=1
      {"B=1 P=0 SID=0 TID=0, E=1 too", {0x2c, 0x00, 0x00}, true},    // L B E
      {"malformed", {0x80}, false},                                  // I=1, no PICTURE ID
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_vp9_keyframe(view(c.bytes)), c.keyframe) << c.name;
    EXPECT_EQ(is_keyframe(VideoCodec::vp9, view(c.bytes)), c.keyframe) << c.name;
  }
}

// ---- Malformed descriptors ----------------------------------------------------

TEST(Vp9Malformed, Rfc9628Sec42EveryTruncationAndOverrunIsReported) {
  const struct {
    const char* name;
    Buf bytes;
    ParseError error;
  } cases[] = {
      {"empty payload", {}, ParseError::truncated},
      {"I set, no PICTURE ID", {0x80}, ParseError::truncated},
      {"M bit set but one byte", {0x80, 0x80}, ParseError::truncated},
      {"L set, no layer indices", {0x20}, ParseError::truncated},
      {"non-flexible L, no TL0PICIDX", {0x20, 0x00}, ParseError::truncated},
      {"flexible P, no P_DIFF", {0x50}, ParseError::truncated},
      {"P_DIFF N=1, nothing after", {0x50, 0x03}, ParseError::truncated},
      {"four P_DIFFs", {0x50, 0x03, 0x05, 0x07, 0x09}, ParseError::bad_value},
      {"V set, no SS", {0x02}, ParseError::truncated},
      {"SS Y with N_S=1, one layer's sizes", {0x02, 0x30, 0x01, 0x40, 0x00, 0xb4}, ParseError::truncated},
      {"SS Y, HEIGHT cut short", {0x02, 0x10, 0x01, 0x40, 0x00}, ParseError::truncated},
      {"SS G, no N_G", {0x02, 0x08}, ParseError::truncated},
      {"SS N_G=2, one picture", {0x02, 0x08, 0x02, 0x00}, ParseError::truncated},
      {"SS picture R=2, one P_DIFF", {0x02, 0x08, 0x01, 0x08, 0x01}, ParseError::truncated},
      {"SS after full descriptor, G cut", {0xaa, 0x81, 0x00, 0x00, 0x00, 0x08}, ParseError::truncated},
  };
  for (const auto& c : cases) {
    auto d = parse_vp9(view(c.bytes));
    ASSERT_FALSE(d.ok()) << c.name;
    EXPECT_EQ(d.error(), c.error) << c.name;
    EXPECT_FALSE(is_vp9_keyframe(view(c.bytes))) << c.name;
  }
}

TEST(Vp9Malformed, EveryPrefixOfAValidSsPacketFailsCleanly) {
  const size_t full = parse_vp9(view(kKeyFrameWithSs))->descriptor_size;
  for (size_t n = 0; n < full; ++n) {
    auto d = parse_vp9(view(kKeyFrameWithSs).first(n));
    ASSERT_FALSE(d.ok()) << "prefix " << n;
    EXPECT_EQ(d.error(), ParseError::truncated) << "prefix " << n;
  }
}

}  // namespace
}  // namespace sfu::rtp::codecs
