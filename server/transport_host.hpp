// The transports of one worker and the routing of its datagrams to them:
// STUN by the local ufrag in USERNAME (RFC 8445 §7.2.2), everything else by
// the 5-tuple (a hash map from path to transport, filled as ICE validates
// paths). Owns the timer heap that drives every transport's poll_timeout().
// Worker thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "ice/path.hpp"
#include "server/packet_output.hpp"
#include "server/transport.hpp"
#include "server/worker_metrics.hpp"

namespace sfu::server {

class TransportHost;

// What TransportHost::on_datagram did with one datagram: which transport
// took it and the media it decrypted, if any. Hand the media to its router,
// then give the delivery back to settle().
class Delivery {
 public:
  TransportId transport = 0;  // 0: no transport took it (dropped and counted)
  ReceivedMedia media;        // decrypted RTP (parsed) or RTCP; kind none otherwise

 private:
  friend class TransportHost;
  void* entry_ = nullptr;  // the host's entry, so settle() needs no second lookup
};

// An event of one transport (TransportHost::poll_event). `event.data` is
// valid until the next poll_event().
struct HostEvent {
  TransportId transport = 0;
  Instant now{};  // the time of the call that produced it
  TransportEvent event;
};

// Nothing here calls up: each call returns what happened (a Delivery), and
// the transports' events wait in poll_event() for whoever drives the host
// (WorkerMedia, which routes both to the rooms' routers).
class TransportHost {
 public:
  TransportHost() = default;

  // Adds a transport (already given its remote parameters) and starts it.
  // Returns its id. The events of its start go nowhere (nothing is bound to
  // it yet). `out` sends what start() queues.
  TransportId add(PacketOutput& out, Instant now, std::unique_ptr<Transport> transport);
  // Closes (close_notify) and forgets a transport and its paths.
  void remove(PacketOutput& out, TransportId id);
  Transport* find(TransportId id);
  // After a call made on the transport from outside (set_remote_parameters,
  // restart_ice): send what it queued, re-arm its timer, and queue its
  // events for poll_event().
  void flush(PacketOutput& out, TransportId id);
  // Sends only what the transport queued (e.g. after send_application_data),
  // without its events: safe from inside an event handler.
  void send_queued(PacketOutput& out, TransportId id);
  // After Transport::restart_ice: index the transport under its new ufrag.
  void reindex_ufrag(TransportId id, const std::string& old_ufrag);

  // One datagram, classified once (RFC 7983): STUN to the transport of its
  // USERNAME's ufrag, the rest to the transport of its 5-tuple, which
  // handles it (Transport::handle_classified). Hand the media on, then
  // settle() the delivery (always, when it names a transport).
  Delivery on_datagram(PacketOutput& out, Instant now, const ice::Path& from, MutBytes data);
  // Sends what the delivery's transport queued, re-arms its timer and queues
  // its events for poll_event().
  void settle(PacketOutput& out, Delivery& delivery);
  // Timers due by `now`, and a closed ICE-TCP connection; events go to
  // poll_event().
  void on_timeout(PacketOutput& out, Instant now);
  void on_tcp_closed(PacketOutput& out, uint32_t connection);
  std::optional<Instant> poll_timeout() const;
  // The next event of a transport settled since the last call that returned
  // nullopt. A handler may call back into the host (send_queued, remove).
  std::optional<HostEvent> poll_event();

  const HostCounters& counters() const { return counters_; }
  size_t size() const { return transports_.size(); }
  // For /metrics: adds every transport's counters, those removed since start
  // included (so the sums never go back), and counts live ones by state.
  void add_transport_totals(TransportCounters& totals, std::span<uint64_t, kTransportStateCount> by_state) const;

 private:
  Instant last_now_{};
  struct Entry {
    std::unique_ptr<Transport> transport;
    std::vector<ice::Path> paths;       // indexed in by_path_
    std::optional<Instant> armed;     // deadline currently in the heap
    bool events_queued = false;       // in with_events_
  };
  struct Timer {
    Instant at;
    TransportId id;
    bool operator>(const Timer& o) const { return at > o.at; }
  };

  void settle(PacketOutput& out, TransportId id, Entry& e);
  void arm(TransportId id, Entry& e);
  void index_path(TransportId id, Entry& e, const ice::Path& path);

  TransportId next_id_ = 1;
  std::unordered_map<TransportId, Entry> transports_;
  std::unordered_map<std::string, TransportId> by_ufrag_;
  std::unordered_map<ice::Path, TransportId, ice::PathHash> by_path_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  std::deque<TransportId> with_events_;  // settled, events not yet polled
  HostCounters counters_;
  TransportCounters retired_;  // sums of the transports removed
};

}  // namespace sfu::server
