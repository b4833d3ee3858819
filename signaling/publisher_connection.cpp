#include "signaling/publisher_connection.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "signaling/peer.hpp"
#include "signaling/sdp/publish_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_session.hpp"
#include "signaling/sdp/sdp_writer.hpp"

namespace sfu::signaling {

namespace {

std::string source_for(const Json& sources, const std::string& mid, server::media::MediaKind kind) {
  if (sources.is_object()) {
    auto it = sources.find(mid);
    if (it != sources.end() && it->is_string()) {
      const auto& s = it->get_ref<const std::string&>();
      if (s == "camera" || s == "microphone" || s == "screen" || s == "screenAudio") return s;
      throw RpcError{RpcCode::invalid_params, "sources values are camera, microphone, screen or screenAudio"};
    }
  }
  return kind == server::media::MediaKind::audio ? "microphone" : "camera";
}

server::ProducerSource to_source(const std::string& s) {
  if (s == "microphone") return server::ProducerSource::microphone;
  if (s == "screen") return server::ProducerSource::screen;
  if (s == "screenAudio") return server::ProducerSource::screen_audio;
  return server::ProducerSource::camera;
}

}  // namespace

void PublisherConnection::publish(const Json& params, const Reply& reply) {
  const Grants& grants = peer_.grants();
  Peer::require_grant(grants.publish || grants.publish_data, "publish");
  const std::string& text = require_string(params, "sdp");
  if (publishing_) throw RpcError{RpcCode::bad_state, "a publish is already in progress"};
  auto offer = sdp::parse_sdp(text);
  if (!offer) throw RpcError{RpcCode::bad_sdp, "unparsable SDP: " + sdp::to_string(offer.error())};
  auto sources = params.find("sources");
  if (sources != params.end() && !sources->is_object() && !sources->is_null())
    throw RpcError{RpcCode::invalid_params, "sources must be an object"};
  const sdp::MediaSection* first = nullptr;
  for (const auto& m : offer->media)
    if (m.in_use() && !first) first = &m;
  if (!first) throw RpcError{RpcCode::bad_sdp, "the offer has no active m-section"};
  auto remote = remote_transport(*offer, *first);
  if (!remote) throw RpcError{RpcCode::bad_sdp, "the offer lacks ice-ufrag, ice-pwd or a sha-256 fingerprint"};
  for (const auto& m : offer->media)
    if (m.in_use() && !m.rtcp_mux && m.kind != sdp::MediaKind::application)
      throw RpcError{RpcCode::bad_sdp, "rtcp-mux is required"};
  // A first publish must yield something: an offer the server would answer
  // with every section rejected is an error, not an empty answer. Re-offers
  // are answered as they are (stopping every section is how a client stops
  // publishing).
  if (!transport_) {
    const OfferYield y = weigh_publish_offer(*offer, grants.publish, grants.publish_data);
    if (y.acceptable == 0 && y.forbidden > 0)
      throw RpcError{RpcCode::forbidden, "the token's grants allow nothing this offer publishes"};
    if (y.acceptable == 0)
      throw RpcError{RpcCode::bad_sdp,
                     "nothing to accept: no sending audio/video section with a supported codec, no data channel"};
  }
  // Validate the sources map up front so a bad one fails before any work.
  for (const auto& m : offer->media)
    if (m.mid) (void)source_for(sources == params.end() ? Json() : *sources, *m.mid, server::media::MediaKind::video);

  publishing_ = true;
  sources_ = sources == params.end() ? Json::object() : *sources;
  auto parsed = std::make_shared<sdp::SessionDescription>(std::move(*offer));
  auto done = [this, alive = peer_.alive(), parsed, reply](bool ok) {
    if (alive.expired()) return;
    publishing_ = false;
    if (!ok) return reply.error(RpcError{RpcCode::internal_error, "could not create the transport"});
    if (peer_.left()) return reply.error(RpcError{RpcCode::bad_state, "left"});
    try {
      finish_publish(*parsed, reply);
    } catch (const RpcError& e) {
      reply.error(e);
    }
  };
  Room* room = peer_.room();
  auto& media = peer_.rooms().media();
  server::TransportSpec spec{remote->ufrag, remote->pwd, remote->fingerprint, true};
  if (transport_) {
    if (remote->ufrag != remote_ufrag_) {
      // The browser restarted ICE (new ufrag): restart ours and take its new credentials.
      remote_ufrag_ = remote->ufrag;
      media.set_remote_parameters(room->id(), transport_->id, spec);
      media.restart_ice(room->id(), transport_->id,
                        [this, alive = peer_.alive(), done](std::optional<ice::IceCredentials> creds) {
                          if (alive.expired()) return;
                          if (creds && transport_) transport_->local_ice = *creds;
                          done(creds.has_value());
                        });
      return;
    }
    return done(true);
  }
  remote_ufrag_ = remote->ufrag;
  media.create_transport(room->id(), spec,
                         [this, alive = peer_.alive(), done, media = &media,
                          room = room->id()](std::optional<server::TransportInfo> t) {
                           // The peer may have gone (or left) while the worker built it: then
                           // nobody will ever close it but us.
                           if (alive.expired() || peer_.left()) {
                             if (t) media->close_transport(room, t->id);
                             if (alive.expired()) return;
                             return done(true);  // answers bad_state: left
                           }
                           if (t) transport_ = *t;
                           done(t.has_value());
                         });
}

// With the transport in place: the answer (publish_answer.hpp), then what it
// says applied in section order — producers closed and created, SCTP
// enabled — then the reply, and then the room hears producerAdded.
void PublisherConnection::finish_publish(const sdp::SessionDescription& offer, const Reply& reply) {
  Room* room = peer_.room();
  auto& rooms = peer_.rooms();
  auto& media = rooms.media();
  const Grants& grants = peer_.grants();
  PublishAnswerInput in;
  in.session_id = room->id() * 1000003 + 1;
  in.version = ++answer_version_;
  in.transport = &*transport_;
  in.grant_media = grants.publish;
  in.grant_data = grants.publish_data;
  const PublishAnswer planned = answer_publish_offer(offer, in);

  Json produced = Json::array();
  std::vector<std::shared_ptr<ProducerEntry>> added;
  std::set<std::string> offered_mids;
  for (const PublishedSection& section : planned.sections) {
    if (section.mid) offered_mids.insert(*section.mid);
    using Outcome = PublishedSection::Outcome;
    if (section.outcome == Outcome::data) {
      if (!sctp_) {
        sctp_ = true;
        media.enable_sctp(room->id(), server::SctpSpec{transport_->id, section.sctp_port, section.max_message_size});
      }
      continue;
    }
    if (!section.mid) continue;
    const std::string& mid = *section.mid;
    auto existing = producer_by_mid_.find(mid);
    if (section.outcome != Outcome::receiving) {
      // Rejected or no longer sending: its producer ends. (A section the
      // offer itself stopped, port 0, keeps its producer, as it always has.)
      const bool ends = section.outcome != Outcome::rejected || section.offered_in_use;
      if (existing != producer_by_mid_.end() && ends) close_producer(existing->second, true);
      continue;
    }
    if (existing == producer_by_mid_.end()) {
      auto entry = std::make_shared<ProducerEntry>();
      entry->id = rooms.ids().next("pr");
      entry->num = rooms.ids().next_number();
      entry->peer_id = peer_.id();
      entry->kind = section.kind;
      entry->source = source_for(sources_, mid, entry->kind);
      entry->admin_muted = entry->paused = admin_muted_sources_.contains(entry->source);
      entry->codecs = section.codecs;
      server::ProducerSpec& spec = entry->spec;
      spec.id = entry->num;
      spec.transport = transport_->id;
      spec.kind = entry->kind;
      spec.source = to_source(entry->source);
      spec.mid = mid;
      spec.codecs = codec_infos(section.codecs);
      spec.extensions = section.extensions;
      spec.paused = entry->paused;
      if (section.simulcast) {
        spec.rids = section.simulcast->rids;
        spec.ssrcs = section.simulcast->ssrcs;
        spec.rtx_ssrcs = section.simulcast->rtx_ssrcs;
        entry->simulcast = section.simulcast->rids;
        if (entry->simulcast.empty())
          for (size_t i = 0; i < section.simulcast->ssrcs.size(); ++i) entry->simulcast.push_back(std::to_string(i));
      } else {
        spec.ssrcs = section.ssrcs;
        spec.rtx_ssrcs = section.rtx_ssrcs;
      }
      media.add_producer(room->id(), spec);
      producer_by_mid_[mid] = entry->id;
      producers_.push_back(entry->id);
      room->producers()[entry->id] = entry;
      added.push_back(entry);
    }
    auto now = producer_by_mid_.find(mid);
    if (auto entry = now == producer_by_mid_.end() ? nullptr : room->find_producer(now->second)) {
      Json j = Json::object();
      j["producerId"] = entry->id;
      j["mid"] = mid;
      j["kind"] = entry->kind == server::media::MediaKind::audio ? "audio" : "video";
      j["source"] = entry->source;
      j["simulcast"] = entry->simulcast;
      produced.push_back(j);
    }
  }
  // Sections the new offer dropped altogether: their producers end.
  for (auto it = producer_by_mid_.begin(); it != producer_by_mid_.end();) {
    if (offered_mids.contains(it->first)) {
      ++it;
      continue;
    }
    const std::string pid = it->second;
    ++it;
    close_producer(pid, true);
  }
  Json result = Json::object();
  result["sdp"] = sdp::write_sdp(planned.answer);
  result["producers"] = produced;
  reply.ok(result);
  log::info("publish accepted", {{"room", room->name()},
                                 {"peer", peer_.id()},
                                 {"transport", transport_->id},
                                 {"producers", produced.size()},
                                 {"added", added.size()}});
  for (const auto& entry : added) {
    log::info("producer added", {{"room", room->name()},
                                 {"peer", peer_.id()},
                                 {"transport", transport_->id},
                                 {"producer", entry->id},
                                 {"kind", entry->kind == server::media::MediaKind::audio ? "audio" : "video"},
                                 {"source", entry->source},
                                 {"layers", entry->simulcast.size()}});
    room->announce("producerAdded", entry->to_json(), &peer_);
    for (Peer* other : room->peers())
      if (other != &peer_) other->on_producer_added(entry);
    if (entry->admin_muted) peer_.on_producer_paused(*entry, true);  // after the publish result: muted from the start
  }
}

void PublisherConnection::close_producer(const std::string& producer_id, bool notify_room) {
  Room* room = peer_.room();
  auto entry = room ? room->find_producer(producer_id) : nullptr;
  if (!entry) return;
  peer_.rooms().media().close_producer(room->id(), entry->num);
  room->producers().erase(producer_id);
  std::erase(producers_, producer_id);
  std::erase_if(producer_by_mid_, [&](const auto& kv) { return kv.second == producer_id; });
  for (Peer* other : room->peers())
    if (other != &peer_) other->on_producer_removed(entry);
  if (notify_room) room->announce("producerRemoved", Json{{"producerId", entry->id}, {"peerId", peer_.id()}});
}

void PublisherConnection::close_all() {
  const auto producers = producers_;
  for (const auto& pid : producers) close_producer(pid, true);
  const auto data_producers = data_producers_;
  for (const auto& id : data_producers) close_data_producer(id);
}

Json PublisherConnection::producer_op(const Json& params, const std::string& op) {
  const std::string& pid = require_string(params, "producerId");
  auto entry = peer_.room()->find_producer(pid);
  if (!entry || entry->peer_id != peer_.id()) throw RpcError{RpcCode::not_found, "not one of your producers"};
  if (op == "closeProducer") {
    close_producer(pid, true);
    return Json::object();
  }
  const bool pause = op == "pauseProducer";
  if (!pause && entry->admin_muted) throw RpcError{RpcCode::forbidden, "muted by an administrator", "admin_muted"};
  entry->owner_paused = pause;
  update_producer_paused(*entry, false);
  return Json::object();
}

void PublisherConnection::update_producer_paused(ProducerEntry& entry, bool tell_owner) {
  const bool pause = entry.owner_paused || entry.admin_muted;
  if (entry.paused == pause) return;
  entry.paused = pause;
  Room* room = peer_.room();
  peer_.rooms().media().set_producer_paused(room->id(), entry.num, pause);
  for (Peer* other : room->peers())
    if (other != &peer_ || tell_owner) other->on_producer_paused(entry, pause);
  if (room->cluster())
    room->cluster()->local_event(*room, pause ? "producerPaused" : "producerResumed",
                                 Json{{"producerId", entry.id}, {"peerId", entry.peer_id}});
}

bool PublisherConnection::admin_mute(const std::string& producer_id, bool mute) {
  Room* room = peer_.room();
  if (!room || peer_.left()) return false;
  auto entry = room->find_producer(producer_id);
  if (!entry || entry->peer_id != peer_.id()) return false;
  if (mute) admin_muted_sources_.insert(entry->source);
  else admin_muted_sources_.erase(entry->source);
  const bool owner_paused_only = entry->paused && !entry->admin_muted;
  entry->admin_muted = mute;
  update_producer_paused(*entry, true);
  // Paused by its owner already: nothing changed for the room, but the
  // owner learns of the mute now rather than from a refused resume.
  if (mute && owner_paused_only) peer_.on_producer_paused(*entry, true);
  return true;
}

// Data producers: channels the client opens on this connection, reported by
// the router (PROTOCOL.md "Data channels").
void PublisherConnection::on_media_event(const server::MediaEvent& e) {
  Room* room = peer_.room();
  if (peer_.left() || !room || !transport_) return;
  if (const auto* opened = std::get_if<server::DataProducerOpenedEvent>(&e)) {
    if (opened->transport != transport_->id) return;
    auto entry = std::make_shared<DataProducerEntry>();
    entry->id = peer_.rooms().ids().next("dp");
    entry->num = opened->producer;
    entry->peer_id = peer_.id();
    entry->label = opened->params.label;
    room->data_producers()[entry->id] = entry;
    data_producers_.push_back(entry->id);
    room->announce("dataProducerAdded", entry->to_json());  // the owner too
    for (Peer* other : room->peers())
      if (other != &peer_) other->on_data_producer_added(entry);
  } else if (const auto* closed = std::get_if<server::DataProducerClosedEvent>(&e)) {
    if (closed->transport != transport_->id) return;
    for (const auto& id : data_producers_) {
      auto entry = room->data_producers().find(id);
      if (entry != room->data_producers().end() && entry->second->num == closed->producer) {
        close_data_producer(id);
        return;
      }
    }
  }
}

void PublisherConnection::close_data_producer(const std::string& data_producer_id) {
  Room* room = peer_.room();
  if (!room) return;
  auto it = room->data_producers().find(data_producer_id);
  if (it == room->data_producers().end()) return;
  const auto entry = it->second;
  peer_.rooms().media().close_data_producer(room->id(), entry->num);
  room->data_producers().erase(it);
  std::erase(data_producers_, data_producer_id);
  for (Peer* other : room->peers())
    if (other != &peer_) other->unwant_data(entry->id);
  room->announce("dataProducerRemoved", entry->to_json());
}

}  // namespace sfu::signaling
