// A deterministic simulation of one subscriber transport for the bandwidth
// estimator: the SFU sends 1200-byte packets paced at the current estimate
// (plus whatever probe traffic the estimator asks for) through a bottleneck
// (capacity C bit/s, drop-tail queue, random loss, one-way propagation
// delay) to a receiver that runs FeedbackGenerator; the feedback comes back
// over an uncongested reverse path, is parsed with parse_transport_cc and fed
// to BandwidthEstimator. Virtual clock: each step jumps to the earliest
// pending event.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "common/time.hpp"
#include "rtp/rtcp/transport_cc.hpp"
#include "server/bwe/bandwidth_estimator.hpp"
#include "server/bwe/feedback_generator.hpp"

namespace sfu::server::bwe::test {

struct LinkConfig {
  uint64_t capacity_bps = 1'000'000;
  Duration one_way = milliseconds(25);
  double loss = 0.0;                    // random loss before the queue
  Duration max_queue = milliseconds(500);  // drop-tail when the queue would exceed this
  uint32_t seed = 1;
};

class BweLinkSim {
 public:
  static constexpr size_t kPacketSize = 1200;

  BweLinkSim(const BweConfig& bwe_config, const LinkConfig& link)
      : bwe(bwe_config), feedback(0x5f0e5f0e), link_(link), rng_(link.seed) {
    bwe.on_rtt(2 * link.one_way);
  }

  void set_capacity(uint64_t bps) { link_.capacity_bps = bps; }
  void set_loss(double loss) { link_.loss = loss; }

  // Runs the simulation up to `end`.
  void run_until(Instant end) {
    for (int guard = 0; guard < 10'000'000; ++guard) {
      const Instant t = next_event();
      if (t > end) break;
      now = std::max(now, t);
      step();
    }
    now = end;
  }

  Instant now = Instant{} + seconds(1);
  BandwidthEstimator bwe;
  FeedbackGenerator feedback;
  uint64_t media_packets = 0, probe_packets = 0, dropped = 0, lost = 0, feedback_packets = 0;

 private:
  struct InFlight {
    Instant arrival;
    uint16_t seq;
  };
  struct Feedback {
    Instant deliver_at;
    std::vector<uint8_t> bytes;
  };

  Instant next_event() const {
    Instant t = next_media_;
    if (auto p = bwe.poll_timeout()) t = std::min(t, std::max(*p, now));
    if (!in_flight_.empty()) t = std::min(t, in_flight_.front().arrival);
    if (auto f = feedback.poll_timeout()) t = std::min(t, std::max(*f, now));
    if (!returning_.empty()) t = std::min(t, returning_.front().deliver_at);
    return t;
  }

  void send(PacketFlags flags) {
    const uint16_t seq = bwe.on_packet_sent(now, kPacketSize, flags);
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < link_.loss) {
      ++lost;
      return;
    }
    const Instant start = std::max(now, queue_free_at_);
    if (start - now > link_.max_queue) {
      ++dropped;
      return;
    }
    const auto service = std::chrono::duration<double>(double(kPacketSize * 8) / double(link_.capacity_bps));
    queue_free_at_ = start + std::chrono::duration_cast<Duration>(service);
    in_flight_.push_back({queue_free_at_ + link_.one_way, seq});
  }

  void step() {
    if (now >= next_media_) {
      send({});
      ++media_packets;
      const auto gap = std::chrono::duration<double>(double(kPacketSize * 8) / double(bwe.estimate_bps()));
      next_media_ = now + std::chrono::duration_cast<Duration>(gap);
    }
    while (auto req = bwe.poll_probe(now)) {
      for (size_t sent = 0; sent < req->bytes; sent += kPacketSize) {
        send(PacketFlags{.padding = true, .probe_cluster = req->cluster_id});
        ++probe_packets;
      }
    }
    while (!in_flight_.empty() && in_flight_.front().arrival <= now) {
      feedback.on_packet(in_flight_.front().arrival, in_flight_.front().seq);
      in_flight_.pop_front();
    }
    std::array<uint8_t, rtp::rtcp::kTransportCcMaxSize> buf{};
    while (const size_t n = feedback.poll_feedback(now, buf)) {
      returning_.push_back({now + link_.one_way, {buf.begin(), buf.begin() + ptrdiff_t(n)}});
    }
    while (!returning_.empty() && returning_.front().deliver_at <= now) {
      auto view = rtp::rtcp::parse_transport_cc(returning_.front().bytes);
      if (view.ok()) bwe.on_feedback(now, *view);
      ++feedback_packets;
      returning_.pop_front();
    }
  }

  LinkConfig link_;
  std::mt19937 rng_;
  Instant next_media_ = Instant{} + seconds(1);
  Instant queue_free_at_{};
  std::deque<InFlight> in_flight_;
  std::deque<Feedback> returning_;
};

}  // namespace sfu::server::bwe::test
