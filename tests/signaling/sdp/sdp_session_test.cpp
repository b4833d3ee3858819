// The transport glue of our SDP: what a removed (port 0) section of our
// offers carries, so that Firefox (c= required, RFC 8866 §5.7), aiortc (ICE,
// setup, rtcp-mux and a codec required) and Chromium all parse it.
#include "signaling/sdp/sdp_session.hpp"

#include <gtest/gtest.h>

#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::signaling {
namespace {

server::TransportInfo transport() {
  server::TransportInfo t;
  t.local_ice = ice::IceCredentials{"ufrg", "0123456789abcdefghijklmn"};
  ice::Candidate udp;
  udp.foundation = "1";
  udp.priority = 2130706431;
  udp.address = ice::Address::v4({127, 0, 0, 1}, 40000);
  ice::Candidate tcp = udp;
  tcp.protocol = ice::CandidateProtocol::tcp;
  t.candidates = {udp, tcp};
  t.fingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
  return t;
}

std::string written(bool audio) {
  sdp::SessionDescription sd = session_skeleton(1, 2);
  sdp::MediaSection m;
  m.kind = audio ? sdp::MediaKind::audio : sdp::MediaKind::video;
  m.mid = "7";
  write_removed_section(m, audio, transport());
  sd.media.push_back(std::move(m));
  return sdp::write_sdp(sd);
}

TEST(RemovedSection, VideoCarriesWhatEveryStackNeeds) {
  const std::string text = written(false);
  for (const char* line : {"m=video 0 UDP/TLS/RTP/SAVPF 96\r\n", "c=IN IP4 0.0.0.0\r\n", "a=rtpmap:96 VP8/90000\r\n",
                           "a=mid:7\r\n", "a=inactive\r\n", "a=ice-ufrag:ufrg\r\n", "a=setup:actpass\r\n",
                           "a=rtcp-mux\r\n", "a=fingerprint:sha-256 AB:CD"})
    EXPECT_NE(text.find(line), std::string::npos) << line << " missing in\n" << text;
  EXPECT_EQ(text.find("a=candidate"), std::string::npos) << "no candidates in a removed section";
  EXPECT_EQ(text.find("a=ssrc"), std::string::npos);
  EXPECT_EQ(text.find("a=msid:"), std::string::npos);
}

TEST(RemovedSection, AudioUsesOpus) {
  const std::string text = written(true);
  EXPECT_NE(text.find("m=audio 0 UDP/TLS/RTP/SAVPF 111\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=rtpmap:111 opus/48000/2\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("c=IN IP4 0.0.0.0\r\n"), std::string::npos) << text;
}

TEST(RemovedSection, RoundTripsThroughOurParser) {
  auto parsed = sdp::parse_sdp(written(false));
  ASSERT_TRUE(parsed.ok()) << parsed.error().reason;
  ASSERT_EQ(parsed->media.size(), 1u);
  const auto& m = parsed->media[0];
  EXPECT_EQ(m.port, 0u);
  ASSERT_TRUE(m.connection);
  EXPECT_EQ(m.connection->address, "0.0.0.0");
  EXPECT_EQ(m.effective_direction(), sdp::Direction::inactive);
  EXPECT_TRUE(m.rtcp_mux);
}

TEST(DataSection, RecognisedOnlyForSctpDataChannels) {
  sdp::MediaSection m;
  m.kind = sdp::MediaKind::application;
  m.protocol = "UDP/DTLS/SCTP";
  m.formats = {"webrtc-datachannel"};
  EXPECT_TRUE(is_data_section(m));
  m.formats = {"5000"};
  EXPECT_FALSE(is_data_section(m));
  m.formats = {"webrtc-datachannel"};
  m.kind = sdp::MediaKind::video;
  EXPECT_FALSE(is_data_section(m));
}

}  // namespace
}  // namespace sfu::signaling
