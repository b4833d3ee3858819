// SRTP/SRTCP packet transforms over OpenSSL EVP (see the header); the
// HMAC-SHA1 authentication is common/hmac_sha1.

#include "dtls/srtp/srtp_evp_transform.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <utility>

namespace sfu::dtls {

namespace {

constexpr size_t kKeyLen = 16;
constexpr size_t kAuthKeyLen = 20;  // RFC 3711 §5.2: n_a = 160
constexpr size_t kRtcpHeader = 8;   // RFC 3711 §3.4: the first 8 octets stay in clear
constexpr size_t kIndexWord = 4;    // E flag | 31-bit SRTCP index
constexpr uint32_t kEFlag = 0x80000000u;

// True if a packet of `length` bytes plus `trailer` more fits in `buffer`.
bool fits(MutBytes buffer, size_t length, size_t trailer) {
  return length <= kMaxSrtpPacket && trailer <= buffer.size() && length <= buffer.size() - trailer;
}

EvpCipherCtxPtr make_cipher(const EVP_CIPHER* cipher, Bytes key, int enc) {
  if (key.size() != kKeyLen) return nullptr;
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), nullptr, enc) != 1) return nullptr;
  return ctx;
}

}  // namespace

void EvpCipherCtxFree::operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }

// ---- AES-CM and the key derivation -------------------------------------------

EvpCipherCtxPtr srtp_aes_cm_context(Bytes key) { return make_cipher(EVP_aes_128_ctr(), key, 1); }

bool srtp_aes_cm_xor(EVP_CIPHER_CTX* ctx, const std::array<uint8_t, 16>& iv, MutBytes data) {
  if (ctx == nullptr || data.size() > size_t(INT32_MAX)) return false;
  // A new IV restarts the counter at IV and the block offset at 0.
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  if (data.empty()) return true;
  int n = 0;
  return EVP_EncryptUpdate(ctx, data.data(), &n, data.data(), int(data.size())) == 1 && size_t(n) == data.size();
}

bool srtp_kdf(Bytes master_key, Bytes master_salt, SrtpKdfLabel label, MutBytes out) {
  if (master_key.size() != kKeyLen || (master_salt.size() != 14 && master_salt.size() != 12)) return false;
  // RFC 3711 §4.3.1-§4.3.3 with kdr = 0: key_id = label || r with r = 0;
  // x = key_id XOR master_salt, both aligned on their least significant
  // bits in 112 bits, so the label lands on octet 7 of the 14; the PRF input
  // is x * 2^16. A 12-byte AEAD salt is first multiplied by 2^16 (RFC 7714
  // §11, erratum 4938): padded with two zero octets on the right.
  std::array<uint8_t, 16> iv{};
  std::memcpy(iv.data(), master_salt.data(), master_salt.size());
  iv[7] ^= uint8_t(label);
  EvpCipherCtxPtr ctx = srtp_aes_cm_context(master_key);
  std::memset(out.data(), 0, out.size());
  return ctx && srtp_aes_cm_xor(ctx.get(), iv, out);
}

// ---- Keying -----------------------------------------------------------------------

SrtpTransform::SrtpTransform(SrtpProfile profile, bool rtcp, bool sealing, EvpCipherCtxPtr cipher)
    : profile_(profile),
      rtcp_(rtcp),
      sealing_(sealing),
      tag_len_(rtcp ? srtp_rtcp_tag_len(profile) : srtp_rtp_tag_len(profile)),
      cipher_(std::move(cipher)) {}

std::optional<SrtpTransform> SrtpTransform::from_session_keys(SrtpProfile profile, bool rtcp, bool sealing, Bytes key,
                                                              Bytes salt, Bytes auth_key) {
  const bool gcm = profile == SrtpProfile::aead_aes_128_gcm;
  if (salt.size() != srtp_master_salt_len(profile) || (!gcm && auth_key.size() != kAuthKeyLen)) return std::nullopt;
  // AES-CTR is its own inverse; a GCM context is fixed to one direction.
  EvpCipherCtxPtr cipher =
      gcm ? make_cipher(EVP_aes_128_gcm(), key, sealing ? 1 : 0) : make_cipher(EVP_aes_128_ctr(), key, 1);
  if (!cipher) return std::nullopt;
  SrtpTransform t(profile, rtcp, sealing, std::move(cipher));
  std::memcpy(t.salt_.data(), salt.data(), salt.size());
  if (!gcm) t.auth_ = HmacSha1(auth_key);
  return t;
}

std::optional<SrtpTransform> SrtpTransform::derive(SrtpProfile profile, bool rtcp, bool sealing, Bytes master_key,
                                                   Bytes master_salt) {
  if (master_key.size() != srtp_master_key_len(profile) || master_salt.size() != srtp_master_salt_len(profile)) {
    return std::nullopt;
  }
  const uint8_t base = rtcp ? 3 : 0;  // RFC 3711 §4.3.2: SRTCP labels are SRTP's + 3
  std::array<uint8_t, kKeyLen> key{};
  std::array<uint8_t, 14> salt{};
  std::array<uint8_t, kAuthKeyLen> auth{};
  const MutBytes salt_out = MutBytes(salt).first(master_salt.size());
  const bool ok = srtp_kdf(master_key, master_salt, SrtpKdfLabel(base + 0), key) &&
                  srtp_kdf(master_key, master_salt, SrtpKdfLabel(base + 1), auth) &&
                  srtp_kdf(master_key, master_salt, SrtpKdfLabel(base + 2), salt_out);
  std::optional<SrtpTransform> t;
  if (ok) t = from_session_keys(profile, rtcp, sealing, key, salt_out, auth);
  OPENSSL_cleanse(key.data(), key.size());
  OPENSSL_cleanse(salt.data(), salt.size());
  OPENSSL_cleanse(auth.data(), auth.size());
  return t;
}

// ---- IVs ----------------------------------------------------------------------------

// RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), with
// i the 48-bit SRTP index or the 31-bit SRTCP index (§3.4).
std::array<uint8_t, 16> SrtpTransform::cm_iv(uint32_t ssrc, uint64_t index) const {
  std::array<uint8_t, 16> iv{};
  std::memcpy(iv.data(), salt_.data(), 14);
  for (int k = 0; k < 4; ++k) iv[4 + k] ^= uint8_t(ssrc >> (24 - 8 * k));
  for (int k = 0; k < 6; ++k) iv[8 + k] ^= uint8_t(index >> (40 - 8 * k));
  return iv;
}

// RFC 7714 §8.1 (SRTP) and §9.1 (SRTCP), each XORed with the session salt:
//   SRTP   00 00 | SSRC | ROC (high) | SEQ (low, 16 bits)
//   SRTCP  00 00 | SSRC | 00 00 | 0 | 31-bit SRTCP index (low)
std::array<uint8_t, 12> SrtpTransform::gcm_iv(uint32_t ssrc, uint32_t high, uint32_t low) const {
  std::array<uint8_t, 12> iv{};
  store_be32(&iv[2], ssrc);
  if (rtcp_) {
    store_be32(&iv[8], low);  // §9.1: 16 zero bits, then 0 || 31-bit index
  } else {
    store_be32(&iv[6], high);            // ROC
    store_be16(&iv[10], uint16_t(low));  // SEQ
  }
  for (size_t i = 0; i < iv.size(); ++i) iv[i] ^= salt_[i];
  return iv;
}

// ---- GCM ------------------------------------------------------------------------------

bool SrtpTransform::gcm_seal(const std::array<uint8_t, 12>& iv, Bytes aad, Bytes aad2, MutBytes data, uint8_t* tag) {
  EVP_CIPHER_CTX* c = cipher_.get();
  int n = 0;
  if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  if (EVP_EncryptUpdate(c, nullptr, &n, aad.data(), int(aad.size())) != 1) return false;
  if (!aad2.empty() && EVP_EncryptUpdate(c, nullptr, &n, aad2.data(), int(aad2.size())) != 1) return false;
  if (!data.empty() && EVP_EncryptUpdate(c, data.data(), &n, data.data(), int(data.size())) != 1) return false;
  // GCM's final step writes no ciphertext (n = 0); the tag is fetched next.
  if (EVP_EncryptFinal_ex(c, tag, &n) != 1 || n != 0) return false;
  return EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
}

bool SrtpTransform::gcm_open(const std::array<uint8_t, 12>& iv, Bytes aad, Bytes aad2, MutBytes data, uint8_t* tag) {
  EVP_CIPHER_CTX* c = cipher_.get();
  int n = 0;
  uint8_t end[16];  // DecryptFinal's output pointer; GCM writes nothing to it
  if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, iv.data()) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag) != 1) return false;
  if (EVP_DecryptUpdate(c, nullptr, &n, aad.data(), int(aad.size())) != 1) return false;
  if (!aad2.empty() && EVP_DecryptUpdate(c, nullptr, &n, aad2.data(), int(aad2.size())) != 1) return false;
  if (!data.empty() && EVP_DecryptUpdate(c, data.data(), &n, data.data(), int(data.size())) != 1) return false;
  // OpenSSL compares the computed and expected tags in constant time here.
  return EVP_DecryptFinal_ex(c, end, &n) == 1;
}

// ---- SRTP ---------------------------------------------------------------------------------

bool SrtpTransform::seal_rtp(MutBytes buffer, size_t header_len, size_t length, uint32_t ssrc, uint64_t index) {
  if (!sealing_ || rtcp_ || header_len > length || !fits(buffer, length, tag_len_)) return false;
  const MutBytes payload = buffer.subspan(header_len, length - header_len);
  uint8_t* tag = buffer.data() + length;
  if (gcm()) {
    // RFC 7714 §8.2: the whole header, CSRCs and extension included, is AAD.
    const auto iv = gcm_iv(ssrc, uint32_t(index >> 16), uint32_t(index & 0xffff));
    return gcm_seal(iv, buffer.first(header_len), {}, payload, tag);
  }
  if (!srtp_aes_cm_xor(cipher_.get(), cm_iv(ssrc, index), payload)) return false;
  // RFC 3711 §4.2: tag over the authenticated portion (header + encrypted
  // payload) followed by the 32-bit ROC, truncated to the tag length.
  uint8_t roc[4];
  store_be32(roc, uint32_t(index >> 16));
  std::array<uint8_t, HmacSha1::kSize> mac{};
  auth_.mac(buffer.first(length), roc, mac);
  std::memcpy(tag, mac.data(), tag_len_);
  return true;
}

bool SrtpTransform::open_rtp(MutBytes buffer, size_t header_len, size_t length, uint32_t ssrc, uint64_t index) {
  if (sealing_ || rtcp_ || length > buffer.size() || length > kMaxSrtpPacket || header_len + tag_len_ > length) {
    return false;
  }
  const size_t body = length - tag_len_;
  const MutBytes payload = buffer.subspan(header_len, body - header_len);
  uint8_t* tag = buffer.data() + body;
  if (gcm()) {
    const auto iv = gcm_iv(ssrc, uint32_t(index >> 16), uint32_t(index & 0xffff));
    return gcm_open(iv, buffer.first(header_len), {}, payload, tag);
  }
  // Authenticate first (RFC 3711 §3.3 step 5), decrypt only what verified.
  uint8_t roc[4];
  store_be32(roc, uint32_t(index >> 16));
  std::array<uint8_t, HmacSha1::kSize> mac{};
  auth_.mac(buffer.first(body), roc, mac);
  if (CRYPTO_memcmp(mac.data(), tag, tag_len_) != 0) return false;
  return srtp_aes_cm_xor(cipher_.get(), cm_iv(ssrc, index), payload);
}

// ---- SRTCP ----------------------------------------------------------------------------------

bool SrtpTransform::seal_rtcp(MutBytes buffer, size_t length, uint32_t index) {
  if (!sealing_ || !rtcp_ || length < kRtcpHeader || index >= kEFlag || !fits(buffer, length, trailer_len())) {
    return false;
  }
  const uint32_t ssrc = load_be32(&buffer[4]);
  const MutBytes payload = buffer.subspan(kRtcpHeader, length - kRtcpHeader);
  uint8_t word[kIndexWord];
  store_be32(word, kEFlag | index);  // E = 1: we always encrypt
  if (gcm()) {
    // RFC 7714 §9.1-§9.2: AAD = the 8 clear octets || E|index; the
    // E|index word follows the tag on the wire (§17).
    uint8_t* tag = buffer.data() + length;
    if (!gcm_seal(gcm_iv(ssrc, 0, index), buffer.first(kRtcpHeader), word, payload, tag)) return false;
    std::memcpy(tag + tag_len_, word, kIndexWord);
    return true;
  }
  // RFC 3711 §3.4: E|index after the encrypted part, all of it
  // authenticated, the 80-bit tag last.
  if (!srtp_aes_cm_xor(cipher_.get(), cm_iv(ssrc, index), payload)) return false;
  std::memcpy(buffer.data() + length, word, kIndexWord);
  std::array<uint8_t, HmacSha1::kSize> mac{};
  auth_.mac(buffer.first(length + kIndexWord), {}, mac);
  std::memcpy(buffer.data() + length + kIndexWord, mac.data(), tag_len_);
  return true;
}

bool SrtpTransform::open_rtcp(MutBytes buffer, size_t length, uint32_t index) {
  if (sealing_ || !rtcp_ || length > buffer.size() || length > kMaxSrtpPacket || length < kRtcpHeader + trailer_len() ||
      index >= kEFlag) {
    return false;
  }
  const uint32_t ssrc = load_be32(&buffer[4]);
  const size_t body = length - trailer_len();  // end of the encrypted part
  const MutBytes payload = buffer.subspan(kRtcpHeader, body - kRtcpHeader);
  if (gcm()) {
    const Bytes word = buffer.subspan(length - kIndexWord, kIndexWord);
    return gcm_open(gcm_iv(ssrc, 0, index), buffer.first(kRtcpHeader), word, payload, buffer.data() + body);
  }
  std::array<uint8_t, HmacSha1::kSize> mac{};
  auth_.mac(buffer.first(length - tag_len_), {}, mac);
  if (CRYPTO_memcmp(mac.data(), buffer.data() + length - tag_len_, tag_len_) != 0) return false;
  return srtp_aes_cm_xor(cipher_.get(), cm_iv(ssrc, index), payload);
}

}  // namespace sfu::dtls
