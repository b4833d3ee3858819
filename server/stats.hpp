// Snapshots for getStats (PROTOCOL.md): transports, producers per layer,
// consumers. Plain values, copied from the worker to the control thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ice/path.hpp"
#include "server/room_api.hpp"
#include "server/transport.hpp"

namespace sfu::server {

// What lives on a worker (or on all of them): the gauges behind /stats and
// the churn soak's leak check.
struct MediaCounts {
  uint64_t routers = 0, transports = 0, producers = 0, consumers = 0, data_producers = 0, data_consumers = 0;
  template <class F>
  void for_each_field(F&& f) {
    f(routers), f(transports), f(producers), f(consumers), f(data_producers), f(data_consumers);
  }
  MediaCounts& operator+=(const MediaCounts& o) {
    routers += o.routers, transports += o.transports, producers += o.producers, consumers += o.consumers;
    data_producers += o.data_producers, data_consumers += o.data_consumers;
    return *this;
  }
};

// Snapshot of one transport and its streams for getStats.
struct TransportStats {
  TransportId id = 0;
  TransportState state = TransportState::new_;
  std::optional<ice::Path> selected_path;
  TransportCounters counters;
  uint64_t available_outgoing_bitrate = 0;  // subscriber transports
  Duration rtt{};
  // The estimate's parts (subscriber transports with transport-cc): why the
  // estimate is what it is, when a subscriber's video is paused.
  struct Bwe {
    uint64_t delay_based_bps = 0, loss_based_bps = 0, acked_bps = 0;
    const char* usage = "normal";  // the delay detector's last signal
    uint64_t last_probe_bps = 0;   // 0: no probe result yet
    bool last_probe_saturated = false;
    Duration last_probe_age{};
  };
  std::optional<Bwe> bwe;
  // Data channels, when the transport negotiated them.
  std::optional<sctp::AssociationCounters> sctp;
  bool sctp_connected = false;
  size_t sctp_buffered = 0;  // bytes sent but not yet acknowledged
};
struct ProducerLayerStats {
  std::string rid;
  uint32_t ssrc = 0;
  uint64_t packets = 0, bytes = 0, bitrate_bps = 0;
  int64_t lost = 0;
  double jitter_ms = 0;
  uint64_t nacks_sent = 0, plis_sent = 0;
};
struct ProducerStats {
  ProducerId id = 0;
  std::vector<ProducerLayerStats> layers;
};
struct ConsumerStatsSnapshot {
  ConsumerId id = 0;
  int current_spatial = -1, current_temporal = -1, target_spatial = -1, target_temporal = -1;
  uint64_t packets = 0, octets = 0, retransmissions = 0, nacks = 0, plis = 0, firs = 0;
  uint8_t fraction_lost = 0;
  Duration rtt{};
};
struct PeerStats {
  std::vector<TransportStats> transports;
  std::vector<ProducerStats> producers;
  std::vector<ConsumerStatsSnapshot> consumers;
};

}  // namespace sfu::server
