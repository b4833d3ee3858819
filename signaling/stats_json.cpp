// getStats (PROTOCOL.md): transports, producers per layer, consumers.
#include <chrono>

#include "signaling/peer.hpp"

namespace sfu::signaling {

namespace {

double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

Json transport_json(const server::TransportStats& t, server::TransportId publisher) {
  Json j = Json::object();
  j["direction"] = t.id == publisher ? "publisher" : "subscriber";
  j["iceState"] = std::string(server::to_string(t.state));
  if (t.selected_path) {
    Json tuple = Json::object();
    tuple["protocol"] = t.selected_path->is_tcp() ? "tcp" : "udp";
    tuple["remote"] = ice::to_string(t.selected_path->remote);
    j["selectedTuple"] = tuple;
  } else {
    j["selectedTuple"] = nullptr;
  }
  j["bytesReceived"] = t.counters.bytes_in;
  j["bytesSent"] = t.counters.bytes_out;
  j["rtt"] = ms(t.rtt);
  j["availableOutgoingBitrate"] = t.available_outgoing_bitrate;
  if (t.bwe) {
    Json b = Json::object();
    b["delayBased"] = t.bwe->delay_based_bps;
    b["lossBased"] = t.bwe->loss_based_bps;
    b["acked"] = t.bwe->acked_bps;
    b["usage"] = t.bwe->usage;
    if (t.bwe->last_probe_bps) {
      b["lastProbe"] = {{"bitrate", t.bwe->last_probe_bps}, {"saturated", t.bwe->last_probe_saturated},
                        {"ageMs", ms(t.bwe->last_probe_age)}};
    }
    j["bwe"] = b;
  }
  Json drops = Json::object();
  for (size_t i = 0; i < t.counters.dropped.size(); ++i)
    if (t.counters.dropped[i]) drops[std::string(server::to_string(server::DropReason(i)))] = t.counters.dropped[i];
  j["dropped"] = drops;
  if (t.sctp) {
    Json d = Json::object();
    d["state"] = t.sctp_connected ? "connected" : "connecting";
    d["messagesReceived"] = t.sctp->messages_in;
    d["messagesSent"] = t.sctp->messages_out;
    d["bytesReceived"] = t.sctp->bytes_in;
    d["bytesSent"] = t.sctp->bytes_out;
    d["bufferedAmount"] = t.sctp_buffered;
    Json dd = Json::object();
    dd["oversized"] = t.sctp->oversized_in;
    dd["badDcep"] = t.sctp->bad_dcep;
    dd["unknownStream"] = t.sctp->unknown_stream;
    dd["sendDropped"] = t.sctp->send_dropped;
    d["dropped"] = dd;
    j["dataChannels"] = d;
  }
  return j;
}

}  // namespace

Json stats_to_json(const server::PeerStats& st, server::TransportId publisher_transport,
                   const std::map<server::ProducerId, std::string>& producer_ids,
                   const std::map<server::ConsumerId, std::string>& consumer_ids) {
  Json out = Json::object();
  Json transports = Json::array();
  for (const auto& t : st.transports) transports.push_back(transport_json(t, publisher_transport));
  out["transports"] = transports;
  Json producers = Json::array();
  for (const auto& p : st.producers) {
    Json j = Json::object();
    auto id = producer_ids.find(p.id);
    j["producerId"] = id == producer_ids.end() ? "" : id->second;
    Json layers = Json::array();
    for (const auto& l : p.layers) {
      Json lj = Json::object();
      lj["rid"] = l.rid;
      lj["ssrc"] = l.ssrc;
      lj["bitrate"] = l.bitrate_bps;
      lj["packets"] = l.packets;
      lj["bytes"] = l.bytes;
      lj["lost"] = l.lost;
      lj["jitterMs"] = l.jitter_ms;
      lj["nacks"] = l.nacks_sent;
      lj["plis"] = l.plis_sent;
      layers.push_back(lj);
    }
    j["layers"] = layers;
    producers.push_back(j);
  }
  out["producers"] = producers;
  Json consumers = Json::array();
  for (const auto& c : st.consumers) {
    Json j = Json::object();
    auto id = consumer_ids.find(c.id);
    j["consumerId"] = id == consumer_ids.end() ? "" : id->second;
    j["currentLayers"] = Json{{"spatial", c.current_spatial}, {"temporal", c.current_temporal}};
    j["targetLayers"] = Json{{"spatial", c.target_spatial}, {"temporal", c.target_temporal}};
    j["packets"] = c.packets;
    j["bytes"] = c.octets;
    j["retransmissions"] = c.retransmissions;
    j["nacks"] = c.nacks;
    j["plis"] = c.plis + c.firs;
    j["fractionLost"] = double(c.fraction_lost) / 256.0;
    j["rtt"] = ms(c.rtt);
    consumers.push_back(j);
  }
  out["consumers"] = consumers;
  return out;
}

}  // namespace sfu::signaling
