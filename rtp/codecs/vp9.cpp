#include "rtp/codecs/vp9.hpp"

#include "rtp/codecs/picture_id.hpp"

namespace sfu::rtp::codecs {
namespace {

// Required first octet |I|P|L|F|B|E|V|Z|.
constexpr uint8_t kIBit = 0x80;
constexpr uint8_t kPBit = 0x40;
constexpr uint8_t kLBit = 0x20;
constexpr uint8_t kFBit = 0x10;
constexpr uint8_t kBBit = 0x08;
constexpr uint8_t kEBit = 0x04;
constexpr uint8_t kVBit = 0x02;
constexpr uint8_t kZBit = 0x01;
// Layer indices |TID|U|SID|D|.
constexpr uint8_t kUBit = 0x10;
constexpr uint8_t kDBit = 0x01;
// P_DIFF octet |P_DIFF|N|.
constexpr uint8_t kNBit = 0x01;
// SS first octet |N_S|Y|G|-|-|-|.
constexpr uint8_t kYBit = 0x10;
constexpr uint8_t kGBit = 0x08;
// GOF picture octet |TID|U|R|-|-|.
constexpr uint8_t kGofUBit = 0x10;

bool read_layer_indices(ByteReader& r, Vp9Descriptor& d) {
  uint8_t b = 0;
  if (!r.read_u8(b)) return false;
  d.temporal_id = uint8_t(b >> 5);
  d.switching_up_point = (b & kUBit) != 0;
  d.spatial_id = uint8_t((b >> 1) & 0x07);
  d.inter_layer_dependency = (b & kDBit) != 0;
  return true;
}

// Flexible mode, P=1: one to three |P_DIFF|N| octets, N=1 meaning another
// follows.
Result<void, ParseError> read_p_diffs(ByteReader& r, Vp9Descriptor& d) {
  uint8_t b = 0;
  do {
    if (!r.read_u8(b)) return fail(ParseError::truncated);
    if (d.num_p_diffs == kVp9MaxReferences) return fail(ParseError::bad_value);
    d.p_diff[d.num_p_diffs++] = uint8_t(b >> 1);
  } while (b & kNBit);
  return {};
}

// RFC 9628 §4.2.1, scalability structure:
//
//       +-+-+-+-+-+-+-+-+
//  V:   | N_S |Y|G|-|-|-|
//       +-+-+-+-+-+-+-+-+              -+
//  Y:   |     WIDTH     | (OPTIONAL)    .
//       +               +               .
//       |               | (OPTIONAL)    .
//       +-+-+-+-+-+-+-+-+               . - N_S + 1 times
//       |     HEIGHT    | (OPTIONAL)    .
//       +               +               .
//       |               | (OPTIONAL)    .
//       +-+-+-+-+-+-+-+-+              -+
//  G:   |      N_G      | (OPTIONAL)
//       +-+-+-+-+-+-+-+-+                           -+
//  N_G: |  TID  |U| R |-|-| (OPTIONAL)               .
//       +-+-+-+-+-+-+-+-+              -+           . - N_G times
//       |    P_DIFF     | (OPTIONAL)    . - R times .
//       +-+-+-+-+-+-+-+-+              -+           -+
//
// Every octet is checked here so that Vp9GofReader can walk `gof` later.
bool read_scalability_structure(ByteReader& r, Vp9ScalabilityStructure& ss) {
  uint8_t b = 0;
  if (!r.read_u8(b)) return false;
  ss.num_spatial_layers = uint8_t((b >> 5) + 1);
  ss.has_resolution = (b & kYBit) != 0;
  ss.has_gof = (b & kGBit) != 0;
  if (ss.has_resolution) {
    for (size_t i = 0; i < ss.num_spatial_layers; ++i) {
      if (!r.read_u16(ss.width[i]) || !r.read_u16(ss.height[i])) return false;
    }
  }
  if (!ss.has_gof) return true;
  if (!r.read_u8(ss.num_gof_pictures)) return false;
  const Bytes rest = r.rest();
  const size_t start = r.position();
  for (size_t i = 0; i < ss.num_gof_pictures; ++i) {
    uint8_t pic = 0;
    if (!r.read_u8(pic) || !r.skip((pic >> 2) & 0x03)) return false;
  }
  ss.gof = rest.first(r.position() - start);
  return true;
}

}  // namespace

std::optional<Vp9GofPicture> Vp9GofReader::next() {
  if (left_ == 0) return std::nullopt;
  uint8_t b = 0;
  if (!reader_.read_u8(b)) return std::nullopt;
  Vp9GofPicture pic;
  pic.temporal_id = uint8_t(b >> 5);
  pic.switching_up_point = (b & kGofUBit) != 0;
  pic.num_references = uint8_t((b >> 2) & 0x03);
  for (size_t i = 0; i < pic.num_references; ++i) {
    if (!reader_.read_u8(pic.p_diff[i])) return std::nullopt;
  }
  --left_;
  return pic;
}

// RFC 9628 §4.2, VP9 payload descriptor:
//
//  Flexible mode (F=1)                  Non-flexible mode (F=0)
//        0 1 2 3 4 5 6 7                       0 1 2 3 4 5 6 7
//       +-+-+-+-+-+-+-+-+                     +-+-+-+-+-+-+-+-+
//       |I|P|L|F|B|E|V|Z| (REQUIRED)          |I|P|L|F|B|E|V|Z| (REQUIRED)
//       +-+-+-+-+-+-+-+-+                     +-+-+-+-+-+-+-+-+
//  I:   |M| PICTURE ID  | (REQUIRED)     I:   |M| PICTURE ID  | (RECOMMENDED)
//       +-+-+-+-+-+-+-+-+                     +-+-+-+-+-+-+-+-+
//  M:   | EXTENDED PID  | (RECOMMENDED)  M:   | EXTENDED PID  | (RECOMMENDED)
//       +-+-+-+-+-+-+-+-+                     +-+-+-+-+-+-+-+-+
//  L:   | TID |U| SID |D| (COND. RECOMM.)L:   | TID |U| SID |D| (COND. RECOMM.)
//       +-+-+-+-+-+-+-+-+       -\            +-+-+-+-+-+-+-+-+
//  P,F: | P_DIFF      |N| (COND.  - up to     |   TL0PICIDX   | (COND. REQUIRED)
//       +-+-+-+-+-+-+-+-+ REQ.)   - 3 times   +-+-+-+-+-+-+-+-+
//  V:   | SS            |       -/       V:   | SS            |
//       | ..            |                     | ..            |
//       +-+-+-+-+-+-+-+-+                     +-+-+-+-+-+-+-+-+
//
// The RFC requires I=1 in flexible mode; a packet without it is still well
// delimited, so it is accepted (has_picture_id tells the caller).
Result<Vp9Descriptor, ParseError> parse_vp9(Bytes payload) {
  ByteReader r(payload);
  uint8_t b0 = 0;
  if (!r.read_u8(b0)) return fail(ParseError::truncated);
  Vp9Descriptor d;
  d.inter_picture_predicted = (b0 & kPBit) != 0;
  d.has_layer_indices = (b0 & kLBit) != 0;
  d.flexible_mode = (b0 & kFBit) != 0;
  d.start_of_frame = (b0 & kBBit) != 0;
  d.end_of_frame = (b0 & kEBit) != 0;
  d.has_scalability_structure = (b0 & kVBit) != 0;
  d.not_reference_for_upper_spatial = (b0 & kZBit) != 0;

  if ((b0 & kIBit) && !read_picture_id(r, d)) return fail(ParseError::truncated);
  if (d.has_layer_indices) {
    if (!read_layer_indices(r, d)) return fail(ParseError::truncated);
    if (!d.flexible_mode) {
      if (!r.read_u8(d.tl0picidx)) return fail(ParseError::truncated);
      d.has_tl0picidx = true;
    }
  }
  if (d.flexible_mode && d.inter_picture_predicted) {
    if (auto ok = read_p_diffs(r, d); !ok) return fail(ok.error());
  }
  if (d.has_scalability_structure && !read_scalability_structure(r, d.ss)) return fail(ParseError::truncated);
  d.descriptor_size = r.position();
  return d;
}

bool is_vp9_keyframe(const Vp9Descriptor& d) {
  return d.start_of_frame && !d.inter_picture_predicted && d.spatial_id == 0;
}

bool is_vp9_keyframe(Bytes payload) {
  const auto d = parse_vp9(payload);
  return d.ok() && is_vp9_keyframe(*d);
}

}  // namespace sfu::rtp::codecs
