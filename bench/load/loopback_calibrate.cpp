// sfu-loopback-calibrate: the physical floor for forwarding on this machine.
// A bare loop sends 1,200-byte UDP datagrams over loopback with sendmmsg
// (batches of 32, like the SFU's send path) to a socket the same thread
// drains with recvmmsg, and reports CPU time per packet. An SFU forwarding
// packet must at least be received once and sent once, so "recv+send" is
// the cost one forwarded packet cannot go below; compare.sh prints each
// server's forwarding rate per core as a fraction of it.
//
//   sfu-loopback-calibrate [--packets N] [--seconds S] [--addr 127.0.0.1] [--json]
//
// Bounded: stops after N packets (default 2,000,000) or S seconds (default 5).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace {

constexpr size_t kBatch = 32;
constexpr size_t kPacketSize = 1200;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct Options {
  uint64_t packets = 2'000'000;
  double seconds = 5;
  std::string addr = "127.0.0.1";
  bool json = false;
};

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--json") {
      o.json = true;
    } else if (a == "--packets" && (v = next())) {
      o.packets = std::strtoull(v, nullptr, 10);
    } else if (a == "--seconds" && (v = next())) {
      o.seconds = std::strtod(v, nullptr);
    } else if (a == "--addr" && (v = next())) {
      o.addr = v;
    } else {
      std::fprintf(stderr, "usage: sfu-loopback-calibrate [--packets N] [--seconds S] [--addr IPv4] [--json]\n");
      return false;
    }
  }
  return o.packets > 0 && o.seconds > 0;
}

// A UDP socket bound to addr:0 (non-blocking, large buffers).
int open_socket(const std::string& addr, sockaddr_in& bound) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  const int buf = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  bound = {};
  bound.sin_family = AF_INET;
  if (::inet_pton(AF_INET, addr.c_str(), &bound.sin_addr) != 1) return -1;
  socklen_t len = sizeof bound;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

struct Result {
  uint64_t sent = 0, received = 0;
  double send_cpu = 0, recv_cpu = 0, wall = 0;
};

Result run(const Options& o, int tx, int rx, const sockaddr_in& to) {
  static std::array<std::array<uint8_t, kPacketSize>, kBatch> out{};
  static std::array<std::array<uint8_t, 2048>, kBatch> in{};
  std::array<iovec, kBatch> out_iov{}, in_iov{};
  std::array<mmsghdr, kBatch> out_msg{}, in_msg{};
  for (size_t i = 0; i < kBatch; ++i) {
    out[i].fill(uint8_t(i));
    out_iov[i] = {out[i].data(), kPacketSize};
    out_msg[i].msg_hdr.msg_iov = &out_iov[i];
    out_msg[i].msg_hdr.msg_iovlen = 1;
    out_msg[i].msg_hdr.msg_name = const_cast<sockaddr_in*>(&to);
    out_msg[i].msg_hdr.msg_namelen = sizeof to;
    in_iov[i] = {in[i].data(), in[i].size()};
    in_msg[i].msg_hdr.msg_iov = &in_iov[i];
    in_msg[i].msg_hdr.msg_iovlen = 1;
  }
  Result r;
  const double start = wall_seconds();
  while (r.sent < o.packets && wall_seconds() - start < o.seconds) {
    const double t0 = thread_cpu_seconds();
    const int n = ::sendmmsg(tx, out_msg.data(), unsigned(kBatch), 0);
    const double t1 = thread_cpu_seconds();
    r.send_cpu += t1 - t0;
    if (n > 0) r.sent += uint64_t(n);
    // Drain what arrived so the receive buffer never overflows.
    for (;;) {
      const int m = ::recvmmsg(rx, in_msg.data(), unsigned(kBatch), MSG_DONTWAIT, nullptr);
      if (m <= 0) break;
      r.received += uint64_t(m);
    }
    r.recv_cpu += thread_cpu_seconds() - t1;
    if (n < 0 && errno != EAGAIN && errno != ENOBUFS) {
      std::perror("sendmmsg");
      break;
    }
  }
  r.wall = wall_seconds() - start;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  sockaddr_in tx_addr{}, rx_addr{};
  const int tx = open_socket(o.addr, tx_addr);
  const int rx = open_socket(o.addr, rx_addr);
  if (tx < 0 || rx < 0) {
    std::fprintf(stderr, "sfu-loopback-calibrate: cannot bind UDP sockets on %s\n", o.addr.c_str());
    return 1;
  }
  const Result r = run(o, tx, rx, rx_addr);
  ::close(tx);
  ::close(rx);
  if (r.sent == 0 || r.received == 0) {
    std::fprintf(stderr, "sfu-loopback-calibrate: nothing went through\n");
    return 1;
  }
  const double send_us = r.send_cpu * 1e6 / double(r.sent);
  const double recv_us = r.recv_cpu * 1e6 / double(r.received);
  const double fwd_us = send_us + recv_us;  // one receive + one send: a forwarded packet's floor
  if (o.json) {
    std::printf(
        "{\"packet_bytes\":%zu,\"packets_sent\":%llu,\"packets_received\":%llu,\"wall_s\":%.3f,"
        "\"send_us_per_packet\":%.4f,\"recv_us_per_packet\":%.4f,\"forward_us_per_packet\":%.4f,"
        "\"send_pps_per_core\":%.0f,\"forward_pps_per_core\":%.0f}\n",
        kPacketSize, (unsigned long long)r.sent, (unsigned long long)r.received, r.wall, send_us, recv_us, fwd_us,
        1e6 / send_us, 1e6 / fwd_us);
  } else {
    std::printf("loopback calibration (%zu-byte UDP, sendmmsg/recvmmsg x%zu, %s)\n", kPacketSize, kBatch,
                o.addr.c_str());
    std::printf("  packets sent / received   %llu / %llu in %.2f s\n", (unsigned long long)r.sent,
                (unsigned long long)r.received, r.wall);
    std::printf("  send                      %.3f us/packet CPU  -> %.0f packets/s per core\n", send_us, 1e6 / send_us);
    std::printf("  receive                   %.3f us/packet CPU\n", recv_us);
    std::printf("  receive + send (forward)  %.3f us/packet CPU  -> %.0f packets/s per core\n", fwd_us, 1e6 / fwd_us);
  }
  return 0;
}
