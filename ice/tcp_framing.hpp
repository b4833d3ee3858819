// RFC 6544 §3 / RFC 4571 §2 framing for ICE-TCP: every STUN, DTLS, RTP or
// RTCP packet on a TCP connection is preceded by a 16-bit big-endian length.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// -----------------------------------------------------------------
// |             LENGTH            |  RTP or RTCP packet ...       |
// -----------------------------------------------------------------
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>

#include "common/bytes.hpp"

namespace sfu::ice {

// Reassembles framed packets from a TCP byte stream. Sans-IO: feed whatever
// the socket read with push(), then drain complete frames with next().
// Holds at most one partial frame (kMaxFrame + 2 bytes); no allocation.
class TcpDeframer {
 public:
  static constexpr size_t kMaxFrame = 0xffff;

  // Appends up to `data.size()` bytes and returns how many were taken: fewer
  // than offered when the internal buffer is full, in which case the caller
  // drains next() and pushes the rest. Never reads outside `data`.
  size_t push(Bytes data) {
    compact();
    const size_t n = std::min(data.size(), buf_.size() - end_);
    if (n) std::memcpy(buf_.data() + end_, data.data(), n);
    end_ += n;
    return n;
  }

  // The next complete frame's payload, or nullopt if none is buffered yet.
  // The span stays valid until the next push(). A zero-length frame is
  // returned as an empty span (the caller drops it as malformed).
  // The span is writable so that SRTP can unprotect in place.
  std::optional<MutBytes> next() {
    if (end_ - begin_ < 2) return std::nullopt;
    const size_t len = load_be16(&buf_[begin_]);
    if (end_ - begin_ < 2 + len) return std::nullopt;
    MutBytes frame(&buf_[begin_ + 2], len);
    begin_ += 2 + len;
    return frame;
  }

  size_t buffered() const { return end_ - begin_; }

 private:
  void compact() {
    if (begin_ == 0) return;
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }

  std::array<uint8_t, kMaxFrame + 2> buf_{};
  size_t begin_ = 0;
  size_t end_ = 0;
};

// Writes the 2-byte length prefix for a `len`-byte packet. Returns false for
// packets that cannot be framed (over 65535 bytes) or when `out` is short.
inline bool write_tcp_frame_header(MutBytes out, size_t len) {
  if (len > TcpDeframer::kMaxFrame || out.size() < 2) return false;
  store_be16(out.data(), uint16_t(len));
  return true;
}

}  // namespace sfu::ice
