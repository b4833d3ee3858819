// Association: reading usrsctp's receive buffer. Whole messages (partial
// deliveries reassembled), DCEP (RFC 8832), and usrsctp's notifications
// (association up/down, stream resets). All of it runs with the Stack's
// mutex held, on the owner's thread.
#include <arpa/inet.h>
#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <iterator>
#include <vector>

#include "sctp/association_impl.hpp"

namespace sfu::sctp {

namespace {

// Room kept free in the reassembly buffer for each read; a message larger
// than this arrives in several reads (partial delivery).
constexpr size_t kReadChunk = 64 * 1024;

template <class T>
T read_struct(const uint8_t* data, size_t n) {
  T v{};
  std::memcpy(&v, data, std::min(n, sizeof(T)));
  return v;
}

}  // namespace

void Association::Impl::drain(const Stack::Lock& lock) {
  if (sock == nullptr || state == State::idle) return;
  // Stop reading once this many message bytes wait for poll_event(): the
  // rest stays in usrsctp (its window closes) until the owner catches up.
  const size_t cap = std::max(cfg.receive_buffer, kReadChunk);
  while (reading && queued_bytes < cap) {
    rx.reserve_more(kReadChunk);
    sctp_rcvinfo info{};
    socklen_t info_len = sizeof(info);
    unsigned int info_type = 0;
    int flags = 0;
    sockaddr_conn from{};
    socklen_t from_len = sizeof(from);
    uint8_t* at = rx.data.get() + rx.size;
    const ssize_t n = usrsctp_recvv(sock, at, rx.capacity - rx.size, reinterpret_cast<sockaddr*>(&from), &from_len,
                                    &info, &info_len, &info_type, &flags);
    if (n < 0) return;  // EWOULDBLOCK: empty for now; ENOTCONN: not up yet
    if (n == 0) {       // end of stream: the association is gone
      set_closed();
      return;
    }
    if (flags & MSG_NOTIFICATION) {
      on_notification(lock, at, size_t(n));
      continue;
    }
    if (info_type != SCTP_RECVV_RCVINFO) info = {};
    on_piece(lock, info, size_t(n), (flags & MSG_EOR) != 0);
  }
  if (reading) mailbox.readable = true;  // stopped at the cap: come back from poll_event()
}

// `n` bytes were read at rx.data + rx.size.
void Association::Impl::on_piece(const Stack::Lock& lock, const sctp_rcvinfo& info, size_t n, bool eor) {
  const uint32_t ppid = ntohl(info.rcv_ppid);
  if (rx_partial && (info.rcv_sid != rx_stream || ppid != rx_ppid)) {
    // A message that never completed (PR-SCTP abandoned its tail): drop it
    // and start over with this piece.
    std::memmove(rx.data.get(), rx.data.get() + rx.size, n);
    rx.size = 0;
    rx_partial = false;
  }
  if (!rx_partial) {
    rx_stream = info.rcv_sid;
    rx_ppid = ppid;
    rx_discarding = false;
  }
  rx_partial = !eor;
  const size_t limit = cfg.local_max_message_size;  // 0 = no limit
  if (!rx_discarding && limit != 0 && rx.size + n > limit) {
    rx_discarding = true;  // never truncated: the whole message goes
    rx.size = 0;
  }
  if (rx_discarding) {
    if (eor) {
      ++counters.oversized_in;
      rx_discarding = false;
    }
    return;
  }
  rx.size += n;
  if (eor) {
    const Bytes message(rx.data.get(), rx.size);
    rx.size = 0;
    on_message(lock, rx_stream, rx_ppid, message);
  }
}

void Association::Impl::on_message(const Stack::Lock& lock, uint16_t stream, uint32_t ppid, Bytes data) {
  bool empty = false;
  MessageKind kind = MessageKind::binary;
  switch (Ppid(ppid)) {
    case Ppid::dcep:
      on_dcep(lock, stream, data);
      return;
    case Ppid::string_empty:
      empty = true;
      [[fallthrough]];
    case Ppid::string:
      kind = MessageKind::string;
      break;
    case Ppid::binary_empty:
      empty = true;
      break;
    case Ppid::binary:
      break;
    default:
      ++counters.unknown_ppid;  // deprecated partial PPIDs (52, 54) and anything else
      return;
  }
  const auto it = channels.find(stream);
  if (it == channels.end()) {
    ++counters.unknown_stream;
    return;
  }
  Channel& c = it->second;
  if (c.ours && !c.acked) {
    // RFC 8832 §6.6: a message on the channel means the peer has its OPEN.
    c.acked = true;
    push_event(AssociationEvent::Type::channel_acked, stream);
  }
  const Bytes payload = empty ? Bytes() : data;  // RFC 8831 §8: the one byte carries nothing
  Pending p;
  p.type = AssociationEvent::Type::message;
  p.stream = stream;
  p.kind = kind;
  p.slot = take_slot(payload);
  events.push_back(std::move(p));
  queued_bytes += payload.size();
  ++counters.messages_in;
  counters.bytes_in += payload.size();
}

int32_t Association::Impl::take_slot(Bytes data) {
  int32_t slot;
  if (!free_slots.empty()) {
    slot = free_slots.back();
    free_slots.pop_back();
  } else {
    slots.emplace_back();
    slot = int32_t(slots.size() - 1);
  }
  RawBuffer& b = slots[size_t(slot)];
  b.size = 0;
  b.reserve_more(data.size());
  if (!data.empty()) std::memcpy(b.data.get(), data.data(), data.size());
  b.size = data.size();
  return slot;
}

void Association::Impl::on_dcep(const Stack::Lock& lock, uint16_t stream, Bytes data) {
  const auto msg = parse_dcep(data);
  if (!msg) {
    ++counters.bad_dcep;
    return;
  }
  if (msg->type == DcepMessage::Type::ack) {
    const auto it = channels.find(stream);
    if (it == channels.end() || !it->second.ours) {
      ++counters.bad_dcep;
      return;
    }
    if (!it->second.acked) {  // a late ACK after an implied one is fine
      it->second.acked = true;
      push_event(AssociationEvent::Type::channel_acked, stream);
    }
    return;
  }
  if (channels.count(stream) != 0) {  // the stream is taken: the peer broke RFC 8832 §6
    ++counters.bad_dcep;
    return;
  }
  Channel c;
  c.params = to_params(msg->open);
  c.acked = true;
  // If the ACK cannot be queued (send buffer full), the peer takes our first
  // message on the channel as the ACK (RFC 8832 §6.6).
  (void)send_raw(lock, stream, Ppid::dcep, false, Reliability::reliable, 0, Bytes(kDcepAckMessage));
  Pending p;
  p.type = AssociationEvent::Type::channel_open;
  p.stream = stream;
  p.params = c.params;
  events.push_back(std::move(p));
  channels.emplace(stream, std::move(c));
}

void Association::Impl::on_notification(const Stack::Lock& lock, const uint8_t* data, size_t n) {
  if (n < sizeof(sctp_notification::sn_header)) return;
  const auto header = read_struct<decltype(sctp_notification::sn_header)>(data, n);
  switch (header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      const auto ac = read_struct<sctp_assoc_change>(data, n);
      if (ac.sac_state == SCTP_COMM_UP || ac.sac_state == SCTP_RESTART) {
        outbound_streams = ac.sac_outbound_streams;
        inbound_streams = ac.sac_inbound_streams;
        if (state != State::connected && state != State::closed) {
          state = State::connected;
          push_event(AssociationEvent::Type::connected);
        }
      } else if (ac.sac_state == SCTP_COMM_LOST || ac.sac_state == SCTP_SHUTDOWN_COMP ||
                 ac.sac_state == SCTP_CANT_STR_ASSOC) {
        set_closed();
      }
      break;
    }
    case SCTP_SHUTDOWN_EVENT:  // the peer shut down: nothing more will come
      set_closed();
      break;
    case SCTP_STREAM_CHANGE_EVENT: {
      const auto sc = read_struct<sctp_stream_change_event>(data, n);
      inbound_streams = sc.strchange_instrms;
      outbound_streams = sc.strchange_outstrms;
      break;
    }
    case SCTP_PARTIAL_DELIVERY_EVENT:  // the message being delivered was aborted
      rx.size = 0;
      rx_partial = false;
      rx_discarding = false;
      break;
    case SCTP_STREAM_RESET_EVENT: {
      const auto ev = read_struct<sctp_stream_reset_event>(data, n);
      const size_t fixed = offsetof(sctp_stream_reset_event, strreset_stream_list);
      const size_t length = std::min<size_t>(ev.strreset_length, n);
      uint16_t streams[256];
      size_t count = length > fixed ? (length - fixed) / sizeof(uint16_t) : 0;
      // The list is read in batches so a long one needs no allocation.
      if (count == 0) {
        on_stream_reset(lock, ev.strreset_flags, nullptr, 0);
        break;
      }
      for (size_t done = 0; done < count;) {
        const size_t batch = std::min(count - done, std::size(streams));
        std::memcpy(streams, data + fixed + done * sizeof(uint16_t), batch * sizeof(uint16_t));
        on_stream_reset(lock, ev.strreset_flags, streams, batch);
        done += batch;
      }
      break;
    }
    default:  // sender dry (settle() checks writability), remote error, adaptation: nothing to do
      break;
  }
}

// RFC 8831 §6.7: closing a channel resets its outgoing stream; the peer
// resets its own in turn. A channel is gone once both directions are reset.
void Association::Impl::on_stream_reset(const Stack::Lock& lock, uint16_t flags, const uint16_t* streams,
                                        size_t count) {
  std::vector<uint16_t> all;
  if (count == 0) {  // no list: every stream was reset
    for (const auto& [s, c] : channels) all.push_back(s);
    streams = all.data();
    count = all.size();
  }
  for (size_t i = 0; i < count; ++i) {
    const uint16_t s = streams[i];
    const auto it = channels.find(s);
    if (it == channels.end()) continue;
    if (flags & SCTP_STREAM_RESET_INCOMING_SSN) {
      it->second.in_reset = true;
      // The peer closed: close our side too (this may finish the close).
      if (!it->second.closing) reset_outgoing(lock, s, it->second);
    }
    const auto again = channels.find(s);
    if (again == channels.end()) continue;
    // Done, denied or failed: our side has nothing more to do either way.
    if (flags & SCTP_STREAM_RESET_OUTGOING_SSN) again->second.out_reset = true;
    maybe_finish_close(s);
  }
}

void Association::Impl::maybe_finish_close(uint16_t stream) {
  const auto it = channels.find(stream);
  if (it == channels.end() || !it->second.out_reset || !it->second.in_reset) return;
  channels.erase(it);
  push_event(AssociationEvent::Type::channel_closed, stream);
}

}  // namespace sfu::sctp
