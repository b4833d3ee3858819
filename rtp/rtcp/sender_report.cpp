#include "rtp/rtcp/sender_report.hpp"

namespace sfu::rtp::rtcp {

Result<SenderReportView, ParseError> SenderReportView::parse(const PacketView& p) {
  if (p.type != pt::kSenderReport) return fail(ParseError::bad_type);
  ByteReader r(p.body);
  SenderReportView v;
  r.read_u32(v.ssrc);
  r.read_u64(v.info.ntp_timestamp);
  r.read_u32(v.info.rtp_timestamp);
  r.read_u32(v.info.packet_count);
  r.read_u32(v.info.octet_count);
  if (!r.ok()) return fail(ParseError::truncated);
  auto section = parse_report_section(r.rest(), p.count);
  if (!section) return fail(section.error());
  v.report_blocks = section->blocks;
  v.profile_extension = section->profile_extension;
  return v;
}

size_t SenderReport::serialized_size() const {
  return kHeaderSize + SenderReportView::kFixedSize +
         report_section_size(report_blocks.size(), profile_extension.size());
}

size_t SenderReport::serialize_to(MutBytes out) const {
  const size_t size = serialized_size();
  if (report_blocks.size() > kMaxReportBlocks || out.size() < size) return 0;
  if (!write_header(out, uint8_t(report_blocks.size()), pt::kSenderReport, size)) return 0;
  ByteWriter w(out.subspan(kHeaderSize));
  w.write_u32(ssrc);
  w.write_u64(info.ntp_timestamp);
  w.write_u32(info.rtp_timestamp);
  w.write_u32(info.packet_count);
  w.write_u32(info.octet_count);
  if (!w.ok()) return 0;
  const size_t fixed = kHeaderSize + SenderReportView::kFixedSize;
  if (write_report_section(report_blocks, profile_extension, out.subspan(fixed)) != size - fixed) return 0;
  return size;
}

}  // namespace sfu::rtp::rtcp
