// SerialMapper: renumbers one wrapping input counter (RTP sequence numbers,
// VP8 PictureIDs) into a continuous output counter for a forwarded stream.
//
// The forwarder sees the input as a series of epochs (one per forwarded
// layer run: start, layer switch, resume, source restart). Within an epoch:
//
//   out = in + offset + removed(in, highest]          (mod 2^bits)
//
// where `offset` is fixed when the epoch starts (its first number maps to
// last_out + 1, so epochs join without a hole) and then decreases by one for
// every input number the forwarder drops as the newest packet (temporal
// filtering), so dropped numbers leave no hole. An input number that never
// arrived keeps its output slot: the receiver sees the gap and NACKs it, and
// if the packet arrives late it lands exactly in that slot. removed(...)
// counts the dropped numbers above a late packet, so late packets get the
// number they would have got in order.
//
// Numbers are tracked in a ring of N slots behind the highest input number:
//
//   missing    not received; output slot reserved (a gap the receiver NACKs)
//   forwarded  received and numbered
//   dropped    received and dropped as newest; slot removed from the output
//   hole       received late and dropped; its reserved slot stays a gap
//   absorbed   not received but known to belong to a dropped frame; removed
//
// Rules at the edges: a number older than the epoch start or more than N-1
// behind the highest is stale (never renumbered: its slot is unknowable);
// a jump of N or more forward, or more than `max_misorder` back, restarts
// the numbering at last_out + 1 (the stream jumped; a gap that large is not
// worth NACKing). Header-only template: N is a compile-time capacity.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace sfu::server::media {

enum class SerialOrder : uint8_t {
  first,      // starts (or restarts) the numbering
  newest,     // ahead of every number seen in the epoch
  late,       // behind the highest, not seen before
  duplicate,  // already seen (or equal to the highest)
  stale,      // too old to place
};

enum class SerialSlot : uint8_t { missing, forwarded, dropped, hole, absorbed };

// Where one input number falls; produced by locate(), consumed by
// forward()/drop() on the same mapper with no commit in between.
struct SerialPosition {
  SerialOrder order = SerialOrder::first;
  int64_t ext = 0;       // extended input number within the epoch
  uint32_t raw = 0;      // the input number as given
  int64_t gap = 0;       // newest: numbers skipped since the previous highest
  bool removed = false;  // late: its slot was absorbed, it cannot be numbered
};

// Signed distance a - b in a serial space of `mask + 1` numbers; the exact
// half-way case counts as behind.
constexpr int64_t serial_distance(uint32_t a, uint32_t b, uint32_t mask) {
  const uint32_t d = (a - b) & mask;
  const uint32_t half = (mask >> 1) + 1;
  return d >= half ? int64_t(d) - int64_t(mask) - 1 : int64_t(d);
}

template <size_t N>
class SerialMapper {
  static_assert(N >= 8 && (N & (N - 1)) == 0, "capacity must be a power of two");

 public:
  // `max_misorder`: how far behind the highest a number may fall before it
  // is taken as a stream restart rather than a late packet.
  explicit SerialMapper(int64_t max_misorder = 1 << 30) : max_misorder_(max_misorder) {}

  // Starts a new epoch in a `bits`-wide space (16: sequence numbers, 15 or
  // 7: VP8 PictureID). The next located number is `first`; the output keeps
  // counting from last_out().
  void begin(int bits) {
    mask_ = bits >= 32 ? 0xffffffffu : (uint32_t(1) << bits) - 1;
    started_ = false;
  }

  bool started() const { return started_; }
  bool has_out() const { return has_out_; }
  // The highest output number handed out so far (across epochs).
  uint32_t last_out() const { return last_out_; }
  uint32_t mask() const { return mask_; }

  // Classifies input number `in` without changing anything.
  SerialPosition locate(uint32_t in) const {
    in &= mask_;
    if (!started_) return {SerialOrder::first, in, in, 0, false};
    const int64_t d = serial_distance(in, highest_raw_, mask_);
    const int64_t ext = highest_ + d;
    if (d == 0) return {SerialOrder::duplicate, ext, in, 0, false};
    if (d >= int64_t(N) || -d > max_misorder_) return {SerialOrder::first, in, in, 0, false};
    if (d > 0) return {SerialOrder::newest, ext, in, d - 1, false};
    if (ext < first_ || -d >= int64_t(N)) return {SerialOrder::stale, ext, in, 0, false};
    const SerialSlot s = slot(ext);
    if (s == SerialSlot::forwarded || s == SerialSlot::dropped || s == SerialSlot::hole) {
      return {SerialOrder::duplicate, ext, in, 0, false};
    }
    return {SerialOrder::late, ext, in, 0, s == SerialSlot::absorbed};
  }

  // Numbers the packet at `pos` (first, newest or a late one that is not
  // removed) and returns its output number. With `absorb_gap` the numbers
  // skipped before a newest one are removed (they belong to dropped frames).
  uint32_t forward(const SerialPosition& pos, bool absorb_gap = false) {
    int64_t ext = pos.ext;
    if (pos.order == SerialOrder::first) ext = start(pos.raw);
    if (pos.order == SerialOrder::newest) advance(ext, pos.gap, absorb_gap);
    slot(ext) = SerialSlot::forwarded;
    const uint32_t out = uint32_t(ext + offset_ + removed_after(ext)) & mask_;
    if (pos.order != SerialOrder::late) {
      last_out_ = out;
      has_out_ = true;
    }
    return out;
  }

  // Drops the packet at `pos`. A first or newest number leaves no hole;
  // with `absorb_gap` the numbers skipped before it are removed too (they
  // belong to the same dropped frame). A late number keeps its gap unless
  // it was absorbed. Duplicates and stale numbers change nothing.
  void drop(const SerialPosition& pos, bool absorb_gap) {
    switch (pos.order) {
      case SerialOrder::first:
        slot(start(pos.raw)) = SerialSlot::dropped;
        --offset_;
        break;
      case SerialOrder::newest:
        advance(pos.ext, pos.gap, absorb_gap);
        slot(pos.ext) = SerialSlot::dropped;
        --offset_;
        break;
      case SerialOrder::late:
        slot(pos.ext) = pos.removed ? SerialSlot::dropped : SerialSlot::hole;
        break;
      case SerialOrder::duplicate:
      case SerialOrder::stale:
        break;
    }
  }

  // The output number of an already forwarded ext (from a duplicate
  // position); nullopt when that number was not forwarded.
  std::optional<uint32_t> out_of(int64_t ext) const {
    if (!started_ || ext > highest_ || highest_ - ext >= int64_t(N) || ext < first_) return std::nullopt;
    if (slot(ext) != SerialSlot::forwarded) return std::nullopt;
    return uint32_t(ext + offset_ + removed_after(ext)) & mask_;
  }

  // Best guess for a number that cannot be placed (stale): the current
  // epoch's offset applied to it.
  uint32_t approximate_out(uint32_t in) const { return uint32_t(int64_t(in & mask_) + offset_) & mask_; }

 private:
  SerialSlot& slot(int64_t ext) { return slots_[size_t(ext) & (N - 1)]; }
  SerialSlot slot(int64_t ext) const { return slots_[size_t(ext) & (N - 1)]; }

  // Opens the numbering at `raw` so that it maps to last_out + 1.
  int64_t start(uint32_t raw) {
    slots_.fill(SerialSlot::missing);
    started_ = true;
    first_ = highest_ = raw;
    highest_raw_ = raw;
    offset_ = has_out_ ? int64_t((last_out_ + 1) & mask_) - int64_t(raw) : 0;
    return raw;
  }

  // Moves the highest number to `ext`, marking the `gap` numbers skipped.
  void advance(int64_t ext, int64_t gap, bool absorb_gap) {
    const SerialSlot fill = absorb_gap ? SerialSlot::absorbed : SerialSlot::missing;
    for (int64_t e = highest_ + 1; e < ext; ++e) slot(e) = fill;
    if (absorb_gap) offset_ -= gap;
    highest_ = ext;
    highest_raw_ = uint32_t(ext) & mask_;
  }

  // Removed (dropped or absorbed) numbers in (ext, highest]. Only late
  // packets pay for this loop; the newest has nothing above it.
  int64_t removed_after(int64_t ext) const {
    int64_t n = 0;
    for (int64_t e = ext + 1; e <= highest_; ++e) {
      const SerialSlot s = slot(e);
      n += (s == SerialSlot::dropped || s == SerialSlot::absorbed) ? 1 : 0;
    }
    return n;
  }

  std::array<SerialSlot, N> slots_{};
  int64_t max_misorder_;
  int64_t first_ = 0;
  int64_t highest_ = 0;
  int64_t offset_ = 0;
  uint32_t highest_raw_ = 0;
  uint32_t mask_ = 0xffff;
  uint32_t last_out_ = 0;
  bool started_ = false;
  bool has_out_ = false;
};

}  // namespace sfu::server::media
