#include "ice/controlling_agent.hpp"

#include <array>
#include <string>

#include "ice/stun_builder.hpp"

namespace sfu::ice {

ControllingAgent::ControllingAgent(IceCredentials local, IceCredentials remote, ControllingAgentConfig config)
    : local_(std::move(local)),
      remote_(std::move(remote)),
      remote_key_(IntegrityKey::from_password(remote_.pwd)),
      local_key_(IntegrityKey::from_password(local_.pwd)),
      config_(config),
      rng_(config.seed ? config.seed : 0x9e3779b97f4a7c15ull),
      controlling_(config.controlling) {
  tie_breaker_ = next_random();
  if (config_.tie_breaker) tie_breaker_ = *config_.tie_breaker;
}

uint64_t ControllingAgent::next_random() {
  // splitmix64: deterministic for a seed, good enough for ids and jitter.
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void ControllingAgent::add_remote_candidate(const Path& path, uint32_t priority) {
  checks_.push_back(Check{path, priority});
  if (state_ == IceState::checking) checks_.back().next_send = Instant{};  // send at the next timeout
}

void ControllingAgent::start(Instant now) {
  if (state_ != IceState::new_) return;
  set_state(IceState::checking);
  for (auto& c : checks_) send_check(now, c, true);
}

void ControllingAgent::send_check(Instant now, Check& c, bool fresh) {
  if (fresh) {
    for (size_t i = 0; i < c.txid.size(); i += 8) {
      const uint64_t r = next_random();
      for (size_t j = 0; j < 8 && i + j < c.txid.size(); ++j) c.txid[i + j] = uint8_t(r >> (8 * j));
    }
    c.sent = 0;
    c.rto = config_.initial_rto;
  } else {
    ++counters_.retransmissions;
    c.rto *= 2;
  }
  std::vector<uint8_t> buf(256);
  StunBuilder b(buf);
  b.begin(StunMethod::binding, StunClass::request, c.txid);
  b.add_username(remote_.ufrag + ":" + local_.ufrag);
  if (controlling_) {
    b.add_ice_controlling(tie_breaker_);
  } else {
    b.add_ice_controlled(tie_breaker_);
  }
  b.add_priority(c.priority);
  if (controlling_) b.add_use_candidate();  // aggressive nomination
  c.sent_controlling = controlling_;
  MutBytes msg = b.finish(&remote_key_, true);
  if (msg.empty()) return;
  buf.resize(msg.size());
  tx_storage_.push_back(std::move(buf));
  tx_.push_back({c.path, Bytes(tx_storage_.back())});
  ++c.sent;
  ++counters_.requests_sent;
  c.in_flight = true;
  c.next_send = now + c.rto;
}

void ControllingAgent::handle_stun(Instant now, const Path& from, const StunView& msg) {
  if (state_ == IceState::failed || state_ == IceState::closed) return;
  const auto cls = msg.message_class();
  if (msg.method() == StunMethod::binding && cls == StunClass::request) {
    handle_request(now, from, msg);
  } else if (msg.method() == StunMethod::binding &&
             (cls == StunClass::success_response || cls == StunClass::error_response)) {
    handle_response(now, from, msg);
  } else if (msg.method() != StunMethod::binding) {
    ++counters_.bad_responses;
  }  // binding indications are keepalives (RFC 8445 §11): nothing to do
}

void ControllingAgent::handle_response(Instant now, const Path& from, const StunView& msg) {
  const auto cls = msg.message_class();
  Check* check = nullptr;
  for (auto& c : checks_)
    if (c.in_flight && c.path == from && c.txid == msg.transaction_id()) check = &c;
  // Responses are authenticated with the remote password (RFC 8445 §7.2.5.2.1 via §7.2.2).
  if (!check || !check_fingerprint(msg) ||
      ((cls == StunClass::success_response || msg.has_integrity()) && !check_integrity(msg, remote_key_))) {
    ++counters_.bad_responses;
    return;
  }
  check->in_flight = false;
  if (cls == StunClass::error_response) {
    const auto code = msg.error_code();
    if (code && code->code == 487) {
      // §7.2.5.1: switch to the role opposite to the one the request
      // claimed (unless already done) and check the pair again.
      if (check->sent_controlling == controlling_) switch_role();
      send_check(now, *check, true);
      return;
    }
    ++counters_.error_responses;
    return;  // the transaction failed; the next consent/retry round tries again
  }
  ++counters_.successes;
  check->succeeded = true;
  last_consent_ = now;
  const size_t index = size_t(check - checks_.data());
  // Controlling: our USE-CANDIDATE check succeeded, the pair is nominated.
  // Controlled: a success on a pair the peer already nominated completes it.
  if (controlling_ || check->nominated) select(now, index);
}

void ControllingAgent::handle_request(Instant now, const Path& from, const StunView& msg) {
  if (!verify_request(from, msg)) return;
  if (!resolve_role_conflict(from, msg)) return;
  ++counters_.requests_received;
  std::array<uint8_t, 128> buf{};
  queue(from, make_binding_success(buf, msg, from.remote, local_key_));  // §7.3.1.3

  Check& c = check_for(from, msg.priority().value_or(0));
  c.peer_checked = true;
  const size_t index = size_t(&c - checks_.data());
  // §7.3.1.4: a triggered check on the pair unless it already succeeded.
  if ((state_ == IceState::checking || state_ == IceState::connected) && !c.succeeded && !c.in_flight)
    send_check(now, c, true);
  if (!controlling_ && msg.use_candidate()) {
    ++counters_.nominations_received;
    c.nominated = true;
    // §7.3.1.5 nominates once our own check succeeds; the request itself
    // proves the peer can reach us and we answered, so the path is usable
    // at once (what ICE-lite does), and our check only refreshes consent.
    if (!selected_ || *selected_ != index) select(now, index);
  }
}

bool ControllingAgent::verify_request(const Path& from, const StunView& msg) {
  // RFC 8445 §7.3 / RFC 8489 §9.1.3: FINGERPRINT, USERNAME, MESSAGE-INTEGRITY.
  if (!check_fingerprint(msg)) {
    ++counters_.bad_requests;
    return false;  // not answered: may not even be meant as STUN
  }
  const auto user = msg.username();
  const std::string expected = local_.ufrag + ":" + remote_.ufrag;
  if (!user || !msg.has_integrity()) {
    ++counters_.bad_requests;
    respond_error(from, msg, 400, false);
    return false;
  }
  if (*user != expected || !check_integrity(msg, local_key_)) {
    ++counters_.bad_requests;
    respond_error(from, msg, 401, false);
    return false;
  }
  if (msg.unknown_required()) {
    ++counters_.bad_requests;
    respond_error(from, msg, 420, true);
    return false;
  }
  return true;
}

bool ControllingAgent::resolve_role_conflict(const Path& from, const StunView& msg) {
  // RFC 8445 §7.3.1.1: the larger tie-breaker keeps (or takes) the
  // controlling role; the other side learns it from a 487.
  if (controlling_) {
    const auto theirs = msg.ice_controlling();
    if (!theirs) return true;
    if (tie_breaker_ >= *theirs) {
      ++counters_.role_conflicts_sent;
      respond_error(from, msg, 487, true);
      return false;
    }
    switch_role();
    return true;
  }
  const auto theirs = msg.ice_controlled();
  if (!theirs) return true;
  if (tie_breaker_ >= *theirs) {
    switch_role();
    return true;
  }
  ++counters_.role_conflicts_sent;
  respond_error(from, msg, 487, true);
  return false;
}

void ControllingAgent::respond_error(const Path& from, const StunView& msg, uint16_t code, bool with_integrity) {
  std::array<uint8_t, 160> buf{};
  queue(from, make_error_response(buf, msg, code, with_integrity ? &local_key_ : nullptr));
}

void ControllingAgent::queue(const Path& to, MutBytes message) {
  if (message.empty()) return;
  tx_storage_.emplace_back(message.begin(), message.end());
  tx_.push_back({to, Bytes(tx_storage_.back())});
}

ControllingAgent::Check& ControllingAgent::check_for(const Path& path, uint32_t priority) {
  for (auto& c : checks_)
    if (c.path == path) return c;
  // A peer-reflexive remote candidate (§7.3.1.3): learned from the request.
  checks_.push_back(Check{path, priority});
  return checks_.back();
}

void ControllingAgent::select(Instant now, size_t index) {
  const Check& c = checks_[index];
  const bool better = !selected_ || (checks_[*selected_].path != c.path &&
                                     (!controlling_ || c.priority > checks_[*selected_].priority));
  if (better) {
    selected_ = index;
    emit({IceEvent::Type::selected_path_changed, state_, c.path});
  }
  if (state_ != IceState::connected) {
    last_consent_ = now;
    set_state(IceState::connected);
    const auto jitter = int64_t(next_random() % 401) - 200;  // ±20 %, in 0.1 % steps
    next_consent_ = now + config_.consent_interval + config_.consent_interval * jitter / 1000;
  }
}

void ControllingAgent::switch_role() {
  controlling_ = !controlling_;
  ++counters_.role_switches;
}

void ControllingAgent::handle_timeout(Instant now) {
  if (state_ != IceState::checking && state_ != IceState::connected) return;
  if (state_ == IceState::connected) {
    if (now - last_consent_ >= config_.consent_timeout) {
      selected_.reset();
      set_state(IceState::failed);
      return;
    }
    if (now >= next_consent_) {
      send_check(now, checks_[*selected_], true);
      const auto jitter = int64_t(next_random() % 401) - 200;
      next_consent_ = now + config_.consent_interval + config_.consent_interval * jitter / 1000;
    }
  }
  bool any_alive = false;
  for (auto& c : checks_) {
    if (c.in_flight && now >= c.next_send) {
      if (c.sent < config_.max_transmissions) {
        send_check(now, c, false);
      } else {
        c.in_flight = false;  // transaction timed out
      }
    } else if (state_ == IceState::checking && !c.in_flight && c.sent == 0) {
      send_check(now, c, true);  // added after start()
    }
    any_alive = any_alive || c.in_flight || c.succeeded || c.peer_checked;
  }
  // With no candidate at all, wait for the peer's checks (peer-reflexive);
  // the transport's connect timeout bounds that.
  if (state_ == IceState::checking && !any_alive && !checks_.empty()) set_state(IceState::failed);
}

std::optional<Instant> ControllingAgent::poll_timeout() const {
  if (state_ != IceState::checking && state_ != IceState::connected) return std::nullopt;
  std::optional<Instant> t;
  auto take = [&](Instant x) {
    if (!t || x < *t) t = x;
  };
  for (const auto& c : checks_) {
    if (c.in_flight) take(c.next_send);
    if (state_ == IceState::checking && !c.in_flight && c.sent == 0) take(Instant{});
  }
  if (state_ == IceState::connected) {
    take(next_consent_);
    take(last_consent_ + config_.consent_timeout);
  }
  return t;
}

std::optional<IceTransmit> ControllingAgent::poll_transmit() {
  if (tx_read_ == tx_.size()) {
    tx_.clear();
    tx_storage_.clear();
    tx_read_ = 0;
    return std::nullopt;
  }
  return tx_[tx_read_++];
}

std::optional<IceEvent> ControllingAgent::poll_event() {
  if (ev_read_ == events_.size()) {
    events_.clear();
    ev_read_ = 0;
    return std::nullopt;
  }
  return events_[ev_read_++];
}

void ControllingAgent::emit(const IceEvent& e) { events_.push_back(e); }

void ControllingAgent::set_state(IceState s) {
  if (s == state_) return;
  state_ = s;
  emit({IceEvent::Type::state_changed, s, {}});
}

void ControllingAgent::close() {
  selected_.reset();
  set_state(IceState::closed);
}

bool ControllingAgent::is_valid_path(const Path& path) const {
  for (const auto& c : checks_)
    if ((c.succeeded || c.peer_checked) && c.path == path) return true;
  return false;
}

std::optional<Path> ControllingAgent::selected_path() const {
  if (!selected_) return std::nullopt;
  return checks_[*selected_].path;
}

}  // namespace sfu::ice
