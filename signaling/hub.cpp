#include "signaling/hub.hpp"

#include "common/log.hpp"
#include "signaling/control_metrics.hpp"
#include "signaling/peer.hpp"

namespace sfu::signaling {

Hub::Hub(boost::asio::io_context& io, server::MediaController& media, AuthConfig auth, SignalingLimits limits,
         IceServersConfig ice)
    : io_(io), auth_(std::move(auth)), rooms_(media, limits, std::move(ice)) {
  media.set_event_handler([this](server::RoomId room, const server::MediaEvent& e) { on_media_event(room, e); });
}

std::unique_ptr<SessionHandler> Hub::make_peer(std::weak_ptr<WsSession> session, const HttpRequest& upgrade,
                                               std::string remote_address) {
  std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
  sessions_.push_back(session);
  ++control_metrics().sessions_opened;
  // Behind a balancer (deploy/cluster/haproxy.cfg: option forwardfor) the
  // socket's address is the balancer's; the client's is in X-Forwarded-For.
  // Logged as given (it is the client's claim unless a trusted proxy set it).
  const std::string_view forwarded = upgrade["X-Forwarded-For"];
  log::info("session opened", {{"remote", remote_address},
                               {"room", query_param(upgrade.target(), "room")},
                               {"forwarded_for", std::string(forwarded.substr(0, 256))}});
  PeerContext ctx{rooms_, io_, auth_, std::move(remote_address), query_param(upgrade.target(), "room"),
                  query_param(upgrade.target(), "token")};
  return std::make_unique<Peer>(std::move(ctx), std::move(session));
}

void Hub::close_all(const std::string& reason, std::string_view notification) {
  for (const auto& name : rooms_.names()) {
    Room* room = rooms_.find(name);
    if (!room) continue;
    const auto peers = room->peers();
    for (Peer* p : peers) p->close_room(reason, notification);
  }
  for (auto& w : sessions_)
    if (auto s = w.lock()) s->close(boost::beast::websocket::close_code::going_away, reason);
  sessions_.clear();
}

size_t Hub::open_sessions() {
  std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
  return sessions_.size();
}

Json Hub::stats() {
  const server::MediaCounts m = rooms_.media().counts();
  Json j = Json::object();
  j["sessions"] = open_sessions();
  j["rooms"] = rooms_.room_count();
  j["peers"] = rooms_.peer_count();
  j["routers"] = m.routers;
  j["transports"] = m.transports;
  j["producers"] = m.producers;
  j["consumers"] = m.consumers;
  j["dataProducers"] = m.data_producers;
  j["dataConsumers"] = m.data_consumers;
  j["staleCommands"] = rooms_.media().stale_commands();
  return j;
}

void Hub::on_media_event(server::RoomId room_id, const server::MediaEvent& event) {
  Room* room = rooms_.find_by_id(room_id);
  if (!room) return;
  if (const auto* s = std::get_if<server::ActiveSpeakerEvent>(&event)) {
    for (const auto& [id, p] : room->producers()) {
      if (p->num != s->producer) continue;
      Json params = Json::object();
      params["peerId"] = p->peer_id;
      params["audioLevel"] = s->audio_level;
      room->announce("activeSpeaker", params);
    }
    return;
  }
  for (Peer* p : room->peers()) p->on_media_event(event);
}

std::string query_param(std::string_view target, std::string_view key) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != key) continue;
    std::string out;
    std::string_view v = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '+') {
        out += ' ';
      } else if (v[i] == '%' && i + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
        out += char(std::stoi(std::string(v.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += v[i];
      }
    }
    return out;
  }
  return {};
}

}  // namespace sfu::signaling
