#include "server/worker.hpp"

#include <pthread.h>
#include <time.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "ice/tcp_framing.hpp"

namespace sfu::server {

namespace {

constexpr size_t kTcpReadBufferSize = 64 * 1024;
// recvmmsg batches per readable event before yielding to other handles.
constexpr int kMaxBatchesPerWakeup = 16;

template <class T>
Worker* owner(T* handle) {
  return static_cast<Worker*>(handle->data);
}

}  // namespace

struct Worker::TcpConnection {
  uv_tcp_t handle{};
  Worker* worker = nullptr;
  uint32_t id = 0;
  ice::Address remote;
  ice::TcpDeframer deframer;
  std::vector<uint8_t> backlog;   // framed bytes not yet handed to uv_write
  std::vector<uint8_t> in_flight;  // bytes of the uv_write in progress
  uv_write_t write_req{};
  bool writing = false;
  bool closing = false;
};

Worker::Worker(WorkerConfig config, std::unique_ptr<WorkerHandler> handler)
    : config_(std::move(config)), handler_(std::move(handler)), tcp_read_buffer_(new uint8_t[kTcpReadBufferSize]) {
  auto udp = UdpSocket::open(config_.udp_bind, config_.socket_buffer_bytes, config_.udp_gso);
  if (!udp) throw std::runtime_error("worker " + std::to_string(config_.index) + ": " + udp.error());
  udp_ = std::move(udp.value());

  uv_loop_init(&loop_);
  loop_.data = this;
  uv_async_init(&loop_, &async_, [](uv_async_t* h) { owner(h)->on_async(); });
  async_.data = this;
  uv_poll_init(&loop_, &udp_poll_, udp_->fd());
  udp_poll_.data = this;
  uv_check_init(&loop_, &check_);
  check_.data = this;
  uv_timer_init(&loop_, &timer_);
  timer_.data = this;

  if (config_.tcp_bind) {
    uv_tcp_init(&loop_, &tcp_listener_);
    tcp_listener_.data = this;
    has_tcp_ = true;
    sockaddr_storage ss{};
    ice::to_sockaddr(*config_.tcp_bind, ss);
    int rc = uv_tcp_bind(&tcp_listener_, reinterpret_cast<const sockaddr*>(&ss), 0);
    if (rc == 0)
      rc = uv_listen(reinterpret_cast<uv_stream_t*>(&tcp_listener_), 128,
                     [](uv_stream_t* s, int status) {
                       if (status == 0) owner(s)->on_tcp_accept();
                     });
    if (rc != 0) {
      shutdown_loop();
      uv_run(&loop_, UV_RUN_DEFAULT);
      uv_loop_close(&loop_);
      throw std::runtime_error("worker " + std::to_string(config_.index) + ": ICE-TCP listen on " +
                               ice::to_string(*config_.tcp_bind) + ": " + uv_strerror(rc));
    }
    int len = sizeof ss;
    uv_tcp_getsockname(&tcp_listener_, reinterpret_cast<sockaddr*>(&ss), &len);
    tcp_local_ = ice::from_sockaddr(ss);
  }
}

Worker::~Worker() {
  stop();
  if (!thread_.joinable() && !running_.load() && loop_.data == this) {
    // Never started: close the handles on this thread.
    shutdown_loop();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
    loop_.data = nullptr;
  }
}

void Worker::start() {
  running_.store(true, std::memory_order_release);
  thread_ = std::thread([this] { run(); });
}

void Worker::run() {
  clockid_t clock{};
  if (pthread_getcpuclockid(pthread_self(), &clock) == 0) {
    cpu_clock_.store(int(clock), std::memory_order_relaxed);
    cpu_clock_set_.store(true, std::memory_order_release);
  }
  uv_poll_start(&udp_poll_, UV_READABLE, [](uv_poll_t* h, int status, int) {
    if (status == 0) owner(h)->on_udp_readable();
  });
  uv_check_start(&check_, [](uv_check_t* h) { owner(h)->on_check(); });
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  loop_.data = nullptr;
  running_.store(false, std::memory_order_release);
}

void Worker::post(Task task) {
  if (stopping_.load(std::memory_order_acquire)) return;
  tasks_.push(std::move(task));
  uv_async_send(&async_);
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  if (!stopping_.exchange(true)) {
    tasks_.push([](Worker& w) { w.shutdown_loop(); });
    uv_async_send(&async_);
  }
  thread_.join();
}

void Worker::shutdown_loop() {
  // TCP connections own heap state, freed in their close callbacks.
  for (auto& [id, c] : tcp_) {
    TcpConnection* raw = c.release();
    raw->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&raw->handle),
             [](uv_handle_t* h) { delete static_cast<TcpConnection*>(h->data); });
  }
  tcp_.clear();
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
}

void Worker::on_async() {
  while (auto task = tasks_.pop()) {
    tick();  // after the pop: a task never runs with a time before it was posted
    ++counters_.tasks;
    (*task)(*this);
  }
}

void Worker::on_udp_readable() {
  for (int batch = 0; batch < kMaxBatchesPerWakeup; ++batch) {
    const size_t n = udp_->receive();
    if (n == 0) return;
    const Instant now = tick();
    for (size_t i = 0; i < n; ++i) {
      if (handler_) handler_->on_datagram(*this, now, NetPath{0, udp_->source(i)}, udp_->datagram(i));
    }
    if (n < UdpSocket::kRecvBatch) return;
  }
}

// Once a second at most (from the publication in on_check): one line when
// the socket or an ICE-TCP backlog dropped packets since the last sample.
// The packet path itself only counts.
void Worker::warn_about_drops(const LoopSample& now) {
  LoopSample before;
  published_loop_.load(before);
  const uint64_t send = now.udp.send_dropped - before.udp.send_dropped;
  const uint64_t truncated = now.udp.truncated - before.udp.truncated;
  const uint64_t backlog = now.loop.tcp_backlog_drops - before.loop.tcp_backlog_drops;
  if (send || truncated || backlog)
    log::warn("worker dropped packets", {{"worker", config_.index},
                                         {"udp_send_dropped", send},
                                         {"udp_truncated", truncated},
                                         {"tcp_backlog_dropped", backlog}});
}

double Worker::cpu_seconds() const {
  if (!cpu_clock_set_.load(std::memory_order_acquire) || !running()) return 0;
  timespec ts{};
  if (clock_gettime(clockid_t(cpu_clock_.load(std::memory_order_relaxed)), &ts) != 0) return 0;
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

void Worker::on_check() {
  ++counters_.loop_iterations;
  if (stopping_.load(std::memory_order_relaxed) && !handler_) return;
  if (handler_) run_handler_timer(tick());
  if (udp_->queued()) udp_->flush();
}

// The handler's timeout if it is due, then the timer armed again for the
// next one (or for the next metrics publication: an idle loop still wakes
// once a second, so a room closed just after a publication does not stay on
// /metrics).
void Worker::run_handler_timer(Instant now) {
  if (now >= next_publish_) {
    next_publish_ = now + seconds(1);
    LoopSample s{udp_->counters(), counters_};
    warn_about_drops(s);
    published_loop_.publish(s);
    handler_->publish_metrics(now);
  }
  auto deadline = handler_->poll_timeout();
  if (deadline && *deadline <= now) {
    handler_->on_timeout(*this, now);
    deadline = handler_->poll_timeout();
  }
  if (!deadline || next_publish_ < *deadline) deadline = next_publish_;
  if (deadline == armed_deadline_ || uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) return;
  armed_deadline_ = deadline;
  const auto wait = std::chrono::ceil<milliseconds>(*deadline - now).count();
  // The timer fires by libuv's loop time, cached at the start of the
  // iteration, so it can fire a little before the deadline by Clock::now():
  // the callback runs the same steps, which arm it again for what is left
  // (a handler that finds nothing due must not be left without a timer, the
  // loop would sleep until the next datagram or task). What a timeout
  // queued is sent at once, not after the next poll.
  uv_timer_start(
      &timer_,
      [](uv_timer_t* t) {
        Worker* w = owner(t);
        w->armed_deadline_.reset();
        if (!w->handler_) return;
        w->run_handler_timer(w->tick());
        if (w->udp_->queued()) w->udp_->flush();
      },
      uint64_t(wait < 0 ? 0 : wait), 0);
}

void Worker::send(const NetPath& to, Bytes data) {
  if (!to.is_tcp()) return udp_->send(data, to.remote);
  auto it = tcp_.find(to.tcp);
  if (it == tcp_.end()) return;
  tcp_write(*it->second, data);
}

// ---- ICE-TCP (RFC 6544 passive candidates, RFC 4571 framing) ---------------

void Worker::on_tcp_accept() {
  auto c = std::make_unique<TcpConnection>();
  c->worker = this;
  uv_tcp_init(&loop_, &c->handle);
  c->handle.data = c.get();
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&tcp_listener_), reinterpret_cast<uv_stream_t*>(&c->handle)) != 0 ||
      tcp_.size() >= config_.max_tcp_connections) {
    ++counters_.tcp_refused;
    auto* raw = c.release();
    uv_close(reinterpret_cast<uv_handle_t*>(&raw->handle),
             [](uv_handle_t* h) { delete static_cast<TcpConnection*>(h->data); });
    return;
  }
  uv_tcp_nodelay(&c->handle, 1);
  sockaddr_storage ss{};
  int len = sizeof ss;
  uv_tcp_getpeername(&c->handle, reinterpret_cast<sockaddr*>(&ss), &len);
  c->remote = ice::from_sockaddr(ss).value_or(ice::Address{}).unmapped();
  c->id = next_tcp_id_++;
  if (next_tcp_id_ == 0) next_tcp_id_ = 1;
  ++counters_.tcp_accepted;
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->handle),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        Worker* w = static_cast<TcpConnection*>(h->data)->worker;
        *buf = uv_buf_init(reinterpret_cast<char*>(w->tcp_read_buffer_.get()), kTcpReadBufferSize);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        auto* conn = static_cast<TcpConnection*>(s->data);
        conn->worker->on_tcp_read(*conn, nread);
      });
  tcp_.emplace(c->id, std::move(c));
}

void Worker::on_tcp_read(TcpConnection& c, ssize_t nread) {
  if (nread < 0) return drop_tcp(c);
  Bytes in(tcp_read_buffer_.get(), size_t(nread));
  const Instant now = tick();
  const uint32_t id = c.id;
  while (!in.empty()) {
    const size_t taken = c.deframer.push(in);
    in = in.subspan(taken);
    while (auto frame = c.deframer.next()) {
      if (frame->empty()) {
        ++counters_.tcp_empty_frames;
        continue;
      }
      ++counters_.tcp_frames_in;
      if (handler_) handler_->on_datagram(*this, now, NetPath{id, c.remote}, *frame);
      if (!tcp_.contains(id)) return;  // the handler closed it
    }
  }
}

void Worker::tcp_write(TcpConnection& c, Bytes data) {
  if (c.closing || data.size() > ice::TcpDeframer::kMaxFrame) return;
  if (c.backlog.size() + data.size() + 2 > config_.max_tcp_backlog_bytes) {
    ++counters_.tcp_backlog_drops;  // whole frames only: the stream stays well-formed
    return;
  }
  ++counters_.tcp_frames_out;
  uint8_t header[2];
  ice::write_tcp_frame_header(MutBytes(header, 2), data.size());
  if (!c.writing && c.backlog.empty()) {
    // Fast path: try to write the frame directly.
    uv_buf_t bufs[2] = {uv_buf_init(reinterpret_cast<char*>(header), 2),
                        uv_buf_init(const_cast<char*>(reinterpret_cast<const char*>(data.data())), unsigned(data.size()))};
    int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&c.handle), bufs, 2);
    if (n < 0) n = 0;
    const size_t written = size_t(n);
    if (written == data.size() + 2) return;
    // Keep the unwritten tail of this frame.
    for (size_t i = written; i < 2; ++i) c.backlog.push_back(header[i]);
    const size_t from = written > 2 ? written - 2 : 0;
    c.backlog.insert(c.backlog.end(), data.begin() + ptrdiff_t(from), data.end());
  } else {
    c.backlog.insert(c.backlog.end(), header, header + 2);
    c.backlog.insert(c.backlog.end(), data.begin(), data.end());
  }
  tcp_write_next(c);
}

void Worker::tcp_write_next(TcpConnection& c) {
  if (c.writing || c.backlog.empty() || c.closing) return;
  c.in_flight.swap(c.backlog);
  c.backlog.clear();
  c.writing = true;
  c.write_req.data = &c;
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(c.in_flight.data()), unsigned(c.in_flight.size()));
  uv_write(&c.write_req, reinterpret_cast<uv_stream_t*>(&c.handle), &buf, 1, [](uv_write_t* req, int status) {
    auto* conn = static_cast<TcpConnection*>(req->data);
    conn->writing = false;
    conn->in_flight.clear();
    if (conn->closing) return;
    if (status < 0) return conn->worker->drop_tcp(*conn);
    conn->worker->tcp_write_next(*conn);
  });
}

void Worker::close_tcp(uint32_t connection) {
  auto it = tcp_.find(connection);
  if (it != tcp_.end()) drop_tcp(*it->second);
}

void Worker::drop_tcp(TcpConnection& c) {
  if (c.closing) return;
  c.closing = true;
  ++counters_.tcp_closed;
  const uint32_t id = c.id;
  auto it = tcp_.find(id);
  TcpConnection* raw = it->second.release();
  tcp_.erase(it);
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&raw->handle));
  uv_close(reinterpret_cast<uv_handle_t*>(&raw->handle),
           [](uv_handle_t* h) { delete static_cast<TcpConnection*>(h->data); });
  if (handler_) handler_->on_tcp_closed(*this, id);
}

}  // namespace sfu::server
