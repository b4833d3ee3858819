// libFuzzer target for H.264 RTP payloads (RFC 6184): parse, read every
// field and cross-check the STAP-A walk and the key-frame rule.
#include <cstddef>
#include <cstdint>

#include "rtp/codecs/h264.hpp"
#include "rtp/codecs/keyframe.hpp"

using namespace sfu;
using namespace sfu::rtp::codecs;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// An independent count of STAP-A units (RFC 6184 §5.7.1); 0 when malformed.
size_t count_stap_a_units(Bytes in) {
  size_t count = 0;
  size_t pos = 1;
  while (pos < in.size()) {
    if (in.size() - pos < 2) return 0;
    const size_t n = size_t(in[pos]) << 8 | in[pos + 1];
    pos += 2;
    if (n == 0 || n > in.size() - pos) return 0;
    pos += n;
    ++count;
  }
  return count;
}

void check_info(const H264PacketInfo& info, Bytes in) {
  check(!in.empty() && (in[0] & 0x80) == 0);
  check(info.packet_type == (in[0] & 0x1f) && info.nri == ((in[0] >> 5) & 0x03));
  check(info.nal_type < 32 && info.nal_count >= 1);
  check(!info.keyframe || info.has_idr || info.has_sps);
  switch (info.packetization) {
    case H264Packetization::single_nal:
      check(info.packet_type >= 1 && info.packet_type <= 23 && info.nal_type == info.packet_type);
      check(info.nal_count == 1 && !info.fu_start && !info.fu_end);
      check(info.keyframe == (info.nal_type == h264_nal::kIdr || info.nal_type == h264_nal::kSps));
      break;
    case H264Packetization::stap_a: {
      check(info.packet_type == h264_nal::kStapA && !info.fu_start && !info.fu_end);
      const size_t units = count_stap_a_units(in);
      check(units >= 1 && info.nal_count == (units > 255 ? 255 : units));
      check(info.nal_type == (in[3] & 0x1f));
      check(info.keyframe == (info.has_idr || info.has_sps));
      break;
    }
    case H264Packetization::fu_a:
      check(info.packet_type == h264_nal::kFuA && in.size() >= 2 && info.nal_count == 1);
      check(!(info.fu_start && info.fu_end) && info.nal_type == (in[1] & 0x1f));
      check(info.keyframe == (info.fu_start && (info.has_idr || info.has_sps)));
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  const auto info = parse_h264(in);
  const bool key = is_h264_keyframe(in);
  check(key == is_keyframe(VideoCodec::h264, in));
  if (!info.ok()) {
    check(!key);
    const ParseError e = info.error();
    check(e == ParseError::truncated || e == ParseError::bad_length || e == ParseError::bad_value ||
          e == ParseError::bad_type);
    return 0;
  }
  check_info(*info, in);
  check(key == info->keyframe);
  return 0;
}
