// The PictureID field that VP8 (RFC 7741 §4.2) and VP9 (RFC 9628 §4.2)
// share: one octet |M|7-bit id|, or with M set two octets |M|15-bit id|.
#pragma once

#include <cstdint>

#include "common/bytes.hpp"

namespace sfu::rtp::codecs {

inline constexpr uint8_t kPictureIdMBit = 0x80;

// Reads the field into d.has_picture_id / picture_id / picture_id_15bit.
// False (d partly set) when the span ends inside it.
template <class Descriptor>
bool read_picture_id(ByteReader& r, Descriptor& d) {
  uint8_t b = 0;
  if (!r.read_u8(b)) return false;
  d.has_picture_id = true;
  if (b & kPictureIdMBit) {
    uint8_t lo = 0;
    if (!r.read_u8(lo)) return false;
    d.picture_id_15bit = true;
    d.picture_id = uint16_t((b & 0x7f) << 8 | lo);
  } else {
    d.picture_id = b & 0x7f;
  }
  return true;
}

}  // namespace sfu::rtp::codecs
