// In-place rewrites of a parsed RTP packet, for forwarding: the SFU copies a
// packet into a pooled buffer, parses it (parse_rtp) and rewrites SSRC,
// sequence number, timestamp, payload type, marker and header extension ids
// for each subscriber. Every function is O(header), allocation-free, and
// never changes the packet's size, so the RtpView stays valid and shows the
// new values (it reads the bytes live).
//
// Fixed-header fields (RFC 3550 §5.1):
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |V=2|P|X|  CC   |M|     PT      |       sequence number         |  bytes 0-3
// |                           timestamp                           |  bytes 4-7
// |           synchronization source (SSRC) identifier            |  bytes 8-11
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "rtp/rtp_packet.hpp"

namespace sfu::rtp {

// Why an extension rewrite was refused. Nothing is modified on error.
enum class RewriteError : uint8_t {
  foreign_view,     // the RtpView was not parsed from these very bytes
  not_rfc8285,      // the extension block has another profile (ExtensionForm::other)
  id_out_of_range,  // a mapped id does not fit the block's form (one-byte: 1..14)
  not_found,        // no element with the requested id
  size_mismatch,    // new value length differs from the element's
};

constexpr std::string_view to_string(RewriteError e) {
  switch (e) {
    case RewriteError::foreign_view:
      return "foreign_view";
    case RewriteError::not_rfc8285:
      return "not_rfc8285";
    case RewriteError::id_out_of_range:
      return "id_out_of_range";
    case RewriteError::not_found:
      return "not_found";
    case RewriteError::size_mismatch:
      return "size_mismatch";
  }
  return "unknown";
}

// ---- fixed header ----------------------------------------------------------------
// `packet` is a packet that parse_rtp accepted. Each returns false (writing
// nothing) when packet is shorter than the fixed header or the value is out
// of range; it cannot otherwise fail.

inline bool set_ssrc(MutBytes packet, uint32_t ssrc) {
  if (packet.size() < kFixedHeaderSize) return false;
  store_be32(&packet[8], ssrc);
  return true;
}

inline bool set_sequence(MutBytes packet, uint16_t seq) {
  if (packet.size() < kFixedHeaderSize) return false;
  store_be16(&packet[2], seq);
  return true;
}

inline bool set_timestamp(MutBytes packet, uint32_t timestamp) {
  if (packet.size() < kFixedHeaderSize) return false;
  store_be32(&packet[4], timestamp);
  return true;
}

// Keeps the marker bit; false when pt > 127.
inline bool set_payload_type(MutBytes packet, uint8_t pt) {
  if (packet.size() < kFixedHeaderSize || pt > 0x7F) return false;
  packet[1] = uint8_t((packet[1] & 0x80) | pt);
  return true;
}

inline bool set_marker(MutBytes packet, bool marker) {
  if (packet.size() < kFixedHeaderSize) return false;
  packet[1] = uint8_t((packet[1] & 0x7F) | (marker ? 0x80 : 0));
  return true;
}

// ---- header extensions (RFC 8285) --------------------------------------------------

// Incoming local id -> outgoing local id, indexed by the incoming id; 0 means
// strip the element. Built once per (producer, consumer) pair from the two
// SDP extmaps; default-constructed it strips everything.
struct ExtensionIdMap {
  std::array<uint8_t, 256> out{};

  constexpr void map(uint8_t in, uint8_t to) { out[in] = to; }
  // Every id maps to itself.
  static constexpr ExtensionIdMap identity() {
    ExtensionIdMap m;
    for (size_t i = 0; i < m.out.size(); ++i) m.out[i] = uint8_t(i);
    return m;
  }
};

// Rewrites every element's id through `map`, in place. A stripped element
// (mapped to 0) is overwritten with zero bytes, header and value: RFC 8285
// §4.1 allows padding bytes between elements, and §4.2/§4.3 define a zero
// byte as padding in both forms, so the block stays valid and the packet
// keeps its size (a block of only padding is legal, if wasteful). In the
// one-byte form every kept element must map to 1..14, else id_out_of_range
// and the packet is untouched (the caller then re-serialises with RtpHeader
// to switch forms). `view` must come from parse_rtp(packet).
Result<void, RewriteError> remap_extension_ids(MutBytes packet, const RtpView& view, const ExtensionIdMap& map);

// Writable bytes of the first element with `id` (inside `packet`), or
// nullopt when there is none or `view` is not a view of `packet`. Write a
// same-sized value through the ext:: codecs, e.g. write_transport_sequence.
std::optional<MutBytes> mutable_extension(MutBytes packet, const RtpView& view, uint8_t id);

// Overwrites the value of the first element with `id` by `value`, which must
// have the same length (size_mismatch otherwise).
Result<void, RewriteError> set_extension(MutBytes packet, const RtpView& view, uint8_t id, Bytes value);

// An element to add (copy_with_extensions): its id and value.
struct ExtensionToAdd {
  uint8_t id = 0;
  Bytes value;
};

// Copies `view`'s packet into `out` with its header extension block rebuilt
// (RFC 8285): every element of the packet mapped through `map` (0 drops it:
// its bytes become padding, §4.1, as in remap_extension_ids, so forwarded
// packets never shrink below what the producer's bitrate was measured on),
// then each of `add` whose id no mapped element has, in the one-byte form
// (§4.2) when every id is 1..14 and every value 1..16 bytes, else the
// two-byte form (§4.3, ids 1..255, values 0..255 bytes); zero-padded to 32
// bits. No element at all: no block, X = 0.
// Fixed header, CSRCs, payload and RTP padding are copied as they are. One
// pass, no allocation. Returns the bytes written, or 0 when `out` is too
// small, the packet's block is not RFC 8285, or an element cannot be
// written (id 0, or a value over 255 bytes).
size_t copy_with_extensions(const RtpView& view, const ExtensionIdMap& map, std::span<const ExtensionToAdd> add,
                            MutBytes out);

// The fixed-header fields of an outgoing copy (write_outgoing).
struct OutgoingHeader {
  uint32_t ssrc = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint8_t payload_type = 0;  // 0..127
  bool marker = false;
};

// Where write_outgoing put the packet's parts, for in-place writes after it
// (a codec's payload descriptor) and for SRTP.
struct OutgoingLayout {
  size_t length = 0;          // bytes written; 0 on failure
  size_t payload_offset = 0;  // the original payload (after the OSN for RTX)
  size_t payload_size = 0;    // without RTP padding
  // Where the value of set[i] (i < 4) was written in the copy; 0 when it
  // was not (a value known only once the length is: transport-wide seq).
  std::array<uint16_t, 4> set_at{};
};

// The send path's one pass from a parsed incoming packet to a subscriber's
// copy: copy_with_extensions with two differences, then the fixed header
// set to `header`.
//  - An element of `set` *replaces* the value of a mapped element with its
//    id (the sender's own send time and transport-wide sequence number), or
//    is added when there is none.
//  - With `rtx_osn`, the copy is the RFC 4588 RTX twin of the rewritten
//    packet: P cleared, the OSN in front of the payload, padding left out.
// `header` and `set` apply to the copy only; `view` is only read and must
// not overlap `out`. Fails (length 0) as copy_with_extensions does, and when
// header.payload_type > 127.
OutgoingLayout write_outgoing(const RtpView& view, const ExtensionIdMap& map, std::span<const ExtensionToAdd> set,
                              const OutgoingHeader& header, std::optional<uint16_t> rtx_osn, MutBytes out);

}  // namespace sfu::rtp
