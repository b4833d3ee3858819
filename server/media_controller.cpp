#include "server/media_controller.hpp"

#include <algorithm>

#include "server/router.hpp"
#include "server/worker_media.hpp"
#include "server/worker_pool.hpp"

namespace sfu::server {

MediaController::MediaController(WorkerPool& pool, Post post_to_control)
    : pool_(pool), post_(std::move(post_to_control)), rooms_per_worker_(pool.size(), 0) {}

uint32_t MediaController::open_room(RoomId room) {
  if (auto it = room_worker_.find(room); it != room_worker_.end()) return it->second;
  const auto least = std::min_element(rooms_per_worker_.begin(), rooms_per_worker_.end());
  const uint32_t w = uint32_t(least - rooms_per_worker_.begin());
  ++*least;
  room_worker_[room] = w;
  return w;
}

void MediaController::close_room(RoomId room) {
  auto it = room_worker_.find(room);
  if (it == room_worker_.end()) return;
  const uint32_t w = it->second;
  --rooms_per_worker_[w];
  room_worker_.erase(it);
  pool_.worker(w).post([room, &media = pool_.media(w)](Worker& worker) {
    media.remove_router(worker, room);
    media.publish_counts();
  });
}

size_t MediaController::worker_count() const { return pool_.size(); }

MediaController::WorkerMetrics MediaController::worker_metrics(size_t i) const {
  return WorkerMetrics{pool_.worker(i).loop_sample(), pool_.media(i).metrics(), pool_.worker(i).cpu_seconds()};
}

MediaCounts MediaController::counts() const {
  MediaCounts total;
  for (size_t i = 0; i < pool_.size(); ++i) total += pool_.media(i).published_counts();
  return total;
}

std::optional<uint32_t> MediaController::worker_of(RoomId room) const {
  auto it = room_worker_.find(room);
  if (it == room_worker_.end()) return std::nullopt;
  return it->second;
}

bool MediaController::on_router(RoomId room, std::function<void(Worker&, WorkerMedia&, Router&)> fn) {
  auto it = room_worker_.find(room);
  if (it == room_worker_.end()) {
    ++stale_commands_;
    return false;
  }
  const uint32_t w = it->second;
  WorkerMedia& media = pool_.media(w);
  // The sink runs on the worker: hop media events to the control thread.
  Router::EventSink sink = [this, room](const MediaEvent& e) {
    post_([this, room, e] {
      if (events_) events_(room, e);
    });
  };
  pool_.worker(w).post([&media, room, sink = std::move(sink), fn = std::move(fn)](Worker& worker) {
    Router& r = media.router(worker, room, sink);
    fn(worker, media, r);
    media.publish_counts();
  });
  return true;
}

void MediaController::create_transport(RoomId room, TransportSpec spec,
                                       std::function<void(std::optional<TransportInfo>)> done) {
  const auto w = worker_of(room);
  if (!w) {
    ++stale_commands_;
    post_([done = std::move(done)] { done(std::nullopt); });
    return;
  }
  auto candidates = pool_.candidates(*w);
  auto ctx = pool_.dtls_context();
  on_router(room, [this, w = *w, room, spec = std::move(spec), candidates, ctx, done = std::move(done)](
                      Worker& worker, WorkerMedia& media, Router& router) {
    TransportConfig cfg{.role = TransportRole::server, .local_ice = ice::IceCredentials::generate(),
                        .dtls_context = ctx};
    auto t = std::make_unique<Transport>(std::move(cfg));
    // Subscriber transports are created before the peer's answer: their
    // remote parameters (and so the fingerprint check) come later, and DTLS
    // waits for them (Transport holds early records).
    if (!spec.remote_ufrag.empty()) t->set_remote_parameters(spec.remote_ufrag, spec.remote_pwd, spec.remote_fingerprint);
    TransportInfo info{0, w, t->local_ice(), candidates, ctx->certificate().fingerprint_sha256()};
    // Bind before add(): start() may already produce events for the router.
    const TransportId id = media.host().add(worker, worker.now(), std::move(t));
    media.bind(id, room);
    router.add_transport(id, spec.publisher);
    info.id = id;
    post_([done, info] { done(info); });
  });
}

void MediaController::close_transport(RoomId room, TransportId id) {
  on_router(room, [id](Worker& worker, WorkerMedia& media, Router& router) {
    router.remove_transport(id);
    media.host().remove(worker, id);
    media.unbind(id);
  });
}

void MediaController::set_remote_parameters(RoomId room, TransportId id, TransportSpec spec) {
  on_router(room, [id, spec = std::move(spec)](Worker& worker, WorkerMedia& media, Router&) {
    Transport* t = media.host().find(id);
    if (!t) return;
    t->set_remote_parameters(spec.remote_ufrag, spec.remote_pwd, spec.remote_fingerprint);
    media.flush(worker, id);
  });
}

void MediaController::restart_ice(RoomId room, TransportId id,
                                  std::function<void(std::optional<ice::IceCredentials>)> done) {
  const bool sent = on_router(room, [this, id, done](Worker&, WorkerMedia& media, Router&) {
    Transport* t = media.host().find(id);
    if (!t) return post_([done] { done(std::nullopt); });
    const std::string old = t->local_ice().ufrag;
    t->restart_ice(ice::IceCredentials::generate());
    media.host().reindex_ufrag(id, old);
    auto creds = t->local_ice();
    post_([done, creds] { done(creds); });
  });
  if (!sent) post_([done] { done(std::nullopt); });
}

void MediaController::enable_sctp(RoomId room, SctpSpec spec) {
  on_router(room, [spec](Worker& w, WorkerMedia&, Router& r) { r.enable_sctp(spec, w.now()); });
}

void MediaController::add_data_consumer(RoomId room, DataConsumerSpec spec) {
  on_router(room, [spec = std::move(spec)](Worker& w, WorkerMedia&, Router& r) {
    // False when the producer closed meanwhile: its DataProducerClosedEvent
    // is on its way to signaling, which drops this consumer then.
    (void)r.add_data_consumer(spec, w.now());
  });
}

void MediaController::close_data_consumer(RoomId room, DataConsumerId id) {
  on_router(room, [id](Worker&, WorkerMedia&, Router& r) { r.close_data_consumer(id); });
}

void MediaController::close_data_producer(RoomId room, DataProducerId id) {
  on_router(room, [id](Worker&, WorkerMedia&, Router& r) { r.close_data_producer(id); });
}

void MediaController::add_producer(RoomId room, ProducerSpec spec) {
  on_router(room, [spec = std::move(spec)](Worker&, WorkerMedia&, Router& r) { r.add_producer(spec); });
}

void MediaController::close_producer(RoomId room, ProducerId id) {
  on_router(room, [id](Worker&, WorkerMedia&, Router& r) { r.close_producer(id); });
}

void MediaController::set_producer_paused(RoomId room, ProducerId id, bool paused) {
  on_router(room, [id, paused](Worker&, WorkerMedia&, Router& r) { r.set_producer_paused(id, paused); });
}

void MediaController::add_consumer(RoomId room, ConsumerSpec spec, std::function<void(bool)> done) {
  const bool sent = on_router(room, [this, spec = std::move(spec), done](Worker&, WorkerMedia&, Router& r) {
    const bool ok = r.add_consumer(spec);
    post_([done, ok] { done(ok); });
  });
  if (!sent) post_([done] { done(false); });
}

void MediaController::close_consumer(RoomId room, ConsumerId id) {
  on_router(room, [id](Worker&, WorkerMedia&, Router& r) { r.close_consumer(id); });
}

void MediaController::set_consumer_paused(RoomId room, ConsumerId id, bool paused) {
  on_router(room, [id, paused](Worker&, WorkerMedia&, Router& r) { r.set_consumer_paused(id, paused); });
}

void MediaController::set_preferred_layers(RoomId room, ConsumerId id, int spatial, int temporal) {
  on_router(room, [id, spatial, temporal](Worker&, WorkerMedia&, Router& r) {
    r.set_preferred_layers(id, spatial, temporal);
  });
}

void MediaController::get_stats(RoomId room, std::vector<TransportId> transports, std::vector<ProducerId> producers,
                                std::vector<ConsumerId> consumers, std::function<void(PeerStats)> done) {
  const bool sent = on_router(room, [this, transports = std::move(transports), producers = std::move(producers),
                                     consumers = std::move(consumers), done](Worker& w, WorkerMedia& media, Router& r) {
    PeerStats s = r.stats(media.host(), transports, producers, consumers, w.now());
    post_([done, s = std::move(s)] { done(s); });
  });
  if (!sent) post_([done] { done(PeerStats{}); });
}

}  // namespace sfu::server
