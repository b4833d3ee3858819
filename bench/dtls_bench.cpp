// DTLS handshake cost: what a new WebRTC transport costs the SFU in CPU.
//
// BM_DtlsHandshake: a client and a server Session over shared Contexts (the
// server's production shape), one full DTLS 1.2 handshake per iteration in
// memory (ECDHE, ECDSA P-256 on both sides, SRTP key export). The time is
// for both ends together; the server's share is roughly half. /1 builds an
// SSL_CTX per session instead, to show what sharing a Context saves.
// BM_DtlsCertificateGenerate: one certificate (done once per process).
#include <benchmark/benchmark.h>

#include <memory>

#include "dtls/certificate.hpp"
#include "dtls/session.hpp"

namespace {

using namespace sfu;
using namespace sfu::dtls;

// Arg 0: sessions share one Context per side (production); arg 1: every
// session builds its own SSL_CTX (the Session(Role, Certificate) constructor).
void BM_DtlsHandshake(benchmark::State& state) {
  const auto client_ctx = Context::create(std::make_shared<const Certificate>(Certificate::generate("client")));
  const auto server_ctx = Context::create(std::make_shared<const Certificate>(Certificate::generate("server")));
  const bool own_context = state.range(0) != 0;
  const Instant now{};
  for (auto _ : state) {
    Session client =
        own_context ? Session(Role::client, client_ctx->shared_certificate()) : Session(Role::client, client_ctx);
    Session server =
        own_context ? Session(Role::server, server_ctx->shared_certificate()) : Session(Role::server, server_ctx);
    client.set_remote_fingerprint(server_ctx->certificate().fingerprint());
    server.set_remote_fingerprint(client_ctx->certificate().fingerprint());
    server.start(now);
    client.start(now);
    while (client.state() == State::connecting || server.state() == State::connecting) {
      bool moved = false;
      while (auto d = client.poll_transmit()) {
        server.handle_packet(now, *d);
        moved = true;
      }
      while (auto d = server.poll_transmit()) {
        client.handle_packet(now, *d);
        moved = true;
      }
      if (!moved) break;
    }
    if (client.state() != State::connected || server.state() != State::connected) {
      state.SkipWithError("handshake did not complete");
      break;
    }
    benchmark::DoNotOptimize(client.keying_material());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DtlsHandshake)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_DtlsCertificateGenerate(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(Certificate::generate());
}
BENCHMARK(BM_DtlsCertificateGenerate)->Unit(benchmark::kMicrosecond);

}  // namespace
