// Appends RTCP packets one after another into a caller-owned buffer to form
// a compound datagram (RFC 3550 §6.1: SR or RR first, then SDES with CNAME,
// then anything else) or a reduced-size one (RFC 5506). The builder does not
// enforce the ordering; the caller chooses what goes in.
//
//   std::array<uint8_t, 1200> buf;
//   CompoundBuilder b(buf);
//   b.append(SenderReport{...});
//   b.append(CnameSdes{ssrc, cname});
//   if (b.ok()) send(b.data());
#pragma once

#include <concepts>
#include <cstddef>

#include "common/bytes.hpp"

namespace sfu::rtp::rtcp {

// Anything with the message builder shape: serialize_to(MutBytes) -> size_t.
template <class M>
concept RtcpMessage = requires(const M& m, MutBytes out) {
  { m.serialize_to(out) } -> std::convertible_to<size_t>;
};

class CompoundBuilder {
 public:
  // Writes into `out`, which must outlive the builder and its data().
  explicit CompoundBuilder(MutBytes out) : out_(out) {}

  // Serialises m after what is already there. Returns false, leaving data()
  // as it was and making ok() false, when m does not fit
  // or cannot be serialised; later appends still run, so check ok() once.
  template <RtcpMessage M>
  bool append(const M& m) {
    const size_t n = m.serialize_to(out_.subspan(size_));
    if (n == 0) {
      ok_ = false;
      return false;
    }
    size_ += n;
    return true;
  }

  // The bytes written so far (a whole number of packets).
  Bytes data() const { return Bytes(out_.data(), size_); }
  size_t size() const { return size_; }
  size_t remaining() const { return out_.size() - size_; }
  // False once any append failed.
  bool ok() const { return ok_; }
  // Starts over with an empty buffer.
  void clear() {
    size_ = 0;
    ok_ = true;
  }

 private:
  MutBytes out_;
  size_t size_ = 0;
  bool ok_ = true;
};

}  // namespace sfu::rtp::rtcp
