// VP9 RTP payload descriptor (RFC 9628 §4.2, flexible and non-flexible
// modes) including the scalability structure (RFC 9628 §4.2.1), and the key
// frame rule an SFU uses to switch layers.
//
// All functions take the RTP payload: the bytes after the RTP header and any
// header extension, with RTP padding already removed by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"

namespace sfu::rtp::codecs {

inline constexpr size_t kVp9MaxSpatialLayers = 8;  // N_S is 3 bits: N_S + 1 layers
inline constexpr size_t kVp9MaxReferences = 3;     // P_DIFFs per picture (flexible mode, or R in SS)

// The scalability structure (V=1). The picture-group descriptions are kept as
// a validated view into the payload (no copy, no allocation): walk them with
// Vp9GofReader while the payload bytes are alive.
struct Vp9ScalabilityStructure {
  uint8_t num_spatial_layers = 0;  // N_S + 1
  bool has_resolution = false;     // Y: width/height below are meaningful
  uint16_t width[kVp9MaxSpatialLayers] = {};   // per spatial layer, 0 beyond num_spatial_layers
  uint16_t height[kVp9MaxSpatialLayers] = {};
  bool has_gof = false;            // G: N_G is present
  uint8_t num_gof_pictures = 0;    // N_G (0 when G=0)
  Bytes gof;                       // the N_G picture descriptions, already bounds checked
};

// One picture of the picture group (GOF) in the scalability structure.
struct Vp9GofPicture {
  uint8_t temporal_id = 0;          // TID, 3 bits
  bool switching_up_point = false;  // U
  uint8_t num_references = 0;       // R, 0..3
  uint8_t p_diff[kVp9MaxReferences] = {};

  friend bool operator==(const Vp9GofPicture&, const Vp9GofPicture&) = default;
};

// Walks the picture-group descriptions of a parsed scalability structure:
//   Vp9GofReader r(d.ss);
//   while (auto pic = r.next()) { ... }
// Yields exactly ss.num_gof_pictures pictures for a structure produced by
// parse_vp9; stops early (never reads outside ss.gof) on a hand-made one.
class Vp9GofReader {
 public:
  explicit Vp9GofReader(const Vp9ScalabilityStructure& ss) : reader_(ss.gof), left_(ss.num_gof_pictures) {}

  // The next picture, or nullopt after the last one.
  std::optional<Vp9GofPicture> next();

 private:
  ByteReader reader_;
  uint8_t left_;
};

// The fields of one VP9 payload descriptor. Optional fields carry a has_
// flag (or the bit that announces them); absent values are 0. Without layer
// indices (L=0) spatial_id and temporal_id are 0, which is what a stream
// without scalability means. `descriptor_size` is where the VP9 frame data
// starts in the payload. `ss.gof` points into the parsed payload.
struct Vp9Descriptor {
  bool has_picture_id = false;           // I
  uint16_t picture_id = 0;               // 7 or 15 bits
  bool picture_id_15bit = false;         // M
  bool inter_picture_predicted = false;  // P
  bool has_layer_indices = false;        // L
  bool flexible_mode = false;            // F
  bool start_of_frame = false;           // B
  bool end_of_frame = false;             // E
  bool has_scalability_structure = false;  // V: `ss` is meaningful
  bool not_reference_for_upper_spatial = false;  // Z

  uint8_t temporal_id = 0;               // TID, 3 bits
  bool switching_up_point = false;       // U
  uint8_t spatial_id = 0;                // SID, 3 bits
  bool inter_layer_dependency = false;   // D

  bool has_tl0picidx = false;            // non-flexible mode with L=1
  uint8_t tl0picidx = 0;

  uint8_t num_p_diffs = 0;               // flexible mode with P=1: 1..3
  uint8_t p_diff[kVp9MaxReferences] = {};

  Vp9ScalabilityStructure ss;
  size_t descriptor_size = 0;
};

// Parses the payload descriptor at the start of `payload`, every field
// bounds-checked. Errors: ParseError::truncated when any announced octet
// (PictureID, layer indices, TL0PICIDX, P_DIFF, SS sizes, N_G, GOF entries or
// their P_DIFFs) is missing, or the payload is empty; ParseError::bad_value
// when a fourth P_DIFF is announced (N=1 on the third). Pure, no allocation.
Result<Vp9Descriptor, ParseError> parse_vp9(Bytes payload);

// The key-frame rule (RFC 9628 §4.2 semantics of P, B and SID): the packet
// starts a frame (B=1) that is not inter-picture predicted (P=0) at the base
// spatial layer (SID=0, which is also what L=0 means). Such a frame can be
// decoded without any earlier picture, so an SFU may switch a subscriber to
// this stream here. Upper spatial layers with P=0 are not key frames on their
// own: they still depend on the base layer of the same picture.
bool is_vp9_keyframe(const Vp9Descriptor& d);

// Parses `payload` and applies the rule above; malformed payloads are not
// key frames.
bool is_vp9_keyframe(Bytes payload);

}  // namespace sfu::rtp::codecs
