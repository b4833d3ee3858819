// The in-process forwarding path, per forwarded packet: one SRTP datagram
// from a publisher enters WorkerMedia::on_datagram → TransportHost (demux,
// path lookup, SRTP unprotect once) → Router (producer match, receive stats,
// NACK tracking, retransmission buffer) → for each consumer: forwarder
// decision, copy into the send slot, rewrite (SSRC, seq, ts, VP8 ids,
// extensions, transport-wide seq), SRTP protect, PacketOutput (which only
// counts). Real transports (ICE + DTLS, connected in memory) on both ends.
// Packets are pre-protected with increasing sequence numbers (the server's
// replay window refuses a repeat), so iterations are fixed.
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "server/worker_media.hpp"

namespace {

using namespace sfu;
using namespace sfu::server;

const ice::Path kServerPath{0, ice::Address::v4({127, 0, 0, 1}, 40000)};
constexpr int kPackets = 1 << 13;
constexpr size_t kPacketSize = 1200;  // RTP header + extensions + payload
constexpr uint32_t kPublisherSsrc = 0x1111;
constexpr uint8_t kAbsSendTimeId = 2, kTransportCcId = 3;

ice::Path client_path(size_t i) { return {0, ice::Address::v4({127, 0, 0, 1}, uint16_t(50000 + i))}; }

// The server's sockets: while connecting, datagrams go to the client
// transports; while measuring, they are counted and dropped.
class BenchOutput : public PacketOutput {
 public:
  MutBytes send_buffer() override { return MutBytes(buf_); }
  void commit_udp(size_t length, const ice::Address& to) override { deliver(to, Bytes(buf_).first(length)); }
  void send(const ice::Path& to, Bytes data) override { deliver(to.remote, data); }

  std::vector<Transport*> clients;  // index i at client_path(i)
  bool connecting = true;
  uint64_t datagrams = 0;

 private:
  void deliver(const ice::Address& to, Bytes data) {
    ++datagrams;
    if (!connecting) return;
    for (size_t i = 0; i < clients.size(); ++i) {
      if (client_path(i).remote != to) continue;
      std::vector<uint8_t> copy(data.begin(), data.end());
      clients[i]->handle_datagram(now_, kServerPath, copy);
    }
  }
  std::array<uint8_t, kPacketBufferSize> buf_{};
  Instant now_ = from_micros(1'000'000);
};

struct Setup {
  std::shared_ptr<const dtls::Context> sctx, cctx;
  BenchOutput out;
  WorkerMedia media;
  Router* router = nullptr;
  std::vector<std::unique_ptr<Transport>> clients;  // 0: publisher
  std::vector<TransportId> ids;
  Instant now = from_micros(1'000'000);
};

// Adds a connected transport pair per client (client 0 publishes) to a
// WorkerMedia; false if the handshakes did not complete.
bool connect_all(Setup& s, size_t count, dtls::SrtpProfile profile, dtls::SrtpBackend backend) {
  s.sctx = dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate()));
  s.cctx = dtls::Context::create(std::make_shared<dtls::Certificate>(dtls::Certificate::generate()));
  s.router = &s.media.router(s.out, 1, [](const MediaEvent&) {});
  for (size_t i = 0; i < count; ++i) {
    TransportConfig sc{.role = TransportRole::server, .local_ice = ice::IceCredentials::generate(), .dtls_context = s.sctx};
    sc.dtls.srtp_profiles = {profile};
    sc.srtp.backend = backend;
    TransportConfig cc{.role = TransportRole::client, .local_ice = ice::IceCredentials::generate(), .dtls_context = s.cctx};
    cc.dtls.srtp_profiles = {profile};
    cc.srtp.backend = backend;
    auto st = std::make_unique<Transport>(sc);
    auto ct = std::make_unique<Transport>(cc);
    st->set_remote_parameters(ct->local_ice().ufrag, "", s.cctx->certificate().fingerprint());
    ct->set_remote_parameters(st->local_ice().ufrag, st->local_ice().pwd, s.sctx->certificate().fingerprint());
    ct->add_remote_candidate(kServerPath, 1);
    s.out.clients.push_back(ct.get());
    const TransportId id = s.media.host().add(s.out, s.now, std::move(st));
    s.media.bind(id, 1);
    s.router->add_transport(id, i == 0);
    ct->start(s.now);
    s.ids.push_back(id);
    s.clients.push_back(std::move(ct));
  }
  for (int round = 0; round < 200; ++round) {
    bool all = true;
    for (size_t i = 0; i < count; ++i) {
      while (auto tx = s.clients[i]->poll_transmit()) {
        std::vector<uint8_t> b(tx->data.begin(), tx->data.end());
        s.media.on_datagram(s.out, s.now, client_path(i), b);
      }
      const Transport* st = s.media.host().find(s.ids[i]);
      all = all && st && st->state() == TransportState::connected &&
            s.clients[i]->state() == TransportState::connected;
    }
    if (all) return true;
    s.now += milliseconds(10);
    s.media.on_timeout(s.out, s.now);
    for (auto& c : s.clients)
      if (auto t = c->poll_timeout(); t && *t <= s.now) c->handle_timeout(s.now);
  }
  return false;
}

// One VP8 packet of one-packet frame `index` (a key frame first), about
// kPacketSize bytes, with abs-send-time and transport-wide sequence number.
size_t write_vp8_packet(int index, MutBytes out) {
  std::array<uint8_t, kPacketSize> payload{};
  payload.fill(0xab);
  const uint16_t pic = uint16_t(index & 0x7fff);
  payload[0] = 0x90;  // X=1, S=1, PID=0 (RFC 7741 §4.2)
  payload[1] = 0x80;  // I=1
  payload[2] = uint8_t(0x80 | pic >> 8), payload[3] = uint8_t(pic);
  if (index == 0) {  // key frame: P=0, start code, 640x360 (RFC 6386 §9.1)
    const uint8_t key[10] = {0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01};
    std::memcpy(&payload[4], key, sizeof key);
  } else {
    payload[4] = 0x11;  // P=1: inter frame
  }
  rtp::RtpHeader h;
  h.marker = true;
  h.payload_type = 96;
  h.sequence = uint16_t(1000 + index);
  h.timestamp = uint32_t(90'000 + index * 3000);
  h.ssrc = kPublisherSsrc;
  const uint8_t ast[3] = {1, 2, 3};
  const uint8_t tw[2] = {uint8_t(index >> 8), uint8_t(index)};
  h.add_extension(kAbsSendTimeId, Bytes(ast, 3));
  h.add_extension(kTransportCcId, Bytes(tw, 2));
  h.payload = Bytes(payload).first(kPacketSize - h.header_size());
  return h.serialize_to(out);
}

void add_media(Setup& s, size_t consumers) {
  const ExtensionIds ids{.abs_send_time = kAbsSendTimeId, .transport_cc = kTransportCcId};
  const media::CodecInfo vp8{media::Codec::vp8, 96, 90000, 97};
  s.router->add_producer(ProducerSpec{.id = 1, .transport = s.ids[0], .codecs = {vp8}, .ssrcs = {kPublisherSsrc},
                                      .rtx_ssrcs = {kPublisherSsrc + 1}, .extensions = ids});
  for (size_t i = 1; i <= consumers; ++i)
    s.router->add_consumer(ConsumerSpec{.id = i, .producer = 1, .transport = s.ids[i], .ssrc = uint32_t(0x2000 + i),
                                        .rtx_ssrc = uint32_t(0x3000 + i), .codecs = {vp8}});
}

void BM_ForwardPacket(benchmark::State& state) {
  const auto profile = state.range(0) ? dtls::SrtpProfile::aead_aes_128_gcm : dtls::SrtpProfile::aes128_cm_sha1_80;
  const size_t consumers = size_t(state.range(1));
  const auto backend = state.range(2) ? dtls::SrtpBackend::libsrtp : dtls::SrtpBackend::evp;
  Setup s;
  if (!connect_all(s, consumers + 1, profile, backend)) {
    state.SkipWithError("handshakes did not complete");
    return;
  }
  add_media(s, consumers);
  s.out.connecting = false;
  // Pre-protect the packets (the first is the key frame that starts every
  // forwarder; it is sent before timing starts).
  const size_t stride = kPacketSize + dtls::SrtpSession::kMaxTrailer;
  std::vector<uint8_t> wire(stride * (kPackets + 1));
  std::vector<size_t> lengths(kPackets + 1);
  for (int i = 0; i <= kPackets; ++i) {
    MutBytes slot(&wire[size_t(i) * stride], stride);
    const size_t n = write_vp8_packet(i, slot);
    auto len = s.clients[0]->protect_rtp(slot, n);
    if (n == 0 || !len) std::abort();
    lengths[size_t(i)] = *len;
  }
  const ice::Path from = client_path(0);
  s.media.on_datagram(s.out, s.now, from, MutBytes(wire.data(), lengths[0]));
  const uint64_t before = s.router->counters().rtp_forwarded;
  int i = 1;
  for (auto _ : state) {
    s.media.on_datagram(s.out, s.now, from, MutBytes(&wire[size_t(i) * stride], lengths[size_t(i)]));
    ++i;
  }
  const uint64_t forwarded = s.router->counters().rtp_forwarded - before;
  if (forwarded != uint64_t(i - 1) * consumers) state.SkipWithError("not every packet was forwarded to every consumer");
  state.SetItemsProcessed(int64_t(forwarded));
  state.counters["ns_per_forward"] = benchmark::Counter(double(forwarded), benchmark::Counter::kIsRate |
                                                                             benchmark::Counter::kInvert);
}
BENCHMARK(BM_ForwardPacket)
    ->ArgNames({"gcm", "consumers", "libsrtp"})
    ->ArgsProduct({{1, 0}, {1, 10, 50}, {0, 1}})
    ->Iterations(kPackets)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
