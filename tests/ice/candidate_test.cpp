#include "ice/candidate.hpp"

#include <gtest/gtest.h>

namespace sfu::ice {
namespace {

TEST(Candidate, Rfc8445HostPriorityFormula) {
  // (2^24)*126 + (2^8)*65535 + (256 - 1)
  EXPECT_EQ(host_priority(CandidateProtocol::udp, 0), 2130706431u);
  EXPECT_LT(host_priority(CandidateProtocol::udp, 1), host_priority(CandidateProtocol::udp, 0));
  // Every TCP candidate below every UDP one (RFC 6544 §4.2 passive).
  EXPECT_LT(host_priority(CandidateProtocol::tcp, 0), host_priority(CandidateProtocol::udp, 31));
  EXPECT_EQ(host_priority(CandidateProtocol::tcp, 0) >> 24, 126u);
}

TEST(Candidate, SdpLinesForUdpTcpAndIpv6) {
  auto udp = make_host_candidate(CandidateProtocol::udp, Address::v4({203, 0, 113, 7}, 40000), 0);
  const std::string u = udp.to_sdp();
  EXPECT_EQ(u.rfind("candidate:" + udp.foundation + " 1 udp 2130706431 203.0.113.7 40000 typ host", 0), 0u) << u;
  auto tcp = make_host_candidate(CandidateProtocol::tcp, Address::v4({203, 0, 113, 7}, 40000), 0);
  EXPECT_NE(tcp.to_sdp().find(" tcp "), std::string::npos);
  EXPECT_TRUE(tcp.to_sdp().ends_with("typ host tcptype passive"));
  EXPECT_NE(tcp.foundation, udp.foundation);
  auto v6 = make_host_candidate(CandidateProtocol::udp, *parse_address("[2001:db8::1]:40001"), 1);
  EXPECT_NE(v6.to_sdp().find(" 2001:db8::1 40001 typ host"), std::string::npos) << v6.to_sdp();
  // Same base, other port: same foundation (RFC 8445 §5.1.1.3).
  EXPECT_EQ(make_host_candidate(CandidateProtocol::udp, Address::v4({203, 0, 113, 7}, 40001), 0).foundation,
            udp.foundation);
}

}  // namespace
}  // namespace sfu::ice
