// dtls::Session: a client and a server in one process, joined by a
// simulated network (loss, delay, reordering, duplication, targeted drops)
// and driven by a virtual clock that jumps to the earliest deadline.
#include "dtls/session.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace sfu::dtls {
namespace {

using Datagram = std::vector<uint8_t>;
constexpr int kClient = 0;
constexpr int kServer = 1;

std::shared_ptr<const Certificate> cert(int which) {
  static const auto certs = std::array{std::make_shared<const Certificate>(Certificate::generate("client")),
                                       std::make_shared<const Certificate>(Certificate::generate("server"))};
  return certs[size_t(which)];
}

// What one endpoint has seen through poll_event.
struct Seen {
  std::optional<SrtpKeyingMaterial> connected;
  std::vector<Datagram> data;
  bool closed = false;
  std::optional<FailReason> failed;
  int events = 0;
};

struct Network {
  double loss = 0;
  double duplicate = 0;
  Duration delay = milliseconds(10);
  Duration jitter = Duration::zero();  // extra uniform delay: reorders datagrams
  // Return true to drop a datagram from `from` (called before random loss).
  std::function<bool(int from, const Datagram&)> drop;
  std::mt19937 rng{1};
  struct InFlight {
    Instant at;
    uint64_t order;
    int to;
    Datagram bytes;
  };
  std::vector<InFlight> queue;
  uint64_t next_order = 0;
  std::vector<Datagram> sent[2];  // everything each side transmitted, dropped or not

  void send(int from, Instant now, Datagram d) {
    sent[from].push_back(d);
    if (drop && drop(from, d)) return;
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng) < loss) return;
    const int copies = u(rng) < duplicate ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      const auto extra = Duration(int64_t(u(rng) * double(jitter.count())));
      queue.push_back({now + delay + extra, next_order++, 1 - from, d});
    }
  }
  std::optional<Instant> next() const {
    std::optional<Instant> t;
    for (const auto& p : queue) t = t ? std::min(*t, p.at) : p.at;
    return t;
  }
};

class Pair {
 public:
  explicit Pair(SessionConfig client_cfg = {}, SessionConfig server_cfg = {})
      : sessions_{Session(Role::client, cert(kClient), std::move(client_cfg)),
                  Session(Role::server, cert(kServer), std::move(server_cfg))} {
    client().set_remote_fingerprint(cert(kServer)->fingerprint());
    server().set_remote_fingerprint(cert(kClient)->fingerprint());
  }

  Session& client() { return sessions_[kClient]; }
  Session& server() { return sessions_[kServer]; }
  Session& side(int i) { return sessions_[size_t(i)]; }
  Seen& seen(int i) { return seen_[size_t(i)]; }

  void start() {
    server().start(now);
    client().start(now);
  }

  // Moves queued datagrams into the network and events into seen_.
  void flush() {
    for (int i = 0; i < 2; ++i) {
      while (auto d = side(i).poll_transmit()) net.send(i, now, Datagram(d->begin(), d->end()));
      while (auto e = side(i).poll_event()) record(i, *e);
    }
  }

  // Runs the clock until done() or nothing is left to happen or `limit` passes.
  bool run(const std::function<bool()>& done, Duration limit = seconds(60)) {
    const Instant end = now + limit;
    for (;;) {
      flush();
      if (done()) return true;
      std::optional<Instant> next = net.next();
      for (int i = 0; i < 2; ++i) {
        if (auto t = side(i).poll_timeout()) next = next ? std::min(*next, *t) : *t;
      }
      if (!next || *next > end) return done();
      now = std::max(now, *next);
      step();
    }
  }

  bool handshake(Duration limit = seconds(60)) {
    start();
    return run([&] { return both_connected(); }, limit);
  }
  bool both_connected() { return seen(kClient).connected && seen(kServer).connected; }

  Network net;
  Instant now = Instant{} + seconds(1000);

 private:
  void step() {
    std::stable_sort(net.queue.begin(), net.queue.end(),
                     [](const auto& a, const auto& b) { return a.at != b.at ? a.at < b.at : a.order < b.order; });
    while (!net.queue.empty() && net.queue.front().at <= now) {
      Network::InFlight p = std::move(net.queue.front());
      net.queue.erase(net.queue.begin());
      side(p.to).handle_packet(now, p.bytes);
      flush();
    }
    for (int i = 0; i < 2; ++i) {
      if (auto t = side(i).poll_timeout(); t && *t <= now) side(i).handle_timeout(now);
    }
  }

  void record(int i, const Event& e) {
    Seen& s = seen(i);
    ++s.events;
    if (auto* c = std::get_if<Connected>(&e)) {
      EXPECT_FALSE(s.connected) << "Connected twice";
      s.connected = c->keys;
    } else if (auto* d = std::get_if<ApplicationData>(&e)) {
      EXPECT_TRUE(s.connected) << "data before Connected";
      s.data.emplace_back(d->data.begin(), d->data.end());
    } else if (std::holds_alternative<Closed>(e)) {
      s.closed = true;
    } else if (auto* f = std::get_if<Failed>(&e)) {
      s.failed = f->reason;
    }
  }

  std::array<Session, 2> sessions_;
  std::array<Seen, 2> seen_;
};

Bytes bytes_of(const Datagram& d) { return Bytes(d.data(), d.size()); }

// Lossless, instantaneous exchange without a Pair, for a few round trips.
void exchange(Session& a, Session& b, Instant t, int rounds = 10) {
  for (int round = 0; round < rounds; ++round) {
    while (auto d = a.poll_transmit()) b.handle_packet(t, Datagram(d->begin(), d->end()));
    while (auto d = b.poll_transmit()) a.handle_packet(t, Datagram(d->begin(), d->end()));
  }
}

void expect_mirrored(const SrtpKeyingMaterial& client, const SrtpKeyingMaterial& server, SrtpProfile profile) {
  EXPECT_EQ(client.profile, profile);
  EXPECT_EQ(server.profile, profile);
  ASSERT_EQ(client.key_salt_len, srtp_key_salt_len(profile));
  ASSERT_EQ(server.key_salt_len, srtp_key_salt_len(profile));
  EXPECT_EQ(client.local_key_salt, server.remote_key_salt);
  EXPECT_EQ(client.remote_key_salt, server.local_key_salt);
  EXPECT_NE(client.local_key_salt, client.remote_key_salt);
  const auto zero = std::array<uint8_t, kMaxSrtpKeySaltLen>{};
  EXPECT_NE(client.local_key_salt, zero);
}

TEST(DtlsSession, HandshakeNegotiatesGcmAndMirroredKeys) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  expect_mirrored(*p.seen(kClient).connected, *p.seen(kServer).connected, SrtpProfile::aead_aes_128_gcm);
  EXPECT_EQ(srtp_key_salt_len(SrtpProfile::aead_aes_128_gcm), 16u + 12u);
  EXPECT_EQ(p.client().state(), State::connected);
  EXPECT_EQ(p.server().state(), State::connected);
  EXPECT_EQ(p.client().keying_material()->local_key_salt, p.seen(kClient).connected->local_key_salt);
  EXPECT_FALSE(p.client().poll_timeout());
  EXPECT_FALSE(p.server().poll_timeout());
  EXPECT_EQ(p.client().counters().retransmits_native + p.client().counters().retransmits_replayed, 0u);
  // One write is one datagram, none larger than the MTU.
  for (int i = 0; i < 2; ++i)
    for (const auto& d : p.net.sent[i]) EXPECT_LE(d.size(), 1200u);
}

TEST(DtlsSession, ClientOfferingOnlyCmSha1_80GetsIt) {
  SessionConfig client_cfg;
  client_cfg.srtp_profiles = {SrtpProfile::aes128_cm_sha1_80};
  Pair p(client_cfg);
  ASSERT_TRUE(p.handshake());
  expect_mirrored(*p.seen(kClient).connected, *p.seen(kServer).connected, SrtpProfile::aes128_cm_sha1_80);
  EXPECT_EQ(p.seen(kClient).connected->key_salt_len, 16u + 14u);
}

TEST(DtlsSession, ServerPreferenceOrderWins) {
  SessionConfig client_cfg, server_cfg;
  client_cfg.srtp_profiles = {SrtpProfile::aes128_cm_sha1_80, SrtpProfile::aead_aes_128_gcm};
  server_cfg.srtp_profiles = {SrtpProfile::aead_aes_128_gcm, SrtpProfile::aes128_cm_sha1_80};
  Pair p(client_cfg, server_cfg);
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(p.seen(kClient).connected->profile, SrtpProfile::aead_aes_128_gcm);

  std::swap(client_cfg.srtp_profiles, server_cfg.srtp_profiles);
  Pair q(client_cfg, server_cfg);
  ASSERT_TRUE(q.handshake());
  EXPECT_EQ(q.seen(kClient).connected->profile, SrtpProfile::aes128_cm_sha1_80);
  EXPECT_EQ(q.seen(kServer).connected->profile, SrtpProfile::aes128_cm_sha1_80);
}

TEST(DtlsSession, NoCommonSrtpProfileFailsBothSides) {
  SessionConfig client_cfg, server_cfg;
  client_cfg.srtp_profiles = {SrtpProfile::aes128_cm_sha1_32};
  server_cfg.srtp_profiles = {SrtpProfile::aead_aes_128_gcm};
  Pair p(client_cfg, server_cfg);
  p.start();
  p.run([&] { return p.seen(kClient).failed && p.seen(kServer).failed; });
  EXPECT_EQ(p.seen(kServer).failed, FailReason::no_srtp_profile);
  EXPECT_EQ(p.seen(kClient).failed, FailReason::no_srtp_profile);
  EXPECT_FALSE(p.seen(kClient).connected);
  EXPECT_FALSE(p.seen(kServer).connected);
}

TEST(DtlsSession, HandshakeSurvivesLossAndReordering) {
  uint64_t retransmits = 0;
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    Pair p;
    p.net.rng.seed(seed);
    p.net.loss = 0.2;
    p.net.jitter = milliseconds(40);  // datagrams 10..50 ms in flight: reordered within flights
    ASSERT_TRUE(p.handshake(seconds(30))) << "seed " << seed;
    expect_mirrored(*p.seen(kClient).connected, *p.seen(kServer).connected, SrtpProfile::aead_aes_128_gcm);
    for (int i = 0; i < 2; ++i) {
      const auto& c = p.side(i).counters();
      retransmits += c.retransmits_native + c.retransmits_replayed + c.final_flight_resends;
    }
  }
  EXPECT_GT(retransmits, 10u);
}

TEST(DtlsSession, DuplicatedDatagramsAreHarmless) {
  Pair p;
  p.net.duplicate = 1.0;
  p.net.jitter = milliseconds(20);
  ASSERT_TRUE(p.handshake());
  expect_mirrored(*p.seen(kClient).connected, *p.seen(kServer).connected, SrtpProfile::aead_aes_128_gcm);
}

// The server's ChangeCipherSpec + Finished has no timer of its own: the
// client's retransmission of its flight must bring it back.
TEST(DtlsSession, LostFinalFlightIsResentWhenThePeerRetransmits) {
  Pair p;
  int dropped = 0;
  p.net.drop = [&](int from, const Datagram&) {
    if (from != kServer || p.server().state() != State::connected || dropped >= 1) return false;
    ++dropped;
    return true;
  };
  const Instant t0 = p.now;
  ASSERT_TRUE(p.handshake());
  EXPECT_EQ(dropped, 1);              // OpenSSL packs CCS + Finished into one datagram
  EXPECT_GE(p.now - t0, seconds(1));  // after the client's first retransmission
  EXPECT_EQ(p.client().counters().retransmits_replayed + p.client().counters().retransmits_native, 1u);
  EXPECT_EQ(p.server().counters().final_flight_resends, 1u);
  expect_mirrored(*p.seen(kClient).connected, *p.seen(kServer).connected, SrtpProfile::aead_aes_128_gcm);
}

TEST(DtlsSession, WrongFingerprintFailsOnTheServerThatChecks) {
  Pair p;
  p.server().set_remote_fingerprint(cert(kServer)->fingerprint());  // not the client's
  p.start();
  p.run([&] { return p.seen(kClient).failed && p.seen(kServer).failed; });
  EXPECT_EQ(p.seen(kServer).failed, FailReason::fingerprint_mismatch);
  EXPECT_EQ(p.seen(kClient).failed, FailReason::protocol_error);  // it got our bad_certificate alert
  EXPECT_FALSE(p.seen(kServer).connected);
  EXPECT_FALSE(p.seen(kClient).connected);
}

TEST(DtlsSession, WrongFingerprintFailsOnTheClientThatChecks) {
  Pair p;
  Fingerprint wrong = cert(kServer)->fingerprint();
  wrong[31] ^= 1;
  p.client().set_remote_fingerprint(wrong);
  p.start();
  p.run([&] { return p.seen(kClient).failed && p.seen(kServer).failed; });
  EXPECT_EQ(p.seen(kClient).failed, FailReason::fingerprint_mismatch);
  EXPECT_EQ(p.seen(kServer).failed, FailReason::protocol_error);
}

// A bare OpenSSL DTLS client without a certificate: our server must refuse
// it (RFC 8827 §6.5: both sides authenticate with certificates).
TEST(DtlsSession, ClientWithoutCertificateFailsNoCertificate) {
  SSL_CTX* ctx = SSL_CTX_new(DTLS_method());
  ASSERT_NE(ctx, nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL* ssl = SSL_new(ctx);
  ASSERT_EQ(SSL_set_tlsext_use_srtp(ssl, "SRTP_AEAD_AES_128_GCM"), 0);
  BIO* to_client = BIO_new(BIO_s_mem());
  BIO* from_client = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(to_client, -1);
  SSL_set_bio(ssl, to_client, from_client);
  SSL_set_connect_state(ssl);

  Session server(Role::server, cert(kServer));
  server.set_remote_fingerprint(cert(kClient)->fingerprint());
  server.start(Instant{});
  for (int round = 0; round < 10 && server.state() == State::connecting; ++round) {
    SSL_do_handshake(ssl);
    char* data = nullptr;
    const long n = BIO_get_mem_data(from_client, &data);
    // Each flight of this client fits one datagram, so the BIO holds one.
    if (n > 0) server.handle_packet(Instant{}, Bytes(reinterpret_cast<const uint8_t*>(data), size_t(n)));
    (void)BIO_reset(from_client);
    while (auto d = server.poll_transmit()) BIO_write(to_client, d->data(), int(d->size()));
  }
  EXPECT_EQ(server.state(), State::failed);
  auto e = server.poll_event();
  ASSERT_TRUE(e && std::holds_alternative<Failed>(*e));
  EXPECT_EQ(std::get<Failed>(*e).reason, FailReason::no_certificate);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ERR_clear_error();
}

TEST(DtlsSession, MissingRemoteFingerprintFailsAtTheEndOfTheHandshake) {
  Session client(Role::client, cert(kClient));
  Session server(Role::server, cert(kServer));
  client.set_remote_fingerprint(cert(kServer)->fingerprint());
  const Instant t{};
  server.start(t);
  client.start(t);
  exchange(client, server, t);
  EXPECT_EQ(server.state(), State::failed);
  auto e = server.poll_event();
  ASSERT_TRUE(e && std::holds_alternative<Failed>(*e));
  EXPECT_EQ(std::get<Failed>(*e).reason, FailReason::fingerprint_mismatch);
  // The server told the client with close_notify.
  EXPECT_EQ(client.state(), State::closed);
}

TEST(DtlsSession, ClientHandshakeTimesOutAtTheDeadlineAfterBackedOffRetransmits) {
  Session client(Role::client, cert(kClient));
  const Instant t0 = Instant{} + seconds(5);
  client.start(t0);
  std::vector<Duration> sends;  // when each ClientHello went out, relative to start
  Instant now = t0;
  Datagram first;
  for (;;) {
    while (auto d = client.poll_transmit()) {
      if (first.empty()) first.assign(d->begin(), d->end());
      EXPECT_TRUE(std::equal(d->begin(), d->end(), first.begin(), first.end()));  // verbatim resend
      sends.push_back(now - t0);
    }
    auto t = client.poll_timeout();
    if (!t) break;
    ASSERT_GE(*t, now);
    now = *t;
    client.handle_timeout(now);
  }
  EXPECT_EQ(now - t0, seconds(30));
  EXPECT_EQ(sends, (std::vector<Duration>{seconds(0), seconds(1), seconds(3), seconds(7), seconds(15)}));
  auto e = client.poll_event();
  ASSERT_TRUE(e && std::holds_alternative<Failed>(*e));
  EXPECT_EQ(std::get<Failed>(*e).reason, FailReason::handshake_timeout);
  EXPECT_EQ(client.state(), State::failed);
  EXPECT_FALSE(client.poll_event());
}

// The production side of the timer bridge: with `now` from the real clock,
// OpenSSL agrees the timer expired and retransmits itself, with a new record
// sequence number (bytes differ from the first ClientHello). This is the one
// test that sleeps (about 60 ms).
TEST(DtlsSession, WithARealClockOpenSslRetransmitsNatively) {
  SessionConfig cfg;
  cfg.initial_retransmit_timeout = milliseconds(30);
  Session client(Role::client, cert(kClient), cfg);
  client.start(Clock::now());
  auto first = client.poll_transmit();
  ASSERT_TRUE(first);
  const Datagram hello(first->begin(), first->end());
  std::vector<Datagram> resent;
  while (resent.size() < 2) {
    const auto deadline = client.poll_timeout();
    ASSERT_TRUE(deadline);
    std::this_thread::sleep_until(*deadline);
    client.handle_timeout(Clock::now());
    while (auto d = client.poll_transmit()) resent.emplace_back(d->begin(), d->end());
  }
  EXPECT_EQ(client.counters().retransmits_native, 2u);
  EXPECT_EQ(client.counters().retransmits_replayed, 0u);
  ASSERT_EQ(resent[0].size(), hello.size());
  EXPECT_NE(resent[0], hello);                                                       // new sequence number...
  EXPECT_TRUE(std::equal(hello.begin() + 13, hello.end(), resent[0].begin() + 13));  // ...same message
}

TEST(DtlsSession, ConfiguredTimeoutsAreHonoured) {
  SessionConfig cfg;
  cfg.handshake_timeout = seconds(2);
  cfg.initial_retransmit_timeout = milliseconds(100);
  cfg.max_retransmit_timeout = milliseconds(400);
  Session client(Role::client, cert(kClient), cfg);
  Session server(Role::server, cert(kServer), cfg);
  const Instant t0{};
  client.start(t0);
  server.start(t0);
  Instant now = t0;
  int sends = 0;
  while (auto t = client.poll_timeout()) {
    while (client.poll_transmit()) ++sends;
    now = *t;
    client.handle_timeout(now);
  }
  // 0, .1, .3, .7, 1.1, 1.5, 1.9 s; then the deadline at 2 s.
  EXPECT_EQ(sends, 7);
  EXPECT_EQ(now - t0, seconds(2));
  ASSERT_EQ(server.poll_timeout(), t0 + seconds(2));  // a server that never hears a ClientHello
  server.handle_timeout(t0 + seconds(2));
  EXPECT_EQ(server.state(), State::failed);
}

TEST(DtlsSession, ApplicationDataFlowsBothWays) {
  Pair p;
  const Datagram hello = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_FALSE(p.client().send_application_data(bytes_of(hello)));  // not connected yet
  EXPECT_EQ(p.client().max_application_data(), 0u);
  ASSERT_TRUE(p.handshake());

  const size_t max = p.client().max_application_data();
  EXPECT_GT(max, 1100u);
  EXPECT_LT(max, 1200u);
  Datagram big(max);
  for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 7);
  EXPECT_TRUE(p.client().send_application_data(bytes_of(hello)));
  EXPECT_TRUE(p.server().send_application_data(bytes_of(big)));
  EXPECT_FALSE(p.server().send_application_data(Bytes(big.data(), big.size()).first(0)));
  Datagram too_big(max + 1);
  EXPECT_FALSE(p.server().send_application_data(bytes_of(too_big)));
  p.run([&] { return !p.seen(kServer).data.empty() && !p.seen(kClient).data.empty(); });
  ASSERT_EQ(p.seen(kServer).data.size(), 1u);
  ASSERT_EQ(p.seen(kClient).data.size(), 1u);
  EXPECT_EQ(p.seen(kServer).data[0], hello);
  EXPECT_EQ(p.seen(kClient).data[0], big);
  EXPECT_LE(p.net.sent[kServer].back().size(), 1200u);
}

TEST(DtlsSession, ManyRecordsBeforeOnePollAreAllDelivered) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  for (uint8_t i = 0; i < 10; ++i) ASSERT_TRUE(p.client().send_application_data(Bytes(&i, 1)));
  // Deliver all ten before the server's events are polled.
  while (auto d = p.client().poll_transmit()) p.server().handle_packet(p.now, Datagram(d->begin(), d->end()));
  for (uint8_t i = 0; i < 10; ++i) {
    auto e = p.server().poll_event();
    ASSERT_TRUE(e && std::holds_alternative<ApplicationData>(*e));
    ASSERT_EQ(std::get<ApplicationData>(*e).data.size(), 1u);
    EXPECT_EQ(std::get<ApplicationData>(*e).data[0], i);
  }
  EXPECT_FALSE(p.server().poll_event());
}

TEST(DtlsSession, CloseSendsCloseNotifyAndThePeerSeesClosed) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  p.client().close();
  EXPECT_EQ(p.client().state(), State::closed);
  p.run([&] { return p.seen(kServer).closed; });
  EXPECT_TRUE(p.seen(kServer).closed);
  EXPECT_EQ(p.server().state(), State::closed);
  EXPECT_FALSE(p.seen(kClient).closed);  // no local event for our own close()
  const Datagram x = {1, 2, 3};
  EXPECT_FALSE(p.server().send_application_data(bytes_of(x)));
}

TEST(DtlsSession, PacketsBeforeStartAreDropped) {
  Session server(Role::server, cert(kServer));
  Session client(Role::client, cert(kClient));
  client.start(Instant{});
  auto hello = client.poll_transmit();
  ASSERT_TRUE(hello);
  server.handle_packet(Instant{}, *hello);
  EXPECT_EQ(server.counters().dropped_wrong_state, 1u);
  EXPECT_EQ(server.state(), State::new_);
  EXPECT_FALSE(server.poll_transmit());
}

// The ClientHello is one datagram: one handshake record, message type 1.
// With SFU_DTLS_SEED_DIR set, it is also written out as a fuzz seed in the
// format of tests/fuzz/dtls_session_fuzz.cpp (u16 length, u8 delay, bytes).
TEST(DtlsSession, ClientHelloIsOneHandshakeRecord) {
  Session client(Role::client, cert(kClient));
  client.start(Instant{});
  auto d = client.poll_transmit();
  ASSERT_TRUE(d);
  const Datagram hello(d->begin(), d->end());
  EXPECT_FALSE(client.poll_transmit());
  ASSERT_GT(hello.size(), 25u);
  EXPECT_EQ(hello[0], 22);    // handshake
  EXPECT_EQ(hello[1], 0xFE);  // DTLS
  EXPECT_EQ(size_t(hello[11] << 8 | hello[12]), hello.size() - 13);
  EXPECT_EQ(hello[13], 1);  // client_hello
  if (const char* dir = std::getenv("SFU_DTLS_SEED_DIR")) {
    std::ofstream out(std::string(dir) + "/client_hello", std::ios::binary);
    const uint8_t header[3] = {uint8_t(hello.size() >> 8), uint8_t(hello.size()), 0};
    out.write(reinterpret_cast<const char*>(header), 3);
    out.write(reinterpret_cast<const char*>(hello.data()), std::streamsize(hello.size()));
  }
}

// Random bytes, records with believable headers, and truncated real
// datagrams, for every state.
std::vector<Datagram> garbage(std::mt19937& rng, const std::vector<Datagram>& real) {
  std::vector<Datagram> out;
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 40; ++i) {
    Datagram d(size_t(byte(rng)) * 5);
    for (auto& b : d) b = uint8_t(byte(rng));
    if (i % 2 == 0 && d.size() >= 13) {  // plausible header: type 20..23, DTLS 1.2, valid length
      d[0] = uint8_t(20 + i % 4);
      d[1] = 0xFE;
      d[2] = 0xFD;
      d[3] = 0;
      d[4] = uint8_t(i % 3);  // epoch 0, 1, 2
      d[11] = uint8_t((d.size() - 13) >> 8);
      d[12] = uint8_t(d.size() - 13);
    }
    out.push_back(d);
  }
  for (const auto& r : real) {
    for (size_t cut : {size_t(1), size_t(12), size_t(13), r.size() / 2, r.size() - 1})
      if (cut < r.size()) out.emplace_back(r.begin(), r.begin() + std::ptrdiff_t(cut));
    Datagram flipped = r;
    flipped[flipped.size() / 2] ^= 0x40;
    out.push_back(flipped);
  }
  out.push_back({});
  out.push_back({22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF});  // length beyond the datagram
  return out;
}

void feed(Session& s, Instant now, const std::vector<Datagram>& junk) {
  for (const auto& d : junk) {
    s.handle_packet(now, bytes_of(d));
    while (s.poll_transmit()) {
    }
    s.handle_timeout(now);
  }
}

// The garbage set, built once from a real handshake's datagrams.
const std::vector<Datagram>& junk() {
  static const std::vector<Datagram> set = [] {
    std::mt19937 rng(7);
    Pair reference;
    EXPECT_TRUE(reference.handshake());
    std::vector<Datagram> real = reference.net.sent[kClient];
    real.insert(real.end(), reference.net.sent[kServer].begin(), reference.net.sent[kServer].end());
    return garbage(rng, real);
  }();
  return set;
}

TEST(DtlsSession, GarbageBeforeStartIsDroppedByState) {
  for (Role role : {Role::client, Role::server}) {
    Session s(role, cert(kServer));
    feed(s, Instant{}, junk());
    EXPECT_EQ(s.state(), State::new_);
    EXPECT_EQ(s.counters().dropped_wrong_state, junk().size());
  }
}

TEST(DtlsSession, GarbageDuringTheHandshakeDoesNotCrash) {
  // An unauthenticated epoch-0 record that parses as a bad handshake
  // message is fatal in OpenSSL, so such a handshake may die; no crash.
  for (Role role : {Role::client, Role::server}) {
    Session s(role, cert(kServer));
    s.start(Instant{});
    feed(s, Instant{}, junk());
    EXPECT_TRUE(s.state() == State::connecting || s.state() == State::failed);
    EXPECT_EQ(s.counters().datagrams_received, junk().size());
  }
  // Datagrams that are not DTLS records are all dropped; the handshake completes.
  Pair q;
  q.start();
  std::vector<Datagram> not_records;
  for (const auto& d : junk())
    if (d.size() < 13 || d[1] != 0xFE) not_records.push_back(d);
  ASSERT_GT(not_records.size(), 10u);
  feed(q.server(), q.now, not_records);
  EXPECT_EQ(q.server().counters().dropped_malformed, not_records.size());
  ASSERT_TRUE(q.run([&] { return q.both_connected(); }));
}

TEST(DtlsSession, GarbageDoesNotDisturbAConnectedSession) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  const auto keys_before = p.server().keying_material();
  for (int i = 0; i < 2; ++i) feed(p.side(i), p.now, junk());
  EXPECT_EQ(p.client().state(), State::connected);
  EXPECT_EQ(p.server().state(), State::connected);
  EXPECT_EQ(p.server().keying_material()->local_key_salt, keys_before->local_key_salt);
  EXPECT_EQ(p.server().keying_material()->remote_key_salt, keys_before->remote_key_salt);
  const Datagram ping = {'p', 'i', 'n', 'g'};
  ASSERT_TRUE(p.client().send_application_data(bytes_of(ping)));
  ASSERT_TRUE(p.server().send_application_data(bytes_of(ping)));
  p.run([&] { return !p.seen(kServer).data.empty() && !p.seen(kClient).data.empty(); });
  EXPECT_EQ(p.seen(kServer).data, std::vector<Datagram>{ping});
  EXPECT_EQ(p.seen(kClient).data, std::vector<Datagram>{ping});
}

TEST(DtlsSession, GarbageAfterCloseOrFailureIsDroppedByState) {
  Pair p;
  ASSERT_TRUE(p.handshake());
  p.client().close();
  const uint64_t before = p.client().counters().dropped_wrong_state;
  feed(p.client(), p.now, junk());
  EXPECT_EQ(p.client().counters().dropped_wrong_state - before, junk().size());
  Session failed(Role::client, cert(kClient));
  failed.start(Instant{});
  failed.handle_timeout(Instant{} + seconds(31));
  ASSERT_EQ(failed.state(), State::failed);
  feed(failed, Instant{} + seconds(32), junk());
  EXPECT_EQ(failed.state(), State::failed);
  EXPECT_EQ(failed.counters().dropped_wrong_state, junk().size());
}

TEST(DtlsSession, MovedSessionCompletesItsHandshake) {
  Session client(Role::client, cert(kClient));
  Session server(Role::server, cert(kServer));
  client.set_remote_fingerprint(cert(kServer)->fingerprint());
  server.set_remote_fingerprint(cert(kClient)->fingerprint());
  client.start(Instant{});
  server.start(Instant{});
  Session moved = std::move(client);
  exchange(moved, server, Instant{});
  EXPECT_EQ(moved.state(), State::connected);
  EXPECT_EQ(server.state(), State::connected);
}

TEST(DtlsSession, SharedContextServesManySessions) {
  const auto client_ctx = Context::create(cert(kClient));
  const auto server_ctx = Context::create(cert(kServer));
  for (int i = 0; i < 3; ++i) {
    Session client(Role::client, client_ctx);
    Session server(Role::server, server_ctx);
    client.set_remote_fingerprint(server_ctx->certificate().fingerprint());
    server.set_remote_fingerprint(client_ctx->certificate().fingerprint());
    client.start(Instant{});
    server.start(Instant{});
    exchange(client, server, Instant{});
    ASSERT_EQ(client.state(), State::connected);
    ASSERT_EQ(server.state(), State::connected);
    EXPECT_EQ(client.keying_material()->local_key_salt, server.keying_material()->remote_key_salt);
  }
}

TEST(DtlsSession, InvalidConfigurationIsRefused) {
  SessionConfig no_profiles;
  no_profiles.srtp_profiles.clear();
  EXPECT_THROW(Session(Role::server, cert(kServer), no_profiles), std::invalid_argument);
  SessionConfig tiny_mtu;
  tiny_mtu.mtu = 100;
  EXPECT_THROW(Session(Role::server, cert(kServer), tiny_mtu), std::invalid_argument);
}

}  // namespace
}  // namespace sfu::dtls
