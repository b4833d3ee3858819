// Certificate generation, PEM I/O and SHA-256 fingerprints with OpenSSL 3.
#include "dtls/certificate.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <stdexcept>
#include <utility>

namespace sfu::dtls {

namespace {

constexpr long kNotBeforeSeconds = -24L * 60 * 60;     // one day back: tolerate peer clock skew
constexpr long kNotAfterSeconds = 30L * 24 * 60 * 60;  // 30 days ahead
constexpr size_t kSerialBytes = 16;                    // RFC 5280 §4.1.2.2: at most 20 octets

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

// Throws with OpenSSL's last error attached; the error queue is cleared so
// it does not leak into the next caller on this thread.
[[noreturn]] void throw_openssl(const char* what) {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
  ERR_clear_error();
  throw std::runtime_error(std::string("dtls::Certificate: ") + what + ": " + buf);
}

std::string openssl_error(const char* what) {
  char buf[256] = {};
  const unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return what;
  ERR_error_string_n(e, buf, sizeof(buf));
  return std::string(what) + ": " + buf;
}

// Everything a memory BIO holds, as a string.
std::string drain(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, size_t(len)) : std::string();
}

void set_random_serial(X509* cert) {
  uint8_t bytes[kSerialBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) throw_openssl("RAND_bytes");
  bytes[0] &= 0x7F;  // positive
  bytes[0] |= 0x40;  // and never shorter than 15 bytes: at least 64 bits of randomness stay
  std::unique_ptr<BIGNUM, BnFree> bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) throw_openssl("serial");
}

void set_name(X509* cert, std::string_view common_name) {
  X509_NAME* name = X509_get_subject_name(cert);
  const std::string cn(common_name);
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                  0))
    throw_openssl("subject name");
  if (!X509_set_issuer_name(cert, name)) throw_openssl("issuer name");
}

// Cipher suites, server's order wins: ECDHE only, AEAD first; CBC kept for
// old peers. ECDSA suites serve our own certificates; RSA ones let the
// client role talk to peers with RSA certificates.
constexpr const char* kCipherList =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

// Peer certificate required; sessions add the verify callback that accepts
// any issuer and checks the SDP fingerprint (dtls/session.cpp).
constexpr int kVerifyMode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

void Certificate::X509Free::operator()(X509* p) const { X509_free(p); }
void Certificate::PkeyFree::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

Certificate::Certificate(std::unique_ptr<X509, X509Free> cert, std::unique_ptr<EVP_PKEY, PkeyFree> key, Fingerprint fp)
    : cert_(std::move(cert)), key_(std::move(key)), fingerprint_(fp) {}

Certificate Certificate::generate(std::string_view common_name) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (!key) throw_openssl("EC key generation");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) throw_openssl("X509_new");
  if (!X509_set_version(cert.get(), X509_VERSION_3)) throw_openssl("version");
  set_random_serial(cert.get());
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), kNotBeforeSeconds) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), kNotAfterSeconds))
    throw_openssl("validity");
  set_name(cert.get(), common_name);
  if (!X509_set_pubkey(cert.get(), key.get())) throw_openssl("public key");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) throw_openssl("sign");
  const auto fp = fingerprint_of(cert.get());
  if (!fp) throw_openssl("fingerprint");
  return Certificate(std::move(cert), std::move(key), *fp);
}

Result<Certificate, std::string> Certificate::load_pem(std::string_view cert_pem, std::string_view key_pem) {
  BioPtr cert_bio(BIO_new_mem_buf(cert_pem.data(), int(cert_pem.size())));
  BioPtr key_bio(BIO_new_mem_buf(key_pem.data(), int(key_pem.size())));
  if (!cert_bio || !key_bio) return fail(openssl_error("BIO_new_mem_buf"));
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return fail(openssl_error("certificate PEM does not parse"));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) return fail(openssl_error("private key PEM does not parse"));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return fail(std::string("private key does not match the certificate"));
  }
  const auto fp = fingerprint_of(cert.get());
  if (!fp) return fail(openssl_error("certificate does not encode"));
  return Certificate(std::move(cert), std::move(key), *fp);
}

std::string Certificate::fingerprint_sha256() const { return format_fingerprint(fingerprint_); }

std::string Certificate::format_fingerprint(const Fingerprint& fp) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(fp.size() * 3 - 1);
  for (size_t i = 0; i < fp.size(); ++i) {
    if (i) out.push_back(':');
    out.push_back(kHex[fp[i] >> 4]);
    out.push_back(kHex[fp[i] & 0x0F]);
  }
  return out;
}

std::optional<Fingerprint> Certificate::parse_fingerprint(std::string_view text) {
  Fingerprint fp{};
  if (text.size() != fp.size() * 3 - 1) return std::nullopt;
  for (size_t i = 0; i < fp.size(); ++i) {
    const size_t at = i * 3;
    if (i && text[at - 1] != ':') return std::nullopt;
    const int hi = hex_value(text[at]);
    const int lo = hex_value(text[at + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    fp[i] = uint8_t(hi << 4 | lo);
  }
  return fp;
}

std::optional<Fingerprint> Certificate::fingerprint_of(const X509* cert) {
  Fingerprint fp{};
  unsigned int len = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), fp.data(), &len) != 1 || len != fp.size()) {
    ERR_clear_error();
    return std::nullopt;
  }
  return fp;
}

std::string Certificate::certificate_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert_.get()) != 1) throw_openssl("PEM_write_bio_X509");
  return drain(bio.get());
}

std::string Certificate::private_key_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw_openssl("PEM_write_bio_PrivateKey");
  return drain(bio.get());
}

// ---- Context ---------------------------------------------------------------

void Context::CtxFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

Context::Context(std::shared_ptr<const Certificate> certificate, std::unique_ptr<SSL_CTX, CtxFree> ctx)
    : certificate_(std::move(certificate)), ctx_(std::move(ctx)) {}

Context::~Context() = default;

std::shared_ptr<const Context> Context::create(std::shared_ptr<const Certificate> certificate) {
  if (!certificate) throw std::invalid_argument("dtls::Context: no certificate");
  std::unique_ptr<SSL_CTX, CtxFree> ctx(SSL_CTX_new(DTLS_method()));
  SSL_CTX* c = ctx.get();
  const bool ok = c != nullptr && SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) == 1 &&
                  SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) == 1 &&
                  SSL_CTX_use_certificate(c, certificate->x509()) == 1 &&
                  SSL_CTX_use_PrivateKey(c, certificate->private_key()) == 1 && SSL_CTX_check_private_key(c) == 1 &&
                  SSL_CTX_set_cipher_list(c, kCipherList) == 1;
  if (!ok) {
    ERR_clear_error();
    throw std::runtime_error("dtls::Context: OpenSSL refused the SSL_CTX setup");
  }
  // Sessions install their own verify callback (accept any issuer, check
  // the fingerprint); this mode only makes the server ask for a certificate.
  SSL_CTX_set_verify(c, kVerifyMode, nullptr);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(
      c, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  return std::shared_ptr<const Context>(new Context(std::move(certificate), std::move(ctx)));
}

}  // namespace sfu::dtls
