// Writing STUN messages (RFC 8489) into a caller-provided buffer, no heap.
//
//   StunBuilder b(buffer);
//   b.begin(StunMethod::binding, StunClass::success_response, request.transaction_id());
//   b.add_xor_mapped_address(peer);
//   MutBytes msg = b.finish(&key, /*fingerprint=*/true);  // empty on overflow
//
// Every add_* returns false and poisons the builder when the buffer is too
// small or the value is invalid for its attribute; finish() then returns an
// empty span. Padding is written as zero bytes (§14).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/bytes.hpp"
#include "ice/address.hpp"
#include "ice/stun_integrity.hpp"
#include "ice/stun_message.hpp"

namespace sfu::ice {

class StunBuilder {
 public:
  // Borrows `out` until finish(); the finished message is a prefix of it.
  explicit StunBuilder(MutBytes out) : out_(out) {}

  // Starts a message: writes the 20-byte header with Message Length 0.
  // Must be called first; may be called again to restart.
  bool begin(uint16_t message_type, const TransactionId& id);
  bool begin(StunMethod method, StunClass cls, const TransactionId& id) {
    return begin(stun_message_type(method, cls), id);
  }

  // USERNAME (§14.3), at most 763 bytes.
  bool add_username(std::string_view username);
  // XOR-MAPPED-ADDRESS (§14.2), XORed with this message's transaction id.
  bool add_xor_mapped_address(const Address& address);
  // MAPPED-ADDRESS (§14.1), for RFC 3489 clients.
  bool add_mapped_address(const Address& address);
  // PRIORITY (RFC 8445 §16.1).
  bool add_priority(uint32_t priority);
  // USE-CANDIDATE (RFC 8445 §16.1), an empty flag attribute.
  bool add_use_candidate();
  // ICE-CONTROLLING / ICE-CONTROLLED with the 64-bit tie-breaker.
  bool add_ice_controlling(uint64_t tie_breaker);
  bool add_ice_controlled(uint64_t tie_breaker);
  // ERROR-CODE (§14.8): `code` in 300..699, reason at most 763 bytes.
  bool add_error_code(uint16_t code, std::string_view reason);
  // UNKNOWN-ATTRIBUTES (§14.13).
  bool add_unknown_attributes(std::span<const StunAttr> types);
  // SOFTWARE, REALM, NONCE (§14.14, §14.9, §14.10), at most 763 bytes each.
  bool add_software(std::string_view software);
  bool add_realm(std::string_view realm);
  bool add_nonce(std::string_view nonce);
  // Any attribute with a 4-byte, 8-byte or arbitrary value. Refuses
  // MESSAGE-INTEGRITY* and FINGERPRINT, which only finish() writes.
  bool add_uint32(StunAttr type, uint32_t value);
  bool add_uint64(StunAttr type, uint64_t value);
  bool add_raw(StunAttr type, Bytes value);

  // Appends MESSAGE-INTEGRITY under `key` when key != nullptr (§14.5), then
  // FINGERPRINT when `fingerprint` (§14.7), and returns the finished message
  // (a prefix of the buffer). Empty if any step failed or the buffer is too
  // small. The builder must be begun again before reuse.
  MutBytes finish(const IntegrityKey* key, bool fingerprint);

  // False once any step failed (or before begin()).
  bool ok() const { return ok_; }
  // Bytes written so far.
  size_t size() const { return pos_; }

 private:
  // Reserves a TLV of `length` value bytes (padding zeroed); nullptr and
  // poisoned on failure.
  uint8_t* append(StunAttr type, size_t length);
  bool add_text(StunAttr type, std::string_view text);
  bool add_address(StunAttr type, const Address& address, bool xored);
  bool refuse();
  void set_length(size_t body_length);

  MutBytes out_;
  size_t pos_ = 0;
  bool ok_ = false;
};

// The default reason phrase for an error code (RFC 8489 §14.8, RFC 8445
// §16.2 for 487), or "" for codes without one.
std::string_view stun_reason_phrase(uint16_t code);

// Binding success response to `request` (RFC 8445 §7.3.1.3 / RFC 8489
// §6.3.1.2): same transaction id, XOR-MAPPED-ADDRESS = `mapped` (the
// request's source), MESSAGE-INTEGRITY under `key` (the local password),
// FINGERPRINT. Written into `out`; empty if it does not fit (needs 64 bytes
// for IPv4, 76 for IPv6).
MutBytes make_binding_success(MutBytes out, const StunView& request, const Address& mapped, const IntegrityKey& key);

// Error response to `request` with ERROR-CODE `code` and its default reason
// phrase, then FINGERPRINT. For 420 it lists every visible unknown
// comprehension-required attribute of the request in UNKNOWN-ATTRIBUTES
// (§6.3.1.1). MESSAGE-INTEGRITY is added when `key` is not null — pass null
// for 400 / 401, where the request's credentials could not be verified
// (§9.1.3); pass the key for 487 Role Conflict. Empty if it does not fit.
MutBytes make_error_response(MutBytes out, const StunView& request, uint16_t code, const IntegrityKey* key);

}  // namespace sfu::ice
