#include "rtp/rtx.hpp"

#include <cstring>

#include "rtp/rtp_rewriter.hpp"

namespace sfu::rtp {
namespace {

// Rewrites the fixed header at `header` (already holding a copy of a parsed
// header): P cleared, SSRC, sequence number and PT replaced, marker kept.
void rewrite_header(MutBytes header, uint32_t ssrc, uint16_t seq, uint8_t pt) {
  header[0] = uint8_t(header[0] & ~0x20);
  set_payload_type(header, pt);
  set_sequence(header, seq);
  set_ssrc(header, ssrc);
}

}  // namespace

size_t rtx_wrap(const RtpView& original, const RtxRewrite& rtx, MutBytes out) {
  const size_t total = rtx_wrapped_size(original);
  if (out.size() < total || rtx.payload_type > 0x7F) return 0;
  const size_t header = original.header_size();
  const Bytes payload = original.payload();
  std::memcpy(out.data(), original.packet().data(), header);
  rewrite_header(out, rtx.ssrc, rtx.sequence, rtx.payload_type);
  store_be16(&out[header], original.sequence());  // out.size() >= total checked above
  if (!payload.empty()) std::memcpy(&out[header + kRtxOsnSize], payload.data(), payload.size());
  return total;
}

Result<RtxContent, ParseError> rtx_content(const RtpView& rtx) {
  const Bytes payload = rtx.payload();
  if (payload.size() < kRtxOsnSize) return fail(ParseError::truncated);
  return RtxContent{load_be16(payload.data()), payload.subspan(kRtxOsnSize)};
}

Result<size_t, ParseError> rtx_unwrap(const RtpView& rtx, const RtxRewrite& original, MutBytes out) {
  const auto content = rtx_content(rtx);
  if (!content) return fail(content.error());
  if (original.payload_type > 0x7F) return fail(ParseError::bad_value);
  const size_t header = rtx.header_size();
  const size_t total = header + content->payload.size();
  if (out.size() < total) return fail(ParseError::too_large);
  std::memcpy(out.data(), rtx.packet().data(), header);
  rewrite_header(out, original.ssrc, content->original_sequence, original.payload_type);
  if (!content->payload.empty()) std::memcpy(&out[header], content->payload.data(), content->payload.size());
  return total;
}

Result<MutBytes, ParseError> rtx_unwrap_in_place(MutBytes packet, const RtpView& rtx, const RtxRewrite& original) {
  if (rtx.packet().data() != packet.data() || rtx.packet().size() != packet.size()) {
    return fail(ParseError::bad_value);
  }
  const auto content = rtx_content(rtx);
  if (!content) return fail(content.error());
  if (original.payload_type > 0x7F) return fail(ParseError::bad_value);
  const size_t header = rtx.header_size();
  const uint16_t osn = content->original_sequence;
  // Header bytes [0, header) move to [2, header + 2), over the OSN; the
  // payload stays where it is and the padding falls off the end.
  std::memmove(&packet[kRtxOsnSize], packet.data(), header);
  MutBytes restored = packet.subspan(kRtxOsnSize, header + content->payload.size());
  rewrite_header(restored, original.ssrc, osn, original.payload_type);
  return restored;
}

}  // namespace sfu::rtp
