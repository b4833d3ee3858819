// Loopback tests of a media worker with real sockets: UDP echo through the
// batched path, ICE-TCP framed echo, task ordering, timers, clean stop.
#include "server/worker.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "server/mpsc_queue.hpp"
#include "server/packet_pool.hpp"

namespace sfu::server {
namespace {

// Echoes every datagram back on the path it came from, prefixed with 'E'.
class EchoHandler : public WorkerHandler {
 public:
  void on_datagram(Worker& w, Instant, const NetPath& from, MutBytes data) override {
    std::vector<uint8_t> out{'E'};
    out.insert(out.end(), data.begin(), data.end());
    w.send(from, out);
    ++received;
  }
  void on_timeout(Worker&, Instant now) override {
    if (deadline && now >= *deadline) {
      fired_late_by = now - *deadline;
      deadline.reset();
      timeouts.fetch_add(1);
    }
  }
  std::optional<Instant> poll_timeout() const override { return deadline; }
  void on_tcp_closed(Worker&, uint32_t) override { tcp_closed.fetch_add(1); }
  void publish_metrics(Instant) override { publications.fetch_add(1); }

  std::atomic<int> received{0};
  std::atomic<int> timeouts{0};
  std::atomic<int> tcp_closed{0};
  std::atomic<int> publications{0};
  std::optional<Instant> deadline;
  Duration fired_late_by{};
};

int udp_client() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

sockaddr_in to_sin(const ice::Address& a) {
  sockaddr_storage ss{};
  ice::to_sockaddr(a, ss);
  sockaddr_in sin;
  std::memcpy(&sin, &ss, sizeof sin);
  return sin;
}

TEST(MpscQueue, FifoAcrossProducers) {
  MpscQueue<int> q;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t)
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) q.push(t * kPerThread + i);
    });
  std::vector<int> last(4, -1);
  int popped = 0;
  while (popped < 4 * kPerThread) {
    if (auto v = q.pop()) {
      const int t = *v / kPerThread;
      EXPECT_GT(*v, last[size_t(t)]);  // per-producer order kept
      last[size_t(t)] = *v;
      ++popped;
    }
  }
  for (auto& p : producers) p.join();
  EXPECT_FALSE(q.pop());
}

TEST(PacketPool, AcquireReleaseExhaust) {
  PacketPool pool(2);
  auto a = pool.acquire();
  auto b = pool.acquire();
  EXPECT_EQ(a.size(), kPacketBufferSize);
  EXPECT_TRUE(pool.owns(a.data()));
  EXPECT_NE(a.data(), b.data());
  EXPECT_TRUE(pool.acquire().empty());
  EXPECT_EQ(pool.exhausted(), 1u);
  pool.release(a);
  EXPECT_EQ(pool.acquire().data(), a.data());
}

TEST(Worker, UdpEchoThroughBatchedPath) {
  auto* handler = new EchoHandler;
  Worker w(WorkerConfig{}, std::unique_ptr<WorkerHandler>(handler));
  w.start();
  const auto dst = to_sin(w.udp_address());
  const int fd = udp_client();
  constexpr int kPackets = 200;  // several recvmmsg batches
  for (int i = 0; i < kPackets; ++i) {
    uint8_t msg[3] = {uint8_t(i), 0xab, 0xcd};
    ASSERT_EQ(::sendto(fd, msg, 3, 0, reinterpret_cast<const sockaddr*>(&dst), sizeof dst), 3);
  }
  int echoed = 0;
  uint8_t buf[64];
  while (echoed < kPackets) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_EQ(n, 4) << "after " << echoed;
    EXPECT_EQ(buf[0], 'E');
    EXPECT_EQ(buf[2], 0xab);
    ++echoed;
  }
  ::close(fd);
  std::promise<UdpCounters> counters;
  w.post([&](Worker& self) { counters.set_value(self.udp_counters()); });
  const auto c = counters.get_future().get();
  EXPECT_EQ(c.datagrams_received, uint64_t(kPackets));
  EXPECT_EQ(c.datagrams_sent, uint64_t(kPackets));
  EXPECT_LE(c.send_calls, c.datagrams_sent);  // batched, never more calls than packets
  w.stop();
}

TEST(Worker, OversizedDatagramIsCountedAndDropped) {
  Worker w(WorkerConfig{}, std::make_unique<EchoHandler>());
  w.start();
  const auto dst = to_sin(w.udp_address());
  const int fd = udp_client();
  std::vector<uint8_t> big(kPacketBufferSize + 100, 0x11);
  ::sendto(fd, big.data(), big.size(), 0, reinterpret_cast<const sockaddr*>(&dst), sizeof dst);
  uint8_t small[1] = {7};
  ::sendto(fd, small, 1, 0, reinterpret_cast<const sockaddr*>(&dst), sizeof dst);
  uint8_t buf[16];
  EXPECT_EQ(::recv(fd, buf, sizeof buf, 0), 2);  // only the small one is echoed
  ::close(fd);
  std::promise<uint64_t> truncated;
  w.post([&](Worker& self) { truncated.set_value(self.udp_counters().truncated); });
  EXPECT_EQ(truncated.get_future().get(), 1u);
}

TEST(Worker, IceTcpFramedEchoAndClose) {
  auto* handler = new EchoHandler;
  Worker w(WorkerConfig{}, std::unique_ptr<WorkerHandler>(handler));
  w.start();
  ASSERT_TRUE(w.tcp_address());
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const auto dst = to_sin(*w.tcp_address());
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst), 0);
  // Two frames in one write, then a frame split across writes (RFC 4571).
  std::vector<uint8_t> stream = {0x00, 0x02, 'h', 'i', 0x00, 0x01, '!', 0x00, 0x03, 'a'};
  ASSERT_EQ(::send(fd, stream.data(), stream.size(), 0), ssize_t(stream.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const uint8_t tail[2] = {'b', 'c'};
  ASSERT_EQ(::send(fd, tail, 2, 0), 2);
  const std::vector<uint8_t> expect = {0x00, 0x03, 'E', 'h', 'i', 0x00, 0x02, 'E', '!', 0x00, 0x04, 'E', 'a', 'b', 'c'};
  std::vector<uint8_t> got;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (got.size() < expect.size()) {
    uint8_t buf[64];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.insert(got.end(), buf, buf + n);
  }
  EXPECT_EQ(got, expect);
  ::close(fd);
  for (int i = 0; i < 200 && handler->tcp_closed.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(handler->tcp_closed.load(), 1);
  w.stop();
}

TEST(Worker, TasksRunInOrderOnTheWorkerThread) {
  Worker w(WorkerConfig{});
  w.start();
  std::vector<int> seen;
  std::thread::id worker_thread;
  std::promise<void> done;
  for (int i = 0; i < 1000; ++i) w.post([&, i](Worker&) { seen.push_back(i); worker_thread = std::this_thread::get_id(); });
  w.post([&](Worker&) { done.set_value(); });
  done.get_future().wait();
  ASSERT_EQ(seen.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(seen[size_t(i)], i);
  EXPECT_NE(worker_thread, std::this_thread::get_id());
  w.stop();
  w.stop();  // idempotent
  w.post([](Worker&) { FAIL() << "ran after stop"; });
}

// A task runs with the loop's time: never before it was posted, never
// after it ran, never going back.
TEST(Worker, TasksRunWithTheLoopsTime) {
  Worker w(WorkerConfig{});
  w.start();
  std::vector<std::pair<Instant, Instant>> seen;  // (loop time, clock) in the task
  for (int round = 0; round < 50; ++round) {
    const Instant posted = Clock::now();
    std::promise<void> done;
    w.post([&](Worker& worker) {
      seen.emplace_back(worker.now(), Clock::now());
      done.set_value();
    });
    done.get_future().wait();
    ASSERT_GE(seen.back().first, posted);
    ASSERT_LE(seen.back().first, seen.back().second);
    if (seen.size() > 1) {
      ASSERT_GE(seen.back().first, seen[seen.size() - 2].first);
    }
  }
  w.stop();
}

TEST(Worker, TimerFiresAtHandlerDeadline) {
  auto* handler = new EchoHandler;
  Worker w(WorkerConfig{}, std::unique_ptr<WorkerHandler>(handler));
  w.start();
  const auto start = Clock::now();
  w.post([&](Worker&) { handler->deadline = Clock::now() + milliseconds(30); });
  for (int i = 0; i < 400 && handler->timeouts.load() == 0; ++i) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(handler->timeouts.load(), 1);
  EXPECT_GE(Clock::now() - start, milliseconds(30));
  w.stop();
  EXPECT_LT(handler->fired_late_by, milliseconds(200));
}

// /metrics reads what the worker publishes once a second; an idle loop (no
// timer asked for, no packets) must still publish, or a room closed just
// after a publication would stay on /metrics.
TEST(Worker, IdleLoopStillPublishesItsMetricsEverySecond) {
  auto* handler = new EchoHandler;
  Worker w(WorkerConfig{}, std::unique_ptr<WorkerHandler>(handler));
  w.start();
  w.post([](Worker&) {});
  for (int i = 0; i < 500 && handler->publications.load() < 3; ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_GE(handler->publications.load(), 3);
  EXPECT_GE(w.loop_sample().loop.tasks, 1u);
  EXPECT_GT(w.cpu_seconds(), 0.0);
  w.stop();
}

TEST(Worker, BindConflictThrowsWithAddress) {
  Worker a(WorkerConfig{});
  WorkerConfig cfg;
  cfg.udp_bind = a.udp_address();
  try {
    Worker b(cfg);
    FAIL() << "second bind succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
  }
}

TEST(Worker, NeverStartedWorkerDestroysCleanly) {
  for (int i = 0; i < 3; ++i) Worker w(WorkerConfig{});
}

}  // namespace
}  // namespace sfu::server
