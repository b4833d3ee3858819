#include "server/rtcp_reports.hpp"

#include <array>
#include <chrono>

#include "rtp/ntp.hpp"
#include "rtp/rtcp/receiver_report.hpp"
#include "rtp/rtcp/sdes.hpp"
#include "rtp/rtcp/sender_report.hpp"

namespace sfu::server {

namespace rtcp = rtp::rtcp;

void append_receiver_reports(rtcp::CompoundBuilder& out, uint32_t ssrc, std::span<Producer* const> producers,
                             Instant now) {
  std::array<rtcp::ReportBlock, rtcp::kMaxReportBlocks> blocks{};
  size_t n = 0;
  for (Producer* p : producers) {
    for (int i = 0; i < p->layer_count() && n < blocks.size(); ++i)
      if (p->layer(i).stream && p->layer(i).packets > 0) blocks[n++] = p->layer(i).stream->make_report_block(now);
  }
  out.append(rtcp::ReceiverReport{ssrc, std::span<const rtcp::ReportBlock>(blocks.data(), n), {}});
  out.append(rtcp::CnameSdes{ssrc, kRtcpCname});
}

void append_sender_reports(rtcp::CompoundBuilder& out, uint32_t ssrc, std::span<const ReportedConsumer> consumers,
                           Instant now, uint64_t ntp_now) {
  for (const ReportedConsumer& rc : consumers) {
    Consumer& c = *rc.consumer;
    auto& st = c.stats();
    if (!st.sent_any) continue;
    const uint32_t clock = c.spec().codecs.empty() ? media::kVideoClockRate : c.spec().codecs[0].clock_rate;
    uint64_t ntp = ntp_now;
    const auto since_sent_us = std::chrono::duration_cast<microseconds>(now - st.last_sent_at).count();
    uint32_t rtp_ts = st.last_rtp_timestamp + uint32_t(since_sent_us * int64_t(clock) / 1000000);
    if (auto mapping = rc.producer ? publisher_clock(c, *rc.producer, now) : std::nullopt) {
      ntp = mapping->first;
      rtp_ts = mapping->second + st.timestamp_offset;
    }
    rtcp::SenderReport sr{c.spec().ssrc, {ntp, rtp_ts, uint32_t(st.packets), uint32_t(st.octets)}, {}, {}};
    if (!out.append(sr)) break;
    st.last_sr_compact = rtcp::compact_ntp(ntp);
    st.last_sr_sent_at = now;
  }
  if (out.size() == 0) out.append(rtcp::ReceiverReport{ssrc, {}, {}});
  out.append(rtcp::CnameSdes{ssrc, kRtcpCname});
}

std::optional<std::pair<uint64_t, uint32_t>> publisher_clock(const Consumer& c, const Producer& p, Instant now) {
  const int layer = c.forwarder().current_layers().spatial;
  if (layer < 0 || layer >= p.layer_count()) return std::nullopt;
  const auto& stream = p.layer(layer).stream;
  auto sr = stream ? stream->sr_mapping() : std::nullopt;
  if (!sr) return std::nullopt;
  const auto elapsed_us = std::chrono::duration_cast<microseconds>(now - sr->arrival).count();
  if (elapsed_us < 0 || elapsed_us > 60'000'000) return std::nullopt;  // stale: the publisher stopped sending SRs
  const uint64_t ntp = rtp::ntp_plus_micros(sr->ntp, elapsed_us);
  const uint32_t rtp = sr->rtp_ts + uint32_t(elapsed_us * int64_t(stream->clock_rate()) / 1000000);
  return std::make_pair(ntp, rtp);
}

}  // namespace sfu::server
