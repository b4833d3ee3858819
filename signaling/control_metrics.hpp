// The control thread's own numbers for GET /metrics: JSON-RPC traffic and
// errors, joins and how long they take. Control thread only; one per
// process (every Hub and session of the process counts into it), read at
// scrape by render_metrics (node_metrics.cpp).
#pragma once

#include <cstdint>
#include <map>

#include "server/metrics.hpp"

namespace sfu::signaling {

struct ControlMetrics {
  uint64_t sessions_opened = 0;
  uint64_t rpc_requests = 0;
  std::map<int, uint64_t> rpc_errors;  // by JSON-RPC error code, every error frame sent
  uint64_t joins = 0;                  // successful joins
  // From the join request to the peer's first transport connected (ICE and
  // DTLS done), and to the first media packet forwarded to it.
  server::Histogram join_to_connected{server::kLatencyBoundsMicros};
  server::Histogram join_to_first_media{server::kLatencyBoundsMicros};
  uint64_t admin_requests = 0;
  double last_scrape_cpu_seconds = 0;  // control-thread CPU the previous scrape took
};

ControlMetrics& control_metrics();

}  // namespace sfu::signaling
