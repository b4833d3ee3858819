// libFuzzer target for transport-wide congestion control feedback
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). Every input is
// used twice:
//  1. as an RTCP packet: parse, iterate, rebuild the received set with
//     TransportCcBuilder, re-parse and compare;
//  2. as a script of (sequence step, arrival step) operations for the
//     builder, checked against a model of what it must accept, then parsed
//     back and compared with what was added.
#include <array>
#include <cstddef>
#include <cstdint>

#include "rtp/rtcp/transport_cc.hpp"

using namespace sfu;
using namespace sfu::rtp::rtcp;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr int64_t kWrapUs = (int64_t(1) << 24) * kTransportCcReferenceUnitUs;

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct Received {
  uint16_t seq;
  int64_t arrival_us;
};

// Received entries of one feedback, in order (at most 65535).
struct ReceivedList {
  std::array<Received, 65536> items{};
  size_t size = 0;
};

// Walks a parsed view, checks the iteration's own invariants and collects
// the received entries.
void walk(const TransportCcView& v, ReceivedList& out) {
  out.size = 0;
  size_t entries = 0;
  uint16_t seq = v.base_sequence();
  int64_t time = v.reference_time_us();
  for (const auto& p : v) {
    check(p.sequence == seq);
    ++seq;
    ++entries;
    if (!p.received) {
      check(p.delta_us == 0 && p.arrival_us == 0);
      continue;
    }
    check(p.delta_us % kTransportCcDeltaUnitUs == 0);
    check(p.delta_us >= -8'192'000 && p.delta_us <= 8'191'750);
    time += p.delta_us;
    check(p.arrival_us == time);
    out.items[out.size++] = {p.sequence, p.arrival_us};
  }
  check(entries == v.status_count());
  check(out.size == v.received_count());
}

// Mode 1: parse, rebuild, re-parse.
void parse_and_rebuild(Bytes data) {
  static ReceivedList original;
  static ReceivedList rebuilt;
  auto v = parse_transport_cc(data);
  if (!v) return;
  walk(*v, original);
  if (original.size == 0) return;

  TransportCcBuilder b;
  b.set_sender_ssrc(v->sender_ssrc());
  b.set_media_ssrc(v->media_ssrc());
  b.set_feedback_count(v->feedback_count());
  // Every chunk the builder commits covers >= 7 entries, and recv deltas
  // never grow, so a packet this small must be rebuilt whole unless two
  // received packets are 2^15 or more apart.
  bool must_fit =
      kTransportCcFixedSize + 2 * (size_t(v->status_count()) / 7 + 1) + 2 * original.size + 3 <= kTransportCcMaxSize;
  size_t added = 0;
  for (; added < original.size; ++added) {
    const Received& r = original.items[added];
    if (added > 0 && uint16_t(r.seq - original.items[added - 1].seq) >= 0x8000) must_fit = false;
    if (!b.add_received(r.seq, r.arrival_us)) break;
  }
  check(!must_fit || added == original.size);
  if (added == 0) return;

  std::array<uint8_t, kTransportCcMaxSize> buf{};
  const size_t n = b.serialize_to(buf);
  check(n == b.serialized_size() && n > 0 && n % 4 == 0);
  auto w = parse_transport_cc(Bytes(buf.data(), n));
  check(w.ok());
  walk(*w, rebuilt);
  check(rebuilt.size == added);
  check(w->base_sequence() == original.items[0].seq);
  check(w->status_count() == uint16_t(original.items[added - 1].seq - original.items[0].seq + 1));
  // The rebuilt reference time may differ by whole 24-bit wraps.
  const int64_t shift = rebuilt.items[0].arrival_us - original.items[0].arrival_us;
  check(shift % kWrapUs == 0);
  for (size_t i = 0; i < added; ++i) {
    check(rebuilt.items[i].seq == original.items[i].seq);
    check(rebuilt.items[i].arrival_us == original.items[i].arrival_us + shift);
  }
}

struct Model {
  std::array<Received, 1200> added{};  // arrival quantised to 250 µs
  size_t size = 0;
  uint32_t status_count = 0;
  uint16_t next_seq = 0;
  int64_t last_ticks = 0;
};

// Serialises the builder, parses the result and compares it with the model.
void check_against_model(const TransportCcBuilder& b, const Model& m) {
  std::array<uint8_t, kTransportCcMaxSize> buf{};
  const size_t n = b.serialized_size();
  check(b.serialize_to(MutBytes(buf.data(), n - 1)) == 0);  // n >= 24
  check(b.serialize_to(buf) == n);
  auto v = parse_transport_cc(Bytes(buf.data(), n));
  check(v.ok());
  check(v->base_sequence() == m.added[0].seq && v->status_count() == m.status_count);
  const int64_t shift = v->reference_time_us() - b.reference_time_us();
  check(shift % kWrapUs == 0);
  size_t i = 0;
  for (const auto& p : *v) {
    const bool expected = i < m.size && m.added[i].seq == p.sequence;
    check(p.received == expected);
    if (!expected) continue;
    check(p.arrival_us == m.added[i].arrival_us + shift);
    ++i;
  }
  check(i == m.size);
}

// Mode 2: drive the builder with scripted arrivals.
void build_and_parse(Bytes data) {
  if (data.size() < 7) return;
  static Model m;
  m = Model{};
  TransportCcBuilder b(24 + size_t(data[0]) * 8);
  uint16_t seq = load_be16(&data[1]);                        // length checked above
  int64_t t = int64_t(int32_t(load_be32(&data[3]))) * 1024;  // reaches past the 24-bit wrap
  for (size_t pos = 7; data.size() - pos >= 4; pos += 4) {
    seq = uint16_t(seq + data[pos]);
    t += int64_t(int32_t(load_be24(&data[pos + 1]) << 8) >> 8);  // +-8.4 s
    const int64_t ticks = floor_div(t, kTransportCcDeltaUnitUs);
    const uint16_t gap = uint16_t(seq - m.next_seq);
    const int64_t delta = ticks - m.last_ticks;
    bool must_fail = false;
    bool may_fail = false;
    if (m.size > 0) {
      must_fail = gap >= 0x8000 || m.status_count + gap + 1 > 0xffff || delta < INT16_MIN || delta > INT16_MAX;
      // Adding gap + 1 entries commits at most (gap + 1) / 7 + 1 chunks.
      may_fail = b.serialized_size() + 2 * ((size_t(gap) + 1) / 7 + 2) + 2 + 3 > b.max_size();
    }
    const size_t size_before = b.serialized_size();
    const uint16_t count_before = b.status_count();
    const bool ok = b.add_received(seq, t);
    check(!(ok && must_fail));
    check(ok || must_fail || may_fail);
    if (!ok) {
      check(b.serialized_size() == size_before && b.status_count() == count_before);
      continue;
    }
    if (m.size == 0) {
      m.last_ticks = floor_div(t, kTransportCcReferenceUnitUs) * 256;
      m.next_seq = seq;
    }
    m.status_count += uint16_t(seq - m.next_seq) + 1u;
    m.next_seq = uint16_t(seq + 1);
    m.last_ticks = ticks;
    m.added[m.size++] = {seq, ticks * kTransportCcDeltaUnitUs};
    check(m.size == b.received_count() && m.status_count == b.status_count());
    check(b.serialized_size() <= b.max_size());
  }
  if (m.size == 0) {
    check(b.empty() && b.serialized_size() == 0);
    return;
  }

  check_against_model(b, m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  parse_and_rebuild(in);
  build_and_parse(in);
  return 0;
}
