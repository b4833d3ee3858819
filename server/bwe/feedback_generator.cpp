#include "server/bwe/feedback_generator.hpp"

#include <algorithm>

namespace sfu::server::bwe {

FeedbackGenerator::FeedbackGenerator(uint32_t sender_ssrc) {
  builder_.set_sender_ssrc(sender_ssrc);
  arrivals_.fill(kNotReceived);
}

void FeedbackGenerator::on_packet(Instant arrival, uint16_t transport_seq, uint32_t media_ssrc) {
  if (!media_ssrc_) media_ssrc_ = media_ssrc;
  on_packet(arrival, transport_seq);
}

void FeedbackGenerator::on_packet(Instant arrival, uint16_t transport_seq) {
  const int64_t seq = unwrapper_.unwrap(transport_seq);
  const int64_t us = to_micros(arrival);
  if (!started_) {
    started_ = true;
    oldest_ = highest_ = next_ = seq;
    slot(seq) = us;
  } else if (seq > highest_) {
    advance_to(seq);
    slot(seq) = us;
  } else if (seq >= oldest_) {
    if (slot(seq) != kNotReceived) {
      ++duplicates_;
      return;
    }
    slot(seq) = us;
    // Reordered: when already reported (as lost), re-report from here on.
    next_ = std::min(next_, seq);
  } else if (seq > highest_ - int64_t(kRingSize)) {
    record_older(seq, us);
  } else {
    ++too_old_;
    return;
  }
  note_pending(arrival);
}

void FeedbackGenerator::clear_range(int64_t from, int64_t to) {
  // Only the last kRingSize slots can matter; older ones are overwritten.
  for (int64_t s = std::max(from, to - int64_t(kRingSize)); s < to; ++s) slot(s) = kNotReceived;
}

void FeedbackGenerator::advance_to(int64_t seq) {
  clear_range(highest_ + 1, seq);
  highest_ = seq;
  if (highest_ - oldest_ >= int64_t(kRingSize)) oldest_ = highest_ - int64_t(kRingSize) + 1;
  // Sequence numbers that fell out of the ring unreported are forgotten.
  next_ = std::max(next_, oldest_);
}

void FeedbackGenerator::record_older(int64_t seq, int64_t arrival_us) {
  // Older than anything remembered but still within one ring of the highest:
  // extend the window down to it, the gap in between not received (yet).
  clear_range(seq + 1, oldest_);
  slot(seq) = arrival_us;
  oldest_ = seq;
  next_ = std::min(next_, seq);
}

void FeedbackGenerator::note_pending(Instant arrival) {
  if (pending_ == 0) first_pending_ = arrival;
  if (++pending_ == kEarlyPackets) early_due_ = arrival;
}

std::optional<Instant> FeedbackGenerator::poll_timeout() const {
  if (!started_ || next_ > highest_) return std::nullopt;
  if (continuation_) return *last_feedback_;
  if (pending_ >= kEarlyPackets) return early_due_;
  // At stream start wait one interval to batch; after a quiet period report
  // at once, then keep the 50 ms cadence.
  if (!last_feedback_) return first_pending_ + kInterval;
  return std::max(*last_feedback_ + kInterval, first_pending_);
}

int64_t FeedbackGenerator::window_base() const {
  // The builder's base must be a received packet. When the window starts
  // with a loss, start one earlier at the last packet of the previous
  // feedback (always a received one) so the loss is reported.
  if (slot(next_) == kNotReceived && next_ - 1 >= oldest_ && slot(next_ - 1) != kNotReceived) return next_ - 1;
  return next_;
}

size_t FeedbackGenerator::poll_feedback(Instant now, MutBytes out) {
  const auto due = poll_timeout();
  if (!due || now < *due) return 0;
  builder_.clear();
  builder_.set_media_ssrc(media_ssrc_.value_or(0));
  builder_.set_feedback_count(feedback_count_);
  int64_t seq = window_base();
  for (; seq <= highest_; ++seq) {
    const int64_t arrival = slot(seq);
    if (arrival == kNotReceived) continue;
    // Full (size, or a delta beyond ±8 s): the rest goes in the next packet.
    if (!builder_.add_received(uint16_t(seq), arrival)) break;
  }
  if (builder_.empty()) {  // cannot happen (highest_ is received); never spin
    next_ = highest_ + 1;
    pending_ = 0;
    return 0;
  }
  const size_t n = builder_.serialize_to(out);
  if (n == 0) return 0;
  next_ = seq;
  continuation_ = seq <= highest_;
  if (!continuation_) pending_ = 0;
  last_feedback_ = now;
  ++feedback_count_;
  ++feedback_sent_;
  return n;
}

}  // namespace sfu::server::bwe
