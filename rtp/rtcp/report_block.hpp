// The reception report block carried by SR and RR packets, RFC 3550 §6.4.1:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
// |                 SSRC_1 (SSRC of first source)                 |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | fraction lost |       cumulative number of packets lost       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           extended highest sequence number received           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                      interarrival jitter                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         last SR (LSR)                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   delay since last SR (DLSR)                  |
// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/packed_list.hpp"

namespace sfu::rtp::rtcp {

// RC is five bits: at most 31 report blocks per SR/RR (RFC 3550 §6.4.1).
inline constexpr size_t kMaxReportBlocks = 31;

struct ReportBlock {
  static constexpr size_t kSize = 24;
  // The cumulative-lost field is a signed 24-bit integer (RFC 3550 §6.4.1:
  // duplicates can make it negative).
  static constexpr int32_t kMaxCumulativeLost = 0x7fffff;
  static constexpr int32_t kMinCumulativeLost = -0x800000;

  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;          // fixed point, lost / expected * 256
  int32_t cumulative_lost = 0;        // clamped to 24 bits when written
  uint32_t extended_highest_seq = 0;  // cycles << 16 | highest sequence number
  uint32_t jitter = 0;                // in RTP timestamp units
  uint32_t last_sr = 0;               // middle 32 bits of the last SR's NTP timestamp
  uint32_t delay_since_last_sr = 0;   // units of 1/65536 s

  bool operator==(const ReportBlock&) const = default;

  // Decodes a block from 24 bytes the caller has already bounds-checked.
  static ReportBlock decode(const uint8_t* p);
  // Parses the first 24 bytes of `data`; truncated if shorter.
  static Result<ReportBlock, ParseError> parse(Bytes data);

  // Always kSize.
  static constexpr size_t serialized_size() { return kSize; }
  // Writes the 24-byte block into out; returns 24, or 0 if out is smaller.
  // cumulative_lost is clamped into [kMinCumulativeLost, kMaxCumulativeLost].
  size_t serialize_to(MutBytes out) const;
};

// The report blocks of a parsed SR or RR, decoded on access.
using ReportBlocks = PackedList<ReportBlock, ReportBlock::kSize, &ReportBlock::decode>;

// What follows the fixed part of an SR or RR: RC report blocks, then
// optional profile-specific extensions (RFC 3550 §6.4.1), which we keep as
// opaque bytes.
struct ReportSection {
  ReportBlocks blocks;
  Bytes profile_extension;
};

// Splits `rest` into `rc` report blocks and the extension behind them;
// bad_length if rest is shorter than rc blocks.
Result<ReportSection, ParseError> parse_report_section(Bytes rest, uint8_t rc);

// Size of `blocks` report blocks plus an extension of `extension` bytes
// padded to a 32-bit boundary.
constexpr size_t report_section_size(size_t blocks, size_t extension) {
  return blocks * ReportBlock::kSize + (extension + 3) / 4 * 4;
}

// Writes the blocks then the zero-padded extension at the start of out.
// Returns the bytes written, or 0 if out is smaller than report_section_size.
size_t write_report_section(std::span<const ReportBlock> blocks, Bytes extension, MutBytes out);

}  // namespace sfu::rtp::rtcp
