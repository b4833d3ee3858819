#include "server/worker_media.hpp"

#include <algorithm>

namespace sfu::server {

Router& WorkerMedia::router(PacketOutput& out, RoomId room, const Router::EventSink& sink) {
  auto& r = routers_[room];
  if (!r) r = std::make_unique<Router>(room, out, host_, sink, wall_);
  return *r;
}

Router* WorkerMedia::find_router(RoomId room) {
  auto it = routers_.find(room);
  return it == routers_.end() ? nullptr : it->second.get();
}

void WorkerMedia::remove_router(PacketOutput& out, RoomId room) {
  if (auto it = routers_.find(room); it != routers_.end()) {
    RouterCounters c = it->second->counters();
    c.rtp_lost_closed = it->second->rtp_lost();  // the live producers' loss retires with them
    retired_routers_ += c;
    routers_.erase(it);
  }
  std::vector<TransportId> orphans;
  for (const auto& [transport, r] : room_of_)
    if (r == room) orphans.push_back(transport);
  for (TransportId id : orphans) {
    host_.remove(out, id);
    room_of_.erase(id);
  }
}

void WorkerMedia::publish_metrics(Instant /*now*/) {
  MediaSample& s = sample_;
  s.host = host_.counters();
  s.transports = {};
  s.transports_by_state.fill(0);
  host_.add_transport_totals(s.transports, s.transports_by_state);
  s.routers = retired_routers_;
  uint64_t lost = retired_routers_.rtp_lost_closed;
  for (const auto& [room, r] : routers_) {
    s.routers += r->counters();
    lost += r->rtp_lost();
    r->for_each_estimate([&](uint64_t bps) { bwe_.observe(bps); });
  }
  last_rtp_lost_ = std::max(last_rtp_lost_, lost);
  s.rtp_lost = last_rtp_lost_;
  s.counts = counts();
  s.bwe = bwe_;
  published_metrics_.publish(s);
}

MediaCounts WorkerMedia::counts() const {
  MediaCounts c;
  c.routers = routers_.size();
  c.transports = host_.size();
  for (const auto& [room, r] : routers_) r->add_counts(c);
  return c;
}

void WorkerMedia::publish_counts() {
  const MediaCounts c = counts();
  constexpr auto relaxed = std::memory_order_relaxed;
  published_.routers.store(c.routers, relaxed);
  published_.transports.store(c.transports, relaxed);
  published_.producers.store(c.producers, relaxed);
  published_.consumers.store(c.consumers, relaxed);
  published_.data_producers.store(c.data_producers, relaxed);
  published_.data_consumers.store(c.data_consumers, relaxed);
}

MediaCounts WorkerMedia::published_counts() const {
  constexpr auto relaxed = std::memory_order_relaxed;
  return MediaCounts{published_.routers.load(relaxed),        published_.transports.load(relaxed),
                     published_.producers.load(relaxed),      published_.consumers.load(relaxed),
                     published_.data_producers.load(relaxed), published_.data_consumers.load(relaxed)};
}

Router* WorkerMedia::router_of(TransportId id) {
  auto it = room_of_.find(id);
  return it == room_of_.end() ? nullptr : find_router(it->second);
}

// The receive path's top (DESIGN.md "The packet path"; server/README.md):
// the host classifies the datagram once and its transport decrypts it; the
// media goes to the room's router; then what the transport queued goes out
// and its events follow.
void WorkerMedia::on_datagram(PacketOutput& worker, Instant now, const NetPath& from, MutBytes data) {
  Delivery d = host_.on_datagram(worker, now, from, data);
  if (!d.transport) return;
  if (d.media.kind != ReceivedMedia::Kind::none) {
    if (Router* r = router_of(d.transport)) r->on_media(d.transport, now, d.media);
  }
  host_.settle(worker, d);
  deliver_events();
}

void WorkerMedia::flush(PacketOutput& out, TransportId id) {
  host_.flush(out, id);
  deliver_events();
}

void WorkerMedia::deliver_events() {
  while (auto e = host_.poll_event()) {
    if (Router* r = router_of(e->transport)) r->on_transport_event(e->transport, e->now, e->event);
  }
}

void WorkerMedia::on_timeout(PacketOutput& worker, Instant now) {
  host_.on_timeout(worker, now);
  deliver_events();
  if (next_tick_ && now >= *next_tick_) {
    for (auto& [id, r] : routers_) r->on_tick(now);
    next_tick_ = now + kTick;
    publish_counts();
  }
  if (!routers_.empty() && !next_tick_) next_tick_ = now + kTick;
  if (routers_.empty()) next_tick_.reset();
}

std::optional<Instant> WorkerMedia::poll_timeout() const {
  auto t = host_.poll_timeout();
  if (!routers_.empty()) {
    // Before the first tick is scheduled, ask to be called at once.
    const Instant tick = next_tick_.value_or(Instant{});
    if (!t || tick < *t) t = tick;
  }
  return t;
}

void WorkerMedia::on_tcp_closed(PacketOutput& worker, uint32_t connection) {
  host_.on_tcp_closed(worker, connection);
  deliver_events();
}

}  // namespace sfu::server
