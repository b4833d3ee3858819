// HMAC-SHA1 (RFC 2104) with the inner and outer hash states precomputed
// from the key, so each MAC costs the message's SHA-1 blocks plus two, with
// no allocation and no EVP dispatch (bench/srtp_bench.cpp BM_HmacSha1 and
// bench/stun_bench.cpp measure it against EVP_MAC and one-shot HMAC()).
// The one implementation behind STUN MESSAGE-INTEGRITY (ice/stun_integrity)
// and SRTP's AES_CM_128_HMAC_SHA1 authentication (dtls/srtp/srtp_evp_transform).
//
// A plain value (no heap, no OpenSSL handle; the header does not expose
// OpenSSL): copy it freely. The destructor wipes the key states.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/bytes.hpp"

namespace sfu {

class HmacSha1 {
 public:
  static constexpr size_t kSize = 20;

  // Unkeyed: zero states. Only a placeholder (an AEAD SRTP transform keeps
  // one it never uses); its MACs mean nothing.
  HmacSha1() = default;
  // Keys with `key`; a key longer than the 64-byte block is hashed first
  // (RFC 2104 §3).
  explicit HmacSha1(Bytes key);
  HmacSha1(const HmacSha1&) = default;
  HmacSha1& operator=(const HmacSha1&) = default;
  ~HmacSha1();

  // out = HMAC(key, a || b), the full 20 bytes.
  void mac(Bytes a, Bytes b, std::span<uint8_t, kSize> out) const;

 private:
  // Storage for two OpenSSL SHA_CTX; the .cpp checks size and alignment.
  static constexpr size_t kStateSize = 96;
  alignas(8) uint8_t inner_[kStateSize]{};
  alignas(8) uint8_t outer_[kStateSize]{};
};

}  // namespace sfu
