// libFuzzer target for the STUN codec (RFC 8489): parse, call every getter,
// check MESSAGE-INTEGRITY / FINGERPRINT, then rebuild the message from its
// attributes with StunBuilder, re-parse and trap on any disagreement. Also
// drives the response helpers and the RFC 7983 demultiplexer.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "ice/demux.hpp"
#include "ice/stun_builder.hpp"
#include "ice/stun_integrity.hpp"
#include "ice/stun_message.hpp"

using namespace sfu;
using namespace sfu::ice;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const IntegrityKey& fuzz_key() {
  static const IntegrityKey key = IntegrityKey::from_password("fuzz-password-0123456789");
  return key;
}

bool same(Bytes a, Bytes b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// Everything the getters say about a message.
struct Snapshot {
  uint16_t type = 0;
  TransactionId id{};
  std::optional<std::string_view> username, software, realm, nonce;
  std::optional<Address> xor_mapped, mapped;
  std::optional<uint32_t> priority;
  bool use_candidate = false;
  std::optional<uint64_t> controlling, controlled;
  std::optional<StunErrorCode> error;
  std::optional<StunAttrList> unknown_list;
  std::optional<StunAttr> unknown_required;
  size_t attribute_count = 0;
};

Snapshot snapshot(const StunView& m) {
  Snapshot s;
  s.type = m.message_type();
  s.id = m.transaction_id();
  s.username = m.username();
  s.software = m.software();
  s.realm = m.realm();
  s.nonce = m.nonce();
  s.xor_mapped = m.xor_mapped_address();
  s.mapped = m.mapped_address();
  s.priority = m.priority();
  s.use_candidate = m.use_candidate();
  s.controlling = m.ice_controlling();
  s.controlled = m.ice_controlled();
  s.error = m.error_code();
  s.unknown_list = m.unknown_attributes();
  s.unknown_required = m.unknown_required();
  for (StunAttribute a : m.attributes()) {
    (void)a;
    ++s.attribute_count;
  }
  return s;
}

bool equal(const Snapshot& a, const Snapshot& b) {
  bool ok = a.type == b.type && a.id == b.id && a.username == b.username && a.software == b.software &&
            a.realm == b.realm && a.nonce == b.nonce && a.xor_mapped == b.xor_mapped && a.mapped == b.mapped &&
            a.priority == b.priority && a.use_candidate == b.use_candidate && a.controlling == b.controlling &&
            a.controlled == b.controlled && a.unknown_required == b.unknown_required &&
            a.attribute_count == b.attribute_count && a.error.has_value() == b.error.has_value() &&
            a.unknown_list.has_value() == b.unknown_list.has_value();
  if (ok && a.error) ok = a.error->code == b.error->code && a.error->reason == b.error->reason;
  if (ok && a.unknown_list) ok = same(a.unknown_list->raw, b.unknown_list->raw);
  return ok;
}

std::string_view as_text(Bytes v) { return std::string_view(reinterpret_cast<const char*>(v.data()), v.size()); }

// Re-adds one attribute through its typed adder when its value is well
// formed for the type, else as raw bytes.
void re_add(StunBuilder& b, const StunView& m, StunAttribute a) {
  const Bytes v = a.value;
  switch (a.type) {
    case StunAttr::username:
      if (v.size() <= kStunMaxTextSize) return void(b.add_username(as_text(v)));
      break;
    case StunAttr::software:
      if (v.size() <= kStunMaxTextSize) return void(b.add_software(as_text(v)));
      break;
    case StunAttr::xor_mapped_address:
      if (auto addr = decode_stun_address(v, m.bytes().subspan(4, 16))) return void(b.add_xor_mapped_address(*addr));
      break;
    case StunAttr::mapped_address:
      if (auto addr = decode_stun_address(v, Bytes())) return void(b.add_mapped_address(*addr));
      break;
    case StunAttr::priority:
      if (v.size() == 4) return void(b.add_priority(load_be32(v.data())));
      break;
    case StunAttr::use_candidate:
      if (v.empty()) return void(b.add_use_candidate());
      break;
    case StunAttr::ice_controlling:
      if (v.size() == 8) return void(b.add_ice_controlling(load_be64(v.data())));
      break;
    case StunAttr::ice_controlled:
      if (v.size() == 8) return void(b.add_ice_controlled(load_be64(v.data())));
      break;
    default:
      break;
  }
  b.add_raw(a.type, v);
}

void check_rebuild(const StunView& m, const Snapshot& before) {
  static uint8_t buf[kStunMaxMessageSize];
  StunBuilder b(buf);
  check(b.begin(m.message_type(), m.transaction_id()));
  for (StunAttribute a : m.attributes()) re_add(b, m, a);
  MutBytes out = b.finish(&fuzz_key(), true);
  if (out.empty()) {
    // Only legitimate reason: MI + FINGERPRINT no longer fit the 16-bit length.
    check(m.bytes().size() + 32 > kStunMaxMessageSize);
    return;
  }
  auto again = parse_stun(out);
  check(again.ok());
  check(equal(before, snapshot(*again)));
  check(check_integrity(*again, fuzz_key()));
  check(check_fingerprint(*again));
  // Wire order and raw values survive (typed attributes may normalise
  // ignored bits, so compare those through the snapshot only).
  auto it = again->attributes().begin();
  for (StunAttribute a : m.attributes()) {
    check(it != again->attributes().end());
    check((*it).type == a.type);
    ++it;
  }
  check(it == again->attributes().end());
}

void check_responses(const StunView& m) {
  static uint8_t buf[2048];
  const Address peer = Address::v4({198, 51, 100, 1}, 50000);
  MutBytes ok = make_binding_success(buf, m, peer, fuzz_key());
  auto r = parse_stun(ok);
  check(r.ok() && r->xor_mapped_address() == peer && check_integrity(*r, fuzz_key()) && check_fingerprint(*r));
  check(r->transaction_id() == m.transaction_id());

  MutBytes err = make_error_response(buf, m, 420, nullptr);
  auto e = parse_stun(err);
  check(e.ok() && e->error_code() && e->error_code()->code == 420);
  check(e->unknown_attributes().has_value());
  check(e->unknown_attributes()->size() > 0 || !m.unknown_required());
  if (m.unknown_required()) check((*e->unknown_attributes())[0] == *m.unknown_required());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  const PacketKind kind = classify_packet(in);
  const bool looks = looks_like_stun(in);

  auto parsed = parse_stun(in);
  if (!parsed.ok()) return 0;
  // RFC 7983 routes only first bytes 0..3 to STUN (methods above 0x0ff
  // are not expected on an ICE 5-tuple), while RFC 8489 allows up to 0x3f.
  check(looks && (kind == PacketKind::stun) == (data[0] <= 3));
  const StunView& m = *parsed;
  check(m.bytes().data() == data && m.bytes().size() == size);
  check(stun_message_type(m.method(), m.message_class()) == m.message_type());

  const Snapshot before = snapshot(m);
  if (before.username) check(before.username->size() <= kStunMaxTextSize);
  if (before.error) check(before.error->code >= 300 && before.error->code <= 699);
  if (before.unknown_list) {
    for (size_t i = 0; i < before.unknown_list->size(); ++i) (void)(*before.unknown_list)[i];
  }
  if (before.unknown_required) check(is_comprehension_required(*before.unknown_required));
  for (const auto& addr : {before.xor_mapped, before.mapped}) {
    if (addr) check(parse_address(to_string(*addr)) == *addr);
  }

  // parse_stun already verified a present FINGERPRINT.
  check(check_fingerprint(m) == m.has_fingerprint());
  const bool mac_ok = check_integrity(m, fuzz_key());
  check(!mac_ok || m.has_integrity());
  // The raw-key overload, keyed from the input itself.
  check(!check_integrity(m, in.first(size < 8 ? size : 8)) || m.has_integrity());
  check(m.find(StunAttr::message_integrity).has_value() == m.has_integrity());
  check(m.find(StunAttr::fingerprint).has_value() == m.has_fingerprint());

  check_rebuild(m, before);
  check_responses(m);
  return 0;
}
