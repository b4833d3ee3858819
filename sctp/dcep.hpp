// Data Channel Establishment Protocol (RFC 8832) messages and the WebRTC
// data channel PPIDs (RFC 8831 §8). Pure functions over byte spans.
//
// DATA_CHANNEL_OPEN (RFC 8832 §5.1):
//
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Message Type |  Channel Type |            Priority           |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                    Reliability Parameter                      |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |         Label Length          |       Protocol Length         |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   \                             Label                             /
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   \                            Protocol                           /
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Message Type 0x03. DATA_CHANNEL_ACK (§5.2) is the single byte 0x02.
// Both travel with PPID 50 (WebRTC DCEP), ordered and reliable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "sctp/association.hpp"

namespace sfu::sctp {

// RFC 8831 §8 / IANA "SCTP Payload Protocol Identifiers".
enum class Ppid : uint32_t {
  dcep = 50,
  string = 51,
  binary = 53,
  string_empty = 56,
  binary_empty = 57,
};

constexpr uint8_t kDcepOpen = 0x03;  // RFC 8832 §8.2.1
constexpr uint8_t kDcepAck = 0x02;

// RFC 8832 §5.1 channel types: bit 0x80 = unordered, low bits = reliability.
enum class ChannelType : uint8_t {
  reliable = 0x00,
  reliable_unordered = 0x80,
  partial_reliable_rexmit = 0x01,
  partial_reliable_rexmit_unordered = 0x81,
  partial_reliable_timed = 0x02,
  partial_reliable_timed_unordered = 0x82,
};

// The channel type for (ordered, reliability); always valid.
ChannelType channel_type(bool ordered, Reliability reliability);
// (ordered, reliability) for a channel type byte; nullopt for values RFC 8832 does not define.
struct Ordering {
  bool ordered;
  Reliability reliability;
};
std::optional<Ordering> from_channel_type(uint8_t type);

// A parsed DATA_CHANNEL_OPEN. label and protocol point into the parsed bytes.
struct DataChannelOpen {
  bool ordered = true;
  Reliability reliability = Reliability::reliable;
  uint32_t reliability_value = 0;  // kept as sent, even for reliable channels (§5.1: ignored)
  uint16_t priority = 256;
  std::string_view label;
  std::string_view protocol;

  size_t serialized_size() const { return 12 + label.size() + protocol.size(); }
  // Writes serialized_size() bytes; returns false (nothing promised about
  // `out`) when out is too small or label/protocol exceed 65535 bytes.
  bool serialize_to(MutBytes out) const;
};

// Either DCEP message, as parse_dcep() returns it.
struct DcepMessage {
  enum class Type : uint8_t { open, ack };
  Type type;
  DataChannelOpen open;  // when type == open
};

// Parses one DCEP message (the payload of a PPID 50 DATA chunk). Every
// length is checked: truncated headers or label/protocol lengths that run
// past the end are `truncated`, trailing bytes after the protocol or after
// an ACK are `bad_length`, an unknown message type is `bad_type`, an
// undefined channel type is `bad_value`.
Result<DcepMessage, ParseError> parse_dcep(Bytes payload);

// The one-byte ACK.
inline constexpr uint8_t kDcepAckMessage[1] = {kDcepAck};

// ChannelParams <-> DataChannelOpen (views into `params`' strings).
DataChannelOpen to_open(const ChannelParams& params);
ChannelParams to_params(const DataChannelOpen& open);

}  // namespace sfu::sctp
