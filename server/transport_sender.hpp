// Everything a room's router sends on one transport (DESIGN.md "The packet
// path", step 5; server/README.md): media, RTX and padding to a subscriber,
// RTCP to anyone. The router decides what goes where; this object owns how:
// the transport pointer, its selected path, the send slot, the single-pass
// copy and rewrite, the send-side BWE record, SRTP and the socket.
//
// Per forwarded packet, no parse and no copy besides the one into the slot:
//   incoming view (parsed once on receive) + the forwarder's Rewrite
//     → rtp::write_outgoing: header fields, the subscriber's extension block
//       with this packet's send time and transport-wide seq, (RTX: the OSN),
//       payload — straight into the worker's send slot
//     → VP8 PictureID / TL0PICIDX in place (when the forwarder renumbers)
//     → Transport::protect_rtp in place → PacketOutput::commit_udp.
// Worker thread only; no allocation.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "common/bytes.hpp"
#include "common/time.hpp"
#include "ice/path.hpp"
#include "rtp/rtp_packet.hpp"
#include "server/bwe/bandwidth_estimator.hpp"
#include "server/consumer.hpp"
#include "server/packet_output.hpp"
#include "server/room_api.hpp"
#include "server/transport.hpp"
#include "server/worker_metrics.hpp"

namespace sfu::server {

class TransportSender {
 public:
  using EventSink = std::function<void(const MediaEvent&)>;

  // `estimator`: a subscriber's send-side estimator (nullptr on a
  // publisher's transport, which gets RTCP only). `scratch` serves RTCP and
  // ICE-TCP paths (kPacketBufferSize bytes); `counters` and `sink` are the
  // router's.
  TransportSender(TransportId id, PacketOutput& out, MutBytes scratch, bwe::BandwidthEstimator* estimator,
                  RouterCounters& counters, const EventSink& sink);

  TransportId id() const { return id_; }
  // The transport (owned by the TransportHost; nullptr until it exists).
  // The router calls refresh() on every event of the transport: the path
  // is cached from there (ICE changes it only inside a call whose events
  // the router gets before it sends again).
  void attach(Transport* transport);
  void refresh();
  Transport* transport() const { return transport_; }
  bool connected() const { return transport_ && transport_->state() == TransportState::connected; }
  // When the first media packet went out (TransportFirstMediaEvent).
  std::optional<Instant> first_media_at() const { return first_media_at_; }

  // The forwarder's decision for `in` (the publisher's packet as parsed on
  // receive, RTX already unwrapped): c's copy. Returns the bytes queued (0:
  // nothing sent, counted as a send failure where it was an error).
  size_t send_media(Consumer& c, Instant now, const rtp::RtpView& in, const media::Rewrite& rw);
  // A resend of `original` (from the retransmission buffer) rewritten as
  // first sent: on c's RTX stream (RFC 4588), or as is when c has none.
  size_t send_retransmission(Consumer& c, Instant now, const rtp::RtpView& original, const media::Rewrite& rw,
                             int16_t probe_cluster);
  // A payload-less RTX packet of padding for probe cluster `probe_cluster`.
  size_t send_padding(Consumer& c, Instant now, int16_t probe_cluster);
  // One compound RTCP packet, protected (SRTCP) on the transport's path.
  bool send_rtcp(Bytes plain);

 private:
  size_t send(Consumer& c, Instant now, const rtp::RtpView& in, const media::Rewrite& rw, bool rtx,
              int16_t probe_cluster);
  size_t finish(Consumer& c, MutBytes buf, size_t len, Instant now, bool media);
  MutBytes slot();

  TransportId id_;
  PacketOutput& out_;
  MutBytes scratch_;
  bwe::BandwidthEstimator* estimator_;
  RouterCounters& counters_;
  const EventSink& sink_;
  Transport* transport_ = nullptr;
  std::optional<ice::Path> path_;
  std::optional<Instant> first_media_at_;
};

}  // namespace sfu::server
