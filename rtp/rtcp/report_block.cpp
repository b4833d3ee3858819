#include "rtp/rtcp/report_block.hpp"

#include <algorithm>

namespace sfu::rtp::rtcp {

ReportBlock ReportBlock::decode(const uint8_t* p) {
  ReportBlock b;
  b.ssrc = load_be32(p);
  b.fraction_lost = p[4];
  // Sign-extend the 24-bit two's-complement value.
  const uint32_t lost = load_be24(p + 5);
  b.cumulative_lost = (lost & 0x800000) ? int32_t(lost) - 0x1000000 : int32_t(lost);
  b.extended_highest_seq = load_be32(p + 8);
  b.jitter = load_be32(p + 12);
  b.last_sr = load_be32(p + 16);
  b.delay_since_last_sr = load_be32(p + 20);
  return b;
}

Result<ReportBlock, ParseError> ReportBlock::parse(Bytes data) {
  if (data.size() < kSize) return fail(ParseError::truncated);
  return decode(data.data());
}

size_t ReportBlock::serialize_to(MutBytes out) const {
  if (out.size() < kSize) return 0;
  uint8_t* p = out.data();  // size checked above
  store_be32(p, ssrc);
  p[4] = fraction_lost;
  const int32_t lost = std::clamp(cumulative_lost, kMinCumulativeLost, kMaxCumulativeLost);
  store_be24(p + 5, uint32_t(lost) & 0xffffff);
  store_be32(p + 8, extended_highest_seq);
  store_be32(p + 12, jitter);
  store_be32(p + 16, last_sr);
  store_be32(p + 20, delay_since_last_sr);
  return kSize;
}

Result<ReportSection, ParseError> parse_report_section(Bytes rest, uint8_t rc) {
  const size_t blocks_size = size_t(rc) * ReportBlock::kSize;
  if (rest.size() < blocks_size) return fail(ParseError::bad_length);
  return ReportSection{ReportBlocks(rest.first(blocks_size)), rest.subspan(blocks_size)};
}

size_t write_report_section(std::span<const ReportBlock> blocks, Bytes extension, MutBytes out) {
  const size_t size = report_section_size(blocks.size(), extension.size());
  if (out.size() < size) return 0;
  size_t pos = 0;
  for (const ReportBlock& b : blocks) pos += b.serialize_to(out.subspan(pos));  // room checked above
  ByteWriter w(out.subspan(pos));
  w.write_bytes(extension);
  w.write_zeros(size - pos - extension.size());
  return w.ok() ? size : 0;
}

}  // namespace sfu::rtp::rtcp
