// libFuzzer target for dtls::Session::handle_packet on the server side (the
// SFU's role): every datagram a remote peer could send, in any order, with
// time passing between them so that retransmissions and the handshake
// deadline run too. Must not crash, leak or trip a sanitizer.
//
// Input: a sequence of frames
//   +----------------+---------+------------------------+
//   | length (u16 BE)| delay u8| datagram (length bytes)|
//   +----------------+---------+------------------------+
// After each datagram the clock advances by delay x 20 ms (up to ~5 s) and
// handle_timeout runs if due. A short final frame takes what is left.
// Seeds in tests/fuzz/corpus/dtls_session/ start with a real ClientHello.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/bytes.hpp"
#include "dtls/certificate.hpp"
#include "dtls/session.hpp"

using namespace sfu;
using namespace sfu::dtls;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Certificate and context are made once: key generation per input would
// drown the fuzzer. Still reachable at exit, not leaked.
const std::shared_ptr<const Context>& server_context() {
  static const auto ctx = Context::create(std::make_shared<const Certificate>(Certificate::generate("fuzz")));
  return ctx;
}

void drain(Session& s) {
  while (auto d = s.poll_transmit()) check(d->size() <= 1200);
  while (auto e = s.poll_event()) {
    if (auto* data = std::get_if<ApplicationData>(&*e)) check(data->data.size() <= 16384);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Session server(Role::server, server_context());
  Fingerprint any{};
  any[0] = 1;
  server.set_remote_fingerprint(any);
  Instant now = Instant{} + seconds(100);
  server.start(now);

  ByteReader r(Bytes(data, size));
  bool last = false;
  while (!last && r.remaining() > 0) {
    uint16_t len = 0;
    uint8_t delay = 0;
    Bytes datagram;
    if (!r.read_u16(len) || !r.read_u8(delay)) break;
    if (!r.read_bytes(len, datagram)) {
      datagram = r.rest();  // short final frame (the failed read consumed nothing)
      last = true;
    }
    server.handle_packet(now, datagram);
    drain(server);
    now += milliseconds(20) * delay;
    if (auto t = server.poll_timeout()) {
      check(server.state() == State::connecting);
      if (*t <= now) server.handle_timeout(now);
    }
    drain(server);
    // The engine's states only move forward.
    const State s = server.state();
    check(s == State::connecting || s == State::connected || s == State::failed || s == State::closed);
  }
  server.close();
  drain(server);
  return 0;
}
