// Internal to dtls/session.cpp: the datagram queues of a session and the
// untrusting walk over the DTLS records of one datagram.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "common/bytes.hpp"

namespace sfu::dtls::detail {

constexpr uint8_t kContentChangeCipherSpec = 20;  // RFC 5246 §6.2.1
constexpr uint8_t kContentHandshake = 22;
constexpr uint8_t kContentApplicationData = 23;
constexpr uint8_t kDtlsVersionMajor = 0xFE;  // DTLS 1.0 = 0xFEFF, DTLS 1.2 = 0xFEFD

// A fixed ring of owned byte buffers. Buffers grow to the largest datagram
// they have held and are reused, so steady-state traffic does not allocate.
class DatagramRing {
 public:
  explicit DatagramRing(size_t slots) : slots_(slots) {}

  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  void clear() { head_ = count_ = 0; }

  // Copies `data` into the next free slot; false when the ring is full.
  bool push(Bytes data) {
    if (count_ == slots_.size()) return false;
    Slot* slot = &slots_[(head_ + count_) % slots_.size()];
    if (slot->buf.size() < data.size()) slot->buf.resize(data.size());
    if (!data.empty()) std::memcpy(slot->buf.data(), data.data(), data.size());
    slot->len = data.size();
    ++count_;
    return true;
  }

  // Oldest entry; the span stays valid until its slot is refilled.
  std::optional<Bytes> pop() {
    if (count_ == 0) return std::nullopt;
    const Slot& slot = slots_[head_];
    head_ = (head_ + 1) % slots_.size();
    --count_;
    return Bytes(slot.buf.data(), slot.len);
  }

  Bytes at(size_t i) const {
    const Slot& slot = slots_[(head_ + i) % slots_.size()];
    return Bytes(slot.buf.data(), slot.len);
  }

 private:
  struct Slot {
    std::vector<uint8_t> buf;
    size_t len = 0;
  };
  std::vector<Slot> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
};

struct DatagramShape {
  bool well_formed = false;
  bool has_handshake = false;
};

// Walks the records of a datagram without trusting any length.
//
//   DTLS record header (RFC 6347 §4.1), 13 bytes, then `length` bytes:
//   +------+---------+-------+-----------------+--------+--------------
//   | type | version | epoch | sequence_number | length | fragment ...
//   |  1   |    2    |   2   |        6        |   2    |
//   +------+---------+-------+-----------------+--------+--------------
//   type: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data
inline DatagramShape inspect(Bytes datagram) {
  DatagramShape shape;
  if (datagram.empty()) return shape;
  ByteReader r(datagram);
  while (r.remaining() > 0) {
    uint8_t type = 0;
    uint16_t version = 0;
    uint16_t length = 0;
    if (!r.read_u8(type) || !r.read_u16(version) || !r.skip(8) || !r.read_u16(length) || !r.skip(length)) return shape;
    if (type < kContentChangeCipherSpec || type > kContentApplicationData || (version >> 8) != kDtlsVersionMajor)
      return shape;
    shape.has_handshake |= type == kContentHandshake;
  }
  shape.well_formed = true;
  return shape;
}

}  // namespace sfu::dtls::detail
