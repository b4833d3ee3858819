// What a subscriber's RTCP asks of the router, read from one compound
// packet into typed items (sans-IO; the router answers them, router.cpp
// Router::on_subscriber_rtcp):
//   NACK (RFC 4585 §6.2.1)     → resend from the retransmission buffer (RTX)
//   PLI (§6.3.1), FIR (RFC 5104 §4.3.1) → a key frame request upstream
//   transport-cc, REMB          → the subscriber's send estimate
//   RR report blocks (RFC 3550 §6.4.2) → RTT, loss and jitter per consumer
// Items that do not parse, and other packet types, are skipped.
#pragma once

#include <cstdint>
#include <variant>

#include "common/bytes.hpp"
#include "rtp/rtcp/classify.hpp"
#include "rtp/rtcp/compound_builder.hpp"
#include "rtp/rtcp/full_intra_request.hpp"
#include "rtp/rtcp/picture_loss_indication.hpp"
#include "rtp/rtcp/receiver_report.hpp"
#include "rtp/rtcp/remb.hpp"
#include "rtp/rtcp/transport_cc.hpp"
#include "rtp/rtcp/transport_layer_nack.hpp"

namespace sfu::server {

struct NackRequest {
  rtp::rtcp::TransportLayerNackView nack;  // header.media_ssrc, lost_packets()
};
struct KeyframeRequest {
  uint32_t media_ssrc = 0;
  bool fir = false;  // else PLI
};
struct TransportCcReport {
  rtp::rtcp::TransportCcView feedback;
};
struct RembReport {
  uint64_t bitrate_bps = 0;
};
struct ReceptionReport {
  rtp::rtcp::ReportBlock block;
};
using SubscriberFeedback = std::variant<NackRequest, KeyframeRequest, TransportCcReport, RembReport, ReceptionReport>;

// Calls f(item) for each item of `compound`, in order. No allocation.
template <class F>
void for_each_subscriber_feedback(Bytes compound, F&& f) {
  namespace rtcp = rtp::rtcp;
  rtcp::CompoundReader reader(compound);
  while (auto p = reader.next()) {
    switch (rtcp::classify(*p)) {
      case rtcp::MessageKind::nack:
        if (auto v = rtcp::TransportLayerNackView::parse(*p)) f(SubscriberFeedback{NackRequest{*v}});
        break;
      case rtcp::MessageKind::pli:
        if (auto v = rtcp::PictureLossIndication::parse(*p)) f(SubscriberFeedback{KeyframeRequest{v->header.media_ssrc, false}});
        break;
      case rtcp::MessageKind::fir:
        if (auto v = rtcp::FullIntraRequestView::parse(*p); v && !v->entries.empty())
          f(SubscriberFeedback{KeyframeRequest{v->entries[0].ssrc, true}});
        break;
      case rtcp::MessageKind::transport_cc:
        if (auto v = rtcp::parse_transport_cc(*p)) f(SubscriberFeedback{TransportCcReport{*v}});
        break;
      case rtcp::MessageKind::remb:
        if (auto v = rtcp::RembView::parse(*p)) f(SubscriberFeedback{RembReport{v->bitrate_bps}});
        break;
      case rtcp::MessageKind::receiver_report:
        if (auto v = rtcp::ReceiverReportView::parse(*p))
          for (const auto& block : v->report_blocks) f(SubscriberFeedback{ReceptionReport{block}});
        break;
      default: break;
    }
  }
}

}  // namespace sfu::server
