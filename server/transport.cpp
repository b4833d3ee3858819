#include "server/transport.hpp"

#include "ice/demux.hpp"

namespace sfu::server {

std::string_view to_string(TransportState s) {
  switch (s) {
    case TransportState::new_: return "new";
    case TransportState::connecting: return "connecting";
    case TransportState::connected: return "connected";
    case TransportState::failed: return "failed";
    case TransportState::closed: return "closed";
  }
  return "unknown";
}

TransportCounters& TransportCounters::operator+=(const TransportCounters& o) {
  for (size_t i = 0; i < dropped.size(); ++i) dropped[i] += o.dropped[i];
  stun_in += o.stun_in, dtls_in += o.dtls_in, rtp_in += o.rtp_in, rtcp_in += o.rtcp_in, bytes_in += o.bytes_in;
  rtp_out += o.rtp_out, rtcp_out += o.rtcp_out, bytes_out += o.bytes_out;
  protect_failures += o.protect_failures;
  return *this;
}

std::string_view to_string(DropReason r) {
  switch (r) {
    case DropReason::malformed: return "malformed";
    case DropReason::bad_stun: return "bad_stun";
    case DropReason::unknown_path: return "unknown_path";
    case DropReason::not_connected: return "not_connected";
    case DropReason::srtp_auth: return "srtp_auth";
    case DropReason::srtp_replay: return "srtp_replay";
    case DropReason::srtp_other: return "srtp_other";
    case DropReason::closed: return "closed";
    case DropReason::count_: break;
  }
  return "unknown";
}

namespace {

dtls::Session make_dtls(const TransportConfig& c) {
  const auto role = c.role == TransportRole::server ? dtls::Role::server : dtls::Role::client;
  return dtls::Session(role, c.dtls_context, c.dtls);
}

uint64_t lite_refusals(const ice::IceCounters& c) {
  return c.bad_fingerprint + c.bad_username + c.bad_integrity + c.missing_attributes + c.unknown_attributes +
         c.role_conflicts + c.not_requests;
}

}  // namespace

Transport::Transport(TransportConfig config)
    : config_(std::move(config)),
      dtls_(make_dtls(config_)),
      dtls_role_(config_.role == TransportRole::server ? dtls::Role::server : dtls::Role::client) {
  if (config_.role == TransportRole::server) {
    lite_.emplace(config_.local_ice, config_.lite_ice);
  }
}

void Transport::set_remote_parameters(std::string_view ice_ufrag, std::string_view ice_pwd,
                                      const dtls::Fingerprint& fp) {
  dtls_.set_remote_fingerprint(fp);
  remote_fingerprint_ = fp;
  remote_known_ = true;
  if (lite_) {
    lite_->set_remote_ufrag(ice_ufrag);
  } else if (!controlling_) {
    controlling_.emplace(config_.local_ice, ice::IceCredentials{std::string(ice_ufrag), std::string(ice_pwd)},
                         config_.controlling_ice);
  }
  // Replay DTLS that arrived before the fingerprint was known.
  auto early = std::move(early_dtls_);
  early_dtls_.clear();
  for (auto& d : early) {
    dtls_.handle_packet(last_now_, d);
    pump(last_now_);
  }
}

void Transport::add_remote_candidate(const ice::Path& path, uint32_t priority) {
  if (controlling_) controlling_->add_remote_candidate(path, priority);
}

void Transport::set_dtls_role(dtls::Role role) {
  if (config_.role != TransportRole::client || dtls_started_ || role == dtls_role_) return;
  dtls_role_ = role;
  dtls_ = dtls::Session(role, config_.dtls_context, config_.dtls);
  if (remote_fingerprint_) dtls_.set_remote_fingerprint(*remote_fingerprint_);
  if (state_ == TransportState::connecting) pump(last_now_);  // a DTLS server starts at once
}

void Transport::set_ice_controlling(bool controlling) {
  if (config_.role == TransportRole::client && !controlling_) config_.controlling_ice.controlling = controlling;
}

void Transport::start(Instant now) {
  if (state_ != TransportState::new_) return;
  set_state(TransportState::connecting);
  connect_deadline_ = now + config_.connect_timeout;
  if (lite_) {
    dtls_.start(now);  // the server waits for the ClientHello
    dtls_started_ = true;
  } else if (controlling_) {
    controlling_->start(now);  // a DTLS client starts once ICE has a path
  }
  last_now_ = now;
  pump(now);
}

ReceivedMedia Transport::handle_datagram(Instant now, const ice::Path& from, MutBytes data) {
  const ice::PacketKind kind = ice::classify_packet(data);
  if (kind != ice::PacketKind::stun) return handle_classified(now, from, data, kind);
  counters_.bytes_in += data.size();
  if (state_ == TransportState::failed || state_ == TransportState::closed) {
    drop(DropReason::closed);
    return {};
  }
  auto msg = ice::parse_stun(data);
  if (!msg) {
    drop(DropReason::malformed);
    return {};
  }
  handle_stun(now, from, *msg);
  return {};
}

ReceivedMedia Transport::handle_classified(Instant now, const ice::Path& from, MutBytes data, ice::PacketKind kind) {
  counters_.bytes_in += data.size();
  if (state_ == TransportState::failed || state_ == TransportState::closed) {
    drop(DropReason::closed);
    return {};
  }
  switch (kind) {
    case ice::PacketKind::dtls:
      if (!is_valid_path(from)) {
        constexpr size_t kMaxUnvalidated = 8;
        if (controlling_ && state_ == TransportState::connecting && unvalidated_dtls_.size() < kMaxUnvalidated) {
          unvalidated_dtls_.push_back({from, std::vector<uint8_t>(data.begin(), data.end())});
          return {};
        }
        drop(DropReason::unknown_path);
        return {};
      }
      ++counters_.dtls_in;
      last_dtls_path_ = from;
      last_now_ = now;
      if (!remote_known_) {
        constexpr size_t kMaxEarly = 8;  // a ClientHello flight and its retransmissions
        if (early_dtls_.size() < kMaxEarly) early_dtls_.emplace_back(data.begin(), data.end());
        return {};
      }
      dtls_.handle_packet(now, data);
      pump(now);
      return {};
    case ice::PacketKind::rtp:
    case ice::PacketKind::rtcp: {
      if (!is_valid_path(from)) {
        drop(DropReason::unknown_path);
        return {};
      }
      return unprotect(data, kind == ice::PacketKind::rtcp);
    }
    default:
      drop(DropReason::malformed);
      return {};
  }
}

ReceivedMedia Transport::unprotect(MutBytes data, bool rtcp) {
  if (!srtp_) {
    drop(DropReason::not_connected);
    return {};
  }
  auto r = rtcp ? srtp_->unprotect_rtcp(data, data.size()) : srtp_->unprotect_rtp(data, data.size());
  if (!r) {
    switch (r.error()) {
      case dtls::SrtpError::auth_fail: drop(DropReason::srtp_auth); break;
      case dtls::SrtpError::replay_fail:
      case dtls::SrtpError::replay_old: drop(DropReason::srtp_replay); break;
      default: drop(DropReason::srtp_other); break;
    }
    return {};
  }
  ++(rtcp ? counters_.rtcp_in : counters_.rtp_in);
  const MutBytes packet = data.first(*r);
  if (rtcp) return {ReceivedMedia::Kind::rtcp, packet, std::nullopt};
  auto view = rtp::parse_rtp(packet);
  return {ReceivedMedia::Kind::rtp, packet, view ? std::optional<rtp::RtpView>(*view) : std::nullopt};
}

void Transport::handle_stun(Instant now, const ice::Path& from, const ice::StunView& msg) {
  ++counters_.stun_in;
  if (state_ == TransportState::failed || state_ == TransportState::closed) {
    drop(DropReason::closed);
    return;
  }
  if (lite_) {
    const uint64_t before = lite_refusals(lite_->counters());
    lite_->handle_stun(now, from, msg);
    if (lite_refusals(lite_->counters()) != before) drop(DropReason::bad_stun);
  } else if (controlling_) {
    const auto& c = controlling_->counters();
    const uint64_t before = c.bad_responses + c.bad_requests + c.role_conflicts_sent;
    controlling_->handle_stun(now, from, msg);
    if (c.bad_responses + c.bad_requests + c.role_conflicts_sent != before) drop(DropReason::bad_stun);
  }
  pump(now);
}

void Transport::handle_timeout(Instant now) {
  if (state_ == TransportState::failed || state_ == TransportState::closed) return;
  if (state_ == TransportState::connecting && connect_deadline_ && now >= *connect_deadline_) {
    set_state(TransportState::failed);
    return;
  }
  if (lite_) {
    if (auto t = lite_->poll_timeout(); t && *t <= now) lite_->handle_timeout(now);
  } else if (controlling_) {
    if (auto t = controlling_->poll_timeout(); t && *t <= now) controlling_->handle_timeout(now);
  }
  if (auto t = dtls_.poll_timeout(); t && *t <= now) dtls_.handle_timeout(now);
  pump(now);
}

std::optional<Instant> Transport::poll_timeout() const {
  if (state_ == TransportState::failed || state_ == TransportState::closed) return std::nullopt;
  std::optional<Instant> t;
  auto take = [&](std::optional<Instant> x) {
    if (x && (!t || *x < *t)) t = x;
  };
  if (state_ == TransportState::connecting) take(connect_deadline_);
  take(lite_ ? lite_->poll_timeout() : controlling_ ? controlling_->poll_timeout() : std::nullopt);
  take(dtls_.poll_timeout());
  return t;
}

void Transport::pump(Instant now) {
  // ICE may start DTLS (client role), and DTLS output needs ICE's path.
  pump_ice(now);
  if (!unvalidated_dtls_.empty()) replay_validated_dtls(now);
  pump_dtls(now);
  if (state_ == TransportState::connecting && ice_connected_ && srtp_) set_state(TransportState::connected);
}

void Transport::replay_validated_dtls(Instant now) {
  if (state_ != TransportState::connecting) {
    for (size_t i = 0; i < unvalidated_dtls_.size(); ++i) drop(DropReason::unknown_path);
    unvalidated_dtls_.clear();
    return;
  }
  auto held = std::move(unvalidated_dtls_);
  unvalidated_dtls_.clear();
  for (auto& d : held) {
    if (!is_valid_path(d.path)) {
      unvalidated_dtls_.push_back(std::move(d));
      continue;
    }
    ++counters_.dtls_in;
    last_dtls_path_ = d.path;
    dtls_.handle_packet(now, d.bytes);
  }
}

void Transport::pump_ice(Instant now) {
  auto drain = [&](auto& agent) {
    while (auto tx = agent.poll_transmit()) push_transmit(tx->path, tx->data);
    while (auto ev = agent.poll_event()) {
      if (ev->type == ice::IceEvent::Type::selected_path_changed) {
        events_.push_back({TransportEvent::Type::selected_path_changed, state_, ev->selected_path, {}});
      } else if (ev->state == ice::IceState::connected) {
        ice_connected_ = true;
      } else if (ev->state == ice::IceState::failed) {
        set_state(TransportState::failed);
      }
    }
  };
  if (lite_) drain(*lite_);
  if (controlling_) drain(*controlling_);
  // Client role: a DTLS client needs ICE's path for its ClientHello; a DTLS
  // server only waits, so it starts with the transport (the peer may finish
  // ICE first and send its ClientHello before our own check succeeds).
  const bool dtls_ready = ice_connected_ || (dtls_role_ == dtls::Role::server && state_ != TransportState::new_);
  if (controlling_ && dtls_ready && !dtls_started_) {
    dtls_started_ = true;
    dtls_.start(now);
  }
}

void Transport::pump_dtls(Instant /*now*/) {
  while (auto tx = dtls_.poll_transmit()) {
    if (auto path = dtls_path()) push_transmit(*path, *tx);
  }
  while (auto ev = dtls_.poll_event()) {
    if (auto* c = std::get_if<dtls::Connected>(&*ev)) {
      auto s = dtls::SrtpSession::create(c->keys, config_.srtp);
      if (!s) {
        set_state(TransportState::failed);
        return;
      }
      srtp_.emplace(std::move(s.value()));
    } else if (auto* d = std::get_if<dtls::ApplicationData>(&*ev)) {
      app_data_.emplace_back(d->data.begin(), d->data.end());
      events_.push_back({TransportEvent::Type::application_data, state_, {}, {}});
    } else if (std::holds_alternative<dtls::Closed>(*ev)) {
      set_state(TransportState::closed);
    } else if (std::holds_alternative<dtls::Failed>(*ev)) {
      set_state(TransportState::failed);
    }
  }
}

std::optional<ice::Path> Transport::dtls_path() const {
  if (auto p = send_path()) return p;
  return last_dtls_path_;
}

void Transport::push_transmit(const ice::Path& path, Bytes data) {
  transmits_.push_back({path, std::vector<uint8_t>(data.begin(), data.end())});
}

std::optional<TransportTransmit> Transport::poll_transmit() {
  if (transmits_.empty()) return std::nullopt;
  current_tx_ = std::move(transmits_.front());
  transmits_.pop_front();
  counters_.bytes_out += current_tx_.bytes.size();
  return TransportTransmit{current_tx_.path, current_tx_.bytes};
}

std::optional<TransportEvent> Transport::poll_event() {
  if (events_.empty()) return std::nullopt;
  TransportEvent e = events_.front();
  events_.pop_front();
  if (e.type == TransportEvent::Type::application_data) {
    current_app_ = std::move(app_data_.front());
    app_data_.erase(app_data_.begin());
    e.data = current_app_;
  }
  return e;
}

void Transport::set_state(TransportState s) {
  if (s == state_) return;
  state_ = s;
  if (s != TransportState::connecting) connect_deadline_.reset();
  events_.push_back({TransportEvent::Type::state_changed, s, {}, {}});
}

Result<size_t, dtls::SrtpError> Transport::protect_rtp(MutBytes buffer, size_t length) {
  if (!srtp_ || state_ != TransportState::connected) return fail(dtls::SrtpError::other);
  auto r = srtp_->protect_rtp(buffer, length);
  if (r) {
    ++counters_.rtp_out;
    counters_.bytes_out += *r;
  } else {
    ++counters_.protect_failures;
  }
  return r;
}

Result<size_t, dtls::SrtpError> Transport::protect_rtcp(MutBytes buffer, size_t length) {
  if (!srtp_ || state_ != TransportState::connected) return fail(dtls::SrtpError::other);
  auto r = srtp_->protect_rtcp(buffer, length);
  if (r) {
    ++counters_.rtcp_out;
    counters_.bytes_out += *r;
  } else {
    ++counters_.protect_failures;
  }
  return r;
}

std::optional<ice::Path> Transport::send_path() const {
  if (lite_) return lite_->selected_path();
  if (controlling_) return controlling_->selected_path();
  return std::nullopt;
}

bool Transport::send_application_data(Bytes data) {
  if (state_ != TransportState::connected) return false;
  if (!dtls_.send_application_data(data)) return false;
  pump_dtls(Instant{});
  return true;
}

void Transport::restart_ice(ice::IceCredentials local) {
  config_.local_ice = local;
  if (lite_) lite_->restart(std::move(local));
}

void Transport::forget_tcp(uint32_t connection) {
  if (lite_) lite_->forget_tcp(connection);
}

void Transport::close() {
  if (state_ == TransportState::closed) return;
  if (dtls_.state() == dtls::State::connected) {
    dtls_.close();
    pump_dtls(Instant{});
  }
  if (lite_) lite_->close();
  if (controlling_) controlling_->close();
  srtp_.reset();
  set_state(TransportState::closed);
}

const ice::IceCredentials& Transport::local_ice() const {
  return lite_ ? lite_->local_credentials() : config_.local_ice;
}

bool Transport::is_valid_path(const ice::Path& path) const {
  if (lite_) return lite_->is_valid_path(path);
  if (controlling_) return controlling_->is_valid_path(path);
  return false;
}

std::optional<dtls::SrtpProfile> Transport::srtp_profile() const {
  if (!srtp_) return std::nullopt;
  return srtp_->profile();
}

}  // namespace sfu::server
