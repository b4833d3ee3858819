#include "server/transport_sender.hpp"

#include <array>
#include <cstring>

#include "rtp/header_extensions.hpp"
#include "rtp/rtp_rewriter.hpp"

namespace sfu::server {

namespace {

// Bytes a send slot keeps free behind the packet: ICE-TCP framing, the SRTP trailer.
constexpr size_t kReserve = 2 + dtls::SrtpSession::kMaxTrailer;

}  // namespace

TransportSender::TransportSender(TransportId id, PacketOutput& out, MutBytes scratch,
                                 bwe::BandwidthEstimator* estimator, RouterCounters& counters, const EventSink& sink)
    : id_(id), out_(out), scratch_(scratch), estimator_(estimator), counters_(counters), sink_(sink) {}

void TransportSender::attach(Transport* transport) {
  transport_ = transport;
  refresh();
}

void TransportSender::refresh() { path_ = transport_ ? transport_->send_path() : std::nullopt; }

MutBytes TransportSender::slot() { return path_->is_tcp() ? scratch_ : out_.send_buffer(); }

size_t TransportSender::send_media(Consumer& c, Instant now, const rtp::RtpView& in, const media::Rewrite& rw) {
  return send(c, now, in, rw, /*rtx=*/false, bwe::kNotProbe);
}

size_t TransportSender::send_retransmission(Consumer& c, Instant now, const rtp::RtpView& original,
                                            const media::Rewrite& rw, int16_t probe_cluster) {
  return send(c, now, original, rw, /*rtx=*/c.spec().rtx_ssrc != 0, probe_cluster);
}

// One pass into the slot: header, the subscriber's extensions with this
// packet's values, (RTX: the OSN), payload; then the codec's ids in place.
size_t TransportSender::send(Consumer& c, Instant now, const rtp::RtpView& in, const media::Rewrite& rw, bool rtx,
                             int16_t probe_cluster) {
  if (!connected() || !path_) return 0;
  const MutBytes buf = slot();
  const MutBytes room = buf.size() > kReserve ? buf.first(buf.size() - kReserve) : MutBytes{};
  // The subscriber's extensions (RFC 8285): the publisher's that it
  // negotiated (c.extension_map()), our send time and transport-wide seq
  // over the publisher's or added, and its MID on every packet (RFC 8843
  // §15: a receiver matches an unknown SSRC by MID). The transport-wide seq
  // is known once the length is: a placeholder, written below.
  const auto& ext = c.spec().extensions;
  static constexpr uint8_t kZeros[2] = {};
  std::array<uint8_t, 3> send_time{};
  rtp::ext::write_abs_send_time(send_time, rtp::ext::abs_send_time_from_instant(now));
  std::array<rtp::ExtensionToAdd, 3> set{};
  size_t n = 0, tw_index = set.size();
  if (ext.abs_send_time) set[n++] = {ext.abs_send_time, Bytes(send_time)};
  if (ext.transport_cc && estimator_) tw_index = n, set[n++] = {ext.transport_cc, Bytes(kZeros, 2)};
  if (ext.mid && !c.mid().empty()) set[n++] = {ext.mid, c.mid()};
  const rtp::OutgoingHeader header =
      rtx ? rtp::OutgoingHeader{c.spec().rtx_ssrc, c.rtx_sequence(), rw.timestamp,
                                c.rtx_payload_type_for(rw.payload_type), rw.marker}
          : rtp::OutgoingHeader{rw.ssrc, rw.sequence, rw.timestamp, rw.payload_type, rw.marker};
  const rtp::OutgoingLayout l = rtp::write_outgoing(in, c.extension_map(), std::span(set.data(), n), header,
                                                    rtx ? std::optional<uint16_t>(rw.sequence) : std::nullopt, room);
  if (l.length == 0) {
    ++counters_.send_failures;
    return 0;
  }
  (void)media::SimulcastForwarder::apply_to_payload(buf.subspan(l.payload_offset, l.payload_size), rw);
  if (estimator_) {
    const uint16_t tw =
        estimator_->on_packet_sent(now, l.length, bwe::PacketFlags{.rtx = rtx, .probe_cluster = probe_cluster});
    if (tw_index < set.size()) rtp::ext::write_transport_sequence(buf.subspan(l.set_at[tw_index], 2), tw);
  }
  if (rtx) {
    c.advance_rtx_sequence();
    ++c.stats().retransmissions;
    ++counters_.rtx_sent;
  } else {
    c.on_sent(now, rw, in.timestamp(), l.payload_size);
  }
  return finish(c, buf, l.length, now, /*media=*/!rtx);
}

// SRTP in place and the socket; the counters and the first-media event.
size_t TransportSender::finish(Consumer& c, MutBytes buf, size_t len, Instant now, bool media) {
  auto protected_len = transport_->protect_rtp(buf, len);
  if (!protected_len) {
    ++counters_.send_failures;
    return 0;
  }
  ++counters_.rtp_forwarded;
  if (media) {
    ++counters_.media_forwarded;
    if (!first_media_at_) {
      first_media_at_ = now;
      sink_(TransportFirstMediaEvent{c.transport()});
    }
  }
  if (path_->is_tcp()) out_.send(*path_, buf.first(*protected_len));
  else out_.commit_udp(*protected_len, path_->remote);
  return *protected_len;
}

// A payload-less RTX packet of kPaddingSize padding bytes (libwebrtc's
// padding when no media is left to resend; RFC 4588 §4 allows RTX padding,
// the receiver drops it after transport-cc has counted it). Needs the
// consumer's RTX SSRC.
size_t TransportSender::send_padding(Consumer& c, Instant now, int16_t probe_cluster) {
  constexpr uint8_t kPaddingSize = 255;
  if (!connected() || !path_ || !c.spec().rtx_ssrc || c.spec().codecs.empty()) return 0;
  const MutBytes buf = slot();
  rtp::RtpHeader h;
  h.payload_type = c.rtx_payload_type_for(c.spec().codecs[0].payload_type);
  h.sequence = c.rtx_sequence();
  h.timestamp = c.stats().last_rtp_timestamp;
  h.ssrc = c.spec().rtx_ssrc;
  h.padding_size = kPaddingSize;
  const auto& ext = c.spec().extensions;
  std::array<uint8_t, 3> send_time{};
  std::array<uint8_t, 2> tw{};
  rtp::ext::write_abs_send_time(send_time, rtp::ext::abs_send_time_from_instant(now));
  if (ext.abs_send_time) h.add_extension(ext.abs_send_time, Bytes(send_time));
  if (ext.transport_cc && estimator_) h.add_extension(ext.transport_cc, Bytes(tw));
  const size_t size = h.serialized_size();
  if (size == 0 || size + kReserve > buf.size()) return 0;
  if (estimator_) {
    const uint16_t seq = estimator_->on_packet_sent(now, size, bwe::PacketFlags{.rtx = true, .probe_cluster = probe_cluster});
    rtp::ext::write_transport_sequence(MutBytes(tw), seq);  // the extension's value points here
  }
  const size_t len = h.serialize_to(buf);
  if (len == 0) return 0;
  c.advance_rtx_sequence();
  ++counters_.padding_sent;
  return finish(c, buf, len, now, /*media=*/false);
}

bool TransportSender::send_rtcp(Bytes plain) {
  if (!connected() || !path_ || plain.empty() || plain.size() + kReserve > scratch_.size()) return false;
  std::memcpy(scratch_.data(), plain.data(), plain.size());
  auto n = transport_->protect_rtcp(scratch_, plain.size());
  if (!n) return false;
  ++counters_.rtcp_sent;
  out_.send(*path_, Bytes(scratch_).first(*n));
  return true;
}

}  // namespace sfu::server
