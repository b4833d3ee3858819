// The answer to a publisher's offer as a pure function (publish_answer.hpp):
// browsers' captured offers in, the answer's SDP and each section's outcome
// out; grants, stopped and inactive sections, data channels.
#include "signaling/sdp/publish_answer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_session.hpp"
#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::signaling {
namespace {

using Outcome = PublishedSection::Outcome;

sdp::SessionDescription offer_from(const char* name) {
  std::ifstream in(std::string(SFU_TEST_DATA_DIR) + "/sdp/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  auto parsed = sdp::parse_sdp(s.str());
  EXPECT_TRUE(parsed.ok()) << name;
  return parsed.ok() ? std::move(parsed.value()) : sdp::SessionDescription{};
}

server::TransportInfo transport() {
  server::TransportInfo t;
  t.id = 9;
  t.local_ice = ice::IceCredentials{"srvufrag", "serverpasswordserverpassword"};
  t.fingerprint = "AB:CD:EF";
  return t;
}

PublishAnswer answer(const sdp::SessionDescription& offer, bool media = true, bool data = true) {
  static const server::TransportInfo t = transport();
  PublishAnswerInput in;
  in.session_id = 4242;
  in.version = 3;
  in.transport = &t;
  in.grant_media = media;
  in.grant_data = data;
  return answer_publish_offer(offer, in);
}

// The answer as a browser reads it: written, then parsed again.
sdp::SessionDescription reparsed(const PublishAnswer& a) {
  auto parsed = sdp::parse_sdp(sdp::write_sdp(a.answer));
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? std::move(parsed.value()) : sdp::SessionDescription{};
}

sdp::MediaSection data_section(const std::string& mid) {
  sdp::MediaSection m;
  m.kind = sdp::MediaKind::application;
  m.protocol = "UDP/DTLS/SCTP";
  m.formats = {"webrtc-datachannel"};
  m.port = 9;
  m.mid = mid;
  m.sctp_port = 5001;
  m.max_message_size = 1234;
  return m;
}

TEST(PublishAnswer, ChromiumSimulcastOfferIsAnsweredSectionBySection) {
  const auto offer = offer_from("chromium_publish_simulcast_captured.sdp");
  ASSERT_EQ(offer.media.size(), 2u);
  const PublishAnswer a = answer(offer);
  ASSERT_EQ(a.sections.size(), 2u);
  EXPECT_EQ(a.sections[0].outcome, Outcome::receiving);
  EXPECT_EQ(a.sections[0].kind, server::media::MediaKind::audio);
  EXPECT_EQ(a.sections[0].mid, "0");
  EXPECT_EQ(a.sections[0].codecs.front().codec.name, "opus");
  EXPECT_FALSE(a.sections[0].simulcast);
  EXPECT_EQ(a.sections[1].outcome, Outcome::receiving);
  EXPECT_EQ(a.sections[1].kind, server::media::MediaKind::video);
  ASSERT_TRUE(a.sections[1].simulcast);
  EXPECT_EQ(a.sections[1].simulcast->rids, (std::vector<std::string>{"q", "h", "f"}));
  EXPECT_NE(a.sections[1].extensions.mid, 0);
  EXPECT_NE(a.sections[1].extensions.rid, 0);

  const auto sd = reparsed(a);
  EXPECT_EQ(sd.origin.session_id, 4242u);
  EXPECT_EQ(sd.origin.session_version, 3u);
  ASSERT_EQ(sd.groups.size(), 1u);
  EXPECT_EQ(sd.groups[0].mids, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(sd.media.size(), 2u);
  for (const auto& m : sd.media) {
    EXPECT_NE(m.port, 0);
    EXPECT_EQ(m.effective_direction(), sdp::Direction::recvonly);
    EXPECT_EQ(m.ice_ufrag, "srvufrag");
    EXPECT_EQ(m.setup, sdp::Setup::passive);
  }
  ASSERT_TRUE(sd.media[1].simulcast);
  EXPECT_EQ(sd.media[1].rids.size(), 3u);
}

TEST(PublishAnswer, SsrcSimulcastAndSingleStreamsCarryTheirSsrcs) {
  const PublishAnswer sim = answer(offer_from("chrome_ssrc_simulcast.sdp"));
  ASSERT_TRUE(sim.sections[1].simulcast);
  EXPECT_EQ(sim.sections[1].simulcast->ssrcs, (std::vector<uint32_t>{3167542901u, 3167542902u, 3167542903u}));
  EXPECT_EQ(sim.sections[1].simulcast->rtx_ssrcs, (std::vector<uint32_t>{2871102311u, 2871102312u, 2871102313u}));

  const PublishAnswer single = answer(offer_from("safari_publish.sdp"));
  EXPECT_FALSE(single.sections[1].simulcast);
  EXPECT_EQ(single.sections[1].ssrcs, (std::vector<uint32_t>{1064729410u}));
  EXPECT_EQ(single.sections[1].rtx_ssrcs, (std::vector<uint32_t>{2219383026u}));
  ASSERT_FALSE(single.sections[0].ssrcs.empty());  // audio: its one a=ssrc
  EXPECT_TRUE(single.sections[0].rtx_ssrcs.empty());
}

TEST(PublishAnswer, WithoutThePublishGrantMediaIsRejectedWithAConnectionLine) {
  const auto offer = offer_from("chromium_publish_simulcast_captured.sdp");
  const auto y = weigh_publish_offer(offer, false, true);
  EXPECT_EQ(y.acceptable, 0);
  EXPECT_EQ(y.forbidden, 2);
  const PublishAnswer a = answer(offer, false, true);
  for (const auto& s : a.sections) {
    EXPECT_EQ(s.outcome, Outcome::rejected);
    EXPECT_TRUE(s.offered_in_use);
  }
  const auto sd = reparsed(a);
  EXPECT_TRUE(sd.groups.empty());
  for (const auto& m : sd.media) {
    EXPECT_EQ(m.port, 0);
    ASSERT_TRUE(m.connection);  // RFC 8866 §5.7; Firefox refuses the answer without it
    EXPECT_EQ(m.connection->address, "0.0.0.0");
  }
}

TEST(PublishAnswer, StoppedInactiveAndUnsupportedSections) {
  auto offer = offer_from("chromium_publish_simulcast_captured.sdp");
  auto stopped = offer.media[0];
  stopped.port = 0;
  stopped.mid = "5";
  auto inactive = offer.media[0];
  inactive.direction = sdp::Direction::recvonly;
  inactive.mid = "6";
  auto unsupported = offer.media[0];
  unsupported.mid = "7";
  unsupported.codecs.clear();
  unsupported.formats = {"99"};
  offer.media = {stopped, inactive, unsupported};
  const PublishAnswer a = answer(offer);
  EXPECT_EQ(a.sections[0].outcome, Outcome::rejected);
  EXPECT_FALSE(a.sections[0].offered_in_use);
  EXPECT_EQ(a.sections[1].outcome, Outcome::inactive);
  EXPECT_EQ(a.sections[2].outcome, Outcome::rejected);
  EXPECT_TRUE(a.sections[2].offered_in_use);
  const auto sd = reparsed(a);
  EXPECT_EQ(sd.media[1].effective_direction(), sdp::Direction::inactive);
  EXPECT_NE(sd.media[1].port, 0);
  EXPECT_EQ(sd.media[2].port, 0);
  ASSERT_EQ(sd.groups.size(), 1u);
  EXPECT_EQ(sd.groups[0].mids, (std::vector<std::string>{"6"}));
  EXPECT_EQ(weigh_publish_offer(offer, true, true).acceptable, 0);
}

TEST(PublishAnswer, DataChannelsNeedThePublishDataGrant) {
  auto offer = offer_from("chromium_publish_simulcast_captured.sdp");
  offer.media.push_back(data_section("2"));
  const PublishAnswer a = answer(offer, true, true);
  ASSERT_EQ(a.sections.size(), 3u);
  EXPECT_EQ(a.sections[2].outcome, Outcome::data);
  EXPECT_EQ(a.sections[2].sctp_port, 5001);
  EXPECT_EQ(a.sections[2].max_message_size, 1234u);
  const auto sd = reparsed(a);
  EXPECT_EQ(sd.media[2].sctp_port, kDefaultSctpPort);
  EXPECT_EQ(sd.media[2].max_message_size, server::kSctpLocalMaxMessageSize);
  EXPECT_EQ(sd.groups[0].mids.back(), "2");

  const PublishAnswer no_grant = answer(offer, true, false);
  EXPECT_EQ(no_grant.sections[2].outcome, Outcome::rejected);
  EXPECT_EQ(reparsed(no_grant).media[2].port, 0);
  const auto y = weigh_publish_offer(offer, true, false);
  EXPECT_EQ(y.acceptable, 2);
  EXPECT_EQ(y.forbidden, 1);

  // RFC 8841 defaults when the offer leaves the attributes out.
  offer.media[2].sctp_port.reset();
  offer.media[2].max_message_size.reset();
  const PublishAnswer defaults = answer(offer);
  EXPECT_EQ(defaults.sections[2].sctp_port, kDefaultSctpPort);
  EXPECT_EQ(defaults.sections[2].max_message_size, kDefaultMaxMessageSize);
}

}  // namespace
}  // namespace sfu::signaling
