#include "ice/stun_message.hpp"

#include <cstring>

#include "ice/crc32.hpp"

namespace sfu::ice {

namespace {

constexpr size_t padded(size_t n) { return (n + 3) & ~size_t(3); }

// What the attribute walk learned about the special attributes.
struct Layout {
  uint32_t visible_end = 0;
  uint32_t integrity_at = 0;
  uint32_t integrity_sha256_at = 0;
  uint32_t fingerprint_at = 0;
  uint16_t unknown_required = 0;
  bool has_unknown_required = false;
};

// MESSAGE-INTEGRITY-SHA256 may be truncated to 16..32 bytes in steps of 4
// (RFC 8489 §14.6).
constexpr bool valid_sha256_length(size_t n) { return n >= 16 && n <= 32 && n % 4 == 0; }

// Records one attribute at offset `at` into `layout`; an error for a
// misplaced or mis-sized MESSAGE-INTEGRITY* / FINGERPRINT.
Result<void, ParseError> note_attribute(Layout& layout, uint32_t at, StunAttr type, size_t length) {
  // §14.7: FINGERPRINT is the last attribute; anything after it is an error.
  if (layout.fingerprint_at != 0) return fail(ParseError::bad_extension);
  bool protected_part = layout.integrity_at == 0 && layout.integrity_sha256_at == 0;
  switch (type) {
    case StunAttr::message_integrity:
      // §14.5: attributes after MESSAGE-INTEGRITY(-SHA256) are ignored, so a
      // MESSAGE-INTEGRITY following either one is ignored too.
      if (!protected_part) return {};
      if (length != kStunIntegritySize) return fail(ParseError::bad_extension);
      layout.integrity_at = at;
      layout.visible_end = at;
      return {};
    case StunAttr::message_integrity_sha256:
      // §14.6: may follow MESSAGE-INTEGRITY; nothing but FINGERPRINT follows it.
      if (layout.integrity_sha256_at != 0) return {};
      if (!valid_sha256_length(length)) return fail(ParseError::bad_extension);
      layout.integrity_sha256_at = at;
      if (protected_part) layout.visible_end = at;
      return {};
    case StunAttr::fingerprint:
      if (length != kStunFingerprintSize) return fail(ParseError::bad_extension);
      layout.fingerprint_at = at;
      if (protected_part) layout.visible_end = at;
      return {};
    default:
      if (protected_part && !layout.has_unknown_required && is_comprehension_required(type) && !is_understood(type)) {
        layout.unknown_required = uint16_t(type);
        layout.has_unknown_required = true;
      }
      return {};
  }
}

// Walks the TLVs of `msg` (header already validated) and fills `layout`.
Result<void, ParseError> walk_attributes(Bytes msg, Layout& layout) {
  size_t pos = kStunHeaderSize;
  const size_t end = msg.size();
  while (pos < end) {
    if (end - pos < kStunAttributeHeaderSize) return fail(ParseError::bad_length);
    const StunAttr type = StunAttr(load_be16(&msg[pos]));
    const size_t length = load_be16(&msg[pos + 2]);  // checked: 4 bytes remain
    if (padded(length) > end - pos - kStunAttributeHeaderSize) return fail(ParseError::bad_length);
    if (auto r = note_attribute(layout, uint32_t(pos), type, length); !r) return r;
    pos += kStunAttributeHeaderSize + padded(length);
  }
  if (layout.visible_end == 0) layout.visible_end = uint32_t(end);
  return {};
}

std::optional<uint64_t> read_u64(std::optional<Bytes> v) {
  if (!v || v->size() != 8) return std::nullopt;
  return load_be64(v->data());
}

}  // namespace

bool is_understood(StunAttr type) {
  switch (type) {
    case StunAttr::mapped_address:
    case StunAttr::username:
    case StunAttr::message_integrity:
    case StunAttr::error_code:
    case StunAttr::unknown_attributes:
    case StunAttr::realm:
    case StunAttr::nonce:
    case StunAttr::message_integrity_sha256:
    case StunAttr::xor_mapped_address:
    case StunAttr::priority:
    case StunAttr::use_candidate:
      return true;
    default:
      return !is_comprehension_required(type);
  }
}

bool looks_like_stun(Bytes packet) {
  if (packet.size() < kStunHeaderSize || (packet[0] & 0xc0) != 0) return false;
  const size_t length = load_be16(&packet[2]);  // checked: >= 20 bytes
  return length % 4 == 0 && load_be32(&packet[4]) == kStunMagicCookie && kStunHeaderSize + length == packet.size();
}

Result<StunView, ParseError> parse_stun(Bytes packet) {
  ByteReader r(packet);
  uint16_t type = 0;
  uint16_t length = 0;
  uint32_t cookie = 0;
  if (!r.read_u16(type) || !r.read_u16(length) || !r.read_u32(cookie) || !r.skip(kStunTransactionIdSize)) {
    return fail(ParseError::truncated);
  }
  if ((type & 0xc000) != 0) return fail(ParseError::bad_type);
  if (length % 4 != 0) return fail(ParseError::bad_length);
  if (cookie != kStunMagicCookie) return fail(ParseError::bad_version);
  if (r.remaining() < length) return fail(ParseError::truncated);
  if (r.remaining() > length) return fail(ParseError::bad_length);

  Layout layout;
  if (auto walked = walk_attributes(packet, layout); !walked) return fail(walked.error());

  if (layout.fingerprint_at != 0) {
    // §14.7: CRC-32 of the message up to FINGERPRINT, XOR 0x5354554e. The
    // header length already ends after FINGERPRINT since it is last.
    const uint32_t expected = crc32(packet.first(layout.fingerprint_at)) ^ kStunFingerprintXor;
    if (load_be32(&packet[layout.fingerprint_at + kStunAttributeHeaderSize]) != expected) {
      return fail(ParseError::bad_checksum);
    }
  }

  StunView view;
  view.msg_ = packet;
  view.visible_end_ = layout.visible_end;
  view.integrity_at_ = layout.integrity_at;
  view.integrity_sha256_at_ = layout.integrity_sha256_at;
  view.fingerprint_at_ = layout.fingerprint_at;
  view.unknown_required_ = layout.unknown_required;
  view.has_unknown_required_ = layout.has_unknown_required;
  return view;
}

StunAttribute StunAttributeIterator::operator*() const {
  // The message was validated by parse_stun: the TLV is in bounds.
  return StunAttribute{StunAttr(load_be16(pos_)), Bytes(pos_ + kStunAttributeHeaderSize, load_be16(pos_ + 2))};
}

StunAttributeIterator& StunAttributeIterator::operator++() {
  const size_t step = kStunAttributeHeaderSize + padded(load_be16(pos_ + 2));
  pos_ = size_t(end_ - pos_) > step ? pos_ + step : end_;
  return *this;
}

TransactionId StunView::transaction_id() const {
  TransactionId id;
  std::memcpy(id.data(), msg_.data() + 8, id.size());
  return id;
}

StunAttributeRange StunView::attributes() const {
  const uint8_t* first = msg_.data() + kStunHeaderSize;
  const uint8_t* last = msg_.data() + visible_end_;
  return StunAttributeRange{StunAttributeIterator(first, last), StunAttributeIterator(last, last)};
}

std::optional<Bytes> StunView::find(StunAttr type) const {
  size_t trailer_at = 0;
  switch (type) {
    case StunAttr::message_integrity:
      trailer_at = integrity_at_;
      break;
    case StunAttr::message_integrity_sha256:
      trailer_at = integrity_sha256_at_;
      break;
    case StunAttr::fingerprint:
      trailer_at = fingerprint_at_;
      break;
    default:
      break;
  }
  if (trailer_at != 0) {
    return msg_.subspan(trailer_at + kStunAttributeHeaderSize, load_be16(&msg_[trailer_at + 2]));
  }
  for (StunAttribute a : attributes()) {
    if (a.type == type) return a.value;
  }
  return std::nullopt;
}

std::optional<StunAttr> StunView::unknown_required() const {
  if (!has_unknown_required_) return std::nullopt;
  return StunAttr(unknown_required_);
}

std::optional<std::string_view> StunView::text(StunAttr type) const {
  auto v = find(type);
  if (!v || v->size() > kStunMaxTextSize) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(v->data()), v->size());
}

std::optional<Address> decode_stun_address(Bytes value, Bytes xor_key) {
  //  0                   1                   2                   3
  //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
  // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  // |0 0 0 0 0 0 0 0|    Family     |         (X-)Port              |
  // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  // |            (X-)Address (32 bits or 128 bits)                  |
  // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  // The first byte "MUST be ignored by receivers" (§14.1).
  if (value.size() < 4 || (!xor_key.empty() && xor_key.size() != 16)) return std::nullopt;
  Address a;
  if (value[1] == uint8_t(AddressFamily::ipv4) && value.size() == 8) {
    a.family = AddressFamily::ipv4;
  } else if (value[1] == uint8_t(AddressFamily::ipv6) && value.size() == 20) {
    a.family = AddressFamily::ipv6;
  } else {
    return std::nullopt;
  }
  a.port = load_be16(&value[2]);
  std::memcpy(a.ip.data(), &value[4], a.ip_size());
  if (!xor_key.empty()) {
    // §14.2: port XOR the cookie's top 16 bits; address XOR cookie (IPv4)
    // or cookie ‖ transaction id (IPv6), i.e. message bytes 4..19.
    a.port ^= uint16_t(kStunMagicCookie >> 16);
    for (size_t i = 0; i < a.ip_size(); ++i) a.ip[i] ^= xor_key[i];
  }
  return a;
}

std::optional<Address> StunView::address(StunAttr type, bool xored) const {
  auto v = find(type);
  if (!v) return std::nullopt;
  return decode_stun_address(*v, xored ? msg_.subspan(4, 16) : Bytes());
}

std::optional<std::string_view> StunView::username() const { return text(StunAttr::username); }
std::optional<std::string_view> StunView::software() const { return text(StunAttr::software); }
std::optional<std::string_view> StunView::realm() const { return text(StunAttr::realm); }
std::optional<std::string_view> StunView::nonce() const { return text(StunAttr::nonce); }

std::optional<Address> StunView::xor_mapped_address() const { return address(StunAttr::xor_mapped_address, true); }
std::optional<Address> StunView::mapped_address() const { return address(StunAttr::mapped_address, false); }

std::optional<uint32_t> StunView::priority() const {
  auto v = find(StunAttr::priority);
  if (!v || v->size() != 4) return std::nullopt;
  return load_be32(v->data());
}

// RFC 8445 §16.1: USE-CANDIDATE has no value; a non-empty one is malformed.
bool StunView::use_candidate() const {
  auto v = find(StunAttr::use_candidate);
  return v && v->empty();
}

std::optional<uint64_t> StunView::ice_controlling() const { return read_u64(find(StunAttr::ice_controlling)); }
std::optional<uint64_t> StunView::ice_controlled() const { return read_u64(find(StunAttr::ice_controlled)); }

std::optional<StunErrorCode> StunView::error_code() const {
  //  0                   1                   2                   3
  //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
  // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  // |           Reserved, should be 0         |Class|     Number    |
  // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  // |      Reason Phrase (variable)                                ..
  // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
  auto v = find(StunAttr::error_code);
  if (!v || v->size() < 4 || v->size() - 4 > kStunMaxTextSize) return std::nullopt;
  const uint8_t cls = (*v)[2] & 0x07;
  const uint8_t number = (*v)[3];
  if (cls < 3 || cls > 6 || number > 99) return std::nullopt;
  return StunErrorCode{uint16_t(cls * 100 + number),
                       std::string_view(reinterpret_cast<const char*>(v->data() + 4), v->size() - 4)};
}

std::optional<StunAttrList> StunView::unknown_attributes() const {
  auto v = find(StunAttr::unknown_attributes);
  if (!v || v->size() % 2 != 0) return std::nullopt;
  return StunAttrList{*v};
}

}  // namespace sfu::ice
