#include "bench/load/send_batch.hpp"

#include <cerrno>
#include <cstring>

#include "bench/load/peer_connection.hpp"
#include "server/transport.hpp"

namespace sfu::load {

SendBatch::SendBatch() : slots_(kSlots) {}

void SendBatch::begin(int fd, const ice::Address& to, PcSocketCounters& counters) {
  flush();
  fd_ = fd;
  to_len_ = socklen_t(ice::to_sockaddr(to, to_));
  counters_ = &counters;
}

bool SendBatch::add_raw(Bytes data) {
  if (fd_ < 0 || data.size() > kSlotSize) return false;
  if (count_ == kSlots) flush();
  std::memcpy(slots_[count_].data(), data.data(), data.size());
  iov_[count_] = iovec{slots_[count_].data(), data.size()};
  ++count_;
  return true;
}

bool SendBatch::add_rtp(server::Transport& transport, Bytes plain) { return add_protected(transport, plain, false); }
bool SendBatch::add_rtcp(server::Transport& transport, Bytes plain) { return add_protected(transport, plain, true); }

bool SendBatch::add_protected(server::Transport& transport, Bytes plain, bool rtcp) {
  if (fd_ < 0) return false;
  if (plain.size() + dtls::SrtpSession::kMaxTrailer > kSlotSize) {
    ++counters_->protect_failures;
    return false;
  }
  if (count_ == kSlots) flush();
  auto& slot = slots_[count_];
  std::memcpy(slot.data(), plain.data(), plain.size());
  auto n = rtcp ? transport.protect_rtcp(MutBytes(slot), plain.size()) : transport.protect_rtp(MutBytes(slot), plain.size());
  if (!n) {
    ++counters_->protect_failures;
    return false;
  }
  iov_[count_] = iovec{slot.data(), *n};
  ++count_;
  return true;
}

void SendBatch::flush() {
  size_t sent = 0;
  while (sent < count_) {
    const size_t n = count_ - sent;
    for (size_t i = 0; i < n; ++i) {
      msgs_[i] = mmsghdr{};
      msgs_[i].msg_hdr.msg_name = &to_;
      msgs_[i].msg_hdr.msg_namelen = to_len_;
      msgs_[i].msg_hdr.msg_iov = &iov_[sent + i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    ++syscalls_;
    const int r = ::sendmmsg(fd_, msgs_.data(), unsigned(n), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      // EAGAIN (buffer full) or a hard error: the rest of the batch is lost.
      counters_->send_errors += n;
      break;
    }
    for (int i = 0; i < r; ++i) {
      ++counters_->datagrams_sent;
      counters_->bytes_sent += iov_[sent + size_t(i)].iov_len;
    }
    sent += size_t(r);
    datagrams_sent_ += uint64_t(r);
  }
  count_ = 0;
}

}  // namespace sfu::load
