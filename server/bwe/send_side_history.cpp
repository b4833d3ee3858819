#include "server/bwe/send_side_history.hpp"

#include <algorithm>

#include "rtp/sequence.hpp"

namespace sfu::server::bwe {

// ---- AckedBitrateEstimator ---------------------------------------------------

void AckedBitrateEstimator::add(int64_t arrival_us, size_t bytes) {
  const int64_t bucket = arrival_us >= 0 ? arrival_us / kBucketUs : (arrival_us + 1) / kBucketUs - 1;
  if (packets_ == 0) {
    newest_bucket_ = bucket;
    first_arrival_us_ = latest_arrival_us_ = arrival_us;
  } else if (bucket > newest_bucket_) {
    // Zero the buckets the window slides over (all of them after a long gap).
    const int64_t steps = std::min<int64_t>(bucket - newest_bucket_, int64_t(kBuckets));
    for (int64_t i = 1; i <= steps; ++i) bytes_[size_t(newest_bucket_ + i) % kBuckets] = 0;
    newest_bucket_ = bucket;
  } else if (bucket <= newest_bucket_ - int64_t(kBuckets)) {
    return;  // before the window
  }
  bytes_[size_t(bucket) % kBuckets] += bytes;
  latest_arrival_us_ = std::max(latest_arrival_us_, arrival_us);
  first_arrival_us_ = std::min(first_arrival_us_, arrival_us);
  if (packets_ < 2) ++packets_;
}

std::optional<uint64_t> AckedBitrateEstimator::bitrate_bps() const {
  if (packets_ < 2) return std::nullopt;
  const int64_t window_start = std::max(first_arrival_us_, (newest_bucket_ - int64_t(kBuckets) + 1) * kBucketUs);
  const int64_t span_us = latest_arrival_us_ - window_start;
  if (span_us <= 0) return std::nullopt;
  uint64_t total = 0;
  for (uint64_t b : bytes_) total += b;
  return total * 8 * 1'000'000 / uint64_t(span_us);
}

// ---- SendSideHistory ---------------------------------------------------------

// Memory budget per subscriber transport (see the header): keep these small.
static_assert(sizeof(PacketResult) == 24);

SendSideHistory::SendSideHistory(uint16_t first_seq) : first_seq_(first_seq), next_seq_(first_seq) {}

uint16_t SendSideHistory::on_packet_sent(Instant send_time, size_t size, PacketFlags flags) {
  Entry& e = ring_[uint64_t(next_seq_) % kCapacity];
  e.send_us = to_micros(send_time);
  e.size = uint16_t(std::min<size_t>(size, UINT16_MAX));
  e.flags = uint8_t((flags.padding ? PacketResult::kPadding : 0) | (flags.rtx ? PacketResult::kRtx : 0));
  e.state = kSent;
  e.probe_cluster = flags.probe_cluster;
  return uint16_t(next_seq_++);
}

SendSideHistory::Entry* SendSideHistory::find(uint16_t seq, int64_t oldest_send_us) {
  if (next_seq_ == first_seq_) return nullptr;
  const int64_t last = next_seq_ - 1;
  const int64_t ext = last + rtp::seq_diff(seq, uint16_t(last));
  // Entries are written in sequence order, so the ring holds exactly the
  // last kCapacity sequence numbers handed out.
  if (ext > last || ext < first_seq_ || ext <= last - int64_t(kCapacity)) return nullptr;
  Entry& e = ring_[uint64_t(ext) % kCapacity];
  return e.send_us >= oldest_send_us ? &e : nullptr;
}

int64_t SendSideHistory::unwrap_arrival_base(const rtp::rtcp::TransportCcView& feedback) {
  // The reference time is 24 bits of 64 ms (wraps every ~12 days): extend it
  // so arrival times stay comparable across feedback packets.
  const uint32_t raw = feedback.reference_time_raw();
  if (!reference_) {
    reference_ = feedback.reference_time();
  } else {
    int64_t d = int64_t((raw - reference_raw_) & 0xffffff);
    if (d >= (int64_t(1) << 23)) d -= int64_t(1) << 24;
    *reference_ += d;
  }
  reference_raw_ = raw;
  // status.arrival_us is relative to reference_time_us(); add this offset.
  return *reference_ * rtp::rtcp::kTransportCcReferenceUnitUs - feedback.reference_time_us();
}

void SendSideHistory::record(const rtp::rtcp::TransportCcPacketStatus& status, Entry& e,
                             int64_t arrival_offset_us, FeedbackSummary& summary) {
  if (!status.received) {
    if (e.state != kSent) {
      ++summary.duplicates;  // received earlier, or its loss already counted
      return;
    }
    e.state = kLost;
    ++summary.lost;
    return;
  }
  if (e.state == kAcked) {
    ++summary.duplicates;
    return;
  }
  e.state = kAcked;
  const int64_t arrival = status.arrival_us + arrival_offset_us;
  acked_.add(arrival, e.size);
  ++summary.received_count;
  if (summary.received_count > kMaxResults) return;
  PacketResult& r = results_[summary.received_count - 1];
  r.send_us = e.send_us;
  r.arrival_us = arrival;
  r.size = e.size;
  r.seq = status.sequence;
  r.probe_cluster = e.probe_cluster;
  r.flags = e.flags;
}

FeedbackSummary SendSideHistory::on_feedback(Instant now, const rtp::rtcp::TransportCcView& feedback) {
  FeedbackSummary summary;
  const int64_t offset = unwrap_arrival_base(feedback);
  const int64_t oldest = to_micros(now - kMaxAge);
  for (auto it = feedback.begin(); it != feedback.end(); ++it) {
    Entry* e = find(it->sequence, oldest);
    if (!e) {
      ++summary.unknown;
      continue;
    }
    record(*it, *e, offset, summary);
  }
  const size_t n = std::min<size_t>(summary.received_count, kMaxResults);
  std::sort(results_.begin(), results_.begin() + ptrdiff_t(n), [](const PacketResult& a, const PacketResult& b) {
    return a.arrival_us != b.arrival_us ? a.arrival_us < b.arrival_us : a.send_us < b.send_us;
  });
  summary.received = std::span<const PacketResult>(results_.data(), n);
  return summary;
}

}  // namespace sfu::server::bwe
