#include "server/media/nack_generator.hpp"

#include <algorithm>
#include <limits>

#include "rtp/rtcp/transport_layer_nack.hpp"

namespace sfu::server::media {

namespace {

int64_t micros_of(Duration d) { return std::chrono::duration_cast<microseconds>(d).count(); }

}  // namespace

NackGenerator::NackGenerator(NackConfig config) : config_(config), rtt_(config.initial_rtt) {
  config_.max_tracked = std::max<size_t>(config_.max_tracked, 1);
  entries_.resize(config_.max_tracked);  // the only allocation; never grown
}

void NackGenerator::on_packet(Instant now, uint16_t seq, bool is_keyframe_start, bool is_retransmission) {
  if (!started_) {
    started_ = true;
    highest_ = unwrapper_.unwrap(seq);
    if (is_keyframe_start) last_keyframe_ = highest_;
    return;
  }
  const int64_t ext = unwrapper_.peek(seq);
  const int64_t delta = ext - highest_;
  if (delta <= 0) {
    if (delta < -kMaxMisorder && !is_retransmission && !find(ext)) {
      // Far behind: a stray packet, or the sender restarted its numbering.
      // RFC 3550 §A.1: believe the restart only when the next packet follows.
      if (!restart_seq_ || seq != *restart_seq_) {
        restart_seq_ = uint16_t(seq + 1);
        return;
      }
      unrecovered_ += size_;
      size_ = 0;
      unwrapper_.reset();
      highest_ = unwrapper_.unwrap(seq);
      last_keyframe_.reset();
      restart_seq_.reset();
    } else {
      restart_seq_.reset();
      on_late(ext);
    }
  } else {
    restart_seq_.reset();
    unwrapper_.unwrap(seq);  // the reference follows the highest number only
    if (delta > 1) add_missing(now, highest_ + 1, ext - 1, is_keyframe_start);
    highest_ = ext;
  }
  if (is_keyframe_start) {
    // A decoder can restart here: any pending request is satisfied.
    last_keyframe_ = std::max(last_keyframe_.value_or(ext), ext);
    needs_keyframe_ = false;
  }
}

// Records [from, to] (extended, all above every tracked entry) as missing.
void NackGenerator::add_missing(Instant now, int64_t from, int64_t to, bool is_keyframe_start) {
  const size_t count = size_t(to - from + 1);
  if (count > config_.max_tracked || !make_room(count)) {
    // Too much to repair by NACK. The packet that revealed the gap starts a
    // keyframe itself: what came before is no longer needed.
    unrecovered_ += size_;
    size_ = 0;
    if (!is_keyframe_start) request_keyframe();
    return;
  }
  const int64_t now_us = to_micros(now);
  for (int64_t s = from; s <= to; ++s) entries_[size_++] = Entry{s, now_us, 0, 0};
}

// Makes room for `needed` more entries by dropping those older than the
// newest keyframe start; false if that is not enough.
bool NackGenerator::make_room(size_t needed) {
  if (size_ + needed <= config_.max_tracked) return true;
  if (!last_keyframe_) return false;
  const Entry* begin = entries_.data();
  const Entry* cut =
      std::lower_bound(begin, begin + size_, *last_keyframe_, [](const Entry& e, int64_t s) { return e.seq < s; });
  const size_t dropped = size_t(cut - begin);
  std::copy(entries_.begin() + std::ptrdiff_t(dropped), entries_.begin() + std::ptrdiff_t(size_), entries_.begin());
  size_ -= dropped;
  unrecovered_ += dropped;
  return size_ + needed <= config_.max_tracked;
}

void NackGenerator::request_keyframe() {
  if (!needs_keyframe_) ++keyframes_requested_;
  needs_keyframe_ = true;
}

NackGenerator::Entry* NackGenerator::find(int64_t ext) {
  Entry* begin = entries_.data();
  Entry* end = begin + size_;
  Entry* it = std::lower_bound(begin, end, ext, [](const Entry& e, int64_t s) { return e.seq < s; });
  return it != end && it->seq == ext ? it : nullptr;
}

// A number at or below the highest arrived: if it was missing, it is found.
void NackGenerator::on_late(int64_t ext) {
  Entry* e = find(ext);
  if (!e) return;  // a duplicate, or one we already gave up on
  if (e->retries > 0) {
    ++recovered_;
  } else {
    ++reordered_;
  }
  Entry* end = entries_.data() + size_;
  std::copy(e + 1, end, e);
  --size_;
}

int64_t NackGenerator::retry_interval_us() const {
  const int64_t by_rtt = int64_t(double(micros_of(rtt_)) * config_.rtt_factor);
  return std::max(by_rtt, micros_of(config_.min_retry_interval));
}

size_t NackGenerator::poll_nacks(Instant now, std::span<uint16_t> out) {
  const int64_t now_us = to_micros(now);
  const int64_t interval = retry_interval_us();
  const int64_t max_age = micros_of(config_.max_age);
  size_t kept = 0;
  size_t written = 0;
  for (size_t i = 0; i < size_; ++i) {
    Entry e = entries_[i];
    const bool due = e.retries == 0 || now_us - e.last_sent >= interval;
    if (now_us - e.missing_since > max_age || (due && e.retries >= config_.max_retries)) {
      ++unrecovered_;  // the last NACK had its chance; give up
      continue;
    }
    if (due && written < out.size()) {
      out[written++] = uint16_t(e.seq);
      ++e.retries;
      e.last_sent = now_us;
    }
    entries_[kept++] = e;
  }
  size_ = kept;
  nacks_sent_ += written;
  return written;
}

std::optional<Instant> NackGenerator::poll_timeout() const {
  if (size_ == 0) return std::nullopt;
  const int64_t interval = retry_interval_us();
  const int64_t max_age = micros_of(config_.max_age);
  int64_t earliest = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < size_; ++i) {
    const Entry& e = entries_[i];
    const int64_t due = e.retries == 0 ? e.missing_since : e.last_sent + interval;
    earliest = std::min({earliest, due, e.missing_since + max_age + 1});
  }
  return from_micros(earliest);
}

bool NackGenerator::poll_keyframe_request() {
  const bool pending = needs_keyframe_;
  needs_keyframe_ = false;
  return pending;
}

size_t write_nack(MutBytes out, uint32_t sender_ssrc, uint32_t media_ssrc, std::span<const uint16_t> lost,
                  size_t* consumed) {
  return rtp::rtcp::TransportLayerNack::serialize_lost({sender_ssrc, media_ssrc}, lost, out, consumed);
}

}  // namespace sfu::server::media
