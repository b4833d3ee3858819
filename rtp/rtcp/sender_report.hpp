// Sender report (SR), RFC 3550 §6.4.1:
//
//         0                   1                   2                   3
//         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// header |V=2|P|    RC   |   PT=SR=200   |             length            |
//        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//        |                         SSRC of sender                        |
//        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
// sender |              NTP timestamp, most significant word             |
// info   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//        |             NTP timestamp, least significant word             |
//        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//        |                         RTP timestamp                         |
//        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//        |                     sender's packet count                     |
//        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//        |                      sender's octet count                     |
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
#include "rtp/ntp.hpp"
#include "rtp/rtcp/report_block.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

struct SenderInfo {
  uint64_t ntp_timestamp = 0;  // 32.32 fixed point seconds since 1900
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  bool operator==(const SenderInfo&) const = default;
};

using rtp::compact_ntp;  // rtp/ntp.hpp

// A parsed SR. Borrows from the packet it was parsed from.
struct SenderReportView {
  static constexpr size_t kFixedSize = 24;  // SSRC + sender info, after the header

  uint32_t ssrc = 0;
  SenderInfo info;
  ReportBlocks report_blocks;
  Bytes profile_extension;  // whatever follows the RC blocks; may be empty

  // Parses p (from parse_packet / CompoundReader). Errors: bad_type unless
  // PT=200; truncated if the body is shorter than SSRC + sender info;
  // bad_length if RC claims more report blocks than the length leaves room for.
  static Result<SenderReportView, ParseError> parse(const PacketView& p);
};

// An SR to send. Spans are borrowed for the duration of serialize_to.
struct SenderReport {
  uint32_t ssrc = 0;
  SenderInfo info;
  std::span<const ReportBlock> report_blocks;  // at most kMaxReportBlocks
  Bytes profile_extension;                     // zero-padded to a 32-bit boundary

  // Bytes serialize_to will write (whole packet, header included).
  size_t serialized_size() const;
  // Writes the packet into out. Returns the bytes written, or 0 when out is
  // smaller than serialized_size() or there are more than 31 report blocks.
  size_t serialize_to(MutBytes out) const;
};

}  // namespace sfu::rtp::rtcp
