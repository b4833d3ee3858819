// Association: socket setup, the public calls, sending. Receiving is in
// association_receive.cpp; usrsctp's global state in stack.cpp.
#include "sctp/association.hpp"

#include <arpa/inet.h>
#include <usrsctp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sctp/association_impl.hpp"

namespace sfu::sctp {

namespace {

// usrsctp's timer wheel ticks in 10 ms steps at the coarsest (its delayed
// SACK timer is 20 ms); handle_timeout asks to run that often.
constexpr Duration kTick = milliseconds(10);

// SCTP_GET_SNDBUF_USE is a read-only socket option usrsctp implements but
// does not export in usrsctp.h; the struct is usrsctp's sctp_sockstat.
constexpr int kGetSndbufUse = 0x00001101;
struct SockStat {
  sctp_assoc_t assoc_id;
  uint32_t total_sndbuf;  // bytes in the association's send queue, sent or not, not yet acked
  uint32_t total_recv_buf;
};

sockaddr_conn conn_address(uintptr_t id, uint16_t port) {
  sockaddr_conn a{};
  a.sconn_family = AF_CONN;
  a.sconn_port = htons(port);
  a.sconn_addr = reinterpret_cast<void*>(id);
  return a;
}

template <class T>
void set_option(struct socket* sock, int level, int name, const T& value, const char* what) {
  if (usrsctp_setsockopt(sock, level, name, &value, socklen_t(sizeof(T))) != 0)
    throw std::runtime_error(std::string("usrsctp_setsockopt ") + what + ": errno " + std::to_string(errno));
}

}  // namespace

// ---- Impl: setup and sending ------------------------------------------------

Association::Impl::Impl(AssociationConfig config) : cfg(config), stack(Stack::instance()) {}

Association::Impl::~Impl() {
  Stack::Lock lock(stack);
  if (sock != nullptr) {
    usrsctp_set_upcall(sock, nullptr, nullptr);
    usrsctp_close(sock);  // SO_LINGER 0: aborts the association if it is up
  }
  stack.remove(lock, id);
}

void Association::Impl::create_socket(const Stack::Lock&) {
  sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (sock == nullptr) throw std::runtime_error("usrsctp_socket: errno " + std::to_string(errno));
  usrsctp_set_non_blocking(sock, 1);
  // No receive callback: data stays in usrsctp's receive buffer until we
  // read it, so set_reading(false) closes the peer's window.
  usrsctp_set_upcall(sock, &Stack::upcall, reinterpret_cast<void*>(id));

  set_option(sock, SOL_SOCKET, SO_LINGER, linger{1, 0}, "SO_LINGER");
  set_option(sock, SOL_SOCKET, SO_SNDBUF, int(std::min<size_t>(cfg.send_buffer, 1u << 30)), "SO_SNDBUF");
  set_option(sock, SOL_SOCKET, SO_RCVBUF, int(std::min<size_t>(cfg.receive_buffer, 1u << 30)), "SO_RCVBUF");
  set_option(sock, IPPROTO_SCTP, SCTP_NODELAY, int(1), "SCTP_NODELAY");
  set_option(sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, int(1), "SCTP_RECVRCVINFO");
  set_option(sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET,
             sctp_assoc_value{SCTP_FUTURE_ASSOC, SCTP_ENABLE_RESET_STREAM_REQ}, "SCTP_ENABLE_STREAM_RESET");
  sctp_initmsg init{};
  init.sinit_num_ostreams = cfg.streams;
  init.sinit_max_instreams = cfg.streams;
  set_option(sock, IPPROTO_SCTP, SCTP_INITMSG, init, "SCTP_INITMSG");
  for (uint16_t type :
       {SCTP_ASSOC_CHANGE, SCTP_PEER_ADDR_CHANGE, SCTP_REMOTE_ERROR, SCTP_SHUTDOWN_EVENT, SCTP_ADAPTATION_INDICATION,
        SCTP_PARTIAL_DELIVERY_EVENT, SCTP_STREAM_RESET_EVENT, SCTP_SENDER_DRY_EVENT, SCTP_STREAM_CHANGE_EVENT}) {
    sctp_event ev{};
    ev.se_assoc_id = SCTP_FUTURE_ASSOC;
    ev.se_type = type;
    ev.se_on = 1;
    set_option(sock, IPPROTO_SCTP, SCTP_EVENT, ev, "SCTP_EVENT");
  }
  sockaddr_conn local = conn_address(id, cfg.local_port);
  if (usrsctp_bind(sock, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0)
    throw std::runtime_error("usrsctp_bind: errno " + std::to_string(errno));
}

int Association::Impl::send_raw(const Stack::Lock&, uint16_t stream, Ppid ppid, bool unordered, Reliability reliability,
                                uint32_t value, Bytes data) {
  sctp_sendv_spa spa{};
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = stream;
  spa.sendv_sndinfo.snd_flags = uint16_t(SCTP_EOR | (unordered ? SCTP_UNORDERED : 0));
  spa.sendv_sndinfo.snd_ppid = htonl(uint32_t(ppid));  // usrsctp passes the PPID through in network order
  if (reliability != Reliability::reliable) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = reliability == Reliability::max_retransmits ? SCTP_PR_SCTP_RTX : SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = value;
  }
  const ssize_t n = usrsctp_sendv(sock, data.data(), data.size(), nullptr, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
  return n < 0 ? errno : 0;
}

void Association::Impl::reset_outgoing(const Stack::Lock&, uint16_t stream, Channel& channel) {
  channel.closing = true;
  // sctp_reset_streams ends in a flexible array: room for one stream id.
  alignas(sctp_reset_streams) uint8_t buf[sizeof(sctp_reset_streams) + sizeof(uint16_t)] = {};
  auto* req = reinterpret_cast<sctp_reset_streams*>(buf);
  req->srs_assoc_id = SCTP_ALL_ASSOC;
  req->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  req->srs_number_streams = 1;
  req->srs_stream_list[0] = stream;
  // usrsctp queues the request until the stream's pending data has left.
  if (usrsctp_setsockopt(sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, buf, sizeof(buf)) != 0) {
    channel.out_reset = true;  // nothing more we can do for our side
    maybe_finish_close(stream);
  }
}

size_t Association::Impl::buffered_locked(const Stack::Lock&) const {
  if (sock == nullptr || state != State::connected) return 0;
  SockStat ss{};
  socklen_t len = sizeof(ss);
  if (usrsctp_getsockopt(sock, IPPROTO_SCTP, kGetSndbufUse, &ss, &len) != 0) return 0;
  return ss.total_sndbuf;
}

void Association::Impl::settle(const Stack::Lock& lock) {
  if (mailbox.readable && reading) {
    mailbox.readable = false;
    drain(lock);
  }
  // While reading is paused, notifications wait behind the data; an
  // association that died still shows as a socket error.
  if (!reading && sock != nullptr && state != State::closed && state != State::idle &&
      (usrsctp_get_events(sock) & SCTP_EVENT_ERROR) != 0)
    set_closed();
  if (want_writable && state == State::connected && buffered_locked(lock) <= cfg.writable_threshold) {
    want_writable = false;
    push_event(AssociationEvent::Type::writable);
  }
}

void Association::Impl::set_closed() {
  if (state == State::closed) return;
  state = State::closed;
  want_writable = false;
  channels.clear();
  push_event(AssociationEvent::Type::closed);
}

void Association::Impl::push_event(AssociationEvent::Type type, uint16_t stream) {
  Pending p;
  p.type = type;
  p.stream = stream;
  events.push_back(std::move(p));
}

// ---- Association -------------------------------------------------------------

Association::Association(AssociationConfig config) : impl_(std::make_unique<Impl>(config)) {
  Stack::Lock lock(impl_->stack);
  impl_->id = impl_->stack.add(lock, &impl_->mailbox);
  impl_->create_socket(lock);  // on a throw, ~Impl closes what was made and unregisters
}

Association::~Association() = default;

void Association::start(Instant now) {
  Impl& m = *impl_;
  if (m.state != Impl::State::idle) return;
  Stack::Lock lock(m.stack);
  m.stack.advance(lock, now);
  m.next_tick = now + kTick;
  sockaddr_conn remote = conn_address(m.id, m.cfg.remote_port);
  if (usrsctp_connect(m.sock, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0 && errno != EINPROGRESS) {
    m.state = Impl::State::connecting;  // so that set_closed reports it
    m.set_closed();
    return;
  }
  // A fixed path MTU (no discovery): every packet must fit a DTLS record.
  sctp_paddrparams params{};
  std::memcpy(&params.spp_address, &remote, sizeof(remote));
  params.spp_flags = SPP_PMTUD_DISABLE;
  params.spp_pathmtu = m.cfg.mtu;
  // Not expected to fail on a connecting AF_CONN socket; if it did, DTLS
  // would refuse the big packets and the caller counts those.
  (void)usrsctp_setsockopt(m.sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &params, socklen_t(sizeof(params)));
  m.state = Impl::State::connecting;
  m.settle(lock);
}

void Association::receive(Instant now, Bytes packet) {
  Impl& m = *impl_;
  ++m.counters.packets_in;
  if (m.state == Impl::State::closed || packet.empty()) return;
  // The peer's INIT can overtake our start() (it rides right behind the
  // DTLS handshake): an idle socket would answer it with an ABORT.
  if (m.state == Impl::State::idle) start(now);
  if (m.state == Impl::State::closed) return;
  Stack::Lock lock(m.stack);
  // usrsctp copies the packet and checks its CRC32c; garbage is dropped there.
  usrsctp_conninput(reinterpret_cast<void*>(m.id), packet.data(), packet.size(), 0);
  m.settle(lock);
}

void Association::handle_timeout(Instant now) {
  Impl& m = *impl_;
  Stack::Lock lock(m.stack);
  m.stack.advance(lock, now);
  if (m.state == Impl::State::idle) return;
  m.next_tick = now + kTick;
  // A timer that fired on another thread only left a flag; look anyway.
  if (m.reading) m.drain(lock);
  m.settle(lock);
}

std::optional<Instant> Association::poll_timeout() const {
  if (impl_->state == Impl::State::idle || impl_->state == Impl::State::closed) return std::nullopt;
  return impl_->next_tick;
}

std::optional<Bytes> Association::poll_transmit() {
  Impl& m = *impl_;
  auto p = m.transmit.pop();
  if (!p) {
    m.transmit.clear();
    Stack::Lock lock(m.stack);
    m.transmit.swap(m.mailbox.packets);
    p = m.transmit.pop();
  }
  if (p) ++m.counters.packets_out;
  return p;
}

std::optional<AssociationEvent> Association::poll_event() {
  Impl& m = *impl_;
  if (m.lent_slot >= 0) {
    m.free_slots.push_back(m.lent_slot);
    m.lent_slot = -1;
  }
  if (m.events_head == m.events.size()) {
    m.events.clear();
    m.events_head = 0;
    if (m.state != Impl::State::idle) {
      Stack::Lock lock(m.stack);
      m.settle(lock);
    }
    if (m.events.empty()) return std::nullopt;
  }
  Impl::Pending& p = m.events[m.events_head++];
  AssociationEvent ev{p.type, p.stream, p.kind, {}, std::move(p.params)};
  if (p.slot >= 0) {
    const RawBuffer& b = m.slots[size_t(p.slot)];
    ev.data = Bytes(b.data.get(), b.size);
    m.queued_bytes -= b.size;
    m.lent_slot = p.slot;
  }
  return ev;
}

Result<uint16_t, SendStatus> Association::open_channel(const ChannelParams& params) {
  Impl& m = *impl_;
  if (m.state != Impl::State::connected) return fail(SendStatus::closed);
  const uint16_t limit = std::min(m.outbound_streams, m.inbound_streams);
  // RFC 8832 §6: the DTLS client takes even stream ids, the server odd ones.
  uint32_t stream = m.cfg.dtls_client ? 0 : 1;
  while (stream < limit && m.channels.count(uint16_t(stream)) != 0) stream += 2;
  if (stream >= limit) return fail(SendStatus::no_channel);

  const DataChannelOpen open = to_open(params);
  std::vector<uint8_t> msg(open.serialized_size());
  if (!open.serialize_to(msg)) return fail(SendStatus::too_large);
  Stack::Lock lock(m.stack);
  const int err = m.send_raw(lock, uint16_t(stream), Ppid::dcep, false, Reliability::reliable, 0, msg);
  if (err == EWOULDBLOCK || err == EAGAIN || err == ENOBUFS) return fail(SendStatus::would_block);
  if (err != 0) return fail(SendStatus::closed);
  Impl::Channel& c = m.channels[uint16_t(stream)];
  c.params = params;
  c.ours = true;
  return uint16_t(stream);
}

SendStatus Association::send(uint16_t stream, MessageKind kind, Bytes data) {
  Impl& m = *impl_;
  if (m.state != Impl::State::connected) return SendStatus::closed;
  const auto it = m.channels.find(stream);
  if (it == m.channels.end() || it->second.closing) return SendStatus::no_channel;
  if (m.cfg.remote_max_message_size != 0 && data.size() > m.cfg.remote_max_message_size) return SendStatus::too_large;
  const Impl::Channel& c = it->second;
  // RFC 8831 §8: an empty message goes as one byte with the "empty" PPID.
  static constexpr uint8_t kEmptyPayload[1] = {0};
  Ppid ppid = kind == MessageKind::string ? Ppid::string : Ppid::binary;
  Bytes payload = data;
  if (data.empty()) {
    ppid = kind == MessageKind::string ? Ppid::string_empty : Ppid::binary_empty;
    payload = Bytes(kEmptyPayload);
  }
  // RFC 8832 §6.6: until the ACK arrives, send ordered so nothing overtakes the OPEN.
  const bool unordered = !c.params.ordered && c.acked;
  Stack::Lock lock(m.stack);
  const int err = m.send_raw(lock, stream, ppid, unordered, c.params.reliability, c.params.reliability_value, payload);
  if (err == 0) {
    ++m.counters.messages_out;
    m.counters.bytes_out += data.size();
    return SendStatus::ok;
  }
  if (err == EWOULDBLOCK || err == EAGAIN || err == ENOBUFS) {
    if (c.params.reliability != Reliability::reliable) {
      ++m.counters.send_dropped;
      return SendStatus::dropped;
    }
    m.want_writable = true;
    return SendStatus::would_block;
  }
  if (err == EMSGSIZE) return SendStatus::too_large;
  return SendStatus::closed;
}

void Association::close_channel(uint16_t stream) {
  Impl& m = *impl_;
  const auto it = m.channels.find(stream);
  if (it == m.channels.end() || it->second.closing) return;
  if (m.state != Impl::State::connected) {
    m.channels.erase(it);
    m.push_event(AssociationEvent::Type::channel_closed, stream);
    return;
  }
  Stack::Lock lock(m.stack);
  m.reset_outgoing(lock, stream, it->second);
}

void Association::set_reading(bool on) {
  Impl& m = *impl_;
  if (m.reading == on) return;
  m.reading = on;
  if (on && m.state != Impl::State::idle) {
    Stack::Lock lock(m.stack);
    m.drain(lock);
    m.settle(lock);
  }
}

void Association::set_remote_max_message_size(size_t bytes) { impl_->cfg.remote_max_message_size = bytes; }

bool Association::connected() const { return impl_->state == Impl::State::connected; }

size_t Association::buffered_amount() const {
  Stack::Lock lock(impl_->stack);
  return impl_->buffered_locked(lock);
}

const AssociationCounters& Association::counters() const { return impl_->counters; }

const ChannelParams* Association::channel(uint16_t stream) const {
  const auto it = impl_->channels.find(stream);
  if (it == impl_->channels.end() || it->second.closing) return nullptr;
  return &it->second.params;
}

}  // namespace sfu::sctp
