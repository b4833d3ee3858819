// The subscriber connection's negotiation core, without I/O: offers built
// from the sections, answers, and the recycling that keeps the offer
// bounded (JSEP §5.2.2: rejected m-sections may be reused, mids never).
#include "signaling/subscriber_sections.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "signaling/sdp/sdp_negotiation.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::signaling {
namespace {

size_t capability(std::string_view name) {
  const auto& caps = sdp::server_codec_capabilities();
  for (size_t i = 0; i < caps.size(); ++i)
    if (caps[i].name == name) return i;
  ADD_FAILURE() << "no capability " << name;
  return 0;
}

std::shared_ptr<ProducerEntry> producer(int n, server::media::MediaKind kind) {
  auto p = std::make_shared<ProducerEntry>();
  p->id = "pr_" + std::to_string(n);
  p->num = server::ProducerId(n);
  p->peer_id = "pe_" + std::to_string(n);
  p->kind = kind;
  sdp::AcceptedCodec c;
  c.capability = capability(kind == server::media::MediaKind::audio ? "opus" : "VP8");
  p->codecs = {c};
  return p;
}

server::TransportInfo transport() {
  server::TransportInfo t;
  t.id = 7;
  t.local_ice = ice::IceCredentials{"ufrag", "passwordpasswordpassword"};
  t.fingerprint = "AB:CD";
  return t;
}

SubscriberSection& consume(SubscriberSections& s, const std::shared_ptr<ProducerEntry>& p, int n) {
  s.ensure_application();
  SubscriberSection& sec = s.add();
  sec.kind = p->kind;
  sec.producer = p;
  sec.consumer_id = "c_" + std::to_string(n);
  sec.consumer_num = server::ConsumerId(n);
  sec.ssrc = 1000 + uint32_t(n);
  if (p->kind == server::media::MediaKind::video) sec.rtx_ssrc = 2000 + uint32_t(n);
  s.mark_changed();
  return sec;
}

// The answer a browser gives: every section accepted, removed ones with port 0.
sdp::SessionDescription answer_to(const sdp::SessionDescription& offer) {
  sdp::SessionDescription a = offer;
  for (auto& m : a.media)
    if (m.port != 0) m.direction = m.direction == sdp::Direction::sendonly ? sdp::Direction::recvonly : m.direction;
  return a;
}

TEST(SubscriberSections, FirstOfferHasTheApplicationSectionFirstAndOneSectionPerConsumer) {
  SubscriberSections s;
  consume(s, producer(1, server::media::MediaKind::audio), 1);
  consume(s, producer(2, server::media::MediaKind::video), 2);
  ASSERT_TRUE(s.changed());
  auto offer = s.make_offer(42, transport());
  EXPECT_TRUE(s.offer_outstanding());
  EXPECT_FALSE(s.changed());
  EXPECT_EQ(s.offer_version(), 1u);
  ASSERT_EQ(offer.description.media.size(), 3u);
  EXPECT_EQ(offer.description.media[0].kind, sdp::MediaKind::application);
  EXPECT_EQ(*offer.description.media[0].mid, "0");
  EXPECT_EQ(*offer.description.media[1].mid, "1");
  EXPECT_EQ(offer.description.media[2].direction, sdp::Direction::sendonly);
  ASSERT_EQ(offer.description.groups.size(), 1u);
  EXPECT_EQ(offer.description.groups[0].mids, (std::vector<std::string>{"0", "1", "2"}));
  ASSERT_EQ(offer.consumers.size(), 2u);
  EXPECT_EQ(offer.consumers[1]["consumerId"], "c_2");
  EXPECT_EQ(offer.consumers[1]["kind"], "video");
  EXPECT_EQ(offer.consumers[1]["mid"], "2");
  // RTX pairs the video's SSRCs (RFC 4588 §8.1 FID).
  ASSERT_EQ(offer.description.media[2].ssrc_groups.size(), 1u);
  EXPECT_EQ(offer.description.media[2].ssrc_groups[0].ssrcs, (std::vector<uint32_t>{1002, 2002}));
  // The offer survives our own writer and parser.
  auto parsed = sdp::parse_sdp(sdp::write_sdp(offer.description));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->media.size(), 3u);
}

TEST(SubscriberSections, ConsumersExistOnlyOnceTheAnswerAcceptedThem) {
  SubscriberSections s;
  consume(s, producer(1, server::media::MediaKind::video), 1);
  auto offer = s.make_offer(1, transport());
  consume(s, producer(2, server::media::MediaKind::video), 2);  // after the offer: not known to the client
  auto answer = answer_to(offer.description);
  auto accepted = s.accepted(answer);
  ASSERT_EQ(accepted.size(), 1u);
  EXPECT_EQ(accepted[0]->consumer_id, "c_1");
  accepted[0]->created = true;
  s.answered();
  EXPECT_FALSE(s.offer_outstanding());
  EXPECT_TRUE(s.changed());  // the second consumer waits for the next offer
  EXPECT_TRUE(s.accepted(answer).empty());
}

TEST(SubscriberSections, RemovedSectionIsOfferedWithPortZeroThenReusedWithANewMid) {
  SubscriberSections s;
  auto p1 = producer(1, server::media::MediaKind::video);
  consume(s, p1, 1);
  (void)s.make_offer(1, transport());
  s.answered();
  int closed = 0;
  EXPECT_TRUE(s.remove_producer(p1->id, [&](const SubscriberSection& sec) { closed += sec.consumer_num == 1; }));
  EXPECT_EQ(closed, 1);
  EXPECT_EQ(s.live(), 0u);
  auto o2 = s.make_offer(1, transport());
  ASSERT_EQ(o2.description.media.size(), 2u);
  EXPECT_EQ(o2.description.media[1].port, 0u);
  EXPECT_EQ(*o2.description.media[1].mid, "1");
  EXPECT_TRUE(o2.consumers.empty());
  // Before the answer the position is not free: a new consumer gets a new section.
  SubscriberSection& fresh = consume(s, producer(2, server::media::MediaKind::audio), 2);
  EXPECT_EQ(fresh.mid, "2");
  s.answered();
  (void)s.make_offer(1, transport());
  s.answered();
  ASSERT_TRUE(s.remove_producer("pr_2", [](const SubscriberSection&) {}));
  (void)s.make_offer(1, transport());
  s.answered();
  // Now both removals are answered: the next consumer reuses the first position.
  SubscriberSection& reused = consume(s, producer(3, server::media::MediaKind::video), 3);
  EXPECT_EQ(reused.mid, "3");
  auto o4 = s.make_offer(1, transport());
  ASSERT_EQ(o4.description.media.size(), 3u);
  EXPECT_EQ(*o4.description.media[1].mid, "3");
  EXPECT_NE(o4.description.media[1].port, 0u);
}

// Consumers added and removed between two offers never reach the client.
TEST(SubscriberSections, ASectionAddedAndRemovedBetweenOffersDisappears) {
  SubscriberSections s;
  consume(s, producer(1, server::media::MediaKind::video), 1);
  (void)s.make_offer(1, transport());
  s.answered();
  consume(s, producer(2, server::media::MediaKind::video), 2);
  s.remove_producer("pr_2", [](const SubscriberSection&) {});
  auto o = s.make_offer(1, transport());
  EXPECT_EQ(o.description.media.size(), 2u);
  EXPECT_EQ(s.sections().size(), 2u);
}

// Churn for many offers (up to 9 live consumers, hundreds come and go):
// mids are never reused, known m-lines never move, and the offer never
// grows past 3 × the most consumers ever live at once + 1 (a position is
// reused once its removal is answered: subscriber_sections.hpp).
TEST(SubscriberSections, ChurnKeepsTheOfferBoundedAndMidsUnique) {
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE(testing::Message() << "seed " << seed);
  std::mt19937 rng(seed);
  SubscriberSections s;
  std::vector<std::string> live;
  std::set<std::string> mids_seen;
  std::vector<std::string> previous_mids;
  size_t most_live = 0;
  int next = 1;
  for (int round = 0; round < 400; ++round) {
    const int changes = int(rng() % 4);
    for (int c = 0; c < changes; ++c) {
      if (!live.empty() && (rng() % 2 || live.size() > 8)) {
        const size_t i = rng() % live.size();
        s.remove_producer(live[i], [](const SubscriberSection&) {});
        live.erase(live.begin() + ptrdiff_t(i));
      } else {
        const int n = next++;
        SubscriberSection& sec = consume(s, producer(n, n % 2 ? server::media::MediaKind::video : server::media::MediaKind::audio), n);
        ASSERT_TRUE(mids_seen.insert(sec.mid).second) << "mid " << sec.mid << " reused";
        live.push_back("pr_" + std::to_string(n));
      }
    }
    most_live = std::max(most_live, live.size());
    if (!s.changed()) continue;
    auto o = s.make_offer(1, transport());
    ASSERT_LE(o.description.media.size(), 3 * most_live + 1);
    ASSERT_EQ(o.consumers.size(), live.size());
    // Positions the client knew keep their place: a mid either stays at its
    // index or its position was recycled for a new mid.
    for (size_t i = 0; i < previous_mids.size() && i < o.description.media.size(); ++i) {
      const std::string& mid = *o.description.media[i].mid;
      if (mid != previous_mids[i]) {
        ASSERT_FALSE(std::count(previous_mids.begin(), previous_mids.end(), mid)) << mid;
      }
    }
    previous_mids.clear();
    for (const auto& m : o.description.media) previous_mids.push_back(*m.mid);
    for (auto* sec : s.accepted(answer_to(o.description))) sec->created = true;
    s.answered();
  }
  EXPECT_GT(next, 200);  // hundreds of consumers came and went
}

}  // namespace
}  // namespace sfu::signaling
