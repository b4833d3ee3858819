// SrtpSession: published vectors (RFC 3711 Appendix B.2/B.3, RFC 7714 §16.1
// and §17.1) checked against an independent reference written here over
// OpenSSL EVP, the session's output checked byte for byte against that
// reference, then round trips, replay, tampering and bounds — each for
// every profile and for both backends (SrtpBackend::evp and ::libsrtp).
#include "dtls/srtp/srtp_session.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace sfu::dtls {
namespace {

using Vec = std::vector<uint8_t>;

// Hex digits to bytes; spaces and line breaks (as in the RFCs) are skipped.
Vec hex(std::string_view s) {
  std::string digits;
  for (char c : s) {
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
  }
  Vec out;
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(uint8_t(std::stoul(digits.substr(i, 2), nullptr, 16)));
  return out;
}

Vec cat(std::initializer_list<Bytes> parts) {
  Vec out;
  for (Bytes p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes sub(const Vec& v, size_t off, size_t n) { return Bytes(v).subspan(off, n); }

// ---- Reference SRTP over OpenSSL EVP, written from the RFC text --------------
namespace ref {

using Block = std::array<uint8_t, 16>;

// AES-128 in counter mode from `iv` (RFC 3711 §4.1.1): keystream XOR input.
Vec aes_cm(Bytes key, const Block& iv, Bytes in) {
  Vec out(in.size());
  if (in.empty()) return out;
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), nullptr, key.data(), iv.data()), 1);
  EXPECT_EQ(EVP_EncryptUpdate(c, out.data(), &n, in.data(), int(in.size())), 1);
  EVP_CIPHER_CTX_free(c);
  return out;
}

// RFC 3711 §4.3.1/§4.3.3 PRF input for `label` with kdr = 0: x = (label || r)
// XOR master_salt, aligned at the least significant end of the 112-bit salt,
// times 2^16. A 96-bit AEAD salt is padded with zeros on the right to 112
// bits first, as libsrtp does; SrtpGcm.ProtectRtpMatchesReference confirms
// the two agree.
Block kdf_input(Bytes master_salt, uint8_t label) {
  Block x{};
  std::copy(master_salt.begin(), master_salt.end(), x.begin());
  x[7] ^= label;  // octet 7 of 14: the label sits just above the 48-bit r
  return x;
}

Vec kdf(Bytes master_key, Bytes master_salt, uint8_t label, size_t n) {
  return aes_cm(master_key, kdf_input(master_salt, label), Vec(n, 0));
}

struct Keys {
  Vec enc, auth, salt;
};

// Session keys for SRTP (rtcp = false: labels 0, 1, 2) or SRTCP (3, 4, 5).
Keys derive(Bytes master_key, Bytes master_salt, bool rtcp) {
  const uint8_t base = rtcp ? 3 : 0;
  return {kdf(master_key, master_salt, base, 16), kdf(master_key, master_salt, base + 1, 20),
          kdf(master_key, master_salt, base + 2, master_salt.size())};
}

Vec hmac_sha1(Bytes key, Bytes data) {
  Vec out(20);
  unsigned n = 0;
  HMAC(EVP_sha1(), key.data(), int(key.size()), data.data(), data.size(), out.data(), &n);
  return out;
}

// RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16).
Block cm_iv(Bytes salt14, uint32_t ssrc, uint64_t index) {
  Block iv{};
  std::copy(salt14.begin(), salt14.end(), iv.begin());
  for (int k = 0; k < 4; ++k) iv[4 + k] ^= uint8_t(ssrc >> (24 - 8 * k));
  for (int k = 0; k < 6; ++k) iv[8 + k] ^= uint8_t(index >> (40 - 8 * k));
  return iv;
}

size_t rtp_header_len(const Vec& p) {
  size_t len = 12 + 4 * size_t(p[0] & 0x0f);
  if (p[0] & 0x10) len += 4 + 4 * size_t(load_be16(&p[len + 2]));
  return len;
}

// SRTP with AES-CM + HMAC-SHA1 (RFC 3711 §3.1, §4.2): payload encrypted, tag
// over header || ciphertext || ROC.
Vec protect_rtp_cm(const Keys& k, const Vec& rtp, uint32_t roc, size_t tag_len) {
  const size_t h = rtp_header_len(rtp);
  const uint64_t index = uint64_t(roc) << 16 | load_be16(&rtp[2]);
  Vec out = cat({sub(rtp, 0, h), aes_cm(k.enc, cm_iv(k.salt, load_be32(&rtp[8]), index), sub(rtp, h, rtp.size() - h))});
  uint8_t roc_be[4];
  store_be32(roc_be, roc);
  const Vec tag = hmac_sha1(k.auth, cat({out, roc_be}));
  out.insert(out.end(), tag.begin(), tag.begin() + long(tag_len));
  return out;
}

// SRTCP with AES-CM + HMAC-SHA1 (RFC 3711 §3.4): everything after the first
// 8 octets encrypted, then E || SRTCP index, tag over all of it.
Vec protect_rtcp_cm(const Keys& k, const Vec& rtcp, uint32_t srtcp_index) {
  Vec out = cat(
      {sub(rtcp, 0, 8), aes_cm(k.enc, cm_iv(k.salt, load_be32(&rtcp[4]), srtcp_index), sub(rtcp, 8, rtcp.size() - 8))});
  uint8_t e_index[4];
  store_be32(e_index, 0x80000000u | srtcp_index);
  out.insert(out.end(), e_index, e_index + 4);
  const Vec tag = hmac_sha1(k.auth, out);
  out.insert(out.end(), tag.begin(), tag.begin() + 10);
  return out;
}

// AES-128-GCM seal: ciphertext || 16-octet tag.
Vec gcm_seal(Bytes key, Bytes iv12, Bytes aad, Bytes plain) {
  Vec out(plain.size() + 16);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  EXPECT_EQ(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, key.data(), iv12.data()), 1);
  EXPECT_EQ(EVP_EncryptUpdate(c, nullptr, &n, aad.data(), int(aad.size())), 1);
  if (!plain.empty()) {
    EXPECT_EQ(EVP_EncryptUpdate(c, out.data(), &n, plain.data(), int(plain.size())), 1);
  }
  EXPECT_EQ(EVP_EncryptFinal_ex(c, out.data() + plain.size(), &n), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out.data() + plain.size()), 1);
  EVP_CIPHER_CTX_free(c);
  return out;
}

// RFC 7714 §8.1 (SRTP) / §9.1 (SRTCP) IV: 00 00 || SSRC || word || tail, XOR salt.
Vec gcm_iv(Bytes salt12, uint32_t ssrc, uint16_t mid, uint32_t low) {
  Vec iv(12, 0);
  store_be32(&iv[2], ssrc);
  store_be16(&iv[6], mid);
  store_be32(&iv[8], low);
  for (size_t k = 0; k < 12; ++k) iv[k] ^= salt12[k];
  return iv;
}

// SRTP with AEAD_AES_128_GCM (RFC 7714 §8): header is AAD, payload sealed.
Vec protect_rtp_gcm(const Keys& k, const Vec& rtp, uint32_t roc) {
  const size_t h = rtp_header_len(rtp);
  const Vec iv = gcm_iv(k.salt, load_be32(&rtp[8]), uint16_t(roc >> 16), roc << 16 | load_be16(&rtp[2]));
  return cat({sub(rtp, 0, h), gcm_seal(k.enc, iv, sub(rtp, 0, h), sub(rtp, h, rtp.size() - h))});
}

// SRTCP with AEAD_AES_128_GCM (RFC 7714 §9): AAD = header || E || index;
// the index word follows the tag.
Vec protect_rtcp_gcm(const Keys& k, const Vec& rtcp, uint32_t srtcp_index) {
  uint8_t e_index[4];
  store_be32(e_index, 0x80000000u | srtcp_index);
  const Vec iv = gcm_iv(k.salt, load_be32(&rtcp[4]), 0, srtcp_index);
  const Vec sealed = gcm_seal(k.enc, iv, cat({sub(rtcp, 0, 8), e_index}), sub(rtcp, 8, rtcp.size() - 8));
  return cat({sub(rtcp, 0, 8), sealed, e_index});
}

}  // namespace ref

Vec to_vec(const ref::Block& b) { return Vec(b.begin(), b.end()); }

// ---- Fixtures --------------------------------------------------------------

// Every parametrized suite below runs for each profile on each backend.
using ProfileBackend = std::tuple<SrtpProfile, SrtpBackend>;

const auto kProfilesAndBackends = ::testing::Combine(
    ::testing::Values(SrtpProfile::aead_aes_128_gcm, SrtpProfile::aes128_cm_sha1_80, SrtpProfile::aes128_cm_sha1_32),
    ::testing::Values(SrtpBackend::evp, SrtpBackend::libsrtp));

std::string param_name(const ::testing::TestParamInfo<ProfileBackend>& p) {
  const SrtpBackend b = std::get<1>(p.param);
  return std::string(to_string(std::get<0>(p.param))) + (b == SrtpBackend::evp ? "_evp" : "_libsrtp");
}

// The parameter accessors both fixtures use.
class ProfileBackendTest : public ::testing::TestWithParam<ProfileBackend> {
 protected:
  static SrtpProfile profile() { return std::get<0>(GetParam()); }
  static SrtpSessionConfig config(SrtpSessionConfig cfg = {}) {
    cfg.backend = std::get<1>(GetParam());
    return cfg;
  }
};

// RFC 3711 Appendix B.3 master key and salt.
const Vec kB3Key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
const Vec kB3Salt = hex("0EC675AD498AFEEBB6960B3AABE6");
// RFC 7714 §16 key and salt ("Quid pro quo"), used there as session keys.
const Vec kGcmKey = hex("000102030405060708090a0b0c0d0e0f");
const Vec kGcmSalt = hex("517569642070726f2071756f");

SrtpKeyingMaterial keying(SrtpProfile p, const Vec& local, const Vec& remote) {
  SrtpKeyingMaterial km;
  km.profile = p;
  km.key_salt_len = srtp_key_salt_len(p);
  std::copy(local.begin(), local.end(), km.local_key_salt.begin());
  std::copy(remote.begin(), remote.end(), km.remote_key_salt.begin());
  return km;
}

SrtpSession make(SrtpProfile p, const Vec& local, const Vec& remote, SrtpSessionConfig cfg = {}) {
  auto s = SrtpSession::create(keying(p, local, remote), cfg);
  if (!s.ok()) {
    ADD_FAILURE() << "create: " << to_string(s.error());
    std::abort();  // every test below needs the session
  }
  return std::move(s).value();
}

// An RTP packet: V=2, PT 96, given seq, SSRC, `payload_len` patterned bytes;
// with_ext adds one CSRC and a one-byte-header extension block.
Vec rtp_packet(uint16_t seq, uint32_t ssrc, size_t payload_len, bool with_ext = false) {
  Vec p = {uint8_t(with_ext ? 0x91 : 0x80), 0x60, 0, 0, 0x00, 0x01, 0xe2, 0x40, 0, 0, 0, 0};
  store_be16(&p[2], seq);
  store_be32(&p[8], ssrc);
  if (with_ext) {
    const Vec more = hex("0badf00d  bede0001  10ff0000");  // CSRC; 0xBEDE, 1 word; id 1 len 1, padding
    p.insert(p.end(), more.begin(), more.end());
  }
  for (size_t i = 0; i < payload_len; ++i) p.push_back(uint8_t(i * 7 + 3));
  return p;
}

// An RTCP packet: RR with no blocks (payload 0) or APP with `payload_len`
// bytes after the 8-byte header (a multiple of 4).
Vec rtcp_packet(uint32_t ssrc, size_t payload_len) {
  Vec p = {0x80, uint8_t(payload_len ? 204 : 201), 0, 0, 0, 0, 0, 0};
  store_be16(&p[2], uint16_t((8 + payload_len) / 4 - 1));
  store_be32(&p[4], ssrc);
  for (size_t i = 0; i < payload_len; ++i) p.push_back(uint8_t(i * 13 + 1));
  return p;
}

// Runs `op` on a copy of `in` in a buffer of `room` spare bytes followed by
// 32 guard bytes outside the span; fails the test if a guard byte changes.
template <class Op>
Result<Vec, SrtpError> in_buffer(const Vec& in, size_t room, Op op) {
  Vec buf(in.size() + room + 32, 0xa5);
  std::copy(in.begin(), in.end(), buf.begin());
  auto r = op(MutBytes(buf).first(in.size() + room), in.size());
  EXPECT_TRUE(std::all_of(buf.end() - 32, buf.end(), [](uint8_t b) { return b == 0xa5; })) << "wrote past the span";
  if (!r.ok()) return fail(r.error());
  EXPECT_LE(*r, in.size() + room);
  return Vec(buf.begin(), buf.begin() + long(*r));
}

Result<Vec, SrtpError> protect(SrtpSession& s, const Vec& p, bool rtcp = false) {
  const size_t room = rtcp ? s.rtcp_trailer_len() : s.rtp_trailer_len();
  return in_buffer(p, room, [&](MutBytes b, size_t n) { return rtcp ? s.protect_rtcp(b, n) : s.protect_rtp(b, n); });
}

Result<Vec, SrtpError> unprotect(SrtpSession& s, const Vec& p, bool rtcp = false) {
  return in_buffer(p, 0, [&](MutBytes b, size_t n) { return rtcp ? s.unprotect_rtcp(b, n) : s.unprotect_rtp(b, n); });
}

SrtpError error_of(const Result<Vec, SrtpError>& r) { return r.ok() ? SrtpError::count_ : r.error(); }

// ---- Published vectors ------------------------------------------------------

TEST(SrtpReference, Rfc3711AppendixB3KeyDerivation) {
  // The AES-CM input blocks the RFC prints for labels 0, 2 and 1.
  EXPECT_EQ(to_vec(ref::kdf_input(kB3Salt, 0)), hex("0EC675AD498AFEEBB6960B3AABE60000"));
  EXPECT_EQ(to_vec(ref::kdf_input(kB3Salt, 2)), hex("0EC675AD498AFEE9B6960B3AABE60000"));
  EXPECT_EQ(to_vec(ref::kdf_input(kB3Salt, 1)), hex("0EC675AD498AFEEAB6960B3AABE60000"));
  EXPECT_EQ(ref::kdf(kB3Key, kB3Salt, 0, 16), hex("C61E7A93744F39EE10734AFE3FF7A087"));  // cipher key
  EXPECT_EQ(ref::kdf(kB3Key, kB3Salt, 2, 14), hex("30CBBC08863D8C85D49DB34A9AE1"));      // cipher salt
  EXPECT_EQ(ref::kdf(kB3Key, kB3Salt, 1, 94),                                            // 94-octet auth key
            hex("CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE"
                "E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25"
                "6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"));
}

TEST(SrtpReference, Rfc3711AppendixB2AesCmKeystream) {
  const Vec key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
  const Vec salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
  const ref::Block iv = ref::cm_iv(salt, 0, 0);  // SSRC 0, ROC 0, SEQ 0
  EXPECT_EQ(to_vec(iv), hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
  const Vec ks = ref::aes_cm(key, iv, Vec(1044512, 0));  // 65282 blocks
  EXPECT_EQ(Vec(ks.begin(), ks.begin() + 48), hex("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB"
                                                  "41E95B3BB0A2E8DD477901E4FCA894C0"));
  EXPECT_EQ(Vec(ks.end() - 48, ks.end()), hex("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE"
                                              "6A2CC3787889374FBEB4C81B17BA6C44"));
}

// RFC 7714 §16: header 8040f17b 8041f8d3 5501a0b2, "Gallia est omnis divisa
// in partes tres", session key 00..0f, session salt "Quid pro quo".
const Vec kRfc7714Rtp =
    hex("8040f17b8041f8d35501a0b2 47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573");

TEST(SrtpReference, Rfc7714Section16_1AeadAes128GcmRtp) {
  EXPECT_EQ(ref::gcm_iv(kGcmSalt, 0x5501a0b2, 0, 0xf17b), hex("51753c6580c2726f20718414"));
  const ref::Keys k{kGcmKey, {}, kGcmSalt};
  EXPECT_EQ(ref::protect_rtp_gcm(k, kRfc7714Rtp, 0),
            hex("8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833"
                "899d7f27beb16a9152cf765ee4390cce"));
}

TEST(SrtpReference, Rfc7714Section17_1AeadAes128GcmRtcp) {
  const Vec rtcp =
      hex("81c8000d4d617273 4e5450314e545032525450200000042a0000e9304c756e61"
          "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef");
  const ref::Keys k{kGcmKey, {}, kGcmSalt};
  EXPECT_EQ(ref::protect_rtcp_gcm(k, rtcp, 0x5d4),
            hex("81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded"
                "0bb9275bc84aa45896cf4d2fc5abf87245d9eade 800005d4"));
}

// ---- SrtpSession against the reference -------------------------------------

// The session takes master key/salt and derives session keys itself (RFC
// 3711 §4.3; RFC 7714 §11 for GCM), so it is keyed with the B.3 master key and
// the B.3 salt (CM) or the §16 salt (GCM), and must produce exactly what the
// reference KDF + transform validated above produce — for the §16 packet,
// CSRC/extension headers, 1200-byte payloads, across the sequence wrap (ROC 0
// -> 1, RFC 3711 §3.3.1) and for consecutive SRTCP indices (+1 each, §3.4).
class SrtpMatchesReference : public ProfileBackendTest {
 protected:
  bool gcm() const { return profile() == SrtpProfile::aead_aes_128_gcm; }
  Vec master() const { return cat({kB3Key, gcm() ? kGcmSalt : kB3Salt}); }
  ref::Keys keys(bool rtcp) const { return ref::derive(kB3Key, gcm() ? kGcmSalt : kB3Salt, rtcp); }
  Vec rtp(const Vec& plain, uint32_t roc) const {
    return gcm() ? ref::protect_rtp_gcm(keys(false), plain, roc)
                 : ref::protect_rtp_cm(keys(false), plain, roc, srtp_rtp_tag_len(profile()));
  }
  Vec rtcp(const Vec& plain, uint32_t index) const {
    return gcm() ? ref::protect_rtcp_gcm(keys(true), plain, index) : ref::protect_rtcp_cm(keys(true), plain, index);
  }
};

TEST_P(SrtpMatchesReference, Protect) {
  SrtpSession s = make(profile(), master(), hex("00"), config());
  const std::pair<Vec, uint32_t> packets[] = {
      {kRfc7714Rtp, 0},                                 // seq 0xf17b
      {rtp_packet(0xfffe, 0x5501a0b2, 1200, true), 0},  // CSRC + extension
      {rtp_packet(0xffff, 0x5501a0b2, 0), 0},
      {rtp_packet(0x0000, 0x5501a0b2, 100, true), 1},  // wrapped: ROC 1
      {rtp_packet(0x0001, 0x5501a0b2, 1200), 1},
  };
  for (const auto& [plain, roc] : packets) {
    auto out = protect(s, plain);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(*out, rtp(plain, roc)) << "seq " << load_be16(&plain[2]);
  }
  const Vec plain = rtcp_packet(0x4d617273, 100);
  auto first = protect(s, plain, true), second = protect(s, plain, true);
  ASSERT_TRUE(first.ok() && second.ok());
  const size_t at = first->size() - (gcm() ? 4 : 14);  // E || index: after the tag for GCM, before it for CM
  const uint32_t index = load_be32(&(*first)[at]) & 0x7fffffff;
  EXPECT_EQ(load_be32(&(*second)[at]) & 0x7fffffff, index + 1);
  EXPECT_EQ(*first, rtcp(plain, index));
  EXPECT_EQ(*second, rtcp(plain, index + 1));
}

// The other direction: packets sealed by the reference open in the session.
TEST_P(SrtpMatchesReference, UnprotectReferencePackets) {
  SrtpSession s = make(profile(), hex("00"), master(), config());
  for (const Vec& plain : {kRfc7714Rtp, rtp_packet(0xf17c, 0x5501a0b2, 1200, true)}) {
    auto out = unprotect(s, rtp(plain, 0));
    ASSERT_TRUE(out.ok()) << to_string(out.error());
    EXPECT_EQ(*out, plain);
  }
  const Vec plain = rtcp_packet(0x4d617273, 40);
  auto out = unprotect(s, rtcp(plain, 0x5d4), true);
  ASSERT_TRUE(out.ok()) << to_string(out.error());
  EXPECT_EQ(*out, plain);
}

INSTANTIATE_TEST_SUITE_P(Srtp, SrtpMatchesReference, kProfilesAndBackends, param_name);

// ---- Round trips and refusals, every profile -------------------------------

class SrtpSessionTest : public ProfileBackendTest {
 protected:
  static Vec key_a() { return hex("00112233445566778899aabbccddeeff f0e1d2c3b4a5968778695a4b3c2d"); }
  static Vec key_b() { return hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0 0123456789abcdef0123456789ab"); }
  Vec kl(const Vec& k) const { return Vec(k.begin(), k.begin() + long(srtp_key_salt_len(profile()))); }
  SrtpSession sender(SrtpSessionConfig cfg = {}) { return make(profile(), kl(key_a()), kl(key_b()), config(cfg)); }
  SrtpSession receiver(SrtpSessionConfig cfg = {}) { return make(profile(), kl(key_b()), kl(key_a()), config(cfg)); }
};

TEST_P(SrtpSessionTest, RtpRoundTrip) {
  SrtpSession tx = sender(), rx = receiver();
  uint16_t seq = 65530;  // crosses the sequence wrap: ROC 0 -> 1
  for (size_t len : {0, 100, 1200}) {
    for (int i = 0; i < 4; ++i, ++seq) {
      const Vec plain = rtp_packet(seq, 0x11223344, len, i % 2 == 1);
      auto sealed = protect(tx, plain);
      ASSERT_TRUE(sealed.ok());
      ASSERT_EQ(sealed->size(), plain.size() + tx.rtp_trailer_len());
      const size_t h = ref::rtp_header_len(plain);
      EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + long(h), sealed->begin()));  // header in clear
      if (len) {
        EXPECT_FALSE(std::equal(plain.begin() + long(h), plain.end(), sealed->begin() + long(h)));  // payload not
      }
      auto opened = unprotect(rx, *sealed);
      ASSERT_TRUE(opened.ok()) << to_string(opened.error());
      EXPECT_EQ(*opened, plain);
    }
  }
}

TEST_P(SrtpSessionTest, RtcpRoundTrip) {
  SrtpSession tx = sender(), rx = receiver();
  for (size_t len : {0, 100, 1200}) {
    const Vec plain = rtcp_packet(0x55667788, len);
    auto sealed = protect(tx, plain, true);
    ASSERT_TRUE(sealed.ok());
    ASSERT_EQ(sealed->size(), plain.size() + tx.rtcp_trailer_len());
    EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 8, sealed->begin()));
    auto opened = unprotect(rx, *sealed, true);
    ASSERT_TRUE(opened.ok()) << to_string(opened.error());
    EXPECT_EQ(*opened, plain);
  }
}

TEST_P(SrtpSessionTest, InPlaceWithExactRoom) {
  SrtpSession tx = sender(), rx = receiver();
  const Vec plain = rtp_packet(1, 0xabcdef01, 100);
  Vec buf(plain.size() + tx.rtp_trailer_len());
  std::copy(plain.begin(), plain.end(), buf.begin());
  const uint8_t* data = buf.data();
  auto n = tx.protect_rtp(buf, plain.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, buf.size());
  EXPECT_EQ(buf.data(), data);
  auto m = rx.unprotect_rtp(buf, *n);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(Vec(buf.begin(), buf.begin() + long(*m)), plain);
}

TEST_P(SrtpSessionTest, NoRoomForTagIsRefusedUntouched) {
  SrtpSession tx = sender();
  for (bool rtcp : {false, true}) {
    const Vec plain = rtcp ? rtcp_packet(1, 100) : rtp_packet(1, 1, 100);
    const size_t need = rtcp ? tx.rtcp_trailer_len() : tx.rtp_trailer_len();
    auto r = in_buffer(plain, need - 1, [&](MutBytes b, size_t n) {
      auto res = rtcp ? tx.protect_rtcp(b, n) : tx.protect_rtp(b, n);
      EXPECT_TRUE(std::equal(plain.begin(), plain.end(), b.begin()));  // untouched
      return res;
    });
    EXPECT_EQ(error_of(r), SrtpError::no_room);
  }
}

TEST_P(SrtpSessionTest, TamperedByteFailsAuthentication) {
  SrtpSession tx = sender(), rx = receiver();
  for (bool rtcp : {false, true}) {
    const Vec plain = rtcp ? rtcp_packet(9, 100) : rtp_packet(100, 9, 100);
    auto sealed = protect(tx, plain, rtcp);
    ASSERT_TRUE(sealed.ok());
    // A header byte, a payload byte, the last tag byte.
    for (size_t at : {size_t(3), size_t(20), sealed->size() - 1}) {
      Vec bad = *sealed;
      bad[at] ^= 0x01;
      EXPECT_EQ(error_of(unprotect(rx, bad, rtcp)), SrtpError::auth_fail) << "rtcp " << rtcp << " byte " << at;
    }
    EXPECT_TRUE(unprotect(rx, *sealed, rtcp).ok());  // the original still opens
  }
}

TEST_P(SrtpSessionTest, WrongKeyFailsAuthentication) {
  SrtpSession tx = sender(), other = sender();  // other's remote key is not tx's local key
  auto sealed = protect(tx, rtp_packet(1, 2, 100));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(error_of(unprotect(other, *sealed)), SrtpError::auth_fail);
}

TEST_P(SrtpSessionTest, ReplayedPacketIsRefused) {
  SrtpSession tx = sender(), rx = receiver();
  auto sealed = protect(tx, rtp_packet(500, 3, 100));
  auto sealed_rtcp = protect(tx, rtcp_packet(3, 100), true);
  ASSERT_TRUE(sealed.ok() && sealed_rtcp.ok());
  EXPECT_TRUE(unprotect(rx, *sealed).ok());
  EXPECT_EQ(error_of(unprotect(rx, *sealed)), SrtpError::replay_fail);
  EXPECT_TRUE(unprotect(rx, *sealed_rtcp, true).ok());
  EXPECT_EQ(error_of(unprotect(rx, *sealed_rtcp, true)), SrtpError::replay_fail);
}

TEST_P(SrtpSessionTest, ReorderInsideWindowAcceptedOlderRefused) {
  SrtpSession tx = sender(), rx = receiver();  // default window 1024
  auto oldest = protect(tx, rtp_packet(1000, 4, 100));
  auto inside = protect(tx, rtp_packet(2000, 4, 100));
  auto newest = protect(tx, rtp_packet(3000, 4, 100));
  ASSERT_TRUE(oldest.ok() && inside.ok() && newest.ok());
  ASSERT_TRUE(unprotect(rx, *newest).ok());
  EXPECT_TRUE(unprotect(rx, *inside).ok());                            // 1000 behind: inside
  EXPECT_EQ(error_of(unprotect(rx, *oldest)), SrtpError::replay_old);  // 2000 behind: outside
}

TEST_P(SrtpSessionTest, RepeatedSendFollowsConfig) {
  SrtpSession tx = sender();
  const Vec plain = rtp_packet(42, 5, 100);
  auto a = protect(tx, plain), b = protect(tx, plain);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);  // same index, same bytes
  SrtpSession strict = sender({.replay_window = 1024, .allow_repeat_tx = false});
  ASSERT_TRUE(protect(strict, plain).ok());
  EXPECT_EQ(error_of(protect(strict, plain)), SrtpError::replay_fail);
}

TEST_P(SrtpSessionTest, MalformedInputIsRefused) {
  SrtpSession tx = sender(), rx = receiver();
  EXPECT_EQ(error_of(protect(tx, hex("8060000100000000000000"))), SrtpError::malformed);             // 11 bytes
  EXPECT_EQ(error_of(protect(tx, hex("4060000100000000000000aa"))), SrtpError::malformed);           // version 1
  EXPECT_EQ(error_of(protect(tx, hex("9060000100000000000000aa bede00ff"))), SrtpError::malformed);  // ext past end
  EXPECT_EQ(error_of(protect(tx, hex("8fc90001000000"), true)), SrtpError::malformed);               // 7-byte RTCP
  auto sealed = protect(tx, rtp_packet(1, 6, 0));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(error_of(unprotect(rx, Vec(sealed->begin(), sealed->end() - 1))), SrtpError::malformed);
  Vec buf(64);
  EXPECT_EQ(tx.protect_rtp(MutBytes(buf).first(10), 20).error(), SrtpError::malformed);  // length > buffer
}

TEST_P(SrtpSessionTest, GarbageAndTruncationNeverCrash) {
  SrtpSession rx = receiver(), tx = sender();
  std::mt19937 rng(7);
  auto sealed = protect(tx, rtp_packet(9, 9, 100, true));
  auto sealed_rtcp = protect(tx, rtcp_packet(9, 100), true);
  ASSERT_TRUE(sealed.ok() && sealed_rtcp.ok());
  for (size_t n = 0; n < sealed->size(); ++n) {
    EXPECT_FALSE(unprotect(rx, Vec(sealed->begin(), sealed->begin() + long(n))).ok()) << n;
  }
  for (size_t n = 0; n < sealed_rtcp->size(); ++n) {
    EXPECT_FALSE(unprotect(rx, Vec(sealed_rtcp->begin(), sealed_rtcp->begin() + long(n)), true).ok()) << n;
  }
  for (int i = 0; i < 2000; ++i) {
    Vec junk(rng() % 80);
    for (auto& b : junk) b = uint8_t(rng());
    if (!junk.empty() && i % 2) junk[0] = 0x80 | (junk[0] & 0x3f);  // version 2 half the time
    EXPECT_FALSE(unprotect(rx, junk, i % 3 == 0).ok());
  }
}

TEST_P(SrtpSessionTest, MovedSessionKeepsWorking) {
  SrtpSession tx = sender(), rx = receiver();
  SrtpSession moved = std::move(tx);
  auto sealed = protect(moved, rtp_packet(1, 1, 10));
  ASSERT_TRUE(sealed.ok());
  SrtpSession rx2 = receiver();
  rx2 = std::move(rx);
  EXPECT_TRUE(unprotect(rx2, *sealed).ok());
  Vec buf(64);
  EXPECT_EQ(tx.protect_rtp(buf, 20).error(), SrtpError::other);  // NOLINT(bugprone-use-after-move): moved-from refuses
}

INSTANTIATE_TEST_SUITE_P(Srtp, SrtpSessionTest, kProfilesAndBackends, param_name);

// ---- Profiles, keying material, configuration ------------------------------

TEST(SrtpProfiles, IdsNamesAndSizes) {
  EXPECT_EQ(srtp_profile_from_id(0x0001), SrtpProfile::aes128_cm_sha1_80);
  EXPECT_EQ(srtp_profile_from_id(0x0002), SrtpProfile::aes128_cm_sha1_32);
  EXPECT_EQ(srtp_profile_from_id(0x0007), SrtpProfile::aead_aes_128_gcm);
  EXPECT_EQ(srtp_profile_from_id(0x0008), std::nullopt);  // AES-256-GCM: not offered
  EXPECT_EQ(srtp_profile_id(SrtpProfile::aead_aes_128_gcm), 0x0007);
  EXPECT_EQ(srtp_profile_from_openssl_name("SRTP_AES128_CM_SHA1_80"), SrtpProfile::aes128_cm_sha1_80);
  EXPECT_EQ(srtp_profile_from_openssl_name("SRTP_AEAD_AES_128_GCM"), SrtpProfile::aead_aes_128_gcm);
  EXPECT_EQ(srtp_profile_from_openssl_name("SRTP_NULL"), std::nullopt);
  EXPECT_EQ(std::string_view(kSrtpProfilesOpenSsl).substr(0, 21), "SRTP_AEAD_AES_128_GCM");  // GCM first
  EXPECT_EQ(srtp_key_salt_len(SrtpProfile::aes128_cm_sha1_80), 30u);
  EXPECT_EQ(srtp_key_salt_len(SrtpProfile::aead_aes_128_gcm), 28u);
  EXPECT_EQ(srtp_exporter_len(SrtpProfile::aead_aes_128_gcm), 56u);
  for (auto p : {SrtpProfile::aes128_cm_sha1_80, SrtpProfile::aes128_cm_sha1_32, SrtpProfile::aead_aes_128_gcm}) {
    EXPECT_LE(srtp_rtp_trailer_len(p), SrtpSession::kMaxTrailer);
    EXPECT_LE(srtp_rtcp_trailer_len(p), SrtpSession::kMaxTrailer);
  }
  EXPECT_EQ(srtp_rtcp_trailer_len(SrtpProfile::aead_aes_128_gcm), SrtpSession::kMaxTrailer);
}

TEST(SrtpProfiles, ExporterSplitFollowsRfc5764Section4_2) {
  Vec block(56);
  for (size_t i = 0; i < block.size(); ++i) block[i] = uint8_t(i);
  // client key 0..15, server key 16..31, client salt 32..43, server salt 44..55
  auto client = srtp_keying_material_from_exporter(SrtpProfile::aead_aes_128_gcm, block, true);
  auto server = srtp_keying_material_from_exporter(SrtpProfile::aead_aes_128_gcm, block, false);
  ASSERT_TRUE(client && server);
  EXPECT_EQ(client->key_salt_len, 28u);
  EXPECT_EQ(client->local_key_salt[0], 0);
  EXPECT_EQ(client->local_key_salt[16], 32);
  EXPECT_EQ(client->remote_key_salt[0], 16);
  EXPECT_EQ(client->remote_key_salt[27], 55);
  EXPECT_EQ(server->local_key_salt, client->remote_key_salt);
  EXPECT_EQ(server->remote_key_salt, client->local_key_salt);
  EXPECT_FALSE(srtp_keying_material_from_exporter(SrtpProfile::aead_aes_128_gcm, Bytes(block).first(55), true));
  // The two halves interoperate, on either backend and across them.
  for (SrtpBackend ba : {SrtpBackend::evp, SrtpBackend::libsrtp}) {
    for (SrtpBackend bb : {SrtpBackend::evp, SrtpBackend::libsrtp}) {
      auto a = SrtpSession::create(*client, {.backend = ba}), b = SrtpSession::create(*server, {.backend = bb});
      ASSERT_TRUE(a.ok() && b.ok());
      auto sealed = protect(*a, rtp_packet(1, 1, 10));
      ASSERT_TRUE(sealed.ok());
      EXPECT_TRUE(unprotect(*b, *sealed).ok());
    }
  }
}

TEST(SrtpConfig, BadKeyLengthOrWindowIsRefused) {
  for (SrtpBackend b : {SrtpBackend::evp, SrtpBackend::libsrtp}) {
    SrtpKeyingMaterial km = keying(SrtpProfile::aead_aes_128_gcm, Vec(28, 1), Vec(28, 2));
    km.key_salt_len = 30;
    EXPECT_EQ(SrtpSession::create(km, {.backend = b}).error(), SrtpError::bad_config);
    km.key_salt_len = 28;
    EXPECT_EQ(SrtpSession::create(km, {.replay_window = 10, .backend = b}).error(), SrtpError::bad_config);
    EXPECT_EQ(SrtpSession::create(km, {.replay_window = 0x8000, .backend = b}).error(), SrtpError::bad_config);
    EXPECT_TRUE(SrtpSession::create(km, {.replay_window = 64, .backend = b}).ok());
  }
}

TEST(SrtpConfig, EvpIsTheDefaultBackend) { EXPECT_EQ(SrtpSessionConfig{}.backend, SrtpBackend::evp); }

}  // namespace
}  // namespace sfu::dtls
