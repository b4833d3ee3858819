// Everything media on one worker: its TransportHost (sockets → transports)
// and the routers of the rooms placed on it, driven by the worker loop.
// Worker thread only, except construction.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <unordered_map>

#include "server/room_api.hpp"
#include "server/router.hpp"
#include "server/worker_metrics.hpp"
#include "server/stats.hpp"
#include "server/transport_host.hpp"
#include "server/packet_output.hpp"
#include "server/worker.hpp"

namespace sfu::server {

class WorkerMedia : public WorkerHandler {
 public:
  // Router ticks (NACKs, keyframe requests, reports, feedback, allocation).
  static constexpr Duration kTick = milliseconds(10);

  // `wall`: the wall clock its routers stamp sender reports with (a
  // simulation passes a fixed one).
  explicit WorkerMedia(WallClock wall = WallClock::system()) : wall_(wall) {}

  TransportHost& host() { return host_; }
  // The room's router, created on first use with `sink` for its events.
  Router& router(PacketOutput& out, RoomId room, const Router::EventSink& sink);
  Router* find_router(RoomId room);
  // Frees the room's router and every transport still bound to the room (a
  // transport whose creation crossed the room's end on the way back).
  void remove_router(PacketOutput& out, RoomId room);
  // Routes a transport's media and events to its room's router.
  void bind(TransportId transport, RoomId room) { room_of_[transport] = room; }
  void unbind(TransportId transport) { room_of_.erase(transport); }
  size_t router_count() const { return routers_.size(); }
  // What lives on this worker, for /stats and leak checks. counts() on the
  // worker thread; publish_counts() stores them where published_counts()
  // reads them from any thread (after every command and every tick).
  MediaCounts counts() const;
  void publish_counts();
  MediaCounts published_counts() const;
  // /metrics: publish_metrics() builds and publishes the sample (worker
  // thread, once a second, from the loop); metrics() reads it (any thread).
  void publish_metrics(Instant now) override;
  MediaSample metrics() const {
    MediaSample s;
    published_metrics_.load(s);
    return s;
  }

  // WorkerHandler
  void on_datagram(Worker& worker, Instant now, const NetPath& from, MutBytes data) override {
    on_datagram(static_cast<PacketOutput&>(worker), now, from, data);
  }
  void on_timeout(Worker& worker, Instant now) override { on_timeout(static_cast<PacketOutput&>(worker), now); }
  std::optional<Instant> poll_timeout() const override;
  void on_tcp_closed(Worker& worker, uint32_t connection) override {
    on_tcp_closed(static_cast<PacketOutput&>(worker), connection);
  }
  // The same for any output (a simulated network in tests).
  void on_datagram(PacketOutput& out, Instant now, const NetPath& from, MutBytes data);
  void on_timeout(PacketOutput& out, Instant now);
  void on_tcp_closed(PacketOutput& out, uint32_t connection);

  // After a call made on a transport from outside (set_remote_parameters,
  // restart_ice): what it queued goes out, its events to its router.
  void flush(PacketOutput& out, TransportId id);

 private:
  Router* router_of(TransportId id);
  // The host's queued transport events, each to its transport's router.
  void deliver_events();

  WallClock wall_;
  TransportHost host_;
  std::unordered_map<RoomId, std::unique_ptr<Router>> routers_;
  std::unordered_map<TransportId, RoomId> room_of_;
  std::optional<Instant> next_tick_;
  RouterCounters retired_routers_;  // counters of the routers removed, their producers' loss included
  uint64_t last_rtp_lost_ = 0;      // loss figures may shrink (late packets): published as a running max
  Histogram bwe_{kBitrateBoundsBps};
  MediaSample sample_;
  Published<MediaSample> published_metrics_{MediaSample{}};
  struct {
    std::atomic<uint64_t> routers{0}, transports{0}, producers{0}, consumers{0}, data_producers{0}, data_consumers{0};
  } published_;
};

}  // namespace sfu::server
