#include "bench/load/load_runner.hpp"

#include <algorithm>
#include <cstdio>
#include <thread>

#include <boost/asio/post.hpp>

#include "bench/load/ws_client.hpp"
#include "ice/address.hpp"

namespace sfu::load {

namespace asio = boost::asio;

client::PublisherConfig make_publisher_config(int participant, uint32_t ssrc_base, const LoadOptions& options) {
  const int layers = options.simulcast ? 3 : 1;
  client::PublisherConfig c = client::default_publisher_config(ssrc_base, layers);
  static constexpr uint32_t kSimulcastBps[3] = {200'000, 700'000, 2'500'000};
  for (size_t i = 0; i < c.video.layers.size(); ++i) {
    c.video.layers[i].target_bps = options.simulcast ? kSimulcastBps[i] : 2'500'000;
  }
  c.video.enabled = options.video;
  c.video.temporal_layers = 3;
  c.video.keyframe_interval = seconds(3);
  c.video.fps = 30;
  c.audio.enabled = options.audio;
  c.cname = "load-" + std::to_string(participant);
  c.seed = uint64_t(ssrc_base) * 7919 + uint64_t(participant);
  return c;
}

int expected_tracks(const LoadOptions& options, bool publisher) {
  const int per_publisher = (options.audio ? 1 : 0) + (options.video ? 1 : 0);
  const int others = publisher ? options.publishers - 1 : options.publishers;
  return std::max(0, others) * per_publisher;
}

constexpr std::chrono::seconds kSteadySettle{3};

struct LoadRunner::Participant {
  ParticipantInfo info;
  std::string room;
  std::unique_ptr<TargetSession> session;
  MediaThread* thread = nullptr;
  ice::IceCredentials send_ice;
  ice::IceCredentials recv_ice;
  uint64_t session_id = 0;
  uint32_t ssrc_base = 0;
  Instant joined{};
  bool join_done = false;
  bool publishing = false;
  bool receive_socket_sent = false;
  std::optional<ice::Address> receive_address;
};

LoadRunner::LoadRunner(asio::io_context& io, const LoadOptions& options, Target& target)
    : io_(io),
      options_(options),
      target_(target),
      ramp_timer_(io),
      end_timer_(io),
      sample_timer_(io),
      steady_timer_(io),
      rng_(std::random_device{}()) {
  dtls_context_ = dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate("sfu-load")));
  for (int i = 0; i < options.threads; ++i) threads_.push_back(std::make_unique<MediaThread>(
        i, dtls_context_, MediaThreadSettings{options.bind_ip, options.udp_gro, options.validate_every}));
  int index = 0;
  for (int room = 0; room < options.rooms; ++room) {
    for (int k = 0; k < options.publishers + options.subscribers; ++k) {
      auto p = std::make_unique<Participant>();
      p->info.index = index;
      p->info.room = room;
      p->info.publisher = k < options.publishers;
      p->info.expected_tracks = expected_tracks(options, p->info.publisher);
      p->room = options.room_prefix + "-" + std::to_string(room);
      p->thread = threads_[size_t(index) % threads_.size()].get();
      p->send_ice = ice::IceCredentials::generate();
      p->recv_ice = ice::IceCredentials::generate();
      p->session_id = rng_() >> 2;
      p->ssrc_base = uint32_t(rng_()) & ~uint32_t(0xF);
      participants_.push_back(std::move(p));
      ++index;
    }
  }
}

LoadRunner::~LoadRunner() {
  for (auto& t : threads_) t->stop();
}

void LoadRunner::mark_failed(Participant& p, const std::string& reason) {
  if (!p.info.failure.empty()) return;
  p.info.failure = reason;
  if (++failed_ <= 20) {
    std::fprintf(stderr, "sfu-load: participant %d (%s): %s\n", p.info.index, p.room.c_str(), reason.c_str());
  }
  // Nothing left to measure: stop now rather than after --duration.
  if (failed_ == participants_.size() && !finishing_) {
    std::fprintf(stderr, "sfu-load: every participant failed; stopping\n");
    ramp_timer_.cancel();
    end_timer_.cancel();
    asio::post(io_, [this] { finish(); });
  }
}

void LoadRunner::start_participant(Participant& p) {
  SessionCallbacks cb;
  cb.on_remote_offer = [this, &p](RemoteOffer offer) { on_remote_offer(p, offer); };
  cb.on_failed = [this, &p](std::string reason) { mark_failed(p, reason); };
  p.session = target_.create_session(p.info.index, std::move(cb));
  p.joined = Clock::now();
  p.session->join(p.room, p.info.publisher, [this, &p](Result<bool, std::string> r) {
    if (!r) return mark_failed(p, "join: " + r.error());
    p.join_done = true;
    p.info.node = p.session->node();
    if (p.info.publisher) publish(p);
  });
}

void LoadRunner::publish(Participant& p) {
  const client::PublisherConfig config = make_publisher_config(p.info.index, p.ssrc_base, options_);
  PublisherOfferOptions offer_options{options_.audio, options_.video, options_.simulcast};
  auto socket = UdpSocket::open(options_.bind_ip);
  if (!socket) return mark_failed(p, "send socket: " + socket.error());
  LocalPcParams local{p.send_ice.ufrag, p.send_ice.pwd, dtls_context_->certificate().fingerprint(), p.session_id,
                      socket->local()};
  const std::string offer = build_publisher_offer(config, offer_options, local);
  p.publishing = true;
  auto held = std::make_shared<UdpSocket>(std::move(*socket));
  p.session->publish(offer, [this, &p, config, held](Result<std::string, std::string> r) {
    if (!r) return mark_failed(p, "publish: " + r.error());
    auto remote = parse_remote_transport(*r);
    if (!remote) return mark_failed(p, "publish answer: " + remote.error());
    SendPcSpec spec;
    spec.participant = p.info.index;
    spec.socket = std::move(*held);
    spec.local_ice = p.send_ice;
    spec.remote = std::move(*remote);
    spec.publisher = config;
    spec.joined = p.joined;
    p.thread->add_sender(std::move(spec));
  });
}

void LoadRunner::on_remote_offer(Participant& p, const RemoteOffer& offer) {
  auto info = parse_remote_offer(offer.sdp);
  if (!info) return mark_failed(p, "remote offer: " + info.error());
  LocalPcParams local{p.recv_ice.ufrag, p.recv_ice.pwd, dtls_context_->certificate().fingerprint(),
                      p.session_id + 1, p.receive_address};
  ReceivePcSpec spec;
  if (!p.receive_socket_sent) {
    // The receiving PC's socket, named in every answer it gives.
    auto socket = UdpSocket::open(options_.bind_ip);
    if (!socket) return mark_failed(p, "receive socket: " + socket.error());
    p.receive_address = socket->local();
    local.host = p.receive_address;
    spec.socket = std::move(*socket);
    p.receive_socket_sent = true;
  }
  const std::string answer = build_receive_answer(info->description, local);
  spec.participant = p.info.index;
  spec.local_ice = p.recv_ice;
  spec.remote = info->transport;
  spec.tracks = info->tracks;
  spec.transport_cc_ext_id = info->transport_cc_ext_id;
  spec.joined = p.joined;
  // The PeerConnection takes the new tracks before the server learns the
  // answer, as a browser's setRemoteDescription does.
  p.thread->update_receiver(std::move(spec));
  p.session->answer_remote_offer(offer.id, answer, [this, &p](Result<bool, std::string> r) {
    if (!r) mark_failed(p, "answer: " + r.error());
  });
}

void LoadRunner::schedule_ramp(size_t next) {
  if (next >= participants_.size()) {
    // Everyone has started: media for --duration seconds from now.
    // The steady window starts once the last joins have connected (Janus'
    // ICE takes about a second) and lasts until the end.
    if (options_.duration > kSteadySettle.count() + 1) {
      steady_timer_.expires_after(kSteadySettle);
      steady_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && !finishing_) steady_start_ = snapshot();
      });
    }
    end_timer_.expires_after(std::chrono::milliseconds(int64_t(options_.duration * 1000)));
    end_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) finish();
    });
    return;
  }
  const auto at = started_ + std::chrono::microseconds(int64_t(double(next) * 1e6 / options_.ramp));
  ramp_timer_.expires_at(at);
  ramp_timer_.async_wait([this, next](boost::system::error_code ec) {
    if (ec) return;
    // Catch up on every participant due by now.
    size_t i = next;
    const Instant now = Clock::now();
    while (i < participants_.size() &&
           started_ + std::chrono::microseconds(int64_t(double(i) * 1e6 / options_.ramp)) <= now) {
      start_participant(*participants_[i]);
      ++i;
    }
    if (i == next) start_participant(*participants_[i++]);
    schedule_ramp(i);
  });
}

void LoadRunner::sample_server() {
  if (server_.pid == 0) return;
  const Instant now = Clock::now();
  if (auto s = read_proc_sample(server_.pid)) {
    if (last_sample_) {
      const double wall = std::chrono::duration<double>(now - last_sample_at_).count();
      if (wall > 0) server_.cpu_percent.push_back(100.0 * (s->cpu_seconds - last_sample_->cpu_seconds) / wall);
    }
    server_.rss_max_kb = std::max(server_.rss_max_kb, s->rss_kb);
    server_.rss_last_kb = s->rss_kb;
    last_sample_ = s;
    last_sample_at_ = now;
  }
  sample_timer_.expires_after(seconds(1));
  sample_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) sample_server();
  });
}

LoadRunner::Snapshot LoadRunner::snapshot() const {
  Snapshot s;
  s.at = Clock::now();
  for (const auto& t : threads_) {
    s.sent += t->live_datagrams_sent();
    s.received += t->live_datagrams_received();
  }
  if (server_.pid != 0) {
    if (auto p = read_proc_sample(server_.pid)) s.server_cpu = p->cpu_seconds;
  }
  return s;
}

void LoadRunner::finish() {
  if (finishing_) return;
  finishing_ = true;
  steady_timer_.cancel();
  if (steady_start_) {
    const Snapshot end = snapshot();
    steady_.start = steady_start_->at;
    steady_.seconds = std::chrono::duration<double>(end.at - steady_start_->at).count();
    steady_.datagrams_to_server = end.sent - steady_start_->sent;
    steady_.datagrams_from_server = end.received - steady_start_->received;
    steady_.server_cpu_seconds =
        steady_start_->server_cpu >= 0 && end.server_cpu >= 0 ? end.server_cpu - steady_start_->server_cpu : -1;
  }
  media_stopped_ = Clock::now();
  self_cpu_at_stop_ = self_cpu_seconds();
  thread_cpu_at_stop_ = self_thread_cpu_seconds();
  udp_drops_at_stop_ = udp_rcvbuf_errors().value_or(0);
  sample_timer_.cancel();
  sample_server();  // the last partial second
  sample_timer_.cancel();
  for (auto& t : threads_) t->stop_media();
  // Drain: in-flight packets and their repairs arrive; then everyone leaves.
  end_timer_.expires_after(milliseconds(500));
  end_timer_.async_wait([this](boost::system::error_code) {
    for (auto& p : participants_) {
      if (p->session) p->session->leave();
    }
    for (auto& t : threads_) t->stop();
    end_timer_.expires_after(milliseconds(300));  // let the leaves go out
    end_timer_.async_wait([this](boost::system::error_code) { io_.stop(); });
  });
}

Report LoadRunner::run() {
  server_.pid = options_.server_pid;
  if (server_.pid == 0) {
    // Only a server on this machine (in this network namespace: the bench
    // scripts' veth addresses count) can be sampled.
    auto url = parse_ws_url(options_.url);
    if (url && (url->host == "localhost" || ice::parse_ip(url->host, 0))) {
      if (auto pid = find_listening_pid(uint16_t(std::stoi(url->port)))) server_.pid = *pid;
    }
  }
  for (auto& t : threads_) t->start();
  started_ = Clock::now();
  self_cpu_start_ = self_cpu_seconds();
  thread_cpu_start_ = self_thread_cpu_seconds();
  udp_drops_start_ = udp_rcvbuf_errors().value_or(0);
  sample_server();
  schedule_ramp(0);
  io_.run();
  io_.restart();

  ReportInput in;
  in.target = target_.name();
  char config[256];
  std::snprintf(config, sizeof config, "%d rooms x (%d pub + %d sub), %s%s%s, ramp %.0f/s, %d media threads",
                options_.rooms, options_.publishers, options_.subscribers, options_.audio ? "audio " : "",
                options_.video ? (options_.simulcast ? "video(simulcast)" : "video") : "", "", options_.ramp,
                options_.threads);
  in.config = config;
  for (const auto& p : participants_) in.participants.push_back(p->info);
  for (const auto& t : threads_) in.threads.push_back(t.get());
  in.started = started_;
  in.media_stopped = media_stopped_;
  in.server = server_;
  in.steady = steady_;
  if (options_.video && options_.publishers > 0) {
    const client::PublisherConfig pc = make_publisher_config(0, 0, options_);
    const size_t layer = options_.layer >= 0 ? size_t(options_.layer) : pc.video.layers.size() - 1;
    in.expected_video_bps = double(pc.video.layers.at(std::min(layer, pc.video.layers.size() - 1)).target_bps);
  }
  in.self_cpu_seconds = self_cpu_at_stop_ - self_cpu_start_;
  in.self_busiest_thread_percent = busiest_thread_percent(
      thread_cpu_start_, thread_cpu_at_stop_, std::chrono::duration<double>(media_stopped_ - started_).count());
  in.machine_cores = int(std::max(1u, std::thread::hardware_concurrency()));
  // Media threads plus the control thread, on the cores taskset allows.
  in.cores_used = std::min<int>(options_.threads + 1, allowed_cores());
  in.udp_rcvbuf_drops = udp_drops_at_stop_ - std::min(udp_drops_at_stop_, udp_drops_start_);
  in.load_average = load_average();
  Report r = build_report(in);
  // Sessions close their sockets on destruction, on this thread.
  for (auto& p : participants_) p->session.reset();
  return r;
}

}  // namespace sfu::load
