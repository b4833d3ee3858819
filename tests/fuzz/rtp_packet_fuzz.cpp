// libFuzzer target for the RTP packet core: parse_rtp (RFC 3550 §5.1, RFC
// 8285 extension blocks), every accessor and extension lookup, a rebuild
// through RtpHeader that must re-parse to the same fields, and in-place
// rewrites (fixed fields, id remapping, same-size value overwrite) that must
// leave a packet that still parses with the expected contents.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "rtp/rtp_packet.hpp"
#include "rtp/rtp_rewriter.hpp"

using namespace sfu;
using namespace sfu::rtp;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same(Bytes a, Bytes b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

bool inside(Bytes part, Bytes whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// Accessor invariants that hold for every accepted packet.
void check_view(const RtpView& v, Bytes in) {
  check(v.version() == 2);
  check(v.header_size() >= kFixedHeaderSize + 4 * size_t(v.csrc_count()));
  check(v.header_size() + v.payload().size() + v.padding_size() == in.size());
  check(v.has_padding() == (v.padding_size() != 0));
  check(v.has_extension() == (v.extension_form() != ExtensionForm::none));
  check(inside(v.payload(), in) && inside(v.extension_block(), in));
  for (size_t i = 0; i < v.csrc_count(); ++i) check(v.csrc(i) == load_be32(&in[12 + 4 * i]));
  check(v.csrc(v.csrc_count()) == 0);
  check(!v.extension(0).has_value());
  // Lookup by id agrees with the first element of that id in the iteration.
  std::array<bool, 256> seen{};
  for (const ExtensionElement& e : v.extensions()) {
    check(e.id != 0 && inside(e.value, in));
    check(v.extension_form() == ExtensionForm::two_byte || (e.id <= 14 && !e.value.empty() && e.value.size() <= 16));
    if (!seen[e.id]) {
      const auto found = v.extension(e.id);
      check(found && found->data() == e.value.data() && found->size() == e.value.size());
    }
    seen[e.id] = true;
  }
  for (size_t id = 1; id < 256; ++id) check(v.extension(uint8_t(id)).has_value() == seen[id]);
}

// RtpHeader::from_view -> serialize_to -> parse_rtp gives the same packet
// (fields, CSRCs, extension lookups, payload, padding), if not the same bytes.
void check_round_trip(const RtpView& v) {
  auto h = RtpHeader::from_view(v);
  if (!h) {
    check(h.error() == ParseError::too_large ||
          (h.error() == ParseError::bad_type && v.extension_form() == ExtensionForm::other));
    return;
  }
  const size_t n = h->serialized_size();
  check(n > 0 && n == h->header_size() + v.payload().size() + v.padding_size());
  std::vector<uint8_t> out(n + 1);
  check(h->serialize_to(MutBytes(out).first(n - 1)) == 0);
  check(h->serialize_to(out) == n);
  auto w = parse_rtp(Bytes(out).first(n));
  check(w.ok());
  check(w->marker() == v.marker() && w->payload_type() == v.payload_type());
  check(w->sequence() == v.sequence() && w->timestamp() == v.timestamp() && w->ssrc() == v.ssrc());
  check(w->csrc_count() == v.csrc_count());
  for (size_t i = 0; i < v.csrc_count(); ++i) check(w->csrc(i) == v.csrc(i));
  check(same(w->payload(), v.payload()) && w->padding_size() == v.padding_size());
  if (h->extension_count > 0) check(w->extension_form() == v.extension_form());
  for (size_t id = 1; id < 256; ++id) {
    const auto a = v.extension(uint8_t(id));
    const auto b = w->extension(uint8_t(id));
    check(a.has_value() == b.has_value());
    if (a) check(same(*a, *b));
  }
}

// Remaps ids in a copy (with a map steered by the input) and rewrites the
// fixed fields; the result must parse, with values moved to their new ids.
void check_rewrites(Bytes in) {
  std::vector<uint8_t> buf(in.begin(), in.end());
  auto v = parse_rtp(buf);
  check(v.ok());
  const uint8_t k = in[in.size() - 1];
  ExtensionIdMap map;
  const bool one = v->extension_form() == ExtensionForm::one_byte;
  for (size_t id = 1; id < 256; ++id) map.out[id] = uint8_t(one ? (id * 7 + k) % 16 : (id * 31 + k) % 256);
  // Expected: the value of the first element that maps onto each new id.
  std::array<std::optional<Bytes>, 256> expect{};
  bool representable = true;
  for (const ExtensionElement& e : v->extensions()) {
    const uint8_t to = map.out[e.id];
    if (one && to > 14) representable = false;
    if (to != 0 && !expect[to]) expect[to] = e.value;
  }
  const std::vector<uint8_t> before = buf;
  auto r = remap_extension_ids(buf, *v, map);
  if (v->extension_form() == ExtensionForm::other) return check(!r.ok() && buf == before);
  if (!representable) return check(!r.ok() && r.error() == RewriteError::id_out_of_range && buf == before);
  check(r.ok());
  auto w = parse_rtp(buf);
  check(w.ok() && w->header_size() == v->header_size() &&
        same(w->payload(), Bytes(before).subspan(v->header_size(), v->payload().size())));
  for (size_t id = 1; id < 256; ++id) {
    const auto got = w->extension(uint8_t(id));
    check(got.has_value() == expect[id].has_value());
    if (got) check(got->data() == expect[id]->data() && got->size() == expect[id]->size());
  }
  check(set_ssrc(buf, 0x01020304) && set_sequence(buf, uint16_t(k * 257)) && set_timestamp(buf, 7u * k));
  check(set_payload_type(buf, k & 0x7F) && set_marker(buf, (k & 1) != 0));
  check(w->ssrc() == 0x01020304 && w->sequence() == uint16_t(k * 257) && w->timestamp() == 7u * k);
  check(w->payload_type() == (k & 0x7F) && w->marker() == ((k & 1) != 0));
  // Overwrite every element's value with its own bytes reversed.
  for (const ExtensionElement& e : w->extensions()) {
    auto m = mutable_extension(buf, *w, e.id);
    check(m.has_value());
    std::vector<uint8_t> rev(m->rbegin(), m->rend());
    check(set_extension(buf, *w, e.id, rev).ok());
  }
  check(parse_rtp(buf).ok());
}

}  // namespace

// copy_with_extensions (the send path's rebuild): for a map derived from the
// input, keep odd ids renumbered and drop even ones, and add a MID; the copy
// must parse, carry each kept element's value under its new id, the added
// MID unless an element already has id 4, and the same payload and padding.
void check_copy_with_extensions(const RtpView& v) {
  ExtensionIdMap map;
  for (size_t id = 1; id < 256; id += 2) map.map(uint8_t(id), uint8_t(id == 255 ? 1 : id + 2 > 14 ? id : id + 2));
  const uint8_t mid[] = {'4', '2'};
  const ExtensionToAdd add[] = {{4, Bytes(mid, 2)}};
  std::array<uint8_t, 2048> out{};
  const size_t n = copy_with_extensions(v, map, add, out);
  if (n == 0) return;  // not RFC 8285, or too large for `out`
  auto c = parse_rtp(Bytes(out.data(), n));
  check(c.ok());
  check(same(c->payload(), v.payload()) && c->padding_size() == v.padding_size());
  check(c->ssrc() == v.ssrc() && c->sequence() == v.sequence() && c->timestamp() == v.timestamp());
  bool has4 = false;
  for (const ExtensionElement& e : v.extensions())
    if (map.out[e.id] == 4) has4 = true;
  if (!has4) {
    auto m = c->extension(4);
    check(m && same(*m, Bytes(mid, 2)));
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Bytes in(data, size);
  auto v = parse_rtp(in);
  if (!v) return 0;
  check_view(*v, in);
  check_round_trip(*v);
  check_rewrites(in);
  check_copy_with_extensions(*v);
  return 0;
}
