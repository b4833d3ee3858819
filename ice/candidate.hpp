// Local host candidates as the SFU announces them in SDP (RFC 8839 §5.1),
// with priorities per RFC 8445 §5.1.2.1 and RFC 6544 §4.2 for ICE-TCP.
#pragma once

#include <cstdint>
#include <string>

#include "ice/address.hpp"

namespace sfu::ice {

enum class CandidateProtocol : uint8_t { udp, tcp };

struct Candidate {
  std::string foundation;
  uint32_t component = 1;  // RTP; rtcp-mux is required
  CandidateProtocol protocol = CandidateProtocol::udp;
  uint32_t priority = 0;
  Address address;  // the announced address (public IP behind NAT, if configured)

  // The value of an a=candidate attribute (without "a=" / "candidate:" prefix
  // handled: the text starts with "candidate:"). TCP candidates are passive.
  std::string to_sdp() const;
};

// RFC 8445 §5.1.2.1: (2^24)·type + (2^8)·local + (256 − component), with
// type = 126 (host). Local preference orders UDP over TCP (RFC 6544 §4.2:
// direction passive) and, within each, the order the addresses were
// configured in (`rank` 0 = most preferred, up to 31).
uint32_t host_priority(CandidateProtocol protocol, uint32_t rank, uint32_t component = 1);

// A host candidate; the foundation is derived from protocol and address so
// that equal bases share one (§5.1.1.3).
Candidate make_host_candidate(CandidateProtocol protocol, const Address& announced, uint32_t rank);

}  // namespace sfu::ice
