// STUN on the ICE connectivity-check path: every browser sends a Binding
// request per candidate pair about every 2.5 s (consent, RFC 7675) and the
// SFU parses, authenticates and answers it. Messages are built outside the
// timed loops; nothing in a loop allocates (except the OpenSSL one-shot
// comparison, which is here to document why IntegrityKey exists).
#include <benchmark/benchmark.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "ice/crc32.hpp"
#include "ice/stun_builder.hpp"
#include "ice/stun_integrity.hpp"
#include "ice/stun_message.hpp"

namespace {

using namespace sfu;
using namespace sfu::ice;

constexpr std::string_view kPassword = "Vfb7nKj0PqU2xZ9mW4cR1sTy";  // 24 ice-chars, like Chrome's
constexpr TransactionId kTid = {0x4a, 0x6f, 0x3c, 0x2b, 0x1e, 0x0d, 0x9c, 0x8b, 0x7a, 0x69, 0x58, 0x47};

// A Chrome-like Binding request: USERNAME, GOOG-NETWORK-INFO, ICE-CONTROLLING,
// USE-CANDIDATE, PRIORITY, MESSAGE-INTEGRITY, FINGERPRINT (104 bytes).
struct ChromeRequest {
  std::array<uint8_t, 256> buf{};
  MutBytes bytes;
  ChromeRequest() {
    const IntegrityKey key = IntegrityKey::from_password(kPassword);
    StunBuilder b(buf);
    b.begin(StunMethod::binding, StunClass::request, kTid);
    b.add_username("sfuU:brwsR2d2");
    b.add_uint32(StunAttr::goog_network_info, 0x0001000a);
    b.add_ice_controlling(0x5d8e1a2b3c4d5e6f);
    b.add_use_candidate();
    b.add_priority(0x6e7f1eff);
    bytes = b.finish(&key, true);
  }
};

void BM_StunParseAndCheckIntegrity(benchmark::State& state) {
  const ChromeRequest req;
  const IntegrityKey key = IntegrityKey::from_password(kPassword);
  for (auto _ : state) {
    auto m = parse_stun(req.bytes);
    bool ok = m.ok() && check_fingerprint(*m) && check_integrity(*m, key);
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("verification failed");
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(req.bytes.size()));
}
BENCHMARK(BM_StunParseAndCheckIntegrity);

// Same, keying HMAC from the password bytes on every call.
void BM_StunParseAndCheckIntegrityRawKey(benchmark::State& state) {
  const ChromeRequest req;
  const Bytes key(reinterpret_cast<const uint8_t*>(kPassword.data()), kPassword.size());
  for (auto _ : state) {
    auto m = parse_stun(req.bytes);
    bool ok = m.ok() && check_fingerprint(*m) && check_integrity(*m, key);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_StunParseAndCheckIntegrityRawKey);

void BM_StunParseOnly(benchmark::State& state) {
  const ChromeRequest req;
  for (auto _ : state) {
    auto m = parse_stun(req.bytes);
    benchmark::DoNotOptimize(m);
    auto user = m->username();
    benchmark::DoNotOptimize(user);
  }
}
BENCHMARK(BM_StunParseOnly);

void BM_StunBuildBindingSuccess(benchmark::State& state) {
  const ChromeRequest req;
  const auto request = parse_stun(req.bytes);
  const IntegrityKey key = IntegrityKey::from_password(kPassword);
  const Address peer = Address::v4({198, 51, 100, 7}, 54321);
  std::array<uint8_t, 128> out{};
  for (auto _ : state) {
    MutBytes msg = make_binding_success(out, *request, peer, key);
    benchmark::DoNotOptimize(msg.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_StunBuildBindingSuccess);

void BM_StunCrc32(benchmark::State& state) {
  const ChromeRequest req;
  const Bytes data = Bytes(req.bytes).first(req.bytes.size() - 8);
  for (auto _ : state) benchmark::DoNotOptimize(crc32(data));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(data.size()));
}
BENCHMARK(BM_StunCrc32);

// --- HMAC-SHA1 back ends over the 84 bytes MESSAGE-INTEGRITY covers --------

void BM_StunHmacIntegrityKey(benchmark::State& state) {
  const ChromeRequest req;
  const IntegrityKey key = IntegrityKey::from_password(kPassword);
  std::array<uint8_t, 20> mac{};
  for (auto _ : state) {
    key.hmac_sha1(Bytes(req.bytes).first(20), Bytes(req.bytes).subspan(20, 64), mac);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_StunHmacIntegrityKey);

void BM_StunHmacOpenSslOneShot(benchmark::State& state) {
  const ChromeRequest req;
  std::array<uint8_t, 20> mac{};
  unsigned int len = 0;
  for (auto _ : state) {
    HMAC(EVP_sha1(), kPassword.data(), int(kPassword.size()), req.bytes.data(), 84, mac.data(), &len);
    benchmark::DoNotOptimize(mac);
  }
}
BENCHMARK(BM_StunHmacOpenSslOneShot);

void BM_StunHmacEvpMacReinit(benchmark::State& state) {
  const ChromeRequest req;
  EVP_MAC* mac_alg = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac_alg);
  char digest[] = "SHA1";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(kPassword.data()), kPassword.size(), params);
  std::array<uint8_t, 20> mac{};
  size_t len = 0;
  for (auto _ : state) {
    EVP_MAC_init(ctx, nullptr, 0, nullptr);  // reuse the key: re-copies the ipad state
    EVP_MAC_update(ctx, req.bytes.data(), 84);
    EVP_MAC_final(ctx, mac.data(), &len, mac.size());
    benchmark::DoNotOptimize(mac);
  }
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac_alg);
}
BENCHMARK(BM_StunHmacEvpMacReinit);

}  // namespace
