// GET /metrics (node_metrics.hpp).
#include "signaling/node_metrics.hpp"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "signaling/control_metrics.hpp"
#include "signaling/hub.hpp"

namespace sfu::signaling {

using server::Exposition;
using Type = Exposition::Type;

ControlMetrics& control_metrics() {
  static ControlMetrics metrics;
  return metrics;
}

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// process_* families, as Prometheus client libraries name them (from /proc).
void process_metrics(Exposition& x) {
  const double ticks = double(sysconf(_SC_CLK_TCK));
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after "(comm)": state is field 3; utime 14, stime 15, starttime 22.
  const auto close = line.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(line.substr(close + 2));
    std::string f[20];
    for (auto& s : f) rest >> s;
    const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
    x.family("process_cpu_seconds_total", Type::counter, "User and system CPU time of the whole process.");
    x.sample(cpu);
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    uptime_file >> uptime;
    const double started_ago = uptime - std::stod(f[19]) / ticks;
    x.family("process_start_time_seconds", Type::gauge, "Start time of the process, seconds since the Unix epoch.");
    x.sample(double(::time(nullptr)) - started_ago);
  }
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  x.family("process_resident_memory_bytes", Type::gauge, "Resident set size of the process.");
  x.sample(resident_pages * uint64_t(sysconf(_SC_PAGESIZE)));
  uint64_t fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++fds;
    closedir(d);
  }
  x.family("process_open_fds", Type::gauge, "Open file descriptors (sockets included).");
  x.sample(fds > 0 ? fds - 1 : 0);  // minus the directory being read
}

using Workers = std::vector<server::MediaController::WorkerMetrics>;

// One counter or gauge family with a sample per worker.
template <class Get>
void per_worker(Exposition& x, const Workers& w, std::string_view name, Type type, std::string_view help, Get get) {
  x.family(name, type, help);
  for (size_t i = 0; i < w.size(); ++i) x.sample({{"worker", std::to_string(i)}}, get(w[i]));
}

void worker_metrics(Exposition& x, const Workers& w) {
  using server::DropReason;
  using server::TransportState;
  per_worker(x, w, "sfu_worker_cpu_seconds_total", Type::counter, "CPU time used by the worker thread.",
             [](const auto& m) { return m.cpu_seconds; });
  per_worker(x, w, "sfu_worker_loop_iterations_total", Type::counter, "Event-loop iterations of the worker.",
             [](const auto& m) { return m.loop.loop.loop_iterations; });
  per_worker(x, w, "sfu_udp_datagrams_received_total", Type::counter, "UDP datagrams received by the worker socket.",
             [](const auto& m) { return m.loop.udp.datagrams_received; });
  per_worker(x, w, "sfu_udp_datagrams_sent_total", Type::counter, "UDP datagrams sent by the worker socket.",
             [](const auto& m) { return m.loop.udp.datagrams_sent; });
  per_worker(x, w, "sfu_udp_bytes_received_total", Type::counter, "UDP payload bytes received.",
             [](const auto& m) { return m.loop.udp.bytes_received; });
  per_worker(x, w, "sfu_udp_bytes_sent_total", Type::counter, "UDP payload bytes sent.",
             [](const auto& m) { return m.loop.udp.bytes_sent; });
  per_worker(x, w, "sfu_udp_send_calls_total", Type::counter, "sendmmsg calls (batches) of the worker socket.",
             [](const auto& m) { return m.loop.udp.send_calls; });
  per_worker(x, w, "sfu_udp_gso_messages_total", Type::counter,
             "UDP GSO messages (several datagrams to one destination in one send).",
             [](const auto& m) { return m.loop.udp.gso_messages; });
  per_worker(x, w, "sfu_udp_gso_datagrams_total", Type::counter, "UDP datagrams sent inside GSO messages.",
             [](const auto& m) { return m.loop.udp.gso_datagrams; });
  per_worker(x, w, "sfu_udp_gso_refused_total", Type::counter,
             "GSO messages the kernel refused, then sent datagram by datagram.",
             [](const auto& m) { return m.loop.udp.gso_refused; });
  per_worker(x, w, "sfu_tcp_frames_received_total", Type::counter, "ICE-TCP frames received (RFC 4571).",
             [](const auto& m) { return m.loop.loop.tcp_frames_in; });
  per_worker(x, w, "sfu_tcp_frames_sent_total", Type::counter, "ICE-TCP frames sent.",
             [](const auto& m) { return m.loop.loop.tcp_frames_out; });
  per_worker(x, w, "sfu_tcp_connections_accepted_total", Type::counter, "ICE-TCP connections accepted.",
             [](const auto& m) { return m.loop.loop.tcp_accepted; });

  x.family("sfu_packets_received_total", Type::counter,
           "Packets accepted by transports, by kind (RTP and RTCP after SRTP authentication).");
  for (size_t i = 0; i < w.size(); ++i) {
    const auto& t = w[i].media.transports;
    const std::string n = std::to_string(i);
    x.sample({{"worker", n}, {"kind", "stun"}}, t.stun_in);
    x.sample({{"worker", n}, {"kind", "dtls"}}, t.dtls_in);
    x.sample({{"worker", n}, {"kind", "rtp"}}, t.rtp_in);
    x.sample({{"worker", n}, {"kind", "rtcp"}}, t.rtcp_in);
  }
  x.family("sfu_packets_sent_total", Type::counter, "SRTP and SRTCP packets sent by transports, by kind.");
  for (size_t i = 0; i < w.size(); ++i) {
    const auto& t = w[i].media.transports;
    const std::string n = std::to_string(i);
    x.sample({{"worker", n}, {"kind", "rtp"}}, t.rtp_out);
    x.sample({{"worker", n}, {"kind", "rtcp"}}, t.rtcp_out);
  }
  per_worker(x, w, "sfu_bytes_received_total", Type::counter, "Bytes of every datagram and TCP frame given to transports.",
             [](const auto& m) { return m.media.transports.bytes_in; });
  per_worker(x, w, "sfu_bytes_sent_total", Type::counter, "Bytes of every packet transports sent (after SRTP).",
             [](const auto& m) { return m.media.transports.bytes_out; });
  x.family("sfu_packets_dropped_total", Type::counter,
           "Incoming packets dropped, by reason (the transports' drop reasons, then the worker's and routers').");
  for (size_t i = 0; i < w.size(); ++i) {
    const auto& m = w[i].media;
    const std::string n = std::to_string(i);
    for (size_t r = 0; r < size_t(DropReason::count_); ++r) {
      uint64_t v = m.transports.dropped[r];
      if (DropReason(r) == DropReason::malformed) v += m.host.malformed;
      if (DropReason(r) == DropReason::unknown_path) v += m.host.unknown_path;
      x.sample({{"worker", n}, {"reason", server::to_string(DropReason(r))}}, v);
    }
    x.sample({{"worker", n}, {"reason", "unknown_ufrag"}}, m.host.unknown_ufrag);
    x.sample({{"worker", n}, {"reason", "rtp_malformed"}}, m.routers.malformed);
    x.sample({{"worker", n}, {"reason", "unknown_ssrc"}}, m.routers.unknown_ssrc);
    x.sample({{"worker", n}, {"reason", "truncated"}}, w[i].loop.udp.truncated);
    x.sample({{"worker", n}, {"reason", "tcp_empty_frame"}}, w[i].loop.loop.tcp_empty_frames);
  }
  x.family("sfu_send_failures_total", Type::counter, "Outgoing packets not sent, by reason.");
  for (size_t i = 0; i < w.size(); ++i) {
    const auto& m = w[i].media;
    const std::string n = std::to_string(i);
    x.sample({{"worker", n}, {"reason", "protect"}}, m.transports.protect_failures);
    x.sample({{"worker", n}, {"reason", "socket"}}, w[i].loop.udp.send_dropped + w[i].loop.udp.unsendable);
    x.sample({{"worker", n}, {"reason", "tcp_backlog"}}, w[i].loop.loop.tcp_backlog_drops);
  }
  per_worker(x, w, "sfu_rtp_packets_forwarded_total", Type::counter,
             "Media packets forwarded to subscribers (first transmissions; RTX and padding are counted apart).",
             [](const auto& m) { return m.media.routers.media_forwarded; });
  per_worker(x, w, "sfu_rtx_packets_sent_total", Type::counter, "Retransmissions sent to subscribers (RFC 4588).",
             [](const auto& m) { return m.media.routers.rtx_sent; });
  per_worker(x, w, "sfu_padding_packets_sent_total", Type::counter, "Padding-only probe packets sent (bandwidth probing).",
             [](const auto& m) { return m.media.routers.padding_sent; });
  per_worker(x, w, "sfu_rtp_packets_lost_total", Type::counter,
             "RTP packets lost between publishers and this node (receive statistics, RFC 3550 A.3).",
             [](const auto& m) { return m.media.rtp_lost; });
  per_worker(x, w, "sfu_nacks_received_total", Type::counter, "Generic NACK messages received from subscribers.",
             [](const auto& m) { return m.media.routers.nacks_received; });
  per_worker(x, w, "sfu_nacks_sent_total", Type::counter, "Generic NACK messages sent to publishers.",
             [](const auto& m) { return m.media.routers.nacks_sent_upstream; });
  x.family("sfu_keyframe_requests_received_total", Type::counter, "PLI and FIR received from subscribers.");
  for (size_t i = 0; i < w.size(); ++i) {
    const std::string n = std::to_string(i);
    x.sample({{"worker", n}, {"type", "pli"}}, w[i].media.routers.plis_received);
    x.sample({{"worker", n}, {"type", "fir"}}, w[i].media.routers.firs_received);
  }
  per_worker(x, w, "sfu_keyframe_requests_sent_total", Type::counter,
             "Keyframe requests sent to publishers (PLI; subscribers' FIRs are answered with a PLI upstream).",
             [](const auto& m) { return m.media.routers.plis_sent_upstream; });
  per_worker(x, w, "sfu_layer_switches_total", Type::counter,
             "Simulcast/temporal layer changes of consumers (each consumer's first selection included).",
             [](const auto& m) { return m.media.routers.layer_changes; });

  per_worker(x, w, "sfu_routers", Type::gauge, "Rooms with a router on the worker.",
             [](const auto& m) { return m.media.counts.routers; });
  x.family("sfu_transports", Type::gauge, "Transports on the worker, by state.");
  for (size_t i = 0; i < w.size(); ++i)
    for (size_t s = 0; s < server::kTransportStateCount; ++s)
      x.sample({{"worker", std::to_string(i)}, {"state", server::to_string(TransportState(s))}},
               w[i].media.transports_by_state[s]);
  per_worker(x, w, "sfu_producers", Type::gauge, "Media producers (published tracks).",
             [](const auto& m) { return m.media.counts.producers; });
  per_worker(x, w, "sfu_consumers", Type::gauge, "Media consumers (forwarded tracks).",
             [](const auto& m) { return m.media.counts.consumers; });
  per_worker(x, w, "sfu_data_producers", Type::gauge, "Data channels opened by publishers.",
             [](const auto& m) { return m.media.counts.data_producers; });
  per_worker(x, w, "sfu_data_consumers", Type::gauge, "Data channels relayed to subscribers.",
             [](const auto& m) { return m.media.counts.data_consumers; });
  // Bytes, not bits: Prometheus' base unit (promtool's lint insists).
  x.family("sfu_bwe_estimate_bytes_per_second", Type::histogram,
           "Send-side bandwidth estimate of every subscriber transport (bytes/s), sampled once a second.");
  for (size_t i = 0; i < w.size(); ++i) x.histogram({{"worker", std::to_string(i)}}, w[i].media.bwe, 8.0);
}

void control_metrics_text(Exposition& x, Hub& hub, const HttpCounters& http) {
  const ControlMetrics& c = control_metrics();
  x.family("sfu_rooms", Type::gauge, "Rooms open on this node.");
  x.sample(uint64_t(hub.rooms().room_count()));
  x.family("sfu_peers", Type::gauge, "Joined peers on this node.");
  x.sample(uint64_t(hub.rooms().peer_count()));
  x.family("sfu_signaling_sessions", Type::gauge, "Open signaling WebSockets (joined or not).");
  x.sample(uint64_t(hub.open_sessions()));
  x.family("sfu_signaling_sessions_opened_total", Type::counter, "Signaling WebSockets accepted.");
  x.sample(c.sessions_opened);
  x.family("sfu_joins_total", Type::counter, "Successful joins.");
  x.sample(c.joins);
  x.family("sfu_rpc_requests_total", Type::counter, "JSON-RPC requests handled (rate-limited ones excluded).");
  x.sample(c.rpc_requests);
  x.family("sfu_rpc_errors_total", Type::counter, "JSON-RPC error responses sent, by error code.");
  for (const auto& [code, n] : c.rpc_errors) x.sample({{"code", std::to_string(code)}}, n);
  x.family("sfu_join_latency_seconds", Type::histogram,
           "From a join request to the peer's first transport connected, and to the first media packet forwarded to it.");
  x.histogram({{"stage", "transport_connected"}}, c.join_to_connected, 1e6);
  x.histogram({{"stage", "first_packet_forwarded"}}, c.join_to_first_media, 1e6);
  x.family("sfu_http_requests_total", Type::counter, "HTTP requests served (WebSocket upgrades excluded).");
  x.sample(http.requests);
  x.family("sfu_admin_requests_total", Type::counter, "Admin API requests (any outcome).");
  x.sample(c.admin_requests);
  x.family("sfu_media_stale_commands_total", Type::counter,
           "Control commands dropped because their room had closed meanwhile.");
  x.sample(hub.rooms().media().stale_commands());
  x.family("sfu_draining", Type::gauge, "1 while the node drains (no new joins).");
  x.sample(uint64_t(hub.rooms().draining() ? 1 : 0));
  x.family("sfu_metrics_scrape_cpu_seconds", Type::gauge, "Control-thread CPU time the previous scrape took.");
  x.sample(c.last_scrape_cpu_seconds);
}

}  // namespace

std::string render_metrics(Hub& hub, const NodeIdentity& node, const HttpCounters& http,
                           const std::function<void(server::Exposition&)>& extra) {
  const double cpu_before = thread_cpu_seconds();
  auto& media = hub.rooms().media();
  Workers workers;
  workers.reserve(media.worker_count());
  for (size_t i = 0; i < media.worker_count(); ++i) workers.push_back(media.worker_metrics(i));

  Exposition x;
  x.family("sfu_node_info", Type::gauge, "Constant 1; labels name the node and its version.");
  x.sample({{"node", node.id}, {"version", node.version}}, uint64_t(1));
  control_metrics_text(x, hub, http);
  worker_metrics(x, workers);
  if (extra) extra(x);
  process_metrics(x);
  control_metrics().last_scrape_cpu_seconds = thread_cpu_seconds() - cpu_before;
  return x.take();
}

}  // namespace sfu::signaling
