#include "ice/stun_builder.hpp"

#include <array>
#include <cstring>

#include "ice/crc32.hpp"

namespace sfu::ice {

namespace {

constexpr size_t padded(size_t n) { return (n + 3) & ~size_t(3); }

Bytes as_bytes(std::string_view s) { return Bytes(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

bool is_trailer(StunAttr type) {
  return type == StunAttr::message_integrity || type == StunAttr::message_integrity_sha256 ||
         type == StunAttr::fingerprint;
}

}  // namespace

bool StunBuilder::refuse() {
  ok_ = false;
  return false;
}

void StunBuilder::set_length(size_t body_length) { store_be16(out_.data() + 2, uint16_t(body_length)); }

bool StunBuilder::begin(uint16_t message_type, const TransactionId& id) {
  pos_ = 0;
  ok_ = false;
  if (out_.size() < kStunHeaderSize || (message_type & 0xc000) != 0) return false;
  uint8_t* p = out_.data();
  store_be16(p, message_type);
  store_be16(p + 2, 0);
  store_be32(p + 4, kStunMagicCookie);
  std::memcpy(p + 8, id.data(), id.size());
  pos_ = kStunHeaderSize;
  ok_ = true;
  return true;
}

uint8_t* StunBuilder::append(StunAttr type, size_t length) {
  if (!ok_) return nullptr;
  const size_t total = kStunAttributeHeaderSize + padded(length);
  // The message may not outgrow the 16-bit Message Length (§5).
  if (length > 0xffff || total > out_.size() - pos_ || pos_ + total > kStunMaxMessageSize) {
    refuse();
    return nullptr;
  }
  uint8_t* p = out_.data() + pos_;
  store_be16(p, uint16_t(type));
  store_be16(p + 2, uint16_t(length));
  std::memset(p + kStunAttributeHeaderSize + length, 0, padded(length) - length);
  pos_ += total;
  set_length(pos_ - kStunHeaderSize);
  return p + kStunAttributeHeaderSize;
}

bool StunBuilder::add_raw(StunAttr type, Bytes value) {
  if (is_trailer(type)) return refuse();
  uint8_t* p = append(type, value.size());
  if (p == nullptr) return false;
  if (!value.empty()) std::memcpy(p, value.data(), value.size());
  return true;
}

bool StunBuilder::add_uint32(StunAttr type, uint32_t value) {
  uint8_t v[4];
  store_be32(v, value);
  return add_raw(type, Bytes(v, sizeof v));
}

bool StunBuilder::add_uint64(StunAttr type, uint64_t value) {
  uint8_t v[8];
  store_be64(v, value);
  return add_raw(type, Bytes(v, sizeof v));
}

bool StunBuilder::add_text(StunAttr type, std::string_view text) {
  if (text.size() > kStunMaxTextSize) return refuse();
  return add_raw(type, as_bytes(text));
}

bool StunBuilder::add_username(std::string_view username) { return add_text(StunAttr::username, username); }
bool StunBuilder::add_software(std::string_view software) { return add_text(StunAttr::software, software); }
bool StunBuilder::add_realm(std::string_view realm) { return add_text(StunAttr::realm, realm); }
bool StunBuilder::add_nonce(std::string_view nonce) { return add_text(StunAttr::nonce, nonce); }

bool StunBuilder::add_address(StunAttr type, const Address& address, bool xored) {
  if (!address.is_ipv4() && !address.is_ipv6()) return refuse();
  uint8_t* p = append(type, 4 + address.ip_size());
  if (p == nullptr) return false;
  p[0] = 0;
  p[1] = uint8_t(address.family);
  uint16_t port = address.port;
  std::memcpy(p + 4, address.ip.data(), address.ip_size());
  if (xored) {
    // §14.2: XOR with the cookie ‖ transaction id, i.e. header bytes 4..19.
    port ^= uint16_t(kStunMagicCookie >> 16);
    for (size_t i = 0; i < address.ip_size(); ++i) p[4 + i] ^= out_[4 + i];
  }
  store_be16(p + 2, port);
  return true;
}

bool StunBuilder::add_xor_mapped_address(const Address& address) {
  return add_address(StunAttr::xor_mapped_address, address, true);
}
bool StunBuilder::add_mapped_address(const Address& address) {
  return add_address(StunAttr::mapped_address, address, false);
}

bool StunBuilder::add_priority(uint32_t priority) { return add_uint32(StunAttr::priority, priority); }
bool StunBuilder::add_use_candidate() { return add_raw(StunAttr::use_candidate, Bytes()); }
bool StunBuilder::add_ice_controlling(uint64_t tie_breaker) {
  return add_uint64(StunAttr::ice_controlling, tie_breaker);
}
bool StunBuilder::add_ice_controlled(uint64_t tie_breaker) { return add_uint64(StunAttr::ice_controlled, tie_breaker); }

bool StunBuilder::add_error_code(uint16_t code, std::string_view reason) {
  if (code < 300 || code > 699 || reason.size() > kStunMaxTextSize) return refuse();
  uint8_t* p = append(StunAttr::error_code, 4 + reason.size());
  if (p == nullptr) return false;
  p[0] = 0;
  p[1] = 0;
  p[2] = uint8_t(code / 100);
  p[3] = uint8_t(code % 100);
  if (!reason.empty()) std::memcpy(p + 4, reason.data(), reason.size());
  return true;
}

bool StunBuilder::add_unknown_attributes(std::span<const StunAttr> types) {
  uint8_t* p = append(StunAttr::unknown_attributes, 2 * types.size());
  if (p == nullptr) return false;
  for (size_t i = 0; i < types.size(); ++i) store_be16(p + 2 * i, uint16_t(types[i]));
  return true;
}

MutBytes StunBuilder::finish(const IntegrityKey* key, bool fingerprint) {
  if (key != nullptr) {
    if (!key->valid()) refuse();
    // §14.5: append the TLV first so Message Length already counts it, then
    // HMAC everything before it (append() has updated the header).
    uint8_t* mac = append(StunAttr::message_integrity, kStunIntegritySize);
    if (mac == nullptr) return {};
    const size_t mi_at = pos_ - kStunAttributeHeaderSize - kStunIntegritySize;
    key->hmac_sha1(Bytes(out_.data(), kStunHeaderSize), Bytes(out_.data() + kStunHeaderSize, mi_at - kStunHeaderSize),
                   std::span<uint8_t, kStunIntegritySize>(mac, kStunIntegritySize));
  }
  if (fingerprint) {
    // §14.7: the CRC covers the header whose length includes FINGERPRINT.
    uint8_t* crc = append(StunAttr::fingerprint, kStunFingerprintSize);
    if (crc == nullptr) return {};
    const size_t fp_at = pos_ - kStunAttributeHeaderSize - kStunFingerprintSize;
    store_be32(crc, crc32(Bytes(out_.data(), fp_at)) ^ kStunFingerprintXor);
  }
  if (!ok_) return {};
  ok_ = false;  // finished: must begin() again
  return out_.first(pos_);
}

std::string_view stun_reason_phrase(uint16_t code) {
  switch (code) {
    case 300:
      return "Try Alternate";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthenticated";
    case 403:
      return "Forbidden";
    case 420:
      return "Unknown Attribute";
    case 437:
      return "Allocation Mismatch";
    case 438:
      return "Stale Nonce";
    case 487:
      return "Role Conflict";
    case 500:
      return "Server Error";
    default:
      return "";
  }
}

MutBytes make_binding_success(MutBytes out, const StunView& request, const Address& mapped, const IntegrityKey& key) {
  StunBuilder b(out);
  b.begin(StunMethod::binding, StunClass::success_response, request.transaction_id());
  b.add_xor_mapped_address(mapped);
  return b.finish(&key, true);
}

MutBytes make_error_response(MutBytes out, const StunView& request, uint16_t code, const IntegrityKey* key) {
  StunBuilder b(out);
  b.begin(request.method(), StunClass::error_response, request.transaction_id());
  b.add_error_code(code, stun_reason_phrase(code));
  if (code == 420) {
    // Bounded list (no heap); a request with more unknown attributes than
    // this is hostile and gets the first ones.
    std::array<StunAttr, 32> unknown{};
    size_t n = 0;
    for (StunAttribute a : request.attributes()) {
      if (n < unknown.size() && is_comprehension_required(a.type) && !is_understood(a.type)) unknown[n++] = a.type;
    }
    b.add_unknown_attributes(std::span<const StunAttr>(unknown.data(), n));
  }
  return b.finish(key, true);
}

}  // namespace sfu::ice
