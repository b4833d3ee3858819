#include "ice/stun_integrity.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include "ice/crc32.hpp"

namespace sfu::ice {

IntegrityKey::IntegrityKey(Bytes key) : hmac_(key), valid_(true) {}

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
