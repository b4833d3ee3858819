#include "server/udp_socket.hpp"

#include <fcntl.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sfu::server {

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103  // linux/udp.h, Linux 4.18
#endif

namespace {

// The kernel refused a GSO message for a reason that will not go away:
// no UDP GSO in this kernel, or a device that cannot checksum it.
bool gso_unsupported(int error) {
  return error == EIO || error == ENOPROTOOPT || error == EOPNOTSUPP;
}

}  // namespace

Result<std::unique_ptr<UdpSocket>, std::string> UdpSocket::open(const ice::Address& bind_addr, int buffer_bytes,
                                                                bool gso) {
  std::unique_ptr<UdpSocket> s(new UdpSocket);
  const int family = bind_addr.is_ipv4() ? AF_INET : AF_INET6;
  s->fd_ = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd_ < 0) return fail(std::string("socket: ") + std::strerror(errno));
  if (family == AF_INET6) {
    // Dual-stack only for the wildcard address: IPv4 peers then appear as
    // v4-mapped addresses, which we unmap on receive and map on send.
    static const std::array<uint8_t, 16> any{};
    const int v6only = bind_addr.ip == any ? 0 : 1;
    s->dual_stack_ = v6only == 0;
    ::setsockopt(s->fd_, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (buffer_bytes > 0) {
    ::setsockopt(s->fd_, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    ::setsockopt(s->fd_, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  }
  sockaddr_storage ss{};
  const size_t len = ice::to_sockaddr(bind_addr, ss);
  if (::bind(s->fd_, reinterpret_cast<sockaddr*>(&ss), socklen_t(len)) != 0)
    return fail("bind " + ice::to_string(bind_addr) + ": " + std::strerror(errno));
  socklen_t got = sizeof ss;
  ::getsockname(s->fd_, reinterpret_cast<sockaddr*>(&ss), &got);
  s->local_ = ice::from_sockaddr(ss).value_or(bind_addr);
  if (gso) {
    // Setting a zero segment size is a no-op that tells whether the kernel
    // knows UDP_SEGMENT at all; each message carries its own size.
    const int zero = 0;
    s->gso_ = ::setsockopt(s->fd_, SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
  }

  s->recv_storage_ = std::make_unique<std::array<RecvSlot, kRecvBatch>>();
  s->recv_ = s->recv_storage_->data();
  s->send_storage_ = std::make_unique<std::array<SendSlot, kSendSlots>>();
  for (size_t i = 0; i < kRecvBatch; ++i) {
    s->recv_iov_[i] = {s->recv_[i].buffer.data(), kPacketBufferSize};
    auto& h = s->recv_msgs_[i].msg_hdr;
    h.msg_name = &s->recv_addr_[i];
    h.msg_iov = &s->recv_iov_[i];
    h.msg_iovlen = 1;
  }
  for (size_t i = 0; i < kSendSlots; ++i) {
    auto& h = s->send_msgs_[i].msg_hdr;
    h.msg_name = &s->send_addr_[i];
    h.msg_iov = &s->send_iov_[i];
    h.msg_iovlen = 1;
  }
  return s;
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

size_t UdpSocket::receive() {
  for (size_t i = 0; i < kRecvBatch; ++i) {
    recv_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    recv_msgs_[i].msg_hdr.msg_flags = 0;
  }
  const int n = ::recvmmsg(fd_, recv_msgs_.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  ++counters_.receive_calls;
  size_t kept = 0;
  for (int i = 0; i < n; ++i) {
    const auto& m = recv_msgs_[size_t(i)];
    if (m.msg_hdr.msg_flags & MSG_TRUNC) {
      ++counters_.truncated;
      continue;
    }
    auto from = ice::from_sockaddr(reinterpret_cast<const sockaddr*>(m.msg_hdr.msg_name), m.msg_hdr.msg_namelen);
    if (!from) continue;
    // Compact in place so callers see 0..kept-1. Swapping slot buffers would
    // break the iovec wiring; copying the rare gap case is cheaper than both.
    if (kept != size_t(i)) {
      std::memcpy(recv_[kept].buffer.data(), recv_[i].buffer.data(), m.msg_len);
    }
    recv_[kept].length = m.msg_len;
    recv_[kept].from = from->unmapped();
    counters_.bytes_received += m.msg_len;
    ++kept;
  }
  counters_.datagrams_received += kept;
  return kept;
}

MutBytes UdpSocket::send_buffer() {
  if (queued_ == (gso_ ? kSendSlots : kPlainSendBatch)) flush();
  return MutBytes((*send_storage_)[queued_].buffer.data(), kPacketBufferSize);
}

void UdpSocket::commit(size_t length, const ice::Address& to) {
  if (length == 0 || length > kPacketBufferSize) return;
  if (to.is_ipv4() != local_.is_ipv4() && !dual_stack_) {
    ++counters_.unsendable;
    return;
  }
  const ice::Address dst = dual_stack_ ? to.v4_mapped() : to;
  const size_t alen = ice::to_sockaddr(dst, send_addr_[queued_]);
  send_msgs_[queued_].msg_hdr.msg_namelen = socklen_t(alen);
  send_iov_[queued_] = {(*send_storage_)[queued_].buffer.data(), length};
  send_to_[queued_] = dst;
  ++queued_;
}

void UdpSocket::send(Bytes data, const ice::Address& to) {
  if (data.size() > kPacketBufferSize) return;
  MutBytes buf = send_buffer();
  std::memcpy(buf.data(), data.data(), data.size());
  commit(data.size(), to);
}

void UdpSocket::flush() {
  if (queued_ == 0) return;
  if (gso_ && queued_ > 1) {
    flush_gso();
  } else {
    send_messages(send_msgs_.data(), queued_);
  }
  queued_ = 0;
}

// Chains the queued slots by destination (open addressing over the
// addresses; a generation number empties the table without clearing it).
// Returns the number of destinations, in order of first appearance.
size_t UdpSocket::group_by_destination() {
  if (++generation_ == 0) {  // wrapped: stale entries could look current
    table_.fill({});
    generation_ = 1;
  }
  const ice::AddressHash hash;
  size_t groups = 0;
  for (uint32_t i = 0; i < queued_; ++i) {
    next_[i] = kEnd;
    size_t h = hash(send_to_[i]) & (kTableSize - 1);
    while (table_[h].generation == generation_ && !(send_to_[groups_[table_[h].group].head] == send_to_[i]))
      h = (h + 1) & (kTableSize - 1);
    if (table_[h].generation != generation_) {
      table_[h] = {generation_, uint32_t(groups)};
      groups_[groups++] = {i, i};
    } else {
      Group& g = groups_[table_[h].group];
      next_[g.tail] = i;
      g.tail = i;
    }
  }
  return groups;
}

// Each destination's datagrams, in order, cut into runs the kernel can
// segment: every datagram of a run has the first one's size except the
// last, which may be shorter (and then ends the run).
void UdpSocket::flush_gso() {
  const size_t groups = group_by_destination();
  size_t messages = 0;
  size_t iovs = 0;
  for (size_t g = 0; g < groups; ++g) {
    uint32_t i = groups_[g].head;
    while (i != kEnd) {
      const size_t segment = send_iov_[i].iov_len;
      mmsghdr& m = out_msgs_[messages];
      m.msg_hdr = send_msgs_[i].msg_hdr;  // the destination, no control message
      m.msg_hdr.msg_iov = &out_iov_[iovs];
      m.msg_hdr.msg_iovlen = 1;
      out_iov_[iovs++] = send_iov_[i];
      size_t bytes = segment;
      uint32_t j = next_[i];
      if (segment <= kMaxGsoSegment) {
        while (j != kEnd && m.msg_hdr.msg_iovlen < kMaxGsoDatagrams) {
          const size_t len = send_iov_[j].iov_len;
          if (len > segment || bytes + len > kMaxGsoBytes) break;
          out_iov_[iovs++] = send_iov_[j];
          ++m.msg_hdr.msg_iovlen;
          bytes += len;
          j = next_[j];
          if (len < segment) break;
        }
      }
      if (m.msg_hdr.msg_iovlen > 1) {
        Control& c = out_control_[messages];
        m.msg_hdr.msg_control = c.bytes;
        m.msg_hdr.msg_controllen = sizeof c.bytes;
        cmsghdr* cm = CMSG_FIRSTHDR(&m.msg_hdr);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const uint16_t size = uint16_t(segment);
        std::memcpy(CMSG_DATA(cm), &size, sizeof size);
      }
      ++messages;
      i = j;
    }
  }
  send_messages(out_msgs_.data(), messages);
}

void UdpSocket::send_messages(mmsghdr* msgs, size_t count) {
  size_t done = 0;
  while (done < count) {
    const int n = sendmmsg_(fd_, &msgs[done], unsigned(count - done), MSG_DONTWAIT);
    ++counters_.send_calls;
    if (n < 0) {
      if (errno == EINTR) continue;
      // EAGAIN/ENOBUFS: the kernel queue is full; an unreachable peer gives
      // ECONNREFUSED etc. Drop this message and go on with the rest.
      const mmsghdr& m = msgs[done];
      if (m.msg_hdr.msg_iovlen > 1 && errno != EAGAIN && errno != ENOBUFS) {
        // Refused as a GSO message (no GSO, or a segment the path cannot
        // take): the same datagrams one by one.
        ++counters_.gso_refused;
        if (gso_unsupported(errno) || ++gso_refusals_in_a_row_ >= kMaxGsoRefusalsInARow) gso_ = false;
        send_one_by_one(m);
      } else {
        counters_.send_dropped += m.msg_hdr.msg_iovlen;  // queue full: the whole run
      }
      ++done;
      continue;
    }
    for (size_t k = done; k < done + size_t(n); ++k) {
      const msghdr& h = msgs[k].msg_hdr;
      for (size_t v = 0; v < h.msg_iovlen; ++v) counters_.bytes_sent += h.msg_iov[v].iov_len;
      counters_.datagrams_sent += h.msg_iovlen;
      if (h.msg_iovlen > 1) {
        gso_refusals_in_a_row_ = 0;
        ++counters_.gso_messages;
        counters_.gso_datagrams += h.msg_iovlen;
      }
    }
    done += size_t(n);
  }
}

void UdpSocket::send_one_by_one(const mmsghdr& message) {
  const msghdr& h = message.msg_hdr;
  for (size_t v = 0; v < h.msg_iovlen; ++v) {
    mmsghdr single{};
    single.msg_hdr.msg_name = h.msg_name;
    single.msg_hdr.msg_namelen = h.msg_namelen;
    single.msg_hdr.msg_iov = &h.msg_iov[v];
    single.msg_hdr.msg_iovlen = 1;
    int n;
    do {
      n = sendmmsg_(fd_, &single, 1, MSG_DONTWAIT);
      ++counters_.send_calls;
    } while (n < 0 && errno == EINTR);
    if (n == 1) {
      ++counters_.datagrams_sent;
      counters_.bytes_sent += h.msg_iov[v].iov_len;
    } else {
      ++counters_.send_dropped;
    }
  }
}

}  // namespace sfu::server
