// Router::stats: the getStats snapshot of one peer's objects.
#include "server/router.hpp"

namespace sfu::server {

PeerStats Router::stats(TransportHost& host, const std::vector<TransportId>& transports,
                        const std::vector<ProducerId>& producers, const std::vector<ConsumerId>& consumers,
                        Instant now) {
  PeerStats out;
  for (TransportId id : transports) {
    const Transport* t = host.find(id);
    if (!t) continue;
    TransportStats s{id, t->state(), t->send_path(), t->counters(), 0, {}, {}, false, 0};
    if (const sctp::Association* a = data_.association(id)) {
      s.sctp = a->counters();
      s.sctp_connected = a->connected();
      s.sctp_buffered = a->buffered_amount();
    }
    if (auto it = transports_.find(id); it != transports_.end() && it->second.estimator) {
      s.available_outgoing_bitrate = it->second.estimator->estimate_bps();
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
