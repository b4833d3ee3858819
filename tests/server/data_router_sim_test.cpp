// The room's data-channel relay (server/data_router.*) between simulated
// browsers: each client runs an sctp::Association (the DTLS-client side)
// over its client-role transport, through SimWorld's links on a virtual
// clock. Checks PROTOCOL.md "Data channels": producers from DCEP opens,
// consumers with the same label / ordering / reliability and protocol =
// sender, messages relayed unchanged, bounded backpressure, closing.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "tests/server/sim_world.hpp"

namespace sfu::test {
namespace {

using sctp::AssociationEvent;
using Type = AssociationEvent::Type;
using server::DataConsumerClosedEvent;
using server::DataProducerClosedEvent;
using server::DataProducerOpenedEvent;

Bytes text_bytes(std::string_view s) { return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

std::vector<uint8_t> pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t((i * 131 + seed * 7) ^ (i >> 8));
  return v;
}

struct DataWorld {
  explicit DataWorld(uint32_t seed, int subscribers = 2, test::Link sub_down = {}) : w(seed) {
    pub = &w.add_client(true);
    w.enable_sctp(*pub);
    for (int i = 0; i < subscribers; ++i) {
      subs.push_back(&w.add_client(false, {}, sub_down));
      w.enable_sctp(*subs.back());
    }
    w.run_for(seconds(2), [&] {
      if (!pub->sctp->connected()) return false;
      return std::all_of(subs.begin(), subs.end(), [](auto* c) { return c->sctp->connected(); });
    });
  }

  // The publisher opens a channel; the test plays signaling: one consumer
  // per subscriber. Returns {publisher stream, producer id}.
  std::pair<uint16_t, server::DataProducerId> open(const sctp::ChannelParams& params) {
    auto stream = pub->sctp->open_channel(params);
    EXPECT_TRUE(stream.ok());
    server::DataProducerId id = 0;
    w.run_for(seconds(1), [&] {
      for (auto& e : w.events)
        if (auto* o = std::get_if<DataProducerOpenedEvent>(&e); o && o->transport == pub->server_id) id = o->producer;
      return id != 0;
    });
    EXPECT_NE(id, 0u);
    for (auto* s : subs) {
      EXPECT_TRUE(w.router().add_data_consumer({next_consumer++, id, s->server_id, "p_sender"}, w.now));
    }
    return {*stream, id};
  }

  // The subscriber's stream for the channel opened as `label` (after it
  // arrived), or -1.
  int stream_of(SimWorld::Client& c, const std::string& label) {
    for (auto& e : c.sctp_events)
      if (e.type == Type::channel_open && e.params.label == label) return e.stream;
    return -1;
  }

  std::vector<SimWorld::Client::SctpEvent> messages(SimWorld::Client& c, int stream) {
    std::vector<SimWorld::Client::SctpEvent> out;
    for (auto& e : c.sctp_events)
      if (e.type == Type::message && e.stream == stream) out.push_back(e);
    return out;
  }

  SimWorld w;
  SimWorld::Client* pub = nullptr;
  std::vector<SimWorld::Client*> subs;
  server::DataConsumerId next_consumer = 100;
};

TEST(DataRouterSim, ChannelIsRelayedWithLabelOrderingReliabilityAndSenderAsProtocol) {
  DataWorld d(1);
  sctp::ChannelParams params{.label = "game", .protocol = "ignored", .ordered = false,
                             .reliability = sctp::Reliability::max_retransmits, .reliability_value = 2};
  auto [stream, id] = d.open(params);
  EXPECT_EQ(stream % 2, 0) << "the browser (DTLS client) opens even streams";
  d.w.run_for(seconds(1));
  for (auto* s : d.subs) {
    const int sid = d.stream_of(*s, "game");
    ASSERT_GE(sid, 0);
    EXPECT_EQ(sid % 2, 1) << "the server (DTLS server) opens odd streams";
    const auto* ch = s->sctp->channel(uint16_t(sid));
    ASSERT_NE(ch, nullptr);
    EXPECT_EQ(ch->label, "game");
    EXPECT_EQ(ch->protocol, "p_sender");
    EXPECT_FALSE(ch->ordered);
    EXPECT_EQ(ch->reliability, sctp::Reliability::max_retransmits);
    EXPECT_EQ(ch->reliability_value, 2u);
  }
}

TEST(DataRouterSim, StringBinaryAndEmptyMessagesArriveUnchanged) {
  DataWorld d(2);
  auto [stream, id] = d.open({.label = "chat"});
  d.w.run_for(milliseconds(500));
  const auto big = pattern(200'000, 3);
  const std::string text = "héllo, wörld";
  ASSERT_EQ(d.pub->sctp->send(stream, sctp::MessageKind::string, text_bytes(text)), sctp::SendStatus::ok);
  ASSERT_EQ(d.pub->sctp->send(stream, sctp::MessageKind::binary, big), sctp::SendStatus::ok);
  ASSERT_EQ(d.pub->sctp->send(stream, sctp::MessageKind::string, {}), sctp::SendStatus::ok);
  ASSERT_EQ(d.pub->sctp->send(stream, sctp::MessageKind::binary, {}), sctp::SendStatus::ok);
  d.w.run_for(seconds(2));
  for (auto* s : d.subs) {
    auto got = d.messages(*s, d.stream_of(*s, "chat"));
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].kind, sctp::MessageKind::string);
    EXPECT_EQ(std::string(got[0].data.begin(), got[0].data.end()), text);
    EXPECT_EQ(got[1].kind, sctp::MessageKind::binary);
    EXPECT_EQ(got[1].data, big);
    EXPECT_EQ(got[2].kind, sctp::MessageKind::string);
    EXPECT_TRUE(got[2].data.empty());
    EXPECT_EQ(got[3].kind, sctp::MessageKind::binary);
    EXPECT_TRUE(got[3].data.empty());
  }
}

TEST(DataRouterSim, OrderedReliableSurvivesLossInOrder) {
  for (uint32_t seed : {3u, 4u, 5u}) {
    DataWorld d(seed, 2, test::Link{.delay = milliseconds(20), .loss = 0.05});
    auto [stream, id] = d.open({.label = "log"});
    d.w.run_for(seconds(1));
    int sent = 0;
    for (int i = 0; i < 500; ++i) {
      const std::string m = "message " + std::to_string(i);
      if (d.pub->sctp->send(stream, sctp::MessageKind::string, text_bytes(m)) == sctp::SendStatus::ok) ++sent;
      d.w.run_for(milliseconds(2));
    }
    ASSERT_EQ(sent, 500);
    d.w.run_for(seconds(10));
    for (auto* s : d.subs) {
      auto got = d.messages(*s, d.stream_of(*s, "log"));
      ASSERT_EQ(got.size(), 500u) << "seed " << seed;
      for (int i = 0; i < 500; ++i)
        ASSERT_EQ(std::string(got[size_t(i)].data.begin(), got[size_t(i)].data.end()), "message " + std::to_string(i));
    }
  }
}

// One subscriber behind a 2 Mbit/s downlink, one unlimited: 6 MB sent as
// fast as the publisher's association takes it. The slow receiver paces
// the sender through the server (reading stops), nothing is lost, and the
// server's queue stays bounded.
TEST(DataRouterSim, ReliableBackpressureIsBoundedAndLossless) {
  DataWorld d(6, 0);
  d.subs.push_back(&d.w.add_client(false, {}, test::Link{.cap_bps = 2'000'000, .delay = milliseconds(10)}));
  d.w.enable_sctp(*d.subs.back());
  d.subs.push_back(&d.w.add_client(false));
  d.w.enable_sctp(*d.subs.back());
  d.w.run_for(seconds(2), [&] { return d.subs[0]->sctp->connected() && d.subs[1]->sctp->connected(); });
  auto [stream, id] = d.open({.label = "file"});
  d.w.run_for(milliseconds(500));
  const size_t chunk = 16 * 1024, total = 6 * 1024 * 1024;
  size_t offset = 0, max_queued = 0;
  const auto data = pattern(total, 9);
  const Instant started = d.w.now;
  const Instant deadline = started + seconds(120);
  while (offset < total && d.w.now < deadline) {
    const auto st = d.pub->sctp->send(stream, sctp::MessageKind::binary, Bytes(data).subspan(offset, chunk));
    if (st == sctp::SendStatus::ok) {
      offset += chunk;
      continue;
    }
    ASSERT_EQ(st, sctp::SendStatus::would_block) << "transmit failures " << d.w.router().data().counters().transmit_failures << " client "
                                                 << d.pub->sctp_transmit_failures << " largest " << d.pub->sctp_largest_packet;
    d.w.run_for(milliseconds(5));
    for (server::DataConsumerId c = 100; c < 102; ++c) max_queued = std::max(max_queued, d.w.router().data().queued_bytes(c));
  }
  ASSERT_EQ(offset, total) << "the sender was paced, not stopped";
  d.w.run_for(seconds(60), [&] {
    return d.messages(*d.subs[0], d.stream_of(*d.subs[0], "file")).size() == total / chunk;
  });
  for (auto* s : d.subs) {
    auto got = d.messages(*s, d.stream_of(*s, "file"));
    ASSERT_EQ(got.size(), total / chunk);
    std::vector<uint8_t> joined;
    for (auto& m : got) joined.insert(joined.end(), m.data.begin(), m.data.end());
    EXPECT_EQ(joined, data);
  }
  const auto& counters = d.w.router().data().counters();
  EXPECT_GT(counters.reading_paused, 0u);
  EXPECT_EQ(counters.dropped_overflow, 0u);
  EXPECT_EQ(counters.transmit_failures, 0u) << "every SCTP packet fits a DTLS record";
  EXPECT_LE(max_queued, size_t(3) << 20) << "what waits is bounded by what was already read";
  std::cout << "[ info ] 6 MiB through a 2 Mbit/s receiver in " << std::chrono::duration_cast<std::chrono::milliseconds>(d.w.now - started).count()
            << " ms of virtual time; max queued " << max_queued << " B, reading paused " << counters.reading_paused
            << " times\n";
}

TEST(DataRouterSim, UnreliableChannelDropsForASlowReceiverInsteadOfQueueing) {
  DataWorld d(7, 0);
  d.subs.push_back(&d.w.add_client(false, {}, test::Link{.cap_bps = 500'000, .delay = milliseconds(10)}));
  d.w.enable_sctp(*d.subs.back());
  d.w.run_for(seconds(2), [&] { return d.subs[0]->sctp->connected(); });
  auto [stream, id] = d.open({.label = "state", .ordered = false, .reliability = sctp::Reliability::max_retransmits,
                              .reliability_value = 0});
  d.w.run_for(milliseconds(500));
  const auto msg = pattern(1000, 1);
  int sent = 0;
  for (int i = 0; i < 3000; ++i) {  // 3 MB in 3 s: six times the link
    if (d.pub->sctp->send(stream, sctp::MessageKind::binary, msg) == sctp::SendStatus::ok) ++sent;
    d.w.run_for(milliseconds(1));
    EXPECT_EQ(d.w.router().data().queued_bytes(100), 0u);
  }
  d.w.run_for(seconds(5));
  const auto got = d.messages(*d.subs[0], d.stream_of(*d.subs[0], "state")).size();
  const auto& counters = d.w.router().data().counters();
  EXPECT_GT(got, 100u);
  EXPECT_LT(got, size_t(sent));
  EXPECT_EQ(counters.reading_paused, 0u) << "unreliable producers never stall the sender";
  std::cout << "[ info ] unreliable: sent " << sent << ", delivered " << got << ", dropped at the server "
            << counters.dropped_unreliable << "\n";
}

TEST(DataRouterSim, ClosingTheProducerChannelClosesEveryConsumer) {
  DataWorld d(8);
  auto [stream, id] = d.open({.label = "chat"});
  d.w.run_for(milliseconds(500));
  d.w.events.clear();
  d.pub->sctp->close_channel(stream);
  d.w.run_for(seconds(1));
  int producer_closed = 0, consumers_closed = 0;
  for (auto& e : d.w.events) {
    if (auto* p = std::get_if<DataProducerClosedEvent>(&e); p && p->producer == id) ++producer_closed;
    if (std::get_if<DataConsumerClosedEvent>(&e)) ++consumers_closed;
  }
  EXPECT_EQ(producer_closed, 1);
  EXPECT_EQ(consumers_closed, 2);
  for (auto* s : d.subs) {
    const int sid = d.stream_of(*s, "chat");
    EXPECT_TRUE(std::any_of(s->sctp_events.begin(), s->sctp_events.end(),
                            [&](auto& e) { return e.type == Type::channel_closed && e.stream == sid; }));
  }
}

TEST(DataRouterSim, ASubscriberClosingItsChannelEndsOnlyItsConsumer) {
  DataWorld d(9);
  auto [stream, id] = d.open({.label = "chat"});
  d.w.run_for(milliseconds(500));
  d.w.events.clear();
  d.subs[0]->sctp->close_channel(uint16_t(d.stream_of(*d.subs[0], "chat")));
  d.w.run_for(seconds(1));
  std::vector<server::DataConsumerId> closed;
  for (auto& e : d.w.events)
    if (auto* c = std::get_if<DataConsumerClosedEvent>(&e)) closed.push_back(c->consumer);
  EXPECT_EQ(closed, std::vector<server::DataConsumerId>{100});
  ASSERT_EQ(d.pub->sctp->send(stream, sctp::MessageKind::string, text_bytes("still here")), sctp::SendStatus::ok);
  d.w.run_for(seconds(1));
  EXPECT_EQ(d.messages(*d.subs[1], d.stream_of(*d.subs[1], "chat")).size(), 1u);
}

TEST(DataRouterSim, ChannelsOpenedOnASubscriberConnectionAreRefused) {
  DataWorld d(10, 1);
  auto stream = d.subs[0]->sctp->open_channel({.label = "sneaky"});
  ASSERT_TRUE(stream.ok());
  d.w.run_for(seconds(1));
  EXPECT_EQ(d.w.router().data().counters().refused_channels, 1u);
  EXPECT_TRUE(std::any_of(d.subs[0]->sctp_events.begin(), d.subs[0]->sctp_events.end(),
                          [&](auto& e) { return e.type == Type::channel_closed && e.stream == *stream; }));
  for (auto& e : d.w.events) EXPECT_FALSE(std::holds_alternative<DataProducerOpenedEvent>(e));
}

TEST(DataRouterSim, RemovingTheSubscriberTransportReportsItsConsumers) {
  DataWorld d(11);
  auto [stream, id] = d.open({.label = "chat"});
  d.w.run_for(milliseconds(500));
  d.w.events.clear();
  d.w.router().remove_transport(d.subs[0]->server_id);
  std::vector<server::DataConsumerId> closed;
  for (auto& e : d.w.events)
    if (auto* c = std::get_if<DataConsumerClosedEvent>(&e)) closed.push_back(c->consumer);
  EXPECT_EQ(closed, std::vector<server::DataConsumerId>{100});
  ASSERT_EQ(d.pub->sctp->send(stream, sctp::MessageKind::string, text_bytes("x")), sctp::SendStatus::ok);
  d.w.run_for(seconds(1));
  EXPECT_EQ(d.messages(*d.subs[1], d.stream_of(*d.subs[1], "chat")).size(), 1u);
}

}  // namespace
}  // namespace sfu::test
