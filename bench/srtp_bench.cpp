// SRTP/SRTCP protect and unprotect through SrtpSession on both backends
// (SrtpBackend::evp, our OpenSSL EVP implementation, and ::libsrtp, the
// libsrtp2 adapter; Debian's libsrtp2 does its crypto through NSS), beside
// the same transforms done directly with OpenSSL EVP, so the cost of each
// backend can be read as a ratio measured in one run.
//
//   BM_SrtpProtect/<backend>/<profile>/<payload>      RTP, 12-byte header + payload
//   BM_SrtpUnprotect/<backend>/<profile>/<payload>    the same packets, receive side
//   BM_SrtpForward/<backend>/<profile>/<payload>      unprotect, rewrite SSRC/seq, protect
//                                                     again with another session: one
//                                                     packet forwarded to one subscriber
//   BM_SrtpProtectRtcp/<backend>/<profile>/<payload>  RTCP, 8-byte header + payload
//   BM_SrtpSessionCreate/<backend>/<profile>          keying one session (both directions)
//   BM_EvpGcm/<payload>                               AES-128-GCM as SRTP uses it (RFC 7714 §8)
//   BM_EvpCtrHmacSha1/<payload>                       AES-128-CTR + HMAC-SHA1-80 (RFC 3711 §4),
//                                                     HMAC restarted through EVP_MAC
//   BM_HmacSha1/<how>/<bytes>                         HMAC-SHA1 alone: precomputed SHA1_* states
//                                                     (what the evp backend does) vs EVP_MAC
//
// Every iteration copies the plaintext (or the protected packet) into the
// work buffer first, because all of these work in place; the EVP
// benchmarks do the same copy, so the ratios compare like with like.
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dtls/srtp/srtp_evp_transform.hpp"
#include "dtls/srtp/srtp_session.hpp"

namespace {

using sfu::MutBytes;
using sfu::dtls::SrtpBackend;
using sfu::dtls::SrtpKeyingMaterial;
using sfu::dtls::SrtpProfile;
using sfu::dtls::SrtpSession;

constexpr SrtpProfile kGcm = SrtpProfile::aead_aes_128_gcm;
constexpr SrtpProfile kCm80 = SrtpProfile::aes128_cm_sha1_80;

// A session keyed with `local` bytes for protect and `remote` for unprotect,
// so make(b, p, 1, 2) talks to make(b, p, 2, 1).
SrtpSession make(SrtpBackend backend, SrtpProfile p, uint8_t local, uint8_t remote) {
  SrtpKeyingMaterial km;
  km.profile = p;
  km.key_salt_len = sfu::dtls::srtp_key_salt_len(p);
  km.local_key_salt.fill(local);
  km.remote_key_salt.fill(remote);
  auto s = SrtpSession::create(km, {.backend = backend});
  if (!s.ok()) std::abort();  // fixed, valid keys
  return std::move(s).value();
}

// RTP: V=2, PT 96, SSRC 0x01020304, `payload` bytes.
std::vector<uint8_t> rtp_plain(size_t payload) {
  std::vector<uint8_t> p(12 + payload, 0x5a);
  const uint8_t header[12] = {0x80, 0x60, 0, 0, 0, 0, 0x10, 0, 0x01, 0x02, 0x03, 0x04};
  std::memcpy(p.data(), header, sizeof header);
  return p;
}

void set_counters(benchmark::State& state, size_t bytes) {
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations() * bytes));
}

void BM_SrtpProtect(benchmark::State& state, SrtpBackend backend, SrtpProfile profile) {
  SrtpSession tx = make(backend, profile, 1, 2);
  const std::vector<uint8_t> plain = rtp_plain(size_t(state.range(0)));
  std::vector<uint8_t> buf(plain.size() + SrtpSession::kMaxTrailer);
  uint16_t seq = 0;
  for (auto _ : state) {
    std::memcpy(buf.data(), plain.data(), plain.size());
    sfu::store_be16(&buf[2], seq++);  // a fresh index each time, as on the wire
    auto r = tx.protect_rtp(buf, plain.size());
    if (!r.ok()) {
      state.SkipWithError("protect_rtp failed");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
  }
  set_counters(state, plain.size());
}

// Protected packets with consecutive sequence numbers, made ahead in
// batches (outside the timed region) because unprotect refuses an index it
// has seen.
class SealedBatch {
 public:
  static constexpr size_t kSize = 1024;
  SealedBatch(SrtpBackend backend, SrtpProfile profile, size_t payload)
      : tx_(make(backend, profile, 1, 2)), plain_(rtp_plain(payload)), packets_(kSize), lengths_(kSize) {
    for (auto& p : packets_) p.resize(plain_.size() + SrtpSession::kMaxTrailer);
  }
  void refill() {
    for (size_t i = 0; i < kSize; ++i) {
      std::memcpy(packets_[i].data(), plain_.data(), plain_.size());
      sfu::store_be16(&packets_[i][2], seq_++);
      lengths_[i] = tx_.protect_rtp(packets_[i], plain_.size()).value();
    }
  }
  const std::vector<uint8_t>& packet(size_t i) const { return packets_[i]; }
  size_t length(size_t i) const { return lengths_[i]; }
  size_t plain_size() const { return plain_.size(); }

 private:
  SrtpSession tx_;
  std::vector<uint8_t> plain_;
  std::vector<std::vector<uint8_t>> packets_;
  std::vector<size_t> lengths_;
  uint16_t seq_ = 0;
};

// Runs `body(work, length)` once per iteration on the next sealed packet,
// copied into `work`, refilling the batch outside the timed region.
template <class Body>
void over_sealed_packets(benchmark::State& state, SealedBatch& batch, Body body) {
  std::vector<uint8_t> work(batch.plain_size() + SrtpSession::kMaxTrailer);
  batch.refill();
  size_t next = 0;
  for (auto _ : state) {
    if (next == SealedBatch::kSize) {
      state.PauseTiming();
      batch.refill();
      next = 0;
      state.ResumeTiming();
    }
    std::memcpy(work.data(), batch.packet(next).data(), batch.length(next));
    if (!body(work, batch.length(next))) {
      state.SkipWithError("unprotect/forward failed");
      break;
    }
    ++next;
    benchmark::DoNotOptimize(work.data());
  }
  set_counters(state, batch.plain_size());
}

void BM_SrtpUnprotect(benchmark::State& state, SrtpBackend backend, SrtpProfile profile) {
  SealedBatch batch(backend, profile, size_t(state.range(0)));
  SrtpSession rx = make(backend, profile, 2, 1);
  over_sealed_packets(state, batch, [&](MutBytes work, size_t n) { return rx.unprotect_rtp(work, n).ok(); });
}

// The SFU's per-packet work for one subscriber: unprotect with the
// publisher's transport, rewrite SSRC and sequence number in place, protect
// with the subscriber's transport.
void BM_SrtpForward(benchmark::State& state, SrtpBackend backend, SrtpProfile profile) {
  SealedBatch batch(backend, profile, size_t(state.range(0)));
  SrtpSession publisher = make(backend, profile, 2, 1);
  SrtpSession subscriber = make(backend, profile, 3, 4);
  uint16_t out_seq = 100;
  over_sealed_packets(state, batch, [&](MutBytes work, size_t n) {
    auto plain = publisher.unprotect_rtp(work, n);
    if (!plain.ok()) return false;
    sfu::store_be16(&work[2], out_seq++);
    sfu::store_be32(&work[8], 0xcafe0001);
    return subscriber.protect_rtp(work, *plain).ok();
  });
}

void BM_SrtpProtectRtcp(benchmark::State& state, SrtpBackend backend, SrtpProfile profile) {
  SrtpSession tx = make(backend, profile, 1, 2);
  // RR header (V=2, PT 201) + payload; SRTCP only reads the first 8 bytes.
  std::vector<uint8_t> plain(8 + size_t(state.range(0)), 0x33);
  const uint8_t header[8] = {0x80, 201, 0, uint8_t(plain.size() / 4 - 1), 0x01, 0x02, 0x03, 0x04};
  std::memcpy(plain.data(), header, sizeof header);
  std::vector<uint8_t> buf(plain.size() + SrtpSession::kMaxTrailer);
  for (auto _ : state) {
    std::memcpy(buf.data(), plain.data(), plain.size());
    auto r = tx.protect_rtcp(buf, plain.size());
    if (!r.ok()) {
      state.SkipWithError("protect_rtcp failed");
      break;
    }
    benchmark::DoNotOptimize(buf.data());
  }
  set_counters(state, plain.size());
}

// Control-path cost: keying both directions of one transport.
void BM_SrtpSessionCreate(benchmark::State& state, SrtpBackend backend, SrtpProfile profile) {
  for (auto _ : state) {
    SrtpSession s = make(backend, profile, 1, 2);
    benchmark::DoNotOptimize(&s);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}

// Registers every SrtpSession benchmark for both backends, GCM and
// AES-CM-80, evp first so the pairs sit next to each other per profile.
int register_session_benchmarks() {
  for (SrtpProfile profile : {kGcm, kCm80}) {
    for (SrtpBackend backend : {SrtpBackend::evp, SrtpBackend::libsrtp}) {
      const std::string suffix =
          std::string(backend == SrtpBackend::evp ? "/evp/" : "/libsrtp/") + (profile == kGcm ? "gcm" : "cm_sha1_80");
      benchmark::RegisterBenchmark(("BM_SrtpProtect" + suffix).c_str(), BM_SrtpProtect, backend, profile)
          ->Arg(100)
          ->Arg(1200);
      benchmark::RegisterBenchmark(("BM_SrtpUnprotect" + suffix).c_str(), BM_SrtpUnprotect, backend, profile)
          ->Arg(100)
          ->Arg(1200);
      benchmark::RegisterBenchmark(("BM_SrtpForward" + suffix).c_str(), BM_SrtpForward, backend, profile)->Arg(1200);
      benchmark::RegisterBenchmark(("BM_SrtpProtectRtcp" + suffix).c_str(), BM_SrtpProtectRtcp, backend, profile)
          ->Arg(100);
      benchmark::RegisterBenchmark(("BM_SrtpSessionCreate" + suffix).c_str(), BM_SrtpSessionCreate, backend, profile);
    }
  }
  return 0;
}
const int kSessionBenchmarks = register_session_benchmarks();

// ---- The same transforms straight through OpenSSL EVP -----------------------

// AES-128-GCM per SRTP packet: IV = salt XOR (00 00 || SSRC || ROC || SEQ),
// header as AAD, payload encrypted in place, 16-byte tag appended. The key
// schedule is done once; each packet only sets the IV.
void BM_EvpGcm(benchmark::State& state) {
  const std::array<uint8_t, 16> key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const std::array<uint8_t, 12> salt{0x51, 0x75, 0x69, 0x64, 0x20, 0x70, 0x72, 0x6f, 0x20, 0x71, 0x75, 0x6f};
  const std::vector<uint8_t> plain = rtp_plain(size_t(state.range(0)));
  const size_t payload = plain.size() - 12;
  std::vector<uint8_t> buf(plain.size() + 16);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key.data(), nullptr);
  uint16_t seq = 0;
  bool ok = true;
  for (auto _ : state) {
    std::memcpy(buf.data(), plain.data(), plain.size());
    sfu::store_be16(&buf[2], seq++);
    std::array<uint8_t, 12> iv{};
    std::memcpy(&iv[2], &buf[8], 4);   // SSRC
    std::memcpy(&iv[10], &buf[2], 2);  // SEQ (ROC 0)
    for (size_t i = 0; i < 12; ++i) iv[i] ^= salt[i];
    int n = 0;
    ok &= EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) == 1;
    ok &= EVP_EncryptUpdate(ctx, nullptr, &n, buf.data(), 12) == 1;
    ok &= EVP_EncryptUpdate(ctx, &buf[12], &n, &buf[12], int(payload)) == 1;
    ok &= EVP_EncryptFinal_ex(ctx, &buf[12 + payload], &n) == 1;
    ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &buf[12 + payload]) == 1;
    benchmark::DoNotOptimize(buf.data());
  }
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) state.SkipWithError("EVP GCM failed");
  set_counters(state, plain.size());
}
BENCHMARK(BM_EvpGcm)->Arg(100)->Arg(1200);

// AES-128-CTR + HMAC-SHA1 per SRTP packet: IV from salt, SSRC and index,
// payload encrypted in place, HMAC over header || payload || ROC, 10 bytes
// of it appended. Both keys are set up once; EVP_MAC_init with no key
// restarts HMAC with the key already set (checked against one-shot HMAC()).
void BM_EvpCtrHmacSha1(benchmark::State& state) {
  const std::array<uint8_t, 16> key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const std::array<uint8_t, 20> auth_key{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
  const std::array<uint8_t, 14> salt{0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe,
                                     0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};
  const std::vector<uint8_t> plain = rtp_plain(size_t(state.range(0)));
  const size_t payload = plain.size() - 12;
  std::vector<uint8_t> buf(plain.size() + 10);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, key.data(), nullptr);
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* mctx = EVP_MAC_CTX_new(mac);
  char digest[] = "SHA1";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  bool ok = EVP_MAC_init(mctx, auth_key.data(), auth_key.size(), params) == 1;
  uint16_t seq = 0;
  const uint8_t roc[4] = {0, 0, 0, 0};
  std::array<uint8_t, 20> tag{};
  for (auto _ : state) {
    std::memcpy(buf.data(), plain.data(), plain.size());
    sfu::store_be16(&buf[2], seq++);
    std::array<uint8_t, 16> iv{};
    std::memcpy(iv.data(), salt.data(), salt.size());
    for (size_t i = 0; i < 4; ++i) iv[4 + i] ^= buf[8 + i];   // SSRC * 2^64
    for (size_t i = 0; i < 2; ++i) iv[12 + i] ^= buf[2 + i];  // index * 2^16 (ROC 0)
    int n = 0;
    size_t tag_len = 0;
    ok &= EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv.data()) == 1;
    ok &= EVP_EncryptUpdate(ctx, &buf[12], &n, &buf[12], int(payload)) == 1;
    ok &= EVP_MAC_init(mctx, nullptr, 0, nullptr) == 1;
    ok &= EVP_MAC_update(mctx, buf.data(), plain.size()) == 1;
    ok &= EVP_MAC_update(mctx, roc, sizeof roc) == 1;
    ok &= EVP_MAC_final(mctx, tag.data(), &tag_len, tag.size()) == 1;
    std::memcpy(&buf[plain.size()], tag.data(), 10);
    benchmark::DoNotOptimize(buf.data());
  }
  // The restarted HMAC must equal a fresh one over the last packet.
  std::vector<uint8_t> last(buf.begin(), buf.begin() + long(plain.size()));
  last.insert(last.end(), roc, roc + 4);
  std::array<uint8_t, 20> expect{};
  unsigned expect_len = 0;
  HMAC(EVP_sha1(), auth_key.data(), int(auth_key.size()), last.data(), last.size(), expect.data(), &expect_len);
  ok &= state.iterations() == 0 || expect == tag;
  EVP_MAC_CTX_free(mctx);
  EVP_MAC_free(mac);
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) state.SkipWithError("EVP CTR/HMAC failed");
  set_counters(state, plain.size());
}
BENCHMARK(BM_EvpCtrHmacSha1)->Arg(100)->Arg(1200);

// HMAC-SHA1 over `bytes` bytes with a fixed key: resuming precomputed
// inner/outer SHA1_* states (sfu::dtls::HmacSha1, the evp backend's way)
// against restarting an EVP_MAC_CTX (EVP_MAC_init with no key).
void BM_HmacSha1(benchmark::State& state, bool precomputed) {
  const std::array<uint8_t, 20> key{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
  const std::vector<uint8_t> msg(size_t(state.range(0)), 0x42);
  const sfu::dtls::HmacSha1 hmac(key);
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* mctx = EVP_MAC_CTX_new(mac);
  char digest[] = "SHA1";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  bool ok = EVP_MAC_init(mctx, key.data(), key.size(), params) == 1;
  std::array<uint8_t, 20> a{}, b{};
  for (auto _ : state) {
    if (precomputed) {
      hmac.mac(msg, {}, a);
    } else {
      size_t n = 0;
      ok &= EVP_MAC_init(mctx, nullptr, 0, nullptr) == 1;
      ok &= EVP_MAC_update(mctx, msg.data(), msg.size()) == 1;
      ok &= EVP_MAC_final(mctx, b.data(), &n, b.size()) == 1;
    }
    benchmark::DoNotOptimize(a.data());
    benchmark::DoNotOptimize(b.data());
  }
  // Both ways give the same MAC.
  size_t n = 0;
  ok &= EVP_MAC_init(mctx, nullptr, 0, nullptr) == 1 && EVP_MAC_update(mctx, msg.data(), msg.size()) == 1 &&
        EVP_MAC_final(mctx, b.data(), &n, b.size()) == 1;
  hmac.mac(msg, {}, a);
  EVP_MAC_CTX_free(mctx);
  EVP_MAC_free(mac);
  if (!ok || a != b) state.SkipWithError("HMAC-SHA1 mismatch");
  set_counters(state, msg.size());
}
BENCHMARK_CAPTURE(BM_HmacSha1, precomputed, true)->Arg(100)->Arg(1200);
BENCHMARK_CAPTURE(BM_HmacSha1, evp_mac, false)->Arg(100)->Arg(1200);

}  // namespace
