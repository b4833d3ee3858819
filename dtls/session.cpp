// DTLS session over OpenSSL: a datagram BIO, the handshake driver, the
// timer bridge and the flight recorder. See session.hpp for the contract.
#include "dtls/session.hpp"

#include "dtls/datagrams.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace sfu::dtls {

using detail::DatagramRing;
using detail::DatagramShape;
using detail::inspect;

namespace {

constexpr size_t kTxSlots = 32;       // a flight is 1..5 datagrams (OpenSSL packs records up to the MTU)
constexpr size_t kRxSlots = 16;       // application records between two poll_event drains
constexpr size_t kFlightSlots = 16;   // datagrams of the last flight kept for resending
constexpr size_t kReadChunk = 2048;   // first SSL_read size; grown for larger records
constexpr size_t kMaxRecord = 16384;  // DTLS plaintext limit (RFC 6347 §4.1, 2^14)
constexpr size_t kMinMtu = 256;
// How far OpenSSL's clock may run behind our `now` at a deadline before we
// stop waiting for it and resend the recorded flight (see session.hpp).
constexpr Duration kClockSlack = milliseconds(50);

unsigned int to_timer_us(Duration d) {
  const auto us = std::chrono::duration_cast<microseconds>(d).count();
  return unsigned(std::clamp<int64_t>(us, 1, int64_t(UINT32_MAX)));
}

}  // namespace

// ---- Session::Impl ---------------------------------------------------------

struct Session::Impl {
  Impl(Role role, std::shared_ptr<const Context> context, SessionConfig cfg);
  ~Impl();

  // Engine operations (see session.hpp).
  void start(Instant now);
  void handle_packet(Instant now, Bytes datagram);
  void handle_timeout(Instant now);
  std::optional<Event> poll_event();
  std::optional<Instant> poll_timeout() const;
  bool send_application_data(Bytes data);
  size_t max_application_data() const;
  void close();

  // Handshake and records.
  void drive_handshake();
  void on_handshake_done();
  std::optional<SrtpKeyingMaterial> export_keys();
  void read_records();
  int read_record(size_t& len);
  void on_close_notify();
  void fail(FailReason reason);
  void fail_after_handshake(FailReason reason);
  FailReason classify_error();

  // Timers and retransmission.
  void retransmit();
  std::optional<Duration> openssl_time_left();
  void resend_flight();
  void resend_final_flight();
  void on_openssl_timer(bool armed);
  unsigned int on_timer_cb(unsigned int previous_us);
  void on_datagram_out(Bytes datagram);
  bool peer_certificate_matches(X509* cert);

  // OpenSSL callbacks; `this` travels in the BIO's data and the SSL's app data.
  static BIO_METHOD* bio_method();
  static int bio_write(BIO* bio, const char* data, int len);
  static int bio_read(BIO* bio, char* out, int len);
  static long bio_ctrl(BIO* bio, int cmd, long num, void* ptr);
  static int bio_create(BIO* bio);
  static int verify_callback(int preverify_ok, X509_STORE_CTX* store);
  static unsigned int timer_callback(SSL* ssl, unsigned int previous_us);

  struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
  };

  Role role_;
  SessionConfig cfg_;
  std::shared_ptr<const Context> context_;
  State state_ = State::new_;
  Instant now_{};
  std::optional<Instant> handshake_deadline_;
  std::optional<Instant> retransmit_deadline_;
  std::optional<Instant> last_final_resend_;
  Duration rto_;
  bool timer_armed_ = false;          // OpenSSL's retransmission timer is running
  bool deferred_to_openssl_ = false;  // this deadline was already moved once for OpenSSL's clock
  bool in_handle_timeout_ = false;    // inside our DTLSv1_handle_timeout call
  bool handshake_done_ = false;
  bool fingerprint_mismatch_ = false;
  std::optional<Fingerprint> remote_fingerprint_;
  Bytes pending_in_;     // the datagram OpenSSL may read during this call
  uint64_t writes_ = 0;  // datagrams OpenSSL has written, ever
  DatagramRing tx_{kTxSlots};
  DatagramRing rx_{kRxSlots};
  DatagramRing flight_{kFlightSlots};
  std::vector<uint8_t> rx_buf_;  // SSL_read target, grown to the largest record seen
  std::optional<Connected> connected_event_;
  std::optional<Event> final_event_;
  std::optional<SrtpKeyingMaterial> keys_;
  SessionCounters counters_;
  std::unique_ptr<SSL, SslFree> ssl_;  // last: freed first, while the rest is intact
};

Session::Impl::Impl(Role role, std::shared_ptr<const Context> context, SessionConfig cfg)
    : role_(role), cfg_(std::move(cfg)), context_(std::move(context)), rto_(cfg_.initial_retransmit_timeout) {
  if (!context_) throw std::invalid_argument("dtls::Session: no context");
  if (cfg_.srtp_profiles.empty()) throw std::invalid_argument("dtls::Session: no SRTP profile");
  if (cfg_.mtu < kMinMtu || cfg_.mtu > 65507) throw std::invalid_argument("dtls::Session: MTU out of range");
  std::string profiles;
  for (SrtpProfile p : cfg_.srtp_profiles) {
    if (!profiles.empty()) profiles += ':';
    profiles += srtp_profile_openssl_name(p);
  }
  ssl_.reset(SSL_new(context_->native_handle()));
  BIO_METHOD* method = bio_method();
  BIO* bio = (ssl_ && method) ? BIO_new(method) : nullptr;
  if (bio == nullptr) {
    ERR_clear_error();
    throw std::runtime_error("dtls::Session: SSL_new / BIO_new failed");
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_.get(), bio, bio);  // the same BIO both ways: SSL takes one reference
  SSL_set_app_data(ssl_.get(), this);
  SSL_set_options(ssl_.get(), SSL_OP_NO_QUERY_MTU);
  DTLS_set_timer_cb(ssl_.get(), &timer_callback);
  SSL_set_verify(ssl_.get(), SSL_get_verify_mode(ssl_.get()), &verify_callback);  // mode from Context
  // SSL_set_mtu returns the MTU it took (0 if refused); SSL_set_tlsext_use_srtp
  // has the inverted convention, 0 on success.
  if (SSL_set_mtu(ssl_.get(), long(cfg_.mtu)) <= 0 || SSL_set_tlsext_use_srtp(ssl_.get(), profiles.c_str()) != 0) {
    ERR_clear_error();
    throw std::runtime_error("dtls::Session: OpenSSL refused the MTU or the SRTP profiles");
  }
  if (role_ == Role::server) {
    SSL_set_accept_state(ssl_.get());
  } else {
    SSL_set_connect_state(ssl_.get());
  }
}

Session::Impl::~Impl() {
  // Detach before SSL_free so no callback reaches a half-destroyed Impl.
  if (!ssl_) return;
  if (BIO* bio = SSL_get_rbio(ssl_.get())) BIO_set_data(bio, nullptr);
  SSL_set_app_data(ssl_.get(), nullptr);
  ssl_.reset();
  ERR_clear_error();
}

void Session::Impl::start(Instant now) {
  if (state_ != State::new_) return;
  now_ = now;
  state_ = State::connecting;
  handshake_deadline_ = now + cfg_.handshake_timeout;
  if (role_ == Role::client) drive_handshake();
}

void Session::Impl::handle_packet(Instant now, Bytes datagram) {
  now_ = now;
  ++counters_.datagrams_received;
  if (state_ != State::connecting && state_ != State::connected) {
    ++counters_.dropped_wrong_state;
    return;
  }
  const DatagramShape shape = inspect(datagram);
  if (!shape.well_formed) {
    ++counters_.dropped_malformed;
    return;
  }
  const uint64_t writes_before = writes_;
  pending_in_ = datagram;
  if (state_ == State::connecting) drive_handshake();
  if (state_ == State::connected) read_records();
  pending_in_ = {};
  // A handshake record after we are done that OpenSSL neither used nor
  // answered: the peer resent its last flight verbatim, so it misses ours.
  if (state_ == State::connected && shape.has_handshake && writes_ == writes_before) resend_final_flight();
}

void Session::Impl::handle_timeout(Instant now) {
  now_ = now;
  if (state_ != State::connecting) return;
  if (handshake_deadline_ && now >= *handshake_deadline_) return fail(FailReason::handshake_timeout);
  if (retransmit_deadline_ && now >= *retransmit_deadline_) retransmit();
}

std::optional<Event> Session::Impl::poll_event() {
  if (connected_event_) {
    Event e = *connected_event_;
    connected_event_.reset();
    return e;
  }
  if (auto data = rx_.pop()) return ApplicationData{*data};
  if (final_event_) {
    Event e = *final_event_;
    final_event_.reset();
    return e;
  }
  return std::nullopt;
}

std::optional<Instant> Session::Impl::poll_timeout() const {
  if (state_ != State::connecting) return std::nullopt;
  if (!retransmit_deadline_) return handshake_deadline_;
  if (!handshake_deadline_) return retransmit_deadline_;
  return std::min(*retransmit_deadline_, *handshake_deadline_);
}

bool Session::Impl::send_application_data(Bytes data) {
  if (state_ != State::connected || data.empty() || data.size() > max_application_data()) return false;
  ERR_clear_error();
  const int n = SSL_write(ssl_.get(), data.data(), int(data.size()));
  ERR_clear_error();
  return n == int(data.size());
}

size_t Session::Impl::max_application_data() const {
  return state_ == State::connected ? DTLS_get_data_mtu(ssl_.get()) : 0;
}

void Session::Impl::close() {
  if (state_ == State::connected) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }
  if (state_ == State::new_ || state_ == State::connecting || state_ == State::connected) state_ = State::closed;
  retransmit_deadline_.reset();
  handshake_deadline_.reset();
}

void Session::Impl::drive_handshake() {
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    ERR_clear_error();
    return on_handshake_done();
  }
  const int err = SSL_get_error(ssl_.get(), r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    return;
  }
  fail(classify_error());
}

// RFC 5764 §4.1/§4.2 and RFC 8842 §5: a certificate must have been shown,
// its digest must be the one from SDP, and a protection profile agreed.
void Session::Impl::on_handshake_done() {
  handshake_done_ = true;
  timer_armed_ = false;
  retransmit_deadline_.reset();
  X509* peer = SSL_get0_peer_certificate(ssl_.get());
  if (peer == nullptr) return fail_after_handshake(FailReason::no_certificate);
  if (!peer_certificate_matches(peer) || !remote_fingerprint_)
    return fail_after_handshake(FailReason::fingerprint_mismatch);
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_.get());
  if (selected == nullptr || !srtp_profile_from_id(uint16_t(selected->id)))
    return fail_after_handshake(FailReason::no_srtp_profile);
  auto keys = export_keys();
  if (!keys) return fail_after_handshake(FailReason::protocol_error);
  state_ = State::connected;
  handshake_deadline_.reset();
  keys_ = *keys;
  connected_event_ = Connected{*keys};
}

std::optional<SrtpKeyingMaterial> Session::Impl::export_keys() {
  const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl_.get());
  const auto profile = srtp_profile_from_id(uint16_t(selected->id));
  std::array<uint8_t, 2 * kMaxSrtpKeySaltLen> block{};
  const size_t len = srtp_exporter_len(*profile);
  const int ok = SSL_export_keying_material(ssl_.get(), block.data(), len, kSrtpExporterLabel.data(),
                                            kSrtpExporterLabel.size(), nullptr, 0, 0);
  ERR_clear_error();
  std::optional<SrtpKeyingMaterial> keys;
  if (ok == 1) keys = srtp_keying_material_from_exporter(*profile, Bytes(block.data(), len), role_ == Role::client);
  OPENSSL_cleanse(block.data(), block.size());
  return keys;
}

// Reads every application record OpenSSL can produce from what it holds.
void Session::Impl::read_records() {
  while (state_ == State::connected) {
    size_t len = 0;
    const int err = read_record(len);
    if (err == SSL_ERROR_NONE) {
      if (!rx_.push(Bytes(rx_buf_.data(), len))) ++counters_.dropped_rx_full;
      // Application data proves the peer finished its handshake: our last
      // flight will not be needed again.
      flight_.clear();
      continue;
    }
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
    if (err == SSL_ERROR_ZERO_RETURN) return on_close_notify();
    return fail(classify_error());
  }
}

// One SSL_read into rx_buf_, continued while the same record has bytes
// left, so a record larger than the first chunk still arrives whole (one
// record is one SCTP packet). Returns an SSL_ERROR_* code; NONE with len > 0.
int Session::Impl::read_record(size_t& len) {
  if (rx_buf_.size() < kReadChunk) rx_buf_.resize(kReadChunk);
  ERR_clear_error();
  int n = SSL_read(ssl_.get(), rx_buf_.data(), int(rx_buf_.size()));
  if (n <= 0) return SSL_get_error(ssl_.get(), n);
  len = size_t(n);
  while (SSL_pending(ssl_.get()) > 0 && len < kMaxRecord) {
    const size_t more = size_t(SSL_pending(ssl_.get()));
    if (rx_buf_.size() < len + more) rx_buf_.resize(len + more);
    n = SSL_read(ssl_.get(), rx_buf_.data() + len, int(more));
    if (n <= 0) break;
    len += size_t(n);
  }
  ERR_clear_error();
  return SSL_ERROR_NONE;
}

void Session::Impl::on_close_notify() {
  state_ = State::closed;
  final_event_ = Closed{};
  ERR_clear_error();
  SSL_shutdown(ssl_.get());  // answer with our own close_notify (RFC 5246 §7.2.1)
  ERR_clear_error();
}

void Session::Impl::fail(FailReason reason) {
  ERR_clear_error();
  if (state_ == State::failed || state_ == State::closed) return;
  state_ = State::failed;
  final_event_ = Failed{reason};
  retransmit_deadline_.reset();
  handshake_deadline_.reset();
  flight_.clear();
}

// OpenSSL considers the handshake good but we do not: tell the peer with
// close_notify so it does not sit connected.
void Session::Impl::fail_after_handshake(FailReason reason) {
  ERR_clear_error();
  SSL_shutdown(ssl_.get());
  fail(reason);
}

FailReason Session::Impl::classify_error() {
  bool no_certificate = false;
  while (const unsigned long e = ERR_get_error()) {
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
      no_certificate = true;
  }
  if (fingerprint_mismatch_) return FailReason::fingerprint_mismatch;
  return no_certificate ? FailReason::no_certificate : FailReason::protocol_error;
}

// Our retransmission deadline passed. Let OpenSSL retransmit if its clock
// agrees; wait briefly if it is just behind; otherwise resend the recorded
// flight (see "Timers" in session.hpp).
void Session::Impl::retransmit() {
  const std::optional<Duration> left = openssl_time_left();
  if (left && *left > Duration::zero() && *left <= kClockSlack && !deferred_to_openssl_) {
    deferred_to_openssl_ = true;
    retransmit_deadline_ = now_ + *left;
    return;
  }
  deferred_to_openssl_ = false;
  rto_ = std::min(rto_ * 2, cfg_.max_retransmit_timeout);
  retransmit_deadline_ = now_ + rto_;
  if (left && *left == Duration::zero()) {
    in_handle_timeout_ = true;
    ERR_clear_error();
    const int r = DTLSv1_handle_timeout(ssl_.get());
    in_handle_timeout_ = false;
    if (r < 0) return fail(FailReason::handshake_timeout);  // OpenSSL gave up retransmitting
    ERR_clear_error();
    if (r > 0) {
      ++counters_.retransmits_native;
      return;
    }
  }
  ++counters_.retransmits_replayed;
  resend_flight();
}

std::optional<Duration> Session::Impl::openssl_time_left() {
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_.get(), &tv) != 1) return std::nullopt;
  return seconds(tv.tv_sec) + microseconds(tv.tv_usec);
}

void Session::Impl::resend_flight() {
  for (size_t i = 0; i < flight_.size(); ++i) {
    if (tx_.push(flight_.at(i))) {
      ++counters_.datagrams_sent;
    } else {
      ++counters_.dropped_tx_full;
    }
  }
}

void Session::Impl::resend_final_flight() {
  if (flight_.empty()) return;
  if (last_final_resend_ && now_ - *last_final_resend_ < cfg_.initial_retransmit_timeout / 2) return;
  last_final_resend_ = now_;
  ++counters_.final_flight_resends;
  resend_flight();
}

// OpenSSL armed (sending a flight that awaits an answer) or stopped (the
// peer's next flight arrived whole) its retransmission timer.
void Session::Impl::on_openssl_timer(bool armed) {
  if (armed) {
    if (!timer_armed_ && !handshake_done_) {
      timer_armed_ = true;
      deferred_to_openssl_ = false;
      retransmit_deadline_ = now_ + rto_;
    }
    return;
  }
  timer_armed_ = false;
  retransmit_deadline_.reset();
  rto_ = cfg_.initial_retransmit_timeout;
  if (!handshake_done_) flight_.clear();  // what follows is our next flight
}

// DTLS_set_timer_cb: OpenSSL asks how long its next timer should run.
// previous_us == 0: a new flight starts; otherwise its timer expired and it
// is about to retransmit the flight with new record numbers.
unsigned int Session::Impl::on_timer_cb(unsigned int previous_us) {
  if (previous_us != 0) {
    if (!in_handle_timeout_) {
      // OpenSSL's clock reached the deadline before ours and it noticed
      // while reading: count it and follow.
      ++counters_.retransmits_native;
      rto_ = std::min(rto_ * 2, cfg_.max_retransmit_timeout);
      retransmit_deadline_ = now_ + rto_;
    }
    flight_.clear();  // re-record the flight as OpenSSL now rewrites it
  }
  return to_timer_us(rto_);
}

void Session::Impl::on_datagram_out(Bytes datagram) {
  ++writes_;
  if (tx_.push(datagram)) {
    ++counters_.datagrams_sent;
  } else {
    ++counters_.dropped_tx_full;
  }
  if (state_ == State::connecting && !handshake_done_) flight_.push(datagram);
}

bool Session::Impl::peer_certificate_matches(X509* cert) {
  if (!remote_fingerprint_) return true;  // decided at the end of the handshake
  const auto fp = Certificate::fingerprint_of(cert);
  if (fp && *fp == *remote_fingerprint_) return true;
  fingerprint_mismatch_ = true;
  return false;
}

// ---- OpenSSL callbacks -------------------------------------------------------

BIO_METHOD* Session::Impl::bio_method() {
  // Created once per process and never freed (still reachable, not a leak).
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sfu-dtls-datagram");
    if (m != nullptr && BIO_meth_set_write(m, &bio_write) == 1 && BIO_meth_set_read(m, &bio_read) == 1 &&
        BIO_meth_set_ctrl(m, &bio_ctrl) == 1 && BIO_meth_set_create(m, &bio_create) == 1)
      return m;
    BIO_meth_free(m);
    return static_cast<BIO_METHOD*>(nullptr);
  }();
  return method;
}

int Session::Impl::bio_write(BIO* bio, const char* data, int len) {
  auto* self = static_cast<Impl*>(BIO_get_data(bio));
  if (self != nullptr && len > 0) self->on_datagram_out(Bytes(reinterpret_cast<const uint8_t*>(data), size_t(len)));
  return len;  // like UDP: a datagram we could not queue is lost, not retried
}

int Session::Impl::bio_read(BIO* bio, char* out, int len) {
  BIO_clear_retry_flags(bio);
  auto* self = static_cast<Impl*>(BIO_get_data(bio));
  if (self == nullptr || self->pending_in_.empty() || len <= 0) {
    BIO_set_retry_read(bio);
    return -1;
  }
  // A datagram longer than OpenSSL's buffer is cut; its last record then
  // fails its length check and OpenSSL drops it.
  const size_t n = std::min(self->pending_in_.size(), size_t(len));
  std::memcpy(out, self->pending_in_.data(), n);
  self->pending_in_ = {};
  return int(n);
}

long Session::Impl::bio_ctrl(BIO* bio, int cmd, long /*num*/, void* ptr) {
  auto* self = static_cast<Impl*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_PENDING:
      return self ? long(self->pending_in_.size()) : 0;
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT: {
      const auto* tv = static_cast<const timeval*>(ptr);
      if (self != nullptr && tv != nullptr) self->on_openssl_timer(tv->tv_sec != 0 || tv->tv_usec != 0);
      return 1;
    }
    default:
      return 0;  // MTU queries (SSL_OP_NO_QUERY_MTU), peer address, ...: not ours
  }
}

int Session::Impl::bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// Any issuer is accepted (WebRTC certificates are self-signed); the leaf's
// digest must match the SDP fingerprint when one is known already.
int Session::Impl::verify_callback(int /*preverify_ok*/, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = ssl ? static_cast<Impl*>(SSL_get_app_data(ssl)) : nullptr;
  if (self == nullptr) return 0;
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  if (self->peer_certificate_matches(X509_STORE_CTX_get_current_cert(store))) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);  // sent as bad_certificate
  return 0;
}

unsigned int Session::Impl::timer_callback(SSL* ssl, unsigned int previous_us) {
  auto* self = static_cast<Impl*>(SSL_get_app_data(ssl));
  return self ? self->on_timer_cb(previous_us) : 1000000;
}

// ---- Session -------------------------------------------------------------------

Session::Session(Role role, std::shared_ptr<const Certificate> certificate, SessionConfig cfg)
    : Session(role, Context::create(std::move(certificate)), std::move(cfg)) {}

Session::Session(Role role, std::shared_ptr<const Context> context, SessionConfig cfg)
    : impl_(std::make_unique<Impl>(role, std::move(context), std::move(cfg))) {}

Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

void Session::set_remote_fingerprint(const Fingerprint& sha256) { impl_->remote_fingerprint_ = sha256; }
void Session::start(Instant now) { impl_->start(now); }
void Session::handle_packet(Instant now, Bytes datagram) { impl_->handle_packet(now, datagram); }
void Session::handle_timeout(Instant now) { impl_->handle_timeout(now); }
std::optional<Bytes> Session::poll_transmit() { return impl_->tx_.pop(); }
std::optional<Event> Session::poll_event() { return impl_->poll_event(); }
std::optional<Instant> Session::poll_timeout() const { return impl_->poll_timeout(); }
bool Session::send_application_data(Bytes data) { return impl_->send_application_data(data); }
size_t Session::max_application_data() const { return impl_->max_application_data(); }
void Session::close() { impl_->close(); }
State Session::state() const { return impl_->state_; }
Role Session::role() const { return impl_->role_; }
const SessionCounters& Session::counters() const { return impl_->counters_; }
std::optional<SrtpKeyingMaterial> Session::keying_material() const { return impl_->keys_; }

}  // namespace sfu::dtls
