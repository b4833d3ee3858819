// Demultiplexing the protocols that share one ICE 5-tuple by the first byte
// of each datagram, RFC 7983 §7 (updating RFC 5764 §5.1.2):
//
//                  +----------------+
//                  |        [0..3] -+--> forward to STUN
//                  |                |
//                  |      [16..19] -+--> forward to ZRTP
//                  |                |
//      packet -->  |      [20..63] -+--> forward to DTLS
//                  |                |
//                  |      [64..79] -+--> forward to TURN Channel
//                  |                |
//                  |    [128..191] -+--> forward to RTP/RTCP
//                  +----------------+
//
// and then RTP from RTCP on a muxed port, RFC 5761 §4: the second byte of an
// RTCP packet is its packet type, 192..223 (SR 200, RR 201, ... FIR 192,
// NACK 193), values RTP avoids by not using payload types 64..95.
// Header-only and constexpr; no validation beyond these bytes.
#pragma once

#include <cstdint>

#include "common/bytes.hpp"

namespace sfu::ice {

enum class PacketKind : uint8_t {
  unknown,       // 4..15, 80..127, 192..255, or an empty/too-short packet
  stun,          // 0..3
  zrtp,          // 16..19
  dtls,          // 20..63
  turn_channel,  // 64..79
  rtp,           // 128..191, second byte outside 192..223
  rtcp,          // 128..191, second byte in 192..223
};

// The RFC 7983 range of a first byte. Bytes 128..191 give PacketKind::rtp,
// standing for "RTP or RTCP": use classify_packet to split them.
constexpr PacketKind classify_first_byte(uint8_t b) {
  if (b <= 3) return PacketKind::stun;
  if (b >= 16 && b <= 19) return PacketKind::zrtp;
  if (b >= 20 && b <= 63) return PacketKind::dtls;
  if (b >= 64 && b <= 79) return PacketKind::turn_channel;
  if (b >= 128 && b <= 191) return PacketKind::rtp;
  return PacketKind::unknown;
}

// True if `second_byte` of an RTP/RTCP-range packet is an RTCP packet type
// (RFC 5761 §4).
constexpr bool is_rtcp_packet_type(uint8_t second_byte) { return second_byte >= 192 && second_byte <= 223; }

// Classifies a whole datagram: the first byte picks the protocol, the
// second splits RTP from RTCP. An RTP/RTCP-range packet shorter than 2 bytes
// is unknown.
constexpr PacketKind classify_packet(Bytes packet) {
  if (packet.empty()) return PacketKind::unknown;
  const PacketKind kind = classify_first_byte(packet[0]);
  if (kind != PacketKind::rtp) return kind;
  if (packet.size() < 2) return PacketKind::unknown;
  return is_rtcp_packet_type(packet[1]) ? PacketKind::rtcp : PacketKind::rtp;
}

// Name for logs and counters.
constexpr const char* to_string(PacketKind k) {
  switch (k) {
    case PacketKind::unknown:
      return "unknown";
    case PacketKind::stun:
      return "stun";
    case PacketKind::zrtp:
      return "zrtp";
    case PacketKind::dtls:
      return "dtls";
    case PacketKind::turn_channel:
      return "turn_channel";
    case PacketKind::rtp:
      return "rtp";
    case PacketKind::rtcp:
      return "rtcp";
  }
  return "unknown";
}

}  // namespace sfu::ice
