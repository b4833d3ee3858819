#include "rtp/rtcp/bye.hpp"

namespace sfu::rtp::rtcp {

Result<ByeView, ParseError> ByeView::parse(const PacketView& p) {
  if (p.type != pt::kBye) return fail(ParseError::bad_type);
  ByteReader r(p.body);
  Bytes ssrcs;
  if (!r.read_bytes(size_t(p.count) * 4, ssrcs)) return fail(ParseError::bad_length);
  ByeView v;
  v.ssrcs = SsrcList(ssrcs);
  uint8_t len = 0;
  if (r.read_u8(len)) {
    Bytes text;
    if (!r.read_bytes(len, text)) return fail(ParseError::bad_length);
    // Byte-to-char view of the text; no struct punning involved.
    v.reason = std::string_view(reinterpret_cast<const char*>(text.data()), text.size());
  }
  return v;
}

size_t Bye::serialized_size() const {
  const size_t reason_size = reason.empty() ? 0 : (1 + reason.size() + 3) / 4 * 4;
  return kHeaderSize + ssrcs.size() * 4 + reason_size;
}

size_t Bye::serialize_to(MutBytes out) const {
  if (ssrcs.size() > kMaxByeSsrcs || reason.size() > kMaxByeReasonLength) return 0;
  const size_t size = serialized_size();
  if (out.size() < size || !write_header(out, uint8_t(ssrcs.size()), pt::kBye, size)) return 0;
  ByteWriter w(out.subspan(kHeaderSize, size - kHeaderSize));
  for (uint32_t s : ssrcs) w.write_u32(s);
  if (!reason.empty()) {
    w.write_u8(uint8_t(reason.size()));
    w.write_bytes(Bytes(reinterpret_cast<const uint8_t*>(reason.data()), reason.size()));
    w.write_zeros(w.remaining());
  }
  return w.ok() ? size : 0;
}

}  // namespace sfu::rtp::rtcp
