// The reasons a wire parser gives for refusing input. Shared by every
// protocol folder so that drop counters can be indexed by one enum.
#pragma once

#include <cstdint>
#include <string_view>

namespace sfu {

enum class ParseError : uint8_t {
  truncated,         // fewer bytes than a length field or fixed header needs
  bad_version,       // version bits are not the expected value
  bad_length,        // a length field is inconsistent with the data
  bad_padding,       // padding count is zero or larger than the payload
  bad_extension,     // a header extension block or element is malformed
  bad_value,         // a field holds a value the spec forbids
  bad_type,          // a type/format field names something this parser does not handle
  bad_checksum,      // CRC / FINGERPRINT mismatch
  bad_integrity,     // HMAC mismatch
  too_large,         // the result would not fit in the fixed capacity
  count_,            // number of reasons; keep last
};

constexpr std::string_view to_string(ParseError e) {
  switch (e) {
    case ParseError::truncated: return "truncated";
    case ParseError::bad_version: return "bad_version";
    case ParseError::bad_length: return "bad_length";
    case ParseError::bad_padding: return "bad_padding";
    case ParseError::bad_extension: return "bad_extension";
    case ParseError::bad_value: return "bad_value";
    case ParseError::bad_type: return "bad_type";
    case ParseError::bad_checksum: return "bad_checksum";
    case ParseError::bad_integrity: return "bad_integrity";
    case ParseError::too_large: return "too_large";
    case ParseError::count_: break;
  }
  return "unknown";
}

}  // namespace sfu
