// SendBatch: the datagrams one PeerConnection sends in one go, protected in
// place in fixed slots and written with one sendmmsg(2) per batch (RTP of a
// video frame, RTCP, STUN and DTLS alike). One per MediaThread, reused for
// every PeerConnection in turn; never allocates after construction.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"
#include "ice/address.hpp"

namespace sfu::server {
class Transport;
}

namespace sfu::load {

struct PcSocketCounters;

class SendBatch {
 public:
  static constexpr size_t kSlots = 64;
  static constexpr size_t kSlotSize = 1600;  // an MTU-sized packet + the SRTP trailer

  SendBatch();

  // Starts collecting datagrams from socket `fd` to `to` (flushes what was
  // collected for the previous socket).
  void begin(int fd, const ice::Address& to, PcSocketCounters& counters);
  // Copies a plaintext RTP / RTCP packet into a slot and protects it with
  // `transport`; false (counted) when it does not fit or protection fails.
  bool add_rtp(server::Transport& transport, Bytes plain);
  bool add_rtcp(server::Transport& transport, Bytes plain);
  // A datagram sent as is (STUN, DTLS).
  bool add_raw(Bytes data);
  // Sends everything collected (sendmmsg). Datagrams the kernel refuses
  // (EAGAIN: socket buffer full) are dropped and counted.
  void flush();

  uint64_t syscalls() const { return syscalls_; }
  uint64_t datagrams_sent() const { return datagrams_sent_; }  // every flush so far

 private:
  bool add_protected(server::Transport& transport, Bytes plain, bool rtcp);

  int fd_ = -1;
  sockaddr_storage to_{};
  socklen_t to_len_ = 0;
  PcSocketCounters* counters_ = nullptr;
  size_t count_ = 0;
  std::vector<std::array<uint8_t, kSlotSize>> slots_;
  std::array<iovec, kSlots> iov_{};
  std::array<mmsghdr, kSlots> msgs_{};
  uint64_t syscalls_ = 0;
  uint64_t datagrams_sent_ = 0;
};

}  // namespace sfu::load
