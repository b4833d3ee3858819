// CRC-32 as used by the STUN FINGERPRINT attribute (RFC 8489 §14.7, which
// points at ITU-T V.42 / ISO-HDLC): reflected polynomial 0xEDB88320, initial
// value and final XOR 0xFFFFFFFF. Check value: crc32("123456789") ==
// 0xCBF43926. Table-driven (slice-by-8), no heap, no OpenSSL.
#pragma once

#include <cstdint>

#include "common/bytes.hpp"

namespace sfu::ice {

// CRC-32/ISO-HDLC of `data`.
uint32_t crc32(Bytes data);

// Continues a CRC over more data: crc32_update(crc32(a), b) == crc32(a ‖ b).
// `crc` is a finished value as returned by crc32 (0 for empty input).
uint32_t crc32_update(uint32_t crc, Bytes data);

}  // namespace sfu::ice
