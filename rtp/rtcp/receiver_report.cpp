#include "rtp/rtcp/receiver_report.hpp"

namespace sfu::rtp::rtcp {

Result<ReceiverReportView, ParseError> ReceiverReportView::parse(const PacketView& p) {
  if (p.type != pt::kReceiverReport) return fail(ParseError::bad_type);
  ByteReader r(p.body);
  ReceiverReportView v;
  if (!r.read_u32(v.ssrc)) return fail(ParseError::truncated);
  auto section = parse_report_section(r.rest(), p.count);
  if (!section) return fail(section.error());
  v.report_blocks = section->blocks;
  v.profile_extension = section->profile_extension;
  return v;
}

size_t ReceiverReport::serialized_size() const {
  return kHeaderSize + ReceiverReportView::kFixedSize +
         report_section_size(report_blocks.size(), profile_extension.size());
}

size_t ReceiverReport::serialize_to(MutBytes out) const {
  const size_t size = serialized_size();
  if (report_blocks.size() > kMaxReportBlocks || out.size() < size) return 0;
  if (!write_header(out, uint8_t(report_blocks.size()), pt::kReceiverReport, size)) return 0;
  store_be32(&out[kHeaderSize], ssrc);  // size checked above
  const size_t fixed = kHeaderSize + ReceiverReportView::kFixedSize;
  if (write_report_section(report_blocks, profile_extension, out.subspan(fixed)) != size - fixed) return 0;
  return size;
}

}  // namespace sfu::rtp::rtcp
