// A room's media router on its worker: the transports, producers and
// consumers of one room and the per-packet work between them (DESIGN.md
// "The packet path", steps 3 and 5). Everything here runs on the worker
// thread; signaling reaches it through MediaController.
//
// Per RTP packet from a publisher: match producer/layer (SSRC, else
// MID/RID) → unwrap RTX → receive stats, NACK tracking, transport-cc
// arrival, keyframe detection → retransmission buffer → for each consumer:
// forwarder decision → copy into a send slot → rewrite (SSRC, seq, ts, PT,
// VP8 ids, extension ids, transport-wide seq) → SRTP protect → queue.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "server/bwe/allocator.hpp"
#include "server/bwe/bandwidth_estimator.hpp"
#include "server/bwe/feedback_generator.hpp"
#include "server/consumer.hpp"
#include "server/media/active_speaker.hpp"
#include "server/rtcp_reports.hpp"
#include "server/data_router.hpp"
#include "server/producer.hpp"
#include "server/room_api.hpp"
#include "server/stats.hpp"
#include "server/transport_host.hpp"
#include "server/transport_sender.hpp"
#include "server/packet_output.hpp"
#include "server/worker.hpp"
#include "server/worker_metrics.hpp"

namespace sfu::server {

class Router {
 public:
  using EventSink = std::function<void(const MediaEvent&)>;

  // `wall`: where the sender reports' NTP time comes from (common/time.hpp).
  Router(RoomId id, PacketOutput& out, TransportHost& host, EventSink sink, WallClock wall);
  ~Router();

  RoomId id() const { return id_; }

  // ---- commands (from MediaController, on the worker thread) ----------------
  void add_transport(TransportId id, bool publisher);
  void remove_transport(TransportId id);  // closes its producers and consumers
  void add_producer(const ProducerSpec& spec);
  void close_producer(ProducerId id);  // closes its consumers
  void set_producer_paused(ProducerId id, bool paused);
  // False if the producer or transport is unknown.
  bool add_consumer(const ConsumerSpec& spec);
  void close_consumer(ConsumerId id);
  void set_consumer_paused(ConsumerId id, bool paused);
  void set_preferred_layers(ConsumerId id, int spatial, int temporal);
  // Data channels (data_router.hpp).
  void enable_sctp(const SctpSpec& spec, Instant now);
  bool add_data_consumer(const DataConsumerSpec& spec, Instant now) { return data_.add_consumer(spec, now); }
  void close_data_consumer(DataConsumerId id) { data_.close_consumer(id); }
  void close_data_producer(DataProducerId id) { data_.close_producer(id); }
  const DataRouter& data() const { return data_; }

  // ---- packet path (from WorkerMedia) --------------------------------------
  void on_media(TransportId id, Instant now, ReceivedMedia& media);
  void on_transport_event(TransportId id, Instant now, const TransportEvent& event);
  // Periodic work: NACKs, keyframe requests, RTCP reports, feedback, BWE.
  void on_tick(Instant now);

  // getStats: a snapshot of the named transports, producers and consumers.
  PeerStats stats(TransportHost& host, const std::vector<TransportId>& transports,
                  const std::vector<ProducerId>& producers, const std::vector<ConsumerId>& consumers, Instant now);

  const RouterCounters& counters() const { return counters_; }
  const Producer* producer(ProducerId id) const;
  const Consumer* consumer(ConsumerId id) const;
  bool empty() const { return transports_.empty(); }
  // Adds this room's producers and consumers (media and data) to `c`.
  void add_counts(MediaCounts& c) const;
  // Upstream RTP lost (receive statistics, RFC 3550 A.3) over every producer
  // this router has had, closed ones included.
  uint64_t rtp_lost() const;
  // Each subscriber transport's current send estimate (bits/s), for the
  // /metrics histogram.
  template <class F>
  void for_each_estimate(F&& f) const {
    for (const auto& [id, t] : transports_)
      if (t.estimator) f(t.estimator->estimate_bps());
  }

 private:
  struct RouterTransport {
    bool publisher = true;
    std::vector<ProducerId> producers;
    std::vector<ConsumerId> consumers;
    std::optional<bwe::FeedbackGenerator> feedback;     // publisher: transport-cc to the browser
    std::optional<bwe::BandwidthEstimator> estimator;  // subscriber: what we may send
    bwe::Allocator allocator;                           // subscriber: shares the estimate
    uint32_t rtcp_ssrc = 0;                              // our sender SSRC in RTCP on this transport
    uint8_t transport_cc_id = 0;                         // publisher: the bundle's transport-wide-cc extension id
    std::optional<TransportSender> sender;               // everything sent on this transport
    Instant next_report{};
    Instant next_allocation{};
  };

  void on_publisher_rtp(TransportId tid, RouterTransport& t, Instant now, MutBytes packet,
                        const std::optional<rtp::RtpView>& parsed);
  void on_publisher_rtcp(TransportId tid, Instant now, Bytes packet);
  void on_subscriber_rtcp(TransportId tid, RouterTransport& t, Instant now, Bytes packet);
  void forward(Producer& p, int layer, Instant now, const rtp::RtpView& view, const media::PacketMeta& meta);
  void drive_probes(RouterTransport& t, Instant now);
  size_t handle_nack(Consumer& c, Instant now, uint16_t out_seq, int16_t probe_cluster = bwe::kNotProbe);
  // `first`: a consumer with nothing forwarded yet (KeyframeRequester::request_first).
  void request_keyframe(Producer& p, int layer, Instant now, bool first = false);
  // The key frames a consumer's forwarder asks for (start, switch, resume).
  void request_forwarder_keyframes(Consumer& c, Instant now);
  void send_keyframe_request(Producer& p, ProducerLayer& l);
  void send_rtcp(TransportId tid, Bytes plain);
  void send_reports(TransportId tid, RouterTransport& t, Instant now);
  void allocate(TransportId tid, RouterTransport& t, Instant now);
  void tick_producer(Producer& p, Instant now);
  void detect_active_speaker(Instant now);

  RoomId id_;
  PacketOutput& worker_;
  TransportHost& host_;
  EventSink sink_;
  WallClock wall_;
  std::unordered_map<TransportId, RouterTransport> transports_;
  std::unordered_map<ProducerId, std::unique_ptr<Producer>> producers_;
  std::unordered_map<ConsumerId, std::unique_ptr<Consumer>> consumers_;
  std::unordered_map<ProducerId, std::vector<Consumer*>> consumers_of_;
  // (transport, SSRC) → producer, for packets already matched once.
  std::unordered_map<uint64_t, Producer*> by_ssrc_;
  std::unordered_map<uint32_t, Consumer*> consumer_by_ssrc_;
  RouterCounters counters_;
  media::ActiveSpeakerDetector speaker_;
  std::vector<media::ActiveSpeakerDetector::Level> levels_;  // reused every check
  std::vector<Producer*> reported_producers_;               // reused by send_reports
  std::vector<ReportedConsumer> reported_consumers_;
  Instant next_speaker_check_{};
  std::vector<uint8_t> scratch_;  // the senders' slot for TCP paths and RTCP; sized once
  DataRouter data_;
};

}  // namespace sfu::server
