// H.264 RTP payloads (RFC 6184): single NAL unit packets (§5.6), STAP-A
// (§5.7.1), FU-A (§5.8) and key-frame detection.
#include "rtp/codecs/h264.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "rtp/codecs/keyframe.hpp"

namespace sfu::rtp::codecs {
namespace {

using Buf = std::vector<uint8_t>;

Bytes view(const Buf& b) { return Bytes(b.data(), b.size()); }

// ---- Single NAL unit packets, RFC 6184 §5.6 ----------------------------------

TEST(H264SingleNal, Rfc6184Sec56IdrSliceIsKeyFrame) {
  const Buf p = {
      0x65,              // F=0 NRI=3 Type=5 (IDR slice)
      0x88, 0x84, 0x00,  // slice data
  };
  auto info = parse_h264(view(p));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->packetization, H264Packetization::single_nal);
  EXPECT_EQ(info->packet_type, 5);
  EXPECT_EQ(info->nal_type, h264_nal::kIdr);
  EXPECT_EQ(info->nri, 3);
  EXPECT_EQ(info->nal_count, 1);
  EXPECT_TRUE(info->has_idr);
  EXPECT_FALSE(info->has_sps);
  EXPECT_TRUE(info->keyframe);
  EXPECT_TRUE(is_h264_keyframe(view(p)));
  EXPECT_TRUE(is_keyframe(VideoCodec::h264, view(p)));
}

TEST(H264SingleNal, Rfc6184Sec56ParameterSetsAndSlices) {
  const struct {
    const char* name;
    Buf bytes;
    uint8_t type;
    bool keyframe;
  } cases[] = {
      {"SPS starts a key frame", {0x67, 0x42, 0xc0, 0x1f}, h264_nal::kSps, true},  // NRI=3 Type=7
      {"PPS alone", {0x68, 0xce, 0x3c, 0x80}, h264_nal::kPps, false},              // NRI=3 Type=8
      {"non-IDR slice", {0x41, 0x9a, 0x02}, h264_nal::kSlice, false},              // NRI=2 Type=1
      {"SEI", {0x06, 0x05, 0x01}, h264_nal::kSei, false},                          // NRI=0 Type=6
      {"AUD, header only", {0x09}, h264_nal::kAud, false},                         // NRI=0 Type=9
      {"type 23 (last single type)", {0x17}, 23, false},
  };
  for (const auto& c : cases) {
    auto info = parse_h264(view(c.bytes));
    ASSERT_TRUE(info.ok()) << c.name;
    EXPECT_EQ(info->packetization, H264Packetization::single_nal) << c.name;
    EXPECT_EQ(info->nal_type, c.type) << c.name;
    EXPECT_EQ(info->keyframe, c.keyframe) << c.name;
    EXPECT_EQ(is_keyframe(VideoCodec::h264, view(c.bytes)), c.keyframe) << c.name;
  }
  EXPECT_TRUE(parse_h264(view(cases[1].bytes))->has_pps);
}

// ---- STAP-A, RFC 6184 §5.7.1 --------------------------------------------------

const Buf kStapASpsPpsIdr = {
    0x78,                    // F=0 NRI=3 Type=24 (STAP-A)
    0x00, 0x04,              // NALU 1 size 4
    0x67, 0x42, 0xc0, 0x1f,  // SPS
    0x00, 0x02,              // NALU 2 size 2
    0x68, 0xce,              // PPS
    0x00, 0x03,              // NALU 3 size 3
    0x65, 0x88, 0x84,        // IDR slice
};

TEST(H264StapA, Rfc6184Sec571SpsPpsIdrAggregate) {
  auto info = parse_h264(view(kStapASpsPpsIdr));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->packetization, H264Packetization::stap_a);
  EXPECT_EQ(info->packet_type, h264_nal::kStapA);
  EXPECT_EQ(info->nal_type, h264_nal::kSps);  // the first aggregated unit
  EXPECT_EQ(info->nal_count, 3);
  EXPECT_TRUE(info->has_sps);
  EXPECT_TRUE(info->has_pps);
  EXPECT_TRUE(info->has_idr);
  EXPECT_TRUE(info->keyframe);
}

TEST(H264StapA, Rfc6184Sec571KeyFrameIfAnyUnitIsIdrOrSps) {
  const Buf sps_pps = {
      0x78,                          // STAP-A
      0x00, 0x02, 0x67, 0x42,        // SPS
      0x00, 0x02, 0x68, 0xce,        // PPS
  };
  const Buf sei_idr = {
      0x78,                          // STAP-A
      0x00, 0x02, 0x06, 0x05,        // SEI
      0x00, 0x03, 0x65, 0x88, 0x84,  // IDR slice, last unit
  };
  const Buf sei_slice = {
      0x58,                          // F=0 NRI=2 STAP-A
      0x00, 0x02, 0x06, 0x05,        // SEI
      0x00, 0x02, 0x41, 0x9a,        // non-IDR slice
  };
  EXPECT_TRUE(is_h264_keyframe(view(sps_pps)));
  EXPECT_TRUE(is_h264_keyframe(view(sei_idr)));
  EXPECT_FALSE(is_h264_keyframe(view(sei_slice)));
  auto info = parse_h264(view(sei_slice));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->nri, 2);
  EXPECT_EQ(info->nal_count, 2);
  EXPECT_EQ(info->nal_type, h264_nal::kSei);
}

TEST(H264StapA, NalCountSaturatesAt255) {
  Buf p = {0x78};  // STAP-A
  for (int i = 0; i < 300; ++i) {
    p.insert(p.end(), {0x00, 0x01, 0x09});  // size 1, AUD
  }
  auto info = parse_h264(view(p));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->nal_count, 255);
}

// ---- FU-A, RFC 6184 §5.8 ------------------------------------------------------

TEST(H264FuA, Rfc6184Sec58FragmentsOfAnIdrSlice) {
  const Buf start = {
      0x7c,        // FU indicator: F=0 NRI=3 Type=28
      0x85,        // FU header: S=1 E=0 R=0 Type=5
      0x88, 0x84,  // fragment
  };
  const Buf middle = {
      0x7c,  // FU indicator
      0x05,  // S=0 E=0 Type=5
      0x21,  // fragment
  };
  const Buf end = {
      0x7c,  // FU indicator
      0x45,  // S=0 E=1 Type=5
      0x10,  // fragment
  };
  auto s = parse_h264(view(start));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->packetization, H264Packetization::fu_a);
  EXPECT_EQ(s->packet_type, h264_nal::kFuA);
  EXPECT_EQ(s->nal_type, h264_nal::kIdr);
  EXPECT_TRUE(s->fu_start);
  EXPECT_FALSE(s->fu_end);
  EXPECT_TRUE(s->has_idr);
  EXPECT_TRUE(s->keyframe);
  EXPECT_TRUE(is_keyframe(VideoCodec::h264, view(start)));

  auto m = parse_h264(view(middle));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->has_idr);
  EXPECT_FALSE(m->keyframe);

  auto e = parse_h264(view(end));
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->fu_end);
  EXPECT_FALSE(e->keyframe);
}

TEST(H264FuA, Rfc6184Sec58StartOfOtherNalTypes) {
  const Buf slice_start = {
      0x5c,  // FU indicator: NRI=2 Type=28
      0x81,  // S=1 Type=1 (non-IDR slice)
      0x9a,  // fragment
  };
  const Buf sps_start = {
      0x7c,  // FU indicator
      0x87,  // S=1 Type=7 (SPS)
      0x42,  // fragment
  };
  const Buf header_only = {
      0x7c,  // FU indicator
      0x85,  // S=1 Type=5, empty fragment
  };
  EXPECT_FALSE(is_h264_keyframe(view(slice_start)));
  EXPECT_TRUE(is_h264_keyframe(view(sps_start)));
  EXPECT_TRUE(is_h264_keyframe(view(header_only)));
}

// ---- Malformed and unsupported payloads ---------------------------------------

TEST(H264Malformed, Rfc6184EveryErrorIsReported) {
  const struct {
    const char* name;
    Buf bytes;
    ParseError error;
  } cases[] = {
      {"empty payload", {}, ParseError::truncated},
      {"forbidden_zero_bit set", {0xe5, 0x88}, ParseError::bad_value},  // F=1 NRI=3 Type=5
      {"type 0 (reserved)", {0x60, 0x00}, ParseError::bad_type},
      {"STAP-B (interleaved)", {0x79, 0x00, 0x00}, ParseError::bad_type},  // Type=25
      {"MTAP16", {0x7a, 0x00}, ParseError::bad_type},                      // Type=26
      {"MTAP24", {0x7b, 0x00}, ParseError::bad_type},                      // Type=27
      {"FU-B", {0x7d, 0x85, 0x00, 0x00}, ParseError::bad_type},            // Type=29
      {"type 30 (reserved)", {0x7e}, ParseError::bad_type},
      {"type 31 (reserved)", {0x7f}, ParseError::bad_type},
      {"STAP-A without units", {0x78}, ParseError::truncated},
      {"STAP-A lone octet after a unit", {0x78, 0x00, 0x01, 0x09, 0x00}, ParseError::truncated},
      {"STAP-A size overrunning", {0x78, 0x00, 0x05, 0x67, 0x42}, ParseError::bad_length},
      {"STAP-A second size overrunning", {0x78, 0x00, 0x01, 0x09, 0xff, 0xff, 0x65}, ParseError::bad_length},
      {"STAP-A zero size", {0x78, 0x00, 0x00, 0x65}, ParseError::bad_length},
      {"FU-A indicator only", {0x7c}, ParseError::truncated},
      {"FU-A with S and E", {0x7c, 0xc5, 0x88}, ParseError::bad_value},
  };
  for (const auto& c : cases) {
    auto info = parse_h264(view(c.bytes));
    ASSERT_FALSE(info.ok()) << c.name;
    EXPECT_EQ(info.error(), c.error) << c.name;
    EXPECT_FALSE(is_h264_keyframe(view(c.bytes))) << c.name;
    EXPECT_FALSE(is_keyframe(VideoCodec::h264, view(c.bytes))) << c.name;
  }
}

TEST(H264Malformed, Rfc6184Sec571EveryPrefixOfAStapAFailsOrStopsAtAUnit) {
  // Cutting the aggregate anywhere but at a unit boundary must fail.
  const size_t boundaries[] = {7, 11, 16};  // ends of NALU 1, 2, 3
  for (size_t n = 0; n < kStapASpsPpsIdr.size(); ++n) {
    auto info = parse_h264(view(kStapASpsPpsIdr).first(n));
    bool at_boundary = false;
    for (size_t b : boundaries) at_boundary = at_boundary || b == n;
    EXPECT_EQ(info.ok(), at_boundary) << "prefix " << n;
  }
}

}  // namespace
}  // namespace sfu::rtp::codecs
