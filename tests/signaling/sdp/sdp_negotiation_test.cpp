// Offer/answer helpers against the browser fixtures: which codecs and header
// extensions the server accepts, with the offerer's payload types and ids,
// and how simulcast is read from an offer and mirrored in the answer.
#include "signaling/sdp/sdp_negotiation.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::signaling::sdp {
namespace {

SessionDescription parse_fixture(const std::string& name) {
  std::ifstream in(std::string(SFU_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = parse_sdp(ss.str());
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : to_string(r.error()));
  return r.ok() ? *r : SessionDescription{};
}

// "pt:name[/rtx]" for each accepted codec, in order.
std::vector<std::string> summary(const std::vector<AcceptedCodec>& accepted) {
  std::vector<std::string> out;
  for (const AcceptedCodec& a : accepted) {
    std::string s = std::to_string(a.codec.payload_type) + ":" + a.codec.name;
    if (a.rtx) s += "/" + std::to_string(a.rtx->payload_type);
    out.push_back(s);
  }
  return out;
}

std::vector<std::pair<uint16_t, std::string>> ids(const std::vector<Extmap>& extmaps) {
  std::vector<std::pair<uint16_t, std::string>> out;
  for (const Extmap& e : extmaps) out.emplace_back(e.id, e.uri);
  return out;
}

const std::vector<RtcpFeedback> kChromeVideoFeedback = {
    {"goog-remb", ""}, {"transport-cc", ""}, {"ccm", "fir"}, {"nack", ""}, {"nack", "pli"}};

const char* const kMid = "urn:ietf:params:rtp-hdrext:sdes:mid";
const char* const kRid = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
const char* const kRrid = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
const char* const kAbs = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
const char* const kTwcc = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
const char* const kLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

// ---- Capability tables ------------------------------------------------------

TEST(SdpCapabilities, CodecTableFollowsProtocol) {
  const auto& caps = server_codec_capabilities();
  ASSERT_EQ(caps.size(), 4u);
  EXPECT_EQ(caps[0].name, "opus");
  EXPECT_EQ(caps[0].channels, 2);
  EXPECT_EQ(caps[0].answer_fmtp, "minptime=10;useinbandfec=1");
  EXPECT_FALSE(caps[0].rtx);
  for (size_t i = 1; i < caps.size(); ++i) {
    EXPECT_EQ(caps[i].kind, MediaKind::video);
    EXPECT_TRUE(caps[i].rtx) << caps[i].name;
    EXPECT_EQ(caps[i].feedback, kChromeVideoFeedback) << caps[i].name;
  }
  EXPECT_EQ(find_param(caps[2].params, "profile-id"), "0");
  EXPECT_EQ(find_param(caps[3].params, "profile-level-id"), "42e01f");
  EXPECT_EQ(find_param(caps[3].params, "packetization-mode"), "1");
  EXPECT_EQ(server_header_extensions().size(), 6u);
}

TEST(SdpCapabilities, CapabilityCodecsForOffers) {
  std::vector<Codec> h264 = capability_codecs(server_codec_capabilities()[3]);
  ASSERT_EQ(h264.size(), 2u);
  EXPECT_EQ(h264[0].payload_type, 102);
  EXPECT_EQ(h264[0].fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  EXPECT_EQ(h264[1].name, "rtx");
  EXPECT_EQ(h264[1].fmtp, "apt=102");
  std::vector<Codec> opus = capability_codecs(server_codec_capabilities()[0]);
  ASSERT_EQ(opus.size(), 1u);
  EXPECT_EQ(opus[0].channels, 2);
}

// ---- H264 profile-level-id (RFC 6184 §8.1) -----------------------------------

TEST(SdpH264Profile, Table5Classes) {
  struct Case {
    const char* hex;
    H264Profile profile;
    uint8_t level;
  };
  const Case cases[] = {
      {"42e01f", H264Profile::constrained_baseline, 0x1f},
      {"42c01e", H264Profile::constrained_baseline, 0x1e},
      {"4d801f", H264Profile::constrained_baseline, 0x1f},
      {"42001f", H264Profile::baseline, 0x1f},
      {"420010", H264Profile::baseline, 0x10},
      {"4d001f", H264Profile::main, 0x1f},
      {"4D0032", H264Profile::main, 0x32},
      {"58001f", H264Profile::extended, 0x1f},
      {"64001f", H264Profile::high, 0x1f},
      {"640c1f", H264Profile::constrained_high, 0x1f},
      {"f4001f", H264Profile::high444, 0x1f},
  };
  for (const Case& c : cases) {
    auto pl = parse_h264_profile_level_id(c.hex);
    ASSERT_TRUE(pl) << c.hex;
    EXPECT_EQ(*pl, (H264ProfileLevel{c.profile, c.level})) << c.hex;
  }
  for (const char* bad : {"", "42e0", "42e01f0", "zze01f", "43001f", "42011f", "640d1f"}) {
    EXPECT_FALSE(parse_h264_profile_level_id(bad)) << bad;
  }
}

TEST(SdpH264Profile, MatchingRule) {
  const CodecCapability& h264 = server_codec_capabilities()[3];
  auto offered = [](std::string fmtp) {
    Codec c;
    c.name = "H264";
    c.clock_rate = 90000;
    c.params = parse_params(fmtp);
    return c;
  };
  EXPECT_TRUE(codec_matches(offered("packetization-mode=1;profile-level-id=42e01f"), h264));
  EXPECT_TRUE(codec_matches(offered("packetization-mode=1;profile-level-id=42001f"), h264));  // Baseline as CB
  EXPECT_TRUE(codec_matches(offered("packetization-mode=1;profile-level-id=42e034"), h264));  // level not compared
  EXPECT_TRUE(codec_matches(offered("packetization-mode=1"), h264));                          // default 420010
  EXPECT_FALSE(codec_matches(offered("packetization-mode=0;profile-level-id=42e01f"), h264));
  EXPECT_FALSE(codec_matches(offered("profile-level-id=42e01f"), h264));  // mode defaults to 0
  EXPECT_FALSE(codec_matches(offered("packetization-mode=1;profile-level-id=4d001f"), h264));
  EXPECT_FALSE(codec_matches(offered("packetization-mode=1;profile-level-id=640c1f"), h264));
  EXPECT_FALSE(codec_matches(offered("packetization-mode=1;profile-level-id=nothex"), h264));
  // A Main capability accepts Main only.
  CodecCapability main = h264;
  main.params = parse_params("packetization-mode=1;profile-level-id=4d001f");
  EXPECT_TRUE(codec_matches(offered("packetization-mode=1;profile-level-id=4d0032"), main));
  EXPECT_FALSE(codec_matches(offered("packetization-mode=1;profile-level-id=42e01f"), main));
}

TEST(SdpCodecMatch, NamesRatesChannelsAndVp9Profile) {
  const auto& caps = server_codec_capabilities();
  Codec c;
  c.name = "OPUS";
  c.clock_rate = 48000;
  c.channels = 2;
  EXPECT_TRUE(codec_matches(c, caps[0]));
  c.channels = 1;
  EXPECT_FALSE(codec_matches(c, caps[0]));
  c.channels = 0;  // absent count means 1
  EXPECT_FALSE(codec_matches(c, caps[0]));
  Codec vp9;
  vp9.name = "VP9";
  vp9.clock_rate = 90000;
  EXPECT_TRUE(codec_matches(vp9, caps[2]));  // profile-id absent = 0
  vp9.params = parse_params("profile-id=2");
  EXPECT_FALSE(codec_matches(vp9, caps[2]));
  Codec vp8;
  vp8.name = "vp8";
  vp8.clock_rate = 90000;
  EXPECT_TRUE(codec_matches(vp8, caps[1]));
  vp8.clock_rate = 48000;
  EXPECT_FALSE(codec_matches(vp8, caps[1]));
}

// ---- Chrome -----------------------------------------------------------------

TEST(SdpNegotiation, ChromeAudio) {
  SessionDescription offer = parse_fixture("chrome_publish_simulcast.sdp");
  ASSERT_EQ(offer.media.size(), 3u);
  auto accepted = match_codecs(offer.media[0], server_codec_capabilities());
  ASSERT_EQ(summary(accepted), std::vector<std::string>{"111:opus"});
  EXPECT_EQ(accepted[0].codec.fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(accepted[0].codec.channels, 2);
  EXPECT_EQ(accepted[0].codec.feedback, (std::vector<RtcpFeedback>{{"transport-cc", ""}}));
  EXPECT_EQ(accepted[0].capability, 0u);
  EXPECT_EQ(ids(match_extensions(offer.media[0], server_header_extensions())),
            (std::vector<std::pair<uint16_t, std::string>>{{1, kLevel}, {2, kAbs}, {3, kTwcc}, {4, kMid}}));
}

TEST(SdpNegotiation, ChromeVideo) {
  SessionDescription offer = parse_fixture("chrome_publish_simulcast.sdp");
  ASSERT_EQ(offer.media.size(), 3u);
  const MediaSection& v = offer.media[1];
  auto accepted = match_codecs(v, server_codec_capabilities());
  // Offer order; H264 42001f and 42e01f with mode 1; not mode 0, Main, High, VP9 profile 2, AV1, red, ulpfec.
  EXPECT_EQ(summary(accepted), (std::vector<std::string>{"96:VP8/97", "102:H264/103", "106:H264/107", "98:VP9/99"}));
  for (const AcceptedCodec& a : accepted) {
    EXPECT_EQ(a.codec.feedback, kChromeVideoFeedback) << a.codec.name;
    ASSERT_TRUE(a.rtx);
    EXPECT_EQ(a.rtx->param("apt"), std::to_string(a.codec.payload_type));
    EXPECT_TRUE(a.rtx->feedback.empty());
  }
  EXPECT_EQ(accepted[2].codec.fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  EXPECT_EQ(accepted[3].codec.fmtp, "profile-id=0");
  EXPECT_EQ(ids(match_extensions(v, server_header_extensions())),
            (std::vector<std::pair<uint16_t, std::string>>{{2, kAbs}, {3, kTwcc}, {4, kMid}, {10, kRid}, {11, kRrid}}));
  auto sim = extract_simulcast(v);
  ASSERT_TRUE(sim);
  EXPECT_EQ(sim->rids, (std::vector<std::string>{"q", "h", "f"}));
  EXPECT_TRUE(sim->ssrcs.empty());
}

TEST(SdpNegotiation, ChromeDataSectionHasNoCodecs) {
  SessionDescription offer = parse_fixture("chrome_publish_simulcast.sdp");
  ASSERT_EQ(offer.media.size(), 3u);
  EXPECT_TRUE(match_codecs(offer.media[2], server_codec_capabilities()).empty());
  EXPECT_TRUE(match_extensions(offer.media[2], server_header_extensions()).empty());
  EXPECT_FALSE(extract_simulcast(offer.media[2]));
}

TEST(SdpNegotiation, ChromeRecvonlyOfferAcceptsTheSameCodecs) {
  SessionDescription offer = parse_fixture("chrome_recvonly.sdp");
  ASSERT_EQ(offer.media.size(), 2u);
  EXPECT_EQ(summary(match_codecs(offer.media[1], server_codec_capabilities())),
            (std::vector<std::string>{"96:VP8/97", "102:H264/103", "106:H264/107", "98:VP9/99"}));
  EXPECT_FALSE(extract_simulcast(offer.media[1]));
}

TEST(SdpNegotiation, ChromeSsrcSimulcast) {
  SessionDescription offer = parse_fixture("chrome_ssrc_simulcast.sdp");
  ASSERT_EQ(offer.media.size(), 2u);
  auto sim = extract_simulcast(offer.media[1]);
  ASSERT_TRUE(sim);
  EXPECT_TRUE(sim->rids.empty());
  EXPECT_EQ(sim->ssrcs, (std::vector<uint32_t>{3167542901u, 3167542902u, 3167542903u}));
  EXPECT_EQ(sim->rtx_ssrcs, (std::vector<uint32_t>{2871102311u, 2871102312u, 2871102313u}));
  MediaSection answer;
  answer_simulcast(*sim, answer);  // nothing to mirror for SSRC simulcast
  EXPECT_TRUE(answer.rids.empty());
  EXPECT_FALSE(answer.simulcast);
}

// ---- Firefox and Safari -------------------------------------------------------

TEST(SdpNegotiation, FirefoxSameSemantics) {
  SessionDescription offer = parse_fixture("firefox_publish_simulcast.sdp");
  ASSERT_EQ(offer.media.size(), 3u);
  auto audio = match_codecs(offer.media[0], server_codec_capabilities());
  ASSERT_EQ(summary(audio), std::vector<std::string>{"109:opus"});
  EXPECT_EQ(audio[0].codec.fmtp, "minptime=10;useinbandfec=1");
  EXPECT_TRUE(audio[0].codec.feedback.empty());  // Firefox offers no rtcp-fb for opus
  EXPECT_EQ(ids(match_extensions(offer.media[0], server_header_extensions())),
            (std::vector<std::pair<uint16_t, std::string>>{{1, kLevel}, {3, kMid}}));

  const MediaSection& v = offer.media[1];
  auto video = match_codecs(v, server_codec_capabilities());
  EXPECT_EQ(summary(video), (std::vector<std::string>{"120:VP8/124", "121:VP9/125", "126:H264/127"}));
  EXPECT_EQ(video[0].codec.fmtp, "max-fs=12288;max-fr=60");
  EXPECT_EQ(video[0].codec.feedback,
            (std::vector<RtcpFeedback>{
                {"nack", ""}, {"nack", "pli"}, {"ccm", "fir"}, {"goog-remb", ""}, {"transport-cc", ""}}));
  auto ext = match_extensions(v, server_header_extensions());
  EXPECT_EQ(ids(ext),
            (std::vector<std::pair<uint16_t, std::string>>{{3, kMid}, {4, kAbs}, {7, kTwcc}, {8, kRid}, {9, kRrid}}));
  EXPECT_EQ(ext[4].direction, Direction::recvonly);  // offered 9/sendonly
  EXPECT_EQ(ext[0].direction, std::nullopt);
  auto sim = extract_simulcast(v);
  ASSERT_TRUE(sim);
  EXPECT_EQ(sim->rids, (std::vector<std::string>{"q", "h", "f"}));
}

TEST(SdpNegotiation, SafariH264First) {
  SessionDescription offer = parse_fixture("safari_publish.sdp");
  ASSERT_EQ(offer.media.size(), 2u);
  EXPECT_EQ(summary(match_codecs(offer.media[1], server_codec_capabilities())),
            (std::vector<std::string>{"98:H264/99", "127:VP8/125", "104:VP9/105"}));
  EXPECT_FALSE(extract_simulcast(offer.media[1]));  // an FID group alone is not simulcast
}

// ---- Unsupported offers and edge cases -----------------------------------------

TEST(SdpNegotiation, OnlyUnsupportedCodecsGiveNothing) {
  auto r = parse_sdp(
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 45 100 116 118\r\na=mid:0\r\n"
      "a=extmap:1 urn:ietf:params:rtp-hdrext:toffset\r\n"
      "a=rtpmap:45 AV1/90000\r\na=rtpmap:100 H265/90000\r\na=rtpmap:116 red/90000\r\na=rtpmap:118 ulpfec/90000\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 0 8 9\r\na=mid:1\r\n"
      "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:2\r\n");  // opus without rtpmap: unnamed, not matched
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  for (const MediaSection& m : r->media) {
    EXPECT_TRUE(match_codecs(m, server_codec_capabilities()).empty()) << *m.mid;
  }
  EXPECT_TRUE(match_extensions(r->media[0], server_header_extensions()).empty());
}

TEST(SdpNegotiation, WildcardFeedbackAndMissingRtx) {
  auto r = parse_sdp(
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n"
      "a=rtcp-fb:* nack\r\na=rtcp-fb:* goog-remb\r\na=rtcp-fb:* ccm tmmbr\r\n"
      "a=rtpmap:97 rtx/48000\r\na=fmtp:97 apt=96\r\n");  // rtx clock rate differs: not used
  ASSERT_TRUE(r.ok());
  auto accepted = match_codecs(r->media[0], server_codec_capabilities());
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0].codec.feedback, (std::vector<RtcpFeedback>{{"nack", ""}, {"goog-remb", ""}}));
  EXPECT_FALSE(accepted[0].rtx);
}

TEST(SdpNegotiation, DuplicateExtensionUriIsAcceptedOnce) {
  MediaSection m;
  m.kind = MediaKind::video;
  m.extmaps = {{5, std::nullopt, kMid, ""}, {6, std::nullopt, kMid, ""}, {7, std::nullopt, kLevel, ""}};
  auto ext = match_extensions(m, server_header_extensions());
  EXPECT_EQ(ids(ext), (std::vector<std::pair<uint16_t, std::string>>{{5, kMid}}));  // audio-level is audio only
}

TEST(SdpSimulcast, AlternativesPausedAndUnknownRids) {
  MediaSection m;
  m.rids = {{"q", RidDirection::send, "", {}}, {"h2", RidDirection::send, "", {}}, {"r", RidDirection::recv, "", {}}};
  m.simulcast =
      Simulcast{{{{"q", false}}, {{"h", true}, {"h2", false}}, {{"zz", false}}, {{"q", false}}}, {{{"r", false}}}};
  auto sim = extract_simulcast(m);
  ASSERT_TRUE(sim);
  // h has no a=rid line, so its stream uses h2; zz is unknown; q appears once.
  EXPECT_EQ(sim->rids, (std::vector<std::string>{"q", "h2"}));
  m.rids.clear();  // a=simulcast without any a=rid: not usable
  EXPECT_FALSE(extract_simulcast(m));
  m.simulcast->send.clear();
  EXPECT_FALSE(extract_simulcast(m));
}

TEST(SdpSimulcast, AnswerMirrorsRidsInOrder) {
  SimulcastInfo info;
  info.rids = {"q", "h", "f"};
  MediaSection answer;
  answer.formats = {"96"};
  answer_simulcast(info, answer);
  ASSERT_EQ(answer.rids.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(answer.rids[i].id, info.rids[i]);
    EXPECT_EQ(answer.rids[i].direction, RidDirection::recv);
  }
  ASSERT_TRUE(answer.simulcast);
  EXPECT_TRUE(answer.simulcast->send.empty());
  SessionDescription sd;
  sd.media.push_back(answer);
  std::string text = write_sdp(sd);
  EXPECT_NE(text.find("a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f\r\n"), std::string::npos)
      << text;
}

// The pieces together: a publisher answer for Chrome's video m-section.
TEST(SdpNegotiation, AnswerForChromeVideoParsesBack) {
  SessionDescription offer = parse_fixture("chrome_publish_simulcast.sdp");
  ASSERT_EQ(offer.media.size(), 3u);
  const MediaSection& o = offer.media[1];
  MediaSection a;
  a.kind = o.kind;
  a.mid = o.mid;
  a.direction = reverse(o.effective_direction());
  a.rtcp_mux = true;
  a.rtcp_rsize = true;
  a.setup = Setup::passive;
  auto accepted = match_codecs(o, server_codec_capabilities());
  set_codecs(a, accepted);
  EXPECT_EQ(a.formats, (std::vector<std::string>{"96", "97", "102", "103", "106", "107", "98", "99"}));
  a.extmaps = match_extensions(o, server_header_extensions());
  answer_simulcast(*extract_simulcast(o), a);
  SessionDescription answer;
  answer.ice_lite = true;
  answer.media.push_back(a);
  auto parsed = parse_sdp(write_sdp(answer));
  ASSERT_TRUE(parsed.ok()) << to_string(parsed.error());
  const MediaSection& p = parsed->media[0];
  EXPECT_EQ(p.direction, Direction::recvonly);
  EXPECT_EQ(p.rtx_payload_type(106), 107);
  EXPECT_EQ(p.find_codec(96)->feedback, kChromeVideoFeedback);
  EXPECT_EQ(p.extmaps, a.extmaps);
  EXPECT_EQ(p.rids.size(), 3u);
  EXPECT_EQ(extract_simulcast(p), std::nullopt);  // recv-only simulcast: nothing sent
}

}  // namespace
}  // namespace sfu::signaling::sdp
