// The load generator's SDP: the publisher offer a browser would send, the
// server offer it reads for the receiving PeerConnection, and the answer it
// writes back (JSEP, RFC 8829; BUNDLE RFC 8843; simulcast RFC 8853).
#include "bench/load/load_sdp.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "bench/load/load_runner.hpp"
#include "rtp/header_extensions.hpp"
#include "signaling/sdp/sdp_parser.hpp"

namespace sfu::load {
namespace {

namespace sdp = signaling::sdp;
using server::media::MediaKind;

LocalPcParams local_params() {
  LocalPcParams p;
  p.ice_ufrag = "ufrAG123";
  p.ice_pwd = "passwordpasswordpassword";
  for (size_t i = 0; i < p.fingerprint.size(); ++i) p.fingerprint[i] = uint8_t(i * 7);
  p.session_id = 42;
  return p;
}

LoadOptions default_options() { return LoadOptions{}; }

sdp::SessionDescription parse(const std::string& text) {
  auto sd = sdp::parse_sdp(text);
  EXPECT_TRUE(sd.ok()) << (sd.ok() ? "" : sdp::to_string(sd.error())) << "\n" << text;
  return sd.ok() ? *sd : sdp::SessionDescription{};
}

bool has_extmap(const sdp::MediaSection& m, std::string_view uri, uint16_t id) {
  return std::any_of(m.extmaps.begin(), m.extmaps.end(), [&](const sdp::Extmap& e) { return e.uri == uri && e.id == id; });
}

TEST(PublisherOffer, SimulcastOfferLooksLikeChrome) {
  const auto config = make_publisher_config(3, 0x1000, default_options());
  const auto sd = parse(build_publisher_offer(config, {}, local_params()));
  ASSERT_EQ(sd.media.size(), 2u);
  ASSERT_EQ(sd.groups.size(), 1u);
  EXPECT_EQ(sd.groups[0].semantics, "BUNDLE");
  EXPECT_EQ(sd.groups[0].mids, (std::vector<std::string>{"0", "1"}));

  const auto& audio = sd.media[0];
  EXPECT_EQ(audio.kind, sdp::MediaKind::audio);
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.direction, sdp::Direction::sendonly);
  EXPECT_EQ(audio.setup, sdp::Setup::actpass);
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_EQ(audio.ice_ufrag, "ufrAG123");
  EXPECT_EQ(audio.ice_pwd, "passwordpasswordpassword");
  ASSERT_EQ(audio.fingerprints.size(), 1u);
  EXPECT_EQ(audio.fingerprints[0].algorithm, "sha-256");
  EXPECT_EQ(dtls::Certificate::parse_fingerprint(audio.fingerprints[0].value), local_params().fingerprint);
  ASSERT_NE(audio.find_codec("opus"), nullptr);
  EXPECT_EQ(audio.find_codec("opus")->payload_type, 111);
  EXPECT_EQ(audio.find_codec("opus")->param("useinbandfec"), "1");
  EXPECT_TRUE(has_extmap(audio, rtp::ext::kAudioLevelUri, 4));
  EXPECT_TRUE(has_extmap(audio, rtp::ext::kMidUri, 1));
  EXPECT_TRUE(has_extmap(audio, rtp::ext::kTransportWideCcUri, 3));
  ASSERT_EQ(audio.ssrcs.size(), 1u);
  EXPECT_EQ(audio.ssrcs[0].ssrc, 0x1000u);

  const auto& video = sd.media[1];
  EXPECT_EQ(video.kind, sdp::MediaKind::video);
  EXPECT_EQ(video.mid, "1");
  EXPECT_EQ(video.direction, sdp::Direction::sendonly);
  ASSERT_NE(video.find_codec("VP8"), nullptr);
  EXPECT_EQ(video.find_codec("VP8")->payload_type, 96);
  EXPECT_EQ(video.rtx_payload_type(96), 97);
  const auto& fb = video.find_codec("VP8")->feedback;
  for (auto [type, param] : {std::pair{"nack", ""}, {"nack", "pli"}, {"ccm", "fir"}, {"transport-cc", ""}}) {
    EXPECT_NE(std::find(fb.begin(), fb.end(), sdp::RtcpFeedback{type, param}), fb.end()) << type << " " << param;
  }
  EXPECT_TRUE(has_extmap(video, rtp::ext::kRidUri, 10));
  EXPECT_TRUE(has_extmap(video, rtp::ext::kRepairedRidUri, 11));
  EXPECT_TRUE(has_extmap(video, rtp::ext::kAbsSendTimeUri, 2));
  // a=rid:q send, h, f and a=simulcast:send q;h;f, lowest first; no a=ssrc.
  ASSERT_EQ(video.rids.size(), 3u);
  EXPECT_EQ(video.rids[0].id, "q");
  EXPECT_EQ(video.rids[2].id, "f");
  EXPECT_EQ(video.rids[0].direction, sdp::RidDirection::send);
  ASSERT_TRUE(video.simulcast.has_value());
  ASSERT_EQ(video.simulcast->send.size(), 3u);
  EXPECT_EQ(video.simulcast->send[1][0].rid, "h");
  EXPECT_TRUE(video.ssrcs.empty());
}

TEST(PublisherOffer, HostCandidateWhenTheSocketIsKnown) {
  // A full-ICE server (Janus) checks the candidates of a complete,
  // non-trickled description; without one it has no pair to check.
  const auto config = make_publisher_config(3, 0x1000, default_options());
  LocalPcParams local = local_params();
  local.host = ice::parse_address("10.200.0.2:40123");
  const auto sd = parse(build_publisher_offer(config, {}, local));
  for (const auto& m : sd.media) {
    EXPECT_EQ(m.port, 40123);
    ASSERT_TRUE(m.connection.has_value());
    EXPECT_EQ(m.connection->address, "10.200.0.2");
    ASSERT_EQ(m.candidates.size(), 1u);
    EXPECT_EQ(m.candidates[0].address, "10.200.0.2");
    EXPECT_EQ(m.candidates[0].port, 40123);
    EXPECT_EQ(m.candidates[0].type, "host");
    EXPECT_EQ(m.candidates[0].priority, 2130706431u);
    EXPECT_TRUE(m.end_of_candidates);
  }
  // Without a socket: the placeholders of a description gathered later.
  const auto bare = parse(build_publisher_offer(config, {}, local_params()));
  EXPECT_TRUE(bare.media[0].candidates.empty());
  EXPECT_EQ(bare.media[0].port, 9);
}

TEST(PublisherOffer, PlainVideoHasSsrcAndFidGroup) {
  LoadOptions o = default_options();
  o.simulcast = false;
  o.audio = false;
  const auto config = make_publisher_config(1, 0x2000, o);
  ASSERT_EQ(config.video.layers.size(), 1u);
  EXPECT_EQ(config.video.layers[0].target_bps, 2'500'000u);
  const auto sd = parse(build_publisher_offer(config, {false, true, false}, local_params()));
  ASSERT_EQ(sd.media.size(), 1u);
  const auto& video = sd.media[0];
  EXPECT_TRUE(video.rids.empty());
  EXPECT_FALSE(video.simulcast.has_value());
  ASSERT_EQ(video.ssrc_groups.size(), 1u);
  EXPECT_EQ(video.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(video.ssrc_groups[0].ssrcs, (std::vector<uint32_t>{0x2001, 0x2002}));
}

TEST(PublisherConfig, SimulcastLayersAndTemporalPattern) {
  const auto c = make_publisher_config(0, 0x100, default_options());
  ASSERT_EQ(c.video.layers.size(), 3u);
  EXPECT_EQ(c.video.layers[0].target_bps, 200'000u);
  EXPECT_EQ(c.video.layers[1].target_bps, 700'000u);
  EXPECT_EQ(c.video.layers[2].target_bps, 2'500'000u);
  EXPECT_EQ(c.video.layers[0].width, 320);
  EXPECT_EQ(c.video.layers[2].height, 720);
  EXPECT_EQ(c.video.temporal_layers, 3);
  EXPECT_EQ(c.video.keyframe_interval, seconds(3));
  EXPECT_TRUE(c.audio.enabled);
}

TEST(ExpectedTracks, EveryTrackOfEveryOtherPublisher) {
  LoadOptions o = default_options();
  o.publishers = 3;
  EXPECT_EQ(expected_tracks(o, true), 4);   // 2 others x (audio + video)
  EXPECT_EQ(expected_tracks(o, false), 6);  // 3 x 2
  o.audio = false;
  EXPECT_EQ(expected_tracks(o, false), 3);
  o.publishers = 1;
  EXPECT_EQ(expected_tracks(o, true), 0);
}

// The shape of the server's subscriberOffer (signaling/subscriber_sections.cpp):
// m=application first (never rejected), then one section per consumer.
const char* kServerOffer =
    "v=0\r\n"
    "o=- 1000005 3 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=ice-lite\r\n"
    "a=group:BUNDLE 0 1 2\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=application 40000 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "a=ice-ufrag:srvufrag\r\n"
    "a=ice-pwd:serverpasswordserverpassword\r\n"
    "a=fingerprint:sha-256 "
    "00:07:0E:15:1C:23:2A:31:38:3F:46:4D:54:5B:62:69:70:77:7E:85:8C:93:9A:A1:A8:AF:B6:BD:C4:CB:D2:D9\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n"
    "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"
    "a=candidate:2 1 tcp 2124414975 127.0.0.1 40001 typ host tcptype passive\r\n"
    "a=end-of-candidates\r\n"
    "m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "a=ice-ufrag:srvufrag\r\n"
    "a=ice-pwd:serverpasswordserverpassword\r\n"
    "a=fingerprint:sha-256 "
    "00:07:0E:15:1C:23:2A:31:38:3F:46:4D:54:5B:62:69:70:77:7E:85:8C:93:9A:A1:A8:AF:B6:BD:C4:CB:D2:D9\r\n"
    "a=setup:actpass\r\n"
    "a=mid:1\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendonly\r\n"
    "a=msid:p_pub pr_audio\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=ssrc:1111 cname:p_pub\r\n"
    "a=ssrc:1111 msid:p_pub pr_audio\r\n"
    "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"
    "m=video 40000 UDP/TLS/RTP/SAVPF 96 97\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "a=ice-ufrag:srvufrag\r\n"
    "a=ice-pwd:serverpasswordserverpassword\r\n"
    "a=fingerprint:sha-256 "
    "00:07:0E:15:1C:23:2A:31:38:3F:46:4D:54:5B:62:69:70:77:7E:85:8C:93:9A:A1:A8:AF:B6:BD:C4:CB:D2:D9\r\n"
    "a=setup:actpass\r\n"
    "a=mid:2\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:9 urn:example:unknown-extension\r\n"
    "a=sendonly\r\n"
    "a=msid:p_pub pr_video\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\n"
    "a=rtpmap:97 rtx/90000\r\n"
    "a=fmtp:97 apt=96\r\n"
    "a=ssrc-group:FID 2222 3333\r\n"
    "a=ssrc:2222 cname:p_pub\r\n"
    "a=ssrc:3333 cname:p_pub\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
    "a=mid:3\r\n"
    "a=inactive\r\n";

TEST(RemoteOffer, TracksTransportAndExtensions) {
  auto info = parse_remote_offer(kServerOffer);
  ASSERT_TRUE(info.ok()) << info.error();
  ASSERT_TRUE(info->transport.has_value());
  EXPECT_EQ(info->transport->ice_ufrag, "srvufrag");
  EXPECT_EQ(info->transport->ice_pwd, "serverpasswordserverpassword");
  EXPECT_TRUE(info->transport->ice_lite);
  EXPECT_EQ(info->transport->setup, sdp::Setup::actpass);
  EXPECT_EQ(info->transport->fingerprint, local_params().fingerprint);
  // The UDP candidate only (no ICE-TCP in the load generator).
  ASSERT_EQ(info->transport->candidates.size(), 1u);
  EXPECT_EQ(info->transport->candidates[0].address, ice::Address::v4({127, 0, 0, 1}, 40000));
  EXPECT_EQ(info->transport->candidates[0].priority, 2130706431u);
  EXPECT_EQ(info->transport_cc_ext_id, 3);

  ASSERT_EQ(info->tracks.size(), 2u);
  const RemoteTrack& audio = info->tracks[0];
  EXPECT_EQ(audio.mid, "1");
  EXPECT_EQ(audio.kind, MediaKind::audio);
  EXPECT_EQ(audio.ssrc, 1111u);
  EXPECT_EQ(audio.rtx_ssrc, 0u);
  EXPECT_EQ(audio.payload_type, 111);
  EXPECT_EQ(audio.clock_rate, 48000u);
  EXPECT_EQ(audio.stream_id, "p_pub");
  const RemoteTrack& video = info->tracks[1];
  EXPECT_EQ(video.mid, "2");
  EXPECT_EQ(video.kind, MediaKind::video);
  EXPECT_EQ(video.ssrc, 2222u);
  EXPECT_EQ(video.rtx_ssrc, 3333u);
  EXPECT_EQ(video.payload_type, 96);
  EXPECT_EQ(video.rtx_payload_type, 97);
}

TEST(RemoteOffer, OnlyApplicationSectionHasTransportButNoTracks) {
  std::string offer = kServerOffer;
  offer = offer.substr(0, offer.find("m=audio"));
  auto info = parse_remote_offer(offer);
  ASSERT_TRUE(info.ok()) << info.error();
  EXPECT_TRUE(info->tracks.empty());
  EXPECT_TRUE(info->transport.has_value());
}

TEST(RemoteOffer, CandidateFallsBackToConnectionAndPort) {
  std::string offer = kServerOffer;
  // Drop every a=candidate line: the c= address and m= port remain.
  std::string out;
  size_t pos = 0;
  while (pos < offer.size()) {
    const size_t end = offer.find("\r\n", pos) + 2;
    const std::string line = offer.substr(pos, end - pos);
    if (line.rfind("a=candidate", 0) != 0) out += line;
    pos = end;
  }
  auto info = parse_remote_offer(out);
  ASSERT_TRUE(info.ok()) << info.error();
  ASSERT_TRUE(info->transport.has_value());
  ASSERT_EQ(info->transport->candidates.size(), 1u);
  EXPECT_EQ(info->transport->candidates[0].address, ice::Address::v4({127, 0, 0, 1}, 40000));
}

TEST(RemoteOffer, GarbageIsAnError) { EXPECT_FALSE(parse_remote_offer("hello").ok()); }

TEST(ReceiveAnswer, ActiveRecvonlyWithApplicationRejected) {
  auto info = parse_remote_offer(kServerOffer);
  ASSERT_TRUE(info.ok());
  const auto sd = parse(build_receive_answer(info->description, local_params()));
  ASSERT_EQ(sd.media.size(), 4u);  // one answer section per offered one, in order

  const auto& app = sd.media[0];
  EXPECT_EQ(app.kind, sdp::MediaKind::application);
  EXPECT_EQ(app.port, 0);
  EXPECT_EQ(app.mid, "0");

  for (size_t i : {1u, 2u}) {
    const auto& m = sd.media[i];
    EXPECT_NE(m.port, 0);
    EXPECT_EQ(m.mid, std::to_string(i));
    EXPECT_EQ(m.direction, sdp::Direction::recvonly);
    EXPECT_EQ(m.setup, sdp::Setup::active);
    EXPECT_TRUE(m.rtcp_mux);
    EXPECT_EQ(m.ice_ufrag, "ufrAG123");
    EXPECT_TRUE(m.ssrcs.empty());
  }
  EXPECT_NE(sd.media[1].find_codec("opus"), nullptr);
  EXPECT_NE(sd.media[2].find_codec("VP8"), nullptr);
  EXPECT_EQ(sd.media[2].rtx_payload_type(96), 97);
  // The extension we do not know is not negotiated; the others keep their ids.
  EXPECT_TRUE(has_extmap(sd.media[2], rtp::ext::kTransportWideCcUri, 3));
  EXPECT_FALSE(std::any_of(sd.media[2].extmaps.begin(), sd.media[2].extmaps.end(),
                           [](const sdp::Extmap& e) { return e.id == 9; }));

  EXPECT_EQ(sd.media[3].port, 0);  // rejected in the offer, rejected in the answer
  ASSERT_EQ(sd.groups.size(), 1u);
  EXPECT_EQ(sd.groups[0].mids, (std::vector<std::string>{"1", "2"}));

  // What the server reads back from it (its remote_transport()).
  auto back = remote_transport_of(sd);
  EXPECT_FALSE(back.ok());  // our answer carries no candidates: the server learns us from the checks
}

TEST(RemoteTransport, FromPublishAnswer) {
  // The server's answer to a publish: ice-lite, passive, candidates.
  std::string answer = kServerOffer;
  auto t = parse_remote_transport(answer);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->ice_ufrag, "srvufrag");
  EXPECT_FALSE(parse_remote_transport("v=0\r\n").ok());
  // Janus answers a=setup:active: we are then the DTLS server.
  std::string active = kServerOffer;
  for (size_t at; (at = active.find("a=setup:actpass")) != std::string::npos;) active.replace(at, 15, "a=setup:active");
  auto janus = parse_remote_transport(active);
  ASSERT_TRUE(janus.ok());
  EXPECT_EQ(janus->setup, sdp::Setup::active);
}

}  // namespace
}  // namespace sfu::load
