// Generic NACK, RFC 4585 §6.2.1: an RTPFB (PT=205) message with FMT=1 whose
// FCI is one or more PID/BLP pairs after the feedback header (feedback.hpp).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |V=2|P|  FMT=1  |    PT=205     |          length               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of packet sender                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  SSRC of media source                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            PID                |             BLP               |  x N
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// PID is a lost sequence number; bit i of BLP (least significant = 0) says
// PID + i + 1 is lost too, modulo 2^16.
#pragma once

#include <cstdint>
#include <iterator>
#include <span>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/feedback.hpp"
#include "rtp/rtcp/packed_list.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

struct NackItem {
  static constexpr size_t kSize = 4;
  uint16_t pid = 0;  // packet ID: first lost sequence number
  uint16_t blp = 0;  // bitmask of following lost packets
  bool operator==(const NackItem&) const = default;
  // Decodes 4 bytes the caller has already bounds-checked.
  static constexpr NackItem decode(const uint8_t* p) { return {load_be16(p), load_be16(p + 2)}; }
};

using NackItems = PackedList<NackItem, NackItem::kSize, &NackItem::decode>;

// Every sequence number a list of NACK items reports lost, in FCI order:
// each PID, then its BLP bits from least significant up (wrapping at 2^16).
class LostPackets {
 public:
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = uint16_t;
    using difference_type = std::ptrdiff_t;
    using reference = uint16_t;

    iterator() = default;
    iterator(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) { load(); }
    uint16_t operator*() const { return uint16_t(item_.pid + k_); }
    iterator& operator++();
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const { return p_ == o.p_ && k_ == o.k_; }

   private:
    void load() {
      if (p_ != end_) item_ = NackItem::decode(p_);
    }
    const uint8_t* p_ = nullptr;
    const uint8_t* end_ = nullptr;
    NackItem item_;
    unsigned k_ = 0;  // offset from PID of the current sequence number (0..16)
  };

  LostPackets() = default;
  explicit LostPackets(NackItems items) : items_(items.bytes()) {}
  iterator begin() const { return iterator(items_.data(), items_.data() + items_.size()); }
  iterator end() const {
    const uint8_t* e = items_.data() + items_.size();
    return iterator(e, e);
  }

 private:
  Bytes items_;
};

// A parsed generic NACK. Borrows from the packet it was parsed from.
struct TransportLayerNackView {
  FeedbackHeader header;
  NackItems items;  // at least one

  // Every lost sequence number, decoded lazily.
  LostPackets lost_packets() const { return LostPackets(items); }

  // Parses p. Errors: bad_type unless PT=205 FMT=1; truncated if the body
  // lacks the two SSRCs; bad_length if the FCI is empty (§6.2.1 requires at
  // least one item) or not a whole number of 4-byte items.
  static Result<TransportLayerNackView, ParseError> parse(const PacketView& p);
};

// Packs lost sequence numbers into PID/BLP items one item at a time. Input
// is expected in ascending order modulo 2^16 (so 65534, 65535, 0, 1 share
// one item); duplicates are skipped; an out-of-order number starts a new
// item, so any input yields a correct, if longer, NACK.
class NackPacker {
 public:
  explicit NackPacker(std::span<const uint16_t> lost) : lost_(lost) {}
  // Sets `out` to the next item; false when the input is used up.
  bool next(NackItem& out);
  // Input numbers covered by the items returned so far.
  size_t consumed() const { return pos_; }

 private:
  std::span<const uint16_t> lost_;
  size_t pos_ = 0;
};

// Packs `lost` into at most out.size() items (see NackPacker). Returns the
// items written; NackPacker::consumed() tells how much input that covered.
struct NackPackResult {
  size_t items = 0;     // entries of out filled
  size_t consumed = 0;  // leading entries of lost covered by them
};
NackPackResult pack_nack_items(std::span<const uint16_t> lost, std::span<NackItem> out);

// A generic NACK to send. `items` is borrowed for the duration of
// serialize_to.
struct TransportLayerNack {
  static constexpr size_t kMaxItems = 0xffff - 2;  // what the length field can describe

  FeedbackHeader header;
  std::span<const NackItem> items;  // 1..kMaxItems

  // Bytes serialize_to will write (whole packet, header included).
  size_t serialized_size() const { return kHeaderSize + kFeedbackHeaderSize + items.size() * NackItem::kSize; }
  // Writes the packet. Returns the bytes written, or 0 when out is smaller
  // than serialized_size() or items is empty or too long.
  size_t serialize_to(MutBytes out) const;

  // Packs `lost` (see NackPacker) straight into a NACK in out, as many items
  // as fit. Returns the bytes written (0 if not even one item fits or lost is
  // empty) and sets *consumed to how many leading entries of lost it covers,
  // so the caller can send the rest in another packet.
  static size_t serialize_lost(FeedbackHeader header, std::span<const uint16_t> lost, MutBytes out,
                               size_t* consumed = nullptr);
};

}  // namespace sfu::rtp::rtcp
