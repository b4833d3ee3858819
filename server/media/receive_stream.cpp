#include "server/media/receive_stream.hpp"

#include <algorithm>
#include <limits>

#include "rtp/ntp.hpp"
#include "rtp/rtcp/sender_report.hpp"

namespace sfu::server::media {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

int64_t micros_of(Duration d) { return std::chrono::duration_cast<microseconds>(d).count(); }

// Floor division, so bucket indices stay monotone for times before the epoch.
int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

ReceiveStream::ReceiveStream(uint32_t ssrc, uint32_t clock_rate)
    : ssrc_(ssrc), clock_rate_(clock_rate == 0 ? 1 : clock_rate) {}

ArrivalKind ReceiveStream::on_packet(Instant arrival, uint16_t seq, uint32_t rtp_timestamp, size_t size,
                                     bool is_retransmission) {
  ++packets_;
  bytes_ += size;
  if (is_retransmission) ++retransmissions_;
  add_to_rate(arrival, size);

  if (!started_) {
    started_ = true;
    first_arrival_ = arrival;
    start_epoch(seq);
    if (!is_retransmission) update_jitter(arrival, rtp_timestamp);
    return ArrivalKind::newest;
  }
  ArrivalKind kind = ArrivalKind::newest;
  if (!track_sequence(seq, is_retransmission, kind)) return kind;
  // RFC 3550 §A.8 assumes the timestamp was stamped when the packet was
  // first sent; a repair's transit time says nothing about the network.
  if (!is_retransmission) update_jitter(arrival, rtp_timestamp);
  return kind;
}

// RFC 3550 §A.1 init_seq(): a new numbering epoch whose first packet is `seq`.
void ReceiveStream::start_epoch(uint16_t seq) {
  unwrapper_.reset();
  base_seq_ = max_seq_ = unwrapper_.unwrap(seq);
  received_ = 1;
  bad_seq_.reset();
  seen_.fill(0);
  mark_received(max_seq_);
}

// RFC 3550 §A.1 update_seq(), with the extended number taken relative to the
// highest one so far. Returns false when the packet must not count as
// received (duplicate or unconfirmed jump), with `kind` saying why.
bool ReceiveStream::track_sequence(uint16_t seq, bool is_retransmission, ArrivalKind& kind) {
  const int64_t ext = unwrapper_.peek(seq);
  const int64_t delta = ext - max_seq_;
  // A repair may legitimately be far behind; only fresh packets can signal
  // that the sender restarted its numbering.
  const bool jump = delta > kMaxDropout || (delta < -kMaxMisorder && !is_retransmission);
  if (jump) {
    if (!bad_seq_ || seq != *bad_seq_) {
      bad_seq_ = uint16_t(seq + 1);
      kind = ArrivalKind::suspect;
      return false;
    }
    // Two sequential packets: the sender restarted (§A.1). Keep what the old
    // epoch counted, start a new one at the previous (suspect) packet.
    prior_expected_ += expected_in_epoch();
    prior_received_ += received_;
    have_transit_ = false;
    start_epoch(uint16_t(seq - 1));
    return track_sequence(seq, is_retransmission, kind);
  }
  bad_seq_.reset();
  if (delta > 0) {
    advance_window(ext);
    unwrapper_.unwrap(seq);  // the reference follows the highest number only
    max_seq_ = ext;
    mark_received(ext);
    ++received_;
    kind = ArrivalKind::newest;
    return true;
  }
  kind = ArrivalKind::late;
  if (-delta >= int64_t(kDuplicateWindow)) return true;  // a repair too old to tell apart; not counted
  if (!mark_received(ext)) {
    ++duplicates_;
    kind = ArrivalKind::duplicate;
    return false;
  }
  // Reordered across the stream's first packet: it was expected after all.
  base_seq_ = std::min(base_seq_, ext);
  ++received_;
  return true;
}

// Sets the bit for `ext`; false if it was already set (a duplicate).
bool ReceiveStream::mark_received(int64_t ext) {
  const uint64_t bit = uint64_t(ext) & (kDuplicateWindow - 1);
  uint64_t& word = seen_[bit / 64];
  const uint64_t mask = uint64_t(1) << (bit % 64);
  if (word & mask) return false;
  word |= mask;
  return true;
}

// Forgets the bits of the numbers that slide out of the window as the
// highest number moves from max_seq_ to new_max.
void ReceiveStream::advance_window(int64_t new_max) {
  const int64_t step = new_max - max_seq_;
  if (step >= int64_t(kDuplicateWindow)) {
    seen_.fill(0);
    return;
  }
  for (int64_t s = max_seq_ + 1; s <= new_max; ++s) {
    const uint64_t bit = uint64_t(s) & (kDuplicateWindow - 1);
    seen_[bit / 64] &= ~(uint64_t(1) << (bit % 64));
  }
}

uint64_t ReceiveStream::expected_in_epoch() const { return uint64_t(max_seq_ - base_seq_ + 1); }

int64_t ReceiveStream::cumulative_lost() const {
  if (!started_) return 0;
  // RFC 3550 §A.3: lost = expected - received. Duplicates are not counted as
  // received (§6.4.1 allows either), so the figure tracks real loss.
  return int64_t(prior_expected_ + expected_in_epoch()) - int64_t(prior_received_ + received_);
}

// RFC 3550 §A.8, in the integer form of the appendix: jitter is kept scaled
// by 16 and J += |D| - J/16 (rounded).
void ReceiveStream::update_jitter(Instant arrival, uint32_t rtp_timestamp) {
  // Arrival time on the RTP clock, counted from the first packet. Split into
  // seconds and remainder so the product cannot overflow.
  const int64_t us = micros_of(arrival - first_arrival_);
  const int64_t rate = clock_rate_;
  const int64_t units = us / kMicrosPerSecond * rate + us % kMicrosPerSecond * rate / kMicrosPerSecond;
  const uint32_t transit = uint32_t(units) - rtp_timestamp;  // modulo 2^32, like the timestamps
  if (have_transit_) {
    int64_t d = int32_t(transit - last_transit_);
    if (d < 0) d = -d;
    jitter_q4_ += d - ((jitter_q4_ + 8) >> 4);
  }
  last_transit_ = transit;
  have_transit_ = true;
}

uint32_t ReceiveStream::jitter() const {
  return uint32_t(std::min<int64_t>(jitter_q4_ >> 4, std::numeric_limits<uint32_t>::max()));
}

void ReceiveStream::on_sender_report(Instant arrival, uint64_t ntp, uint32_t rtp_ts) {
  sr_ = SrMapping{ntp, rtp_ts, arrival};
}

rtp::rtcp::ReportBlock ReceiveStream::make_report_block(Instant now) {
  rtp::rtcp::ReportBlock b;
  b.ssrc = ssrc_;
  if (sr_) {
    // RFC 3550 §6.4.1: LSR is the middle 32 bits of the SR's NTP timestamp;
    // DLSR the time since it arrived, in units of 1/65536 s.
    b.last_sr = rtp::compact_ntp(sr_->ntp);
    b.delay_since_last_sr = rtp::to_compact_ntp_duration(now - sr_->arrival);
  }
  if (!started_) return b;

  // RFC 3550 §A.3: fraction lost over the interval since the last report.
  const uint64_t expected = prior_expected_ + expected_in_epoch();
  const uint64_t received = prior_received_ + received_;
  const int64_t expected_interval = int64_t(expected - expected_prior_);
  const int64_t lost_interval = expected_interval - int64_t(received - received_prior_);
  expected_prior_ = expected;
  received_prior_ = received;
  if (expected_interval > 0 && lost_interval > 0) {
    b.fraction_lost = uint8_t(std::min<int64_t>((lost_interval << 8) / expected_interval, 255));
  }
  const int64_t lost = int64_t(expected) - int64_t(received);
  b.cumulative_lost = int32_t(std::clamp<int64_t>(lost, rtp::rtcp::ReportBlock::kMinCumulativeLost,
                                                  rtp::rtcp::ReportBlock::kMaxCumulativeLost));
  b.extended_highest_seq = extended_highest_seq();
  b.jitter = jitter();
  return b;
}

void ReceiveStream::add_to_rate(Instant arrival, size_t size) {
  const int64_t index = floor_div(to_micros(arrival), micros_of(kRateBucket));
  RateBucket& bucket = rate_[size_t(uint64_t(index) % kRateBuckets)];
  if (bucket.index > index) return;  // the slot already holds a later bucket; arrival went backwards
  if (bucket.index != index) bucket = RateBucket{index, 0};
  bucket.bytes += size;
}

uint64_t ReceiveStream::bitrate_bps(Instant now) const {
  if (!started_) return 0;
  const int64_t bucket_us = micros_of(kRateBucket);
  const int64_t now_us = to_micros(now);
  const int64_t newest = floor_div(now_us, bucket_us);
  const int64_t oldest = newest - int64_t(kRateBuckets) + 1;
  uint64_t bytes = 0;
  for (const RateBucket& bucket : rate_) {
    if (bucket.index >= oldest && bucket.index <= newest) bytes += bucket.bytes;
  }
  // The counted bytes arrived in [start of the oldest bucket, now]; a young
  // stream's window starts at its first packet. At least one bucket wide so
  // the first packets do not read as a spike.
  const int64_t start = std::max(oldest * bucket_us, to_micros(first_arrival_));
  const int64_t span = std::max(now_us - start, bucket_us);
  return bytes * 8 * uint64_t(kMicrosPerSecond) / uint64_t(span);
}

}  // namespace sfu::server::media
