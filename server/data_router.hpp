// A room's data-channel relay on its worker (PROTOCOL.md "Data channels").
// Each transport whose SDP negotiated m=application gets one SCTP
// association (sctp::Association) once the transport is connected. A channel
// a peer opens on its publisher connection is a data producer; each data
// consumer is a channel the server opens on a subscriber's association with
// the producer's label, ordering and reliability. Messages are relayed
// unchanged (kind and bytes).
//
// Backpressure, bounded:
// - unreliable producers: a consumer whose association cannot take a message
//   drops it (counted);
// - reliable producers: the message waits in the consumer's queue, the
//   publisher's association stops being read (its receive window closes, so
//   the browser's bufferedAmount grows), and reading resumes when every
//   consumer of that publisher has drained. What waits is bounded by what
//   was already read (one receive buffer) plus one message per consumer;
//   kMaxQueuedBytes caps it anyway, and a consumer that makes no progress
//   for kStallTimeout is closed so one dead receiver cannot stall a room.
//
// Worker thread only, like the Router that owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/time.hpp"
#include "sctp/association.hpp"
#include "server/packet_output.hpp"
#include "server/room_api.hpp"
#include "server/transport_host.hpp"

namespace sfu::server {

struct DataRouterCounters {
  uint64_t messages_in = 0;         // from data producers
  uint64_t messages_relayed = 0;    // handed to a consumer's association
  uint64_t bytes_relayed = 0;
  uint64_t dropped_unreliable = 0;  // unreliable consumer's buffer full, or channel not open
  uint64_t dropped_too_large = 0;   // over the consumer's max-message-size
  uint64_t dropped_overflow = 0;    // reliable queue over kMaxQueuedBytes (should not happen)
  uint64_t dropped_no_channel = 0;  // consumer channel or association gone
  uint64_t queued = 0;              // reliable messages that had to wait
  uint64_t reading_paused = 0;      // times a publisher association stopped being read
  uint64_t stalled_consumers = 0;   // closed after kStallTimeout without progress
  uint64_t refused_channels = 0;    // channels a peer may not open (subscriber side, over the limit)
  uint64_t transmit_failures = 0;   // SCTP packets DTLS did not take (not connected, over its MTU)
};

class DataRouter {
 public:
  using EventSink = std::function<void(const MediaEvent&)>;

  static constexpr size_t kMaxQueuedBytes = 8u << 20;  // per consumer
  static constexpr Duration kStallTimeout = seconds(15);
  static constexpr size_t kMaxProducersPerTransport = 256;
  static constexpr size_t kLocalMaxMessageSize = kSctpLocalMaxMessageSize;  // room_api.hpp

  DataRouter(PacketOutput& out, TransportHost& host, EventSink sink);
  ~DataRouter();

  // The transport negotiated data channels; the association starts once the
  // transport is connected (now, if it already is). Idempotent.
  void enable(const SctpSpec& spec, bool publisher, Instant now);
  // The transport is going away: its producers and consumers close (events).
  void remove_transport(TransportId id);
  // False if the producer or the subscriber's association is unknown.
  bool add_consumer(const DataConsumerSpec& spec, Instant now);
  void close_consumer(DataConsumerId id);  // no event: signaling asked
  void close_producer(DataProducerId id);  // no event for the producer; its consumers close silently too

  void on_transport_event(TransportId id, const TransportEvent& event, Instant now);
  void on_tick(Instant now);

  const DataRouterCounters& counters() const { return counters_; }
  // For tests and stats.
  const sctp::Association* association(TransportId id) const;
  size_t queued_bytes(DataConsumerId id) const;
  size_t producer_count() const { return producers_.size(); }
  size_t consumer_count() const { return consumers_.size(); }

 private:
  struct Endpoint {
    TransportId transport = 0;
    bool publisher = false;
    SctpSpec spec;
    std::unique_ptr<sctp::Association> assoc;
    bool started = false;
    bool reading = true;
    std::unordered_map<uint16_t, DataProducerId> producers;  // publisher: stream → producer
    std::unordered_map<uint16_t, DataConsumerId> consumers;  // subscriber: stream → consumer
  };
  struct Producer {
    TransportId transport = 0;
    uint16_t stream = 0;
    sctp::ChannelParams params;
    std::vector<DataConsumerId> consumers;
  };
  struct Queued {
    sctp::MessageKind kind;
    std::vector<uint8_t> data;
  };
  struct Consumer {
    DataProducerId producer = 0;
    TransportId transport = 0;
    std::string protocol;
    std::optional<uint16_t> stream;  // once the channel is opened
    std::deque<Queued> queue;
    size_t queued_bytes = 0;
    Instant last_progress{};
  };

  void start_if_ready(Endpoint& e, Instant now);
  void drain(Endpoint& e, Instant now);
  void handle_event(Endpoint& e, const sctp::AssociationEvent& ev, Instant now);
  void on_channel_open(Endpoint& e, uint16_t stream, const sctp::ChannelParams& params);
  void on_channel_closed(Endpoint& e, uint16_t stream);
  void on_association_closed(Endpoint& e);
  void relay(DataProducerId pid, Producer& p, sctp::MessageKind kind, Bytes data, Instant now);
  void open_consumer(Consumer& c, DataConsumerId id, Endpoint& sub);
  // Sends what waits in c's queue; true when it is empty afterwards.
  bool flush_queue(Consumer& c, Instant now);
  void update_reading(Endpoint& pub);
  void update_all_reading();
  void drop_consumer(DataConsumerId id, bool report);
  void drop_producer(DataProducerId id, bool report);
  void transmit(Endpoint& e);
  Endpoint* endpoint(TransportId id);

  PacketOutput& out_;
  TransportHost& host_;
  EventSink sink_;
  std::unordered_map<TransportId, Endpoint> endpoints_;
  std::unordered_map<DataProducerId, Producer> producers_;
  std::unordered_map<DataConsumerId, Consumer> consumers_;
  DataProducerId next_producer_ = 1;
  DataRouterCounters counters_;
};

}  // namespace sfu::server
