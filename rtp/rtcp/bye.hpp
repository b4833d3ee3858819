// Goodbye (BYE), RFC 3550 §6.6:
//
//        0                   1                   2                   3
//        0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//       |V=2|P|    SC   |   PT=BYE=203  |             length            |
//       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//       |                           SSRC/CSRC                           |
//       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//       :                              ...                              :
//       +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
// (opt) |     length    |               reason for leaving            ...
//       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The reason is padded with null octets to the next 32-bit boundary.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/packed_list.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

inline constexpr size_t kMaxByeSsrcs = 31;         // SC is five bits
inline constexpr size_t kMaxByeReasonLength = 255;  // one length octet

// A parsed BYE. Borrows from the packet it was parsed from.
struct ByeView {
  SsrcList ssrcs;
  // Empty when absent: a zero length octet reads the same as null padding.
  std::string_view reason;

  // Parses p. Errors: bad_type unless PT=203; bad_length if SC claims more
  // SSRCs than present or the reason's length octet runs past the packet.
  // The padding after the reason is not inspected.
  static Result<ByeView, ParseError> parse(const PacketView& p);
};

// A BYE to send. Spans are borrowed for the duration of serialize_to.
struct Bye {
  std::span<const uint32_t> ssrcs;  // at most kMaxByeSsrcs
  std::string_view reason;          // omitted when empty; at most 255 bytes

  // Bytes serialize_to will write (whole packet, header included).
  size_t serialized_size() const;
  // Writes the packet. Returns the bytes written, or 0 when out is smaller
  // than serialized_size(), there are more than 31 SSRCs or the reason is
  // longer than 255 bytes.
  size_t serialize_to(MutBytes out) const;
};

}  // namespace sfu::rtp::rtcp
