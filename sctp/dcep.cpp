#include "sctp/dcep.hpp"

#include <limits>

namespace sfu::sctp {

namespace {

constexpr uint8_t kUnorderedBit = 0x80;
constexpr size_t kOpenHeaderSize = 12;

}  // namespace

ChannelType channel_type(bool ordered, Reliability reliability) {
  uint8_t low = 0x00;
  switch (reliability) {
    case Reliability::reliable:
      low = 0x00;
      break;
    case Reliability::max_retransmits:
      low = 0x01;
      break;
    case Reliability::max_lifetime:
      low = 0x02;
      break;
  }
  return ChannelType(uint8_t(low | (ordered ? 0 : kUnorderedBit)));
}

std::optional<Ordering> from_channel_type(uint8_t type) {
  const bool ordered = (type & kUnorderedBit) == 0;
  switch (type & ~kUnorderedBit) {
    case 0x00:
      return Ordering{ordered, Reliability::reliable};
    case 0x01:
      return Ordering{ordered, Reliability::max_retransmits};
    case 0x02:
      return Ordering{ordered, Reliability::max_lifetime};
    default:
      return std::nullopt;
  }
}

bool DataChannelOpen::serialize_to(MutBytes out) const {
  constexpr size_t kMaxField = std::numeric_limits<uint16_t>::max();
  if (label.size() > kMaxField || protocol.size() > kMaxField) return false;
  ByteWriter w(out);
  w.write_u8(kDcepOpen);
  w.write_u8(uint8_t(channel_type(ordered, reliability)));
  w.write_u16(priority);
  w.write_u32(reliability_value);
  w.write_u16(uint16_t(label.size()));
  w.write_u16(uint16_t(protocol.size()));
  w.write_bytes(Bytes(reinterpret_cast<const uint8_t*>(label.data()), label.size()));
  w.write_bytes(Bytes(reinterpret_cast<const uint8_t*>(protocol.data()), protocol.size()));
  return w.ok();
}

Result<DcepMessage, ParseError> parse_dcep(Bytes payload) {
  ByteReader r(payload);
  uint8_t type = 0;
  if (!r.read_u8(type)) return fail(ParseError::truncated);
  if (type == kDcepAck) {
    // RFC 8832 §5.2: the ACK is the message type alone.
    if (r.remaining() != 0) return fail(ParseError::bad_length);
    return DcepMessage{DcepMessage::Type::ack, {}};
  }
  if (type != kDcepOpen) return fail(ParseError::bad_type);
  if (payload.size() < kOpenHeaderSize) return fail(ParseError::truncated);

  uint8_t channel = 0;
  uint16_t priority = 0, label_len = 0, protocol_len = 0;
  uint32_t value = 0;
  r.read_u8(channel);
  r.read_u16(priority);
  r.read_u32(value);
  r.read_u16(label_len);
  r.read_u16(protocol_len);
  const auto ordering = from_channel_type(channel);
  if (!ordering) return fail(ParseError::bad_value);
  Bytes label, protocol;
  if (!r.read_bytes(label_len, label) || !r.read_bytes(protocol_len, protocol)) return fail(ParseError::truncated);
  if (r.remaining() != 0) return fail(ParseError::bad_length);

  DcepMessage m{DcepMessage::Type::open, {}};
  m.open.ordered = ordering->ordered;
  m.open.reliability = ordering->reliability;
  m.open.reliability_value = value;
  m.open.priority = priority;
  m.open.label = std::string_view(reinterpret_cast<const char*>(label.data()), label.size());
  m.open.protocol = std::string_view(reinterpret_cast<const char*>(protocol.data()), protocol.size());
  return m;
}

DataChannelOpen to_open(const ChannelParams& params) {
  DataChannelOpen o;
  o.ordered = params.ordered;
  o.reliability = params.reliability;
  o.reliability_value = params.reliability == Reliability::reliable ? 0 : params.reliability_value;
  o.priority = params.priority;
  o.label = params.label;
  o.protocol = params.protocol;
  return o;
}

ChannelParams to_params(const DataChannelOpen& open) {
  ChannelParams p;
  p.label = std::string(open.label);
  p.protocol = std::string(open.protocol);
  p.ordered = open.ordered;
  p.reliability = open.reliability;
  // §5.1: the parameter is ignored for reliable channels.
  p.reliability_value = open.reliability == Reliability::reliable ? 0 : open.reliability_value;
  p.priority = open.priority;
  return p;
}

}  // namespace sfu::sctp
