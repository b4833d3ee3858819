// Receiver report (RR), RFC 3550 §6.4.2:
//
//         0                   1                   2                   3
//         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// header |V=2|P|    RC   |   PT=RR=201   |             length            |
//        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//        |                     SSRC of packet sender                     |
//        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
// report :              report blocks (RC x 24 bytes)                    :
// blocks +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
//        :               profile-specific extensions                     :
#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/report_block.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

// A parsed RR. Borrows from the packet it was parsed from.
struct ReceiverReportView {
  static constexpr size_t kFixedSize = 4;  // SSRC of packet sender

  uint32_t ssrc = 0;
  ReportBlocks report_blocks;
  Bytes profile_extension;  // whatever follows the RC blocks; may be empty

  // Parses p (from parse_packet / CompoundReader). Errors: bad_type unless
  // PT=201; truncated if the body lacks the sender SSRC; bad_length if RC
  // claims more report blocks than the length leaves room for.
  static Result<ReceiverReportView, ParseError> parse(const PacketView& p);
};

// An RR to send (an RR with no blocks is the RFC 3550 §6.4 "empty RR" that
// heads a compound when there is nothing to report). Spans are borrowed for
// the duration of serialize_to.
struct ReceiverReport {
  uint32_t ssrc = 0;
  std::span<const ReportBlock> report_blocks;  // at most kMaxReportBlocks
  Bytes profile_extension;                     // zero-padded to a 32-bit boundary

  // Bytes serialize_to will write (whole packet, header included).
  size_t serialized_size() const;
  // Writes the packet into out. Returns the bytes written, or 0 when out is
  // smaller than serialized_size() or there are more than 31 report blocks.
  size_t serialize_to(MutBytes out) const;
};

}  // namespace sfu::rtp::rtcp
