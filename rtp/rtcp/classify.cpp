#include "rtp/rtcp/classify.hpp"

#include "rtp/rtcp/remb.hpp"

namespace sfu::rtp::rtcp {

MessageKind classify(const PacketView& p) {
  switch (p.type) {
    case pt::kSenderReport: return MessageKind::sender_report;
    case pt::kReceiverReport: return MessageKind::receiver_report;
    case pt::kSdes: return MessageKind::sdes;
    case pt::kBye: return MessageKind::bye;
    case pt::kApp: return MessageKind::app;
    case pt::kRtpFeedback:
      if (p.count == fmt::kNack) return MessageKind::nack;
      if (p.count == fmt::kTransportCc) return MessageKind::transport_cc;
      return MessageKind::other_rtpfb;
    case pt::kPsFeedback:
      if (p.count == fmt::kPli) return MessageKind::pli;
      if (p.count == fmt::kFir) return MessageKind::fir;
      if (is_remb(p)) return MessageKind::remb;
      return MessageKind::other_psfb;
    default: return MessageKind::unknown;
  }
}

std::string_view to_string(MessageKind k) {
  switch (k) {
    case MessageKind::sender_report: return "sender_report";
    case MessageKind::receiver_report: return "receiver_report";
    case MessageKind::sdes: return "sdes";
    case MessageKind::bye: return "bye";
    case MessageKind::app: return "app";
    case MessageKind::nack: return "nack";
    case MessageKind::transport_cc: return "transport_cc";
    case MessageKind::pli: return "pli";
    case MessageKind::fir: return "fir";
    case MessageKind::remb: return "remb";
    case MessageKind::other_rtpfb: return "other_rtpfb";
    case MessageKind::other_psfb: return "other_psfb";
    case MessageKind::unknown: return "unknown";
    case MessageKind::count_: break;
  }
  return "invalid";
}

}  // namespace sfu::rtp::rtcp
