#include "rtp/rtp_rewriter.hpp"

#include <cstring>

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

}  // namespace sfu::rtp
