#include "rtp/rtcp/transport_layer_nack.hpp"

#include <algorithm>
#include <bit>

namespace sfu::rtp::rtcp {

LostPackets::iterator& LostPackets::iterator::operator++() {
  // BLP bit k-1 stands for PID + k; look for the next set bit above k.
  const unsigned rest = unsigned(item_.blp) >> k_;
  if (rest != 0) {
    k_ += 1 + unsigned(std::countr_zero(rest));
    return *this;
  }
  p_ += NackItem::kSize;
  k_ = 0;
  load();
  return *this;
}

Result<TransportLayerNackView, ParseError> TransportLayerNackView::parse(const PacketView& p) {
  auto fb = parse_feedback(p, pt::kRtpFeedback, fmt::kNack);
  if (!fb) return fail(fb.error());
  if (fb->fci.empty() || fb->fci.size() % NackItem::kSize != 0) return fail(ParseError::bad_length);
  TransportLayerNackView v;
  v.header = fb->header;
  v.items = NackItems(fb->fci);
  return v;
}

bool NackPacker::next(NackItem& out) {
  if (pos_ >= lost_.size()) return false;
  NackItem item{lost_[pos_++], 0};
  while (pos_ < lost_.size()) {
    const uint16_t d = uint16_t(lost_[pos_] - item.pid);  // wraps at 2^16
    if (d > 16) break;
    if (d != 0) item.blp = uint16_t(item.blp | (1u << (d - 1)));
    ++pos_;
  }
  out = item;
  return true;
}

NackPackResult pack_nack_items(std::span<const uint16_t> lost, std::span<NackItem> out) {
  NackPacker packer(lost);
  NackPackResult r;
  while (r.items < out.size() && packer.next(out[r.items])) ++r.items;
  r.consumed = packer.consumed();
  return r;
}

size_t TransportLayerNack::serialize_to(MutBytes out) const {
  const size_t size = serialized_size();
  if (items.empty() || items.size() > kMaxItems) return 0;
  if (!write_feedback_header(out, pt::kRtpFeedback, fmt::kNack, header, size)) return 0;
  uint8_t* p = out.data() + kHeaderSize + kFeedbackHeaderSize;  // size checked above
  for (const NackItem& it : items) {
    store_be16(p, it.pid);
    store_be16(p + 2, it.blp);
    p += NackItem::kSize;
  }
  return size;
}

size_t TransportLayerNack::serialize_lost(FeedbackHeader header, std::span<const uint16_t> lost, MutBytes out,
                                          size_t* consumed) {
  constexpr size_t kFixed = kHeaderSize + kFeedbackHeaderSize;
  const size_t room = out.size() < kFixed ? 0 : std::min((out.size() - kFixed) / NackItem::kSize, kMaxItems);
  NackPacker packer(lost);
  size_t n = 0;
  NackItem it;
  while (n < room && packer.next(it)) {
    uint8_t* p = out.data() + kFixed + n * NackItem::kSize;  // n < room keeps this inside out
    store_be16(p, it.pid);
    store_be16(p + 2, it.blp);
    ++n;
  }
  if (consumed) *consumed = n ? packer.consumed() : 0;
  if (n == 0) return 0;
  const size_t size = kFixed + n * NackItem::kSize;
  return write_feedback_header(out, pt::kRtpFeedback, fmt::kNack, header, size) ? size : 0;
}

}  // namespace sfu::rtp::rtcp
