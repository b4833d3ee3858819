#include "server/data_router.hpp"

#include <algorithm>

namespace sfu::server {

DataRouter::DataRouter(PacketOutput& out, TransportHost& host, EventSink sink)
    : out_(out), host_(host), sink_(std::move(sink)) {}

DataRouter::~DataRouter() = default;

DataRouter::Endpoint* DataRouter::endpoint(TransportId id) {
  auto it = endpoints_.find(id);
  return it == endpoints_.end() ? nullptr : &it->second;
}

const sctp::Association* DataRouter::association(TransportId id) const {
  auto it = endpoints_.find(id);
  return it == endpoints_.end() ? nullptr : it->second.assoc.get();
}

size_t DataRouter::queued_bytes(DataConsumerId id) const {
  auto it = consumers_.find(id);
  return it == consumers_.end() ? 0 : it->second.queued_bytes;
}

// ---- commands ----------------------------------------------------------------

void DataRouter::enable(const SctpSpec& spec, bool publisher, Instant now) {
  if (endpoints_.contains(spec.transport)) return;
  Endpoint& e = endpoints_[spec.transport];
  e.transport = spec.transport;
  e.publisher = publisher;
  e.spec = spec;
  sctp::AssociationConfig cfg;
  cfg.dtls_client = false;  // the SFU is the DTLS server on both connections (a=setup:passive / actpass)
  cfg.remote_port = spec.remote_port;
  cfg.remote_max_message_size = spec.max_message_size;
  cfg.local_max_message_size = kLocalMaxMessageSize;
  e.assoc = std::make_unique<sctp::Association>(cfg);
  start_if_ready(e, now);
}

void DataRouter::start_if_ready(Endpoint& e, Instant now) {
  if (e.started || !e.assoc) return;
  Transport* t = host_.find(e.transport);
  if (!t || t->state() != TransportState::connected) return;
  e.started = true;
  e.assoc->start(now);
  transmit(e);
}

void DataRouter::remove_transport(TransportId id) {
  Endpoint* e = endpoint(id);
  if (!e) return;
  std::vector<DataProducerId> producers;
  for (const auto& [stream, pid] : e->producers) producers.push_back(pid);
  for (auto pid : producers) drop_producer(pid, true);
  std::vector<DataConsumerId> consumers;
  for (const auto& [cid, c] : consumers_)
    if (c.transport == id) consumers.push_back(cid);
  for (auto cid : consumers) drop_consumer(cid, true);
  endpoints_.erase(id);
}

bool DataRouter::add_consumer(const DataConsumerSpec& spec, Instant now) {
  auto p = producers_.find(spec.producer);
  Endpoint* sub = endpoint(spec.transport);
  if (p == producers_.end() || !sub || sub->publisher || consumers_.contains(spec.id)) return false;
  Consumer& c = consumers_[spec.id];
  c.producer = spec.producer;
  c.transport = spec.transport;
  c.protocol = spec.protocol;
  c.last_progress = now;
  p->second.consumers.push_back(spec.id);
  if (sub->assoc && sub->assoc->connected()) open_consumer(c, spec.id, *sub);
  return true;
}

void DataRouter::close_consumer(DataConsumerId id) { drop_consumer(id, false); }

void DataRouter::close_producer(DataProducerId id) { drop_producer(id, false); }

// ---- events --------------------------------------------------------------------

void DataRouter::on_transport_event(TransportId id, const TransportEvent& event, Instant now) {
  Endpoint* e = endpoint(id);
  if (!e) return;
  if (event.type == TransportEvent::Type::state_changed) {
    if (event.state == TransportState::connected) start_if_ready(*e, now);
    return;
  }
  if (event.type != TransportEvent::Type::application_data || !e->started) return;
  e->assoc->receive(now, event.data);
  drain(*e, now);
}

void DataRouter::on_tick(Instant now) {
  for (auto& [id, e] : endpoints_) {
    if (!e.started) continue;
    e.assoc->handle_timeout(now);
  }
  // Draining may close consumers and producers, never endpoints.
  for (auto& [id, e] : endpoints_)
    if (e.started) drain(e, now);
  // Queues that can move again (a `writable` may have been folded away),
  // and receivers that stopped taking anything.
  std::vector<DataConsumerId> stalled;
  for (auto& [cid, c] : consumers_) {
    if (c.queue.empty()) continue;
    if (!flush_queue(c, now) && now - c.last_progress > kStallTimeout) stalled.push_back(cid);
  }
  for (auto cid : stalled) {
    ++counters_.stalled_consumers;
    drop_consumer(cid, true);
  }
  update_all_reading();
}

void DataRouter::drain(Endpoint& e, Instant now) {
  transmit(e);
  while (auto ev = e.assoc->poll_event()) handle_event(e, *ev, now);
  transmit(e);
}

void DataRouter::handle_event(Endpoint& e, const sctp::AssociationEvent& ev, Instant now) {
  using T = sctp::AssociationEvent::Type;
  switch (ev.type) {
    case T::connected:
      if (!e.publisher) {
        std::vector<DataConsumerId> waiting;
        for (const auto& [cid, c] : consumers_)
          if (c.transport == e.transport && !c.stream) waiting.push_back(cid);
        for (auto cid : waiting)
          if (auto it = consumers_.find(cid); it != consumers_.end()) open_consumer(it->second, cid, e);
      }
      break;
    case T::closed:
      on_association_closed(e);
      break;
    case T::channel_open:
      on_channel_open(e, ev.stream, ev.params);
      break;
    case T::channel_acked:
      break;
    case T::channel_closed:
      on_channel_closed(e, ev.stream);
      break;
    case T::message:
      if (e.publisher) {
        auto it = e.producers.find(ev.stream);
        if (it != e.producers.end()) {
          auto p = producers_.find(it->second);
          if (p != producers_.end()) relay(it->second, p->second, ev.kind, ev.data, now);
        }
      }
      // Messages a subscriber sends back on a relayed channel go nowhere.
      break;
    case T::writable: {
      for (auto& [cid, c] : consumers_)
        if (c.transport == e.transport && !c.queue.empty()) flush_queue(c, now);
      update_all_reading();
      break;
    }
  }
}

void DataRouter::on_channel_open(Endpoint& e, uint16_t stream, const sctp::ChannelParams& params) {
  if (!e.publisher || e.producers.size() >= kMaxProducersPerTransport) {
    // Channels are opened by the server on subscriber connections only.
    ++counters_.refused_channels;
    e.assoc->close_channel(stream);
    return;
  }
  const DataProducerId id = next_producer_++;
  producers_[id] = Producer{e.transport, stream, params, {}};
  e.producers[stream] = id;
  sink_(DataProducerOpenedEvent{e.transport, id, params});
}

void DataRouter::on_channel_closed(Endpoint& e, uint16_t stream) {
  if (e.publisher) {
    auto it = e.producers.find(stream);
    if (it != e.producers.end()) drop_producer(it->second, true);
  } else {
    auto it = e.consumers.find(stream);
    if (it != e.consumers.end()) drop_consumer(it->second, true);
  }
}

void DataRouter::on_association_closed(Endpoint& e) {
  std::vector<DataProducerId> producers;
  for (const auto& [stream, pid] : e.producers) producers.push_back(pid);
  for (auto pid : producers) drop_producer(pid, true);
  std::vector<DataConsumerId> consumers;
  for (const auto& [cid, c] : consumers_)
    if (c.transport == e.transport) consumers.push_back(cid);
  for (auto cid : consumers) drop_consumer(cid, true);
}

// ---- relay -----------------------------------------------------------------------

void DataRouter::relay(DataProducerId pid, Producer& p, sctp::MessageKind kind, Bytes data, Instant now) {
  ++counters_.messages_in;
  const bool reliable = p.params.reliability == sctp::Reliability::reliable;
  bool blocked = false;
  for (DataConsumerId cid : p.consumers) {
    Consumer& c = consumers_.at(cid);
    Endpoint* sub = endpoint(c.transport);
    if (!sub || !sub->assoc) {
      ++counters_.dropped_no_channel;
      continue;
    }
    auto enqueue = [&] {
      if (c.queued_bytes + data.size() > kMaxQueuedBytes) {
        ++counters_.dropped_overflow;
        return;
      }
      if (c.queue.empty()) c.last_progress = now;
      c.queue.push_back(Queued{kind, std::vector<uint8_t>(data.begin(), data.end())});
      c.queued_bytes += data.size();
      ++counters_.queued;
      blocked = true;
    };
    if (!c.stream || !c.queue.empty()) {
      // Keep the order: behind what already waits (or until the channel opens).
      if (reliable) enqueue();
      else ++counters_.dropped_unreliable;
      continue;
    }
    switch (sub->assoc->send(*c.stream, kind, data)) {
      case sctp::SendStatus::ok:
        ++counters_.messages_relayed;
        counters_.bytes_relayed += data.size();
        c.last_progress = now;
        break;
      case sctp::SendStatus::would_block:
        if (reliable) enqueue();
        else ++counters_.dropped_unreliable;
        break;
      case sctp::SendStatus::dropped:
        ++counters_.dropped_unreliable;
        break;
      case sctp::SendStatus::too_large:
        ++counters_.dropped_too_large;
        break;
      case sctp::SendStatus::no_channel:
      case sctp::SendStatus::closed:
        ++counters_.dropped_no_channel;
        break;
    }
    transmit(*sub);
  }
  if (blocked) {
    if (Endpoint* pub = endpoint(p.transport)) update_reading(*pub);
  }
  (void)pid;
}

bool DataRouter::flush_queue(Consumer& c, Instant now) {
  Endpoint* sub = endpoint(c.transport);
  if (!sub || !sub->assoc || !c.stream) return c.queue.empty();
  bool sent = false;
  while (!c.queue.empty()) {
    Queued& q = c.queue.front();
    const auto status = sub->assoc->send(*c.stream, q.kind, q.data);
    if (status == sctp::SendStatus::would_block) break;
    if (status == sctp::SendStatus::ok) {
      ++counters_.messages_relayed;
      counters_.bytes_relayed += q.data.size();
    } else if (status == sctp::SendStatus::too_large) {
      ++counters_.dropped_too_large;
    } else {
      ++counters_.dropped_no_channel;
    }
    c.queued_bytes -= q.data.size();
    c.queue.pop_front();
    c.last_progress = now;
    sent = true;
  }
  if (sent) transmit(*sub);
  return c.queue.empty();
}

void DataRouter::open_consumer(Consumer& c, DataConsumerId id, Endpoint& sub) {
  auto p = producers_.find(c.producer);
  if (p == producers_.end()) return;
  sctp::ChannelParams params = p->second.params;
  params.protocol = c.protocol;
  auto stream = sub.assoc->open_channel(params);
  if (!stream) {
    drop_consumer(id, true);
    return;
  }
  c.stream = *stream;
  sub.consumers[*stream] = id;
  transmit(sub);
}

void DataRouter::update_reading(Endpoint& pub) {
  if (!pub.assoc) return;
  bool want = true;
  for (const auto& [stream, pid] : pub.producers) {
    const Producer& p = producers_.at(pid);
    if (p.params.reliability != sctp::Reliability::reliable) continue;
    for (DataConsumerId cid : p.consumers)
      if (!consumers_.at(cid).queue.empty()) want = false;
  }
  if (want == pub.reading) return;
  pub.reading = want;
  if (!want) ++counters_.reading_paused;
  pub.assoc->set_reading(want);
  // Messages read on resumption come out at the next drain (tick or packet).
}

void DataRouter::update_all_reading() {
  for (auto& [id, e] : endpoints_)
    if (e.publisher && !e.reading) update_reading(e);
}

// ---- teardown -----------------------------------------------------------------

void DataRouter::drop_consumer(DataConsumerId id, bool report) {
  auto it = consumers_.find(id);
  if (it == consumers_.end()) return;
  Consumer c = std::move(it->second);
  consumers_.erase(it);
  if (auto p = producers_.find(c.producer); p != producers_.end()) std::erase(p->second.consumers, id);
  if (Endpoint* sub = endpoint(c.transport); sub && c.stream) {
    if (sub->consumers.erase(*c.stream) && sub->assoc) {
      sub->assoc->close_channel(*c.stream);
      transmit(*sub);
    }
  }
  if (report) sink_(DataConsumerClosedEvent{c.transport, id});
  update_all_reading();
}

void DataRouter::drop_producer(DataProducerId id, bool report) {
  auto it = producers_.find(id);
  if (it == producers_.end()) return;
  const auto consumers = it->second.consumers;
  for (auto cid : consumers) drop_consumer(cid, true);
  it = producers_.find(id);
  const Producer p = std::move(it->second);
  producers_.erase(it);
  if (Endpoint* pub = endpoint(p.transport)) {
    if (pub->producers.erase(p.stream) && pub->assoc) {
      pub->assoc->close_channel(p.stream);
      transmit(*pub);
    }
    if (!pub->reading) update_reading(*pub);
  }
  if (report) sink_(DataProducerClosedEvent{p.transport, id});
}

void DataRouter::transmit(Endpoint& e) {
  if (!e.assoc) return;
  Transport* t = host_.find(e.transport);
  while (auto pkt = e.assoc->poll_transmit()) {
    if (!t || !t->send_application_data(*pkt)) ++counters_.transmit_failures;
  }
  if (t) host_.send_queued(out_, e.transport);
}

}  // namespace sfu::server
