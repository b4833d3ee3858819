// A worker's UDP socket with batched I/O: recvmmsg fills a fixed batch of
// receive buffers, and outgoing datagrams are queued in fixed send slots and
// written with one sendmmsg per flush. Everything is preallocated at open();
// the per-packet path allocates nothing and makes no syscall of its own.
//
// With UDP GSO (UDP_SEGMENT, Linux 4.18+) a flush first groups the queued
// datagrams by destination, keeping their order within each destination,
// and hands the kernel a run of same-sized datagrams for one destination
// (a video frame's packets to one subscriber) as one message: the slots are
// gathered with an iovec each, so nothing is copied, and the stack is walked
// once per run instead of once per datagram. What goes on the wire is the
// same datagrams. A run the kernel refuses is sent datagram by datagram;
// a kernel or device without UDP GSO turns it off for the socket, and so
// do kMaxGsoRefusalsInARow refusals in a row.
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
  uint64_t gso_messages = 0;      // messages that carried several datagrams (UDP GSO)
  uint64_t gso_datagrams = 0;     // datagrams sent inside those messages
  uint64_t gso_refused = 0;       // GSO messages the kernel refused (then sent one by one)
  template <class F>
  void for_each_field(F&& f) {
    f(datagrams_received), f(bytes_received), f(receive_calls), f(truncated), f(datagrams_sent), f(bytes_sent);
    f(send_calls), f(send_dropped), f(unsendable), f(gso_messages), f(gso_datagrams), f(gso_refused);
  }
};

class UdpSocket {
 public:
  static constexpr size_t kRecvBatch = 32;
  // A received batch fanned out to a room fills many slots; the more of a
  // frame a flush holds per subscriber, the longer the GSO runs. Without
  // GSO a flush comes after kPlainSendBatch datagrams: more only spreads
  // the slots over more cache for the same number of syscalls.
  static constexpr size_t kSendSlots = 1024;
  static constexpr size_t kPlainSendBatch = 256;
  // One GSO message: at most this many datagrams (the kernel's limit is 64
  // or 128 by version), each at most kMaxGsoSegment bytes (fits a 1,500-byte
  // MTU over IPv6; larger ones go alone), at most kMaxGsoBytes in all (the
  // UDP length field).
  static constexpr size_t kMaxGsoDatagrams = 64;
  static constexpr size_t kMaxGsoSegment = 1452;
  static constexpr size_t kMaxGsoBytes = 60000;
  // GSO messages refused in a row (no GSO message sent in between) before
  // GSO is turned off: a path that refuses every run would otherwise cost a
  // failed call per flush for good.
  static constexpr uint32_t kMaxGsoRefusalsInARow = 8;

  // Opens a non-blocking socket bound to `bind` (port 0 = any). An IPv6
  // wildcard ("::") socket is dual-stack. `buffer_bytes` sets SO_RCVBUF and
  // SO_SNDBUF (0 leaves the kernel default). `gso` asks for UDP GSO; a
  // kernel without it leaves it off (gso_enabled()). Control path; error
  // text on failure.
  static Result<std::unique_ptr<UdpSocket>, std::string> open(const ice::Address& bind, int buffer_bytes,
                                                              bool gso = true);
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
  bool gso_enabled() const { return gso_; }

  const UdpCounters& counters() const { return counters_; }

  // Tests: the sendmmsg(2) the socket calls (to make the kernel refuse GSO).
  using SendMmsg = int (*)(int fd, mmsghdr* msgs, unsigned count, int flags);
  void set_sendmmsg_for_test(SendMmsg f) { sendmmsg_ = f; }

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
  // Per flush with GSO: destinations in order of first appearance, each
  // with its datagrams chained through next_ (slot indexes, in order).
  struct Group {
    uint32_t head;
    uint32_t tail;
  };
  struct TableEntry {
    uint32_t generation = 0;
    uint32_t group = 0;
  };
  static constexpr size_t kTableSize = 2 * kSendSlots;  // power of two, half full at most
  static constexpr uint32_t kEnd = UINT32_MAX;
  // Room for one UDP_SEGMENT control message (a uint16_t).
  struct alignas(cmsghdr) Control {
    uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
  };

  void flush_gso();
  size_t group_by_destination();
  // Sends msgs[0, count) (the slots as queued, or flush_gso's messages); a
  // refused GSO message goes datagram by datagram.
  void send_messages(mmsghdr* msgs, size_t count);
  void send_one_by_one(const mmsghdr& message);

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
  std::array<ice::Address, kSendSlots> send_to_{};
  size_t queued_ = 0;

  bool gso_ = false;
  uint32_t gso_refusals_in_a_row_ = 0;
  uint32_t generation_ = 0;
  std::array<TableEntry, kTableSize> table_{};
  std::array<Group, kSendSlots> groups_{};
  std::array<uint32_t, kSendSlots> next_{};
  std::array<iovec, kSendSlots> out_iov_{};  // the slots, in message order
  std::array<mmsghdr, kSendSlots> out_msgs_{};
  std::array<Control, kSendSlots> out_control_{};
  SendMmsg sendmmsg_ = &::sendmmsg;
};

}  // namespace sfu::server
