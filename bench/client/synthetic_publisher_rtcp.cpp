#include <chrono>

#include "bench/client/synthetic_publisher.hpp"
#include "bench/client/synthetic_publisher_state.hpp"
#include "rtp/ntp.hpp"
#include "rtp/rtcp/classify.hpp"
#include "rtp/rtcp/compound_builder.hpp"
#include "rtp/rtcp/full_intra_request.hpp"
#include "rtp/rtcp/picture_loss_indication.hpp"
#include "rtp/rtcp/remb.hpp"
#include "rtp/rtcp/sdes.hpp"
#include "rtp/rtcp/sender_report.hpp"
#include "rtp/rtcp/transport_cc.hpp"
#include "rtp/rtcp/transport_layer_nack.hpp"

namespace sfu::client {

using namespace publisher_detail;  // NOLINT(google-build-using-namespace): the publisher's own constants

namespace {

// NTP time for steady-clock microseconds: the steady clock's zero is
// kNtpBaseSeconds after the NTP epoch (a simulation has no wall clock).
uint64_t ntp_from_micros(int64_t us) { return rtp::ntp_from_micros(us + int64_t(kNtpBaseSeconds) * 1'000'000); }

}  // namespace

// ---- RTCP out --------------------------------------------------------------------------

void SyntheticPublisher::snapshot_sender_report(Stream& s, Instant now) {
  const int64_t us = to_micros(now);
  const int64_t elapsed = to_micros(now) - to_micros(start_);
  s.sr.ntp_timestamp = ntp_from_micros(us);
  s.sr.rtp_timestamp = s.ts_base + uint32_t(uint64_t(elapsed) * s.clock_rate / 1'000'000);
  s.sr.packet_count = uint32_t(s.stats.packets);
  s.sr.octet_count = uint32_t(s.stats.payload_bytes);
  s.sr_pending = true;
}

std::optional<Bytes> SyntheticPublisher::poll_rtcp() {
  for (Stream& s : streams_) {
    if (!s.sr_pending) continue;
    s.sr_pending = false;
    rtp::rtcp::CompoundBuilder b(rtcp_buf_);
    b.append(rtp::rtcp::SenderReport{s.ssrc, s.sr, {}, {}});
    b.append(rtp::rtcp::CnameSdes{s.ssrc, config_.cname});
    if (!b.ok()) continue;
    ++s.stats.sender_reports;
    return b.data();
  }
  return std::nullopt;
}

// ---- RTCP in -------------------------------------------------------------------------------

void SyntheticPublisher::handle_rtcp(Instant now, Bytes compound) {
  ++counters_.rtcp_received;
  rtp::rtcp::CompoundReader reader(compound);
  while (auto p = reader.next()) dispatch_rtcp(now, *p);
  if (reader.error()) ++counters_.rtcp_malformed;
}

void SyntheticPublisher::dispatch_rtcp(Instant now, const rtp::rtcp::PacketView& p) {
  using rtp::rtcp::MessageKind;
  switch (rtp::rtcp::classify(p)) {
    case MessageKind::nack:
      if (auto v = rtp::rtcp::TransportLayerNackView::parse(p)) on_nack(now, *v);
      break;
    case MessageKind::pli:
      if (auto v = rtp::rtcp::PictureLossIndication::parse(p)) on_keyframe_request(v->header.media_ssrc, std::nullopt);
      break;
    case MessageKind::fir:
      if (auto v = rtp::rtcp::FullIntraRequestView::parse(p)) {
        for (const rtp::rtcp::FirEntry& e : v->entries) on_keyframe_request(e.ssrc, e.seq_nr);
      }
      break;
    case MessageKind::remb:
      if (auto v = rtp::rtcp::RembView::parse(p)) {
        ++counters_.remb;
        counters_.last_remb_bps = v->bitrate_bps;
      }
      break;
    case MessageKind::transport_cc:
      if (rtp::rtcp::parse_transport_cc(p)) ++counters_.transport_cc;
      break;
    case MessageKind::receiver_report:
      ++counters_.receiver_reports;
      break;
    default:
      break;
  }
}

SyntheticPublisher::Stream* SyntheticPublisher::find_stream(uint32_t ssrc) {
  for (Stream& s : streams_) {
    if (s.ssrc == ssrc) return &s;
  }
  return nullptr;
}

// Queues an RTX copy of every NACKed packet still in the history, unless it
// is already queued or was resent less than retransmit_min_interval ago.
void SyntheticPublisher::on_nack(Instant now, const rtp::rtcp::TransportLayerNackView& nack) {
  ++counters_.nacks;
  Stream* s = find_stream(nack.header.media_ssrc);
  if (!s) {
    ++counters_.unknown_ssrc_feedback;
    return;
  }
  const int64_t now_us = to_micros(now);
  const int64_t max_age = std::chrono::duration_cast<microseconds>(config_.history).count();
  const int64_t min_gap = std::chrono::duration_cast<microseconds>(config_.retransmit_min_interval).count();
  for (const uint16_t seq : nack.lost_packets()) {
    ++s->stats.nacked;
    Record& r = s->history[seq & (s->history.size() - 1)];
    if (s->rtx_ssrc == 0 || !r.valid || r.seq != seq || now_us - r.send_us > max_age) {
      ++s->stats.nack_misses;
      continue;
    }
    if (r.rtx_queued || now_us - r.last_rtx_us < min_gap) continue;
    r.rtx_queued = true;
    r.last_rtx_us = now_us;
    rtx_queue_.push({uint8_t(s - streams_.data()), seq});
  }
}

// PLI (no fir_seq) or one FIR entry: the layer's next frame is a key frame.
// A FIR repeating the last command sequence number is a retransmission of a
// request already served (RFC 5104 §4.3.1.2).
void SyntheticPublisher::on_keyframe_request(uint32_t media_ssrc, std::optional<uint8_t> fir_seq) {
  Stream* s = find_stream(media_ssrc);
  if (!s) {
    ++counters_.unknown_ssrc_feedback;
    return;
  }
  if (fir_seq) {
    if (s->last_fir_seq == fir_seq) return;
    s->last_fir_seq = fir_seq;
    ++s->stats.firs;
  } else {
    ++s->stats.plis;
  }
  if (!s->audio) s->force_keyframe = true;
}

}  // namespace sfu::client
