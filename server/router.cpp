#include "server/router.hpp"

#include <algorithm>
#include <cstring>

#include "rtp/header_extensions.hpp"
#include "rtp/rtx.hpp"

namespace sfu::server {

namespace {

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
  if (active_speaker_ == id) active_speaker_.reset();
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

// A consumer that can send for the first time (created on a connected
// transport, or its transport just connected): its key frame is asked for
// now, not at the next tick (coalesced per layer with other requests).
void Router::request_first_keyframe(Consumer& c, Instant now) {
  auto prod = producers_.find(c.producer());
  if (prod == producers_.end()) return;
  while (auto layer = c.forwarder().poll_keyframe_request(now)) request_keyframe(*prod->second, *layer, now);
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
    if (ready) request_first_keyframe(consumer, now);
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
// layer by its KeyframeRequester (at most one PLI/FIR per 500 ms).
void Router::request_keyframe(Producer& p, int layer, Instant now) {
  if (layer < 0 || layer >= p.layer_count()) return;
  ProducerLayer& l = p.layer(layer);
  if (l.ssrc && l.keyframes.request(now)) send_keyframe_request(p, l);
}

void Router::send_keyframe_request(Producer& p, ProducerLayer& l) {
  auto tit = transports_.find(p.spec().transport);
  if (tit == transports_.end()) return;
  std::array<uint8_t, 64> buf{};
  const size_t n = l.keyframes.write_request(buf, tit->second.rtcp_ssrc, l.ssrc);
  ++counters_.plis_sent_upstream;
  send_rtcp(p.spec().transport, Bytes(buf).first(n));
}

}  // namespace sfu::server
