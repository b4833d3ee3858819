// STUN messages (RFC 8489): the header, the attribute TLVs, and a parser that
// returns a non-owning StunView over a received datagram.
//
// Header, RFC 8489 §5:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |0 0|     STUN Message Type     |         Message Length        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Magic Cookie                          |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                                                               |
//  |                     Transaction ID (96 bits)                  |
//  |                                                               |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Message type, 14 bits: method M11..M0 interleaved with class C1 C0:
//
//   0                 1
//   2  3  4 5 6 7 8 9 0 1 2 3 4 5
//  +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
//  |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
//  |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
//  +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Message Length counts the bytes after the 20-byte header (always a
// multiple of 4). Each attribute, RFC 8489 §14:
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |         Type                  |            Length             |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Value (variable)                ....
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Length is the value's length before padding to a 4-byte boundary.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "ice/address.hpp"

namespace sfu::ice {

inline constexpr uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr size_t kStunHeaderSize = 20;
inline constexpr size_t kStunAttributeHeaderSize = 4;
inline constexpr size_t kStunTransactionIdSize = 12;
// Message Length is 16 bits and a multiple of 4.
inline constexpr size_t kStunMaxMessageSize = kStunHeaderSize + 0xfffc;
// USERNAME, REALM, NONCE, SOFTWARE and the ERROR-CODE reason phrase are
// limited to 763 bytes (RFC 8489 §14.3, §14.9, §14.10, §14.8, §14.14).
inline constexpr size_t kStunMaxTextSize = 763;
inline constexpr size_t kStunIntegritySize = 20;   // HMAC-SHA1, §14.5
inline constexpr size_t kStunFingerprintSize = 4;  // CRC-32, §14.7
// XORed into the CRC-32 so FINGERPRINT differs from other protocols' CRCs.
inline constexpr uint32_t kStunFingerprintXor = 0x5354554e;

using TransactionId = std::array<uint8_t, kStunTransactionIdSize>;

// The two class bits, RFC 8489 §5.
enum class StunClass : uint8_t {
  request = 0b00,
  indication = 0b01,
  success_response = 0b10,
  error_response = 0b11,
};

// 12-bit method. Only Binding matters to ICE; other methods (TURN's
// Allocate etc.) are representable as StunMethod(value).
enum class StunMethod : uint16_t {
  binding = 0x001,
};

// Attribute types this codec knows by name (IANA "STUN Attributes").
// 0x0000-0x7FFF are comprehension-required, 0x8000-0xFFFF optional (§14).
enum class StunAttr : uint16_t {
  mapped_address = 0x0001,
  username = 0x0006,
  message_integrity = 0x0008,
  error_code = 0x0009,
  unknown_attributes = 0x000A,
  realm = 0x0014,
  nonce = 0x0015,
  message_integrity_sha256 = 0x001C,
  password_algorithm = 0x001D,
  userhash = 0x001E,
  xor_mapped_address = 0x0020,
  priority = 0x0024,       // RFC 8445 §16.1
  use_candidate = 0x0025,  // RFC 8445 §16.1
  password_algorithms = 0x8002,
  alternate_domain = 0x8003,
  software = 0x8022,
  alternate_server = 0x8023,
  fingerprint = 0x8028,
  ice_controlled = 0x8029,     // RFC 8445 §16.1
  ice_controlling = 0x802A,    // RFC 8445 §16.1
  goog_network_info = 0xC057,  // sent by Chrome; comprehension-optional
};

// Builds the 14-bit message type from method and class (§5 interleaving).
constexpr uint16_t stun_message_type(StunMethod method, StunClass cls) {
  uint16_t m = uint16_t(method) & 0x0fff;
  uint16_t c = uint16_t(cls);
  return uint16_t((m & 0x000f) | (m & 0x0070) << 1 | (m & 0x0f80) << 2 | (c & 1) << 4 | (c & 2) << 7);
}
// The method bits of a message type.
constexpr StunMethod stun_method_of(uint16_t type) {
  return StunMethod((type & 0x000f) | (type & 0x00e0) >> 1 | (type & 0x3e00) >> 2);
}
// The class bits of a message type.
constexpr StunClass stun_class_of(uint16_t type) { return StunClass((type >> 4 & 1) | (type >> 7 & 2)); }

// True for types 0x0000-0x7FFF, which a receiver must understand (§14).
constexpr bool is_comprehension_required(StunAttr type) { return uint16_t(type) < 0x8000; }

// True if this codec interprets the comprehension-required attribute
// `type` (it has a getter or is MESSAGE-INTEGRITY*). A request carrying any
// other comprehension-required attribute gets a 420 (§6.3.1.1).
bool is_understood(StunAttr type);

// ERROR-CODE value, RFC 8489 §14.8: code = class * 100 + number, 300..699.
struct StunErrorCode {
  uint16_t code = 0;
  std::string_view reason;  // UTF-8, points into the message
};

// UNKNOWN-ATTRIBUTES value (§14.13): a list of 16-bit types, read on access.
struct StunAttrList {
  Bytes raw;  // 2 bytes per entry
  size_t size() const { return raw.size() / 2; }
  // Precondition: i < size().
  StunAttr operator[](size_t i) const { return StunAttr(load_be16(&raw[2 * i])); }
};

// One attribute TLV: the type and its value without padding.
struct StunAttribute {
  StunAttr type;
  Bytes value;
};

// Forward iteration over the TLVs of an already validated message.
class StunAttributeIterator {
 public:
  StunAttributeIterator(const uint8_t* pos, const uint8_t* end) : pos_(pos), end_(end) {}
  StunAttribute operator*() const;
  StunAttributeIterator& operator++();
  bool operator==(const StunAttributeIterator& o) const { return pos_ == o.pos_; }

 private:
  const uint8_t* pos_;
  const uint8_t* end_;
};

struct StunAttributeRange {
  StunAttributeIterator b, e;
  StunAttributeIterator begin() const { return b; }
  StunAttributeIterator end() const { return e; }
};

class StunView;

// Parses and validates one STUN message that fills `packet` exactly (a UDP
// datagram or one RFC 4571 frame). Checks, in order (the error returned):
//   fewer than 20 bytes                                     truncated
//   first two bits not zero (not STUN)                      bad_type
//   Message Length not a multiple of 4                      bad_length
//   magic cookie is not 0x2112A442 (RFC 3489 or not STUN)   bad_version
//   Message Length beyond the data                          truncated
//   bytes left after Message Length                         bad_length
//   an attribute's header or padded value overruns          bad_length
//   MESSAGE-INTEGRITY(-SHA256) / FINGERPRINT of bad length  bad_extension
//   any attribute after FINGERPRINT (§14.7: must be last)   bad_extension
//   FINGERPRINT value differs from the CRC                  bad_checksum
// MESSAGE-INTEGRITY is *not* checked here (the key depends on USERNAME):
// call check_integrity. Attributes after MESSAGE-INTEGRITY other than
// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored (§14.5, §14.6).
// Unknown comprehension-required attributes do not fail the parse; see
// StunView::unknown_required. The view borrows `packet`. No allocation.
Result<StunView, ParseError> parse_stun(Bytes packet);

// Cheap pre-check for demultiplexing (first bits, cookie, length fits);
// parse_stun does the real validation.
bool looks_like_stun(Bytes packet);

// A validated STUN message. Borrows the bytes given to parse_stun; cheap to
// copy. "Visible" attributes are those the receiver must process: the ones
// before the first MESSAGE-INTEGRITY / MESSAGE-INTEGRITY-SHA256 / FINGERPRINT.
// Only a view returned by parse_stun may be read; a default-constructed one
// is a placeholder.
class StunView {
 public:
  // The whole message, header included.
  Bytes bytes() const { return msg_; }
  uint16_t message_type() const { return load_be16(msg_.data()); }
  StunMethod method() const { return stun_method_of(message_type()); }
  StunClass message_class() const { return stun_class_of(message_type()); }
  // The 12 transaction-id bytes, as a view and as a value.
  Bytes transaction_id_bytes() const { return msg_.subspan(8, kStunTransactionIdSize); }
  TransactionId transaction_id() const;

  // Visible attributes in wire order (duplicates included).
  StunAttributeRange attributes() const;
  // Value of the first visible attribute of `type` (§14: only the first
  // occurrence needs processing); nullopt if absent. For MESSAGE-INTEGRITY,
  // MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, the value of the one that
  // counts (see has_integrity etc.). Linear scan, no heap.
  std::optional<Bytes> find(StunAttr type) const;
  // The first visible comprehension-required attribute this codec does not
  // understand (see is_understood); a request with one deserves a 420.
  std::optional<StunAttr> unknown_required() const;

  bool has_integrity() const { return integrity_at_ != 0; }
  bool has_integrity_sha256() const { return integrity_sha256_at_ != 0; }
  bool has_fingerprint() const { return fingerprint_at_ != 0; }
  // Offsets of those attributes' TLV headers within bytes(); 0 if absent.
  size_t integrity_offset() const { return integrity_at_; }
  size_t integrity_sha256_offset() const { return integrity_sha256_at_; }
  size_t fingerprint_offset() const { return fingerprint_at_; }

  // Typed getters. Each returns nullopt (or false) when the attribute is
  // absent *or* its value is malformed for its type (wrong length, unknown
  // address family, text over 763 bytes, error class outside 3..6).
  std::optional<std::string_view> username() const;        // §14.3
  std::optional<Address> xor_mapped_address() const;       // §14.2
  std::optional<Address> mapped_address() const;           // §14.1
  std::optional<uint32_t> priority() const;                // RFC 8445 §7.1.1
  bool use_candidate() const;                              // RFC 8445 §7.1.2 (flag)
  std::optional<uint64_t> ice_controlling() const;         // tie-breaker, §7.1.3
  std::optional<uint64_t> ice_controlled() const;          // tie-breaker, §7.1.3
  std::optional<StunErrorCode> error_code() const;         // §14.8
  std::optional<StunAttrList> unknown_attributes() const;  // §14.13
  std::optional<std::string_view> software() const;        // §14.14
  std::optional<std::string_view> realm() const;           // §14.9
  std::optional<std::string_view> nonce() const;           // §14.10

 private:
  friend Result<StunView, ParseError> parse_stun(Bytes packet);
  std::optional<std::string_view> text(StunAttr type) const;
  std::optional<Address> address(StunAttr type, bool xored) const;

  Bytes msg_;
  uint32_t visible_end_ = 0;  // offset where visible attributes stop
  uint32_t integrity_at_ = 0;
  uint32_t integrity_sha256_at_ = 0;
  uint32_t fingerprint_at_ = 0;
  uint16_t unknown_required_ = 0;
  bool has_unknown_required_ = false;
};

// Decodes a (XOR-)MAPPED-ADDRESS value (§14.1, §14.2). `xor_key` is the
// message's bytes 4..19 (cookie ‖ transaction id) for XOR-MAPPED-ADDRESS,
// empty for MAPPED-ADDRESS. nullopt on a bad family or length.
std::optional<Address> decode_stun_address(Bytes value, Bytes xor_key);

}  // namespace sfu::ice
