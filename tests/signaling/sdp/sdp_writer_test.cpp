// SDP writer: canonical line order, CRLF endings, raw-over-parsed fields, and
// hand-built descriptions (what the server writes) parsing back as built.
#include "signaling/sdp/sdp_writer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "signaling/sdp/sdp_parser.hpp"

namespace sfu::signaling::sdp {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(SFU_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\r\n", pos);
    if (end == std::string::npos) break;
    out.push_back(text.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

// A server-style answer to a one-video, one-data offer, built field by field.
SessionDescription hand_built_answer() {
  SessionDescription sd;
  sd.origin = {"-", 1700000000000001, 2, "IN", "IP4", "127.0.0.1"};
  sd.ice_lite = true;
  sd.groups.push_back({"BUNDLE", {"0", "1"}});
  sd.msid_semantic = MsidSemantic{"WMS", {"*"}};
  MediaSection v;
  v.kind = MediaKind::video;
  v.formats = {"96", "97"};
  v.connection = Connection{};
  v.ice_ufrag = "srvU";
  v.ice_pwd = "0123456789abcdefghijkl";
  v.ice_options = {"renomination"};
  v.fingerprints.push_back({"sha-256", "AB:CD"});
  v.setup = Setup::passive;
  v.mid = "0";
  v.extmaps.push_back({4, std::nullopt, "urn:ietf:params:rtp-hdrext:sdes:mid", ""});
  v.extmaps.push_back({9, Direction::recvonly, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", ""});
  v.direction = Direction::recvonly;
  v.rtcp_mux = true;
  v.rtcp_rsize = true;
  Codec vp8;
  vp8.payload_type = 96;
  vp8.name = "VP8";
  vp8.clock_rate = 90000;
  vp8.feedback = {{"nack", ""}, {"nack", "pli"}};
  Codec rtx;
  rtx.payload_type = 97;
  rtx.name = "rtx";
  rtx.clock_rate = 90000;
  rtx.params = {{"apt", "96"}};  // no raw fmtp: written from params
  v.codecs = {vp8, rtx};
  v.rids.push_back({"q", RidDirection::recv, "", {}});
  v.rids.push_back({"h", RidDirection::recv, "", {{"max-width", "640"}}});
  v.simulcast = Simulcast{{}, {{{"q", false}}, {{"h", false}}}};
  v.ssrc_groups.push_back({"FID", {1, 2}});
  v.ssrcs.push_back({1, {{"cname", "c"}, {"msid", "s t"}}});
  Candidate c;
  c.foundation = "1";
  c.transport = "udp";
  c.priority = 2130706431;
  c.address = "192.0.2.1";
  c.port = 40000;
  c.type = "host";
  v.candidates.push_back(c);
  v.end_of_candidates = true;
  MediaSection d;
  d.kind = MediaKind::application;
  d.protocol = "UDP/DTLS/SCTP";
  d.formats = {"webrtc-datachannel"};
  d.mid = "1";
  d.sctp_port = 5000;
  d.max_message_size = 262144;
  d.attributes.push_back({"x-extra", std::nullopt});
  sd.media = {v, d};
  return sd;
}

TEST(SdpWriter, CanonicalOrder) {
  const std::vector<std::string> expected = {
      "v=0",
      "o=- 1700000000000001 2 IN IP4 127.0.0.1",
      "s=-",
      "t=0 0",
      "a=ice-lite",
      "a=group:BUNDLE 0 1",
      "a=msid-semantic:WMS *",
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
      "c=IN IP4 0.0.0.0",
      "a=ice-ufrag:srvU",
      "a=ice-pwd:0123456789abcdefghijkl",
      "a=ice-options:renomination",
      "a=fingerprint:sha-256 AB:CD",
      "a=setup:passive",
      "a=mid:0",
      "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
      "a=extmap:9/recvonly urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
      "a=recvonly",
      "a=rtcp-mux",
      "a=rtcp-rsize",
      "a=rtpmap:96 VP8/90000",
      "a=rtcp-fb:96 nack",
      "a=rtcp-fb:96 nack pli",
      "a=rtpmap:97 rtx/90000",
      "a=fmtp:97 apt=96",
      "a=rid:q recv",
      "a=rid:h recv max-width=640",
      "a=simulcast:recv q;h",
      "a=ssrc-group:FID 1 2",
      "a=ssrc:1 cname:c",
      "a=ssrc:1 msid:s t",
      "a=candidate:1 1 udp 2130706431 192.0.2.1 40000 typ host",
      "a=end-of-candidates",
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
      "a=mid:1",
      "a=sctp-port:5000",
      "a=max-message-size:262144",
      "a=x-extra",
  };
  std::string text = write_sdp(hand_built_answer());
  EXPECT_EQ(lines_of(text), expected);
  ASSERT_GE(text.size(), 2u);
  EXPECT_EQ(text.substr(text.size() - 2), "\r\n");
  EXPECT_EQ(text.find('\n'), text.find("\r\n") + 1);  // no bare LF
}

TEST(SdpWriter, HandBuiltDescriptionParsesBack) {
  SessionDescription built = hand_built_answer();
  auto parsed = parse_sdp(write_sdp(built));
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  const MediaSection& v = parsed->media[0];
  EXPECT_TRUE(parsed->ice_lite);
  EXPECT_EQ(v.codecs[1].fmtp, "apt=96");
  EXPECT_EQ(v.codecs[1].params, built.media[0].codecs[1].params);
  EXPECT_EQ(v.rtx_payload_type(96), 97);
  EXPECT_EQ(v.rids, (std::vector<Rid>{{"q", RidDirection::recv, "", {}},
                                      {"h", RidDirection::recv, "max-width=640", {{"max-width", "640"}}}}));
  EXPECT_EQ(v.simulcast, built.media[0].simulcast);
  EXPECT_EQ(v.extmaps, built.media[0].extmaps);
  ASSERT_EQ(v.candidates.size(), 1u);
  EXPECT_EQ(v.candidates[0].address, "192.0.2.1");
  EXPECT_EQ(v.candidates[0].port, 40000);
  EXPECT_EQ(v.ssrcs, built.media[0].ssrcs);
  EXPECT_EQ(parsed->media[1].attributes, built.media[1].attributes);
  // Written once more, the text is stable.
  EXPECT_EQ(write_sdp(*parsed), write_sdp(built));
}

TEST(SdpWriter, FirefoxOrderIsNormalised) {
  auto ff = parse_sdp(read_fixture("firefox_publish_simulcast.sdp"));
  ASSERT_TRUE(ff.ok());
  std::vector<std::string> lines = lines_of(write_sdp(*ff));
  size_t video = 0;
  while (video < lines.size() && lines[video].rfind("m=video", 0) != 0) ++video;
  ASSERT_LT(video, lines.size());
  // Position of `line`, searched from the video m-line on (session lines before it).
  auto index = [&](const std::string& line) {
    for (size_t i = line.rfind("a=fingerprint", 0) == 0 ? 0 : video; i < lines.size(); ++i) {
      if (lines[i] == line) return i;
    }
    ADD_FAILURE() << "missing " << line;
    return size_t(0);
  };
  // Within the video section: ice, mid, extmap, direction, msid, rtcp-mux, codecs, rids, simulcast, ssrc.
  EXPECT_LT(index("a=ice-ufrag:8c1e4a7f"), index("a=mid:1"));
  EXPECT_LT(index("a=mid:1"), index("a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid"));
  EXPECT_LT(index("a=extmap:9/sendonly urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"), index("a=sendonly"));
  EXPECT_LT(index("a=rtcp-rsize"), index("a=rtpmap:120 VP8/90000"));
  EXPECT_LT(index("a=rtpmap:120 VP8/90000"), index("a=rtcp-fb:120 nack"));
  EXPECT_LT(index("a=rtcp-fb:120 transport-cc"), index("a=fmtp:120 max-fs=12288;max-fr=60"));
  EXPECT_LT(index("a=fmtp:120 max-fs=12288;max-fr=60"), index("a=rtpmap:124 rtx/90000"));
  EXPECT_LT(index("a=rtpmap:119 rtx/90000"), index("a=rid:q send"));
  EXPECT_LT(index("a=rid:f send"), index("a=simulcast:send q;h;f"));
  EXPECT_LT(index("a=simulcast:send q;h;f"), index("a=ssrc-group:FID 3411087201 605839271"));
  // The session-level fingerprint stays at the session level.
  EXPECT_LT(index("a=fingerprint:sha-256 " + ff->fingerprints[0].value), 8u);
}

TEST(SdpWriter, OptionalPartsProduceNoLines) {
  SessionDescription sd;
  MediaSection m;
  m.kind = MediaKind::other;
  m.other_kind = "text";
  m.port = 0;
  m.protocol = "RTP/AVP";
  m.formats = {"0"};
  m.simulcast = Simulcast{};  // empty: nothing to write
  sd.media.push_back(m);
  EXPECT_EQ(write_sdp(sd), "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=text 0 RTP/AVP 0\r\n");
}

TEST(SdpWriter, RawFieldsWinOverParsedOnes) {
  SessionDescription sd;
  MediaSection m;
  m.formats = {"111"};
  Codec opus;
  opus.payload_type = 111;
  opus.name = "opus";
  opus.clock_rate = 48000;
  opus.channels = 2;
  opus.fmtp = "useinbandfec=1; minptime=10";
  opus.params = {{"ignored", "1"}};
  m.codecs.push_back(opus);
  Candidate c;
  c.raw = "7 1 UDP 1 10.0.0.1 5000 typ host generation 0";
  c.foundation = "ignored";
  m.candidates.push_back(c);
  sd.media.push_back(m);
  std::string text = write_sdp(sd);
  EXPECT_NE(text.find("a=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1; minptime=10\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=candidate:7 1 UDP 1 10.0.0.1 5000 typ host generation 0\r\n"), std::string::npos);
  auto parsed = parse_sdp(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->media[0].codecs[0].params, (std::vector<Param>{{"useinbandfec", "1"}, {"minptime", "10"}}));
}

TEST(SdpWriter, WildcardFeedbackAndSessionLevelFields) {
  SessionDescription sd;
  sd.ice_ufrag = "sess";
  sd.ice_pwd = "sessionpasswordsession";
  sd.setup = Setup::actpass;
  sd.extmap_allow_mixed = true;
  sd.bandwidths = {"AS:1000"};
  sd.connection = Connection{};
  MediaSection m;
  m.formats = {"96"};
  m.feedback_all = {{"nack", ""}, {"ccm", "fir"}};
  m.extmap_allow_mixed = true;
  m.msids = {{"-", "track"}, {"stream", ""}};
  sd.media.push_back(m);
  std::string text = write_sdp(sd);
  EXPECT_NE(
      text.find("c=IN IP4 0.0.0.0\r\nb=AS:1000\r\nt=0 0\r\na=ice-ufrag:sess\r\na=ice-pwd:sessionpasswordsession\r\n"
                "a=setup:actpass\r\na=extmap-allow-mixed\r\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("a=msid:- track\r\na=msid:stream\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=rtcp-fb:* nack\r\na=rtcp-fb:* ccm fir\r\n"), std::string::npos);
  auto parsed = parse_sdp(text);
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  EXPECT_EQ(parsed->media[0].feedback_all, m.feedback_all);
  EXPECT_EQ(parsed->media[0].msids, m.msids);
  EXPECT_EQ(parsed->effective_ice_ufrag(parsed->media[0]), "sess");
  EXPECT_EQ(parsed->effective_setup(parsed->media[0]), Setup::actpass);
}

}  // namespace
}  // namespace sfu::signaling::sdp
