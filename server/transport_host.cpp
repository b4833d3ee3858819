#include "server/transport_host.hpp"

#include <algorithm>

#include "ice/demux.hpp"
#include "ice/lite_agent.hpp"

namespace sfu::server {

TransportId TransportHost::add(PacketOutput& worker, Instant now, std::unique_ptr<Transport> transport) {
  last_now_ = std::max(last_now_, now);
  const TransportId id = next_id_++;
  by_ufrag_[transport->local_ice().ufrag] = id;
  auto [it, inserted] = transports_.emplace(id, Entry{std::move(transport), {}, std::nullopt});
  it->second.transport->start(now);
  after_call(worker, id, it->second);
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
  if (it != transports_.end()) after_call(out, id, it->second);
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

void TransportHost::on_datagram(PacketOutput& worker, Instant now, const NetPath& from, MutBytes data) {
  last_now_ = std::max(last_now_, now);
  const auto kind = ice::classify_packet(data);
  TransportId id = 0;
  if (kind == ice::PacketKind::stun) {
    auto msg = ice::parse_stun(data);
    if (!msg) {
      ++counters_.malformed;
      return;
    }
    auto ufrag = ice::local_ufrag_of(*msg);
    // Heterogeneous lookup would avoid this string; STUN is control-rate.
    auto uit = ufrag ? by_ufrag_.find(std::string(*ufrag)) : by_ufrag_.end();
    if (uit == by_ufrag_.end()) {
      ++counters_.unknown_ufrag;
      return;
    }
    id = uit->second;
    Entry& e = transports_.at(id);
    e.transport->handle_stun(now, from, *msg);
    if (e.transport->is_valid_path(from)) index_path(id, e, from);
    after_call(worker, id, e);
    return;
  }
  if (kind == ice::PacketKind::unknown) {
    ++counters_.malformed;
    return;
  }
  auto pit = by_path_.find(from);
  if (pit == by_path_.end()) {
    ++counters_.unknown_path;
    return;
  }
  id = pit->second;
  Entry& e = transports_.at(id);
  ReceivedMedia media = e.transport->handle_datagram(now, from, data);
  if (media.kind != ReceivedMedia::Kind::none) {
    ++counters_.media_in;
    if (listener_) listener_->on_media(id, now, media);
    // The listener may have removed this transport.
    auto again = transports_.find(id);
    if (again == transports_.end()) return;
    after_call(worker, id, again->second);
    return;
  }
  after_call(worker, id, e);
}

void TransportHost::index_path(TransportId id, Entry& e, const NetPath& path) {
  auto [it, inserted] = by_path_.try_emplace(path, id);
  if (!inserted) {
    if (it->second == id) return;
    it->second = id;  // a new transport took over this 5-tuple
  }
  if (std::find(e.paths.begin(), e.paths.end(), path) == e.paths.end()) e.paths.push_back(path);
}

// Sends what the transport queued, delivers its events, re-arms its timer.
void TransportHost::after_call(PacketOutput& worker, TransportId id, Entry& e) {
  while (auto tx = e.transport->poll_transmit()) worker.send(tx->path, tx->data);
  while (auto ev = e.transport->poll_event()) {
    if (listener_) listener_->on_transport_event(id, last_now_, *ev);
    if (!transports_.contains(id)) return;  // removed by the listener
  }
  const auto next = e.transport->poll_timeout();
  if (next && next != e.armed) timers_.push({*next, id});
  e.armed = next;
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
    after_call(worker, t.id, it->second);
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
    after_call(worker, id, tit->second);
  }
}

bool TransportHost::send_rtp(PacketOutput& worker, TransportId id, MutBytes buffer, size_t length, bool rtcp) {
  auto it = transports_.find(id);
  if (it == transports_.end()) {
    ++counters_.send_failures;
    return false;
  }
  Transport& t = *it->second.transport;
  const auto path = t.send_path();
  if (!path) {
    ++counters_.send_failures;
    return false;
  }
  auto r = rtcp ? t.protect_rtcp(buffer, length) : t.protect_rtp(buffer, length);
  if (!r) {
    ++counters_.send_failures;
    return false;
  }
  worker.send(*path, buffer.first(*r));
  return true;
}

}  // namespace sfu::server
