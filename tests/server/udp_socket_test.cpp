// The worker socket's send path over real loopback sockets, with and without
// UDP GSO: every queued datagram arrives byte for byte, in order per
// destination; runs are cut where the kernel needs them cut; a refused GSO
// message is sent datagram by datagram; a full queue drops and counts.
#include "server/udp_socket.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

namespace sfu::server {
namespace {

// A receiving socket on 127.0.0.1 that reads without blocking.
struct Receiver {
  Receiver() {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    const int buffer = 2 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    socklen_t len = sizeof sin;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
    address = ice::Address::v4(0x7f000001u, ntohs(sin.sin_port));
  }
  ~Receiver() { ::close(fd); }
  std::vector<std::vector<uint8_t>> drain() const {
    std::vector<std::vector<uint8_t>> out;
    uint8_t buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0) break;
      out.emplace_back(buf, buf + n);
    }
    return out;
  }
  int fd = -1;
  ice::Address address;
};

std::unique_ptr<UdpSocket> open_socket(bool gso) {
  auto s = UdpSocket::open(ice::Address::v4(0x7f000001u, 0), 4 << 20, gso);
  EXPECT_TRUE(s.ok());
  return std::move(s.value());
}

// A datagram of `size` bytes whose content names its destination and its
// place in that destination's sequence.
std::vector<uint8_t> datagram(size_t destination, uint32_t seq, size_t size) {
  std::vector<uint8_t> d(size);
  for (size_t i = 0; i < size; ++i) d[i] = uint8_t(destination * 31 + seq * 7 + i);
  return d;
}

void queue(UdpSocket& s, const std::vector<uint8_t>& d, const ice::Address& to) {
  MutBytes buf = s.send_buffer();
  std::memcpy(buf.data(), d.data(), d.size());
  s.commit(d.size(), to);
}

// Queues a seeded mix (frames of equal-sized packets with a shorter last
// one, audio-sized packets, oversized ones) to three destinations, then
// checks what each receives against what was queued for it.
void send_mix_and_check(bool gso, uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed) + (gso ? " with GSO" : " without GSO"));
  std::mt19937 rng(seed);
  auto s = open_socket(gso);
  ASSERT_EQ(s->gso_enabled(), gso) << "this kernel has no UDP GSO (Linux 4.18+)";
  Receiver r[3];
  std::vector<std::vector<uint8_t>> expected[3];
  size_t total = 0;
  while (total < 240) {
    const size_t dst = rng() % 3;
    const size_t kind = rng() % 4;
    size_t count = 1;
    size_t size = 0;
    if (kind == 0) size = 60 + rng() % 100;                      // audio
    if (kind == 1) count = 2 + rng() % 8, size = 900 + rng() % 300;  // a frame
    if (kind == 2) size = 1453 + rng() % 500;                     // larger than a GSO segment
    if (kind == 3) count = 1 + rng() % 3, size = 1200;
    for (size_t k = 0; k < count; ++k) {
      // A frame's last packet is shorter; now and then one is longer.
      const size_t len = k + 1 == count && count > 1 ? size / 2 : (rng() % 10 == 0 ? size + 1 : size);
      auto d = datagram(dst, uint32_t(expected[dst].size()), len);
      queue(*s, d, r[dst].address);
      expected[dst].push_back(std::move(d));
      ++total;
    }
  }
  s->flush();
  EXPECT_EQ(s->queued(), 0u);
  for (size_t i = 0; i < 3; ++i) {
    const auto got = r[i].drain();
    ASSERT_EQ(got.size(), expected[i].size()) << "destination " << i;
    for (size_t k = 0; k < got.size(); ++k) ASSERT_EQ(got[k], expected[i][k]) << "destination " << i << " #" << k;
  }
  const auto& c = s->counters();
  EXPECT_EQ(c.datagrams_sent, total);
  EXPECT_EQ(c.send_dropped, 0u);
  EXPECT_EQ(c.gso_refused, 0u);
  if (gso) {
    EXPECT_GT(c.gso_messages, 0u);
    EXPECT_GT(c.gso_datagrams, 2 * c.gso_messages - 1);
  } else {
    EXPECT_EQ(c.gso_messages, 0u);
    EXPECT_EQ(c.gso_datagrams, 0u);
  }
}

TEST(UdpSocket, EveryDatagramArrivesInOrderPerDestinationWithGso) {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u}) send_mix_and_check(true, seed);
}

TEST(UdpSocket, EveryDatagramArrivesInOrderPerDestinationWithoutGso) {
  for (uint32_t seed : {1u, 2u, 3u}) send_mix_and_check(false, seed);
}

TEST(UdpSocket, GsoRunsAreCutAtTheDatagramAndByteLimits) {
  Receiver r;
  {
    auto s = open_socket(true);
    // 110 small datagrams: 64 then 46.
    for (uint32_t k = 0; k < 110; ++k) queue(*s, datagram(0, k, 400), r.address);
    s->flush();
    EXPECT_EQ(s->counters().gso_messages, 2u);
    EXPECT_EQ(s->counters().gso_datagrams, 110u);
    EXPECT_EQ(r.drain().size(), 110u);
  }
  {
    auto s = open_socket(true);
    // 60 of 1,400 bytes: 42 fit in 60,000 bytes, then 18.
    for (uint32_t k = 0; k < 60; ++k) queue(*s, datagram(0, k, 1400), r.address);
    s->flush();
    EXPECT_EQ(s->counters().gso_messages, 2u);
    const auto got = r.drain();
    ASSERT_EQ(got.size(), 60u);
    for (uint32_t k = 0; k < 60; ++k) EXPECT_EQ(got[k], datagram(0, k, 1400));
  }
  {
    auto s = open_socket(true);
    // A run ends after a shorter datagram and before a longer one.
    const size_t sizes[] = {1000, 1000, 500, 1000, 1200, 1200, 1200};
    for (uint32_t k = 0; k < 7; ++k) queue(*s, datagram(0, k, sizes[k]), r.address);
    s->flush();
    // {1000, 1000, 500}, {1000}, {1200, 1200, 1200}
    EXPECT_EQ(s->counters().gso_messages, 2u);
    EXPECT_EQ(s->counters().gso_datagrams, 6u);
    const auto got = r.drain();
    ASSERT_EQ(got.size(), 7u);
    for (uint32_t k = 0; k < 7; ++k) EXPECT_EQ(got[k], datagram(0, k, sizes[k]));
  }
}

// The kernel as one without UDP GSO (or with a device that cannot checksum
// it) behaves: it sends plain messages and refuses the first GSO message
// with `refusal`, reporting what it sent before it.
int refusal = EIO;
int refuse_gso(int fd, mmsghdr* msgs, unsigned count, int flags) {
  unsigned plain = 0;
  while (plain < count && msgs[plain].msg_hdr.msg_controllen == 0) ++plain;
  if (plain == 0) {
    errno = refusal;
    return -1;
  }
  return ::sendmmsg(fd, msgs, plain, flags);
}

void send_frames_to_a_refusing_kernel(int error, bool gso_stays_on) {
  refusal = error;
  Receiver r[2];
  auto s = open_socket(true);
  s->set_sendmmsg_for_test(&refuse_gso);
  std::vector<std::vector<uint8_t>> expected[2];
  for (uint32_t k = 0; k < 20; ++k) {
    const size_t dst = k % 2;
    auto d = datagram(dst, k, k % 5 == 0 ? 100 : 1100);  // audio, then frames of four
    queue(*s, d, r[dst].address);
    expected[dst].push_back(std::move(d));
  }
  s->flush();
  EXPECT_GE(s->counters().gso_refused, 1u);
  EXPECT_EQ(s->gso_enabled(), gso_stays_on);
  EXPECT_EQ(s->counters().datagrams_sent, 20u);
  EXPECT_EQ(s->counters().send_dropped, 0u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(r[i].drain(), expected[i]) << "destination " << i;
  if (!gso_stays_on) {
    // Later flushes no longer try.
    const auto refused = s->counters().gso_refused;
    for (uint32_t k = 0; k < 8; ++k) queue(*s, datagram(0, k, 1100), r[0].address);
    s->flush();
    EXPECT_EQ(s->counters().gso_refused, refused);
    EXPECT_EQ(r[0].drain().size(), 8u);
  }
}

TEST(UdpSocket, AKernelWithoutGsoGetsTheSameDatagramsOneByOneAndGsoTurnsOff) {
  send_frames_to_a_refusing_kernel(EIO, false);
}

TEST(UdpSocket, ARunThePathRefusesGoesOneByOneAndGsoStaysOn) { send_frames_to_a_refusing_kernel(EINVAL, true); }

TEST(UdpSocket, APathThatRefusesEveryRunTurnsGsoOffAfterEightInARow) {
  refusal = EINVAL;
  Receiver r;
  auto s = open_socket(true);
  s->set_sendmmsg_for_test(&refuse_gso);
  for (uint32_t flush = 0; flush < 12; ++flush) {
    for (uint32_t k = 0; k < 3; ++k) queue(*s, datagram(0, flush * 3 + k, 1100), r.address);  // one run
    s->flush();
    EXPECT_EQ(s->gso_enabled(), flush + 1 < UdpSocket::kMaxGsoRefusalsInARow) << "after flush " << flush;
  }
  EXPECT_EQ(s->counters().gso_refused, UdpSocket::kMaxGsoRefusalsInARow);
  EXPECT_EQ(s->counters().datagrams_sent, 36u);
  EXPECT_EQ(r.drain().size(), 36u);
}

// Refuses every other GSO message (EINVAL), sends the rest.
int gso_calls = 0;
int refuse_every_other_run(int fd, mmsghdr* msgs, unsigned /*count*/, int flags) {
  if (msgs[0].msg_hdr.msg_controllen != 0 && gso_calls++ % 2 == 0) {
    errno = EINVAL;
    return -1;
  }
  return ::sendmmsg(fd, msgs, 1, flags);
}

TEST(UdpSocket, RefusalsWithSuccessesBetweenThemKeepGsoOn) {
  Receiver r;
  auto s = open_socket(true);
  s->set_sendmmsg_for_test(&refuse_every_other_run);
  for (uint32_t flush = 0; flush < 20; ++flush) {
    for (uint32_t k = 0; k < 3; ++k) queue(*s, datagram(0, flush * 3 + k, 1100), r.address);
    s->flush();
  }
  EXPECT_TRUE(s->gso_enabled());
  EXPECT_EQ(s->counters().gso_refused, 10u);
  EXPECT_EQ(s->counters().gso_messages, 10u);
  EXPECT_EQ(r.drain().size(), 60u);
}

int queue_full(int, mmsghdr*, unsigned, int) {
  errno = EAGAIN;
  return -1;
}

TEST(UdpSocket, AFullKernelQueueDropsTheWholeRunAndCountsEveryDatagram) {
  Receiver r;
  auto s = open_socket(true);
  s->set_sendmmsg_for_test(&queue_full);
  for (uint32_t k = 0; k < 5; ++k) queue(*s, datagram(0, k, 1000), r.address);
  queue(*s, datagram(1, 0, 1000), ice::Address::v4(0x7f000001u, 9));
  s->flush();
  EXPECT_EQ(s->counters().send_dropped, 6u);
  EXPECT_EQ(s->counters().datagrams_sent, 0u);
  EXPECT_EQ(s->queued(), 0u);
}

TEST(UdpSocket, MoreDatagramsThanSlotsFlushOnTheWay) {
  for (bool gso : {true, false}) {
    SCOPED_TRACE(gso ? "with GSO" : "without GSO");
    Receiver r[4];
    auto s = open_socket(gso);
    const size_t n = UdpSocket::kSendSlots + 100;
    for (uint32_t k = 0; k < n; ++k) queue(*s, datagram(k % 4, k / 4, 300), r[k % 4].address);
    s->flush();
    EXPECT_EQ(s->counters().datagrams_sent, n);
    // Without GSO a flush every kPlainSendBatch datagrams; with it, when the slots run out.
    const size_t batch = gso ? UdpSocket::kSendSlots : UdpSocket::kPlainSendBatch;
    EXPECT_GE(s->counters().send_calls, (n + batch - 1) / batch);
    if (!gso) {
      EXPECT_EQ(s->counters().send_calls, (n + batch - 1) / batch);
    }
    for (size_t i = 0; i < 4; ++i) {
      const auto got = r[i].drain();
      ASSERT_EQ(got.size(), n / 4);
      for (uint32_t k = 0; k < got.size(); ++k) ASSERT_EQ(got[k], datagram(i, k, 300));
    }
  }
}

}  // namespace
}  // namespace sfu::server
