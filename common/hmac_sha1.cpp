// The SHA1_* low-level functions are deprecated in OpenSSL 3 but are the
// only allocation-free way to resume precomputed HMAC states (EVP_MD_CTX
// copies re-create the provider context, which allocates). Confined to
// this file.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "common/hmac_sha1.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>

namespace sfu {

static_assert(sizeof(SHA_CTX) <= 96, "HmacSha1::kStateSize too small for SHA_CTX");
static_assert(alignof(SHA_CTX) <= 8, "HmacSha1 state under-aligned for SHA_CTX");

namespace {

constexpr size_t kBlockSize = 64;  // SHA-1 block, RFC 2104's B

// A SHA-1 state that has absorbed key XOR pad (RFC 2104 §2).
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

HmacSha1::HmacSha1(Bytes key) {
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
}

HmacSha1::~HmacSha1() {
  OPENSSL_cleanse(inner_, sizeof inner_);
  OPENSSL_cleanse(outer_, sizeof outer_);
}

void HmacSha1::mac(Bytes a, Bytes b, std::span<uint8_t, kSize> out) const {
  // HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), resuming the saved states.
  SHA_CTX ctx;
  std::memcpy(&ctx, inner_, sizeof ctx);
  SHA1_Update(&ctx, a.data(), a.size());
  SHA1_Update(&ctx, b.data(), b.size());
  uint8_t inner_digest[SHA_DIGEST_LENGTH];
  SHA1_Final(inner_digest, &ctx);
  std::memcpy(&ctx, outer_, sizeof ctx);
  SHA1_Update(&ctx, inner_digest, sizeof inner_digest);
  SHA1_Final(out.data(), &ctx);
}

}  // namespace sfu
