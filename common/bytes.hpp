// Byte spans and big-endian field access. Parsers read through ByteReader,
// which checks every access against the span; the load_/store_ functions are
// for code that has already checked the length (say so at the call site).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace sfu {

using Bytes = std::span<const uint8_t>;
using MutBytes = std::span<uint8_t>;

// Unchecked big-endian loads and stores: the caller guarantees p has room.
constexpr uint16_t load_be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
constexpr uint32_t load_be24(const uint8_t* p) { return uint32_t(p[0]) << 16 | uint32_t(p[1]) << 8 | p[2]; }
constexpr uint32_t load_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
constexpr uint64_t load_be64(const uint8_t* p) { return uint64_t(load_be32(p)) << 32 | load_be32(p + 4); }

constexpr void store_be16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
constexpr void store_be24(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 16);
  p[1] = uint8_t(v >> 8);
  p[2] = uint8_t(v);
}
constexpr void store_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}
constexpr void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, uint32_t(v >> 32));
  store_be32(p + 4, uint32_t(v));
}

// Sequential, bounds-checked reader over a span. Every read returns false
// (and leaves the output untouched) when the span is too short; once a read
// fails, ok() stays false so a chain of reads can be checked once at the end.
class ByteReader {
 public:
  constexpr explicit ByteReader(Bytes data) : data_(data) {}

  constexpr size_t position() const { return pos_; }
  constexpr size_t remaining() const { return data_.size() - pos_; }
  constexpr bool ok() const { return ok_; }
  constexpr Bytes rest() const { return data_.subspan(pos_); }

  constexpr bool read_u8(uint8_t& out) { return take(1) && (out = data_[pos_ - 1], true); }
  constexpr bool read_u16(uint16_t& out) { return take(2) && (out = load_be16(&data_[pos_ - 2]), true); }
  constexpr bool read_u24(uint32_t& out) { return take(3) && (out = load_be24(&data_[pos_ - 3]), true); }
  constexpr bool read_u32(uint32_t& out) { return take(4) && (out = load_be32(&data_[pos_ - 4]), true); }
  constexpr bool read_u64(uint64_t& out) { return take(8) && (out = load_be64(&data_[pos_ - 8]), true); }
  constexpr bool read_bytes(size_t n, Bytes& out) {
    if (!take(n)) return false;
    out = data_.subspan(pos_ - n, n);
    return true;
  }
  constexpr bool skip(size_t n) { return take(n); }

 private:
  constexpr bool take(size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }

  Bytes data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Sequential, bounds-checked writer into a caller-owned span. Writes past the
// end are refused and make ok() false; nothing is written out of bounds.
class ByteWriter {
 public:
  constexpr explicit ByteWriter(MutBytes out) : out_(out) {}

  constexpr size_t position() const { return pos_; }
  constexpr size_t remaining() const { return out_.size() - pos_; }
  constexpr bool ok() const { return ok_; }
  constexpr MutBytes written() const { return out_.first(pos_); }

  constexpr bool write_u8(uint8_t v) { return put(1) && (out_[pos_ - 1] = v, true); }
  constexpr bool write_u16(uint16_t v) { return put(2) && (store_be16(&out_[pos_ - 2], v), true); }
  constexpr bool write_u24(uint32_t v) { return put(3) && (store_be24(&out_[pos_ - 3], v), true); }
  constexpr bool write_u32(uint32_t v) { return put(4) && (store_be32(&out_[pos_ - 4], v), true); }
  constexpr bool write_u64(uint64_t v) { return put(8) && (store_be64(&out_[pos_ - 8], v), true); }
  bool write_bytes(Bytes b) {
    if (!put(b.size())) return false;
    if (!b.empty()) std::memcpy(&out_[pos_ - b.size()], b.data(), b.size());
    return true;
  }
  bool write_zeros(size_t n) {
    if (!put(n)) return false;
    if (n) std::memset(&out_[pos_ - n], 0, n);
    return true;
  }

 private:
  constexpr bool put(size_t n) {
    if (!ok_ || n > out_.size() - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }

  MutBytes out_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace sfu
