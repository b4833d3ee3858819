// The cryptographic transforms of SRTP/SRTCP over OpenSSL EVP, for the
// three profiles of srtp_profile.hpp, with the session keys of one
// direction already derived:
//
//   AES_CM_128_HMAC_SHA1_80/_32 (RFC 3711 §4.1.1, §4.2)
//     SRTP   header | E_k(payload)               | HMAC(header|E(payload)|ROC)[:10 or 4]
//     SRTCP  header(8) | E_k(rest) | E|index(4)  | HMAC(all before)[:10]
//   AEAD_AES_128_GCM (RFC 7714 §8, §9)
//     SRTP   header (AAD) | GCM(payload) | tag(16)
//     SRTCP  header(8) | GCM(rest) | tag(16) | E|index(4)    AAD = header(8) | E|index
//
// Key derivation is RFC 3711 §4.3 (AES-CM PRF, key derivation rate 0). For
// GCM the 96-bit master salt is multiplied by 2^16 (two zero octets on the
// right) to make the 112-bit PRF salt: RFC 7714 §11 as corrected by
// verified erratum 4938, and what libsrtp does.
//
// Everything here is the per-packet arithmetic and nothing else: which
// index a packet has, replay and per-SSRC state live in srtp_evp_streams.hpp
// and srtp_evp.hpp. An SrtpTransform is keyed once (control path: it
// allocates one EVP_CIPHER_CTX); after that every call only sets a new IV on
// that context and allocates nothing.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/bytes.hpp"
#include "common/hmac_sha1.hpp"
#include "dtls/srtp/srtp_profile.hpp"

namespace sfu::dtls {

// Largest packet a transform takes as input (for seal the RTP/RTCP packet,
// for open the SRTP/SRTCP one): one UDP datagram. Keeps every length well
// inside OpenSSL's `int`.
inline constexpr size_t kMaxSrtpPacket = 65535;

struct EvpCipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const;
};
using EvpCipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, EvpCipherCtxFree>;

// An AES-128-CTR context keyed with `key` (16 bytes), for srtp_aes_cm_xor.
// Null if the key has the wrong size or OpenSSL fails. Control path.
EvpCipherCtxPtr srtp_aes_cm_context(Bytes key);

// AES in counter mode as SRTP uses it (RFC 3711 §4.1.1): XORs `data` with
// E(k, IV) || E(k, IV + 1) || ... in place. `ctx` from srtp_aes_cm_context.
// Allocates nothing. False if OpenSSL fails.
bool srtp_aes_cm_xor(EVP_CIPHER_CTX* ctx, const std::array<uint8_t, 16>& iv, MutBytes data);

// RFC 3711 §4.3.1 key derivation labels.
enum class SrtpKdfLabel : uint8_t {
  rtp_encryption = 0x00,
  rtp_auth = 0x01,
  rtp_salt = 0x02,
  rtcp_encryption = 0x03,
  rtcp_auth = 0x04,
  rtcp_salt = 0x05,
};

// The AES-CM PRF of RFC 3711 §4.3.3 with kdr = 0: fills `out` with the
// session key for `label` from a 16-byte master key and a 14-byte (AES-CM)
// or 12-byte (AEAD, zero-padded on the right) master salt. False on a bad
// size or an OpenSSL failure. Control path: allocates a cipher context.
bool srtp_kdf(Bytes master_key, Bytes master_salt, SrtpKdfLabel label, MutBytes out);

using sfu::HmacSha1;  // common/hmac_sha1.hpp: SRTP's HMAC-SHA1 authentication

// One direction's session keys for SRTP or for SRTCP under one profile, and
// the packet transforms with them. `sealing` fixes the direction: a sealing
// transform only seals, an opening one only opens (for GCM, the EVP context
// is set up for encryption or for decryption once).
//
// All calls work in place inside `buffer` and write nothing outside it:
// each checks that the bytes it touches are inside the span and fails
// (false) otherwise, so a caller bug cannot become an overflow.
class SrtpTransform {
 public:
  // Derives the SRTP (rtcp = false: labels 0-2) or SRTCP (3-5) session keys
  // from master key (16 bytes) and master salt (srtp_master_salt_len bytes).
  // nullopt on a bad size or OpenSSL failure. Control path.
  static std::optional<SrtpTransform> derive(SrtpProfile profile, bool rtcp, bool sealing, Bytes master_key,
                                             Bytes master_salt);

  // Keys with session keys directly: `key` 16 bytes, `salt` 14 (AES-CM) or
  // 12 (GCM) bytes, `auth_key` 20 bytes (AES-CM; ignored for GCM). For the
  // published vectors, which are given as session keys. Control path.
  static std::optional<SrtpTransform> from_session_keys(SrtpProfile profile, bool rtcp, bool sealing, Bytes key,
                                                        Bytes salt, Bytes auth_key);

  SrtpTransform(SrtpTransform&&) noexcept = default;
  SrtpTransform& operator=(SrtpTransform&&) noexcept = default;
  ~SrtpTransform() = default;

  SrtpProfile profile() const { return profile_; }
  // Authentication tag length: srtp_rtp_tag_len or srtp_rtcp_tag_len.
  size_t tag_len() const { return tag_len_; }
  // Bytes seal_* appends: the tag, plus the 4-byte E|index word for SRTCP.
  size_t trailer_len() const { return tag_len_ + (rtcp_ ? 4 : 0); }

  // SRTP (RFC 3711 §3.1 / RFC 7714 §8): buffer[0, header_len) is the RTP
  // header (AAD for GCM), buffer[header_len, length) the payload, encrypted
  // in place; the tag goes to buffer[length, length + tag_len()). `index` is
  // the 48-bit packet index ROC || SEQ. False if the span is too small.
  bool seal_rtp(MutBytes buffer, size_t header_len, size_t length, uint32_t ssrc, uint64_t index);

  // The inverse: buffer[0, length) is header, payload and tag. True only if
  // the tag verifies (constant-time compare); the payload is then plaintext
  // in place. For GCM the payload is decrypted before the verdict, so on
  // false it holds garbage: drop the packet.
  bool open_rtp(MutBytes buffer, size_t header_len, size_t length, uint32_t ssrc, uint64_t index);

  // SRTCP (RFC 3711 §3.4 / RFC 7714 §9): encrypts buffer[8, length) and
  // appends the E-flag|index word and the tag in the profile's order.
  // `index` < 2^31. False if the span is too small.
  bool seal_rtcp(MutBytes buffer, size_t length, uint32_t index);

  // Where the E-flag|index word of an SRTCP packet of `length` bytes sits
  // (length >= trailer_len() + 8).
  size_t rtcp_index_offset(size_t length) const { return rtcp_gcm() ? length - 4 : length - 4 - tag_len_; }

  // The inverse of seal_rtcp for buffer[0, length); `index` is the 31-bit
  // index read from the word at rtcp_index_offset(length) (the word itself
  // is authenticated from the buffer). True only if the tag verifies; then
  // buffer[8, length - trailer_len()) is plaintext.
  bool open_rtcp(MutBytes buffer, size_t length, uint32_t index);

 private:
  SrtpTransform(SrtpProfile profile, bool rtcp, bool sealing, EvpCipherCtxPtr cipher);
  bool gcm() const { return profile_ == SrtpProfile::aead_aes_128_gcm; }
  bool rtcp_gcm() const { return rtcp_ && gcm(); }
  std::array<uint8_t, 16> cm_iv(uint32_t ssrc, uint64_t index) const;
  std::array<uint8_t, 12> gcm_iv(uint32_t ssrc, uint32_t high, uint32_t low) const;
  bool gcm_seal(const std::array<uint8_t, 12>& iv, Bytes aad, Bytes aad2, MutBytes data, uint8_t* tag);
  bool gcm_open(const std::array<uint8_t, 12>& iv, Bytes aad, Bytes aad2, MutBytes data, uint8_t* tag);

  SrtpProfile profile_;
  bool rtcp_;
  bool sealing_;
  size_t tag_len_;
  EvpCipherCtxPtr cipher_;          // AES-128-CTR, or AES-128-GCM set for encrypt or decrypt
  std::array<uint8_t, 14> salt_{};  // session salt; GCM uses the first 12 bytes
  HmacSha1 auth_;                   // AES-CM only
};

}  // namespace sfu::dtls
