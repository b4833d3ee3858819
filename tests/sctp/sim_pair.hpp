// Two Associations over a simulated network (client::SimLink each way) and
// a virtual clock: "our association against a usrsctp client in one
// process". The clock advances to the next delivery or timer deadline, in
// steps of at most 10 ms (usrsctp's own timer granularity), never sleeping.
//
// usrsctp's timer wheel is process-global and only moves forward, so every
// SimPair in the process shares one virtual clock that keeps running from
// test to test. usrsctp also reads the wall clock itself (RTT samples,
// which chunks a T3 timeout resends); usrsctp_clock_test.cpp interposes
// gettimeofday so that it sees the virtual clock while a SimPair exists.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/client/sim_link.hpp"
#include "common/time.hpp"
#include "sctp/association.hpp"

namespace sfu::sctp::test {

inline Instant& virtual_now() {
  static Instant now = Clock::now();  // where the virtual clock starts; it only moves forward from here
  return now;
}

// Whether the gettimeofday interposer (usrsctp_clock_test.cpp) reports the
// virtual clock (simulations) or the real one (threaded tests).
inline std::atomic<bool>& usrsctp_sees_virtual_time() {
  static std::atomic<bool> on{true};
  return on;
}

// An event as recorded by the test (owning its bytes).
struct Recorded {
  AssociationEvent::Type type;
  uint16_t stream = 0;
  MessageKind kind = MessageKind::binary;
  std::vector<uint8_t> data;
  ChannelParams params;
};

struct Endpoint {
  explicit Endpoint(AssociationConfig cfg) : assoc(cfg) {}
  Association assoc;
  std::vector<Recorded> events;
  bool connected = false;
  bool closed = false;
  uint64_t writable = 0;
  std::map<uint16_t, ChannelParams> opened;  // channel_open from the peer
  std::map<uint16_t, int> acked;             // channel_acked counts
  std::map<uint16_t, int> closed_channels;   // channel_closed counts
  std::vector<Recorded> messages;

  void collect() {
    while (auto e = assoc.poll_event()) {
      Recorded r{e->type, e->stream, e->kind, std::vector<uint8_t>(e->data.begin(), e->data.end()), e->params};
      switch (e->type) {
        case AssociationEvent::Type::connected:
          connected = true;
          break;
        case AssociationEvent::Type::closed:
          closed = true;
          break;
        case AssociationEvent::Type::channel_open:
          opened[e->stream] = e->params;
          break;
        case AssociationEvent::Type::channel_acked:
          ++acked[e->stream];
          break;
        case AssociationEvent::Type::channel_closed:
          ++closed_channels[e->stream];
          break;
        case AssociationEvent::Type::message:
          messages.push_back(r);
          break;
        case AssociationEvent::Type::writable:
          ++writable;
          break;
      }
      events.push_back(std::move(r));
    }
  }
};

inline AssociationConfig client_config() {
  AssociationConfig c;
  c.dtls_client = true;
  return c;
}
inline AssociationConfig server_config() {
  AssociationConfig c;
  c.dtls_client = false;
  return c;
}

class SimPair {
 public:
  using Tamper = std::function<void(std::vector<uint8_t>&)>;

  SimPair(client::LinkProfile profile, uint64_t seed, AssociationConfig a_cfg = client_config(),
          AssociationConfig b_cfg = server_config())
      : a((usrsctp_sees_virtual_time() = true, a_cfg)),
        b(b_cfg),
        ab_(seed * 2 + 1, profile),
        ba_(seed * 2 + 2, profile) {}

  Endpoint a;  // the DTLS client
  Endpoint b;  // the DTLS server

  Instant now() const { return virtual_now(); }
  void set_profile(client::LinkProfile p) {
    ab_.set_profile(p);
    ba_.set_profile(p);
  }
  // Rewrites packets from a to b before they enter the link.
  void set_tamper(Tamper t) { tamper_ = std::move(t); }

  void start() {
    a.assoc.start(now());
    b.assoc.start(now());
  }

  // One round: timers due, packets out, packets in, events; then the clock
  // moves to the next deadline (at most 10 ms on).
  void step() {
    Instant& t = virtual_now();
    for (Endpoint* e : {&a, &b}) {
      const auto due = e->assoc.poll_timeout();
      if (due && *due <= t) e->assoc.handle_timeout(t);
    }
    flush(a, ab_, true);
    flush(b, ba_, false);
    while (auto d = ab_.pop_due(t)) b.assoc.receive(t, *d);
    while (auto d = ba_.pop_due(t)) a.assoc.receive(t, *d);
    a.collect();
    b.collect();
    flush(a, ab_, true);
    flush(b, ba_, false);

    Instant next = t + milliseconds(10);
    for (const auto& d : {ab_.next_delivery(), ba_.next_delivery(), a.assoc.poll_timeout(), b.assoc.poll_timeout()})
      if (d && *d < next) next = *d;
    t = std::max(next, t + microseconds(100));
  }

  // Steps until `done` holds or `limit` of virtual time passed; returns done().
  bool run_until(const std::function<bool()>& done, Duration limit = seconds(60)) {
    const Instant end = now() + limit;
    while (!done()) {
      if (now() >= end) return false;
      step();
    }
    return true;
  }
  void run_for(Duration d) {
    const Instant end = now() + d;
    while (now() < end) step();
  }

  bool connect(Duration limit = seconds(30)) {
    start();
    return run_until([&] { return a.connected && b.connected; }, limit);
  }

 private:
  void flush(Endpoint& e, client::SimLink& link, bool from_a) {
    while (auto p = e.assoc.poll_transmit()) {
      if (from_a && tamper_) {
        std::vector<uint8_t> copy(p->begin(), p->end());
        tamper_(copy);
        link.send(virtual_now(), copy);
      } else {
        link.send(virtual_now(), *p);
      }
    }
  }

  client::SimLink ab_;
  client::SimLink ba_;
  Tamper tamper_;
};

}  // namespace sfu::sctp::test
