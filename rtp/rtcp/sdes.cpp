#include "rtp/rtcp/sdes.hpp"


namespace sfu::rtp::rtcp {
namespace {

constexpr size_t round_up4(size_t n) { return (n + 3) / 4 * 4; }

std::string_view as_text(Bytes b) {
  // Byte-to-char view of UTF-8 text; no struct punning involved.
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

struct ChunkExtent {
  size_t items_size = 0;  // bytes of items after the SSRC, END excluded
  size_t total_size = 0;  // SSRC + items + END + padding
};

// Measures the chunk at the start of `rest` (RFC 3550 §6.5), checking every
// length on the way.
Result<ChunkExtent, ParseError> measure_chunk(Bytes rest) {
  if (rest.size() < 4) return fail(ParseError::bad_length);  // SC says a chunk is here
  size_t pos = 4;
  while (true) {
    if (pos >= rest.size()) return fail(ParseError::truncated);  // no END octet
    if (rest[pos] == sdes_type::kEnd) break;
    if (pos + 2 > rest.size()) return fail(ParseError::bad_length);  // length octet missing
    const size_t len = rest[pos + 1];
    if (pos + 2 + len > rest.size()) return fail(ParseError::bad_length);  // item overruns
    pos += 2 + len;
  }
  ChunkExtent e;
  e.items_size = pos - 4;
  e.total_size = round_up4(pos + 1);
  if (e.total_size > rest.size()) return fail(ParseError::truncated);
  for (size_t i = pos + 1; i < e.total_size; ++i) {
    if (rest[i] != 0) return fail(ParseError::bad_padding);
  }
  return e;
}

// Items bytes of a chunk (2 bytes of header per item), END excluded.
size_t items_size(std::span<const SdesItem> items) {
  size_t n = 0;
  for (const SdesItem& it : items) n += 2 + it.value.size();
  return n;
}

bool items_valid(std::span<const SdesItem> items) {
  for (const SdesItem& it : items) {
    if (it.type == sdes_type::kEnd || it.value.size() > kMaxSdesItemLength) return false;
  }
  return true;
}

size_t chunk_size(const SdesChunk& c) { return 4 + round_up4(items_size(c.items) + 1); }

// Writes one chunk into w: SSRC, items, END and null padding.
void write_chunk(ByteWriter& w, const SdesChunk& c) {
  const size_t start = w.position();
  w.write_u32(c.ssrc);
  for (const SdesItem& it : c.items) {
    w.write_u8(it.type);
    w.write_u8(uint8_t(it.value.size()));
    w.write_bytes(Bytes(reinterpret_cast<const uint8_t*>(it.value.data()), it.value.size()));
  }
  w.write_zeros(chunk_size(c) - (w.position() - start));  // END plus padding
}

}  // namespace

// ---- Parsing ----------------------------------------------------------------

SdesItem SdesItems::iterator::operator*() const {
  // settle() guarantees a whole item at the front.
  return SdesItem{rest_[0], as_text(rest_.subspan(2, rest_[1]))};
}

SdesItems::iterator& SdesItems::iterator::operator++() {
  rest_ = rest_.subspan(2 + size_t(rest_[1]));
  settle();
  return *this;
}

void SdesItems::iterator::settle() {
  if (rest_.size() < 2 || rest_[0] == sdes_type::kEnd || 2 + size_t(rest_[1]) > rest_.size()) rest_ = {};
}

std::optional<std::string_view> SdesChunkView::find(uint8_t type) const {
  for (SdesItem it : items) {
    if (it.type == type) return it.value;
  }
  return std::nullopt;
}

SdesChunkView SdesView::iterator::operator*() const {
  SdesChunkView c;
  auto e = measure_chunk(rest_);
  if (!e) return c;  // unreachable for a view made by parse()
  c.ssrc = load_be32(rest_.data());
  c.items = SdesItems(rest_.subspan(4, e->items_size));
  return c;
}

SdesView::iterator& SdesView::iterator::operator++() {
  auto e = measure_chunk(rest_);
  if (!e || left_ == 0) {
    left_ = 0;
    rest_ = {};
    return *this;
  }
  rest_ = rest_.subspan(e->total_size);
  --left_;
  return *this;
}

Result<SdesView, ParseError> SdesView::parse(const PacketView& p) {
  if (p.type != pt::kSdes) return fail(ParseError::bad_type);
  Bytes rest = p.body;
  for (size_t i = 0; i < p.count; ++i) {
    auto e = measure_chunk(rest);
    if (!e) return fail(e.error());
    rest = rest.subspan(e->total_size);
  }
  SdesView v;
  v.chunks_ = p.body.first(p.body.size() - rest.size());
  v.count_ = p.count;
  return v;
}

std::optional<std::string_view> SdesView::cname(uint32_t ssrc) const {
  for (SdesChunkView c : *this) {
    if (c.ssrc == ssrc) return c.cname();
  }
  return std::nullopt;
}

// ---- Building ---------------------------------------------------------------

size_t Sdes::serialized_size() const {
  size_t n = kHeaderSize;
  for (const SdesChunk& c : chunks) n += chunk_size(c);
  return n;
}

size_t Sdes::serialize_to(MutBytes out) const {
  if (chunks.size() > kMaxSdesChunks) return 0;
  for (const SdesChunk& c : chunks) {
    if (!items_valid(c.items)) return 0;
  }
  const size_t size = serialized_size();
  if (out.size() < size || !write_header(out, uint8_t(chunks.size()), pt::kSdes, size)) return 0;
  ByteWriter w(out.subspan(kHeaderSize, size - kHeaderSize));
  for (const SdesChunk& c : chunks) write_chunk(w, c);
  return w.ok() ? size : 0;
}

size_t CnameSdes::serialized_size() const {
  return kHeaderSize + 4 + round_up4(2 + cname.size() + 1);
}

size_t CnameSdes::serialize_to(MutBytes out) const {
  const SdesItem item{sdes_type::kCname, cname};
  const SdesChunk chunk{ssrc, std::span<const SdesItem>(&item, 1)};
  return Sdes{std::span<const SdesChunk>(&chunk, 1)}.serialize_to(out);
}

}  // namespace sfu::rtp::rtcp
