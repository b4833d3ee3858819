// Full Intra Request (FIR), RFC 5104 §4.3.1: a PSFB (PT=206) message with
// FMT=4. The media source SSRC in the common part SHALL be 0 (§4.3.1.2); the
// FCI names each target:
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |V=2|P|  FMT=4  |    PT=206     |          length               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of packet sender                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of media source (0)                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                              SSRC                             |  x N
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Seq nr.       |    Reserved                                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <cstdint>
#include <span>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/feedback.hpp"
#include "rtp/rtcp/packed_list.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

struct FirEntry {
  static constexpr size_t kSize = 8;
  uint32_t ssrc = 0;    // the media sender asked for a decoder refresh point
  uint8_t seq_nr = 0;   // command sequence number, +1 per new request (§4.3.1.1)
  bool operator==(const FirEntry&) const = default;
  // Decodes 8 bytes the caller has already bounds-checked; the reserved
  // bits are ignored (§4.3.1.1: receivers ignore them).
  static constexpr FirEntry decode(const uint8_t* p) { return {load_be32(p), p[4]}; }
};

using FirEntries = PackedList<FirEntry, FirEntry::kSize, &FirEntry::decode>;

// A parsed FIR. Borrows from the packet it was parsed from.
struct FullIntraRequestView {
  FeedbackHeader header;
  FirEntries entries;  // at least one

  // Parses p. Errors: bad_type unless PT=206 FMT=4; truncated if the body
  // lacks the two SSRCs; bad_length if the FCI is empty or not a whole
  // number of 8-byte entries.
  static Result<FullIntraRequestView, ParseError> parse(const PacketView& p);
};

// A FIR to send. `entries` is borrowed for the duration of serialize_to.
struct FullIntraRequest {
  static constexpr size_t kMaxEntries = (0xffff - 2) / 2;  // what the length field can describe

  FeedbackHeader header;  // media_ssrc should stay 0 (§4.3.1.2)
  std::span<const FirEntry> entries;

  // Bytes serialize_to will write (whole packet, header included).
  size_t serialized_size() const { return kHeaderSize + kFeedbackHeaderSize + entries.size() * FirEntry::kSize; }
  // Writes the packet with zero reserved bits. Returns the bytes written, or
  // 0 when out is smaller than serialized_size() or entries is empty or too long.
  size_t serialize_to(MutBytes out) const;
};

}  // namespace sfu::rtp::rtcp
