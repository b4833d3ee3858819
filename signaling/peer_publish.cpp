// publish: the publisher PC's offer → producers on the router → the answer.
#include <algorithm>

#include "common/log.hpp"
#include "signaling/peer.hpp"
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

// The single media SSRC and its RTX SSRC from a=ssrc / ssrc-group:FID.
void single_stream_ssrcs(const sdp::MediaSection& m, server::ProducerSpec& spec) {
  for (const auto& g : m.ssrc_groups) {
    if (g.semantics == "FID" && g.ssrcs.size() == 2) {
      spec.ssrcs = {g.ssrcs[0]};
      spec.rtx_ssrcs = {g.ssrcs[1]};
      return;
    }
  }
  if (!m.ssrcs.empty()) spec.ssrcs = {m.ssrcs.front().ssrc};
}

// What a publish offer would yield (PROTOCOL.md "Publishing"): sections
// that become a producer or a data channel, and sections that would but
// for the token's grants.
struct OfferYield {
  int acceptable = 0;
  int forbidden = 0;
};

OfferYield weigh_offer(const sdp::SessionDescription& offer, const Grants& grants) {
  OfferYield y;
  for (const auto& m : offer.media) {
    if (!m.in_use() || !m.mid) continue;
    if (m.kind == sdp::MediaKind::application) {
      if (is_data_section(m)) ++(grants.publish_data ? y.acceptable : y.forbidden);
      continue;
    }
    if (m.kind != sdp::MediaKind::audio && m.kind != sdp::MediaKind::video) continue;
    const auto dir = m.effective_direction();
    if (dir != sdp::Direction::sendonly && dir != sdp::Direction::sendrecv) continue;
    if (sdp::match_codecs(m, sdp::server_codec_capabilities()).empty()) continue;
    ++(grants.publish ? y.acceptable : y.forbidden);
  }
  return y;
}

}  // namespace

void Peer::publish(const Json& params, const Reply& reply) {
  require_joined();
  require_grant(grants_.publish || grants_.publish_data, "publish");
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
  if (!pub_transport_) {
    const OfferYield y = weigh_offer(*offer, grants_);
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
  auto parsed = std::make_shared<sdp::SessionDescription>(std::move(*offer));
  auto ctx_sources = std::make_shared<Json>(sources == params.end() ? Json::object() : *sources);
  auto done = [this, alive = std::weak_ptr<bool>(alive_), parsed, ctx_sources, reply](bool ok) {
    if (alive.expired()) return;
    publishing_ = false;
    if (!ok) return reply.error(RpcError{RpcCode::internal_error, "could not create the transport"});
    if (left_) return reply.error(RpcError{RpcCode::bad_state, "left"});
    (void)ctx_sources;
    try {
      finish_publish(*parsed, reply);
    } catch (const RpcError& e) {
      reply.error(e);
    }
  };
  publish_sources_ = *ctx_sources;
  auto& media = ctx_.rooms.media();
  server::TransportSpec spec{remote->ufrag, remote->pwd, remote->fingerprint, true};
  if (pub_transport_) {
    if (remote->ufrag != pub_remote_ufrag_) {
      // The browser restarted ICE (new ufrag): restart ours and take its new credentials.
      pub_remote_ufrag_ = remote->ufrag;
      media.set_remote_parameters(room_->id(), pub_transport_->id, spec);
      media.restart_ice(room_->id(), pub_transport_->id,
                        [this, alive = std::weak_ptr<bool>(alive_), done](std::optional<ice::IceCredentials> creds) {
                          if (alive.expired()) return;
                          if (creds && pub_transport_) pub_transport_->local_ice = *creds;
                          done(creds.has_value());
                        });
      return;
    }
    return done(true);
  }
  pub_remote_ufrag_ = remote->ufrag;
  media.create_transport(room_->id(), spec,
                         [this, alive = std::weak_ptr<bool>(alive_), done, media = &media,
                          room = room_->id()](std::optional<server::TransportInfo> t) {
                           // The peer may have gone (or left) while the worker built it: then
                           // nobody will ever close it but us.
                           if (alive.expired() || left_) {
                             if (t) media->close_transport(room, t->id);
                             if (alive.expired()) return;
                             return done(true);  // answers bad_state: left
                           }
                           if (t) pub_transport_ = *t;
                           done(t.has_value());
                         });
}

// With the publisher transport in place: one producer per new sending
// audio/video m-section, the answer for every section, then the room hears
// producerAdded.
void Peer::finish_publish(const sdp::SessionDescription& offer, const Reply& reply) {
  auto& media = ctx_.rooms.media();
  sdp::SessionDescription answer = session_skeleton(room_->id() * 1000003 + 1, ++pub_answer_version_);
  sdp::Group bundle{"BUNDLE", {}};
  Json produced = Json::array();
  std::vector<std::shared_ptr<ProducerEntry>> added;
  std::set<std::string> offered_mids;
  for (const auto& m : offer.media) {
    sdp::MediaSection a;
    a.kind = m.kind;
    a.other_kind = m.other_kind;
    a.protocol = m.protocol;
    a.mid = m.mid;
    a.formats = m.formats;
    if (m.mid) offered_mids.insert(*m.mid);
    const bool media_kind = m.kind == sdp::MediaKind::audio || m.kind == sdp::MediaKind::video;
    const auto dir = m.effective_direction();
    const bool sending = dir == sdp::Direction::sendonly || dir == sdp::Direction::sendrecv;
    if (m.kind == sdp::MediaKind::application && answer_data_section(m, a)) {
      bundle.mids.push_back(*m.mid);
      answer.media.push_back(std::move(a));
      continue;
    }
    std::vector<sdp::AcceptedCodec> codecs;
    if (media_kind && m.in_use() && m.mid && grants_.publish)
      codecs = sdp::match_codecs(m, sdp::server_codec_capabilities());
    if (!media_kind || !m.in_use() || !m.mid || codecs.empty()) {
      // Rejected (RFC 8829 §5.3.1): unsupported codecs or kinds, media
      // without the publish grant, data without publishData.
      a.port = 0;
      if (a.formats.empty()) a.formats = {"0"};
      // RFC 8866 §5.7: a c= per section when there is none at session level
      // (Firefox refuses the whole answer otherwise).
      a.connection = sdp::Connection{"IN", "IP4", "0.0.0.0"};
      if (m.mid && m.in_use()) {
        if (auto it = producer_by_mid_.find(*m.mid); it != producer_by_mid_.end()) close_producer(it->second, true);
      }
      answer.media.push_back(std::move(a));
      continue;
    }
    sdp::set_codecs(a, codecs);
    a.extmaps = sdp::match_extensions(m, sdp::server_header_extensions());
    a.rtcp_rsize = m.rtcp_rsize;
    a.direction = sending ? sdp::Direction::recvonly : sdp::Direction::inactive;
    auto simulcast = sdp::extract_simulcast(m);
    if (simulcast) sdp::answer_simulcast(*simulcast, a);
    apply_transport(a, *pub_transport_, sdp::Setup::passive);
    bundle.mids.push_back(*m.mid);

    auto existing = producer_by_mid_.find(*m.mid);
    if (!sending) {
      if (existing != producer_by_mid_.end()) close_producer(existing->second, true);
    } else if (existing == producer_by_mid_.end()) {
      auto entry = std::make_shared<ProducerEntry>();
      entry->id = ctx_.rooms.ids().next("pr");
      entry->num = ctx_.rooms.ids().next_number();
      entry->peer_id = id_;
      entry->kind = m.kind == sdp::MediaKind::audio ? server::media::MediaKind::audio : server::media::MediaKind::video;
      entry->source = source_for(publish_sources_, *m.mid, entry->kind);
      entry->admin_muted = entry->paused = admin_muted_sources_.contains(entry->source);
      entry->codecs = codecs;
      server::ProducerSpec& spec = entry->spec;
      spec.id = entry->num;
      spec.transport = pub_transport_->id;
      spec.kind = entry->kind;
      spec.source = to_source(entry->source);
      spec.mid = *m.mid;
      spec.codecs = codec_infos(codecs);
      spec.extensions = extension_ids(a.extmaps);
      spec.paused = entry->paused;
      if (simulcast) {
        spec.rids = simulcast->rids;
        spec.ssrcs = simulcast->ssrcs;
        spec.rtx_ssrcs = simulcast->rtx_ssrcs;
        entry->simulcast = simulcast->rids;
        if (entry->simulcast.empty())
          for (size_t i = 0; i < simulcast->ssrcs.size(); ++i) entry->simulcast.push_back(std::to_string(i));
      } else {
        single_stream_ssrcs(m, spec);
      }
      media.add_producer(room_->id(), spec);
      producer_by_mid_[*m.mid] = entry->id;
      my_producers_.push_back(entry->id);
      room_->producers()[entry->id] = entry;
      added.push_back(entry);
    }
    if (auto it = producer_by_mid_.find(*m.mid); it != producer_by_mid_.end()) {
      auto entry = room_->find_producer(it->second);
      if (entry) {
        Json j = Json::object();
        j["producerId"] = entry->id;
        j["mid"] = *m.mid;
        j["kind"] = entry->kind == server::media::MediaKind::audio ? "audio" : "video";
        j["source"] = entry->source;
        j["simulcast"] = entry->simulcast;
        produced.push_back(j);
      }
    }
    answer.media.push_back(std::move(a));
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
  if (!bundle.mids.empty()) answer.groups.push_back(bundle);
  Json result = Json::object();
  result["sdp"] = sdp::write_sdp(answer);
  result["producers"] = produced;
  reply.ok(result);
  log::info("publish accepted", {{"room", room_->name()},
                                 {"peer", id_},
                                 {"transport", pub_transport_->id},
                                 {"producers", produced.size()},
                                 {"added", added.size()}});
  for (const auto& entry : added) {
    log::info("producer added", {{"room", room_->name()},
                                 {"peer", id_},
                                 {"transport", pub_transport_->id},
                                 {"producer", entry->id},
                                 {"kind", entry->kind == server::media::MediaKind::audio ? "audio" : "video"},
                                 {"source", entry->source},
                                 {"layers", entry->simulcast.size()}});
    room_->announce("producerAdded", entry->to_json(), this);
    for (Peer* other : room_->peers())
      if (other != this) other->on_producer_added(entry);
    if (entry->admin_muted) on_producer_paused(*entry, true);  // after the publish result: muted from the start
  }
}

void Peer::close_producer(const std::string& producer_id, bool notify_room) {
  auto entry = room_ ? room_->find_producer(producer_id) : nullptr;
  if (!entry) return;
  ctx_.rooms.media().close_producer(room_->id(), entry->num);
  room_->producers().erase(producer_id);
  std::erase(my_producers_, producer_id);
  std::erase_if(producer_by_mid_, [&](const auto& kv) { return kv.second == producer_id; });
  for (Peer* other : room_->peers())
    if (other != this) other->on_producer_removed(entry);
  if (notify_room) room_->announce("producerRemoved", Json{{"producerId", entry->id}, {"peerId", id_}});
}

}  // namespace sfu::signaling
