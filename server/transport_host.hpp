// The transports of one worker and the routing of its datagrams to them:
// STUN by the local ufrag in USERNAME (RFC 8445 §7.2.2), everything else by
// the 5-tuple (a hash map from path to transport, filled as ICE validates
// paths). Owns the timer heap that drives every transport's poll_timeout().
// Worker thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/transport.hpp"
#include "server/worker.hpp"
#include "server/worker_metrics.hpp"

namespace sfu::server {

class TransportHost : public WorkerHandler {
 public:
  // Told about decrypted media and transport events. Called on the worker
  // thread from inside on_datagram / on_timeout; it may call back into the
  // host (send_rtp, remove) but must not keep `packet` beyond the call.
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_media(TransportId id, Instant now, ReceivedMedia& media) = 0;
    // `now` is the time of the call that produced the event.
    virtual void on_transport_event(TransportId id, Instant now, const TransportEvent& event) = 0;
  };

  TransportHost() = default;
  void set_listener(Listener* listener) { listener_ = listener; }

  // Adds a transport (already given its remote parameters) and starts it.
  // Returns its id. The worker pointer is needed to send what start() queues.
  TransportId add(PacketOutput& worker, Instant now, std::unique_ptr<Transport> transport);
  // Closes (close_notify) and forgets a transport and its paths.
  void remove(PacketOutput& worker, TransportId id);
  Transport* find(TransportId id);
  // After a call made on the transport from outside (set_remote_parameters,
  // restart_ice): send what it queued and re-arm its timer.
  void flush(PacketOutput& out, TransportId id);
  // Sends only what the transport queued (e.g. after send_application_data),
  // without delivering its events: safe from inside an event handler.
  void send_queued(PacketOutput& out, TransportId id);
  // After Transport::restart_ice: index the transport under its new ufrag.
  void reindex_ufrag(TransportId id, const std::string& old_ufrag);

  // Protects buffer[0, length) in place for transport `id` and queues it on
  // the transport's selected path. Zero-copy for UDP. False (and counted)
  // when the transport is missing, not connected, or has no path.
  bool send_rtp(PacketOutput& worker, TransportId id, MutBytes buffer, size_t length, bool rtcp = false);

  // WorkerHandler
  void on_datagram(Worker& worker, Instant now, const NetPath& from, MutBytes data) override {
    on_datagram(static_cast<PacketOutput&>(worker), now, from, data);
  }
  void on_timeout(Worker& worker, Instant now) override { on_timeout(static_cast<PacketOutput&>(worker), now); }
  std::optional<Instant> poll_timeout() const override;
  void on_tcp_closed(Worker& worker, uint32_t connection) override {
    on_tcp_closed(static_cast<PacketOutput&>(worker), connection);
  }
  // The same, for any output (a simulated network in tests).
  void on_datagram(PacketOutput& out, Instant now, const NetPath& from, MutBytes data);
  void on_timeout(PacketOutput& out, Instant now);
  void on_tcp_closed(PacketOutput& out, uint32_t connection);

  const HostCounters& counters() const { return counters_; }
  size_t size() const { return transports_.size(); }
  // For /metrics: adds every transport's counters, those removed since start
  // included (so the sums never go back), and counts live ones by state.
  void add_transport_totals(TransportCounters& totals, std::span<uint64_t, kTransportStateCount> by_state) const;

 private:
  Instant last_now_{};
  struct Entry {
    std::unique_ptr<Transport> transport;
    std::vector<NetPath> paths;       // indexed in by_path_
    std::optional<Instant> armed;     // deadline currently in the heap
  };
  struct Timer {
    Instant at;
    TransportId id;
    bool operator>(const Timer& o) const { return at > o.at; }
  };

  void after_call(PacketOutput& worker, TransportId id, Entry& e);
  void index_path(TransportId id, Entry& e, const NetPath& path);

  Listener* listener_ = nullptr;
  TransportId next_id_ = 1;
  std::unordered_map<TransportId, Entry> transports_;
  std::unordered_map<std::string, TransportId> by_ufrag_;
  std::unordered_map<NetPath, TransportId, NetPathHash> by_path_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  HostCounters counters_;
  TransportCounters retired_;  // sums of the transports removed
};

}  // namespace sfu::server
