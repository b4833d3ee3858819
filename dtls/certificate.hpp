// The DTLS certificate of one endpoint, its SDP fingerprint, and the
// SSL_CTX (Context) through which DTLS sessions present it.
//
// WebRTC peers authenticate each other not through a CA but through the
// certificate fingerprint carried in the signed-off SDP (RFC 8122 §5, RFC
// 8827 §6.5): a self-signed certificate is fine, and the peer checks that the
// SHA-256 digest of the DER certificate it received in the handshake equals
// the one in our a=fingerprint line:
//
//   a=fingerprint:sha-256 AB:CD:...:EF      (32 bytes, uppercase hex, ':' between)
//
// Certificate owns an OpenSSL key pair and X.509 certificate (RAII). It is
// immutable after construction, so one instance, held by
// std::shared_ptr<const Certificate>, can back every DTLS session of the
// process. Creating or loading one is control-path work: it allocates and
// may throw; nothing here runs per packet.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "common/result.hpp"

namespace sfu::dtls {

// SHA-256 digest of a DER certificate, as carried in a=fingerprint.
using Fingerprint = std::array<uint8_t, 32>;

class Certificate {
 public:
  // A fresh ECDSA P-256 key and a self-signed certificate for it: random
  // positive 16-byte serial (126 random bits), subject = issuer = CN=<common_name>, valid from
  // one day ago (clock skew between peers) to 30 days ahead, signed with
  // SHA-256. Validity is computed by OpenSSL from the system time; no clock
  // of ours is read. Throws std::runtime_error if OpenSSL fails (out of
  // memory, no entropy).
  static Certificate generate(std::string_view common_name = "sfu");

  // Loads a PEM certificate and its PEM private key (PKCS#8 or traditional,
  // unencrypted). Fails with a message when either does not parse or the key
  // does not belong to the certificate.
  static Result<Certificate, std::string> load_pem(std::string_view cert_pem, std::string_view key_pem);

  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;
  ~Certificate() = default;

  // SHA-256 of the DER certificate formatted for SDP (RFC 8122 §5):
  // 95 characters, "AB:CD:..." in uppercase.
  std::string fingerprint_sha256() const;

  // The same digest as raw bytes.
  const Fingerprint& fingerprint() const { return fingerprint_; }

  // Parses the hex part of an a=fingerprint value (after "sha-256 "):
  // exactly 32 colon-separated two-digit hex bytes, upper or lower case, no
  // surrounding text. nullopt for anything else.
  static std::optional<Fingerprint> parse_fingerprint(std::string_view text);

  // Formats a digest as fingerprint_sha256() does.
  static std::string format_fingerprint(const Fingerprint& fp);

  // SHA-256 of the DER encoding of any certificate (the peer's, say);
  // nullopt only if OpenSSL fails to encode it.
  static std::optional<Fingerprint> fingerprint_of(const X509* cert);

  // PEM exports, for tests and for persisting a certificate across restarts.
  // The key is written as unencrypted PKCS#8: keep the file private.
  std::string certificate_pem() const;
  std::string private_key_pem() const;

  // Borrowed OpenSSL handles for dtls/ internals (SSL_CTX setup); valid as
  // long as this Certificate lives. Callers must not modify them.
  X509* x509() const { return cert_.get(); }
  EVP_PKEY* private_key() const { return key_.get(); }

 private:
  struct X509Free {
    void operator()(X509* p) const;
  };
  struct PkeyFree {
    void operator()(EVP_PKEY* p) const;
  };

  // Takes ownership of both; precondition: they match and cert encodes.
  Certificate(std::unique_ptr<X509, X509Free> cert, std::unique_ptr<EVP_PKEY, PkeyFree> key, Fingerprint fp);

  std::unique_ptr<X509, X509Free> cert_;
  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
  Fingerprint fingerprint_{};
};

// An SSL_CTX set up for WebRTC DTLS with one certificate: DTLS 1.2 only,
// peer certificate required (any issuer; the fingerprint decides), no
// session cache, tickets or renegotiation. Create one per certificate and
// share it among sessions, on any thread: it is never modified after
// create(), and OpenSSL allows SSL_new on a shared SSL_CTX.
class Context {
 public:
  // Throws std::runtime_error if OpenSSL refuses (out of memory).
  static std::shared_ptr<const Context> create(std::shared_ptr<const Certificate> certificate);

  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // The certificate sessions of this context present.
  const Certificate& certificate() const { return *certificate_; }
  const std::shared_ptr<const Certificate>& shared_certificate() const { return certificate_; }

  // The configured SSL_CTX, for dtls/ internals (SSL_new). Do not modify it.
  SSL_CTX* native_handle() const { return ctx_.get(); }

 private:
  struct CtxFree {
    void operator()(SSL_CTX* ctx) const;
  };
  Context(std::shared_ptr<const Certificate> certificate, std::unique_ptr<SSL_CTX, CtxFree> ctx);

  std::shared_ptr<const Certificate> certificate_;
  std::unique_ptr<SSL_CTX, CtxFree> ctx_;
};

}  // namespace sfu::dtls
