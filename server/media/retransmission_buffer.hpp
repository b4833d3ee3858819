// The recent packets of one received RTP stream (one simulcast layer), kept
// so subscribers' NACKs can be answered (RFC 4585 §6.2.1, RFC 4588). A ring
// indexed by sequence number, preallocated: storing and looking up never
// allocate. Entries older than max_age or overwritten by a newer sequence
// number are gone.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"

namespace sfu::server::media {

struct RetransmissionBufferConfig {
  uint16_t slots = 512;           // power of two; about 1 s of the top layer at 2.5 Mbit/s
  uint16_t max_packet_size = 1280;  // larger packets are not kept (counted)
  Duration max_age = seconds(1);
};

class RetransmissionBuffer {
 public:
  explicit RetransmissionBuffer(RetransmissionBufferConfig config = {})
      : config_(config), slots_(config.slots), storage_(size_t(config.slots) * config.max_packet_size) {
    // The slot index is seq % slots: a power of two keeps that exact across the 16-bit wrap.
    if (config.slots == 0 || (config.slots & (config.slots - 1)) != 0) slots_.resize(512), config_.slots = 512;
    storage_.resize(size_t(config_.slots) * config_.max_packet_size);
  }

  // Copies the (plaintext) RTP packet with sequence number `seq`.
  void store(Instant now, uint16_t seq, Bytes packet) {
    if (packet.size() > config_.max_packet_size || packet.empty()) {
      ++too_large_;
      return;
    }
    Slot& s = slots_[seq % config_.slots];
    s.seq = seq;
    s.stored_at = now;
    s.length = uint16_t(packet.size());
    s.used = true;
    std::memcpy(data(seq), packet.data(), packet.size());
  }

  // The packet with `seq` if still held and younger than max_age. The span
  // stays valid until the next store() of a sequence number in the same slot.
  std::optional<Bytes> get(Instant now, uint16_t seq) const {
    const Slot& s = slots_[seq % config_.slots];
    if (!s.used || s.seq != seq || now - s.stored_at > config_.max_age) return std::nullopt;
    return Bytes(data(seq), s.length);
  }

  void clear() {
    for (auto& s : slots_) s.used = false;
  }
  uint64_t too_large() const { return too_large_; }

 private:
  struct Slot {
    uint16_t seq = 0;
    uint16_t length = 0;
    bool used = false;
    Instant stored_at{};
  };
  uint8_t* data(uint16_t seq) { return storage_.data() + size_t(seq % config_.slots) * config_.max_packet_size; }
  const uint8_t* data(uint16_t seq) const {
    return storage_.data() + size_t(seq % config_.slots) * config_.max_packet_size;
  }

  RetransmissionBufferConfig config_;
  std::vector<Slot> slots_;
  std::vector<uint8_t> storage_;
  uint64_t too_large_ = 0;
};

}  // namespace sfu::server::media
