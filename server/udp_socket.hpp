// A worker's UDP socket with batched I/O: recvmmsg fills a fixed batch of
// receive buffers, and outgoing datagrams are queued in fixed send slots and
// written with one sendmmsg per flush. Everything is preallocated at open();
// the per-packet path allocates nothing and makes no syscall of its own.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "ice/address.hpp"
#include "server/packet_pool.hpp"

namespace sfu::server {

struct UdpCounters {
  uint64_t datagrams_received = 0;
  uint64_t bytes_received = 0;
  uint64_t receive_calls = 0;     // recvmmsg calls that returned data
  uint64_t truncated = 0;         // larger than kPacketBufferSize: dropped
  uint64_t datagrams_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t send_calls = 0;        // sendmmsg calls
  uint64_t send_dropped = 0;      // kernel queue full (EAGAIN) or error
  uint64_t unsendable = 0;        // address family the socket cannot reach
  template <class F>
  void for_each_field(F&& f) {
    f(datagrams_received), f(bytes_received), f(receive_calls), f(truncated), f(datagrams_sent), f(bytes_sent);
    f(send_calls), f(send_dropped), f(unsendable);
  }
};

class UdpSocket {
 public:
  static constexpr size_t kRecvBatch = 32;
  static constexpr size_t kSendSlots = 256;

  // Opens a non-blocking socket bound to `bind` (port 0 = any). An IPv6
  // wildcard ("::") socket is dual-stack. `buffer_bytes` sets SO_RCVBUF and
  // SO_SNDBUF (0 leaves the kernel default). Control path; error text on failure.
  static Result<std::unique_ptr<UdpSocket>, std::string> open(const ice::Address& bind, int buffer_bytes);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return fd_; }
  const ice::Address& local_address() const { return local_; }

  // Reads up to kRecvBatch datagrams without blocking; returns how many.
  // Their buffers stay valid (and writable, for in-place SRTP) until the next
  // receive(). Truncated datagrams are counted and skipped.
  size_t receive();
  MutBytes datagram(size_t i) { return MutBytes(recv_[i].buffer.data(), recv_[i].length); }
  const ice::Address& source(size_t i) const { return recv_[i].from; }

  // Queues one datagram: write at most kPacketBufferSize bytes into the
  // span from send_buffer(), then commit(length, to). send_buffer() flushes
  // first when every slot is taken, so it never fails.
  MutBytes send_buffer();
  void commit(size_t length, const ice::Address& to);
  // Copy-in convenience for control-rate traffic (STUN, DTLS).
  void send(Bytes data, const ice::Address& to);
  // Writes every queued datagram (sendmmsg, as many calls as needed).
  // Datagrams the kernel refuses (EAGAIN, ENOBUFS) are dropped and counted.
  void flush();
  size_t queued() const { return queued_; }

  const UdpCounters& counters() const { return counters_; }

 private:
  UdpSocket() = default;

  struct RecvSlot {
    std::array<uint8_t, kPacketBufferSize> buffer;
    size_t length = 0;
    ice::Address from;
  };
  struct SendSlot {
    std::array<uint8_t, kPacketBufferSize> buffer;
  };

  int fd_ = -1;
  bool dual_stack_ = false;
  ice::Address local_;
  UdpCounters counters_;
  std::unique_ptr<std::array<RecvSlot, kRecvBatch>> recv_storage_;
  RecvSlot* recv_ = nullptr;
  std::array<sockaddr_storage, kRecvBatch> recv_addr_{};
  std::array<iovec, kRecvBatch> recv_iov_{};
  std::array<mmsghdr, kRecvBatch> recv_msgs_{};

  std::unique_ptr<std::array<SendSlot, kSendSlots>> send_storage_;
  std::array<sockaddr_storage, kSendSlots> send_addr_{};
  std::array<iovec, kSendSlots> send_iov_{};
  std::array<mmsghdr, kSendSlots> send_msgs_{};
  size_t queued_ = 0;
};

}  // namespace sfu::server
