#include "ice/lite_agent.hpp"

#include <openssl/rand.h>

#include <algorithm>

#include "ice/candidate.hpp"
#include "ice/stun_builder.hpp"

namespace sfu::ice {

namespace {

std::string random_ice_chars(size_t n) {
  // ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4): 64 symbols, so
  // each random byte's low 6 bits pick one without bias.
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out(n, 'A');
  std::array<unsigned char, 256> bytes{};
  RAND_bytes(bytes.data(), int(n));
  for (size_t i = 0; i < n; ++i) out[i] = kAlphabet[bytes[i] & 63];
  return out;
}

}  // namespace

IceCredentials IceCredentials::generate() { return {random_ice_chars(8), random_ice_chars(24)}; }

std::string_view to_string(IceState s) {
  switch (s) {
    case IceState::new_: return "new";
    case IceState::checking: return "checking";
    case IceState::connected: return "connected";
    case IceState::failed: return "failed";
    case IceState::closed: return "closed";
  }
  return "unknown";
}

std::optional<std::string_view> local_ufrag_of(const StunView& msg) {
  auto user = msg.username();
  if (!user) return std::nullopt;
  const auto colon = user->find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return user->substr(0, colon);
}

LiteAgent::LiteAgent(IceCredentials local, IceAgentConfig config)
    : local_(std::move(local)), key_(IntegrityKey::from_password(local_.pwd)), config_(config) {}

void LiteAgent::restart(IceCredentials local) {
  local_ = std::move(local);
  key_ = IntegrityKey::from_password(local_.pwd);
  remote_ufrag_.clear();  // the peer's restart offer brings a new one
  // Nominations belong to the old generation (§9); the selected path keeps
  // carrying media until the peer nominates again.
  for (auto& p : paths_) p.nominated = false;
}

bool LiteAgent::verify_request(const StunView& msg, const Path& from) {
  // RFC 8445 §7.3: FINGERPRINT first (it tells STUN from other protocols),
  // then USERNAME and MESSAGE-INTEGRITY (RFC 8489 §9.1.3).
  if (!check_fingerprint(msg)) {
    ++counters_.bad_fingerprint;
    return false;  // not answered: may not even be meant as STUN
  }
  auto user = msg.username();
  if (!user || !msg.has_integrity()) {
    ++counters_.missing_attributes;
    respond_error(msg, from, 400, false);
    return false;
  }
  const auto colon = user->find(':');
  const bool user_ok = colon != std::string_view::npos && user->substr(0, colon) == local_.ufrag &&
                       (remote_ufrag_.empty() || user->substr(colon + 1) == remote_ufrag_);
  if (!user_ok) {
    ++counters_.bad_username;
    respond_error(msg, from, 401, false);
    return false;
  }
  if (!check_integrity(msg, key_)) {
    ++counters_.bad_integrity;
    respond_error(msg, from, 401, false);
    return false;
  }
  if (msg.unknown_required()) {
    ++counters_.unknown_attributes;
    respond_error(msg, from, 420, true);
    return false;
  }
  // A lite agent is always controlled (RFC 8445 §6.1.1); a peer that also
  // claims to be controlled must switch: 487 (§7.3.1.1).
  if (msg.ice_controlled()) {
    ++counters_.role_conflicts;
    respond_error(msg, from, 487, true);
    return false;
  }
  return true;
}

void LiteAgent::handle_stun(Instant now, const Path& from, const StunView& msg) {
  if (state_ == IceState::closed || state_ == IceState::failed) return;
  if (msg.method() != StunMethod::binding || msg.message_class() != StunClass::request) {
    ++counters_.not_requests;
    return;
  }
  ++counters_.requests;
  if (!verify_request(msg, from)) return;

  PathState& p = remember(now, from);
  std::array<uint8_t, kTxSize> buf{};
  MutBytes reply = make_binding_success(buf, msg, from.remote, key_);
  queue(from, reply);

  if (state_ == IceState::new_) set_state(IceState::checking);
  // §6.1.2.3 with the peer controlling: G = its candidate's PRIORITY (the
  // check carries it), D = our host candidate's.
  const uint64_t g = msg.priority().value_or(0);
  const uint64_t d = host_priority(from.is_tcp() ? CandidateProtocol::tcp : CandidateProtocol::udp, 0);
  p.pair_priority = (std::min(g, d) << 32) + 2 * std::max(g, d) + (g > d ? 1 : 0);
  if (msg.use_candidate()) {
    ++counters_.nominations;
    p.nominated = true;
  }
  reselect(now);
  // RFC 7675: consent is a valid check on the path media uses.
  if (selected_ && &p == &paths_[*selected_]) consent_deadline_ = now + config_.consent_timeout;
}

void LiteAgent::reselect(Instant now) {
  std::optional<size_t> best;
  for (size_t i = 0; i < paths_.size(); ++i) {
    const PathState& p = paths_[i];
    if (!p.in_use || !p.nominated || now - p.last_valid_check >= kNominationFresh) continue;
    // Ties keep the current path.
    if (!best || p.pair_priority > paths_[*best].pair_priority ||
        (p.pair_priority == paths_[*best].pair_priority && selected_ == i))
      best = i;
  }
  if (!best || best == selected_) return;
  if (selected_ && selected_ != best) ++counters_.reselections;
  selected_ = best;
  IceEvent e{IceEvent::Type::selected_path_changed, state_, paths_[*best].path};
  if (ev_count_ < events_.size()) events_[(ev_head_ + ev_count_++) % events_.size()] = e;
  consent_deadline_ = paths_[*best].last_valid_check + config_.consent_timeout;
  if (state_ != IceState::connected) set_state(IceState::connected);
}

LiteAgent::PathState& LiteAgent::remember(Instant now, const Path& from) {
  PathState* free_slot = nullptr;
  PathState* oldest = nullptr;
  for (auto& p : paths_) {
    if (p.in_use && p.path == from) {
      p.last_valid_check = now;
      return p;
    }
    if (!p.in_use && !free_slot) free_slot = &p;
    // Never evict the selected path for an unnominated newcomer.
    const bool is_selected = selected_ && &p == &paths_[*selected_];
    if (p.in_use && !is_selected && (!oldest || p.last_valid_check < oldest->last_valid_check)) oldest = &p;
  }
  PathState* slot = free_slot;
  if (!slot) {
    ++counters_.path_limit_evictions;
    slot = oldest;
  }
  *slot = PathState{from, now, true, false, 0};
  return *slot;
}

void LiteAgent::respond_error(const StunView& msg, const Path& from, uint16_t code, bool with_integrity) {
  std::array<uint8_t, kTxSize> buf{};
  MutBytes reply = make_error_response(buf, msg, code, with_integrity ? &key_ : nullptr);
  queue(from, reply);
}

void LiteAgent::queue(const Path& to, MutBytes message) {
  if (message.empty() || tx_count_ == kTxSlots) return;
  const size_t slot = (tx_head_ + tx_count_++) % kTxSlots;
  std::copy(message.begin(), message.end(), tx_buf_[slot].begin());
  tx_[slot] = IceTransmit{to, Bytes(tx_buf_[slot].data(), message.size())};
}

std::optional<IceTransmit> LiteAgent::poll_transmit() {
  if (tx_count_ == 0) return std::nullopt;
  const IceTransmit t = tx_[tx_head_];
  tx_head_ = (tx_head_ + 1) % kTxSlots;
  --tx_count_;
  ++counters_.responses_sent;
  return t;
}

std::optional<IceEvent> LiteAgent::poll_event() {
  if (ev_count_ == 0) return std::nullopt;
  const IceEvent e = events_[ev_head_];
  ev_head_ = (ev_head_ + 1) % events_.size();
  --ev_count_;
  return e;
}

void LiteAgent::set_state(IceState s) {
  if (s == state_) return;
  state_ = s;
  if (ev_count_ < events_.size()) events_[(ev_head_ + ev_count_++) % events_.size()] = {IceEvent::Type::state_changed, s, {}};
}

std::optional<Instant> LiteAgent::poll_timeout() const {
  if (state_ == IceState::failed || state_ == IceState::closed) return std::nullopt;
  std::optional<Instant> earliest = consent_deadline_;
  for (size_t i = 0; i < paths_.size(); ++i) {
    const auto& p = paths_[i];
    if (!p.in_use || selected_ == i) continue;
    const Instant t = p.last_valid_check + config_.path_expiry;
    if (!earliest || t < *earliest) earliest = t;
  }
  return earliest;
}

void LiteAgent::handle_timeout(Instant now) {
  if (state_ == IceState::failed || state_ == IceState::closed) return;
  // RFC 7675 §5.1: no valid check on the selected path for the consent
  // timeout — consent is lost and the transport stops sending.
  if (consent_deadline_ && now >= *consent_deadline_) {
    for (auto& p : paths_) p.in_use = false;
    selected_.reset();
    consent_deadline_.reset();
    set_state(IceState::failed);
    return;
  }
  for (size_t i = 0; i < paths_.size(); ++i) {
    auto& p = paths_[i];
    if (p.in_use && selected_ != i && now - p.last_valid_check >= config_.path_expiry) p.in_use = false;
  }
}

void LiteAgent::forget_tcp(uint32_t connection) {
  for (auto& p : paths_) {
    if (!p.in_use || p.path.tcp != connection) continue;
    if (selected_ && &p == &paths_[*selected_]) selected_.reset();
    p.in_use = false;
  }
}

void LiteAgent::close() {
  for (auto& p : paths_) p.in_use = false;
  selected_.reset();
  set_state(IceState::closed);
}

bool LiteAgent::is_valid_path(const Path& path) const {
  return std::any_of(paths_.begin(), paths_.end(), [&](const PathState& p) { return p.in_use && p.path == path; });
}

std::optional<Path> LiteAgent::selected_path() const {
  if (!selected_) return std::nullopt;
  return paths_[*selected_].path;
}

size_t LiteAgent::path_count() const {
  return size_t(std::count_if(paths_.begin(), paths_.end(), [](const PathState& p) { return p.in_use; }));
}

}  // namespace sfu::ice
