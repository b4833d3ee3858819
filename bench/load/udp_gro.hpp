// UDP GRO on sfu-load's sockets (Linux >= 5.0, UDP_GRO): a run of datagrams
// that the sender wrote as one UDP GSO message (our server does, for the
// packets of one video frame to one subscriber) stays one buffer through
// loopback and arrives as one recvmmsg(2) entry, with its segment size in a
// UDP_GRO control message. The kernel then handles one buffer instead of one
// per datagram; the generator splits it back into the datagrams it holds.
// Datagrams that were not sent together arrive as before.
#pragma once

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "common/bytes.hpp"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace sfu::load {

// Room for one UDP_GRO control message (an int) per received message.
inline constexpr size_t kGroControlSize = CMSG_SPACE(sizeof(int));

// Turns GRO on for `fd`; false when the kernel refuses (then nothing changes).
inline bool enable_udp_gro(int fd) {
  const int one = 1;
  return ::setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
}

// The segment size of a received message (its UDP_GRO control message), or
// 0 when it holds a single datagram.
inline size_t gro_segment_size(const msghdr& m) {
  if (m.msg_control == nullptr || m.msg_controllen == 0) return 0;
  auto* hdr = const_cast<msghdr*>(&m);  // CMSG_NXTHDR takes non-const pointers; nothing is written
  for (cmsghdr* c = CMSG_FIRSTHDR(hdr); c != nullptr; c = CMSG_NXTHDR(hdr, c)) {
    if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO || c->cmsg_len < CMSG_LEN(sizeof(int))) continue;
    int size = 0;
    std::memcpy(&size, CMSG_DATA(c), sizeof size);
    return size > 0 ? size_t(size) : 0;
  }
  return 0;
}

// Calls fn(MutBytes) for each datagram of a message of `len` bytes in
// `data`: segments of `segment` bytes, the last one possibly shorter
// (segment 0: the whole message). Returns the number of datagrams.
template <class Fn>
size_t for_each_datagram(MutBytes data, size_t segment, Fn&& fn) {
  if (segment == 0 || segment >= data.size()) {
    fn(data);
    return 1;
  }
  size_t n = 0;
  for (size_t off = 0; off < data.size(); off += segment, ++n) fn(data.subspan(off, std::min(segment, data.size() - off)));
  return n;
}

}  // namespace sfu::load
