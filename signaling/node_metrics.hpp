// GET /metrics: the node in the Prometheus text exposition format 0.0.4
// (server/metrics.hpp has the writer and how worker numbers get here).
// Every family and label is listed in signaling/ADMIN.md "Metrics".
#pragma once

#include <functional>
#include <string>

#include "server/metrics.hpp"

#include "signaling/http_server.hpp"

namespace sfu::signaling {

class Hub;

struct NodeIdentity {
  std::string id;       // the node's name (hostname unless configured)
  std::string version;  // the sfu version
};

// Renders every metric of the node. Control thread only. Cost: a few
// hundred relaxed loads per worker plus the text; independent of how many
// peers and streams the node carries (workers sum those once a second).
// `extra`, when set, adds families (cluster mode's Redis and registry).
std::string render_metrics(Hub& hub, const NodeIdentity& node, const HttpCounters& http,
                           const std::function<void(server::Exposition&)>& extra = {});

}  // namespace sfu::signaling
