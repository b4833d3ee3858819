// libFuzzer target for the VP9 payload descriptor (RFC 9628 §4.2) and its
// scalability structure: parse, read every field and walk the picture group.
#include <cstddef>
#include <cstdint>

#include "rtp/codecs/keyframe.hpp"
#include "rtp/codecs/vp9.hpp"

using namespace sfu;
using namespace sfu::rtp::codecs;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_fields(const Vp9Descriptor& d, Bytes in) {
  check(d.descriptor_size >= 1 && d.descriptor_size <= in.size());
  check(d.picture_id < (d.picture_id_15bit ? 0x8000 : 0x80));
  check(d.has_picture_id || (d.picture_id == 0 && !d.picture_id_15bit));
  check(d.temporal_id < 8 && d.spatial_id < 8);
  check(d.has_layer_indices || (d.temporal_id == 0 && d.spatial_id == 0 && !d.switching_up_point &&
                                !d.inter_layer_dependency));
  check(d.has_tl0picidx == (d.has_layer_indices && !d.flexible_mode));
  check(d.has_tl0picidx || d.tl0picidx == 0);
  check(d.num_p_diffs <= kVp9MaxReferences);
  check((d.num_p_diffs > 0) == (d.flexible_mode && d.inter_picture_predicted));
  for (size_t i = d.num_p_diffs; i < kVp9MaxReferences; ++i) check(d.p_diff[i] == 0);
  for (size_t i = 0; i < d.num_p_diffs; ++i) check(d.p_diff[i] < 0x80);
}

void check_ss(const Vp9Descriptor& d, Bytes in) {
  const auto& ss = d.ss;
  if (!d.has_scalability_structure) {
    check(ss.num_spatial_layers == 0 && ss.gof.empty() && ss.num_gof_pictures == 0);
    return;
  }
  check(ss.num_spatial_layers >= 1 && ss.num_spatial_layers <= kVp9MaxSpatialLayers);
  for (size_t i = 0; i < kVp9MaxSpatialLayers; ++i) {
    if (i >= ss.num_spatial_layers || !ss.has_resolution) check(ss.width[i] == 0 && ss.height[i] == 0);
  }
  check(ss.has_gof || ss.num_gof_pictures == 0);
  if (!ss.gof.empty()) {
    check(ss.gof.data() >= in.data() && ss.gof.data() + ss.gof.size() <= in.data() + d.descriptor_size);
  }
  // The walk yields exactly N_G pictures and consumes exactly the view.
  size_t pictures = 0;
  size_t bytes = 0;
  Vp9GofReader r(ss);
  while (auto pic = r.next()) {
    check(pic->temporal_id < 8 && pic->num_references <= kVp9MaxReferences);
    for (size_t i = pic->num_references; i < kVp9MaxReferences; ++i) check(pic->p_diff[i] == 0);
    ++pictures;
    bytes += 1 + pic->num_references;
  }
  check(pictures == ss.num_gof_pictures);
  check(bytes == ss.gof.size());
}

bool same(const Vp9Descriptor& a, const Vp9Descriptor& b) {
  bool eq = a.has_picture_id == b.has_picture_id && a.picture_id == b.picture_id &&
            a.picture_id_15bit == b.picture_id_15bit && a.inter_picture_predicted == b.inter_picture_predicted &&
            a.has_layer_indices == b.has_layer_indices && a.flexible_mode == b.flexible_mode &&
            a.start_of_frame == b.start_of_frame && a.end_of_frame == b.end_of_frame &&
            a.has_scalability_structure == b.has_scalability_structure &&
            a.not_reference_for_upper_spatial == b.not_reference_for_upper_spatial &&
            a.temporal_id == b.temporal_id && a.switching_up_point == b.switching_up_point &&
            a.spatial_id == b.spatial_id && a.inter_layer_dependency == b.inter_layer_dependency &&
            a.has_tl0picidx == b.has_tl0picidx && a.tl0picidx == b.tl0picidx && a.num_p_diffs == b.num_p_diffs &&
            a.descriptor_size == b.descriptor_size && a.ss.num_spatial_layers == b.ss.num_spatial_layers &&
            a.ss.has_resolution == b.ss.has_resolution && a.ss.has_gof == b.ss.has_gof &&
            a.ss.num_gof_pictures == b.ss.num_gof_pictures && a.ss.gof.size() == b.ss.gof.size();
  for (size_t i = 0; i < kVp9MaxReferences; ++i) eq = eq && a.p_diff[i] == b.p_diff[i];
  for (size_t i = 0; i < kVp9MaxSpatialLayers; ++i) {
    eq = eq && a.ss.width[i] == b.ss.width[i] && a.ss.height[i] == b.ss.height[i];
  }
  return eq;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  const auto d = parse_vp9(in);
  const bool key = is_vp9_keyframe(in);
  check(key == is_keyframe(VideoCodec::vp9, in));
  if (!d.ok()) {
    check(!key);
    check(d.error() == ParseError::truncated || d.error() == ParseError::bad_value);
    return 0;
  }
  check_fields(*d, in);
  check_ss(*d, in);
  check(key == is_vp9_keyframe(*d));
  check(!key || (d->start_of_frame && !d->inter_picture_predicted && d->spatial_id == 0));
  // The descriptor does not depend on the bytes after it.
  const auto prefix = parse_vp9(in.first(d->descriptor_size));
  check(prefix.ok() && same(*prefix, *d));
  return 0;
}
