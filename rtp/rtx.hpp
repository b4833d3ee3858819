// RTP retransmission payload format (RFC 4588 §4): the retransmitted packet
// travels on its own SSRC, sequence space and payload type, with the original
// sequence number (OSN) in front of the original payload.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         RTP Header                            |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            OSN                |                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
// |                  Original RTP Packet Payload                  |
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// The RTX header copies the original's marker, timestamp, CSRCs and header
// extensions (RFC 4588 §4: "the same as the original packet" except SSRC,
// sequence number and payload type). Padding is never carried over: RFC 4588
// §4 says the original's padding MUST be removed, and an RTX packet's own
// padding is not part of the original payload. Bandwidth probes are RTX
// packets with padding and no payload; they carry no OSN, so check
// rtx_is_padding_only() before unwrapping.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtp_packet.hpp"

namespace sfu::rtp {

inline constexpr size_t kRtxOsnSize = 2;

// The fields that differ between a packet and its RTX or original twin.
struct RtxRewrite {
  uint32_t ssrc = 0;
  uint16_t sequence = 0;     // ignored by unwrapping: the OSN is used
  uint8_t payload_type = 0;  // 0..127
};

// Bytes rtx_wrap() writes for `original`: its header, the OSN, its payload.
inline size_t rtx_wrapped_size(const RtpView& original) {
  return original.header_size() + kRtxOsnSize + original.payload().size();
}

// Writes the RTX packet for `original` into `out` (which must not overlap
// the original's bytes): header copied with P cleared and SSRC, sequence
// number and PT from `rtx`, then the OSN, then the payload without padding.
// Returns bytes written (rtx_wrapped_size), or 0 when out is too small or
// rtx.payload_type > 127.
size_t rtx_wrap(const RtpView& original, const RtxRewrite& rtx, MutBytes out);

// True for a payload-less RTX packet (padding only, used for probing), which
// has no OSN and nothing to restore.
inline bool rtx_is_padding_only(const RtpView& rtx) { return rtx.payload().empty(); }

// What an RTX packet carries: the original sequence number and payload.
struct RtxContent {
  uint16_t original_sequence = 0;
  Bytes payload;  // into the RTX packet, without OSN and padding
};

// Reads the OSN and original payload of a parsed RTX packet; truncated when
// its payload is shorter than the 2-byte OSN (padding-only probes included).
Result<RtxContent, ParseError> rtx_content(const RtpView& rtx);

// Bytes rtx_unwrap() writes: the RTX packet minus OSN and padding; 0 when
// its payload is shorter than the OSN.
inline size_t rtx_unwrapped_size(const RtpView& rtx) {
  return rtx.payload().size() < kRtxOsnSize ? 0 : rtx.header_size() + rtx.payload().size() - kRtxOsnSize;
}

// Restores the original packet from a parsed RTX packet into `out` (no
// overlap with the RTX bytes): header with P cleared, sequence number = OSN,
// SSRC and PT from `original` (its `sequence` is ignored), then the payload.
// Fails with truncated when the payload has no OSN, too_large when out is
// smaller than rtx_unwrapped_size(), bad_value when PT > 127.
Result<size_t, ParseError> rtx_unwrap(const RtpView& rtx, const RtxRewrite& original, MutBytes out);

// Same, in place: `packet` is the buffer `rtx` was parsed from. The header
// (shorter than any payload worth retransmitting) moves 2 bytes forward over
// the OSN, so the restored packet is the returned sub-span, starting 2 bytes
// into `packet`. Errors as rtx_unwrap, plus bad_value when `rtx` is not a
// view of `packet`; nothing is modified on error. `rtx` is stale afterwards.
Result<MutBytes, ParseError> rtx_unwrap_in_place(MutBytes packet, const RtpView& rtx, const RtxRewrite& original);

}  // namespace sfu::rtp
