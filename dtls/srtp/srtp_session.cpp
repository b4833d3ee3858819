// SrtpSession: the backend switch. SrtpBackend::evp (the default) hands
// every call to EvpSrtp (srtp_evp.hpp); SrtpBackend::libsrtp runs the
// libsrtp2 adapter below: two srtp_t, one wildcard policy each —
// ssrc_any_outbound with the local key for protect, ssrc_any_inbound with
// the remote key for unprotect. This is the only file that includes
// <srtp2/srtp.h>.
//
// Every packet is checked here before libsrtp sees it (RTP header within
// the length, room for the tag) so that the library is never handed bytes
// it might read past, whatever its version. The checks are the ones
// EvpSrtp makes (the same functions), so both backends call the same
// packets malformed.
#include "dtls/srtp/srtp_session.hpp"

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <array>
#include <mutex>
#include <optional>
#include <utility>

#include "dtls/srtp/srtp_evp.hpp"

namespace sfu::dtls {
namespace {

// No datagram is larger than this; capping here also keeps every length
// well inside libsrtp's `int`.
constexpr size_t kMaxDatagram = 65535;

// libsrtp keeps process-global state: the crypto kernel's tables of cipher
// and auth types (and, in Debian's build, NSS initialisation). srtp_init()
// fills it and is not thread-safe, so it runs exactly once, here. After it
// that state is only read, so sessions on different worker threads need no
// lock. srtp_shutdown() is never called: sessions may live until exit.
bool ensure_libsrtp_initialised() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_init_fail;
  std::call_once(once, [] { status = srtp_init(); });
  return status == srtp_err_status_ok;
}

SrtpError from_status(srtp_err_status_t st) {
  switch (st) {
    case srtp_err_status_auth_fail:
      return SrtpError::auth_fail;
    case srtp_err_status_replay_fail:
      return SrtpError::replay_fail;
    case srtp_err_status_replay_old:
      return SrtpError::replay_old;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
    case srtp_err_status_bad_mki:
      return SrtpError::malformed;
    default:
      return SrtpError::other;
  }
}

// Sets the SRTP and SRTCP transforms of `policy` for profile p
// (RFC 5764 §4.1.2; RFC 7714 §14.2: 16-octet GCM tag for both).
void set_transforms(SrtpProfile p, srtp_policy_t& policy) {
  switch (p) {
    case SrtpProfile::aes128_cm_sha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      return;
    case SrtpProfile::aes128_cm_sha1_32:
      // SRTCP keeps the 80-bit tag under the _32 profile (RFC 5764 §4.1.2).
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      return;
    case SrtpProfile::aead_aes_128_gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      return;
  }
}

}  // namespace

// Exactly one of `evp` and the srtp_t pair is set. One srtp_t per
// direction: libsrtp keeps a single wildcard ("template") stream per
// srtp_t, so ssrc_any_inbound and ssrc_any_outbound cannot share one
// (srtp_create answers bad_param).
struct SrtpSession::Backend {
  std::optional<EvpSrtp> evp;  // SrtpBackend::evp
  srtp_t tx = nullptr;         // SrtpBackend::libsrtp: ssrc_any_outbound, local key
  srtp_t rx = nullptr;         // SrtpBackend::libsrtp: ssrc_any_inbound, remote key

  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  ~Backend() {
    if (tx != nullptr) srtp_dealloc(tx);
    if (rx != nullptr) srtp_dealloc(rx);
  }
};

namespace {

// Creates one direction's srtp_t from key||salt. srtp_policy_t takes a
// non-const key pointer; libsrtp derives its session keys from it during
// srtp_create and keeps no pointer, so the copy is wiped before returning.
srtp_err_status_t create_direction(SrtpProfile profile, const std::array<uint8_t, kMaxSrtpKeySaltLen>& key_salt,
                                   bool outbound, const SrtpSessionConfig& cfg, srtp_t& out) {
  std::array<uint8_t, kMaxSrtpKeySaltLen> key = key_salt;
  srtp_policy_t policy{};
  set_transforms(profile, policy);
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = key.data();
  policy.window_size = cfg.replay_window;
  policy.allow_repeat_tx = outbound && cfg.allow_repeat_tx ? 1 : 0;
  policy.next = nullptr;
  srtp_t ctx = nullptr;
  const srtp_err_status_t st = srtp_create(&ctx, &policy);  // frees what it built on failure
  OPENSSL_cleanse(key.data(), key.size());
  if (st == srtp_err_status_ok) out = ctx;
  return st;
}

}  // namespace

Result<SrtpSession, SrtpError> SrtpSession::create(const SrtpKeyingMaterial& keys, SrtpSessionConfig cfg) {
  // libsrtp's bounds for window_size (srtp_stream_alloc): 64 <= ws < 2^15.
  if (keys.key_salt_len != srtp_key_salt_len(keys.profile) || cfg.replay_window < 64 || cfg.replay_window >= 0x8000) {
    return fail(SrtpError::bad_config);
  }
  auto backend = std::make_unique<Backend>();
  if (cfg.backend == SrtpBackend::evp) {
    auto evp = EvpSrtp::create(keys, {.replay_window = cfg.replay_window, .allow_repeat_tx = cfg.allow_repeat_tx});
    if (!evp.ok()) return fail(evp.error());
    backend->evp.emplace(std::move(evp).value());
    return SrtpSession(std::move(backend), keys.profile);
  }
  if (!ensure_libsrtp_initialised()) return fail(SrtpError::other);
  srtp_err_status_t st = create_direction(keys.profile, keys.local_key_salt, true, cfg, backend->tx);
  if (st == srtp_err_status_ok) st = create_direction(keys.profile, keys.remote_key_salt, false, cfg, backend->rx);
  if (st != srtp_err_status_ok) {
    return fail(st == srtp_err_status_bad_param ? SrtpError::bad_config : SrtpError::other);
  }
  return SrtpSession(std::move(backend), keys.profile);
}

SrtpSession::SrtpSession(std::unique_ptr<Backend> backend, SrtpProfile profile)
    : backend_(std::move(backend)), profile_(profile) {}

SrtpSession::SrtpSession(SrtpSession&& other) noexcept = default;
SrtpSession& SrtpSession::operator=(SrtpSession&& other) noexcept = default;
SrtpSession::~SrtpSession() = default;

Result<size_t, SrtpError> SrtpSession::protect_rtp(MutBytes buffer, size_t length) {
  if (!backend_) return fail(SrtpError::other);  // moved-from
  if (backend_->evp) return backend_->evp->protect_rtp(buffer, length);
  if (length > buffer.size() || length > kMaxDatagram) return fail(SrtpError::malformed);
  if (srtp_rtp_header_len(buffer.first(length)) == 0) return fail(SrtpError::malformed);
  if (buffer.size() - length < rtp_trailer_len()) return fail(SrtpError::no_room);
  int len = int(length);
  const srtp_err_status_t st = srtp_protect(backend_->tx, buffer.data(), &len);
  if (st != srtp_err_status_ok) return fail(from_status(st));
  return size_t(len);
}

Result<size_t, SrtpError> SrtpSession::unprotect_rtp(MutBytes buffer, size_t length) {
  if (!backend_) return fail(SrtpError::other);
  if (backend_->evp) return backend_->evp->unprotect_rtp(buffer, length);
  if (length > buffer.size() || length > kMaxDatagram) return fail(SrtpError::malformed);
  const size_t header = srtp_rtp_header_len(buffer.first(length));
  if (header == 0 || length - header < srtp_rtp_tag_len(profile_)) return fail(SrtpError::malformed);
  int len = int(length);
  const srtp_err_status_t st = srtp_unprotect(backend_->rx, buffer.data(), &len);
  if (st != srtp_err_status_ok) return fail(from_status(st));
  return size_t(len);
}

Result<size_t, SrtpError> SrtpSession::protect_rtcp(MutBytes buffer, size_t length) {
  if (!backend_) return fail(SrtpError::other);
  if (backend_->evp) return backend_->evp->protect_rtcp(buffer, length);
  if (length > buffer.size() || length > kMaxDatagram) return fail(SrtpError::malformed);
  if (!srtp_rtcp_header_ok(buffer.first(length))) return fail(SrtpError::malformed);
  if (buffer.size() - length < rtcp_trailer_len()) return fail(SrtpError::no_room);
  int len = int(length);
  const srtp_err_status_t st = srtp_protect_rtcp(backend_->tx, buffer.data(), &len);
  if (st != srtp_err_status_ok) return fail(from_status(st));
  return size_t(len);
}

Result<size_t, SrtpError> SrtpSession::unprotect_rtcp(MutBytes buffer, size_t length) {
  if (!backend_) return fail(SrtpError::other);
  if (backend_->evp) return backend_->evp->unprotect_rtcp(buffer, length);
  if (length > buffer.size() || length > kMaxDatagram) return fail(SrtpError::malformed);
  if (!srtp_rtcp_header_ok(buffer.first(length)) || length - 8 < rtcp_trailer_len()) return fail(SrtpError::malformed);
  int len = int(length);
  const srtp_err_status_t st = srtp_unprotect_rtcp(backend_->rx, buffer.data(), &len);
  if (st != srtp_err_status_ok) return fail(from_status(st));
  return size_t(len);
}

}  // namespace sfu::dtls
