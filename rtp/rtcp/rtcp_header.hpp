// The RTCP common header (RFC 3550 §6.4.1) and compound-packet iteration
// (RFC 3550 §6.1, RFC 5506 reduced-size RTCP accepted).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |V=2|P|  RC/FMT |       PT      |     length (32-bit words - 1) |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"

namespace sfu::rtp::rtcp {

namespace pt {
inline constexpr uint8_t kSenderReport = 200;
inline constexpr uint8_t kReceiverReport = 201;
inline constexpr uint8_t kSdes = 202;
inline constexpr uint8_t kBye = 203;
inline constexpr uint8_t kApp = 204;
inline constexpr uint8_t kRtpFeedback = 205;  // RFC 4585 RTPFB
inline constexpr uint8_t kPsFeedback = 206;   // RFC 4585 PSFB
}  // namespace pt

namespace fmt {
inline constexpr uint8_t kNack = 1;            // RTPFB, RFC 4585 §6.2.1
inline constexpr uint8_t kTransportCc = 15;    // RTPFB, draft-holmer-rmcat-transport-wide-cc-extensions-01
inline constexpr uint8_t kPli = 1;             // PSFB, RFC 4585 §6.3.1
inline constexpr uint8_t kFir = 4;             // PSFB, RFC 5104 §4.3.1
inline constexpr uint8_t kAfb = 15;            // PSFB application layer feedback (REMB)
}  // namespace fmt

inline constexpr size_t kHeaderSize = 4;

// One RTCP packet inside a compound datagram. `body` excludes the 4-byte
// header and any padding; `packet` is the whole packet including both.
struct PacketView {
  uint8_t count = 0;  // RC or FMT: the 5 bits after V and P
  uint8_t type = 0;   // PT
  bool padding = false;
  Bytes body;
  Bytes packet;
};

// Parses the packet at the start of `data`. Checks version 2, that the length
// field fits in `data`, and that padding (when P is set) is non-zero and
// inside the packet.
inline Result<PacketView, ParseError> parse_packet(Bytes data) {
  if (data.size() < kHeaderSize) return fail(ParseError::truncated);
  const uint8_t b0 = data[0];
  if ((b0 >> 6) != 2) return fail(ParseError::bad_version);
  const size_t size = (size_t(load_be16(&data[2])) + 1) * 4;
  if (size > data.size()) return fail(ParseError::bad_length);
  PacketView v;
  v.padding = (b0 & 0x20) != 0;
  v.count = b0 & 0x1f;
  v.type = data[1];
  v.packet = data.first(size);
  size_t body_size = size - kHeaderSize;
  if (v.padding) {
    const uint8_t pad = data[size - 1];
    if (pad == 0 || pad > body_size) return fail(ParseError::bad_padding);
    body_size -= pad;
  }
  v.body = data.subspan(kHeaderSize, body_size);
  return v;
}

// Walks the packets of a compound (or reduced-size) RTCP datagram.
//   CompoundReader r(datagram);
//   while (auto p = r.next()) { ... *p ... }
//   if (r.error()) { drop and count *r.error() }
class CompoundReader {
 public:
  explicit CompoundReader(Bytes data) : rest_(data) {}

  // Next packet, or nullopt at the end or on the first malformed packet
  // (then error() says why). Never reads outside the datagram.
  std::optional<PacketView> next() {
    if (rest_.empty() || error_) return std::nullopt;
    auto r = parse_packet(rest_);
    if (!r) {
      error_ = r.error();
      return std::nullopt;
    }
    rest_ = rest_.subspan(r->packet.size());
    return *r;
  }
  std::optional<ParseError> error() const { return error_; }

 private:
  Bytes rest_;
  std::optional<ParseError> error_;
};

// Writes the common header for a packet of `total_size` bytes (a multiple of
// 4, header included) into out[0..4). Returns false if it does not fit or the
// size is not a whole number of words.
inline bool write_header(MutBytes out, uint8_t count, uint8_t type, size_t total_size, bool padding = false) {
  if (out.size() < kHeaderSize || total_size < kHeaderSize || total_size % 4 != 0 || count > 31 ||
      total_size > (size_t(0xffff) + 1) * 4)
    return false;
  out[0] = uint8_t(0x80 | (padding ? 0x20 : 0) | count);
  out[1] = type;
  store_be16(&out[2], uint16_t(total_size / 4 - 1));
  return true;
}

}  // namespace sfu::rtp::rtcp
