// RFC 8832 DCEP messages: annotated byte fixtures, every channel type, and
// the length checks a parser of remote input must make.
#include "sctp/dcep.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace sfu::sctp {
namespace {

std::vector<uint8_t> serialize(const DataChannelOpen& open) {
  std::vector<uint8_t> out(open.serialized_size());
  EXPECT_TRUE(open.serialize_to(out));
  return out;
}

// RFC 8832 §5.1, a reliable ordered channel "chat" with protocol "x".
const std::vector<uint8_t> kOpenChat = {
    0x03,                    // Message Type: DATA_CHANNEL_OPEN
    0x00,                    // Channel Type: DATA_CHANNEL_RELIABLE
    0x01, 0x00,              // Priority: 256 (normal, RFC 8831 §6.4)
    0x00, 0x00, 0x00, 0x00,  // Reliability Parameter: unused
    0x00, 0x04,              // Label Length: 4
    0x00, 0x01,              // Protocol Length: 1
    'c',  'h',  'a',  't',   // Label
    'x',                     // Protocol
};

TEST(Dcep, ParsesOpenFixture) {
  const auto m = parse_dcep(kOpenChat);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->type, DcepMessage::Type::open);
  EXPECT_TRUE(m->open.ordered);
  EXPECT_EQ(m->open.reliability, Reliability::reliable);
  EXPECT_EQ(m->open.priority, 256);
  EXPECT_EQ(m->open.label, "chat");
  EXPECT_EQ(m->open.protocol, "x");
  EXPECT_EQ(serialize(m->open), kOpenChat);  // round trip
}

TEST(Dcep, SerializesPartialReliableTimedUnordered) {
  DataChannelOpen open;
  open.ordered = false;
  open.reliability = Reliability::max_lifetime;
  open.reliability_value = 3000;
  open.priority = 512;
  open.label = "t";
  const std::vector<uint8_t> expected = {
      0x03,                    // DATA_CHANNEL_OPEN
      0x82,                    // DATA_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED
      0x02, 0x00,              // Priority 512 (high)
      0x00, 0x00, 0x0b, 0xb8,  // Reliability Parameter: 3000 ms
      0x00, 0x01,              // Label Length 1
      0x00, 0x00,              // Protocol Length 0
      't',
  };
  EXPECT_EQ(serialize(open), expected);
}

TEST(Dcep, ParsesAck) {
  const uint8_t ack[] = {0x02};  // RFC 8832 §5.2 DATA_CHANNEL_ACK
  const auto m = parse_dcep(ack);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, DcepMessage::Type::ack);
  EXPECT_EQ(Bytes(kDcepAckMessage).size(), 1u);
  EXPECT_EQ(kDcepAckMessage[0], 0x02);
}

struct TypeCase {
  uint8_t byte;
  bool ordered;
  Reliability reliability;
};

// RFC 8832 §5.1 / §8.2.2: the six channel types.
TEST(Dcep, EveryChannelTypeMapsBothWays) {
  const TypeCase cases[] = {
      {0x00, true, Reliability::reliable},          // DATA_CHANNEL_RELIABLE
      {0x80, false, Reliability::reliable},         // DATA_CHANNEL_RELIABLE_UNORDERED
      {0x01, true, Reliability::max_retransmits},   // DATA_CHANNEL_PARTIAL_RELIABLE_REXMIT
      {0x81, false, Reliability::max_retransmits},  // DATA_CHANNEL_PARTIAL_RELIABLE_REXMIT_UNORDERED
      {0x02, true, Reliability::max_lifetime},      // DATA_CHANNEL_PARTIAL_RELIABLE_TIMED
      {0x82, false, Reliability::max_lifetime},     // DATA_CHANNEL_PARTIAL_RELIABLE_TIMED_UNORDERED
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(int(c.byte));
    EXPECT_EQ(uint8_t(channel_type(c.ordered, c.reliability)), c.byte);
    const auto o = from_channel_type(c.byte);
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->ordered, c.ordered);
    EXPECT_EQ(o->reliability, c.reliability);

    std::vector<uint8_t> msg = {0x03, c.byte, 0x00, 0x80, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00};
    const auto m = parse_dcep(msg);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->open.ordered, c.ordered);
    EXPECT_EQ(m->open.reliability, c.reliability);
    EXPECT_EQ(m->open.reliability_value, 7u);
    EXPECT_EQ(serialize(m->open), msg);
  }
  for (uint8_t bad : {0x03, 0x7f, 0x83, 0xff}) EXPECT_FALSE(from_channel_type(bad).has_value());
}

TEST(Dcep, RejectsUndefinedChannelType) {
  std::vector<uint8_t> msg = kOpenChat;
  msg[1] = 0x03;
  const auto m = parse_dcep(msg);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error(), ParseError::bad_value);
}

TEST(Dcep, RejectsTruncatedHeaders) {
  for (size_t n = 0; n < 12; ++n) {
    const auto m = parse_dcep(Bytes(kOpenChat).first(n));
    ASSERT_FALSE(m.ok()) << n;
    EXPECT_EQ(m.error(), ParseError::truncated) << n;
  }
}

TEST(Dcep, RejectsLabelOrProtocolRunningPastTheEnd) {
  // Every cut inside label + protocol.
  for (size_t n = 12; n < kOpenChat.size(); ++n) {
    const auto m = parse_dcep(Bytes(kOpenChat).first(n));
    ASSERT_FALSE(m.ok()) << n;
    EXPECT_EQ(m.error(), ParseError::truncated);
  }
  std::vector<uint8_t> huge = kOpenChat;
  huge[8] = 0xff;  // Label Length 0xff04: far past the end
  EXPECT_EQ(parse_dcep(huge).error(), ParseError::truncated);
  std::vector<uint8_t> proto = kOpenChat;
  proto[11] = 0x02;  // Protocol Length 2, one byte present
  EXPECT_EQ(parse_dcep(proto).error(), ParseError::truncated);
}

TEST(Dcep, RejectsTrailingBytes) {
  std::vector<uint8_t> longer = kOpenChat;
  longer.push_back(0);
  EXPECT_EQ(parse_dcep(longer).error(), ParseError::bad_length);
  const uint8_t ack[] = {0x02, 0x00};
  EXPECT_EQ(parse_dcep(ack).error(), ParseError::bad_length);
}

TEST(Dcep, RejectsUnknownMessageType) {
  const uint8_t msg[] = {0x01};  // reserved
  EXPECT_EQ(parse_dcep(msg).error(), ParseError::bad_type);
}

TEST(Dcep, SerializeRefusesShortBuffers) {
  const auto m = parse_dcep(kOpenChat);
  ASSERT_TRUE(m.ok());
  std::vector<uint8_t> out(m->open.serialized_size() - 1);
  EXPECT_FALSE(m->open.serialize_to(out));
}

TEST(Dcep, ParamsRoundTrip) {
  ChannelParams p;
  p.label = "label";
  p.protocol = "proto";
  p.ordered = false;
  p.reliability = Reliability::max_retransmits;
  p.reliability_value = 0;
  p.priority = 128;
  const auto bytes = serialize(to_open(p));
  const auto m = parse_dcep(bytes);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(to_params(m->open), p);
}

TEST(Dcep, PpidsAreRfc8831Values) {
  EXPECT_EQ(uint32_t(Ppid::dcep), 50u);
  EXPECT_EQ(uint32_t(Ppid::string), 51u);
  EXPECT_EQ(uint32_t(Ppid::binary), 53u);
  EXPECT_EQ(uint32_t(Ppid::string_empty), 56u);
  EXPECT_EQ(uint32_t(Ppid::binary_empty), 57u);
}

}  // namespace
}  // namespace sfu::sctp
