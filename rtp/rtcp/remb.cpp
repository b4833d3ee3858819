#include "rtp/rtcp/remb.hpp"

namespace sfu::rtp::rtcp {

bool is_remb(const PacketView& p) {
  return p.type == pt::kPsFeedback && p.count == fmt::kAfb && p.body.size() >= kFeedbackHeaderSize + 4 &&
         load_be32(&p.body[kFeedbackHeaderSize]) == kRembIdentifier;
}

Result<RembView, ParseError> RembView::parse(const PacketView& p) {
  auto fb = parse_feedback(p, pt::kPsFeedback, fmt::kAfb);
  if (!fb) return fail(fb.error());
  ByteReader r(fb->fci);
  uint32_t id = 0;
  uint32_t word = 0;
  if (!r.read_u32(id)) return fail(ParseError::truncated);
  if (id != kRembIdentifier) return fail(ParseError::bad_type);
  if (!r.read_u32(word)) return fail(ParseError::truncated);
  Bytes ssrcs;
  if (!r.read_bytes(size_t(word >> 24) * 4, ssrcs)) return fail(ParseError::bad_length);
  RembView v;
  v.header = fb->header;
  v.encoded = {uint8_t((word >> 18) & 0x3f), word & kRembMaxMantissa};
  v.bitrate_bps = uint64_t(v.encoded.mantissa) << v.encoded.exponent;
  if ((v.bitrate_bps >> v.encoded.exponent) != v.encoded.mantissa) return fail(ParseError::bad_value);
  v.ssrcs = SsrcList(ssrcs);
  return v;
}

size_t Remb::serialize_to(MutBytes out) const {
  if (ssrcs.size() > kMaxRembSsrcs) return 0;
  const size_t size = serialized_size();
  if (!write_feedback_header(out, pt::kPsFeedback, fmt::kAfb, header, size)) return 0;
  const RembBitrate br = encode_remb_bitrate(bitrate_bps);
  ByteWriter w(out.subspan(kHeaderSize + kFeedbackHeaderSize, size - kHeaderSize - kFeedbackHeaderSize));
  w.write_u32(kRembIdentifier);
  w.write_u32(uint32_t(ssrcs.size()) << 24 | uint32_t(br.exponent) << 18 | br.mantissa);
  for (uint32_t s : ssrcs) w.write_u32(s);
  return w.ok() ? size : 0;
}

}  // namespace sfu::rtp::rtcp
