// Data channel hot path: what one relayed message costs in sctp::Association
// (usrsctp underneath), as server/data_router.cpp drives it.
//
// BM_SctpRelayMessage/<size>: two associations A → B in one process, wired
// directly to each other (no DTLS, no loss), with one reliable ordered
// channel open. One iteration = one message of <size> bytes: A.send(),
// A's DATA packets into B.receive(), B's message event, B's SACKs back into
// A.receive(), until both sides are quiet. That is the per-message work of
// one relay hop on both ends: the publisher's association receiving (B) and
// a subscriber's association sending (A). 16384 is fragmented into ~15 DATA
// chunks (MTU 1130) and goes through congestion control.
// BM_DcepParse: one DATA_CHANNEL_OPEN parsed (once per channel opened).
//
// The clock is real (Clock::now()): usrsctp reads the wall clock itself for
// RTT samples, so a virtual one would need tests/sctp's gettimeofday
// interposer. Timers run whenever poll_timeout() says they are due, as the
// server's loop does (the 20 ms delayed SACK must fire or A stalls).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "common/time.hpp"
#include "sctp/association.hpp"
#include "sctp/dcep.hpp"

namespace {

using namespace sfu;
using namespace sfu::sctp;
using Type = AssociationEvent::Type;

// What the setup and the timed loop need to know about the events seen.
struct Seen {
  bool connected = false;
  bool channel_open = false;   // B: the peer's OPEN arrived
  bool channel_acked = false;  // A: our OPEN got its ACK
  uint64_t messages = 0;
  uint64_t message_bytes = 0;
  bool closed = false;
};

void collect(Association& assoc, Seen& seen) {
  while (auto e = assoc.poll_event()) {
    switch (e->type) {
      case Type::connected:
        seen.connected = true;
        break;
      case Type::closed:
        seen.closed = true;
        break;
      case Type::channel_open:
        seen.channel_open = true;
        break;
      case Type::channel_acked:
        seen.channel_acked = true;
        break;
      case Type::message:
        ++seen.messages;
        seen.message_bytes += e->data.size();
        benchmark::DoNotOptimize(e->data.data());
        break;
      case Type::channel_closed:
      case Type::writable:
        break;
    }
  }
}

// Runs both associations' timers when due.
void run_timers(Association& a, Association& b, Instant now) {
  for (Association* x : {&a, &b}) {
    const auto due = x->poll_timeout();
    if (due && *due <= now) x->handle_timeout(now);
  }
}

// Two associations wired back to back: A (DTLS client, even streams) sends.
class Pair {
 public:
  Pair() : a_(config(true)), b_(config(false)) {}

  // One round: A's packets into B, events, B's packets into A, events.
  // Returns whether any packet moved.
  bool exchange(Instant now) {
    bool moved = false;
    while (auto p = a_.poll_transmit()) {
      b_.receive(now, *p);
      moved = true;
    }
    collect(b_, b_seen_);
    while (auto p = b_.poll_transmit()) {
      a_.receive(now, *p);
      moved = true;
    }
    collect(a_, a_seen_);
    return moved;
  }

  // Exchanges until `done` holds (running timers on the real clock when
  // nothing moves) or one second passes; returns done().
  template <class Done>
  bool run_until(Done done) {
    const Instant end = Clock::now() + seconds(1);
    while (!done()) {
      const Instant now = Clock::now();
      if (now >= end) return false;
      run_timers(a_, b_, now);
      exchange(now);
    }
    return true;
  }

  // Connects and opens one reliable ordered channel from A; the stream, or
  // nullopt when that did not happen in time.
  std::optional<uint16_t> connect_and_open() {
    a_.start(Clock::now());
    b_.start(Clock::now());
    if (!run_until([&] { return a_seen_.connected && b_seen_.connected; })) return std::nullopt;
    ChannelParams params;
    params.label = "chat";
    const auto stream = a_.open_channel(params);
    if (!stream.ok()) return std::nullopt;
    if (!run_until([&] { return a_seen_.channel_acked && b_seen_.channel_open; })) return std::nullopt;
    return *stream;
  }

  Association& a() { return a_; }
  Association& b() { return b_; }
  const Seen& a_seen() const { return a_seen_; }
  const Seen& b_seen() const { return b_seen_; }

 private:
  static AssociationConfig config(bool dtls_client) {
    AssociationConfig c;
    c.dtls_client = dtls_client;
    return c;
  }

  Association a_;
  Association b_;
  Seen a_seen_;
  Seen b_seen_;
};

// Hot path: every data channel message the SFU relays (DataRouter), one hop:
// a subscriber association's send + the publisher association's receive.
void BM_SctpRelayMessage(benchmark::State& state) {
  const size_t size = size_t(state.range(0));
  Pair pair;
  const auto stream = pair.connect_and_open();
  if (!stream) {
    state.SkipWithError("association or channel did not come up");
    return;
  }
  std::vector<uint8_t> message(size);
  for (size_t i = 0; i < size; ++i) message[i] = uint8_t(i * 31);

  const uint64_t a_out0 = pair.a().counters().packets_out;  // the handshake's packets are not counted
  const uint64_t b_out0 = pair.b().counters().packets_out;
  uint64_t timer_waits = 0;  // rounds where nothing moved and only a timer could help
  for (auto _ : state) {
    if (pair.a().send(*stream, MessageKind::binary, message) != SendStatus::ok) {
      state.SkipWithError("send refused");
      break;
    }
    const uint64_t want = pair.b_seen().messages + 1;
    for (;;) {
      const Instant now = Clock::now();
      run_timers(pair.a(), pair.b(), now);
      if (pair.exchange(now)) continue;
      if (pair.b_seen().messages >= want) break;
      ++timer_waits;
      if (pair.a_seen().closed || pair.b_seen().closed) break;
    }
    if (pair.b_seen().messages < want) {
      state.SkipWithError("association closed");
      break;
    }
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(size));
  state.counters["timer_waits"] = benchmark::Counter(double(timer_waits), benchmark::Counter::kAvgIterations);
  // Packets per message each way: DATA from A, SACKs from B.
  state.counters["data_pkts"] =
      benchmark::Counter(double(pair.a().counters().packets_out - a_out0), benchmark::Counter::kAvgIterations);
  state.counters["sack_pkts"] =
      benchmark::Counter(double(pair.b().counters().packets_out - b_out0), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_SctpRelayMessage)->Arg(64)->Arg(1024)->Arg(16384)->Unit(benchmark::kMicrosecond);

// Per channel opened (not per message): the peer's DCEP OPEN parsed.
void BM_DcepParse(benchmark::State& state) {
  ChannelParams params;
  params.label = "chat";
  params.protocol = "json";
  const DataChannelOpen open = to_open(params);
  std::vector<uint8_t> bytes(open.serialized_size());
  if (!open.serialize_to(bytes)) {
    state.SkipWithError("serialize_to failed");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(parse_dcep(bytes));
  state.SetItemsProcessed(int64_t(state.iterations()));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(bytes.size()));
}
BENCHMARK(BM_DcepParse);

}  // namespace
