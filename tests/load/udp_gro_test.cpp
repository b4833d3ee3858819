// sfu-load's UDP GRO receive (bench/load/udp_gro.hpp), over real loopback
// sockets: a UDP GSO run arrives as one message with its segment size and
// splits back into the datagrams sent; single datagrams and sockets without
// GRO are unchanged.
#include "bench/load/udp_gro.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <vector>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace sfu::load {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int bound_udp() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

sockaddr_in local_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return a;
}

// Sends `payload` as one message, as UDP GSO segments of `segment` bytes
// when segment > 0; false when the kernel refuses.
bool send_run(int fd, const sockaddr_in& to, const std::vector<uint8_t>& payload, uint16_t segment) {
  iovec iov{const_cast<uint8_t*>(payload.data()), payload.size()};
  msghdr m{};
  m.msg_name = const_cast<sockaddr_in*>(&to);
  m.msg_namelen = sizeof to;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) std::array<uint8_t, CMSG_SPACE(sizeof(uint16_t))> control{};
  if (segment > 0) {
    m.msg_control = control.data();
    m.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
  }
  return ::sendmsg(fd, &m, 0) == ssize_t(payload.size());
}

// Receives one message; the datagrams it holds, split as sfu-load does.
std::vector<std::vector<uint8_t>> receive(int fd, size_t* segment_out = nullptr) {
  std::vector<uint8_t> buf(65536);
  iovec iov{buf.data(), buf.size()};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) std::array<uint8_t, kGroControlSize> control{};
  m.msg_control = control.data();
  m.msg_controllen = control.size();
  const ssize_t n = ::recvmsg(fd, &m, 0);
  std::vector<std::vector<uint8_t>> out;
  if (n <= 0) return out;
  const size_t segment = gro_segment_size(m);
  if (segment_out) *segment_out = segment;
  for_each_datagram(MutBytes(buf.data(), size_t(n)), segment,
                    [&](MutBytes d) { out.emplace_back(d.begin(), d.end()); });
  return out;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed + i * 7);
  return v;
}

TEST(UdpGro, AGsoRunArrivesAsOneMessageAndSplitsBackIntoItsDatagrams) {
  Fd tx{bound_udp()}, rx{bound_udp()};
  ASSERT_GE(tx.fd, 0);
  ASSERT_GE(rx.fd, 0);
  if (!enable_udp_gro(rx.fd)) GTEST_SKIP() << "kernel without UDP_GRO";
  // Five full 1,200-byte datagrams and a 300-byte tail, as the server's
  // GSO run for one video frame.
  const std::vector<uint8_t> run = pattern(5 * 1200 + 300, 3);
  if (!send_run(tx.fd, local_of(rx.fd), run, 1200)) GTEST_SKIP() << "kernel without UDP_SEGMENT";
  size_t segment = 0;
  const auto got = receive(rx.fd, &segment);
  EXPECT_EQ(segment, 1200u);
  ASSERT_EQ(got.size(), 6u);
  size_t off = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].size(), i < 5 ? 1200u : 300u) << i;
    EXPECT_TRUE(std::equal(got[i].begin(), got[i].end(), run.begin() + ptrdiff_t(off))) << "datagram " << i;
    off += got[i].size();
  }
}

TEST(UdpGro, ASingleDatagramHasNoSegmentSize) {
  Fd tx{bound_udp()}, rx{bound_udp()};
  ASSERT_TRUE(tx.fd >= 0 && rx.fd >= 0);
  enable_udp_gro(rx.fd);
  const std::vector<uint8_t> one = pattern(900, 9);
  ASSERT_TRUE(send_run(tx.fd, local_of(rx.fd), one, 0));
  size_t segment = 99;
  const auto got = receive(rx.fd, &segment);
  EXPECT_EQ(segment, 0u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], one);
}

TEST(UdpGro, WithoutGroTheKernelSplitsTheRun) {
  Fd tx{bound_udp()}, rx{bound_udp()};
  ASSERT_TRUE(tx.fd >= 0 && rx.fd >= 0);
  const std::vector<uint8_t> run = pattern(3 * 1000, 1);
  if (!send_run(tx.fd, local_of(rx.fd), run, 1000)) GTEST_SKIP() << "kernel without UDP_SEGMENT";
  for (int i = 0; i < 3; ++i) {
    size_t segment = 99;
    const auto got = receive(rx.fd, &segment);
    EXPECT_EQ(segment, 0u);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].size(), 1000u);
    EXPECT_TRUE(std::equal(got[0].begin(), got[0].end(), run.begin() + i * 1000)) << "datagram " << i;
  }
}

TEST(UdpGro, SplittingCoversEveryByteOnce) {
  std::vector<uint8_t> buf(2500);
  std::vector<size_t> sizes;
  EXPECT_EQ(for_each_datagram(MutBytes(buf), 1000, [&](MutBytes d) { sizes.push_back(d.size()); }), 3u);
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 500}));
  sizes.clear();
  EXPECT_EQ(for_each_datagram(MutBytes(buf), 2500, [&](MutBytes d) { sizes.push_back(d.size()); }), 1u);
  EXPECT_EQ(for_each_datagram(MutBytes(buf), 0, [&](MutBytes d) { sizes.push_back(d.size()); }), 1u);
  EXPECT_EQ(sizes, (std::vector<size_t>{2500, 2500}));
}

}  // namespace
}  // namespace sfu::load
