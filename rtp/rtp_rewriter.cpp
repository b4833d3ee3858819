#include "rtp/rtp_rewriter.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include "common/bytes.hpp"

namespace sfu::rtp {
namespace {

bool same_bytes(MutBytes packet, const RtpView& view) {
  return view.packet().data() == packet.data() && view.packet().size() == packet.size();
}

}  // namespace

Result<void, RewriteError> remap_extension_ids(MutBytes packet, const RtpView& view, const ExtensionIdMap& map) {
  if (!same_bytes(packet, view)) return fail(RewriteError::foreign_view);
  const ExtensionForm form = view.extension_form();
  if (form == ExtensionForm::none) return {};
  if (form == ExtensionForm::other) return fail(RewriteError::not_rfc8285);
  const bool one = form == ExtensionForm::one_byte;
  // First pass: refuse before touching anything.
  if (one) {
    for (const ExtensionElement& e : view.extensions()) {
      if (map.out[e.id] > kOneByteMaxId) return fail(RewriteError::id_out_of_range);
    }
  }
  // Second pass. Overwriting the current element (with zeros or a new id
  // whose length nibble is kept) never changes how the iterator, which has
  // already read it, walks the rest of the block.
  for (const ExtensionElement& e : view.extensions()) {
    const uint8_t to = map.out[e.id];
    uint8_t* at = &packet[e.offset];
    if (to == 0) {
      std::memset(at, 0, (one ? 1 : 2) + e.value.size());
    } else if (one) {
      *at = uint8_t(to << 4 | (*at & 0x0F));
    } else {
      *at = to;
    }
  }
  return {};
}

std::optional<MutBytes> mutable_extension(MutBytes packet, const RtpView& view, uint8_t id) {
  if (!same_bytes(packet, view)) return std::nullopt;
  const std::optional<Bytes> value = view.extension(id);
  if (!value) return std::nullopt;
  const size_t offset = size_t(value->data() - view.packet().data());
  return packet.subspan(offset, value->size());
}

Result<void, RewriteError> set_extension(MutBytes packet, const RtpView& view, uint8_t id, Bytes value) {
  if (!same_bytes(packet, view)) return fail(RewriteError::foreign_view);
  const std::optional<MutBytes> target = mutable_extension(packet, view, id);
  if (!target) return fail(RewriteError::not_found);
  if (target->size() != value.size()) return fail(RewriteError::size_mismatch);
  if (!value.empty()) std::memmove(target->data(), value.data(), value.size());
  return {};
}

namespace {

enum class AddMode : bool { yield, replace };

// copy_with_extensions and write_outgoing: `mode` says whether an element
// of `add` yields to a mapped element with its id or replaces its value;
// `osn` makes the copy an RTX packet (the OSN before the payload, no padding).
OutgoingLayout copy_rebuilt(const RtpView& view, const ExtensionIdMap& map, std::span<const ExtensionToAdd> add,
                            AddMode mode, std::optional<uint16_t> osn, MutBytes out) {
  const ExtensionForm form = view.extension_form();
  if (form == ExtensionForm::other) return {};
  // Which form fits everything that will be written, and how much it takes.
  bool one_byte = true;
  size_t kept = 0, kept_bytes = 0, dropped_bytes = 0;  // dropped: value bytes + one per header
  // present: the ids of mapped elements (a 256-bit set: this runs per
  // packet and subscriber). replacing(id): the index in `add` of a value
  // that replaces a mapped element's (a handful of entries, searched).
  std::array<uint64_t, 4> present_bits{};
  auto present = [&](uint8_t id) { return (present_bits[id >> 6] >> (id & 63) & 1) != 0; };
  constexpr size_t kNone = SIZE_MAX;
  auto replacing = [&](uint8_t id) {
    if (mode == AddMode::replace)
      for (size_t i = 0; i < add.size(); ++i)
        if (add[i].id == id) return i;
    return kNone;
  };
  auto fits = [&](uint8_t id, size_t size) {
    if (id == 0 || size > 255) return false;
    if (id > kOneByteMaxId || size == 0 || size > 16) one_byte = false;
    return true;
  };
  if (form != ExtensionForm::none) {
    for (const ExtensionElement& e : view.extensions()) {
      const uint8_t to = map.out[e.id];
      if (to == 0) {
        dropped_bytes += e.value.size() + 1;
        continue;
      }
      const size_t r = replacing(to);
      const Bytes value = r == kNone ? e.value : add[r].value;
      if (!fits(to, value.size())) return {};
      present_bits[to >> 6] |= uint64_t(1) << (to & 63);
      ++kept;
      kept_bytes += value.size();
    }
  }
  for (const ExtensionToAdd& a : add) {
    if (a.id != 0 && present(a.id)) continue;
    if (!fits(a.id, a.value.size())) return {};
    ++kept;
    kept_bytes += a.value.size();
  }
  // A dropped element leaves its header and value as padding (in the
  // two-byte form its header is one byte longer).
  const size_t padding = form == ExtensionForm::none ? 0 : dropped_bytes;
  const size_t raw = kept_bytes + kept * (one_byte ? 1 : 2) + padding;
  const size_t block = raw ? 4 + (raw + 3) / 4 * 4 : 0;

  const size_t fixed = kFixedHeaderSize + 4 * size_t(view.csrc_count());
  // Media: payload and padding as they are. RTX: the OSN, then the payload.
  const Bytes rest = osn ? view.payload() : view.packet().subspan(view.header_size());
  const size_t prefix = osn ? 2 : 0;  // the OSN (RFC 4588 §4)
  const size_t total = fixed + block + prefix + rest.size();
  OutgoingLayout layout{total, fixed + block + prefix, view.payload().size(), {}};
  const uint8_t* in = view.packet().data();
  if (out.size() < total || (in < out.data() + out.size() && out.data() < in + view.packet().size())) return {};

  std::memcpy(out.data(), in, fixed);
  out[0] = uint8_t(block ? (out[0] | 0x10) : (out[0] & ~0x10));
  if (osn) out[0] = uint8_t(out[0] & ~0x20);  // RFC 4588 §4: the original's padding is removed
  if (block) {
    size_t at = fixed;
    store_be16(&out[at], one_byte ? kOneByteProfile : kTwoByteProfile);
    store_be16(&out[at + 2], uint16_t((block - 4) / 4));
    at += 4;
    auto put = [&](uint8_t id, Bytes value, size_t add_index) {
      if (one_byte) {
        out[at++] = uint8_t(id << 4 | (value.size() - 1));
      } else {
        out[at++] = id;
        out[at++] = uint8_t(value.size());
      }
      if (add_index < layout.set_at.size()) layout.set_at[add_index] = uint16_t(at);
      if (!value.empty()) std::memcpy(&out[at], value.data(), value.size());
      at += value.size();
    };
    if (form != ExtensionForm::none) {
      for (const ExtensionElement& e : view.extensions()) {
        const uint8_t to = map.out[e.id];
        if (to == 0) continue;
        const size_t r = replacing(to);
        put(to, r == kNone ? e.value : add[r].value, r);
      }
    }
    for (size_t i = 0; i < add.size(); ++i)
      if (!present(add[i].id)) put(add[i].id, add[i].value, mode == AddMode::replace ? i : kNone);
    std::memset(&out[at], 0, fixed + block - at);  // RFC 8285 §4.1 padding
  }
  if (osn) store_be16(&out[fixed + block], *osn);
  if (!rest.empty()) std::memcpy(&out[fixed + block + prefix], rest.data(), rest.size());
  return layout;
}

}  // namespace

size_t copy_with_extensions(const RtpView& view, const ExtensionIdMap& map, std::span<const ExtensionToAdd> add,
                            MutBytes out) {
  return copy_rebuilt(view, map, add, AddMode::yield, std::nullopt, out).length;
}

OutgoingLayout write_outgoing(const RtpView& view, const ExtensionIdMap& map, std::span<const ExtensionToAdd> set,
                              const OutgoingHeader& header, std::optional<uint16_t> rtx_osn, MutBytes out) {
  if (header.payload_type > 0x7F) return {};
  const OutgoingLayout l = copy_rebuilt(view, map, set, AddMode::replace, rtx_osn, out);
  if (l.length == 0) return l;
  const MutBytes packet = out.first(l.length);
  set_ssrc(packet, header.ssrc);
  set_sequence(packet, header.sequence);
  set_timestamp(packet, header.timestamp);
  set_payload_type(packet, header.payload_type);
  set_marker(packet, header.marker);
  return l;
}

}  // namespace sfu::rtp
