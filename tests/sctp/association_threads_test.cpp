// Several threads, each owning its own association pairs, transferring at
// the same time on the real clock, as media workers do. usrsctp's timer
// wheel is shared: every handle_timeout() runs whatever timers are due in
// the process, so retransmissions and delayed SACKs of one thread's
// associations fire from other threads. sctp::Stack's mutex and mailboxes
// must keep that race-free: run this under -DSFU_SANITIZE=thread.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "tests/sctp/sim_pair.hpp"

namespace sfu::sctp::test {
namespace {

constexpr int kThreads = 4;
constexpr int kPairsPerThread = 3;
constexpr uint32_t kMessages = 300;
constexpr auto kDeadline = seconds(90);

std::vector<uint8_t> payload(uint32_t pair, uint32_t i) {
  std::vector<uint8_t> m(16 + (i * 977u + pair * 131u) % 3000);
  store_be32(m.data(), i);
  for (size_t j = 4; j < m.size(); ++j) m[j] = uint8_t(i + j * 7 + pair);
  return m;
}

// One pair on an in-memory link that drops every 37th packet each way, so
// that loss recovery (and its timers) run too.
struct Pair {
  explicit Pair(uint32_t index_) : index(index_), a(client_config()), b(server_config()) {}
  uint32_t index;
  Endpoint a;
  Endpoint b;
  std::vector<std::vector<uint8_t>> to_a, to_b;
  uint64_t forwarded = 0;
  uint16_t stream = 0;
  bool opened = false;
  uint32_t sent = 0;

  bool done() const { return b.messages.size() == kMessages; }

  // One round; returns whether anything happened.
  bool pump(Instant now) {
    bool busy = false;
    for (Endpoint* e : {&a, &b}) {
      const auto due = e->assoc.poll_timeout();
      if (due && *due <= now) e->assoc.handle_timeout(now);
    }
    auto move = [&](Endpoint& from, std::vector<std::vector<uint8_t>>& queue) {
      while (auto p = from.assoc.poll_transmit()) {
        if (++forwarded % 37 != 0) queue.emplace_back(p->begin(), p->end());
        busy = true;
      }
    };
    move(a, to_b);
    move(b, to_a);
    for (auto& p : to_b) b.assoc.receive(now, p);
    for (auto& p : to_a) a.assoc.receive(now, p);
    to_a.clear();
    to_b.clear();
    const size_t before = a.events.size() + b.events.size();
    a.collect();
    b.collect();
    busy = busy || a.events.size() + b.events.size() != before;

    if (a.connected && !opened) {
      const auto s = a.assoc.open_channel(ChannelParams{});
      if (s.ok()) {
        stream = *s;
        opened = true;
      }
    }
    while (opened && sent < kMessages) {
      const SendStatus st = a.assoc.send(stream, MessageKind::binary, payload(index, sent));
      if (st != SendStatus::ok) break;
      ++sent;
      busy = true;
    }
    return busy;
  }
};

void run_worker(std::vector<std::unique_ptr<Pair>>& pairs, std::atomic<bool>& failed) {
  const Instant start = Clock::now();
  for (auto& p : pairs) {
    p->a.assoc.start(start);
    p->b.assoc.start(start);
  }
  for (;;) {
    const Instant now = Clock::now();
    bool busy = false, all_done = true;
    for (auto& p : pairs) {
      busy = p->pump(now) || busy;
      all_done = all_done && p->done();
    }
    if (all_done) return;
    if (now - start > kDeadline) {
      failed = true;
      return;
    }
    if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(SctpThreads, ConcurrentTransfersOnSharedTimers) {
  usrsctp_sees_virtual_time() = false;  // real time here, for usrsctp too
  std::vector<std::vector<std::unique_ptr<Pair>>> workers(kThreads);
  uint32_t index = 0;
  for (auto& w : workers)
    for (int i = 0; i < kPairsPerThread; ++i) w.push_back(std::make_unique<Pair>(index++));

  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w, &failed] { run_worker(w, failed); });
  for (auto& t : threads) t.join();

  EXPECT_FALSE(failed.load()) << "a worker hit the deadline";
  for (auto& w : workers) {
    for (auto& p : w) {
      ASSERT_EQ(p->b.messages.size(), kMessages) << "pair " << p->index << " sent " << p->sent;
      for (uint32_t i = 0; i < kMessages; ++i)
        ASSERT_EQ(p->b.messages[i].data, payload(p->index, i)) << "pair " << p->index << " message " << i;
    }
  }
  // Destroyed on this thread while other associations' timers may still be
  // pending in usrsctp: later callbacks for their ids must be no-ops.
  workers.clear();
  usrsctp_sees_virtual_time() = true;
}

// Associations created and destroyed on several threads at once while
// others run timers: registration, unregistration and late callbacks.
TEST(SctpThreads, ChurnWhileTimersRun) {
  usrsctp_sees_virtual_time() = false;
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failed] {
      for (int round = 0; round < 20; ++round) {
        std::vector<std::unique_ptr<Pair>> pairs;
        pairs.push_back(std::make_unique<Pair>(uint32_t(t * 100 + round)));
        const Instant start = Clock::now();
        pairs[0]->a.assoc.start(start);
        pairs[0]->b.assoc.start(start);
        while (!(pairs[0]->a.connected && pairs[0]->b.connected)) {
          const Instant now = Clock::now();
          if (!pairs[0]->pump(now)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          if (now - start > seconds(30)) {
            failed = true;
            return;
          }
        }
        // Destroyed mid-transfer on purpose.
        for (int i = 0; i < 5; ++i) pairs[0]->pump(Clock::now());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_FALSE(failed.load());
  usrsctp_sees_virtual_time() = true;
}

}  // namespace
}  // namespace sfu::sctp::test
