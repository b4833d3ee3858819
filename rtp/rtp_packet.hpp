// RTP packets: the fixed header (RFC 3550 §5.1), the header extension block
// (RFC 3550 §5.3.1) in the one-byte and two-byte forms of RFC 8285, parsing
// into a non-owning view and serialising from a builder struct. Nothing here
// allocates.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |V=2|P|X|  CC   |M|     PT      |       sequence number         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                           timestamp                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |           synchronization source (SSRC) identifier            |
// +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
// |            contributing source (CSRC) identifiers             |
// |                             ....                              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      defined by profile       |           length              |  X=1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                header extension (length words)                |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                            payload                            |
// |                               +-------------------------------+
// |                               | padding ...   | padding count |  P=1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Extension elements (RFC 8285):
//   one-byte form, profile 0xBEDE (§4.2)   two-byte form, profile 0x100X (§4.3)
//   +-+-+-+-+-+-+-+-+                       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  ID   |  len  | data (len+1 bytes)    |       ID      |     length    | data
//   +-+-+-+-+-+-+-+-+                       +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ID 1..14; 0 = padding byte;             ID 1..255; 0 = padding byte;
//   15 = stop processing the block.         length 0..255 data bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"

namespace sfu::rtp {

inline constexpr uint8_t kRtpVersion = 2;
inline constexpr size_t kFixedHeaderSize = 12;
inline constexpr size_t kMaxCsrcs = 15;
inline constexpr uint16_t kOneByteProfile = 0xBEDE;  // RFC 8285 §4.2
inline constexpr uint16_t kTwoByteProfile = 0x1000;  // RFC 8285 §4.3, low 4 bits "appbits"
inline constexpr uint16_t kTwoByteProfileMask = 0xFFF0;
inline constexpr uint8_t kOneByteMaxId = 14;  // 15 is reserved (RFC 8285 §4.2)
inline constexpr size_t kOneByteMaxLength = 16;
inline constexpr size_t kTwoByteMaxLength = 255;
inline constexpr size_t kMaxHeaderExtensions = 16;  // capacity of RtpHeader

// Which element syntax the extension block uses.
enum class ExtensionForm : uint8_t {
  none,      // X = 0
  one_byte,  // profile 0xBEDE
  two_byte,  // profile 0x1000..0x100F
  other,     // some other profile: block kept raw, no element lookup
};

// One element of an RFC 8285 extension block. `value` points into the packet;
// `offset` is where the element's ID byte sits, counted from the packet start.
struct ExtensionElement {
  uint8_t id = 0;
  Bytes value;
  size_t offset = 0;
};

namespace detail {

enum class ExtensionStep : uint8_t { element, end, malformed };

// Reads the next element of `block` (the bytes after the 4-byte extension
// header) starting at `pos`, skipping padding bytes. On `element`, fills
// `out` (offset relative to the block) and moves `pos` past the element. On
// `end`, the block holds no further element: exhausted, or a one-byte ID 15
// (RFC 8285 §4.2: stop processing). A one-byte-form byte with ID 0 but a
// non-zero len is `malformed` (padding bytes are zero, RFC 8285 §4.1).
constexpr ExtensionStep next_extension(ExtensionForm form, Bytes block, size_t& pos, ExtensionElement& out) {
  const size_t n = block.size();
  const bool one = form == ExtensionForm::one_byte;
  if (!one && form != ExtensionForm::two_byte) return ExtensionStep::end;
  while (pos < n && block[pos] == 0) ++pos;  // padding, allowed anywhere
  if (pos >= n) return ExtensionStep::end;
  const uint8_t b = block[pos];
  size_t hdr = 2;
  size_t len = 0;
  if (one) {
    if ((b >> 4) == 0) return ExtensionStep::malformed;
    if ((b >> 4) == 15) return pos = n, ExtensionStep::end;
    hdr = 1;
    len = size_t(b & 0x0F) + 1;
  } else {
    if (n - pos < 2) return ExtensionStep::malformed;
    len = block[pos + 1];
  }
  if (len > n - pos - hdr) return ExtensionStep::malformed;
  out.id = one ? uint8_t(b >> 4) : b;
  out.value = block.subspan(pos + hdr, len);
  out.offset = pos;
  pos += hdr + len;
  return ExtensionStep::element;
}

}  // namespace detail

// Forward iterator over the elements of a validated extension block; ends at
// std::default_sentinel. Obtained from RtpView::extensions().
class ExtensionIterator {
 public:
  using value_type = ExtensionElement;
  using difference_type = std::ptrdiff_t;

  ExtensionIterator() = default;
  // `block` must have passed RtpView validation; `base` is the block's offset
  // in the packet, added to each element's offset.
  ExtensionIterator(ExtensionForm form, Bytes block, size_t base) : block_(block), base_(base), form_(form) {
    advance();
  }

  const ExtensionElement& operator*() const { return cur_; }
  const ExtensionElement* operator->() const { return &cur_; }
  ExtensionIterator& operator++() {
    advance();
    return *this;
  }
  ExtensionIterator operator++(int) {
    ExtensionIterator old = *this;
    advance();
    return old;
  }
  bool operator==(std::default_sentinel_t) const { return done_; }

 private:
  void advance() {
    done_ = detail::next_extension(form_, block_, pos_, cur_) != detail::ExtensionStep::element;
    cur_.offset += base_;
  }

  Bytes block_;
  size_t pos_ = 0;
  size_t base_ = 0;
  ExtensionElement cur_;
  ExtensionForm form_ = ExtensionForm::none;
  bool done_ = true;
};

// The elements of one packet's extension block, for range-for.
struct ExtensionRange {
  ExtensionIterator first;
  ExtensionIterator begin() const { return first; }
  std::default_sentinel_t end() const { return {}; }
};

// A parsed RTP packet: a window onto bytes it does not own. Every accessor is
// valid for any view returned by parse_rtp and reads the bytes live, so
// in-place rewrites (rtp_rewriter.hpp) show through. The bytes must outlive
// the view. A default-constructed view is empty and must not be queried.
class RtpView {
 public:
  RtpView() = default;

  uint8_t version() const { return packet_[0] >> 6; }
  bool has_padding() const { return (packet_[0] & 0x20) != 0; }
  bool has_extension() const { return (packet_[0] & 0x10) != 0; }
  uint8_t csrc_count() const { return packet_[0] & 0x0F; }
  bool marker() const { return (packet_[1] & 0x80) != 0; }
  uint8_t payload_type() const { return packet_[1] & 0x7F; }
  uint16_t sequence() const { return load_be16(&packet_[2]); }
  uint32_t timestamp() const { return load_be32(&packet_[4]); }
  uint32_t ssrc() const { return load_be32(&packet_[8]); }

  // The i-th CSRC; 0 when i >= csrc_count().
  uint32_t csrc(size_t i) const { return i < csrc_count() ? load_be32(&packet_[kFixedHeaderSize + 4 * i]) : 0; }

  // Extension block profile ("defined by profile"); 0 when X = 0.
  uint16_t extension_profile() const;
  ExtensionForm extension_form() const { return form_; }
  // The extension data after its 4-byte header (length * 4 bytes), any form.
  Bytes extension_block() const { return packet_.subspan(ext_offset_, ext_size_); }
  // Offset of extension_block() in the packet (0 when X = 0).
  size_t extension_block_offset() const { return ext_offset_; }

  // The value of the first element with local identifier `id`, or nullopt
  // when there is none, the id is out of range for the form (0, or > 14 in
  // the one-byte form) or the block is not RFC 8285. Does not allocate.
  std::optional<Bytes> extension(uint8_t id) const;
  // All elements in wire order, padding skipped, stopping at a one-byte ID 15.
  ExtensionRange extensions() const { return {ExtensionIterator(form_, extension_block(), ext_offset_)}; }

  // Fixed header + CSRCs + extension block: where the payload starts.
  size_t header_size() const { return header_size_; }
  // Payload between the header and the padding (possibly empty).
  Bytes payload() const { return packet_.subspan(header_size_, packet_.size() - header_size_ - padding_size_); }
  // Number of padding bytes including the count byte; 0 when P = 0.
  size_t padding_size() const { return padding_size_; }
  // The whole packet as given to parse_rtp.
  Bytes packet() const { return packet_; }

 private:
  friend Result<RtpView, ParseError> parse_rtp(Bytes data);

  Bytes packet_;
  uint32_t header_size_ = 0;
  uint32_t ext_offset_ = 0;
  uint32_t ext_size_ = 0;
  uint8_t padding_size_ = 0;
  ExtensionForm form_ = ExtensionForm::none;
};

// Parses one RTP packet (RFC 3550 §5.1). Validates everything an accessor
// could later trip over, so no lookup can fail afterwards:
//   truncated      fewer than 12 bytes, CSRC list or extension header
//                  beyond the data
//   bad_version    V != 2
//   bad_length     extension length field beyond the data
//   bad_extension  a one-byte/two-byte element overruns the block, or a
//                  one-byte ID-0 byte is not zero
//   bad_padding    P = 1 with a zero count or a count beyond the payload
// Blocks with other profiles are accepted and kept raw (ExtensionForm::other).
// Does not check that the data is RTP rather than RTCP (RFC 5761 demux is
// the caller's job). Never allocates.
Result<RtpView, ParseError> parse_rtp(Bytes data);

// One header extension to serialise: local id and value bytes (not owned).
struct RtpExtension {
  uint8_t id = 0;
  Bytes value;
};

// Builder for an RTP packet: fill the fields, then serialized_size() and
// serialize_to(). It writes the WHOLE packet: header, `payload`, then
// `padding_size` padding bytes. `payload` may already sit in the output
// buffer at offset header_size() (written in place by the caller); it is
// then left where it is (any overlap with `out` is handled). Extension
// values must not overlap `out`. Spans are not owned and must outlive the
// calls.
//
// The extension form is chosen automatically (RFC 8285 §4.2/§4.3): one-byte
// when every id is 1..14 and every value 1..16 bytes, else two-byte (or
// two-byte always with force_two_byte). No extensions, no block (X = 0).
struct RtpHeader {
  bool marker = false;
  uint8_t payload_type = 0;  // 0..127
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::array<uint32_t, kMaxCsrcs> csrcs{};
  uint8_t csrc_count = 0;
  std::array<RtpExtension, kMaxHeaderExtensions> extensions{};
  uint8_t extension_count = 0;
  bool force_two_byte = false;
  Bytes payload;
  uint8_t padding_size = 0;  // 0 = no padding, else total padding bytes incl. count

  // Builds a header reproducing `view`: fields, CSRCs, extensions (form kept),
  // payload and padding size; spans point into the view's bytes. Fails with
  // too_large when the view has more than kMaxHeaderExtensions elements and
  // bad_type when its extension block is not RFC 8285.
  static Result<RtpHeader, ParseError> from_view(const RtpView& view);

  // Appends a CSRC; false when 15 are already present.
  bool add_csrc(uint32_t csrc);
  // Appends an extension; false when full, id == 0 or value longer than 255.
  bool add_extension(uint8_t id, Bytes value);

  // True when the fields can be serialised (PT <= 127, counts within
  // capacity, every extension id 1..255 with at most 255 bytes).
  bool valid() const;
  // The form serialize_to() will use; none when extension_count == 0.
  ExtensionForm extension_form() const;
  // Bytes before the payload: fixed header, CSRCs, extension block.
  size_t header_size() const;
  // header_size() + payload + padding; 0 when !valid().
  size_t serialized_size() const;
  // Writes the packet into `out`; returns bytes written, or 0 (nothing
  // written) when !valid() or out is smaller than serialized_size().
  size_t serialize_to(MutBytes out) const;
};

}  // namespace sfu::rtp
