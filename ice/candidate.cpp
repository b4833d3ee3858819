#include "ice/candidate.hpp"

#include <algorithm>

namespace sfu::ice {

uint32_t host_priority(CandidateProtocol protocol, uint32_t rank, uint32_t component) {
  constexpr uint32_t kHostTypePreference = 126;
  rank = std::min<uint32_t>(rank, 31);
  // UDP: 65535 − rank. TCP (RFC 6544 §4.2): direction-pref passive = 4 in
  // the top 3 bits (2^13 · 4), other-pref from the rank below it, so every
  // TCP candidate ranks below every UDP one.
  const uint32_t local = protocol == CandidateProtocol::udp ? 65535 - rank : (4u << 13) + (8191 - rank);
  return (kHostTypePreference << 24) + (local << 8) + (256 - component);
}

Candidate make_host_candidate(CandidateProtocol protocol, const Address& announced, uint32_t rank) {
  Candidate c;
  c.protocol = protocol;
  c.address = announced;
  c.priority = host_priority(protocol, rank);
  // Foundation: 1..32 ice-chars, equal for the same type, base IP and protocol.
  const size_t h = AddressHash{}(Address{announced.family, announced.ip, 0});
  c.foundation = std::to_string((h % 100000000) * 2 + (protocol == CandidateProtocol::tcp ? 1 : 0));
  return c;
}

std::string Candidate::to_sdp() const {
  std::string s = "candidate:" + foundation + " " + std::to_string(component) + " " +
                  (protocol == CandidateProtocol::udp ? "udp" : "tcp") + " " + std::to_string(priority) + " " +
                  ip_to_string(address) + " " + std::to_string(address.port) + " typ host";
  if (protocol == CandidateProtocol::tcp) s += " tcptype passive";
  return s;
}

}  // namespace sfu::ice
