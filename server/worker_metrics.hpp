// The counters a worker publishes for /metrics (metrics.hpp), in one header
// with nothing behind it but plain structs: signaling/ reads them through
// MediaController::worker_metrics() without seeing the workers or libuv.
#pragma once

#include <array>
#include <cstdint>

#include "server/ids.hpp"
#include "server/metrics.hpp"
#include "server/stats.hpp"
#include "server/transport.hpp"
#include "server/udp_socket.hpp"

namespace sfu::server {

struct WorkerCounters {
  uint64_t tcp_accepted = 0;
  uint64_t tcp_refused = 0;
  uint64_t tcp_closed = 0;
  uint64_t tcp_frames_in = 0;
  uint64_t tcp_frames_out = 0;
  uint64_t tcp_empty_frames = 0;    // zero-length frames: dropped
  uint64_t tcp_backlog_drops = 0;   // frames dropped because the peer reads too slowly
  uint64_t tasks = 0;
  uint64_t loop_iterations = 0;
  template <class F>
  void for_each_field(F&& f) {
    f(tcp_accepted), f(tcp_refused), f(tcp_closed), f(tcp_frames_in), f(tcp_frames_out), f(tcp_empty_frames);
    f(tcp_backlog_drops), f(tasks), f(loop_iterations);
  }
};

// The worker loop's own counters as /metrics reads them (metrics.hpp).
struct LoopSample {
  UdpCounters udp;
  WorkerCounters loop;
  template <class F>
  void for_each_field(F&& f) {
    udp.for_each_field(f);
    loop.for_each_field(f);
  }
};

struct HostCounters {
  uint64_t unknown_ufrag = 0;  // STUN for no transport here
  uint64_t unknown_path = 0;   // non-STUN from a path no transport has validated
  uint64_t malformed = 0;      // unparsable STUN, unknown first byte
  uint64_t media_in = 0;       // decrypted RTP/RTCP handed to the listener
  uint64_t send_failures = 0;  // protect failed or no selected path
  template <class F>
  void for_each_field(F&& f) {
    f(unknown_ufrag), f(unknown_path), f(malformed), f(media_in), f(send_failures);
  }
};

struct RouterCounters {
  uint64_t rtp_in = 0, rtcp_in = 0, rtp_forwarded = 0, rtx_sent = 0, rtcp_sent = 0;
  uint64_t malformed = 0, unknown_ssrc = 0, padding_probes_in = 0, send_failures = 0;
  uint64_t nacks_sent_upstream = 0, plis_sent_upstream = 0;
  uint64_t padding_sent = 0;  // padding-only RTX packets (probes with no media to resend)
  uint64_t media_forwarded = 0;  // first transmissions of media (rtp_forwarded less RTX and padding)
  // RTCP feedback from subscribers, and the consumers' layer changes
  // (ConsumerLayersEvent, the first selection included).
  uint64_t nacks_received = 0, plis_received = 0, firs_received = 0, layer_changes = 0;
  uint64_t rtp_lost_closed = 0;  // upstream RTP lost, summed over the producers already closed

  RouterCounters& operator+=(const RouterCounters& o);
  template <class F>
  void for_each_field(F&& f) {
    f(rtp_in), f(rtcp_in), f(rtp_forwarded), f(rtx_sent), f(rtcp_sent), f(malformed), f(unknown_ssrc);
    f(padding_probes_in), f(send_failures), f(nacks_sent_upstream), f(plis_sent_upstream), f(padding_sent);
    f(nacks_received), f(plis_received), f(firs_received), f(layer_changes), f(rtp_lost_closed), f(media_forwarded);
  }
};

// What one worker's media side publishes for /metrics once a second
// (metrics.hpp): counters summed over live and retired objects, so they
// never go back, and gauges of what lives now.
struct MediaSample {
  HostCounters host;
  TransportCounters transports;
  std::array<uint64_t, kTransportStateCount> transports_by_state{};
  RouterCounters routers;
  uint64_t rtp_lost = 0;  // upstream, over every producer since start
  MediaCounts counts;
  Histogram bwe{kBitrateBoundsBps};  // every subscriber transport's estimate, sampled each second
  template <class F>
  void for_each_field(F&& f) {
    host.for_each_field(f);
    transports.for_each_field(f);
    for (auto& n : transports_by_state) f(n);
    routers.for_each_field(f);
    f(rtp_lost);
    counts.for_each_field(f);
    bwe.for_each_field(f);
  }
};

}  // namespace sfu::server
