// Source description (SDES), RFC 3550 §6.5:
//
//         0                   1                   2                   3
//         0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//        +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// header |V=2|P|    SC   |  PT=SDES=202  |             length            |
//        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
// chunk  |                          SSRC/CSRC_1                          |
//   1    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//        |                           SDES items                          |
//        |                              ...                              |
//        +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
// chunk  |                          SSRC/CSRC_2                          |
//   2    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//        :                              ...                              :
//
// Each item is type (8 bits), length (8 bits), then `length` octets of
// UTF-8 text, unaligned. RFC 3550 §6.5: a chunk's item list ends with one or
// more null octets, the first read as item type 0 (END) with no length
// octet, the rest padding up to the next 32-bit boundary; chunks start on a
// 32-bit boundary.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |    CNAME=1    |     length    | user and domain name        ...
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "rtp/rtcp/rtcp_header.hpp"

namespace sfu::rtp::rtcp {

// SDES item types, RFC 3550 §6.5.
namespace sdes_type {
inline constexpr uint8_t kEnd = 0;
inline constexpr uint8_t kCname = 1;
inline constexpr uint8_t kName = 2;
inline constexpr uint8_t kEmail = 3;
inline constexpr uint8_t kPhone = 4;
inline constexpr uint8_t kLoc = 5;
inline constexpr uint8_t kTool = 6;
inline constexpr uint8_t kNote = 7;
inline constexpr uint8_t kPriv = 8;
}  // namespace sdes_type

inline constexpr size_t kMaxSdesChunks = 31;      // SC is five bits
inline constexpr size_t kMaxSdesItemLength = 255;  // one length octet

// One item; `value` borrows from the packet (parse) or the caller (build).
struct SdesItem {
  uint8_t type = 0;
  std::string_view value;
  bool operator==(const SdesItem&) const = default;
};

// The items of one parsed chunk, in wire order, END excluded. The parser
// has checked them, so iteration stops at the END octet or the chunk's end.
class SdesItems {
 public:
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = SdesItem;
    using difference_type = std::ptrdiff_t;
    using reference = SdesItem;

    iterator() = default;
    explicit iterator(Bytes rest) : rest_(rest) { settle(); }
    SdesItem operator*() const;
    iterator& operator++();
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    // Same remaining length: meant for comparison with end() of the same list.
    bool operator==(const iterator& o) const { return rest_.size() == o.rest_.size(); }

   private:
    void settle();  // become end() at END or when no whole item is left
    Bytes rest_;
  };

  SdesItems() = default;
  // Views item bytes already checked by SdesView::parse (or a builder's).
  explicit SdesItems(Bytes items) : items_(items) {}
  iterator begin() const { return iterator(items_); }
  iterator end() const { return iterator(); }

 private:
  Bytes items_;
};

// One parsed chunk.
struct SdesChunkView {
  uint32_t ssrc = 0;
  SdesItems items;
  // The value of the first item of `type`, if any.
  std::optional<std::string_view> find(uint8_t type) const;
  // The chunk's CNAME (RFC 3550 §6.5.1), if any.
  std::optional<std::string_view> cname() const { return find(sdes_type::kCname); }
};

// A parsed SDES packet; the chunks were all validated by parse().
class SdesView {
 public:
  class iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = SdesChunkView;
    using difference_type = std::ptrdiff_t;
    using reference = SdesChunkView;

    iterator() = default;
    iterator(Bytes rest, size_t left) : rest_(rest), left_(left) {}
    SdesChunkView operator*() const;
    iterator& operator++();
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const { return left_ == o.left_; }

   private:
    Bytes rest_;
    size_t left_ = 0;
  };

  // Parses p. Errors: bad_type unless PT=202; bad_length if SC claims more
  // chunks than present or an item's length runs past the packet; truncated
  // if a chunk's item list ends without its END octet or padding;
  // bad_padding if the octets after END up to the 32-bit boundary are not
  // null. Bytes after the SC chunks are ignored.
  static Result<SdesView, ParseError> parse(const PacketView& p);

  // Number of chunks (SC).
  size_t size() const { return count_; }
  // Iterates the chunks in wire order.
  iterator begin() const { return iterator(chunks_, count_); }
  iterator end() const { return iterator({}, 0); }
  // The CNAME of the chunk for `ssrc`, if that chunk has one.
  std::optional<std::string_view> cname(uint32_t ssrc) const;

 private:
  Bytes chunks_;
  size_t count_ = 0;
};

// A chunk to send. Spans are borrowed for the duration of serialize_to.
struct SdesChunk {
  uint32_t ssrc = 0;
  std::span<const SdesItem> items;  // types 1..255, values up to 255 bytes
};

// An SDES packet to send.
struct Sdes {
  std::span<const SdesChunk> chunks;  // at most kMaxSdesChunks

  // Bytes serialize_to will write (whole packet, header included).
  size_t serialized_size() const;
  // Writes the packet. Returns the bytes written, or 0 when out is smaller
  // than serialized_size(), there are more than 31 chunks, an item has
  // type 0 or a value longer than 255 bytes.
  size_t serialize_to(MutBytes out) const;
};

// The SDES every compound carries (RFC 3550 §6.1): one chunk with a CNAME.
struct CnameSdes {
  uint32_t ssrc = 0;
  std::string_view cname;  // at most 255 bytes

  // Bytes serialize_to will write (whole packet, header included).
  size_t serialized_size() const;
  // Writes the packet. Returns the bytes written, or 0 when out is too small
  // or the CNAME is longer than 255 bytes.
  size_t serialize_to(MutBytes out) const;
};

}  // namespace sfu::rtp::rtcp
