// sctp::Association end to end: two associations (DTLS client and server
// roles) over a simulated network with loss, delay, jitter and reordering,
// on a virtual clock. RFC 8831 (data channels) and RFC 8832 (DCEP)
// behaviour as a browser would see it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tests/sctp/sim_pair.hpp"

namespace sfu::sctp::test {
namespace {

using Type = AssociationEvent::Type;

client::LinkProfile lossy(double loss) {
  client::LinkProfile p;
  p.loss = loss;
  p.delay = milliseconds(20);
  p.jitter = milliseconds(10);
  p.reorder = true;
  return p;
}

// Message i: its index in the first 4 bytes, then a pattern derived from it.
std::vector<uint8_t> make_message(uint32_t i, size_t size) {
  std::vector<uint8_t> m(std::max<size_t>(size, 4));
  store_be32(m.data(), i);
  for (size_t j = 4; j < m.size(); ++j) m[j] = uint8_t(i * 131 + j * 31);
  return m;
}
size_t size_of(uint32_t i) { return 4 + (i * 7919u) % 1200; }
uint32_t index_of(const Recorded& r) { return r.data.size() >= 4 ? load_be32(r.data.data()) : UINT32_MAX; }

ChannelParams params(std::string label, bool ordered = true, Reliability r = Reliability::reliable,
                     uint32_t value = 0) {
  ChannelParams p;
  p.label = std::move(label);
  p.protocol = "proto";
  p.ordered = ordered;
  p.reliability = r;
  p.reliability_value = value;
  return p;
}

// Opens a channel from `from` and runs until both sides agree.
uint16_t open(SimPair& sim, Endpoint& from, Endpoint& to, const ChannelParams& p) {
  const auto id = from.assoc.open_channel(p);
  EXPECT_TRUE(id.ok());
  if (!id.ok()) return 0;
  const uint16_t s = *id;
  EXPECT_TRUE(sim.run_until([&] { return from.acked.count(s) && to.opened.count(s); }));
  return s;
}

// Sends messages [0, count) on `stream`, retrying after would_block, and
// runs until `received` says the receiver has what it should.
void send_all(SimPair& sim, Endpoint& from, uint16_t stream, uint32_t count, const std::function<bool()>& received,
              Duration limit = seconds(300)) {
  uint32_t next = 0;
  const bool ok = sim.run_until(
      [&] {
        while (next < count) {
          const auto msg = make_message(next, size_of(next));
          const SendStatus st = from.assoc.send(stream, MessageKind::binary, msg);
          if (st == SendStatus::would_block) break;
          EXPECT_EQ(st, SendStatus::ok);
          ++next;
        }
        return next == count && received();
      },
      limit);
  EXPECT_TRUE(ok) << "sent " << next << " of " << count;
}

class SimTest : public ::testing::TestWithParam<std::tuple<double, uint64_t>> {
 protected:
  double loss() const { return std::get<0>(GetParam()); }
  uint64_t seed() const { return std::get<1>(GetParam()); }
};

TEST_P(SimTest, Connects) {
  SimPair sim(lossy(loss()), seed());
  ASSERT_TRUE(sim.connect());
  EXPECT_TRUE(sim.a.assoc.connected());
  EXPECT_TRUE(sim.b.assoc.connected());
  EXPECT_EQ(sim.a.events.front().type, Type::connected);
}

// RFC 8832 §6: the DTLS client opens on even stream ids, the server on odd.
TEST_P(SimTest, OpensChannelsFromEachSideWithDcep) {
  SimPair sim(lossy(loss()), seed());
  ASSERT_TRUE(sim.connect());
  const ChannelParams pa = params("from-client", false, Reliability::max_retransmits, 3);
  const ChannelParams pb = params("from-server", true, Reliability::max_lifetime, 500);
  const uint16_t sa = open(sim, sim.a, sim.b, pa);
  const uint16_t sb = open(sim, sim.b, sim.a, pb);
  EXPECT_EQ(sa % 2, 0);
  EXPECT_EQ(sb % 2, 1);
  EXPECT_EQ(sim.b.opened[sa], pa);
  EXPECT_EQ(sim.a.opened[sb], pb);
  EXPECT_EQ(sim.a.acked[sa], 1);
  EXPECT_EQ(sim.b.acked[sb], 1);
  ASSERT_NE(sim.b.assoc.channel(sa), nullptr);
  EXPECT_EQ(*sim.b.assoc.channel(sa), pa);
  EXPECT_EQ(*sim.a.assoc.channel(sa), pa);
  // The next id of each parity.
  EXPECT_EQ(*sim.a.assoc.open_channel(params("second")), sa + 2);
}

TEST_P(SimTest, OrderedReliableArriveInOrderByteExact) {
  SimPair sim(lossy(loss()), seed());
  ASSERT_TRUE(sim.connect());
  const uint16_t s = open(sim, sim.a, sim.b, params("ordered"));
  constexpr uint32_t kCount = 2000;
  send_all(sim, sim.a, s, kCount, [&] { return sim.b.messages.size() >= kCount; });
  ASSERT_EQ(sim.b.messages.size(), kCount);
  for (uint32_t i = 0; i < kCount; ++i) {
    const Recorded& m = sim.b.messages[i];
    ASSERT_EQ(m.stream, s);
    ASSERT_EQ(m.kind, MessageKind::binary);
    ASSERT_EQ(m.data, make_message(i, size_of(i))) << "message " << i;
  }
  EXPECT_EQ(sim.b.assoc.counters().messages_in, kCount);
  EXPECT_EQ(sim.a.assoc.counters().messages_out, kCount);
}

TEST_P(SimTest, UnorderedReliableAllArrive) {
  SimPair sim(lossy(loss()), seed());
  ASSERT_TRUE(sim.connect());
  const uint16_t s = open(sim, sim.a, sim.b, params("unordered", false));
  constexpr uint32_t kCount = 1000;
  send_all(sim, sim.a, s, kCount, [&] { return sim.b.messages.size() >= kCount; });
  std::set<uint32_t> seen;
  for (const Recorded& m : sim.b.messages) {
    const uint32_t i = index_of(m);
    ASSERT_LT(i, kCount);
    ASSERT_EQ(m.data, make_message(i, size_of(i)));
    EXPECT_TRUE(seen.insert(i).second) << "duplicate " << i;
  }
  EXPECT_EQ(seen.size(), kCount);
}

// maxRetransmits = 0 and maxPacketLifeTime: a subset arrives, never twice,
// and send() never blocks (a full buffer drops instead).
TEST_P(SimTest, PartialReliabilityDeliversASubsetWithoutBlocking) {
  SimPair sim(lossy(loss()), seed());
  ASSERT_TRUE(sim.connect());
  const uint16_t rexmit = open(sim, sim.a, sim.b, params("rexmit", true, Reliability::max_retransmits, 0));
  const uint16_t timed = open(sim, sim.a, sim.b, params("timed", false, Reliability::max_lifetime, 100));
  constexpr uint32_t kCount = 500;
  for (uint32_t i = 0; i < kCount; ++i) {
    for (uint16_t s : {rexmit, timed}) {
      const SendStatus st = sim.a.assoc.send(s, MessageKind::binary, make_message(i, size_of(i)));
      ASSERT_TRUE(st == SendStatus::ok || st == SendStatus::dropped) << int(st);
    }
    sim.step();
  }
  sim.run_for(seconds(5));
  std::map<uint16_t, std::vector<uint32_t>> got;
  for (const Recorded& m : sim.b.messages) {
    const uint32_t i = index_of(m);
    ASSERT_LT(i, kCount);
    ASSERT_EQ(m.data, make_message(i, size_of(i)));
    got[m.stream].push_back(i);
  }
  for (uint16_t s : {rexmit, timed}) {
    auto v = got[s];
    if (s == rexmit) {
      EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // ordered, gaps allowed
    }
    std::sort(v.begin(), v.end());
    EXPECT_EQ(std::adjacent_find(v.begin(), v.end()), v.end()) << "duplicate on stream " << s;
    EXPECT_LE(v.size(), kCount);
    EXPECT_GE(v.size(), kCount / 2) << "stream " << s;
    if (loss() == 0) {
      EXPECT_EQ(v.size(), kCount);
    }
  }
  if (loss() >= 0.1) {
    EXPECT_LT(got[rexmit].size(), kCount);  // losses were not repaired
  }
}

INSTANTIATE_TEST_SUITE_P(Loss, SimTest,
                         ::testing::Combine(::testing::Values(0.0, 0.05, 0.10), ::testing::Values(1u, 2u, 3u)),
                         [](const auto& param_info) {
                           return "loss" + std::to_string(int(std::get<0>(param_info.param) * 100)) + "_seed" +
                                  std::to_string(std::get<1>(param_info.param));
                         });

// ---- Single-scenario cases (clean or lightly lossy link) ----------------------

SimPair& connected_pair(std::unique_ptr<SimPair>& holder, AssociationConfig a = client_config(),
                        AssociationConfig b = server_config(), double loss = 0.0) {
  holder = std::make_unique<SimPair>(lossy(loss), 7, a, b);
  EXPECT_TRUE(holder->connect());
  return *holder;
}

// RFC 8831 §8: strings and binaries keep their kind; empty ones travel as
// one byte with PPID 56/57 and arrive empty.
TEST(Sim, MessageKindsAndEmptyMessages) {
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h);
  const uint16_t s = open(sim, sim.a, sim.b, params("kinds"));
  const std::string text = "hello";
  const uint8_t bin[] = {0, 1, 2, 0xff};
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::string, Bytes(reinterpret_cast<const uint8_t*>(text.data()), 5)),
            SendStatus::ok);
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, bin), SendStatus::ok);
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::string, {}), SendStatus::ok);
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, {}), SendStatus::ok);
  // And the other way.
  ASSERT_EQ(sim.b.assoc.send(s, MessageKind::string, {}), SendStatus::ok);
  ASSERT_TRUE(sim.run_until([&] { return sim.b.messages.size() == 4 && sim.a.messages.size() == 1; }));
  const auto& m = sim.b.messages;
  EXPECT_EQ(m[0].kind, MessageKind::string);
  EXPECT_EQ(std::string(m[0].data.begin(), m[0].data.end()), text);
  EXPECT_EQ(m[1].kind, MessageKind::binary);
  EXPECT_EQ(m[1].data, std::vector<uint8_t>(std::begin(bin), std::end(bin)));
  EXPECT_EQ(m[2].kind, MessageKind::string);
  EXPECT_TRUE(m[2].data.empty());
  EXPECT_EQ(m[3].kind, MessageKind::binary);
  EXPECT_TRUE(m[3].data.empty());
  EXPECT_EQ(sim.a.messages[0].kind, MessageKind::string);
  EXPECT_TRUE(sim.a.messages[0].data.empty());
  EXPECT_EQ(sim.b.assoc.counters().bytes_in, 9u);
}

TEST(Sim, LargeMessageArrivesWhole) {
  AssociationConfig a = client_config();
  a.remote_max_message_size = 256 * 1024;
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h, a, server_config(), 0.02);
  const uint16_t s = open(sim, sim.a, sim.b, params("big"));
  std::vector<uint8_t> big(256 * 1024);
  for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 7 + (i >> 10));
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, big), SendStatus::ok);
  ASSERT_TRUE(sim.run_until([&] { return !sim.b.messages.empty(); }));
  EXPECT_EQ(sim.b.messages[0].data, big);
}

TEST(Sim, MessageOverRemoteMaxIsRefused) {
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h);
  const uint16_t s = open(sim, sim.a, sim.b, params("limit"));
  std::vector<uint8_t> msg(65537);
  EXPECT_EQ(sim.a.assoc.send(s, MessageKind::binary, msg), SendStatus::too_large);
  msg.resize(65536);
  EXPECT_EQ(sim.a.assoc.send(s, MessageKind::binary, msg), SendStatus::ok);
  sim.a.assoc.set_remote_max_message_size(1000);
  EXPECT_EQ(sim.a.assoc.send(s, MessageKind::binary, Bytes(msg).first(1001)), SendStatus::too_large);
  EXPECT_EQ(sim.a.assoc.send(7, MessageKind::binary, Bytes(msg).first(10)), SendStatus::no_channel);
}

TEST(Sim, OversizedIncomingMessageIsDroppedAndCounted) {
  AssociationConfig a = client_config();
  a.remote_max_message_size = 0;  // the sender ignores our limit
  AssociationConfig b = server_config();
  b.local_max_message_size = 100 * 1024;
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h, a, b);
  const uint16_t s = open(sim, sim.a, sim.b, params("over"));
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, std::vector<uint8_t>(200 * 1024, 1)), SendStatus::ok);
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, std::vector<uint8_t>(100 * 1024, 2)), SendStatus::ok);
  ASSERT_TRUE(sim.run_until([&] { return !sim.b.messages.empty(); }));
  sim.run_for(milliseconds(200));
  ASSERT_EQ(sim.b.messages.size(), 1u);
  EXPECT_EQ(sim.b.messages[0].data, std::vector<uint8_t>(100 * 1024, 2));
  EXPECT_EQ(sim.b.assoc.counters().oversized_in, 1u);
}

// RFC 8831 §6.7: closing resets the outgoing stream, the peer resets its
// own; both sides report the close once and the id can be used again.
TEST(Sim, CloseChannelClosesBothSidesAndFreesTheId) {
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h, client_config(), server_config(), 0.05);
  const uint16_t s = open(sim, sim.a, sim.b, params("closing"));
  const uint16_t other = open(sim, sim.b, sim.a, params("stays"));
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::string, make_message(1, 10)), SendStatus::ok);
  sim.a.assoc.close_channel(s);
  EXPECT_EQ(sim.a.assoc.send(s, MessageKind::string, make_message(2, 10)), SendStatus::no_channel);
  ASSERT_TRUE(sim.run_until([&] { return sim.a.closed_channels.count(s) && sim.b.closed_channels.count(s); }));
  sim.run_for(milliseconds(500));
  EXPECT_EQ(sim.a.closed_channels[s], 1);
  EXPECT_EQ(sim.b.closed_channels[s], 1);
  EXPECT_EQ(sim.a.closed_channels.count(other), 0u);
  EXPECT_EQ(sim.b.messages.size(), 1u);  // sent before the close: delivered
  EXPECT_EQ(sim.a.assoc.channel(s), nullptr);
  EXPECT_EQ(sim.b.assoc.channel(s), nullptr);

  // The peer closes the next one (the server closes a client-opened channel).
  sim.b.opened.clear();
  sim.a.acked.clear();
  const uint16_t again = open(sim, sim.a, sim.b, params("again"));
  EXPECT_EQ(again, s);
  ASSERT_EQ(sim.a.assoc.send(again, MessageKind::string, make_message(3, 10)), SendStatus::ok);
  ASSERT_TRUE(sim.run_until([&] { return sim.b.messages.size() == 2; }));
  EXPECT_EQ(sim.b.messages[1].stream, again);
  sim.b.assoc.close_channel(again);
  ASSERT_TRUE(sim.run_until([&] { return sim.a.closed_channels[s] == 2 && sim.b.closed_channels[s] == 2; }));
  // The other channel still works.
  ASSERT_EQ(sim.b.assoc.send(other, MessageKind::string, make_message(4, 10)), SendStatus::ok);
  ASSERT_TRUE(sim.run_until([&] { return sim.a.messages.size() == 1; }));
}

// set_reading(false) leaves data in usrsctp: the window closes, the
// sender's buffer fills and send() says would_block after a bounded amount.
TEST(Sim, PausedReaderBlocksTheSenderThenDrains) {
  AssociationConfig a = client_config();
  a.send_buffer = 256 * 1024;
  a.writable_threshold = 64 * 1024;
  AssociationConfig b = server_config();
  b.receive_buffer = 256 * 1024;
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h, a, b);
  const uint16_t s = open(sim, sim.a, sim.b, params("bp"));
  sim.b.assoc.set_reading(false);
  // Send until the sender stays blocked: its buffer is full and the
  // receiver's window is shut.
  uint32_t sent = 0;
  size_t sent_bytes = 0;
  int idle_rounds = 0;
  for (int round = 0; round < 20000 && idle_rounds < 300; ++round) {
    bool progressed = false;
    for (;;) {
      const auto msg = make_message(sent, 8 * 1024);
      const SendStatus st = sim.a.assoc.send(s, MessageKind::binary, msg);
      if (st == SendStatus::would_block) break;
      ASSERT_EQ(st, SendStatus::ok);
      ++sent;
      sent_bytes += msg.size();
      progressed = true;
    }
    idle_rounds = progressed ? 0 : idle_rounds + 1;
    sim.step();
  }
  ASSERT_GE(idle_rounds, 300) << "the sender never stayed blocked";
  // Bounded by the sender's buffer plus the receiver's window.
  EXPECT_LE(sent_bytes, a.send_buffer + b.receive_buffer + 64 * 1024) << sent_bytes;
  EXPECT_GE(sent_bytes, a.send_buffer);
  EXPECT_TRUE(sim.b.messages.empty());
  EXPECT_EQ(sim.a.assoc.send(s, MessageKind::binary, make_message(sent, 8 * 1024)), SendStatus::would_block);
  EXPECT_GT(sim.a.assoc.buffered_amount(), a.writable_threshold);
  const uint64_t writable_before = sim.a.writable;

  sim.b.assoc.set_reading(true);
  ASSERT_TRUE(sim.run_until([&] { return sim.b.messages.size() == sent && sim.a.writable > writable_before; }));
  for (uint32_t i = 0; i < sent; ++i) ASSERT_EQ(sim.b.messages[i].data, make_message(i, 8 * 1024));
  EXPECT_LE(sim.a.assoc.buffered_amount(), a.writable_threshold);
  EXPECT_EQ(sim.a.assoc.send(s, MessageKind::binary, make_message(0, 100)), SendStatus::ok);
}

TEST(Sim, BufferedAmountCountsUnackedBytes) {
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h);
  const uint16_t s = open(sim, sim.a, sim.b, params("ba"));
  ASSERT_TRUE(sim.run_until([&] { return sim.a.assoc.buffered_amount() == 0; }, seconds(2)));  // the OPEN was acked
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, make_message(i, 1000)), SendStatus::ok);
  const size_t queued = sim.a.assoc.buffered_amount();
  EXPECT_GE(queued, 10'000u);
  EXPECT_LE(queued, 10'000u + 10 * 16);  // at most a DATA chunk header per message on top
  ASSERT_TRUE(sim.run_until([&] { return sim.b.messages.size() == 10; }));
  EXPECT_TRUE(sim.run_until([&] { return sim.a.assoc.buffered_amount() == 0; }, seconds(2)));
}

TEST(Sim, BlackholedLinkEndsTheAssociation) {
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h);
  const uint16_t s = open(sim, sim.a, sim.b, params("bh"));
  client::LinkProfile dead = lossy(1.0);
  sim.set_profile(dead);
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, make_message(0, 100)), SendStatus::ok);
  const Instant t0 = sim.now();
  const bool ended = sim.run_until([&] { return sim.a.closed && sim.b.closed; }, seconds(900));
  ASSERT_TRUE(ended) << "a " << sim.a.closed << " b " << sim.b.closed << " after "
                     << std::chrono::duration_cast<milliseconds>(sim.now() - t0).count() << " ms"
                     << " b out " << sim.b.assoc.counters().packets_out << " a out "
                     << sim.a.assoc.counters().packets_out;
  EXPECT_FALSE(sim.a.assoc.connected());
  EXPECT_EQ(sim.a.assoc.send(s, MessageKind::binary, make_message(1, 100)), SendStatus::closed);
  EXPECT_FALSE(sim.a.assoc.poll_timeout().has_value());
  EXPECT_EQ(sim.a.events.back().type, Type::closed);
}

TEST(Sim, GarbageInputIsHarmless) {
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h);
  const uint16_t s = open(sim, sim.a, sim.b, params("garbage"));
  uint64_t x = 0x12345678;
  std::vector<uint8_t> junk;
  for (int n = 0; n < 2000; ++n) {
    junk.resize(size_t(n % 300));
    for (auto& byte : junk) byte = uint8_t((x = x * 6364136223846793005ULL + 1442695040888963407ULL) >> 56);
    if (junk.size() >= 4 && n % 2 == 0) {  // right ports, so usrsctp looks further
      store_be16(junk.data(), 5000);
      store_be16(junk.data() + 2, 5000);
    }
    sim.b.assoc.receive(sim.now(), junk);
  }
  sim.b.collect();
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, make_message(9, 50)), SendStatus::ok);
  ASSERT_TRUE(sim.run_until([&] { return sim.b.messages.size() == 1; }));
  EXPECT_TRUE(sim.b.assoc.connected());
}

// CRC32c (Castagnoli, reflected), as SCTP's checksum (RFC 4960 App. B).
uint32_t crc32c(const uint8_t* p, size_t n) {
  uint32_t crc = 0xffffffff;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
  }
  return ~crc;
}

// Rewrites DATA chunks whose payload starts with `marker` (RFC 4960 §3.3.1:
// type 0, flags, length, TSN, stream id, SSN, PPID, data) and fixes the
// packet's checksum. Returns whether it rewrote anything.
bool rewrite_data(std::vector<uint8_t>& pkt, const std::string& marker, const std::function<void(uint8_t*)>& edit) {
  // The checksum convention: CRC32c over the packet with the field zeroed,
  // stored little-endian. Checked on the packet as it came.
  uint32_t stored = 0;
  std::memcpy(&stored, &pkt[8], 4);
  std::memset(&pkt[8], 0, 4);
  EXPECT_EQ(crc32c(pkt.data(), pkt.size()), stored);
  bool changed = false;
  for (size_t at = 12; at + 4 <= pkt.size();) {
    const size_t len = load_be16(&pkt[at + 2]);
    if (len < 4 || at + len > pkt.size()) break;
    if (pkt[at] == 0 && len >= 16 + marker.size() && std::memcmp(&pkt[at + 16], marker.data(), marker.size()) == 0) {
      edit(&pkt[at]);
      changed = true;
    }
    at += (len + 3) & ~size_t(3);
  }
  const uint32_t crc = crc32c(pkt.data(), pkt.size());
  std::memcpy(&pkt[8], &crc, 4);
  return changed;
}

// Remote misbehaviour is dropped and counted: data on a stream with no
// channel, and a PPID 50 message that is not DCEP.
TEST(Sim, UnknownStreamAndBadDcepAreCountedDrops) {
  std::unique_ptr<SimPair> h;
  SimPair& sim = connected_pair(h);
  const uint16_t s = open(sim, sim.a, sim.b, params("victim", false));  // unordered: no SSN gaps
  int rewritten = 0;
  sim.set_tamper([&](std::vector<uint8_t>& pkt) {
    rewritten += rewrite_data(pkt, "UNKNOWN", [](uint8_t* chunk) { store_be16(chunk + 8, 100); });
    rewritten += rewrite_data(pkt, "NOTDCEP", [](uint8_t* chunk) { store_be32(chunk + 12, 50); });
  });
  auto text = [](const char* t) { return Bytes(reinterpret_cast<const uint8_t*>(t), std::strlen(t)); };
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, text("UNKNOWN stream")), SendStatus::ok);
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, text("NOTDCEP at all")), SendStatus::ok);
  ASSERT_EQ(sim.a.assoc.send(s, MessageKind::binary, text("fine")), SendStatus::ok);
  ASSERT_TRUE(sim.run_until([&] { return !sim.b.messages.empty(); }));
  sim.run_for(milliseconds(300));
  EXPECT_EQ(rewritten, 2);
  ASSERT_EQ(sim.b.messages.size(), 1u);
  EXPECT_EQ(sim.b.messages[0].data, std::vector<uint8_t>({'f', 'i', 'n', 'e'}));
  EXPECT_EQ(sim.b.assoc.counters().unknown_stream, 1u);
  EXPECT_EQ(sim.b.assoc.counters().bad_dcep, 1u);
  EXPECT_TRUE(sim.b.assoc.connected());
}

TEST(Sim, SendBeforeConnectIsClosed) {
  Association a(client_config());
  EXPECT_EQ(a.send(0, MessageKind::binary, {}), SendStatus::closed);
  EXPECT_FALSE(a.open_channel(params("x")).ok());
  EXPECT_FALSE(a.poll_timeout().has_value());
  EXPECT_FALSE(a.poll_transmit().has_value());
  EXPECT_FALSE(a.poll_event().has_value());
}

}  // namespace
}  // namespace sfu::sctp::test
