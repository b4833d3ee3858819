#include "server/router.hpp"

#include <algorithm>

#include "rtp/header_extensions.hpp"
#include "rtp/ntp.hpp"
#include "rtp/rtcp/classify.hpp"
#include "rtp/rtcp/compound_builder.hpp"
#include "rtp/rtcp/receiver_report.hpp"
#include "rtp/rtcp/sender_report.hpp"
#include "rtp/rtcp/transport_layer_nack.hpp"
#include "rtp/rtx.hpp"
#include "server/rtcp_reports.hpp"
#include "server/subscriber_allocation.hpp"
#include "server/subscriber_feedback.hpp"

namespace sfu::server {

namespace {

namespace rtcp = rtp::rtcp;

constexpr Duration kReportInterval = seconds(1);
constexpr Duration kAllocationInterval = milliseconds(200);
constexpr Duration kSpeakerInterval = milliseconds(300);

uint64_t ssrc_key(TransportId t, uint32_t ssrc) { return t << 32 ^ ssrc; }

}  // namespace

Router::Router(RoomId id, PacketOutput& out, TransportHost& host, EventSink sink, WallClock wall)
    : id_(id),
      worker_(out),
      host_(host),
      sink_(std::move(sink)),
      wall_(wall),
      scratch_(kPacketBufferSize),
      data_(out, host, sink_) {}

Router::~Router() = default;

// ---- commands ----------------------------------------------------------------

void Router::add_transport(TransportId id, bool publisher) {
  transports_.erase(id);
  RouterTransport& t = transports_[id];  // stays put: the sender points into it
  t.publisher = publisher;
  t.rtcp_ssrc = uint32_t(0x5f000000u ^ (id * 2654435761u));
  if (publisher) t.feedback.emplace(t.rtcp_ssrc);
  else t.estimator.emplace();
  t.sender.emplace(id, worker_, MutBytes(scratch_), t.estimator ? &*t.estimator : nullptr, counters_, sink_);
  t.sender->attach(host_.find(id));
}

void Router::remove_transport(TransportId id) {
  auto it = transports_.find(id);
  if (it == transports_.end()) return;
  const auto producers = it->second.producers;
  const auto consumers = it->second.consumers;
  for (auto pid : producers) close_producer(pid);
  for (auto cid : consumers) close_consumer(cid);
  data_.remove_transport(id);
  transports_.erase(id);
}

void Router::enable_sctp(const SctpSpec& spec, Instant now) {
  auto t = transports_.find(spec.transport);
  if (t != transports_.end()) data_.enable(spec, t->second.publisher, now);
}

void Router::add_producer(const ProducerSpec& spec) {
  auto t = transports_.find(spec.transport);
  if (t == transports_.end() || producers_.contains(spec.id)) return;
  auto p = std::make_unique<Producer>(spec);
  for (int i = 0; i < p->layer_count(); ++i) {
    if (p->layer(i).ssrc) by_ssrc_[ssrc_key(spec.transport, p->layer(i).ssrc)] = p.get();
    if (p->layer(i).rtx_ssrc) by_ssrc_[ssrc_key(spec.transport, p->layer(i).rtx_ssrc)] = p.get();
  }
  t->second.producers.push_back(spec.id);
  if (spec.extensions.transport_cc) t->second.transport_cc_id = spec.extensions.transport_cc;
  producers_[spec.id] = std::move(p);
  consumers_of_[spec.id];
}

void Router::close_producer(ProducerId id) {
  auto it = producers_.find(id);
  if (it == producers_.end()) return;
  const auto consumers = consumers_of_[id];
  for (auto* c : consumers) close_consumer(c->id());
  consumers_of_.erase(id);
  std::erase_if(by_ssrc_, [&](const auto& kv) { return kv.second == it->second.get(); });
  if (auto t = transports_.find(it->second->spec().transport); t != transports_.end())
    std::erase(t->second.producers, id);
  speaker_.forget(id);
  counters_.rtp_lost_closed += it->second->rtp_lost();
  producers_.erase(it);
}

void Router::set_producer_paused(ProducerId id, bool paused) {
  auto it = producers_.find(id);
  if (it == producers_.end()) return;
  it->second->set_paused(paused);
  for (auto* c : consumers_of_[id]) c->update_forwarding(paused);
}

bool Router::add_consumer(const ConsumerSpec& spec) {
  auto p = producers_.find(spec.producer);
  auto t = transports_.find(spec.transport);
  if (p == producers_.end() || t == transports_.end() || t->second.publisher || consumers_.contains(spec.id))
    return false;
  auto c = std::make_unique<Consumer>(spec, *p->second);
  c->set_sender(&*t->second.sender);
  c->set_ready(t->second.sender->connected());
  c->update_forwarding(p->second->paused());
  consumers_of_[spec.producer].push_back(c.get());
  consumer_by_ssrc_[spec.ssrc] = c.get();
  if (spec.rtx_ssrc) consumer_by_ssrc_[spec.rtx_ssrc] = c.get();
  t->second.consumers.push_back(spec.id);
  consumers_[spec.id] = std::move(c);
  // Ready at once (the transport is connected): the next tick allocates the
  // transport's bandwidth, then asks for the key frame of the layer chosen
  // (poll_keyframe_request has no earlier request to wait for).
  t->second.next_allocation = Instant{};
  return true;
}

// The key frames a consumer's forwarder asks for: when its transport
// connects (asked for now, not at the next tick) and at each tick (start
// on a connected transport, layer switches, resumes, its retries), coalesced
// per layer by the producer's KeyframeRequester.
void Router::request_forwarder_keyframes(Consumer& c, Instant now) {
  auto layer = c.forwarder().poll_keyframe_request(now);
  if (!layer) return;  // the common case, every tick: no lookup
  auto prod = producers_.find(c.producer());
  if (prod == producers_.end()) return;
  // Nothing ever forwarded: a new viewer with nothing to show, so its
  // request is a first one (KeyframeRequester::request_first). Restarts
  // after a pause (the allocation's or the client's) are repeats, so a
  // subscriber whose downlink keeps pausing it cannot make the publisher
  // send key frames faster than the per-layer limit.
  const bool first = c.forwarder().stats().forwarded == 0;
  for (; layer; layer = c.forwarder().poll_keyframe_request(now)) request_keyframe(*prod->second, *layer, now, first);
}

void Router::close_consumer(ConsumerId id) {
  auto it = consumers_.find(id);
  if (it == consumers_.end()) return;
  Consumer* c = it->second.get();
  std::erase(consumers_of_[c->producer()], c);
  std::erase_if(consumer_by_ssrc_, [&](const auto& kv) { return kv.second == c; });
  if (auto t = transports_.find(c->transport()); t != transports_.end()) std::erase(t->second.consumers, id);
  consumers_.erase(it);
}

void Router::set_consumer_paused(ConsumerId id, bool paused) {
  auto it = consumers_.find(id);
  if (it == consumers_.end()) return;
  Consumer& c = *it->second;
  c.set_paused(paused);
  auto p = producers_.find(c.producer());
  c.update_forwarding(p != producers_.end() && p->second->paused());
}

void Router::set_preferred_layers(ConsumerId id, int spatial, int temporal) {
  auto it = consumers_.find(id);
  if (it != consumers_.end()) it->second->set_preferred_layers(spatial, temporal);
}

const Producer* Router::producer(ProducerId id) const {
  auto it = producers_.find(id);
  return it == producers_.end() ? nullptr : it->second.get();
}

const Consumer* Router::consumer(ConsumerId id) const {
  auto it = consumers_.find(id);
  return it == consumers_.end() ? nullptr : it->second.get();
}

// ---- packet path ---------------------------------------------------------------

void Router::on_media(TransportId id, Instant now, ReceivedMedia& media) {
  auto it = transports_.find(id);
  if (it == transports_.end()) return;
  if (media.kind == ReceivedMedia::Kind::rtp) {
    ++counters_.rtp_in;
    if (it->second.publisher) on_publisher_rtp(id, it->second, now, media.packet, media.rtp);
    return;  // subscribers send no media we forward
  }
  ++counters_.rtcp_in;
  if (it->second.publisher) on_publisher_rtcp(id, now, media.packet);
  else on_subscriber_rtcp(id, it->second, now, media.packet);
}

void Router::on_transport_event(TransportId id, Instant now, const TransportEvent& event) {
  data_.on_transport_event(id, event, now);
  auto t = transports_.find(id);
  if (t == transports_.end()) return;
  TransportSender& sender = *t->second.sender;
  if (!sender.transport()) sender.attach(host_.find(id));
  sender.refresh();  // state and selected path
  if (event.type != TransportEvent::Type::state_changed) return;
  const bool ready = event.state == TransportState::connected;
  if (ready && t->second.estimator) allocate(id, t->second, now);  // first key frames for the layers chosen
  for (ConsumerId cid : t->second.consumers) {
    auto c = consumers_.find(cid);
    if (c == consumers_.end() || c->second->ready() == ready) continue;
    Consumer& consumer = *c->second;
    consumer.set_ready(ready);
    auto p = producers_.find(consumer.producer());
    consumer.update_forwarding(p != producers_.end() && p->second->paused());
    if (ready) request_forwarder_keyframes(consumer, now);
  }
  sink_(TransportStateEvent{id, event.state});
}

void Router::on_publisher_rtp(TransportId tid, RouterTransport& t, Instant now, MutBytes packet,
                              const std::optional<rtp::RtpView>& parsed) {
  if (!parsed) {  // decrypted, but not RTP
    ++counters_.malformed;
    return;
  }
  rtp::RtpView view = *parsed;
  // Transport-wide sequence number: every packet counts for the sender's
  // estimator — RTX, padding probes and packets of streams not (yet) matched
  // too; a packet left out would be reported lost.
  if (t.feedback && t.transport_cc_id) {
    if (auto raw = view.extension(t.transport_cc_id)) {
      if (auto seq = rtp::ext::parse_transport_sequence(*raw)) t.feedback->on_packet(now, *seq, view.ssrc());
    }
  }
  Producer* p = nullptr;
  std::optional<ProducerMatch> m;
  if (auto it = by_ssrc_.find(ssrc_key(tid, view.ssrc())); it != by_ssrc_.end()) {
    p = it->second;
    m = p->match(view.ssrc());
  } else {
    for (auto pid : t.producers) {
      Producer& cand = *producers_.at(pid);
      if ((m = cand.learn(view))) {
        p = &cand;
        by_ssrc_[ssrc_key(tid, view.ssrc())] = p;
        break;
      }
    }
  }
  if (!p || !m) {
    ++counters_.unknown_ssrc;
    return;
  }
  ProducerLayer& layer = p->layer(m->layer);
  if (m->rtx) {
    if (rtp::rtx_is_padding_only(view)) {
      ++counters_.padding_probes_in;
      return;
    }
    auto apt = p->apt(view.payload_type());
    if (!apt) {
      ++counters_.malformed;
      return;
    }
    auto unwrapped = rtp::rtx_unwrap_in_place(packet, view, rtp::RtxRewrite{layer.ssrc, 0, *apt});
    if (!unwrapped) {
      ++counters_.malformed;
      return;
    }
    auto again = rtp::parse_rtp(*unwrapped);
    if (!again) return;
    view = *again;
    packet = *unwrapped;
  } else if (view.payload().empty()) {
    ++counters_.padding_probes_in;  // padding-only probe on the media SSRC
    return;
  }
  const media::PacketMeta meta = p->on_packet(m->layer, m->rtx, now, view);
  if (!p->paused()) forward(*p, m->layer, now, view, meta);
}

void Router::forward(Producer& p, int layer, Instant now, const rtp::RtpView& view, const media::PacketMeta& meta) {
  for (Consumer* c : consumers_of_[p.id()]) {
    const media::ForwardDecision d = c->forwarder().on_packet(now, layer, view, meta);
    if (!d.forward) continue;
    c->sender()->send_media(*c, now, view, d.rewrite);
  }
}

void Router::send_rtcp(TransportId tid, Bytes plain) {
  auto t = transports_.find(tid);
  if (t != transports_.end()) t->second.sender->send_rtcp(plain);
}

// A consumer wants a keyframe of `layer`: coalesced and rate-limited per
// layer by its KeyframeRequester (a new consumer's first request at once,
// repeats at most once per 500 ms).
void Router::request_keyframe(Producer& p, int layer, Instant now, bool first) {
  if (layer < 0 || layer >= p.layer_count()) return;
  ProducerLayer& l = p.layer(layer);
  const bool go = l.ssrc && (first ? l.keyframes.request_first(now) : l.keyframes.request(now));
  if (go) send_keyframe_request(p, l);
}

void Router::send_keyframe_request(Producer& p, ProducerLayer& l) {
  auto tit = transports_.find(p.spec().transport);
  if (tit == transports_.end()) return;
  std::array<uint8_t, 64> buf{};
  const size_t n = l.keyframes.write_request(buf, tit->second.rtcp_ssrc, l.ssrc);
  ++counters_.plis_sent_upstream;
  send_rtcp(p.spec().transport, Bytes(buf).first(n));
}

// ---- RTCP and timers ---------------------------------------------------------------

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

// A subscriber's feedback (subscriber_feedback.hpp), answered: NACK → RTX
// from the producer's retransmission buffer, PLI/FIR → a key frame request
// upstream (coalesced per layer), transport-cc/REMB/RR → its estimate and
// the consumers' statistics.
void Router::on_subscriber_rtcp(TransportId tid, RouterTransport& t, Instant now, Bytes packet) {
  // A consumer of this subscriber by its (our) SSRC.
  auto own = [&](uint32_t ssrc) -> Consumer* {
    auto c = consumer_by_ssrc_.find(ssrc);
    return c != consumer_by_ssrc_.end() && c->second->transport() == tid ? c->second : nullptr;
  };
  for_each_subscriber_feedback(packet, [&](const SubscriberFeedback& item) {
    if (auto* nack = std::get_if<NackRequest>(&item)) {
      Consumer* c = own(nack->nack.header.media_ssrc);
      if (!c) return;
      ++c->stats().nacks_received;
      ++counters_.nacks_received;
      for (uint16_t seq : nack->nack.lost_packets()) handle_nack(*c, now, seq);
    } else if (auto* kf = std::get_if<KeyframeRequest>(&item)) {
      Consumer* c = own(kf->media_ssrc);
      if (!c) return;
      ++(kf->fir ? c->stats().firs_received : c->stats().plis_received);
      ++(kf->fir ? counters_.firs_received : counters_.plis_received);
      auto prod = producers_.find(c->producer());
      if (prod == producers_.end()) return;
      request_keyframe(*prod->second, std::max(0, c->forwarder().current_layers().spatial), now);
    } else if (auto* tcc = std::get_if<TransportCcReport>(&item)) {
      if (t.estimator) t.estimator->on_feedback(now, tcc->feedback);
    } else if (auto* remb = std::get_if<RembReport>(&item)) {
      // Only for subscribers without transport-cc (bandwidth_estimator.hpp).
      if (t.estimator) t.estimator->on_remb(now, remb->bitrate_bps);
    } else if (auto* rr = std::get_if<ReceptionReport>(&item)) {
      const rtcp::ReportBlock& block = rr->block;
      auto c = consumer_by_ssrc_.find(block.ssrc);
      if (c == consumer_by_ssrc_.end() || block.last_sr == 0) return;
      auto& st = c->second->stats();
      if (block.last_sr != st.last_sr_compact) return;
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
  });
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
  // Not before the transport can send: initial probing starts at the first
  // poll, and its clusters expire 1 s after they are made.
  if (!t.estimator || !t.sender || !t.sender->connected()) return;
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
    request_forwarder_keyframes(*c, now);
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
    reported_producers_.clear();
    for (auto pid : t.producers) reported_producers_.push_back(producers_.at(pid).get());
    append_receiver_reports(out, t.rtcp_ssrc, reported_producers_, now);
  } else {
    reported_consumers_.clear();
    for (auto cid : t.consumers) {
      Consumer* c = consumers_.at(cid).get();
      auto p = producers_.find(c->producer());
      reported_consumers_.push_back({c, p == producers_.end() ? nullptr : p->second.get()});
    }
    append_sender_reports(out, t.rtcp_ssrc, reported_consumers_, now, rtp::ntp_from_unix_micros(wall_.unix_micros(now)));
  }
  if (out.size() > 0) send_rtcp(tid, out.data());
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
    inputs[n++] = allocation_input(c, *prod->second, now);
  }
  const auto last_probe = t.estimator->last_probe_result();
  const bool climbing = last_probe && !last_probe->saturated;
  t.allocator.allocate(now, t.estimator->estimate_bps(), std::span<const bwe::AllocationInput>(inputs.data(), n),
                       std::span<bwe::AllocationResult>(results.data(), n), std::nullopt,
                       keeps_base_layers(*t.estimator, t.sender->first_media_at(), now), climbing);
  for (size_t i = 0; i < n; ++i) {
    Consumer& c = *order[i];
    c.forwarder().set_max_layers_by_bandwidth(results[i].spatial, results[i].temporal);
    if (results[i].probe) t.estimator->request_probe(now, results[i].probe_target_bps);
  }
}

// The active speaker (media/active_speaker.hpp) from every audio producer's last level.
void Router::detect_active_speaker(Instant now) {
  levels_.clear();
  for (const auto& [pid, p] : producers_)
    if (p->spec().kind == media::MediaKind::audio)
      levels_.push_back({pid, p->last_audio_level(), p->last_audio_level_at(), p->paused()});
  if (auto id = speaker_.update(now, levels_))
    sink_(ActiveSpeakerEvent{*id, producers_.at(*id)->last_audio_level()});
}

// ---- statistics ----------------------------------------------------------------------

PeerStats Router::stats(TransportHost& host, const std::vector<TransportId>& transports,
                        const std::vector<ProducerId>& producers, const std::vector<ConsumerId>& consumers,
                        Instant now) {
  PeerStats out;
  for (TransportId id : transports) {
    const Transport* t = host.find(id);
    if (!t) continue;
    TransportStats s{id, t->state(), t->send_path(), t->counters(), 0, {}, {}, {}, false, 0};
    if (const sctp::Association* a = data_.association(id)) {
      s.sctp = a->counters();
      s.sctp_connected = a->connected();
      s.sctp_buffered = a->buffered_amount();
    }
    if (auto it = transports_.find(id); it != transports_.end() && it->second.estimator) {
      const bwe::BandwidthEstimator& e = *it->second.estimator;
      s.available_outgoing_bitrate = e.estimate_bps();
      if (e.has_transport_cc()) {
        TransportStats::Bwe b;
        b.delay_based_bps = e.delay_based_bps(), b.loss_based_bps = e.loss_based_bps();
        b.acked_bps = e.acked_bps().value_or(0);
        b.usage = e.usage() == bwe::BandwidthUsage::overusing    ? "overusing"
                  : e.usage() == bwe::BandwidthUsage::underusing ? "underusing"
                                                                 : "normal";
        if (auto p = e.last_probe_result()) {
          b.last_probe_bps = p->bps, b.last_probe_saturated = p->saturated, b.last_probe_age = now - p->at;
        }
        s.bwe = b;
      }
      for (auto cid : it->second.consumers) {
        const Duration rtt = consumers_.at(cid)->stats().rtt;
        if (rtt > s.rtt) s.rtt = rtt;
      }
    }
    out.transports.push_back(s);
  }
  for (ProducerId id : producers) {
    auto it = producers_.find(id);
    if (it == producers_.end()) continue;
    ProducerStats ps{id, {}};
    const Producer& p = *it->second;
    for (int i = 0; i < p.layer_count(); ++i) {
      const ProducerLayer& l = p.layer(i);
      ProducerLayerStats ls{l.rid, l.ssrc};
      if (l.stream) {
        ls.packets = l.stream->packets_received();
        ls.bytes = l.stream->bytes_received();
        ls.bitrate_bps = l.stream->bitrate_bps(now);
        ls.lost = l.stream->cumulative_lost();
        ls.jitter_ms = l.stream->jitter_ms();
      }
      ls.nacks_sent = l.nacks.nacks_sent();
      ls.plis_sent = l.keyframes.sent();
      ps.layers.push_back(ls);
    }
    out.producers.push_back(std::move(ps));
  }
  for (ConsumerId id : consumers) {
    auto it = consumers_.find(id);
    if (it == consumers_.end()) continue;
    const Consumer& c = *it->second;
    const auto cur = c.forwarder().current_layers();
    const auto tgt = c.forwarder().target_layers();
    const auto& st = c.stats();
    out.consumers.push_back(ConsumerStatsSnapshot{id, cur.spatial, cur.temporal, tgt.spatial, tgt.temporal, st.packets,
                                                  st.octets, st.retransmissions, st.nacks_received, st.plis_received,
                                                  st.firs_received, st.fraction_lost, st.rtt});
  }
  return out;
}

RouterCounters& RouterCounters::operator+=(const RouterCounters& o) {
  rtp_in += o.rtp_in, rtcp_in += o.rtcp_in, rtp_forwarded += o.rtp_forwarded, rtx_sent += o.rtx_sent;
  rtcp_sent += o.rtcp_sent, malformed += o.malformed, unknown_ssrc += o.unknown_ssrc;
  padding_probes_in += o.padding_probes_in, send_failures += o.send_failures;
  nacks_sent_upstream += o.nacks_sent_upstream, plis_sent_upstream += o.plis_sent_upstream;
  padding_sent += o.padding_sent, nacks_received += o.nacks_received, plis_received += o.plis_received;
  firs_received += o.firs_received, layer_changes += o.layer_changes, rtp_lost_closed += o.rtp_lost_closed;
  media_forwarded += o.media_forwarded;
  return *this;
}

uint64_t Router::rtp_lost() const {
  uint64_t lost = counters_.rtp_lost_closed;
  for (const auto& [id, p] : producers_) lost += p->rtp_lost();
  return lost;
}

void Router::add_counts(MediaCounts& c) const {
  c.producers += producers_.size();
  c.consumers += consumers_.size();
  c.data_producers += data_.producer_count();
  c.data_consumers += data_.consumer_count();
}

}  // namespace sfu::server
