// What the admin API (admin_api.hpp) reads and does to one peer.
#include "signaling/peer.hpp"

namespace sfu::signaling {

namespace {

Json transport_json(const std::optional<server::TransportInfo>& t, server::TransportState state) {
  if (!t) return nullptr;
  return Json{{"id", t->id}, {"worker", t->worker}, {"state", std::string(server::to_string(state))}};
}

}  // namespace

Json Peer::admin_view() const {
  Json j = Json::object();
  j["peerId"] = id_;
  j["name"] = name_;
  j["identity"] = identity_;
  j["remoteAddress"] = ctx_.remote_address;
  j["joinedAt"] = joined_unix_;
  j["grants"] = Json{{"publish", grants_.publish},
                     {"subscribe", grants_.subscribe},
                     {"publishData", grants_.publish_data},
                     {"admin", grants_.admin}};
  j["transports"] = Json{{"publisher", transport_json(pub_transport_, pub_state_)},
                         {"subscriber", transport_json(sub_transport_, sub_state_)}};
  Json producers = Json::array();
  for (const auto& pid : my_producers_) {
    if (!room_) break;
    if (auto entry = room_->find_producer(pid)) {
      Json p = entry->to_json();
      p["adminMuted"] = entry->admin_muted;
      producers.push_back(p);
    }
  }
  j["producers"] = producers;
  Json consumers = Json::array();
  for (const auto& s : sections_.sections()) {
    if (s.application || s.closed || !s.producer) continue;
    consumers.push_back(Json{{"consumerId", s.consumer_id},
                             {"producerId", s.producer->id},
                             {"kind", s.kind == server::media::MediaKind::audio ? "audio" : "video"},
                             {"mid", s.mid},
                             {"paused", s.paused},
                             {"negotiated", s.created},
                             {"currentLayers", Json{{"spatial", s.current_spatial}, {"temporal", s.current_temporal}}},
                             {"preferredLayers", Json{{"spatial", s.preferred_spatial}, {"temporal", s.preferred_temporal}}}});
  }
  j["consumers"] = consumers;
  Json data = Json::array();
  for (const auto& id : my_data_producers_) data.push_back(id);
  j["dataProducers"] = data;
  j["dataConsumers"] = data_consumers_.size();
  return j;
}

bool Peer::admin_mute(const std::string& producer_id, bool mute) {
  if (!room_ || left_) return false;
  auto entry = room_->find_producer(producer_id);
  if (!entry || entry->peer_id != id_) return false;
  if (mute) admin_muted_sources_.insert(entry->source);
  else admin_muted_sources_.erase(entry->source);
  const bool owner_paused_only = entry->paused && !entry->admin_muted;
  entry->admin_muted = mute;
  update_producer_paused(*entry, true);
  // Paused by its owner already: nothing changed for the room, but the
  // owner learns of the mute now rather than from a refused resume.
  if (mute && owner_paused_only) on_producer_paused(*entry, true);
  return true;
}

}  // namespace sfu::signaling
