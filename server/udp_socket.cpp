#include "server/udp_socket.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sfu::server {

Result<std::unique_ptr<UdpSocket>, std::string> UdpSocket::open(const ice::Address& bind_addr, int buffer_bytes) {
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
  if (queued_ == kSendSlots) flush();
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
  ++queued_;
}

void UdpSocket::send(Bytes data, const ice::Address& to) {
  if (data.size() > kPacketBufferSize) return;
  MutBytes buf = send_buffer();
  std::memcpy(buf.data(), data.data(), data.size());
  commit(data.size(), to);
}

void UdpSocket::flush() {
  size_t done = 0;
  while (done < queued_) {
    const int n = ::sendmmsg(fd_, &send_msgs_[done], unsigned(queued_ - done), MSG_DONTWAIT);
    ++counters_.send_calls;
    if (n < 0) {
      if (errno == EINTR) continue;
      // EAGAIN/ENOBUFS: the kernel queue is full; an unreachable peer gives
      // ECONNREFUSED etc. Drop this one datagram and go on with the rest.
      ++counters_.send_dropped;
      ++done;
      continue;
    }
    for (int i = 0; i < n; ++i) counters_.bytes_sent += send_iov_[done + size_t(i)].iov_len;
    counters_.datagrams_sent += unsigned(n);
    done += size_t(n);
  }
  queued_ = 0;
}

}  // namespace sfu::server
