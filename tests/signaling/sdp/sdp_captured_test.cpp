// Offers and answers captured from a real browser (Chromium 156 headless,
// through the demo page; tests/data/sdp/README.md).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "signaling/sdp/sdp_negotiation.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::signaling::sdp {
namespace {

std::string read(const char* name) {
  std::ifstream in(std::string(SFU_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SdpCaptured, ChromiumPublishOfferWithSimulcast) {
  auto sd = parse_sdp(read("chromium_publish_simulcast_captured.sdp"));
  ASSERT_TRUE(sd) << to_string(sd.error());
  ASSERT_EQ(sd->media.size(), 2u);
  EXPECT_EQ(sd->bundle_group()->mids, (std::vector<std::string>{"0", "1"}));
  const MediaSection& audio = sd->media[0];
  const MediaSection& video = sd->media[1];
  EXPECT_EQ(audio.kind, MediaKind::audio);
  EXPECT_EQ(video.effective_direction(), Direction::sendonly);
  EXPECT_TRUE(video.rtcp_mux);

  auto a = match_codecs(audio, server_codec_capabilities());
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a[0].codec.name, "opus");
  EXPECT_EQ(a[0].codec.payload_type, 111);

  auto v = match_codecs(video, server_codec_capabilities());
  ASSERT_GE(v.size(), 3u);  // VP8, VP9 profile 0, H264 constrained baseline (at least)
  EXPECT_EQ(v[0].codec.name, "VP8");
  EXPECT_TRUE(v[0].rtx.has_value());
  auto ext = match_extensions(video, server_header_extensions());
  auto has = [&](std::string_view uri, uint16_t id) {
    for (const auto& e : ext)
      if (e.uri == uri) return e.id == id;
    return false;
  };
  EXPECT_TRUE(has("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", 10));
  EXPECT_TRUE(has("http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", 3));
  for (const auto& e : ext) EXPECT_NE(e.uri, "urn:3gpp:video-orientation") << "not negotiated: the server does not rewrite it";

  auto sim = extract_simulcast(video);
  ASSERT_TRUE(sim);
  EXPECT_EQ(sim->rids, (std::vector<std::string>{"q", "h", "f"}));
  // Round trip.
  auto again = parse_sdp(write_sdp(*sd));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *sd);
}

TEST(SdpCaptured, ChromiumSubscriberAnswer) {
  auto sd = parse_sdp(read("chromium_subscriber_answer_captured.sdp"));
  ASSERT_TRUE(sd) << to_string(sd.error());
  ASSERT_GE(sd->media.size(), 3u);
  EXPECT_EQ(sd->media[0].kind, MediaKind::application);  // the server's SCTP section comes first
  EXPECT_EQ(sd->effective_setup(sd->media[1]), Setup::active);
  EXPECT_FALSE(sd->effective_fingerprints(sd->media[1]).empty());
  auto again = parse_sdp(write_sdp(*sd));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *sd);
}

}  // namespace
}  // namespace sfu::signaling::sdp
