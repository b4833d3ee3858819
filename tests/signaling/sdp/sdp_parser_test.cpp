// SDP parser: the browser fixtures of tests/data/sdp parse into the expected
// model, round-trip through the writer, and hostile input is refused with a
// line number instead of crashing or hanging.
#include "signaling/sdp/sdp_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::signaling::sdp {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(SFU_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SessionDescription parse_fixture(const std::string& name) {
  std::string text = read_fixture(name);
  EXPECT_FALSE(text.empty()) << name;
  auto r = parse_sdp(text);
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : to_string(r.error()));
  return r.ok() ? *r : SessionDescription{};
}

std::vector<uint8_t> payload_types(const MediaSection& m) {
  std::vector<uint8_t> out;
  for (const Codec& c : m.codecs) out.push_back(c.payload_type);
  return out;
}

std::vector<std::string> extmap_uris_by_id(const MediaSection& m, std::initializer_list<uint16_t> ids) {
  std::vector<std::string> out;
  for (uint16_t id : ids) {
    auto it = std::find_if(m.extmaps.begin(), m.extmaps.end(), [&](const Extmap& e) { return e.id == id; });
    out.push_back(it == m.extmaps.end() ? "" : it->uri);
  }
  return out;
}

constexpr const char* kFixtures[] = {"chrome_publish_simulcast.sdp", "chrome_recvonly.sdp", "chrome_ssrc_simulcast.sdp",
                                     "firefox_publish_simulcast.sdp", "safari_publish.sdp"};

// ---- Fixtures ---------------------------------------------------------------

TEST(SdpParserFixture, ChromePublishSimulcastSession) {
  SessionDescription sd = parse_fixture("chrome_publish_simulcast.sdp");
  EXPECT_EQ(sd.origin.username, "-");
  EXPECT_EQ(sd.origin.session_id, 4215775240449105457u);
  EXPECT_EQ(sd.origin.session_version, 2u);
  EXPECT_EQ(sd.session_name, "-");
  EXPECT_EQ(sd.timings, std::vector<std::string>{"0 0"});
  ASSERT_NE(sd.bundle_group(), nullptr);
  EXPECT_EQ(sd.bundle_group()->mids, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_TRUE(sd.extmap_allow_mixed);
  ASSERT_TRUE(sd.msid_semantic);
  EXPECT_EQ(sd.msid_semantic->semantic, "WMS");
  ASSERT_EQ(sd.media.size(), 3u);
  EXPECT_EQ(sd.media[0].kind, MediaKind::audio);
  EXPECT_EQ(sd.media[1].kind, MediaKind::video);
  EXPECT_EQ(sd.media[2].kind, MediaKind::application);
  EXPECT_EQ(sd.find_media("1"), &sd.media[1]);
  EXPECT_EQ(sd.find_media("7"), nullptr);
}

TEST(SdpParserFixture, ChromePublishSimulcastAudio) {
  SessionDescription sd = parse_fixture("chrome_publish_simulcast.sdp");
  ASSERT_EQ(sd.media.size(), 3u);
  const MediaSection& a = sd.media[0];
  EXPECT_EQ(a.port, 9);
  EXPECT_EQ(a.protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_TRUE(a.is_rtp());
  EXPECT_EQ(a.mid, "0");
  EXPECT_EQ(a.direction, Direction::sendonly);
  EXPECT_TRUE(a.rtcp_mux);
  EXPECT_FALSE(a.rtcp_rsize);
  EXPECT_EQ(a.rtcp, "9 IN IP4 0.0.0.0");
  EXPECT_EQ(a.ice_ufrag, "Xq3b");
  EXPECT_EQ(a.ice_options, std::vector<std::string>{"trickle"});
  ASSERT_EQ(a.fingerprints.size(), 1u);
  EXPECT_EQ(a.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(a.fingerprints[0].value.size(), 32u * 3 - 1);
  EXPECT_EQ(a.setup, Setup::actpass);
  EXPECT_EQ(payload_types(a), (std::vector<uint8_t>{111, 63, 9, 0, 8, 13, 110, 126}));
  const Codec* opus = a.find_codec("OPUS");
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->payload_type, 111);
  EXPECT_EQ(opus->clock_rate, 48000u);
  EXPECT_EQ(opus->channels, 2);
  EXPECT_EQ(opus->fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(opus->param("minptime"), "10");
  EXPECT_EQ(opus->param("useinbandfec"), "1");
  EXPECT_EQ(opus->feedback, (std::vector<RtcpFeedback>{{"transport-cc", ""}}));
  EXPECT_EQ(a.find_codec(63)->params, (std::vector<Param>{{"111/111", ""}}));
  EXPECT_EQ(a.find_codec(0)->channels, 0);
  EXPECT_EQ(extmap_uris_by_id(a, {1, 4}), (std::vector<std::string>{"urn:ietf:params:rtp-hdrext:ssrc-audio-level",
                                                                    "urn:ietf:params:rtp-hdrext:sdes:mid"}));
  ASSERT_EQ(a.msids.size(), 1u);
  ASSERT_EQ(a.ssrcs.size(), 1u);
  EXPECT_EQ(a.ssrcs[0].ssrc, 1293884101u);
  EXPECT_EQ(a.ssrcs[0].attribute("cname"), "dC9Hj2lQpW8mYx1R");
  EXPECT_EQ(a.ssrcs[0].attribute("msid"), a.msids[0].stream_id + " " + a.msids[0].track_id);
}

TEST(SdpParserFixture, ChromePublishSimulcastVideo) {
  SessionDescription sd = parse_fixture("chrome_publish_simulcast.sdp");
  ASSERT_EQ(sd.media.size(), 3u);
  const MediaSection& v = sd.media[1];
  EXPECT_EQ(v.formats.size(), 25u);
  EXPECT_EQ(v.codecs.size(), 25u);
  EXPECT_TRUE(v.rtcp_rsize);
  EXPECT_EQ(v.rtx_payload_type(96), 97);
  EXPECT_EQ(v.rtx_payload_type(106), 107);
  EXPECT_EQ(v.rtx_payload_type(118), std::nullopt);
  const Codec* vp8 = v.find_codec(96);
  ASSERT_NE(vp8, nullptr);
  EXPECT_EQ(vp8->feedback,
            (std::vector<RtcpFeedback>{
                {"goog-remb", ""}, {"transport-cc", ""}, {"ccm", "fir"}, {"nack", ""}, {"nack", "pli"}}));
  EXPECT_EQ(v.find_codec(106)->param("profile-level-id"), "42e01f");
  EXPECT_EQ(v.find_codec(106)->param("packetization-mode"), "1");
  EXPECT_EQ(v.find_codec(98)->param("profile-id"), "0");
  EXPECT_EQ(v.extmaps.size(), 11u);
  EXPECT_EQ(extmap_uris_by_id(v, {10, 11}),
            (std::vector<std::string>{"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
                                      "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"}));
  ASSERT_EQ(v.rids.size(), 3u);
  EXPECT_EQ(v.rids[0], (Rid{"q", RidDirection::send, "", {}}));
  EXPECT_EQ(v.rids[2].id, "f");
  ASSERT_TRUE(v.simulcast);
  ASSERT_EQ(v.simulcast->send.size(), 3u);
  EXPECT_EQ(v.simulcast->send[1], (std::vector<SimulcastRid>{{"h", false}}));
  EXPECT_TRUE(v.simulcast->recv.empty());
  EXPECT_TRUE(v.ssrcs.empty());
}

TEST(SdpParserFixture, ChromePublishSimulcastData) {
  SessionDescription sd = parse_fixture("chrome_publish_simulcast.sdp");
  ASSERT_EQ(sd.media.size(), 3u);
  const MediaSection& d = sd.media[2];
  EXPECT_EQ(d.protocol, "UDP/DTLS/SCTP");
  EXPECT_FALSE(d.is_rtp());
  EXPECT_EQ(d.formats, std::vector<std::string>{"webrtc-datachannel"});
  EXPECT_EQ(d.sctp_port, 5000);
  EXPECT_EQ(d.max_message_size, 262144u);
  EXPECT_EQ(d.direction, std::nullopt);
  EXPECT_EQ(d.effective_direction(), Direction::sendrecv);
  EXPECT_TRUE(d.codecs.empty());
}

TEST(SdpParserFixture, ChromeRecvonlyWithCandidates) {
  SessionDescription sd = parse_fixture("chrome_recvonly.sdp");
  ASSERT_EQ(sd.media.size(), 2u);
  ASSERT_TRUE(sd.msid_semantic);
  EXPECT_TRUE(sd.msid_semantic->ids.empty());
  const MediaSection& a = sd.media[0];
  EXPECT_EQ(a.direction, Direction::recvonly);
  EXPECT_EQ(a.port, 54400);
  ASSERT_TRUE(a.connection);
  EXPECT_EQ(a.connection->address, "203.0.113.7");
  EXPECT_TRUE(a.msids.empty());
  ASSERT_EQ(a.candidates.size(), 3u);
  const Candidate& host = a.candidates[0];
  EXPECT_EQ(host.foundation, "2999745851");
  EXPECT_EQ(host.component, 1);
  EXPECT_EQ(host.transport, "udp");
  EXPECT_EQ(host.priority, 2122260223u);
  EXPECT_EQ(host.address, "3f1c2b9e-7d41-4b6a-9d2e-0c5a8f1e6b73.local");
  EXPECT_EQ(host.port, 54400);
  EXPECT_EQ(host.type, "host");
  const Candidate& srflx = a.candidates[1];
  EXPECT_EQ(srflx.type, "srflx");
  EXPECT_EQ(srflx.related_address, "0.0.0.0");
  EXPECT_EQ(srflx.related_port, 0);
  EXPECT_EQ(a.candidates[2].tcp_type, "active");
  EXPECT_EQ(a.candidates[2].raw.substr(0, 13), "4233069003 1 ");
  EXPECT_EQ(sd.media[1].direction, Direction::recvonly);
  EXPECT_EQ(sd.media[1].port, 54401);
}

TEST(SdpParserFixture, FirefoxPublishSimulcast) {
  SessionDescription sd = parse_fixture("firefox_publish_simulcast.sdp");
  EXPECT_EQ(sd.origin.username, "mozilla...THIS_IS_SDPARTA-120.0");
  EXPECT_EQ(sd.origin.address, "0.0.0.0");
  ASSERT_EQ(sd.fingerprints.size(), 1u);
  EXPECT_EQ(sd.msid_semantic->ids, std::vector<std::string>{"*"});
  ASSERT_EQ(sd.media.size(), 3u);
  const MediaSection& v = sd.media[1];
  EXPECT_TRUE(v.fingerprints.empty());  // inherited from the session level
  EXPECT_EQ(sd.effective_fingerprints(v), sd.fingerprints);
  EXPECT_EQ(sd.effective_ice_ufrag(v), "8c1e4a7f");
  EXPECT_EQ(sd.effective_setup(v), Setup::actpass);
  EXPECT_EQ(v.connection->address, "0.0.0.0");
  // rtpmap lines come after fmtp and rtcp-fb; codecs still follow the m-line.
  EXPECT_EQ(payload_types(v), (std::vector<uint8_t>{120, 124, 121, 125, 126, 127, 97, 98, 123, 122, 119}));
  EXPECT_EQ(v.find_codec(120)->name, "VP8");
  EXPECT_EQ(v.find_codec(120)->fmtp, "max-fs=12288;max-fr=60");
  EXPECT_EQ(v.find_codec(120)->param("max-fr"), "60");
  EXPECT_EQ(v.find_codec(120)->feedback.size(), 5u);
  EXPECT_EQ(v.rtx_payload_type(121), 125);
  EXPECT_EQ(v.find_codec(97)->param("packetization-mode"), std::nullopt);
  ASSERT_EQ(v.extmaps.size(), 7u);
  EXPECT_EQ(v.extmaps[3].id, 6);
  EXPECT_EQ(v.extmaps[3].direction, Direction::recvonly);
  EXPECT_EQ(v.extmaps[6].direction, Direction::sendonly);
  EXPECT_EQ(v.extmaps[0].direction, std::nullopt);
  ASSERT_EQ(v.msids.size(), 1u);
  EXPECT_EQ(v.msids[0].stream_id.front(), '{');
  EXPECT_EQ(v.rids.size(), 3u);
  ASSERT_TRUE(v.simulcast);
  EXPECT_EQ(v.simulcast->send.size(), 3u);
  EXPECT_EQ(v.ssrcs.size(), 6u);
  EXPECT_EQ(v.ssrc_groups.size(), 3u);
  EXPECT_EQ(v.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(sd.media[0].find_codec(101)->params, (std::vector<Param>{{"0-15", ""}}));
  EXPECT_EQ(sd.media[0].find_codec(9)->channels, 1);
  EXPECT_EQ(sd.media[2].max_message_size, 1073741823u);
  EXPECT_EQ(sd.media[2].direction, Direction::sendrecv);
}

TEST(SdpParserFixture, SafariPublishH264First) {
  SessionDescription sd = parse_fixture("safari_publish.sdp");
  ASSERT_EQ(sd.media.size(), 2u);
  const MediaSection& v = sd.media[1];
  ASSERT_FALSE(v.codecs.empty());
  EXPECT_EQ(v.codecs[0].name, "H264");
  EXPECT_EQ(v.codecs[0].param("profile-level-id"), "640c1f");
  EXPECT_EQ(v.find_codec("VP8")->payload_type, 127);
  EXPECT_EQ(v.find_codec("H265")->payload_type, 100);
  ASSERT_EQ(v.ssrc_groups.size(), 1u);
  EXPECT_EQ(v.ssrc_groups[0], (SsrcGroup{"FID", {1064729410u, 2219383026u}}));
  EXPECT_FALSE(v.simulcast);
}

TEST(SdpParserFixture, ChromeSsrcSimulcast) {
  SessionDescription sd = parse_fixture("chrome_ssrc_simulcast.sdp");
  ASSERT_EQ(sd.media.size(), 2u);
  const MediaSection& v = sd.media[1];
  ASSERT_EQ(v.ssrc_groups.size(), 4u);
  EXPECT_EQ(v.ssrc_groups[3], (SsrcGroup{"SIM", {3167542901u, 3167542902u, 3167542903u}}));
  EXPECT_EQ(v.ssrc_groups[0], (SsrcGroup{"FID", {3167542901u, 2871102311u}}));
  ASSERT_EQ(v.ssrcs.size(), 6u);
  EXPECT_EQ(v.ssrcs[0].attributes.size(), 2u);
  EXPECT_EQ(v.find_ssrc(2871102313u)->attribute("cname"), "Zt4kQ9bV2mN7pX1c");
  EXPECT_EQ(v.find_ssrc(1), nullptr);
}

TEST(SdpParserFixture, LfLineEndingsGiveTheSameModel) {
  for (const char* name : kFixtures) {
    std::string crlf = read_fixture(name);
    std::string lf = crlf;
    lf.erase(std::remove(lf.begin(), lf.end(), '\r'), lf.end());
    auto a = parse_sdp(crlf), b = parse_sdp(lf);
    ASSERT_TRUE(a.ok() && b.ok()) << name;
    EXPECT_EQ(*a, *b) << name;
  }
}

// ---- Round trip -------------------------------------------------------------

TEST(SdpParserRoundTrip, EveryFixtureParsesBackToTheSameModel) {
  for (const char* name : kFixtures) {
    SessionDescription first = parse_fixture(name);
    std::string written = write_sdp(first);
    auto second = parse_sdp(written);
    ASSERT_TRUE(second.ok()) << name << ": " << to_string(second.error());
    EXPECT_EQ(first, *second) << name;
    EXPECT_EQ(write_sdp(*second), written) << name;
  }
}

TEST(SdpParserRoundTrip, ChromeFixtureIsWrittenByteForByte) {
  // Chrome's own order is the canonical order, so its offer comes back unchanged.
  // The one difference: Chrome writes "msid-semantic: WMS"; both forms parse
  // the same, and the writer's never makes a line longer than its input.
  std::string text = read_fixture("chrome_publish_simulcast.sdp");
  size_t at = text.find("a=msid-semantic: WMS");
  ASSERT_NE(at, std::string::npos);
  text.erase(at + 16, 1);
  EXPECT_EQ(write_sdp(parse_fixture("chrome_publish_simulcast.sdp")), text);
}

TEST(SdpParserRoundTrip, UnknownAttributesAndLinesAreKept) {
  const std::string text =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\ni=session info\r\nt=0 0\r\n"
      "a=x-session-flag\r\na=x-session-value:1 2 3\r\na=mid:not-here\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\ni=media info\r\nb=AS:2000\r\n"
      "a=x-unknown-flag\r\na=x-google-flag:conference\r\na=empty:\r\na=fmtp:97 apt=96\r\n"
      "a=rtcp-fb:97 nack\r\na=group:BUNDLE 0\r\na=framerate:30\r\n";
  auto r = parse_sdp(text);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(r->other_lines, (std::vector<std::pair<char, std::string>>{{'i', "session info"}}));
  EXPECT_EQ(r->attributes, (std::vector<Attribute>{
                               {"x-session-flag", std::nullopt}, {"x-session-value", "1 2 3"}, {"mid", "not-here"}}));
  const MediaSection& m = r->media[0];
  EXPECT_EQ(m.bandwidths, std::vector<std::string>{"AS:2000"});
  EXPECT_EQ(m.other_lines, (std::vector<std::pair<char, std::string>>{{'i', "media info"}}));
  EXPECT_EQ(m.attributes, (std::vector<Attribute>{{"x-unknown-flag", std::nullopt},
                                                  {"x-google-flag", "conference"},
                                                  {"empty", ""},
                                                  {"fmtp", "97 apt=96"},
                                                  {"rtcp-fb", "97 nack"},
                                                  {"group", "BUNDLE 0"},
                                                  {"framerate", "30"}}));
  auto again = parse_sdp(write_sdp(*r));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*r, *again);
}

TEST(SdpParserRoundTrip, MissingTimingDefaultsToZero) {
  auto r = parse_sdp("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->timings, std::vector<std::string>{"0 0"});
  EXPECT_TRUE(r->media.empty());
}

TEST(SdpParserRoundTrip, DraftSimulcastSyntaxAndPausedAlternatives) {
  const std::string text =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
      "a=rid:a send pt=96;max-width=320;max-height=180\r\na=rid:b send\r\na=rid:c send\r\na=rid:r recv\r\n"
      "a=simulcast: send rid=a;~b,c recv r\r\n";
  auto r = parse_sdp(text);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  const MediaSection& m = r->media[0];
  EXPECT_EQ(m.rids[0].restrictions, "pt=96;max-width=320;max-height=180");
  EXPECT_EQ(m.rids[0].params, (std::vector<Param>{{"pt", "96"}, {"max-width", "320"}, {"max-height", "180"}}));
  EXPECT_EQ(m.rids[3].direction, RidDirection::recv);
  ASSERT_TRUE(m.simulcast);
  EXPECT_EQ(m.simulcast->send, (std::vector<std::vector<SimulcastRid>>{{{"a", false}}, {{"b", true}, {"c", false}}}));
  EXPECT_EQ(m.simulcast->recv, (std::vector<std::vector<SimulcastRid>>{{{"r", false}}}));
  std::string written = write_sdp(*r);
  EXPECT_NE(written.find("a=simulcast:send a;~b,c recv r\r\n"), std::string::npos);
  auto again = parse_sdp(written);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*r, *again);
}

// ---- Hostile input ----------------------------------------------------------

constexpr const char* kHeader = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";  // 4 lines

struct BadCase {
  const char* name;
  std::string sdp;
  size_t line;
  const char* reason;  // a substring of the reason
};

std::vector<BadCase> bad_cases() {
  const std::string h = kHeader;
  const std::string m = "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n";
  return {
      {"empty", "", 1, "missing v=0"},
      {"only newline", "\r\n", 1, "missing v=0"},
      {"missing v", "o=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n", 1, "missing v=0"},
      {"v=1", "v=1\r\n", 1, "missing v=0"},
      {"missing o", "v=0\r\ns=-\r\n", 2, "missing o="},
      {"short o", "v=0\r\no=- 1 IN IP4 x\r\ns=-\r\n", 2, "6 fields"},
      {"o numeric", "v=0\r\no=- x 1 IN IP4 x\r\ns=-\r\n", 2, "sess-id"},
      {"missing s", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nt=0 0\r\n", 3, "missing s="},
      {"truncated header", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n", 3, "missing s="},
      {"second v", h + "v=0\r\n", 5, "unexpected v="},
      {"malformed line", h + "hello\r\n", 5, "malformed"},
      {"upper type", h + "A=foo\r\n", 5, "malformed"},
      {"control char",
       h + "a=foo\x01"
           "bar\r\n",
       5, "control character"},
      {"nul byte", h + std::string("a=x\0y\r\n", 7), 5, "control character"},
      {"bad port", h + "m=audio 70000 UDP/TLS/RTP/SAVPF 111\r\n", 5, "bad port"},
      {"port text", h + "m=audio nine UDP/TLS/RTP/SAVPF 111\r\n", 5, "bad port"},
      {"port count", h + "m=audio 9/2 UDP/TLS/RTP/SAVPF 111\r\n", 5, "bad port"},
      {"negative port", h + "m=audio -9 UDP/TLS/RTP/SAVPF 111\r\n", 5, "bad port"},
      {"no format", h + "m=audio 9 UDP/TLS/RTP/SAVPF\r\n", 5, "m= line needs"},
      {"no proto", h + "m=audio 9\r\n", 5, "m= line needs"},
      {"pt 300", h + "m=video 9 UDP/TLS/RTP/SAVPF 96 300\r\n", 5, "bad payload type '300'"},
      {"pt 128", h + "m=video 9 UDP/TLS/RTP/SAVPF 128\r\n", 5, "bad payload type"},
      {"pt text", h + "m=video 9 UDP/TLS/RTP/SAVPF VP8\r\n", 5, "bad payload type"},
      {"pt repeated", h + "m=video 9 UDP/TLS/RTP/SAVPF 96 96\r\n", 5, "repeated"},
      {"duplicate mid", h + m + "a=mid:0\r\n" + m + "a=mid:0\r\n", 8, "duplicate mid '0'"},
      {"mid twice", h + m + "a=mid:0\r\na=mid:1\r\n", 7, "a=mid repeated"},
      {"empty mid", h + m + "a=mid:\r\n", 6, "bad mid"},
      {"extmap id 0", h + m + "a=extmap:0 urn:x\r\n", 6, "extmap id"},
      {"extmap id 256", h + m + "a=extmap:256 urn:x\r\n", 6, "extmap id"},
      {"extmap id text", h + m + "a=extmap:one urn:x\r\n", 6, "extmap id"},
      {"extmap dup", h + m + "a=extmap:3 urn:x\r\na=extmap:3 urn:y\r\n", 7, "extmap id 3 repeated"},
      {"extmap dir", h + m + "a=extmap:3/both urn:x\r\n", 6, "extmap direction"},
      {"extmap no uri", h + m + "a=extmap:3\r\n", 6, "no URI"},
      {"rtpmap pt absent", h + m + "a=rtpmap:98 VP9/90000\r\n", 6, "not in the m= line"},
      {"rtpmap pt 300", h + m + "a=rtpmap:300 VP9/90000\r\n", 6, "payload type"},
      {"rtpmap twice", h + m + "a=rtpmap:96 VP8/90000\r\na=rtpmap:96 VP9/90000\r\n", 7, "repeated"},
      {"rtpmap no rate", h + m + "a=rtpmap:96 VP8\r\n", 6, "rtpmap"},
      {"rtpmap channels 0", h + m + "a=rtpmap:96 opus/48000/0\r\n", 6, "channel"},
      {"fmtp twice", h + m + "a=fmtp:96 x=1\r\na=fmtp:96 x=2\r\n", 7, "repeated"},
      {"fmtp empty", h + m + "a=fmtp:96\r\n", 6, "without parameters"},
      {"rtcp-fb empty", h + m + "a=rtcp-fb:96 \r\n", 6, "rtcp-fb"},
      {"bad fingerprint", h + m + "a=fingerprint:sha-256 AB:CD:\r\n", 6, "fingerprint"},
      {"bad fingerprint hex", h + "a=fingerprint:sha-256 GG:00\r\n", 5, "fingerprint"},
      {"bad setup", h + m + "a=setup:both\r\n", 6, "setup"},
      {"short ufrag", h + m + "a=ice-ufrag:ab\r\n", 6, "ICE credential"},
      {"bad pwd char", h + "a=ice-pwd:abcdefghijklmnopqrstuvwxyz=\r\n", 5, "ICE credential"},
      {"bad rid", h + m + "a=rid:q both\r\n", 6, "rid direction"},
      {"rid chars", h + m + "a=rid:q! send\r\n", 6, "rid id"},
      {"rid twice", h + m + "a=rid:q send\r\na=rid:q send\r\n", 7, "repeated"},
      {"bad simulcast", h + m + "a=simulcast:send\r\n", 6, "simulcast"},
      {"simulcast dir", h + m + "a=simulcast:sideways q\r\n", 6, "simulcast direction"},
      {"simulcast twice", h + m + "a=simulcast:send q send h\r\n", 6, "simulcast direction"},
      {"simulcast empty rid", h + m + "a=simulcast:send q;;f\r\n", 6, "simulcast"},
      {"bad ssrc", h + m + "a=ssrc:4294967296 cname:x\r\n", 6, "bad ssrc"},
      {"ssrc no attribute", h + m + "a=ssrc:1\r\n", 6, "ssrc attribute"},
      {"ssrc-group empty", h + m + "a=ssrc-group:FID\r\n", 6, "ssrc-group"},
      {"ssrc-group text", h + m + "a=ssrc-group:SIM 1 two\r\n", 6, "ssrc"},
      {"sctp-port", h + m + "a=sctp-port:65536\r\n", 6, "sctp-port"},
      {"max-message-size", h + m + "a=max-message-size:-1\r\n", 6, "max-message-size"},
      {"candidate short", h + m + "a=candidate:1 1 udp 1 1.2.3.4 9\r\n", 6, "candidate"},
      {"candidate port", h + m + "a=candidate:1 1 udp 1 1.2.3.4 99999 typ host\r\n", 6, "candidate port"},
      {"candidate component", h + m + "a=candidate:1 0 udp 1 1.2.3.4 9 typ host\r\n", 6, "component"},
      {"msid three", h + m + "a=msid:a b c\r\n", 6, "msid"},
      {"two c lines", h + m + "c=IN IP4 0.0.0.0\r\nc=IN IP4 0.0.0.0\r\n", 7, "c= line"},
      {"bad c", h + "c=IN IP4\r\n", 5, "c= line"},
      {"t in media", h + m + "t=0 0\r\n", 6, "t= line"},
      {"empty attribute", h + "a=\r\n", 5, "empty attribute name"},
      {"group empty", h + "a=group:\r\n", 5, "group"},
      {"overlong line", h + "a=x-long:" + std::string(5000, 'z') + "\r\n", 5, "longer than 4096"},
  };
}

TEST(SdpParserHostile, EachBadInputNamesItsLine) {
  for (const BadCase& c : bad_cases()) {
    auto r = parse_sdp(c.sdp);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().line, c.line) << c.name << ": " << to_string(r.error());
    EXPECT_NE(r.error().reason.find(c.reason), std::string::npos) << c.name << ": " << to_string(r.error());
  }
}

TEST(SdpParserHostile, BinaryGarbage) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 200; ++i) {
    std::string junk(size_t(rng() % 3000), '\0');
    for (char& ch : junk) ch = char(rng());
    auto r = parse_sdp(junk);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().line, 1u);
  }
}

TEST(SdpParserHostile, OneMebibyteOfAttributeLines) {
  std::string text = kHeader;
  while (text.size() < (1u << 20)) text += "a=\r\n";
  auto r = parse_sdp(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().reason.find("larger than 65536"), std::string::npos);
  // The line holding the byte past the cap: 4 header lines, then 4-byte lines.
  const size_t header = std::string_view(kHeader).size();
  EXPECT_EQ(r.error().line, 5 + (kMaxSdpSize - header) / 4);
}

TEST(SdpParserHostile, TenThousandMediaLines) {
  std::string text = kHeader;
  for (int i = 0; i < 10000; ++i) text += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
  auto r = parse_sdp(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().reason.find("larger than"), std::string::npos);
  EXPECT_GT(r.error().line, 1000u);
}

TEST(SdpParserHostile, MediaSectionCap) {
  std::string text = kHeader;
  for (size_t i = 0; i < kMaxMediaSections; ++i) text += "m=audio 9 RTP/AVP 0\r\n";
  ASSERT_TRUE(parse_sdp(text).ok());
  text += "m=audio 9 RTP/AVP 0\r\n";
  auto r = parse_sdp(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 4 + kMaxMediaSections + 1);
  EXPECT_NE(r.error().reason.find("more than " + std::to_string(kMaxMediaSections) + " m-sections"), std::string::npos);
  // Whatever the server offers itself (3 × the consumer cap + 1) parses.
  static_assert(kMaxMediaSections >= 3 * 50 + 1);
}

TEST(SdpParserHostile, AttributeCapPerSection) {
  std::string text = std::string(kHeader) + "m=audio 9 RTP/AVP 0\r\n";
  for (size_t i = 0; i < kMaxAttributesPerSection; ++i) text += "a=x\r\n";
  ASSERT_TRUE(parse_sdp(text).ok());
  text += "a=x\r\n";
  auto r = parse_sdp(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 5 + kMaxAttributesPerSection + 1);
  // The cap is per section: a new m-section starts a new count.
  std::string two = std::string(kHeader) + "m=audio 9 RTP/AVP 0\r\n";
  for (size_t i = 0; i < kMaxAttributesPerSection; ++i) two += "a=x\r\n";
  two += "m=audio 9 RTP/AVP 0\r\na=x\r\n";
  EXPECT_TRUE(parse_sdp(two).ok());
}

TEST(SdpParserHostile, LineAtTheCapIsAccepted) {
  std::string line = "a=x:" + std::string(kMaxLineLength - 4, 'v');  // exactly 4096 bytes
  EXPECT_TRUE(parse_sdp(std::string(kHeader) + line + "\r\n").ok());
  auto r = parse_sdp(std::string(kHeader) + line + "v\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 5u);
}

// Random byte edits of the fixtures: nothing crashes, and whatever parses
// round-trips exactly (a small in-process version of the fuzzer).
TEST(SdpParserHostile, MutatedFixturesNeverCrashAndRoundTrip) {
  std::mt19937 rng(42);
  const char alphabet[] = "a=:/ ;,~*0123456789\r\nvmocstQ";
  size_t parsed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string text = read_fixture(kFixtures[size_t(iter) % std::size(kFixtures)]);
    int edits = 1 + int(rng() % 8);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t pos = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[pos] = alphabet[rng() % (sizeof(alphabet) - 1)];
          break;
        case 1:
          text.erase(pos, 1 + rng() % 40);
          break;
        default:
          text.insert(pos, text.substr(rng() % text.size(), rng() % 80));
          break;
      }
    }
    auto r = parse_sdp(text);
    if (!r.ok()) {
      EXPECT_GE(r.error().line, 1u);
      continue;
    }
    ++parsed;
    std::string written = write_sdp(*r);
    auto again = parse_sdp(written);
    ASSERT_TRUE(again.ok()) << to_string(again.error()) << "\n" << written;
    ASSERT_EQ(*r, *again) << text;
  }
  EXPECT_GT(parsed, 100u);
}

// RFC 8843 §7.2: Firefox offers every bundled section after the first with
// port 0 and a=bundle-only; such a section is in use, not rejected.
TEST(SdpParserBundle, BundleOnlySectionIsInUse) {
  const std::string text = std::string(kHeader) +
                           "a=group:BUNDLE 0 1\r\n"
                           "m=audio 9 UDP/TLS/RTP/SAVPF 109\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
                           "m=video 0 UDP/TLS/RTP/SAVPF 120\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\na=mid:1\r\n"
                           "a=sendonly\r\n"
                           "m=video 0 UDP/TLS/RTP/SAVPF 120\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=inactive\r\n";
  auto r = parse_sdp(text);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  ASSERT_EQ(r->media.size(), 3u);
  EXPECT_FALSE(r->media[0].bundle_only);
  EXPECT_TRUE(r->media[0].in_use());
  EXPECT_TRUE(r->media[1].bundle_only);
  EXPECT_TRUE(r->media[1].in_use());
  EXPECT_FALSE(r->media[2].in_use()) << "port 0 without bundle-only is rejected";
  EXPECT_NE(write_sdp(*r).find("a=bundle-only\r\n"), std::string::npos) << "kept on a round trip";
}

}  // namespace
}  // namespace sfu::signaling::sdp
