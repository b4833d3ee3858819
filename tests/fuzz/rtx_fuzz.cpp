// libFuzzer target for RFC 4588 retransmission: any packet parse_rtp accepts
// is wrapped into RTX and unwrapped again (must restore it minus padding);
// the input is also read as an RTX packet and unwrapped both into a buffer
// and in place, which must agree.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "rtp/rtp_packet.hpp"
#include "rtp/rtx.hpp"

using namespace sfu;
using namespace sfu::rtp;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same(Bytes a, Bytes b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// Fixed-header fields other than P, SSRC, sequence and PT, and the bytes
// between the fixed header and the payload, are the same in `a` and `b`.
void check_same_header(const RtpView& a, const RtpView& b) {
  check(a.marker() == b.marker() && a.timestamp() == b.timestamp() && a.csrc_count() == b.csrc_count());
  check(a.has_extension() == b.has_extension() && a.header_size() == b.header_size());
  check(same(a.packet().subspan(12, a.header_size() - 12), b.packet().subspan(12, b.header_size() - 12)));
}

void check_wrap(const RtpView& original, uint8_t k) {
  const RtxRewrite rtx_fields{0xA0A0A0A0u ^ k, uint16_t(k * 131), uint8_t(k & 0x7F)};
  std::vector<uint8_t> rtx_buf(rtx_wrapped_size(original));
  check(rtx_wrap(original, rtx_fields, MutBytes(rtx_buf).first(rtx_buf.size() - 1)) == 0);
  check(rtx_wrap(original, rtx_fields, rtx_buf) == rtx_buf.size());
  auto rtx = parse_rtp(rtx_buf);
  check(rtx.ok());
  check(rtx->ssrc() == rtx_fields.ssrc && rtx->sequence() == rtx_fields.sequence);
  check(rtx->payload_type() == rtx_fields.payload_type && !rtx->has_padding());
  check_same_header(original, *rtx);
  auto content = rtx_content(*rtx);
  check(content.ok() && content->original_sequence == original.sequence() &&
        same(content->payload, original.payload()));

  const RtxRewrite media{original.ssrc(), 0, original.payload_type()};
  std::vector<uint8_t> back(rtx_unwrapped_size(*rtx));
  auto n = rtx_unwrap(*rtx, media, back);
  check(n.ok() && *n == back.size());
  auto restored = parse_rtp(back);
  check(restored.ok() && restored->sequence() == original.sequence() && restored->ssrc() == original.ssrc());
  check(restored->payload_type() == original.payload_type() && same(restored->payload(), original.payload()));
  check(!restored->has_padding());
  check_same_header(original, *restored);
}

void check_unwrap(Bytes in, const RtpView& rtx, uint8_t k) {
  const RtxRewrite media{0x5151u * k, 0, uint8_t(k >> 1)};
  std::vector<uint8_t> out(in.size());
  auto n = rtx_unwrap(rtx, media, out);
  std::vector<uint8_t> buf(in.begin(), in.end());
  auto v = parse_rtp(buf);
  check(v.ok());
  auto in_place = rtx_unwrap_in_place(buf, *v, media);
  check(n.ok() == in_place.ok() && n.ok() == !(rtx.payload().size() < 2));
  if (!n) {
    check(n.error() == ParseError::truncated && in_place.error() == ParseError::truncated);
    check(same(buf, in));  // untouched on error
    return;
  }
  check(*n == rtx_unwrapped_size(rtx) && same(Bytes(out).first(*n), *in_place));
  check(in_place->data() == buf.data() + 2);
  auto restored = parse_rtp(*in_place);
  check(restored.ok() && restored->sequence() == load_be16(rtx.payload().data()));
  check(restored->ssrc() == media.ssrc && restored->payload_type() == media.payload_type);
  check(same(restored->payload(), rtx.payload().subspan(2)));
  check_same_header(rtx, *restored);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  auto v = parse_rtp(in);
  if (!v) return 0;
  const uint8_t k = in[size - 1];
  check_wrap(*v, k);
  check_unwrap(in, *v, k);
  return 0;
}
