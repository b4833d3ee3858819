#include "server/transport_host.hpp"

#include <algorithm>

#include "ice/demux.hpp"
#include "ice/lite_agent.hpp"

namespace sfu::server {

TransportId TransportHost::add(PacketOutput& worker, Instant now, std::unique_ptr<Transport> transport) {
  last_now_ = std::max(last_now_, now);
  const TransportId id = next_id_++;
  by_ufrag_[transport->local_ice().ufrag] = id;
  auto [it, inserted] = transports_.emplace(id, Entry{std::move(transport), {}, std::nullopt, false});
  Entry& e = it->second;
  e.transport->start(now);
  while (auto tx = e.transport->poll_transmit()) worker.send(tx->path, tx->data);
  while (e.transport->poll_event()) {
  }
  arm(id, e);
  return id;
}

void TransportHost::remove(PacketOutput& worker, TransportId id) {
  auto it = transports_.find(id);
  if (it == transports_.end()) return;
  Entry& e = it->second;
  e.transport->close();
  while (auto tx = e.transport->poll_transmit()) worker.send(tx->path, tx->data);
  for (const auto& p : e.paths) {
    auto pit = by_path_.find(p);
    if (pit != by_path_.end() && pit->second == id) by_path_.erase(pit);
  }
  auto uit = by_ufrag_.find(e.transport->local_ice().ufrag);
  if (uit != by_ufrag_.end() && uit->second == id) by_ufrag_.erase(uit);
  retired_ += e.transport->counters();
  transports_.erase(it);  // its heap entries become stale and are skipped
}

void TransportHost::add_transport_totals(TransportCounters& totals, std::span<uint64_t, kTransportStateCount> by_state) const {
  totals += retired_;
  for (const auto& [id, e] : transports_) {
    totals += e.transport->counters();
    ++by_state[size_t(e.transport->state())];
  }
}

Transport* TransportHost::find(TransportId id) {
  auto it = transports_.find(id);
  return it == transports_.end() ? nullptr : it->second.transport.get();
}

void TransportHost::flush(PacketOutput& out, TransportId id) {
  auto it = transports_.find(id);
  if (it != transports_.end()) settle(out, id, it->second);
}

void TransportHost::send_queued(PacketOutput& out, TransportId id) {
  auto it = transports_.find(id);
  if (it == transports_.end()) return;
  while (auto tx = it->second.transport->poll_transmit()) out.send(tx->path, tx->data);
}

void TransportHost::reindex_ufrag(TransportId id, const std::string& old_ufrag) {
  auto it = transports_.find(id);
  if (it == transports_.end()) return;
  auto uit = by_ufrag_.find(old_ufrag);
  if (uit != by_ufrag_.end() && uit->second == id) by_ufrag_.erase(uit);
  by_ufrag_[it->second.transport->local_ice().ufrag] = id;
}

Delivery TransportHost::on_datagram(PacketOutput& /*out*/, Instant now, const ice::Path& from, MutBytes data) {
  last_now_ = std::max(last_now_, now);
  const auto kind = ice::classify_packet(data);
  Delivery d;
  if (kind == ice::PacketKind::stun) {
    auto msg = ice::parse_stun(data);
    if (!msg) {
      ++counters_.malformed;
      return d;
    }
    auto ufrag = ice::local_ufrag_of(*msg);
    // Heterogeneous lookup would avoid this string; STUN is control-rate.
    auto uit = ufrag ? by_ufrag_.find(std::string(*ufrag)) : by_ufrag_.end();
    if (uit == by_ufrag_.end()) {
      ++counters_.unknown_ufrag;
      return d;
    }
    Entry& e = transports_.at(uit->second);
    e.transport->handle_stun(now, from, *msg);
    if (e.transport->is_valid_path(from)) index_path(uit->second, e, from);
    d.transport = uit->second;
    d.entry_ = &e;
    return d;
  }
  if (kind == ice::PacketKind::unknown) {
    ++counters_.malformed;
    return d;
  }
  auto pit = by_path_.find(from);
  if (pit == by_path_.end()) {
    ++counters_.unknown_path;
    return d;
  }
  Entry& e = transports_.at(pit->second);
  d.transport = pit->second;
  d.entry_ = &e;
  d.media = e.transport->handle_classified(now, from, data, kind);
  if (d.media.kind != ReceivedMedia::Kind::none) ++counters_.media_in;
  return d;
}

void TransportHost::settle(PacketOutput& out, Delivery& d) {
  if (d.entry_) settle(out, d.transport, *static_cast<Entry*>(d.entry_));
  d.entry_ = nullptr;
}

void TransportHost::index_path(TransportId id, Entry& e, const ice::Path& path) {
  auto [it, inserted] = by_path_.try_emplace(path, id);
  if (!inserted) {
    if (it->second == id) return;
    it->second = id;  // a new transport took over this 5-tuple
  }
  if (std::find(e.paths.begin(), e.paths.end(), path) == e.paths.end()) e.paths.push_back(path);
}

// Sends what the transport queued, queues it for poll_event() when it has
// events, re-arms its timer.
void TransportHost::settle(PacketOutput& out, TransportId id, Entry& e) {
  while (auto tx = e.transport->poll_transmit()) out.send(tx->path, tx->data);
  if (e.transport->has_events() && !e.events_queued) {  // rare: a state or path change, SCTP
    e.events_queued = true;
    with_events_.push_back(id);
  }
  arm(id, e);
}

void TransportHost::arm(TransportId id, Entry& e) {
  const auto next = e.transport->poll_timeout();
  if (next && next != e.armed) timers_.push({*next, id});
  e.armed = next;
}

std::optional<HostEvent> TransportHost::poll_event() {
  while (!with_events_.empty()) {
    const TransportId id = with_events_.front();
    auto it = transports_.find(id);
    if (it != transports_.end()) {
      if (auto ev = it->second.transport->poll_event()) return HostEvent{id, last_now_, *ev};
      it->second.events_queued = false;
      arm(id, it->second);  // the handlers may have changed its deadline
    }
    with_events_.pop_front();
  }
  return std::nullopt;
}

void TransportHost::on_timeout(PacketOutput& worker, Instant now) {
  last_now_ = std::max(last_now_, now);
  while (!timers_.empty() && timers_.top().at <= now) {
    const Timer t = timers_.top();
    timers_.pop();
    auto it = transports_.find(t.id);
    if (it == transports_.end() || it->second.armed != t.at) continue;  // stale
    it->second.armed.reset();
    it->second.transport->handle_timeout(now);
    settle(worker, t.id, it->second);
  }
}

std::optional<Instant> TransportHost::poll_timeout() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.top().at;
}

void TransportHost::on_tcp_closed(PacketOutput& worker, uint32_t connection) {
  for (auto it = by_path_.begin(); it != by_path_.end();) {
    if (it->first.tcp != connection) {
      ++it;
      continue;
    }
    const TransportId id = it->second;
    it = by_path_.erase(it);
    auto tit = transports_.find(id);
    if (tit == transports_.end()) continue;
    tit->second.transport->forget_tcp(connection);
    settle(worker, id, tit->second);
  }
}

}  // namespace sfu::server
