// sctp::Stack: the one owner of usrsctp's process-global state.
//
// usrsctp keeps every endpoint, association and timer in globals and has a
// single timer wheel for the whole process. This class is the only place
// that knows it:
//
//   - usrsctp is started once, on first use, without its own threads
//     (usrsctp_init_nothreads): no timer thread, no receive threads. It is
//     never finalised (associations can outlive any owner we could name;
//     usrsctp_finish refuses while sockets linger), so its memory stays
//     reachable until exit.
//   - One mutex serialises EVERY usrsctp call. A caller takes a Lock and
//     passes it to the functions that need it (the Lock argument is the
//     proof). usrsctp only calls back (output, socket upcall) from inside a
//     call we made, so callbacks run with the mutex already held. (Even
//     without threads usrsctp starts its "iterator" thread; it only works
//     on address changes and ASCONF, which AF_CONN with ASCONF off never
//     queues. tests/sctp/association_threads_test.cpp under TSan checks.)
//   - Associations are registered by an integer id, which is also their
//     AF_CONN address (sconn_addr = the id cast to a pointer). A callback
//     looks the id up and only appends to that association's Mailbox; an id
//     that is gone (the association was destroyed) makes the callback a
//     no-op. Ids are never reused.
//   - Timers: advance(now) runs usrsctp_handle_timers for the time elapsed
//     since the last advance, from whichever association's handle_timeout
//     calls it. Time only moves forward: a `now` behind the last one (two
//     workers whose clocks were read a moment apart) advances nothing; one
//     more than 5 s behind is taken as a different clock (tests mixing
//     virtual and real time) and becomes the new reference.
//
// Threading: every member but instance() requires the Lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"

struct socket;  // usrsctp's socket (usrsctp.h stays out of our headers)

namespace sfu::sctp {

// Packets from usrsctp's output callback, or their owner-side copy. Buffers
// are recycled: once a queue has been drained and swapped a few times it
// stops allocating.
class PacketQueue {
 public:
  void push(const uint8_t* data, size_t size) {
    if (count_ == bufs_.size()) bufs_.emplace_back();
    bufs_[count_++].assign(data, data + size);
  }
  // The next packet; valid until the queue is cleared or swapped.
  std::optional<Bytes> pop() {
    if (head_ == count_) return std::nullopt;
    return Bytes(bufs_[head_++]);
  }
  bool empty() const { return head_ == count_; }
  size_t size() const { return count_ - head_; }
  // Forgets the packets, keeps the buffers.
  void clear() { head_ = count_ = 0; }
  void swap(PacketQueue& other) noexcept {
    bufs_.swap(other.bufs_);
    std::swap(count_, other.count_);
    std::swap(head_, other.head_);
  }

 private:
  std::vector<std::vector<uint8_t>> bufs_;
  size_t count_ = 0;
  size_t head_ = 0;
};

// What usrsctp's callbacks leave for one association. Touched only with the
// Stack's mutex held (by the callbacks, and by the owner when it collects).
struct Mailbox {
  // A backstop: packets past this many, not yet collected by the owner,
  // are dropped (SCTP retransmits them).
  static constexpr size_t kMaxPackets = 4096;

  PacketQueue packets;    // output callback: SCTP packets to send
  bool readable = false;  // socket upcall: something may be readable/writable
  uint64_t packets_dropped = 0;
};

class Stack {
 public:
  // Proof that the caller holds the stack's mutex.
  class Lock {
   public:
    explicit Lock(Stack& stack) : lock_(stack.mutex_) {}

   private:
    std::unique_lock<std::mutex> lock_;
  };

  // The process's stack; starts usrsctp on the first call (thread-safe).
  static Stack& instance();

  // Registers `mailbox` (and its AF_CONN address with usrsctp) and returns
  // its id; the mailbox must stay valid until remove(id).
  uintptr_t add(const Lock&, Mailbox* mailbox);
  // Unregisters the id; later callbacks for it do nothing.
  void remove(const Lock&, uintptr_t id);

  // Runs usrsctp's due timers for the time elapsed since the last advance.
  void advance(const Lock&, Instant now);

  // For usrsctp_set_upcall: pass the association's id as the argument.
  static void upcall(struct socket* sock, void* id, int flags);

  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

 private:
  Stack();
  ~Stack() = default;

  static int output(void* addr, void* buffer, size_t length, uint8_t tos, uint8_t set_df);
  Mailbox* find(uintptr_t id) const;

  // usrsctp is process-global and several workers use it: this mutex is
  // what makes that safe (the one lock in protocol code; see STYLE.md §7).
  std::mutex mutex_;
  std::unordered_map<uintptr_t, Mailbox*> mailboxes_;
  uintptr_t next_id_ = 1;
  std::optional<int64_t> clock_us_;  // the `now` usrsctp's timer wheel has reached
};

}  // namespace sfu::sctp
