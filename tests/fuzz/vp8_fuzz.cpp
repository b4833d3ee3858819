// libFuzzer target for the VP8 payload descriptor (RFC 7741): parse, read
// every field, read the key-frame header, then rewrite PictureID/TL0PICIDX
// in a copy and check that exactly those fields changed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtp/codecs/keyframe.hpp"
#include "rtp/codecs/vp8.hpp"

using namespace sfu;
using namespace sfu::rtp::codecs;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_fields(const Vp8Descriptor& d, size_t size) {
  check(d.descriptor_size >= 1 && d.descriptor_size <= size && d.descriptor_size <= 6);
  check(d.partition_index < 8 && d.tid < 4 && d.keyidx < 32);
  check(d.picture_id < (d.picture_id_15bit ? 0x8000 : 0x80));
  check(d.has_picture_id || (d.picture_id == 0 && !d.picture_id_15bit));
  check(d.has_tl0picidx || d.tl0picidx == 0);
  check(d.has_tid || (d.tid == 0 && !d.layer_sync));
  check(d.has_keyidx || d.keyidx == 0);
}

void check_frame_info(const Vp8FrameInfo& f, const Vp8Descriptor& d) {
  check(!f.keyframe || (d.start_of_partition && d.partition_index == 0));
  check(!f.has_dimensions || f.keyframe);
  check(f.width < 0x4000 && f.height < 0x4000 && f.horizontal_scale < 4 && f.vertical_scale < 4);
  check(f.has_dimensions || (f.width == 0 && f.height == 0));
}

// Rewrites a copy and checks the re-parsed descriptor and every other byte.
void check_rewrite(Bytes in, const Vp8Descriptor& d, const Vp8FrameInfo& info) {
  // New values derived from the input so the fuzzer steers them too.
  const uint16_t pid = in.size() >= 2 ? uint16_t(in[in.size() - 1] << 8 | in[in.size() - 2]) : 0x7fff;
  const uint8_t tl0 = uint8_t(in.size() * 31);

  std::vector<uint8_t> copy(in.begin(), in.end());
  check(rewrite_vp8(MutBytes(copy), d, pid, tl0));
  const auto r = parse_vp8(Bytes(copy));
  check(r.ok());
  Vp8Descriptor expected = d;
  if (d.has_picture_id) expected.picture_id = d.picture_id_15bit ? (pid & 0x7fff) : (pid & 0x7f);
  if (d.has_tl0picidx) expected.tl0picidx = tl0;
  check(*r == expected);
  check(vp8_frame_info(Bytes(copy), *r) == info);

  const size_t pid_begin = 2;
  const size_t pid_end = d.has_picture_id ? pid_begin + (d.picture_id_15bit ? 2 : 1) : pid_begin;
  for (size_t i = 0; i < in.size(); ++i) {
    const bool in_pid = d.has_picture_id && i >= pid_begin && i < pid_end;
    const bool in_tl0 = d.has_tl0picidx && i == pid_end;
    if (!in_pid && !in_tl0) check(copy[i] == in[i]);
  }

  // A span cut inside the descriptor is refused without writing.
  if ((d.has_picture_id || d.has_tl0picidx) && d.descriptor_size > 0) {
    std::vector<uint8_t> cut(in.begin(), in.end());
    check(!rewrite_vp8(MutBytes(cut).first(d.descriptor_size - 1), d, pid, tl0));
    check(std::equal(cut.begin(), cut.end(), in.begin()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  const auto d = parse_vp8(in);
  const bool key = is_vp8_keyframe(in);
  check(key == is_keyframe(VideoCodec::vp8, in));
  if (!d.ok()) {
    check(!key);
    return 0;
  }
  check_fields(*d, size);
  const Vp8FrameInfo info = vp8_frame_info(in, *d);
  check_frame_info(info, *d);
  check(info.keyframe == key);
  // The descriptor does not depend on the bytes after it.
  const auto prefix = parse_vp8(in.first(d->descriptor_size));
  check(prefix.ok() && *prefix == *d);
  check_rewrite(in, *d, info);
  return 0;
}
