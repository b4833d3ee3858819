// The SHA1_* low-level functions are deprecated in OpenSSL 3 but are the only
// allocation-free way to reuse precomputed HMAC states (see the header's
// measurements). Confined to this file.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "ice/stun_integrity.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

#include "ice/crc32.hpp"

namespace sfu::ice {

namespace {

constexpr size_t kBlockSize = 64;  // SHA-1 block, RFC 2104 B

// Starts a SHA-1 state that has absorbed key ⊕ pad (RFC 2104).
SHA_CTX keyed_state(Bytes key, uint8_t pad) {
  uint8_t block[kBlockSize];
  std::memset(block, pad, sizeof block);
  for (size_t i = 0; i < key.size(); ++i) block[i] ^= key[i];
  SHA_CTX ctx;
  SHA1_Init(&ctx);
  SHA1_Update(&ctx, block, sizeof block);
  OPENSSL_cleanse(block, sizeof block);
  return ctx;
}

}  // namespace

static_assert(sizeof(SHA_CTX) <= 128, "IntegrityKey::kStateSize too small for SHA_CTX");
static_assert(alignof(SHA_CTX) <= 8, "IntegrityKey state under-aligned for SHA_CTX");

IntegrityKey::IntegrityKey(Bytes key) {
  uint8_t hashed[SHA_DIGEST_LENGTH];
  if (key.size() > kBlockSize) {
    SHA1(key.data(), key.size(), hashed);
    key = Bytes(hashed, sizeof hashed);
  }
  SHA_CTX inner = keyed_state(key, 0x36);
  SHA_CTX outer = keyed_state(key, 0x5c);
  std::memcpy(inner_, &inner, sizeof inner);
  std::memcpy(outer_, &outer, sizeof outer);
  OPENSSL_cleanse(&inner, sizeof inner);
  OPENSSL_cleanse(&outer, sizeof outer);
  OPENSSL_cleanse(hashed, sizeof hashed);
  valid_ = true;
}

IntegrityKey IntegrityKey::from_password(std::string_view password) {
  return IntegrityKey(Bytes(reinterpret_cast<const uint8_t*>(password.data()), password.size()));
}

std::array<uint8_t, 16> IntegrityKey::long_term_key(std::string_view username, std::string_view realm,
                                                    std::string_view password) {
  std::array<uint8_t, 16> key{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, username.data(), username.size()) == 1 && EVP_DigestUpdate(ctx, ":", 1) == 1 &&
            EVP_DigestUpdate(ctx, realm.data(), realm.size()) == 1 && EVP_DigestUpdate(ctx, ":", 1) == 1 &&
            EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, key.data(), &len) == 1 && len == key.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) key.fill(0);  // MD5 unavailable (FIPS provider): an all-zero key never verifies real traffic
  return key;
}

IntegrityKey IntegrityKey::long_term(std::string_view username, std::string_view realm, std::string_view password) {
  const std::array<uint8_t, 16> key = long_term_key(username, realm, password);
  return IntegrityKey(Bytes(key));
}

void IntegrityKey::hmac_sha1(Bytes first, Bytes second, std::span<uint8_t, kStunIntegritySize> out) const {
  // HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)), resuming the saved states.
  SHA_CTX ctx;
  std::memcpy(&ctx, inner_, sizeof ctx);
  SHA1_Update(&ctx, first.data(), first.size());
  SHA1_Update(&ctx, second.data(), second.size());
  uint8_t inner_digest[SHA_DIGEST_LENGTH];
  SHA1_Final(inner_digest, &ctx);
  std::memcpy(&ctx, outer_, sizeof ctx);
  SHA1_Update(&ctx, inner_digest, sizeof inner_digest);
  SHA1_Final(out.data(), &ctx);
}

bool check_integrity(const StunView& msg, const IntegrityKey& key) {
  if (!msg.has_integrity() || !key.valid()) return false;
  const Bytes bytes = msg.bytes();
  const size_t at = msg.integrity_offset();
  // §14.5: the HMAC covers the header, with Message Length rewritten to end
  // after MESSAGE-INTEGRITY, and every attribute before MESSAGE-INTEGRITY.
  uint8_t header[kStunHeaderSize];
  std::memcpy(header, bytes.data(), sizeof header);
  store_be16(header + 2, uint16_t(at + kStunAttributeHeaderSize + kStunIntegritySize - kStunHeaderSize));
  uint8_t mac[kStunIntegritySize];
  key.hmac_sha1(Bytes(header, sizeof header), bytes.subspan(kStunHeaderSize, at - kStunHeaderSize), mac);
  // Validated by parse_stun: the 20-byte value lies inside the message.
  return CRYPTO_memcmp(mac, bytes.data() + at + kStunAttributeHeaderSize, sizeof mac) == 0;
}

bool check_integrity(const StunView& msg, Bytes key) {
  if (!msg.has_integrity()) return false;
  return check_integrity(msg, IntegrityKey(key));
}

bool check_fingerprint(const StunView& msg) {
  if (!msg.has_fingerprint()) return false;
  const Bytes bytes = msg.bytes();
  const size_t at = msg.fingerprint_offset();
  // FINGERPRINT is last (parse_stun enforces it), so the header length
  // already ends after it, as §14.7 requires for the CRC input.
  const uint32_t expected = crc32(bytes.first(at)) ^ kStunFingerprintXor;
  return load_be32(bytes.data() + at + kStunAttributeHeaderSize) == expected;
}

}  // namespace sfu::ice
