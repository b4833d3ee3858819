// Association::Impl, shared by association.cpp (socket setup, the public
// calls, sending) and association_receive.cpp (reading usrsctp's receive
// buffer: messages, DCEP, notifications). Internal to sctp/.
//
// Owner-side state lives here and is touched only by the owning thread.
// `mailbox` is what usrsctp's callbacks write into; it is touched only with
// the Stack's mutex held (see stack.hpp).
//
// Channel life cycle (RFC 8831 §6, RFC 8832 §6):
//
//   open_channel(): OPEN sent ──► ours, !acked ── ACK (or first message) ──► acked
//   peer's OPEN: ACK sent    ──► !ours, acked ──────────────────────────────┘
//        │ close_channel(), or the peer reset its outgoing stream
//        ▼ (we reset ours in turn: RFC 8831 §6.7)
//   closing ── our outgoing reset done AND the peer's reset seen ──► erased, channel_closed
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sctp/association.hpp"
#include "sctp/dcep.hpp"
#include "sctp/stack.hpp"

struct sctp_rcvinfo;
union sctp_notification;

namespace sfu::sctp {

// A growable byte buffer that does not zero what it grows into.
struct RawBuffer {
  std::unique_ptr<uint8_t[]> data;
  size_t capacity = 0;
  size_t size = 0;

  // Makes room for `extra` bytes past `size`, keeping the content.
  void reserve_more(size_t extra) {
    if (capacity - size >= extra) return;
    size_t cap = capacity ? capacity : 4096;
    while (cap - size < extra) cap *= 2;
    auto grown = std::make_unique_for_overwrite<uint8_t[]>(cap);
    if (size) std::memcpy(grown.get(), data.get(), size);
    data = std::move(grown);
    capacity = cap;
  }
};

struct Association::Impl {
  enum class State : uint8_t { idle, connecting, connected, closed };

  struct Channel {
    ChannelParams params;
    bool ours = false;       // we sent the OPEN
    bool acked = false;      // the ACK (or a first message) arrived; peer-opened channels start acked
    bool closing = false;    // no more sends; waiting for both resets
    bool out_reset = false;  // our outgoing reset completed (or failed: nothing more to do)
    bool in_reset = false;   // the peer reset its outgoing stream
  };

  // An event waiting for poll_event(); a message's bytes are in slots[slot].
  struct Pending {
    AssociationEvent::Type type;
    uint16_t stream = 0;
    MessageKind kind = MessageKind::binary;
    int32_t slot = -1;
    ChannelParams params;
  };

  explicit Impl(AssociationConfig config);
  ~Impl();

  // --- association.cpp
  void create_socket(const Stack::Lock& lock);
  // usrsctp_sendv with the channel's settings; returns the errno (0 = sent).
  int send_raw(const Stack::Lock&, uint16_t stream, Ppid ppid, bool unordered, Reliability reliability, uint32_t value,
               Bytes data);
  void reset_outgoing(const Stack::Lock&, uint16_t stream, Channel& channel);
  size_t buffered_locked(const Stack::Lock&) const;
  // After every owner call that ran usrsctp: read what became readable,
  // report writability.
  void settle(const Stack::Lock& lock);

  // --- association_receive.cpp
  void drain(const Stack::Lock& lock);
  void on_piece(const Stack::Lock& lock, const sctp_rcvinfo& info, size_t n, bool eor);
  void on_message(const Stack::Lock& lock, uint16_t stream, uint32_t ppid, Bytes data);
  void on_dcep(const Stack::Lock& lock, uint16_t stream, Bytes data);
  void on_notification(const Stack::Lock& lock, const uint8_t* data, size_t n);
  void on_stream_reset(const Stack::Lock& lock, uint16_t flags, const uint16_t* streams, size_t count);
  void maybe_finish_close(uint16_t stream);
  void set_closed();

  void push_event(AssociationEvent::Type type, uint16_t stream = 0);
  int32_t take_slot(Bytes data);

  AssociationConfig cfg;
  Stack& stack;
  Mailbox mailbox;  // under the stack mutex only
  uintptr_t id = 0;
  struct socket* sock = nullptr;

  State state = State::idle;
  bool reading = true;
  bool want_writable = false;
  bool closed_reported = false;
  uint16_t outbound_streams = 0;
  uint16_t inbound_streams = 0;
  std::unordered_map<uint16_t, Channel> channels;
  AssociationCounters counters;
  std::optional<Instant> next_tick;

  PacketQueue transmit;  // owner's side of mailbox.packets

  std::vector<Pending> events;
  size_t events_head = 0;
  size_t queued_bytes = 0;  // message bytes in `events`
  std::vector<RawBuffer> slots;
  std::vector<int32_t> free_slots;
  int32_t lent_slot = -1;  // the slot behind the last message poll_event() returned
  AssociationEvent current;

  // Reassembly of partial deliveries (no MSG_EOR yet).
  RawBuffer rx;
  bool rx_partial = false;
  bool rx_discarding = false;  // the message outgrew local_max_message_size
  uint16_t rx_stream = 0;
  uint32_t rx_ppid = 0;
};

}  // namespace sfu::sctp
