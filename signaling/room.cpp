#include "signaling/room.hpp"

#include <algorithm>

#include "signaling/peer.hpp"

namespace sfu::signaling {

Json ProducerEntry::to_json() const {
  Json j = Json::object();
  j["producerId"] = id;
  j["peerId"] = peer_id;
  j["kind"] = kind == server::media::MediaKind::audio ? "audio" : "video";
  j["source"] = source;
  j["simulcast"] = simulcast;
  j["paused"] = paused;
  return j;
}

Json DataProducerEntry::to_json() const {
  Json j = Json::object();
  j["dataProducerId"] = id;
  j["peerId"] = peer_id;
  j["label"] = label;
  return j;
}

Peer* Room::find_peer(std::string_view peer_id) const {
  for (Peer* p : peers_)
    if (p->id() == peer_id) return p;
  return nullptr;
}

void Room::remove_peer(Peer* p) { std::erase(peers_, p); }

std::shared_ptr<ProducerEntry> Room::find_producer(std::string_view id) const {
  auto it = producers_.find(std::string(id));
  return it == producers_.end() ? nullptr : it->second;
}

void Room::broadcast(std::string_view method, const Json& params, const Peer* except) const {
  for (Peer* p : peers_)
    if (p != except) p->notify(method, params);
}

void Room::announce(std::string_view method, const Json& params, const Peer* except) {
  broadcast(method, params, except);
  if (cluster_) cluster_->local_event(*this, method, params);
}

IdGenerator::IdGenerator() : rng_(std::random_device{}()) {}

std::string IdGenerator::next(std::string_view prefix) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(prefix);
  out += '_';
  for (int i = 0; i < 10; ++i) out += kAlphabet[rng_() % 36];
  return out;
}

uint32_t IdGenerator::random_u32() {
  uint32_t v = 0;
  while (v == 0) v = uint32_t(rng_());
  return v;
}

Room* RoomDirectory::get_or_create(const std::string& name) {
  if (auto* r = find(name)) return r;
  if (rooms_.size() >= limits_.max_rooms) return nullptr;
  auto room = std::make_unique<Room>(name, next_room_id_++);
  Room* raw = room.get();
  rooms_.emplace(name, std::move(room));
  media_.open_room(raw->id());
  if (cluster_) {
    raw->set_cluster(cluster_);
    cluster_->room_opened(*raw);
  }
  return raw;
}

Room* RoomDirectory::find(const std::string& name) {
  auto it = rooms_.find(name);
  return it == rooms_.end() ? nullptr : it->second.get();
}

Room* RoomDirectory::find_by_id(server::RoomId id) {
  for (auto& [name, r] : rooms_)
    if (r->id() == id) return r.get();
  return nullptr;
}

void RoomDirectory::release_if_empty(Room* room) {
  if (!room || !room->peers().empty() || room->held()) return;
  if (room->cluster()) room->cluster()->room_closed(*room);
  media_.close_room(room->id());
  rooms_.erase(room->name());
}

size_t RoomDirectory::peer_count() const {
  size_t n = 0;
  for (const auto& [name, r] : rooms_) n += r->peers().size();
  return n;
}

bool valid_room_name(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

}  // namespace sfu::signaling
