// Which RTCP message a packet from CompoundReader is, from its PT, FMT and
// (for application-layer feedback) the REMB identifier. Lets a dispatcher
// switch once and call the one matching parser.
#pragma once

#include <cstdint>
#include <string_view>

#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

enum class MessageKind : uint8_t {
  sender_report,     // PT=200, RFC 3550 §6.4.1
  receiver_report,   // PT=201, RFC 3550 §6.4.2
  sdes,              // PT=202, RFC 3550 §6.5
  bye,               // PT=203, RFC 3550 §6.6
  app,               // PT=204, RFC 3550 §6.7
  nack,              // PT=205 FMT=1, RFC 4585 §6.2.1
  transport_cc,      // PT=205 FMT=15, draft-holmer-rmcat-transport-wide-cc-extensions-01
  pli,               // PT=206 FMT=1, RFC 4585 §6.3.1
  fir,               // PT=206 FMT=4, RFC 5104 §4.3.1
  remb,              // PT=206 FMT=15 with 'REMB', draft-alvestrand-rmcat-remb-03
  other_rtpfb,       // any other RTPFB FMT
  other_psfb,        // any other PSFB FMT (SLI, RPSI, TMMBR, non-REMB AFB, ...)
  unknown,           // any other PT (XR, ...)
  count_,            // number of kinds; keep last
};

// Classifies p by header fields only (plus the 4-byte identifier for AFB);
// it does not validate the body, so the matching parser can still fail.
MessageKind classify(const PacketView& p);

// Stable lower-case name, for counters and logs.
std::string_view to_string(MessageKind k);

}  // namespace sfu::rtp::rtcp
