#include "bench/load/report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "bench/client/latency_histogram.hpp"
#include "bench/load/media_thread.hpp"

namespace sfu::load {

namespace {

using server::media::MediaKind;

double seconds_between(Instant a, Instant b) { return std::chrono::duration<double>(b - a).count(); }
double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

Distribution distribution(std::vector<double> v) {
  Distribution d;
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  d.count = v.size();
  d.min = v.front();
  d.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  d.avg = sum / double(v.size());
  auto pct = [&](double q) { return v[std::min(v.size() - 1, size_t(q * double(v.size())))]; };
  d.p50 = pct(0.5);
  d.p99 = pct(0.99);
  return d;
}

// What one receiving PeerConnection got.
struct ReceiveSummary {
  int tracks_received = 0;
};

// `rate_ratios`: each video track's steady bitrate over the expected one
// (when the input has both a steady window and an expected rate).
ReceiveSummary summarize_receiver(const ReportInput& in, const PeerConnection& pc, Instant end, Report& r,
                                  client::LatencyHistogram& latency, std::vector<double>& jitters,
                                  std::vector<double>& rate_ratios) {
  ReceiveSummary s;
  const client::SimSubscriber* sub = pc.subscriber();
  if (!sub) return s;
  for (size_t i = 0; i < sub->stream_count(); ++i) {
    const uint32_t ssrc = sub->stream_ssrc(i);
    auto st = sub->stream_stats(ssrc, end);
    if (!st) continue;
    const TrackState state = track_state(*st);
    if (state == TrackState::received) ++s.tracks_received;
    if (state == TrackState::stalled) ++r.tracks_stalled;
    r.longest_silence_ms = std::max(r.longest_silence_ms, ms(st->longest_silence));
    if (st->kind == MediaKind::video && in.expected_video_bps > 0 && in.steady.seconds > 0 && st->first_media_at) {
      // From the steady window's start, or the track's first media if it
      // came later (a late track is not measured over seconds it did not
      // exist); a track with under kMinRateSeconds to measure is `late`.
      const Instant from = std::max(in.steady.start, *st->first_media_at);
      if (end - from < kMinRateSeconds + seconds(1)) {
        ++r.tracks_rate_unmeasured;
      } else {
        const double ratio = sub->stream_bps(ssrc, from, end) / in.expected_video_bps;
        rate_ratios.push_back(ratio);
        if (std::abs(ratio - 1) > kRateTolerance) ++r.tracks_off_rate;
      }
    }
    const uint64_t media = st->packets - std::min(st->packets, st->rtx_packets + st->duplicates);
    const uint64_t lost = uint64_t(std::max<int64_t>(0, st->lost));
    r.packets_lost += lost;
    r.packets_expected += media + lost;
    r.nacks_sent += st->nacks_sent;
    r.plis_sent += st->plis_sent;
    r.rtx_received += st->rtx_packets;
    if (!st->valid) ++r.invalid_streams;
    ++r.received_streams;
    if (sub->validator(ssrc)) ++r.validated_streams;
    if (const auto* v = sub->validator(ssrc); v && !v->ok()) {
      for (size_t k = 0; k < size_t(client::Violation::count_); ++k) {
        const auto kind = client::Violation(k);
        if (v->count(kind)) r.violations[std::string(client::to_string(kind))] += v->count(kind);
      }
      for (const auto& rec : v->recorded()) {
        if (r.violation_examples.size() >= 5) break;
        r.violation_examples.push_back("participant " + std::to_string(pc.participant()) + " ssrc " +
                                       std::to_string(ssrc) + " seq " + std::to_string(rec.seq) + ": " + rec.what);
      }
    }
    if (st->packets > 0) jitters.push_back(st->jitter_ms);
    if (const auto* h = sub->latency(ssrc)) latency.merge(*h);
  }
  return s;
}

}  // namespace

namespace {

// Sums over every PeerConnection of every media thread.
struct Totals {
  client::LatencyHistogram latency;
  std::vector<double> first_frame_ms, connected_ms, first_rtp_ms, kbps, jitters, rate_ratios;
  uint64_t dgrams_out = 0, dgrams_in = 0, bytes_out = 0, bytes_in = 0;
  std::map<int, int> received_by_participant;
};

void add_peer_connection(const ReportInput& in, const PeerConnection& pc, Instant end, Report& r, Totals& t) {
  ++r.transports_total;
  if (pc.connected_at()) ++r.transports_connected;
  const auto& sc = pc.socket_counters();
  t.dgrams_out += sc.datagrams_sent;
  t.dgrams_in += sc.datagrams_received;
  t.bytes_out += sc.bytes_sent;
  t.bytes_in += sc.bytes_received;
  r.send_errors += sc.send_errors;
  if (const auto* pub = pc.publisher()) {
    const auto tot = pub->totals();
    r.publisher_packets += tot.packets;
    r.retransmissions += tot.retransmissions;
  }
  if (pc.kind() != PcKind::receive) return;
  auto s = summarize_receiver(in, pc, end, r, t.latency, t.jitters, t.rate_ratios);
  t.received_by_participant[pc.participant()] += s.tracks_received;
  auto since_join = [&](Instant at) { return std::chrono::duration<double, std::milli>(at - pc.joined()).count(); };
  if (pc.first_frame_at()) t.first_frame_ms.push_back(since_join(*pc.first_frame_at()));
  if (pc.connected_at()) t.connected_ms.push_back(since_join(*pc.connected_at()));
  if (pc.first_rtp_at()) t.first_rtp_ms.push_back(since_join(*pc.first_rtp_at()));
  if (pc.first_rtp_at() && end > *pc.first_rtp_at()) {
    t.kbps.push_back(double(sc.bytes_received) * 8 / 1000 / seconds_between(*pc.first_rtp_at(), end));
  }
}

void add_participants(const ReportInput& in, Report& r) {
  r.participants = int(in.participants.size());
  std::map<int, std::set<std::string>> nodes_of_room;
  for (const auto& p : in.participants) {
    if (p.node.empty()) continue;
    ++r.nodes[p.node].peers;
    nodes_of_room[p.room].insert(p.node);
  }
  for (const auto& [room, nodes] : nodes_of_room) {
    for (const auto& n : nodes) ++r.nodes[n].rooms;
    if (nodes.size() > 1) ++r.split_rooms;
  }
  for (const auto& p : in.participants) {
    r.tracks_expected += uint64_t(p.expected_tracks);
    if (p.failure.empty()) continue;
    ++r.failed_participants;
    if (r.failures.size() < 10) r.failures.push_back("participant " + std::to_string(p.index) + ": " + p.failure);
  }
}

void add_media(const ReportInput& in, Report& r) {
  Totals t;
  for (const MediaThread* thread : in.threads) {
    for (const auto& pc : thread->peer_connections()) add_peer_connection(in, *pc, thread->media_stopped_at(), r, t);
  }
  int receivers = 0;
  for (const auto& p : in.participants) {
    if (p.expected_tracks == 0) continue;
    ++receivers;
    auto it = t.received_by_participant.find(p.index);
    const int got = it == t.received_by_participant.end() ? 0 : it->second;
    r.tracks_received += uint64_t(std::min(got, p.expected_tracks));
  }
  r.join_to_first_frame_ms = distribution(t.first_frame_ms);
  r.join_to_connected_ms = distribution(t.connected_ms);
  r.join_to_first_rtp_ms = distribution(t.first_rtp_ms);
  r.without_first_frame = std::max(0, receivers - int(t.first_frame_ms.size()));
  r.subscriber_kbps = distribution(t.kbps);
  r.expected_video_bps = in.expected_video_bps;
  r.video_rate_ratio = distribution(t.rate_ratios);
  r.loss_percent = r.packets_expected ? 100.0 * double(r.packets_lost) / double(r.packets_expected) : 0;
  if (!t.jitters.empty()) {
    const Distribution j = distribution(t.jitters);
    r.jitter_avg_ms = j.avg;
    r.jitter_max_ms = j.max;
  }
  r.latency_samples = t.latency.count();
  r.latency_p50_ms = double(t.latency.percentile(0.5)) / 1000;
  r.latency_p99_ms = double(t.latency.percentile(0.99)) / 1000;
  const double secs = std::max(1e-3, r.duration_s);
  r.server_packets_in_per_s = double(t.dgrams_out) / secs;
  r.server_packets_out_per_s = double(t.dgrams_in) / secs;
  r.server_mbps_in = double(t.bytes_out) * 8 / 1e6 / secs;
  r.server_mbps_out = double(t.bytes_in) * 8 / 1e6 / secs;
}

void add_steady(const ReportInput& in, Report& r) {
  const SteadyWindow& w = in.steady;
  if (w.seconds <= 0) return;
  r.steady_seconds = w.seconds;
  r.steady_packets_in_per_s = double(w.datagrams_to_server) / w.seconds;
  r.steady_packets_out_per_s = double(w.datagrams_from_server) / w.seconds;
  if (w.server_cpu_seconds >= 0) r.steady_server_cpu = 100.0 * w.server_cpu_seconds / w.seconds;
}

void add_machine(const ReportInput& in, Report& r) {
  r.server_pid = in.server.pid;
  if (!in.server.cpu_percent.empty()) {
    const Distribution c = distribution(in.server.cpu_percent);
    r.server_cpu_avg = c.avg;
    r.server_cpu_max = c.max;
  }
  r.server_rss_max_mb = double(in.server.rss_max_kb) / 1024;
  r.udp_rcvbuf_drops = in.udp_rcvbuf_drops;
  r.load_average = in.load_average;
  r.machine_cores = in.machine_cores;
  r.self_cores = std::max(1, in.cores_used);
  r.self_cpu_percent = 100.0 * in.self_cpu_seconds / std::max(1e-3, r.duration_s);
  r.self_busiest_thread_percent = in.self_busiest_thread_percent;
  for (const MediaThread* t : in.threads) {
    r.recv_messages += t->counters().recv_messages;
    r.recv_gro_messages += t->counters().recv_gro_messages;
    for (const auto& pc : t->peer_connections()) r.recv_datagrams += pc->socket_counters().datagrams_received;
  }
  r.void_run = r.self_cpu_percent > 70.0 * r.self_cores || r.self_busiest_thread_percent > 70.0;
}

}  // namespace

Report build_report(const ReportInput& in) {
  Report r;
  r.target = in.target;
  r.config = in.config;
  r.duration_s = seconds_between(in.started, in.media_stopped);
  add_participants(in, r);
  add_media(in, r);
  add_steady(in, r);
  add_machine(in, r);
  return r;
}

TrackState track_state(const client::SubscriberStreamStats& st) {
  const bool arrived = st.kind == MediaKind::video ? st.frames_completed > 0 : st.packets > 0;
  if (!arrived) return TrackState::missing;
  return st.longest_silence < kTrackLiveness ? TrackState::received : TrackState::stalled;
}

std::string check_failures(const Report& r) {
  std::string why;
  auto add = [&](const std::string& s) { why += (why.empty() ? "" : "; ") + s; };
  if (r.tracks_received < r.tracks_expected) {
    add("tracks received " + std::to_string(r.tracks_received) + " of " + std::to_string(r.tracks_expected) +
        (r.tracks_stalled ? " (" + std::to_string(r.tracks_stalled) + " stalled)" : ""));
  }
  if (r.packets_lost > 0) add("packets lost " + std::to_string(r.packets_lost));
  if (r.failed_participants > 0) add(std::to_string(r.failed_participants) + " participants failed");
  if (r.tracks_expected == 0) add("no track expected (nothing measured)");
  return why;
}

namespace {
nlohmann::json nodes_json(const Report& r) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [node, spread] : r.nodes) out[node] = nlohmann::json{{"rooms", spread.rooms}, {"peers", spread.peers}};
  return out;
}
}  // namespace

std::string format_table(const Report& r) {
  std::string out;
  char line[256];
  auto row = [&](const char* name, const std::string& value) {
    std::snprintf(line, sizeof line, "  %-28s %s\n", name, value.c_str());
    out += line;
  };
  auto fmt = [&](const char* f, auto... args) {
    char b[200];
    std::snprintf(b, sizeof b, f, args...);
    return std::string(b);
  };
  out += "sfu-load report (" + r.target + ")" + (r.void_run ? "  *** VOID: load generator CPU-bound ***" : "") + "\n";
  row("config", r.config);
  row("duration", fmt("%.1f s", r.duration_s));
  row("participants", fmt("%d (%d failed)", r.participants, r.failed_participants));
  for (const auto& f : r.failures) row("  failure", f);
  row("transports connected", fmt("%d / %d", r.transports_connected, r.transports_total));
  for (const auto& [node, spread] : r.nodes)
    row(("node " + node).c_str(), fmt("%d rooms, %d peers", spread.rooms, spread.peers));
  if (!r.nodes.empty()) row("rooms split over nodes", fmt("%d", r.split_rooms));
  if (r.tracks_stalled > 0) {
    row("tracks stalled", fmt("%llu silent >= %.0f ms (longest silence %.0f ms)", (unsigned long long)r.tracks_stalled,
                              ms(kTrackLiveness), r.longest_silence_ms));
  }
  if (r.video_rate_ratio.count > 0) {
    row("video rate vs layer", fmt("%.2f-%.2f x %.0f kbit/s (median %.2f), %llu of %zu tracks off by > %.0f %%",
                                   r.video_rate_ratio.min, r.video_rate_ratio.max, r.expected_video_bps / 1000,
                                   r.video_rate_ratio.p50, (unsigned long long)r.tracks_off_rate,
                                   r.video_rate_ratio.count, 100 * kRateTolerance));
  }
  if (r.tracks_rate_unmeasured > 0) {
    row("video rate unmeasured", fmt("%llu tracks started too late in the steady window",
                                     (unsigned long long)r.tracks_rate_unmeasured));
  }
  row("tracks received", fmt("%llu / %llu expected", (unsigned long long)r.tracks_received,
                             (unsigned long long)r.tracks_expected));
  row("join -> first frame", fmt("p50 %.0f ms  p99 %.0f ms  (%llu receivers, %d without)", r.join_to_first_frame_ms.p50,
                                 r.join_to_first_frame_ms.p99, (unsigned long long)r.join_to_first_frame_ms.count,
                                 r.without_first_frame));
  row("  join -> connected", fmt("p50 %.0f ms  p99 %.0f ms", r.join_to_connected_ms.p50, r.join_to_connected_ms.p99));
  row("  join -> first RTP", fmt("p50 %.0f ms  p99 %.0f ms", r.join_to_first_rtp_ms.p50, r.join_to_first_rtp_ms.p99));
  row("bitrate per receiver", fmt("min %.0f  avg %.0f  max %.0f kbit/s", r.subscriber_kbps.min, r.subscriber_kbps.avg,
                                  r.subscriber_kbps.max));
  row("loss", fmt("%.3f %%  (%llu of %llu packets, after NACK/RTX)", r.loss_percent,
                  (unsigned long long)r.packets_lost, (unsigned long long)r.packets_expected));
  row("jitter", fmt("avg %.2f ms  max %.2f ms", r.jitter_avg_ms, r.jitter_max_ms));
  row("one-way latency", fmt("p50 %.2f ms  p99 %.2f ms  (%llu samples)", r.latency_p50_ms, r.latency_p99_ms,
                             (unsigned long long)r.latency_samples));
  row("receiver feedback", fmt("%llu NACKed, %llu PLIs, %llu RTX received", (unsigned long long)r.nacks_sent,
                               (unsigned long long)r.plis_sent, (unsigned long long)r.rtx_received));
  std::string kinds;
  for (const auto& [kind, n] : r.violations) kinds += (kinds.empty() ? "" : ", ") + kind + " " + std::to_string(n);
  row("stream validator", fmt("%llu invalid streams of %llu checked (of %llu)%s%s", (unsigned long long)r.invalid_streams,
                              (unsigned long long)r.validated_streams, (unsigned long long)r.received_streams,
                              kinds.empty() ? "" : ": ", kinds.c_str()));
  for (const auto& e : r.violation_examples) row("  e.g.", e);
  row("server packets in", fmt("%.0f /s  (%.1f Mbit/s)", r.server_packets_in_per_s, r.server_mbps_in));
  row("server packets out", fmt("%.0f /s  (%.1f Mbit/s)", r.server_packets_out_per_s, r.server_mbps_out));
  if (r.steady_seconds > 0) {
    row("steady state", fmt("last %.1f s (after the ramp): in %.0f /s, out %.0f /s%s", r.steady_seconds,
                            r.steady_packets_in_per_s, r.steady_packets_out_per_s,
                            r.steady_server_cpu >= 0 ? fmt(", server CPU %.1f %%", r.steady_server_cpu).c_str() : ""));
  }
  if (r.server_pid) {
    row("server CPU", fmt("avg %.1f %%  max %.1f %% of one core (pid %d)", r.server_cpu_avg, r.server_cpu_max,
                          r.server_pid));
    row("server RSS", fmt("max %.1f MB", r.server_rss_max_mb));
  } else {
    row("server CPU / RSS", "not sampled (no --server-pid, none found)");
  }
  row("load generator CPU", fmt("%.1f %% of one core on %d cores, busiest thread %.1f %%%s", r.self_cpu_percent,
                                r.self_cores, r.self_busiest_thread_percent,
                                r.void_run ? "  -> VOID (over 70 %)" : ""));
  if (r.recv_messages)
    row("load generator receive", fmt("%llu datagrams in %llu messages (%.2f each; %llu UDP GRO runs)",
                                      (unsigned long long)r.recv_datagrams, (unsigned long long)r.recv_messages,
                                      double(r.recv_datagrams) / double(r.recv_messages),
                                      (unsigned long long)r.recv_gro_messages));
  row("machine", fmt("load average %.2f on %d cores, %llu UDP receive-buffer drops (kernel, all sockets)",
                     r.load_average, r.machine_cores, (unsigned long long)r.udp_rcvbuf_drops));
  if (r.send_errors) row("send errors", fmt("%llu datagrams refused by the kernel", (unsigned long long)r.send_errors));
  return out;
}

std::string to_json(const Report& r) {
  using Json = nlohmann::json;
  auto dist = [](const Distribution& d) {
    return Json{{"count", d.count}, {"min", d.min}, {"avg", d.avg}, {"max", d.max}, {"p50", d.p50}, {"p99", d.p99}};
  };
  Json j = {
      {"target", r.target},
      {"config", r.config},
      {"void", r.void_run},
      {"durationSeconds", r.duration_s},
      {"participants", r.participants},
      {"failedParticipants", r.failed_participants},
      {"failures", r.failures},
      {"transportsConnected", r.transports_connected},
      {"transportsTotal", r.transports_total},
      {"nodes", nodes_json(r)},
      {"splitRooms", r.split_rooms},
      {"tracksExpected", r.tracks_expected},
      {"tracksReceived", r.tracks_received},
      {"tracksStalled", r.tracks_stalled},
      {"expectedVideoBps", r.expected_video_bps},
      {"videoRateRatio", dist(r.video_rate_ratio)},
      {"tracksOffRate", r.tracks_off_rate},
      {"tracksRateUnmeasured", r.tracks_rate_unmeasured},
      {"longestSilenceMs", r.longest_silence_ms},
      {"joinToFirstFrameMs", dist(r.join_to_first_frame_ms)},
      {"joinToConnectedMs", dist(r.join_to_connected_ms)},
      {"joinToFirstRtpMs", dist(r.join_to_first_rtp_ms)},
      {"receiversWithoutFirstFrame", r.without_first_frame},
      {"subscriberKbps", dist(r.subscriber_kbps)},
      {"packetsLost", r.packets_lost},
      {"packetsExpected", r.packets_expected},
      {"lossPercent", r.loss_percent},
      {"jitterMs", {{"avg", r.jitter_avg_ms}, {"max", r.jitter_max_ms}}},
      {"latencyMs", {{"p50", r.latency_p50_ms}, {"p99", r.latency_p99_ms}, {"samples", r.latency_samples}}},
      {"nacksSent", r.nacks_sent},
      {"plisSent", r.plis_sent},
      {"rtxReceived", r.rtx_received},
      {"invalidStreams", r.invalid_streams},
      {"validatedStreams", r.validated_streams},
      {"receivedStreams", r.received_streams},
      {"violations", r.violations},
      {"violationExamples", r.violation_examples},
      {"publisherPackets", r.publisher_packets},
      {"retransmissions", r.retransmissions},
      {"sendErrors", r.send_errors},
      {"server",
       {{"pid", r.server_pid},
        {"packetsInPerSecond", r.server_packets_in_per_s},
        {"packetsOutPerSecond", r.server_packets_out_per_s},
        {"mbpsIn", r.server_mbps_in},
        {"mbpsOut", r.server_mbps_out},
        {"cpuPercentAvg", r.server_cpu_avg},
        {"cpuPercentMax", r.server_cpu_max},
        {"rssMaxMb", r.server_rss_max_mb}}},
      {"steady",
       {{"seconds", r.steady_seconds},
        {"packetsInPerSecond", r.steady_packets_in_per_s},
        {"packetsOutPerSecond", r.steady_packets_out_per_s},
        {"serverCpuPercent", r.steady_server_cpu}}},
      {"loadGenerator",
       {{"cpuPercent", r.self_cpu_percent},
        {"cores", r.self_cores},
        {"busiestThreadPercent", r.self_busiest_thread_percent},
        {"recvMessages", r.recv_messages},
        {"recvGroMessages", r.recv_gro_messages},
        {"recvDatagrams", r.recv_datagrams}}},
      {"machine", {{"loadAverage", r.load_average}, {"cores", r.machine_cores}, {"udpRcvbufDrops", r.udp_rcvbuf_drops}}},
  };
  return j.dump(2) + "\n";
}

}  // namespace sfu::load
