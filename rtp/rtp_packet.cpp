#include "rtp/rtp_packet.hpp"

#include <cstring>

namespace sfu::rtp {
namespace {

ExtensionForm form_of(uint16_t profile) {
  if (profile == kOneByteProfile) return ExtensionForm::one_byte;
  if ((profile & kTwoByteProfileMask) == kTwoByteProfile) return ExtensionForm::two_byte;
  return ExtensionForm::other;
}

// Walks the whole block once so that later lookups cannot fail.
bool extension_block_valid(ExtensionForm form, Bytes block) {
  size_t pos = 0;
  ExtensionElement e;
  for (;;) {
    switch (detail::next_extension(form, block, pos, e)) {
      case detail::ExtensionStep::element:
        continue;
      case detail::ExtensionStep::end:
        return true;
      case detail::ExtensionStep::malformed:
        return false;
    }
  }
}

// Where the header extension sits and which form it has.
struct ExtensionLayout {
  size_t offset = 0;  // of the data after the 4-byte extension header
  size_t size = 0;
  ExtensionForm form = ExtensionForm::none;
};

//  0                   1                   2                   3
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      defined by profile       |   length (32-bit words)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        header extension                       |
// RFC 3550 §5.3.1. `at` is the offset just after the CSRC list.
Result<ExtensionLayout, ParseError> parse_extension_header(Bytes data, size_t at) {
  if (data.size() - at < 4) return fail(ParseError::truncated);
  const uint16_t profile = load_be16(&data[at]);  // checked just above
  const size_t size = size_t(load_be16(&data[at + 2])) * 4;
  if (size > data.size() - at - 4) return fail(ParseError::bad_length);
  ExtensionLayout layout{at + 4, size, form_of(profile)};
  if (!extension_block_valid(layout.form, data.subspan(layout.offset, size))) {
    return fail(ParseError::bad_extension);
  }
  return layout;
}

}  // namespace

uint16_t RtpView::extension_profile() const { return has_extension() ? load_be16(&packet_[ext_offset_ - 4]) : 0; }

std::optional<Bytes> RtpView::extension(uint8_t id) const {
  if (id == 0 || (form_ == ExtensionForm::one_byte && id > kOneByteMaxId)) return std::nullopt;
  const Bytes block = extension_block();
  size_t pos = 0;
  ExtensionElement e;
  while (detail::next_extension(form_, block, pos, e) == detail::ExtensionStep::element) {
    if (e.id == id) return e.value;
  }
  return std::nullopt;
}

Result<RtpView, ParseError> parse_rtp(Bytes data) {
  if (data.size() < kFixedHeaderSize) return fail(ParseError::truncated);
  if ((data[0] >> 6) != kRtpVersion) return fail(ParseError::bad_version);
  RtpView v;
  v.packet_ = data;
  size_t header = kFixedHeaderSize + 4 * size_t(data[0] & 0x0F);
  if (header > data.size()) return fail(ParseError::truncated);
  if ((data[0] & 0x10) != 0) {
    auto layout = parse_extension_header(data, header);
    if (!layout) return fail(layout.error());
    v.ext_offset_ = uint32_t(layout->offset);
    v.ext_size_ = uint32_t(layout->size);
    v.form_ = layout->form;
    header = layout->offset + layout->size;  // at most 12 + 60 + 4 + 262140
  }
  v.header_size_ = uint32_t(header);
  if ((data[0] & 0x20) != 0) {
    // RFC 3550 §5.1: the last octet counts the padding, itself included.
    const uint8_t count = data.back();
    if (count == 0 || count > data.size() - header) return fail(ParseError::bad_padding);
    v.padding_size_ = count;
  }
  return v;
}

// ---- RtpHeader ---------------------------------------------------------------

Result<RtpHeader, ParseError> RtpHeader::from_view(const RtpView& view) {
  RtpHeader h;
  h.marker = view.marker();
  h.payload_type = view.payload_type();
  h.sequence = view.sequence();
  h.timestamp = view.timestamp();
  h.ssrc = view.ssrc();
  for (size_t i = 0; i < view.csrc_count(); ++i) h.csrcs[i] = view.csrc(i);
  h.csrc_count = view.csrc_count();
  if (view.extension_form() == ExtensionForm::other) return fail(ParseError::bad_type);
  h.force_two_byte = view.extension_form() == ExtensionForm::two_byte;
  for (const ExtensionElement& e : view.extensions()) {
    if (!h.add_extension(e.id, e.value)) return fail(ParseError::too_large);
  }
  h.payload = view.payload();
  h.padding_size = uint8_t(view.padding_size());
  return h;
}

bool RtpHeader::add_csrc(uint32_t csrc) {
  if (csrc_count >= kMaxCsrcs) return false;
  csrcs[csrc_count++] = csrc;
  return true;
}

bool RtpHeader::add_extension(uint8_t id, Bytes value) {
  if (extension_count >= kMaxHeaderExtensions || id == 0 || value.size() > kTwoByteMaxLength) return false;
  extensions[extension_count++] = RtpExtension{id, value};
  return true;
}

bool RtpHeader::valid() const {
  if (payload_type > 0x7F || csrc_count > kMaxCsrcs || extension_count > kMaxHeaderExtensions) return false;
  for (size_t i = 0; i < extension_count; ++i) {
    if (extensions[i].id == 0 || extensions[i].value.size() > kTwoByteMaxLength) return false;
  }
  return true;
}

ExtensionForm RtpHeader::extension_form() const {
  if (extension_count == 0) return ExtensionForm::none;
  if (force_two_byte) return ExtensionForm::two_byte;
  for (size_t i = 0; i < extension_count && i < kMaxHeaderExtensions; ++i) {
    const RtpExtension& e = extensions[i];
    if (e.id > kOneByteMaxId || e.value.empty() || e.value.size() > kOneByteMaxLength) {
      return ExtensionForm::two_byte;
    }
  }
  return ExtensionForm::one_byte;
}

size_t RtpHeader::header_size() const {
  size_t size = kFixedHeaderSize + 4 * size_t(csrc_count);
  const ExtensionForm form = extension_form();
  if (form == ExtensionForm::none) return size;
  const size_t per_element = form == ExtensionForm::one_byte ? 1 : 2;
  size_t block = 0;
  for (size_t i = 0; i < extension_count && i < kMaxHeaderExtensions; ++i) {
    block += per_element + extensions[i].value.size();
  }
  return size + 4 + (block + 3) / 4 * 4;
}

size_t RtpHeader::serialized_size() const {
  if (!valid()) return 0;
  return header_size() + payload.size() + padding_size;
}

size_t RtpHeader::serialize_to(MutBytes out) const {
  const size_t total = serialized_size();
  if (total == 0 || out.size() < total) return 0;
  const size_t header = header_size();
  // The payload first: it may sit in `out` already, possibly overlapping.
  if (!payload.empty()) std::memmove(&out[header], payload.data(), payload.size());
  const ExtensionForm form = extension_form();
  ByteWriter w(out.first(header));
  w.write_u8(
      uint8_t(kRtpVersion << 6 | (padding_size ? 0x20 : 0) | (form != ExtensionForm::none ? 0x10 : 0) | csrc_count));
  w.write_u8(uint8_t((marker ? 0x80 : 0) | payload_type));
  w.write_u16(sequence);
  w.write_u32(timestamp);
  w.write_u32(ssrc);
  for (size_t i = 0; i < csrc_count; ++i) w.write_u32(csrcs[i]);
  if (form != ExtensionForm::none) {
    const bool one = form == ExtensionForm::one_byte;
    w.write_u16(one ? kOneByteProfile : kTwoByteProfile);
    w.write_u16(uint16_t((header - w.position() - 2) / 4));
    for (size_t i = 0; i < extension_count; ++i) {
      const RtpExtension& e = extensions[i];
      if (one) {
        w.write_u8(uint8_t(e.id << 4 | (e.value.size() - 1)));
      } else {
        w.write_u8(e.id);
        w.write_u8(uint8_t(e.value.size()));
      }
      w.write_bytes(e.value);
    }
    w.write_zeros(w.remaining());  // RFC 8285 §4.1: pad the block to 32 bits
  }
  if (padding_size) {
    uint8_t* pad = &out[header + payload.size()];
    std::memset(pad, 0, padding_size - 1u);
    pad[padding_size - 1] = padding_size;
  }
  return total;
}

}  // namespace sfu::rtp
