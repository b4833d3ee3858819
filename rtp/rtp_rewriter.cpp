#include "rtp/rtp_rewriter.hpp"

#include <array>
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

size_t copy_with_extensions(const RtpView& view, const ExtensionIdMap& map, std::span<const ExtensionToAdd> add,
                            MutBytes out) {
  const ExtensionForm form = view.extension_form();
  if (form == ExtensionForm::other) return 0;
  // Which form fits everything that will be written, and how much it takes.
  bool one_byte = true;
  size_t kept = 0, kept_bytes = 0, dropped_bytes = 0;  // dropped: value bytes + one per header
  std::array<bool, 256> present{};
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
      if (!fits(to, e.value.size())) return 0;
      present[to] = true;
      ++kept;
      kept_bytes += e.value.size();
    }
  }
  for (const ExtensionToAdd& a : add) {
    if (a.id != 0 && present[a.id]) continue;
    if (!fits(a.id, a.value.size())) return 0;
    ++kept;
    kept_bytes += a.value.size();
  }
  // A dropped element leaves its header and value as padding (in the
  // two-byte form its header is one byte longer).
  const size_t padding = form == ExtensionForm::none ? 0 : dropped_bytes;
  const size_t raw = kept_bytes + kept * (one_byte ? 1 : 2) + padding;
  const size_t block = raw ? 4 + (raw + 3) / 4 * 4 : 0;

  const size_t fixed = kFixedHeaderSize + 4 * size_t(view.csrc_count());
  const Bytes rest = view.packet().subspan(view.header_size());  // payload and padding
  const size_t total = fixed + block + rest.size();
  if (out.size() < total || view.packet().data() == out.data()) return 0;

  std::memcpy(out.data(), view.packet().data(), fixed);
  out[0] = uint8_t(block ? (out[0] | 0x10) : (out[0] & ~0x10));
  if (block) {
    size_t at = fixed;
    store_be16(&out[at], one_byte ? kOneByteProfile : kTwoByteProfile);
    store_be16(&out[at + 2], uint16_t((block - 4) / 4));
    at += 4;
    auto put = [&](uint8_t id, Bytes value) {
      if (one_byte) {
        out[at++] = uint8_t(id << 4 | (value.size() - 1));
      } else {
        out[at++] = id;
        out[at++] = uint8_t(value.size());
      }
      if (!value.empty()) std::memcpy(&out[at], value.data(), value.size());
      at += value.size();
    };
    if (form != ExtensionForm::none) {
      for (const ExtensionElement& e : view.extensions())
        if (const uint8_t to = map.out[e.id]; to != 0) put(to, e.value);
    }
    for (const ExtensionToAdd& a : add)
      if (!present[a.id]) put(a.id, a.value);
    std::memset(&out[at], 0, fixed + block - at);  // RFC 8285 §4.1 padding
  }
  if (!rest.empty()) std::memcpy(&out[fixed + block], rest.data(), rest.size());
  return total;
}

}  // namespace sfu::rtp
