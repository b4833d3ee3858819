#include "rtp/rtcp/full_intra_request.hpp"

namespace sfu::rtp::rtcp {

Result<FullIntraRequestView, ParseError> FullIntraRequestView::parse(const PacketView& p) {
  auto fb = parse_feedback(p, pt::kPsFeedback, fmt::kFir);
  if (!fb) return fail(fb.error());
  if (fb->fci.empty() || fb->fci.size() % FirEntry::kSize != 0) return fail(ParseError::bad_length);
  FullIntraRequestView v;
  v.header = fb->header;
  v.entries = FirEntries(fb->fci);
  return v;
}

size_t FullIntraRequest::serialize_to(MutBytes out) const {
  const size_t size = serialized_size();
  if (entries.empty() || entries.size() > kMaxEntries) return 0;
  if (!write_feedback_header(out, pt::kPsFeedback, fmt::kFir, header, size)) return 0;
  uint8_t* p = out.data() + kHeaderSize + kFeedbackHeaderSize;  // size checked above
  for (const FirEntry& e : entries) {
    store_be32(p, e.ssrc);
    p[4] = e.seq_nr;
    store_be24(p + 5, 0);  // reserved, SHALL be 0
    p += FirEntry::kSize;
  }
  return size;
}

}  // namespace sfu::rtp::rtcp
