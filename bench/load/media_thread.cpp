#include "bench/load/media_thread.hpp"

#include "bench/load/udp_gro.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <random>

namespace sfu::load {

namespace {

constexpr size_t kRecvBatch = 32;
// A message may hold a whole GSO run (UDP GRO): up to 64 KiB.
constexpr size_t kRecvSize = 65536;
constexpr int kMaxEvents = 256;
// Batches read from one socket per wake-up before the others get a turn.
constexpr int kMaxBatchesPerSocket = 4;
// Timers are serviced at most this often (all due ones at once): a
// PeerConnection's deadline is late by at most this much.
constexpr Duration kTimerSlack = microseconds(500);

}  // namespace

struct MediaThread::RecvBuffers {
  std::array<std::array<uint8_t, kRecvSize>, kRecvBatch> data{};
  std::array<sockaddr_storage, kRecvBatch> from{};
  std::array<iovec, kRecvBatch> iov{};
  std::array<mmsghdr, kRecvBatch> msgs{};
  alignas(cmsghdr) std::array<std::array<uint8_t, kGroControlSize>, kRecvBatch> control{};
};

MediaThread::MediaThread(int index, std::shared_ptr<const dtls::Context> dtls_context, MediaThreadSettings settings)
    : index_(index),
      dtls_context_(std::move(dtls_context)),
      settings_(std::move(settings)),
      recv_(std::make_unique<RecvBuffers>()) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  seed_ = std::random_device{}() ^ (uint64_t(index) << 40);
}

MediaThread::~MediaThread() {
  if (thread_.joinable()) stop();
  pcs_.clear();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void MediaThread::start() {
  thread_ = std::thread([this] { run(); });
}

void MediaThread::add_sender(SendPcSpec spec) {
  {
    std::lock_guard lock(mutex_);
    inbox_.emplace_back(std::move(spec));
  }
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void MediaThread::update_receiver(ReceivePcSpec spec) {
  {
    std::lock_guard lock(mutex_);
    inbox_.emplace_back(std::move(spec));
  }
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void MediaThread::stop_media() {
  stop_media_ = true;
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void MediaThread::stop() {
  if (!thread_.joinable()) return;
  stop_media_ = true;
  stop_ = true;
  const uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  thread_.join();
}

PeerConnection* MediaThread::add_pc(PcKind kind, int participant, const ice::IceCredentials& ice, Instant joined,
                                    UdpSocket socket) {
  auto pc = std::make_unique<PeerConnection>(kind, participant, ice, dtls_context_, ++seed_ * 0x9E3779B97F4A7C15ull,
                                             joined);
  if (!socket.is_open()) {
    auto opened = UdpSocket::open(settings_.bind_ip);
    if (!opened) {
      std::fprintf(stderr, "sfu-load: media thread %d, participant %d: %s\n", index_, participant,
                   opened.error().c_str());
      ++counters_.socket_errors;
      return nullptr;
    }
    socket = std::move(*opened);
  }
  pc->adopt_socket(std::move(socket));
  if (settings_.udp_gro) enable_udp_gro(pc->fd());  // best effort: without it, datagrams arrive one by one
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = pc.get();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pc->fd(), &ev);
  pcs_.push_back(std::move(pc));
  return pcs_.back().get();
}

void MediaThread::apply(Instant now, SendPcSpec& spec) {
  PeerConnection* pc = add_pc(PcKind::send, spec.participant, spec.local_ice, spec.joined, std::move(spec.socket));
  if (!pc) return;
  pc->set_publisher(spec.publisher);
  pc->set_remote(now, spec.remote);
  pc->flush(now, batch_);
}

void MediaThread::apply(Instant now, ReceivePcSpec& spec) {
  if (spec.participant < 0) return;
  if (receivers_by_participant_.size() <= size_t(spec.participant)) {
    receivers_by_participant_.resize(size_t(spec.participant) + 1, nullptr);
  }
  PeerConnection*& pc = receivers_by_participant_[size_t(spec.participant)];
  if (!pc) {
    pc = add_pc(PcKind::receive, spec.participant, spec.local_ice, spec.joined, std::move(spec.socket));
    if (pc) pc->set_full_check(spec.participant % std::max(1, settings_.validate_every) == 0);
  }
  if (!pc) return;
  pc->update_tracks(spec.tracks, spec.transport_cc_ext_id);
  if (spec.remote) pc->set_remote(now, *spec.remote);
  pc->flush(now, batch_);
}

void MediaThread::take_commands(Instant now) {
  {
    std::lock_guard lock(mutex_);
    taken_.swap(inbox_);
  }
  for (auto& c : taken_) {
    std::visit([&](auto& spec) { apply(now, spec); }, c);
  }
  taken_.clear();
  next_service_ = now;  // new PeerConnections have timers
}

void MediaThread::read_socket(Instant now, PeerConnection& pc) {
  RecvBuffers& b = *recv_;
  for (int round = 0; round < kMaxBatchesPerSocket; ++round) {
    for (size_t i = 0; i < kRecvBatch; ++i) {
      b.iov[i] = iovec{b.data[i].data(), kRecvSize};
      b.msgs[i] = mmsghdr{};
      b.msgs[i].msg_hdr.msg_name = &b.from[i];
      b.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      b.msgs[i].msg_hdr.msg_iov = &b.iov[i];
      b.msgs[i].msg_hdr.msg_iovlen = 1;
      b.msgs[i].msg_hdr.msg_control = b.control[i].data();
      b.msgs[i].msg_hdr.msg_controllen = b.control[i].size();
    }
    ++counters_.recv_syscalls;
    const int n = ::recvmmsg(pc.fd(), b.msgs.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    counters_.recv_messages += uint64_t(n);
    for (int i = 0; i < n; ++i) {
      const mmsghdr& m = b.msgs[size_t(i)];
      const size_t segment = gro_segment_size(m.msg_hdr);
      const size_t count = for_each_datagram(MutBytes(b.data[size_t(i)].data(), m.msg_len), segment,
                                             [&](MutBytes d) { pc.on_datagram(now, b.from[size_t(i)], d); });
      received_ += count;
      if (count > 1) ++counters_.recv_gro_messages;
    }
    if (size_t(n) < kRecvBatch) break;
  }
  pc.flush(now, batch_);
  if (auto d = pc.deadline()) next_service_ = std::min(next_service_, std::max(*d, now + kTimerSlack));
}

void MediaThread::service_timers(Instant now) {
  std::optional<Instant> next;
  for (auto& pc : pcs_) {
    auto d = pc->deadline();
    if (d && *d <= now) {
      pc->on_timeout(now);
      pc->flush(now, batch_);
      d = pc->deadline();
    }
    if (d && (!next || *d < *next)) next = d;
  }
  next_service_ = std::max(next.value_or(now + milliseconds(20)), now + kTimerSlack);
}

void MediaThread::run() {
  std::array<epoll_event, kMaxEvents> events{};
  next_service_ = Clock::now();
  while (!stop_.load(std::memory_order_relaxed)) {
    ++counters_.loop_iterations;
    Instant now = Clock::now();
    int timeout_ms = 0;
    if (next_service_ > now) {
      const auto us = std::chrono::duration_cast<microseconds>(next_service_ - now).count();
      timeout_ms = int(std::min<int64_t>((us + 999) / 1000, 100));
    }
    const int n = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, timeout_ms);
    now = Clock::now();
    for (int i = 0; i < n; ++i) {
      auto* pc = static_cast<PeerConnection*>(events[size_t(i)].data.ptr);
      if (!pc) {
        uint64_t v = 0;
        [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
        take_commands(now);
        continue;
      }
      read_socket(now, *pc);
    }
    if (stop_media_.load(std::memory_order_relaxed) && !media_stopped_) {
      media_stopped_ = true;
      media_stopped_at_ = now;
      for (auto& pc : pcs_) {
        pc->stop_media();
        pc->flush(now, batch_);
      }
    }
    now = Clock::now();
    if (now >= next_service_) service_timers(now);
    live_sent_.store(batch_.datagrams_sent(), std::memory_order_relaxed);
    live_received_.store(received_, std::memory_order_relaxed);
  }
  batch_.flush();
  if (!media_stopped_) media_stopped_at_ = Clock::now();
  counters_.send_syscalls = batch_.syscalls();
}

}  // namespace sfu::load
