// The Router's RTCP and timer work: reports (RFC 3550 §6.4), NACK and
// keyframe handling in both directions (RFC 4585, RFC 5104), transport-cc
// feedback and bandwidth allocation, active speaker.
#include <algorithm>
#include <array>
#include <chrono>

#include "rtp/ntp.hpp"
#include "rtp/rtcp/classify.hpp"
#include "rtp/rtcp/compound_builder.hpp"
#include "rtp/rtcp/full_intra_request.hpp"
#include "rtp/rtcp/picture_loss_indication.hpp"
#include "rtp/rtcp/receiver_report.hpp"
#include "rtp/rtcp/remb.hpp"
#include "rtp/rtcp/sdes.hpp"
#include "rtp/rtcp/sender_report.hpp"
#include "rtp/rtcp/transport_cc.hpp"
#include "rtp/rtcp/transport_layer_nack.hpp"
#include "server/router.hpp"

namespace sfu::server {

namespace rtcp = rtp::rtcp;

namespace {

constexpr Duration kReportInterval = seconds(1);
constexpr Duration kAllocationInterval = milliseconds(200);
// A subscriber's first media: base layers for every video this long, or until a probe result.
constexpr Duration kStartupBaseLayers = seconds(4);
constexpr Duration kSpeakerInterval = milliseconds(300);
constexpr std::string_view kCname = "sfu";

}  // namespace

void Router::on_publisher_rtcp(TransportId tid, Instant now, Bytes packet) {
  rtcp::CompoundReader reader(packet);
  while (auto p = reader.next()) {
    if (rtcp::classify(*p) != rtcp::MessageKind::sender_report) continue;
    auto sr = rtcp::SenderReportView::parse(*p);
    if (!sr) continue;
    auto it = by_ssrc_.find(uint64_t(tid) << 32 ^ sr->ssrc);
    if (it == by_ssrc_.end()) continue;
    Producer& prod = *it->second;
    auto m = prod.match(sr->ssrc);
    if (!m || m->rtx) continue;
    ProducerLayer& l = prod.layer(m->layer);
    if (l.stream) l.stream->on_sender_report(now, sr->info.ntp_timestamp, sr->info.rtp_timestamp);
    for (Consumer* c : consumers_of_[prod.id()])
      c->forwarder().on_sender_report(m->layer, sr->info.ntp_timestamp, sr->info.rtp_timestamp);
  }
}

void Router::on_subscriber_rtcp(TransportId tid, RouterTransport& t, Instant now, Bytes packet) {
  rtcp::CompoundReader reader(packet);
  while (auto p = reader.next()) {
    switch (rtcp::classify(*p)) {
      case rtcp::MessageKind::nack: {
        auto nack = rtcp::TransportLayerNackView::parse(*p);
        if (!nack) break;
        auto c = consumer_by_ssrc_.find(nack->header.media_ssrc);
        if (c == consumer_by_ssrc_.end() || c->second->transport() != tid) break;
        ++c->second->stats().nacks_received;
        ++counters_.nacks_received;
        for (uint16_t seq : nack->lost_packets()) handle_nack(*c->second, now, seq);
        break;
      }
      case rtcp::MessageKind::pli:
      case rtcp::MessageKind::fir: {
        const bool pli = rtcp::classify(*p) == rtcp::MessageKind::pli;
        uint32_t media_ssrc = 0;
        if (pli) {
          auto v = rtcp::PictureLossIndication::parse(*p);
          if (!v) break;
          media_ssrc = v->header.media_ssrc;
        } else {
          auto v = rtcp::FullIntraRequestView::parse(*p);
          if (!v || v->entries.empty()) break;
          media_ssrc = v->entries[0].ssrc;
        }
        auto c = consumer_by_ssrc_.find(media_ssrc);
        if (c == consumer_by_ssrc_.end() || c->second->transport() != tid) break;
        ++(pli ? c->second->stats().plis_received : c->second->stats().firs_received);
        ++(pli ? counters_.plis_received : counters_.firs_received);
        auto prod = producers_.find(c->second->producer());
        if (prod == producers_.end()) break;
        const auto current = c->second->forwarder().current_layers();
        request_keyframe(*prod->second, std::max(0, current.spatial), now);
        break;
      }
      case rtcp::MessageKind::transport_cc: {
        auto fb = rtcp::parse_transport_cc(*p);
        if (fb && t.estimator) t.estimator->on_feedback(now, *fb);
        break;
      }
      case rtcp::MessageKind::remb: {
        // Only for subscribers without transport-cc (bandwidth_estimator.hpp).
        auto remb = rtcp::RembView::parse(*p);
        if (remb && t.estimator) t.estimator->on_remb(now, remb->bitrate_bps);
        break;
      }
      case rtcp::MessageKind::receiver_report: {
        auto rr = rtcp::ReceiverReportView::parse(*p);
        if (!rr) break;
        for (const auto& block : rr->report_blocks) {
          auto c = consumer_by_ssrc_.find(block.ssrc);
          if (c == consumer_by_ssrc_.end() || block.last_sr == 0) continue;
          auto& st = c->second->stats();
          if (block.last_sr != st.last_sr_compact) continue;
          // RFC 3550 §6.4.1: RTT = arrival − LSR − DLSR (DLSR in 1/65536 s).
          const Duration dlsr = rtp::from_compact_ntp_duration(block.delay_since_last_sr);
          const Duration rtt = now - st.last_sr_sent_at - dlsr;
          if (rtt > Duration::zero()) {
            st.rtt = rtt;
            if (t.estimator) t.estimator->on_rtt(rtt);
          }
          st.fraction_lost = block.fraction_lost;
          st.jitter = block.jitter;
        }
        break;
      }
      default: break;
    }
  }
}

// RFC 4585 §6.2.1 NACK for consumer c's outgoing sequence number: resend the
// packet from the producer's buffer, rewritten exactly as the first time.
size_t Router::handle_nack(Consumer& c, Instant now, uint16_t out_seq, int16_t probe_cluster) {
  auto info = c.forwarder().lookup_for_nack(out_seq);
  if (!info) return 0;
  auto prod = producers_.find(c.producer());
  if (prod == producers_.end() || info->spatial_layer >= prod->second->layer_count()) return 0;
  auto original = prod->second->layer(info->spatial_layer).buffer.get(now, info->sequence);
  if (!original) return 0;
  auto view = rtp::parse_rtp(*original);
  if (!view) return 0;
  return c.sender()->send_retransmission(c, now, *view, info->rewrite, probe_cluster);
}

// Probe clusters (GCC probing before a layer upgrade): filled with RTX copies
// of the most recently forwarded video packets, as libwebrtc does with
// "payload padding" — useful bytes if the subscriber lost one, harmless
// duplicates otherwise — and, when none is left in the retransmission
// buffers (nothing forwarded for a second: exactly when the estimate is too
// low to forward anything), with padding-only RTX packets.
void Router::drive_probes(RouterTransport& t, Instant now) {
  if (!t.estimator) return;
  while (auto probe = t.estimator->poll_probe(now)) {
    Consumer* carrier = nullptr;
    for (auto cid : t.consumers) {
      Consumer& c = *consumers_.at(cid);
      auto prod = producers_.find(c.producer());
      const bool paused = c.paused() || prod == producers_.end() || prod->second->paused();
      if (c.kind() == media::MediaKind::video && c.spec().rtx_ssrc && !paused) {  // nothing on a paused stream
        carrier = &c;
        if (c.stats().sent_any) break;  // prefer one with packets to resend
      }
    }
    if (!carrier) return;
    size_t sent = 0;
    const uint16_t seq = carrier->stats().last_sequence;
    for (int i = 0; carrier->stats().sent_any && i < 64 && sent < probe->bytes; ++i) {
      const size_t n = handle_nack(*carrier, now, uint16_t(seq - i), probe->cluster_id);
      if (n == 0) break;
      sent += n;
    }
    for (int i = 0; i < 64 && sent < probe->bytes; ++i) {
      const size_t n = carrier->sender()->send_padding(*carrier, now, probe->cluster_id);
      if (n == 0) break;
      sent += n;
    }
    if (sent == 0) return;
  }
}

void Router::on_tick(Instant now) {
  data_.on_tick(now);
  for (auto& [pid, p] : producers_) tick_producer(*p, now);
  for (auto& [tid, t] : transports_) {
    if (t.feedback) {
      std::array<uint8_t, 1200> buf{};
      while (true) {
        const size_t n = t.feedback->poll_feedback(now, buf);
        if (n == 0) break;
        send_rtcp(tid, Bytes(buf).first(n));
      }
    }
    if (now >= t.next_report) {
      send_reports(tid, t, now);
      t.next_report = now + kReportInterval;
    }
    drive_probes(t, now);
    if (t.estimator && now >= t.next_allocation) {
      allocate(tid, t, now);
      t.next_allocation = now + kAllocationInterval;
    }
  }
  // After the allocation: a new consumer's first key-frame request goes to
  // the layer the allocation chose (a layer the publisher sends), not to
  // the preferred one it may have stopped sending.
  for (auto& [cid, c] : consumers_) {
    while (auto layer = c->forwarder().poll_keyframe_request(now)) {
      auto prod = producers_.find(c->producer());
      if (prod != producers_.end()) request_keyframe(*prod->second, *layer, now);
    }
    while (auto ev = c->forwarder().poll_event()) {
      ++counters_.layer_changes;
      sink_(ConsumerLayersEvent{cid, ev->spatial, ev->temporal});
    }
  }
  if (now >= next_speaker_check_) {
    detect_active_speaker(now);
    next_speaker_check_ = now + kSpeakerInterval;
  }
}

void Router::tick_producer(Producer& p, Instant now) {
  auto tit = transports_.find(p.spec().transport);
  if (tit == transports_.end()) return;
  for (int i = 0; i < p.layer_count(); ++i) {
    ProducerLayer& l = p.layer(i);
    if (!l.ssrc) continue;
    std::array<uint16_t, 64> lost{};
    const size_t n = l.nacks.poll_nacks(now, lost);
    if (n > 0) {
      std::array<uint8_t, 300> buf{};
      const size_t len = rtcp::TransportLayerNack::serialize_lost({tit->second.rtcp_ssrc, l.ssrc},
                                                                  std::span<const uint16_t>(lost.data(), n), buf);
      ++counters_.nacks_sent_upstream;
      send_rtcp(p.spec().transport, Bytes(buf).first(len));
    }
    if (l.nacks.poll_keyframe_request()) request_keyframe(p, i, now);
    if (l.keyframes.poll_due(now)) send_keyframe_request(p, l);
  }
}

void Router::send_reports(TransportId tid, RouterTransport& t, Instant now) {
  std::array<uint8_t, 1200> buf{};
  rtcp::CompoundBuilder out(buf);
  if (t.publisher) {
    // RR with one block per received layer (RFC 3550 §6.4.2), then SDES.
    std::array<rtcp::ReportBlock, rtcp::kMaxReportBlocks> blocks{};
    size_t n = 0;
    for (auto pid : t.producers) {
      Producer& p = *producers_.at(pid);
      for (int i = 0; i < p.layer_count() && n < blocks.size(); ++i)
        if (p.layer(i).stream && p.layer(i).packets > 0) blocks[n++] = p.layer(i).stream->make_report_block(now);
    }
    out.append(rtcp::ReceiverReport{t.rtcp_ssrc, std::span<const rtcp::ReportBlock>(blocks.data(), n), {}});
    out.append(rtcp::CnameSdes{t.rtcp_ssrc, kCname});
  } else {
    // One SR per consumer that has sent (RFC 3550 §6.4.1), carrying the
    // publisher's NTP ↔ RTP mapping (its last SR on the layer being
    // forwarded, advanced by the time since it arrived, RTP shifted by the
    // consumer's timestamp offset) so subscribers keep the publisher's
    // audio/video sync. Before the publisher's first SR: our clock, and the
    // last sent timestamp advanced by the time since.
    for (auto cid : t.consumers) {
      Consumer& c = *consumers_.at(cid);
      auto& st = c.stats();
      if (!st.sent_any) continue;
      const uint32_t clock = c.spec().codecs.empty() ? media::kVideoClockRate : c.spec().codecs[0].clock_rate;
      uint64_t ntp = rtp::ntp_from_unix_micros(wall_.unix_micros(now));
      const auto since_sent_us = std::chrono::duration_cast<microseconds>(now - st.last_sent_at).count();
      uint32_t rtp_ts = st.last_rtp_timestamp + uint32_t(since_sent_us * int64_t(clock) / 1000000);
      if (auto mapping = publisher_mapping(c, now)) {
        ntp = mapping->first;
        rtp_ts = mapping->second + st.timestamp_offset;
      }
      rtcp::SenderReport sr{c.spec().ssrc, {ntp, rtp_ts, uint32_t(st.packets), uint32_t(st.octets)}, {}, {}};
      if (!out.append(sr)) break;
      st.last_sr_compact = rtcp::compact_ntp(ntp);
      st.last_sr_sent_at = now;
    }
    if (out.size() == 0) out.append(rtcp::ReceiverReport{t.rtcp_ssrc, {}, {}});
    out.append(rtcp::CnameSdes{t.rtcp_ssrc, kCname});
  }
  if (out.size() > 0) send_rtcp(tid, out.data());
}

// The publisher's clock now, as (NTP, RTP) of the layer consumer c forwards:
// its last SR advanced by the time since that SR arrived. nullopt before the
// first SR on that layer.
std::optional<std::pair<uint64_t, uint32_t>> Router::publisher_mapping(const Consumer& c, Instant now) const {
  auto p = producers_.find(c.producer());
  const int layer = c.forwarder().current_layers().spatial;
  if (p == producers_.end() || layer < 0 || layer >= p->second->layer_count()) return std::nullopt;
  const auto& stream = p->second->layer(layer).stream;
  auto sr = stream ? stream->sr_mapping() : std::nullopt;
  if (!sr) return std::nullopt;
  const auto elapsed_us = std::chrono::duration_cast<microseconds>(now - sr->arrival).count();
  if (elapsed_us < 0 || elapsed_us > 60'000'000) return std::nullopt;  // stale: the publisher stopped sending SRs
  const uint64_t ntp = rtp::ntp_plus_micros(sr->ntp, elapsed_us);
  const uint32_t rtp = sr->rtp_ts + uint32_t(elapsed_us * int64_t(stream->clock_rate()) / 1000000);
  return std::make_pair(ntp, rtp);
}

void Router::allocate(TransportId, RouterTransport& t, Instant now) {
  if (!t.estimator) return;
  std::array<bwe::AllocationInput, 64> inputs{};
  std::array<bwe::AllocationResult, 64> results{};
  size_t n = 0;
  std::array<Consumer*, 64> order{};
  for (auto cid : t.consumers) {
    if (n == inputs.size()) break;
    Consumer& c = *consumers_.at(cid);
    auto prod = producers_.find(c.producer());
    if (prod == producers_.end() || c.paused()) continue;
    order[n] = &c;
    inputs[n++] = describe_for_allocation(c, *prod->second, now);
  }
  const uint64_t estimate = t.estimator->estimate_bps();
  // Base layers for every video until the estimate means something: without
  // transport-cc (REMB or nothing, see Allocator::allocate), and in a new
  // subscriber's first seconds, before a probe has measured the path and
  // while the estimate has not fallen below its start (a congested path
  // shows at once). The start estimate (300 kbit/s) fits one or two base
  // layers, and pausing the rest would hold a new subscriber's videos black
  // for seconds while the estimate climbs; base layers cost little, and feed
  // that climb.
  const auto first_media_at = t.sender->first_media_at();
  const bool starting = !first_media_at ||
                        (now - *first_media_at < kStartupBaseLayers && !t.estimator->last_probe_result() &&
                         estimate >= bwe::BweConfig{}.start_bps);
  t.allocator.allocate(now, estimate, std::span<const bwe::AllocationInput>(inputs.data(), n),
                       std::span<bwe::AllocationResult>(results.data(), n), std::nullopt,
                       /*keep_base_layers=*/!t.estimator->has_transport_cc() || starting);
  for (size_t i = 0; i < n; ++i) {
    Consumer& c = *order[i];
    c.forwarder().set_max_layers_by_bandwidth(results[i].spatial, results[i].temporal);
    if (results[i].probe) t.estimator->request_probe(now, results[i].probe_target_bps);
  }
}

// What the allocator needs of one consumer: its kind and priority (audio,
// then screen share, then camera video), the producer's measured bitrate per
// spatial layer split over temporal layers (L1T3: TL0 ≈ 60 %, TL1 ≈ 80 %
// cumulative), the subscriber's preferred maximum and what is forwarded now.
// Layers the publisher is not sending (no packet for 2 s) cost 0, which the
// allocator reads as "not available": they cannot be chosen and take no
// budget, so a silent producer (audio included) never prices others out.
bwe::AllocationInput Router::describe_for_allocation(const Consumer& c, const Producer& p, Instant now) const {
  bwe::AllocationInput in;
  in.id = uint32_t(c.id());
  in.kind = c.kind() == media::MediaKind::audio       ? bwe::ConsumerKind::audio
            : p.spec().source == ProducerSource::screen ? bwe::ConsumerKind::screen
                                                        : bwe::ConsumerKind::video;
  constexpr std::array<double, bwe::kMaxTemporalLayers> kTemporalShare = {0.6, 0.8, 1.0};
  int highest_active = -1;
  for (int s = 0; s < p.layer_count() && s < int(bwe::kMaxSpatialLayers); ++s) {
    const ProducerLayer& l = p.layer(s);
    const bool active = l.stream && now - l.last_packet < seconds(2);
    const uint64_t bps = active ? std::max<uint64_t>(l.stream->bitrate_bps(now), 1) : 0;
    for (size_t t = 0; t < bwe::kMaxTemporalLayers; ++t)
      in.bitrate_bps[size_t(s)][t] =
          active ? uint32_t(std::clamp<double>(double(bps) * kTemporalShare[t], 1.0, UINT32_MAX - 1.0)) : 0;
    if (active) highest_active = s;
  }
  const auto current = c.forwarder().current_layers();
  in.max_spatial = int8_t(std::min(highest_active, std::max(0, int(c.spec().preferred_spatial))));
  in.max_temporal = int8_t(std::clamp(c.spec().preferred_temporal, 0, int(bwe::kMaxTemporalLayers) - 1));
  in.current_spatial = int8_t(current.spatial);
  in.current_temporal = int8_t(current.temporal);
  return in;
}

// Loudest recent audio producer with hysteresis: a new speaker must be
// louder (lower dBov) than the current one by 5 dB, or the current one
// silent for 1 s, to take over (RFC 6464 levels).
void Router::detect_active_speaker(Instant now) {
  constexpr int kSilence = 127;
  constexpr int kHysteresisDb = 5;
  constexpr Duration kStale = seconds(1);
  const Producer* best = nullptr;
  for (const auto& [pid, p] : producers_) {
    if (p->spec().kind != media::MediaKind::audio || p->paused()) continue;
    if (now - p->last_audio_level_at() > kStale || p->last_audio_level() >= kSilence) continue;
    if (!best || p->last_audio_level() < best->last_audio_level()) best = p.get();
  }
  if (!best || best->id() == active_speaker_) return;
  if (active_speaker_) {
    auto cur = producers_.find(*active_speaker_);
    if (cur != producers_.end() && now - cur->second->last_audio_level_at() <= kStale &&
        cur->second->last_audio_level() < kSilence &&
        cur->second->last_audio_level() - best->last_audio_level() < kHysteresisDb)
      return;
  }
  active_speaker_ = best->id();
  sink_(ActiveSpeakerEvent{best->id(), best->last_audio_level()});
}

}  // namespace sfu::server
