// The control thread's handle on the media workers: places rooms on the
// least-loaded worker, carries room_api.hpp commands to the room's worker
// as posted tasks, and brings results and media events back through the
// `post` function it was given (asio::post onto the control io_context in
// the binary). Control thread only.
//
// Lifetime: a command is a task posted to the room's worker; it holds no
// reference to signaling objects, only values and its `done` callback, which
// comes back as a task posted to the control thread (the caller guards its
// own lifetime there; Peer uses a weak "alive" token). A command for a room
// that is not open (closed meanwhile: a callback that crossed the room's
// end) is dropped and counted, and its `done` still runs, with the failure
// value, so no caller waits forever. Closing a room frees everything still
// on its worker: router, producers, consumers and bound transports.
#pragma once

#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "server/room_api.hpp"
#include "server/stats.hpp"
#include "server/worker_metrics.hpp"

namespace sfu::server {

// Only named here, so that signaling/ sees neither the workers nor libuv.
class Router;
class Worker;
class WorkerMedia;
class WorkerPool;

class MediaController {
 public:
  using Post = std::function<void(std::function<void()>)>;
  using EventHandler = std::function<void(RoomId, const MediaEvent&)>;

  // The pool's workers must use WorkerMedia handlers (WorkerPool does).
  MediaController(WorkerPool& pool, Post post_to_control);

  void set_event_handler(EventHandler h) { events_ = std::move(h); }

  // Places a room on the worker with the fewest rooms; idempotent.
  uint32_t open_room(RoomId room);
  // Frees the room's router (after its last transport is gone).
  void close_room(RoomId room);
  std::optional<uint32_t> worker_of(RoomId room) const;
  // Gauges summed over every worker (each worker publishes its own after
  // every command and tick; read without locks).
  MediaCounts counts() const;
  // Commands dropped because their room was no longer open.
  uint64_t stale_commands() const { return stale_commands_; }
  // /metrics: one worker's published numbers (lock-free reads, metrics.hpp).
  struct WorkerMetrics {
    LoopSample loop;
    MediaSample media;
    double cpu_seconds = 0;
  };
  size_t worker_count() const;
  WorkerMetrics worker_metrics(size_t worker) const;

  void create_transport(RoomId room, TransportSpec spec, std::function<void(std::optional<TransportInfo>)> done);
  void close_transport(RoomId room, TransportId id);
  // The remote ICE ufrag/pwd and fingerprint once the peer's SDP is known
  // (subscriber transports are created before the answer arrives).
  void set_remote_parameters(RoomId room, TransportId id, TransportSpec spec);
  // done(nullopt) when the transport or its room is gone.
  void restart_ice(RoomId room, TransportId id, std::function<void(std::optional<ice::IceCredentials>)> done);
  void add_producer(RoomId room, ProducerSpec spec);
  void close_producer(RoomId room, ProducerId id);
  void set_producer_paused(RoomId room, ProducerId id, bool paused);
  void add_consumer(RoomId room, ConsumerSpec spec, std::function<void(bool)> done);
  void close_consumer(RoomId room, ConsumerId id);
  void set_consumer_paused(RoomId room, ConsumerId id, bool paused);
  void set_preferred_layers(RoomId room, ConsumerId id, int spatial, int temporal);
  // Data channels (PROTOCOL.md "Data channels").
  void enable_sctp(RoomId room, SctpSpec spec);
  void add_data_consumer(RoomId room, DataConsumerSpec spec);
  void close_data_consumer(RoomId room, DataConsumerId id);
  void close_data_producer(RoomId room, DataProducerId id);
  void get_stats(RoomId room, std::vector<TransportId> transports, std::vector<ProducerId> producers,
                 std::vector<ConsumerId> consumers, std::function<void(PeerStats)> done);

 private:
  // Runs fn(worker, media, router) on the room's worker; false (and nothing
  // runs) when the room is not open.
  bool on_router(RoomId room, std::function<void(Worker&, WorkerMedia&, Router&)> fn);

  WorkerPool& pool_;
  Post post_;
  EventHandler events_;
  std::unordered_map<RoomId, uint32_t> room_worker_;
  std::vector<uint32_t> rooms_per_worker_;
  uint64_t stale_commands_ = 0;
};

}  // namespace sfu::server
