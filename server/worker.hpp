// A media worker: one thread, one libuv loop, one UDP socket and one ICE-TCP
// listener. Everything on the media path of the rooms placed here runs on
// this thread only (DESIGN.md "Process and threads"); other threads reach
// it solely through post().
//
// Loop iteration: timers → I/O (recvmmsg batches, TCP reads, posted tasks)
// → check phase: flush queued datagrams with sendmmsg and re-arm the timer
// from the handler's poll_timeout().
//
// Lifetime of an ICE-TCP connection: owned by tcp_ (by id) while open.
// drop_tcp() is the only teardown: it takes it out of tcp_, stops reading
// and uv_close()s the handle; libuv then completes a pending uv_write with
// UV_ECANCELED (its callback sees `closing` and touches nothing else) before
// the close callback deletes the connection. Queued writes die with it.
// Transports refer to a connection only by id, so a stale id finds nothing.
// Posted tasks are values run on this loop; the worker outlives them all
// (stop() joins the thread).
#pragma once

#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "ice/address.hpp"
#include "ice/path.hpp"
#include "server/metrics.hpp"
#include "server/mpsc_queue.hpp"
#include "server/packet_output.hpp"
#include "server/udp_socket.hpp"
#include "server/worker_metrics.hpp"

namespace sfu::server {

struct WorkerConfig {
  uint32_t index = 0;
  ice::Address udp_bind = ice::Address::v4(0x7f000001u, 0);
  // ICE-TCP passive candidates (RFC 6544); nullopt disables TCP.
  std::optional<ice::Address> tcp_bind = ice::Address::v4(0x7f000001u, 0);
  int socket_buffer_bytes = 4 << 20;
  bool udp_gso = true;
  uint32_t max_tcp_connections = 1024;
  size_t max_tcp_backlog_bytes = 256 * 1024;  // per connection, unsent data
};

// How a packet arrived and how to answer: the worker's UDP socket (tcp == 0)
// or one ICE-TCP connection, plus the remote transport address.
using NetPath = ice::Path;
using NetPathHash = ice::PathHash;

class Worker;

// The media side of a worker (transports, routers). Every call is on the
// worker's thread.
class WorkerHandler {
 public:
  virtual ~WorkerHandler() = default;
  // A received datagram or TCP frame. `data` is writable (in-place SRTP) and
  // valid only during the call.
  virtual void on_datagram(Worker& worker, Instant now, const NetPath& from, MutBytes data) = 0;
  // Time-driven work, called once poll_timeout() has passed.
  virtual void on_timeout(Worker& worker, Instant now) = 0;
  // The earliest time on_timeout() is needed, or nullopt for none.
  virtual std::optional<Instant> poll_timeout() const = 0;
  // An ICE-TCP connection is gone; forget every tuple on it.
  virtual void on_tcp_closed(Worker& /*worker*/, uint32_t /*connection*/) {}
  // Once a second: publish what /metrics reads (metrics.hpp). Off the packet path.
  virtual void publish_metrics(Instant /*now*/) {}
};

class Worker : public PacketOutput {
 public:
  using Task = std::function<void(Worker&)>;

  // Opens the sockets (ports from config; 0 = any). Throws std::runtime_error
  // naming the address when one cannot be bound. `handler` may be null until
  // set_handler(); datagrams arriving without one are dropped.
  explicit Worker(WorkerConfig config, std::unique_ptr<WorkerHandler> handler = nullptr);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before start() only.
  void set_handler(std::unique_ptr<WorkerHandler> handler) { handler_ = std::move(handler); }
  // Starts the thread. Call once.
  void start();
  // Runs `task` on the worker thread, in order with other posts. Any thread;
  // never blocks. Tasks posted after stop() are dropped.
  void post(Task task);
  // Stops the loop after the tasks already posted, closes every socket and
  // joins the thread. Idempotent; not from the worker thread itself.
  void stop();

  // --- worker thread only -------------------------------------------------
  // Queues a copy of `data` to `to` (UDP: batched until the check phase; TCP:
  // framed and written, buffered up to the backlog limit).
  void send(const NetPath& to, Bytes data) override;
  // Zero-copy UDP send: fill send_buffer() (kPacketBufferSize bytes), then
  // commit_udp(). Only for UDP paths.
  MutBytes send_buffer() override { return udp_->send_buffer(); }
  void commit_udp(size_t length, const ice::Address& to) override { udp_->commit(length, to); }
  // Closes one ICE-TCP connection (e.g. its transport failed).
  void close_tcp(uint32_t connection);
  // The loop's time: read once per batch of datagrams, per check phase and
  // per posted task, and what the handler and tasks run with (a task needs
  // no clock of its own). Never goes back.
  Instant now() const { return now_; }

  // --- any thread (fixed after construction) -------------------------------
  uint32_t index() const { return config_.index; }
  const ice::Address& udp_address() const { return udp_->local_address(); }
  std::optional<ice::Address> tcp_address() const { return tcp_local_; }
  bool running() const { return running_.load(std::memory_order_acquire); }
  // Any thread: the loop counters as last published (once a second), and
  // the CPU time the worker thread has used so far (0 before it runs).
  LoopSample loop_sample() const {
    LoopSample s;
    published_loop_.load(s);
    return s;
  }
  double cpu_seconds() const;

  // Worker thread only (read them through post() from elsewhere).
  const UdpCounters& udp_counters() const { return udp_->counters(); }
  const WorkerCounters& counters() const { return counters_; }
  WorkerHandler* handler() const { return handler_.get(); }

 private:
  struct TcpConnection;

  void run();
  void on_udp_readable();
  void on_async();
  void on_check();
  void run_handler_timer(Instant now);
  void on_tcp_accept();
  void on_tcp_read(TcpConnection& c, ssize_t nread);
  void tcp_write(TcpConnection& c, Bytes data);
  void tcp_write_next(TcpConnection& c);
  void drop_tcp(TcpConnection& c);
  void shutdown_loop();
  void warn_about_drops(const LoopSample& now);

  WorkerConfig config_;
  std::unique_ptr<WorkerHandler> handler_;
  std::unique_ptr<UdpSocket> udp_;
  std::optional<ice::Address> tcp_local_;
  WorkerCounters counters_;

  uv_loop_t loop_{};
  uv_async_t async_{};
  uv_poll_t udp_poll_{};
  uv_check_t check_{};
  uv_timer_t timer_{};
  uv_tcp_t tcp_listener_{};
  bool has_tcp_ = false;
  std::optional<Instant> armed_deadline_;

  MpscQueue<Task> tasks_;
  Instant now_{};
  Instant tick() { return now_ = std::max(now_, Clock::now()); }
  Published<LoopSample> published_loop_{LoopSample{}};
  Instant next_publish_{};
  // The worker thread's CPU clock (a clockid_t: Linux encodes thread CPU
  // clocks as negative numbers, so "set" is a flag of its own).
  std::atomic<int> cpu_clock_{0};
  std::atomic<bool> cpu_clock_set_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  uint32_t next_tcp_id_ = 1;
  std::unordered_map<uint32_t, std::unique_ptr<TcpConnection>> tcp_;
  std::unique_ptr<uint8_t[]> tcp_read_buffer_;
};

}  // namespace sfu::server
