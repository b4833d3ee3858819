// The receive path of a connected transport, per packet: RFC 7983 demux →
// path check → SRTP unprotect in place (what a worker does for every
// datagram before routing). Packets are pre-protected by a client-role
// transport; each one is unprotected once (replay protection), so the
// benchmark runs a fixed number of iterations over a fresh pair.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "server/transport.hpp"

namespace {

using namespace sfu;
using namespace sfu::server;

const ice::Path kServerPath{0, ice::Address::v4({127, 0, 0, 1}, 40000)};
const ice::Path kClientPath{0, ice::Address::v4({127, 0, 0, 1}, 50000)};

struct Pair {
  std::shared_ptr<const dtls::Context> sctx, cctx;
  std::unique_ptr<Transport> server, client;
};

// Connects a server-role and a client-role transport in memory.
Pair connect_pair(std::vector<dtls::SrtpProfile> profiles) {
  Pair p;
  p.sctx = dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate()));
  p.cctx = dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate()));
  TransportConfig sc{.role = TransportRole::server, .local_ice = ice::IceCredentials::generate(), .dtls_context = p.sctx};
  sc.dtls.srtp_profiles = profiles;
  TransportConfig cc{.role = TransportRole::client, .local_ice = ice::IceCredentials::generate(), .dtls_context = p.cctx};
  cc.dtls.srtp_profiles = profiles;
  p.server = std::make_unique<Transport>(sc);
  p.client = std::make_unique<Transport>(cc);
  p.server->set_remote_parameters(p.client->local_ice().ufrag, "", p.cctx->certificate().fingerprint());
  p.client->set_remote_parameters(p.server->local_ice().ufrag, p.server->local_ice().pwd,
                                  p.sctx->certificate().fingerprint());
  p.client->add_remote_candidate(kServerPath, 1);
  Instant now = from_micros(1'000'000);
  p.server->start(now);
  p.client->start(now);
  for (int round = 0; round < 100 && p.server->state() != TransportState::connected; ++round) {
    while (auto tx = p.client->poll_transmit()) {
      std::vector<uint8_t> b(tx->data.begin(), tx->data.end());
      p.server->handle_datagram(now, kClientPath, b);
    }
    while (auto tx = p.server->poll_transmit()) {
      std::vector<uint8_t> b(tx->data.begin(), tx->data.end());
      p.client->handle_datagram(now, kServerPath, b);
    }
  }
  if (p.server->state() != TransportState::connected) std::abort();
  return p;
}

constexpr int kPackets = 1 << 15;

void BM_ReceivePathUnprotect(benchmark::State& state) {
  const auto profile = state.range(0) ? dtls::SrtpProfile::aead_aes_128_gcm : dtls::SrtpProfile::aes128_cm_sha1_80;
  const size_t payload = size_t(state.range(1));
  Pair p = connect_pair({profile});
  // Pre-protect kPackets packets (RTP header + payload), stored contiguously.
  const size_t stride = 12 + payload + dtls::SrtpSession::kMaxTrailer;
  std::vector<uint8_t> wire(stride * kPackets);
  std::vector<size_t> lengths(kPackets);
  for (int i = 0; i < kPackets; ++i) {
    uint8_t* pkt = &wire[size_t(i) * stride];
    std::memset(pkt, 0xab, stride);
    pkt[0] = 0x80, pkt[1] = 96, pkt[2] = uint8_t(i >> 8), pkt[3] = uint8_t(i);
    pkt[8] = 0x11, pkt[9] = 0x22, pkt[10] = 0x33, pkt[11] = 0x44;
    auto len = p.client->protect_rtp(MutBytes(pkt, stride), 12 + payload);
    if (!len) std::abort();
    lengths[size_t(i)] = *len;
  }
  const Instant now = from_micros(2'000'000);
  int i = 0;
  for (auto _ : state) {
    auto m = p.server->handle_datagram(now, kClientPath, MutBytes(&wire[size_t(i) * stride], lengths[size_t(i)]));
    benchmark::DoNotOptimize(m.packet.data());
    ++i;
  }
  if (p.server->counters().rtp_in != uint64_t(i)) state.SkipWithError("a packet failed to unprotect");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(12 + payload));
}
BENCHMARK(BM_ReceivePathUnprotect)
    ->ArgNames({"gcm", "payload"})
    ->Args({1, 100})
    ->Args({1, 1188})
    ->Args({0, 100})
    ->Args({0, 1188})
    ->Iterations(kPackets);

}  // namespace
