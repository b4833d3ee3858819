// SimSubscriber: a sans-IO stand-in for a browser's receiving RTP stack. It
// takes the plaintext RTP the SFU forwards (the caller unprotects it with a
// client-role server::Transport) and produces the RTCP a browser would send
// back:
//
//   handle_rtp(now, rtp) ─► RTX unwrap (RFC 4588, by SSRC) ─► per stream:
//        ReceiveStream (RFC 3550 stats), NackGenerator, StreamValidator,
//        frame assembly (complete frames, key frames, resolution), latency
//   handle_rtcp(now, rtcp)  SRs, so that the RRs' LSR / DLSR are right
//   poll_rtcp(now) ─► one datagram at a time, as much as fits:
//        RR + SDES CNAME       every report_interval
//        PLI                   request_keyframe(), a NackGenerator keyframe
//                              request or unrepairable loss (rate-limited by
//                              pli_min_interval), or no decodable key frame
//                              for keyframe_timeout (repeated at that period)
//        generic NACK          the NackGenerator's due numbers
//        transport-cc          every transport_cc_interval from the recorded
//                              arrivals (any SSRC), split when a packet is full
//   poll_timeout()         when poll_rtcp has something to do next
//
// Streams (one per consumer, from the subscriber's offer) can be added and
// removed as the room changes. Memory per stream is fixed at add_stream();
// per packet nothing is allocated.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/client/latency_histogram.hpp"
#include "bench/client/payload_probe.hpp"
#include "bench/client/rate_window.hpp"
#include "bench/client/stream_validator.hpp"
#include "common/bytes.hpp"
#include "common/time.hpp"
#include "rtp/rtcp/transport_cc.hpp"
#include "rtp/sequence.hpp"
#include "server/media/media_types.hpp"
#include "server/media/nack_generator.hpp"

namespace sfu::rtp {
class RtpView;
namespace rtcp {
class CompoundBuilder;
}  // namespace rtcp
}  // namespace sfu::rtp

namespace sfu::client {

// One stream the subscriber expects, as negotiated for one consumer.
struct ExpectedStream {
  server::media::MediaKind kind = server::media::MediaKind::video;
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // 0: no RTX
  uint8_t payload_type = 96;
  uint8_t rtx_payload_type = 97;
  uint32_t clock_rate = 0;  // 0: 90 kHz for video, 48 kHz for audio
  // Run a StreamValidator on it. Audio has no repair (no NACK / RTX), so an
  // audio stream validates only over a loss-free path.
  bool validate = true;
};

struct SubscriberConfig {
  uint32_t rtcp_ssrc = 1;  // SSRC of our RTCP (RR, feedback)
  std::string cname = "sim-subscriber";
  uint8_t transport_cc_ext_id = 3;  // 0: no transport-cc feedback
  std::vector<ExpectedStream> streams;
  Duration report_interval = seconds(1);
  Duration transport_cc_interval = milliseconds(50);
  Duration keyframe_timeout = seconds(1);
  Duration pli_min_interval = milliseconds(300);
  bool send_nacks = true;  // video streams only, as browsers do
  server::media::NackConfig nack;
  ValidatorConfig validator;   // `kind` is taken from each stream
  size_t max_datagram = 1200;  // RTCP bytes per poll_rtcp() datagram
};

struct SubscriberStreamStats {
  uint32_t ssrc = 0;
  server::media::MediaKind kind = server::media::MediaKind::video;
  uint64_t packets = 0;  // every packet, RTX and duplicates included
  uint64_t bytes = 0;
  uint64_t bitrate_bps = 0;  // over the last second
  int64_t lost = 0;          // RFC 3550 cumulative loss, after repairs
  uint64_t rtx_packets = 0;
  uint64_t recovered_by_rtx = 0;  // RTX packets that filled a hole
  uint64_t duplicates = 0;
  uint64_t frames_completed = 0;  // video: all packets of a frame received
  uint64_t keyframes = 0;         // ... of which key frames
  uint64_t nacks_sent = 0;        // sequence numbers NACKed (with retries)
  uint64_t plis_sent = 0;
  uint16_t width = 0;  // from the last key frame's VP8 header
  uint16_t height = 0;
  int64_t latency_p50_us = 0;  // capture (probe) to arrival, RTX excluded
  int64_t latency_p99_us = 0;
  double jitter_ms = 0;
  bool valid = true;  // the validator (if any) has no violation
  // Liveness: when the first new media packet (not RTX) arrived, and the
  // longest time without one since, up to `now` (a stream that stopped
  // shows the time since its last packet).
  std::optional<Instant> first_media_at;
  Duration longest_silence{};
  // Video: when the first frame was complete (join -> first frame).
  std::optional<Instant> first_frame_at;
};

struct SubscriberCounters {
  uint64_t rtp_received = 0;
  uint64_t malformed = 0;
  uint64_t unknown_ssrc = 0;
  uint64_t padding_only = 0;  // payload-less RTX (bandwidth probes)
  uint64_t rtcp_received = 0;
  uint64_t rtcp_sent = 0;
  uint64_t transport_cc_sent = 0;
  uint64_t transport_cc_dropped = 0;  // arrivals not reported (late, duplicate, overflow)
};

class SimSubscriber {
 public:
  // Adds every stream of config.streams.
  explicit SimSubscriber(SubscriberConfig config);
  ~SimSubscriber();
  SimSubscriber(SimSubscriber&&) noexcept;
  SimSubscriber& operator=(SimSubscriber&&) noexcept;

  // Starts expecting a stream (a new consumer). Replaces a stream with the
  // same SSRC. Allocates its state once, here.
  void add_stream(const ExpectedStream& stream);
  // Stops expecting the stream with this SSRC; false if there is none.
  bool remove_stream(uint32_t ssrc);

  // One plaintext RTP packet that arrived at `now`. Unknown SSRCs and
  // malformed packets are counted and dropped; never throws.
  void handle_rtp(Instant now, Bytes packet);
  // One plaintext RTCP datagram from the SFU (SRs are used; the rest ignored).
  void handle_rtcp(Instant now, Bytes compound);

  // When poll_rtcp() next has something to send (may be in the past), or
  // nullopt when nothing is scheduled.
  std::optional<Instant> poll_timeout() const;
  // The next RTCP datagram due at `now`, or nullopt. The span points into
  // this subscriber and is valid until the next poll_rtcp() call. Call until
  // nullopt.
  std::optional<Bytes> poll_rtcp(Instant now);

  // The next poll_rtcp() sends a PLI for this video stream (not
  // rate-limited). Unknown and audio SSRCs are ignored.
  void request_keyframe(uint32_t ssrc);

  // End of the run: each validator reports the gaps still open.
  void finish(Instant now);
  // True when every validator is ok().
  bool ok() const;

  size_t stream_count() const { return streams_.size(); }
  // SSRC of the i-th stream (i < stream_count()), in add order.
  uint32_t stream_ssrc(size_t i) const;
  // Stats of the stream with this SSRC as of `now` (for the bitrate).
  std::optional<SubscriberStreamStats> stream_stats(uint32_t ssrc, Instant now) const;
  // Bit/s the stream with this SSRC received (RTX included) over the whole
  // seconds inside [from, to), within the last RateWindow::kSeconds; 0 for
  // an unknown SSRC.
  double stream_bps(uint32_t ssrc, Instant from, Instant to) const;
  // The capture-to-arrival latency samples of the stream with this SSRC
  // (RTX excluded), or nullptr for an unknown SSRC.
  const LatencyHistogram* latency(uint32_t ssrc) const;
  // Its validator, or nullptr when there is none.
  const StreamValidator* validator(uint32_t ssrc) const;
  const SubscriberCounters& counters() const { return counters_; }

 private:
  struct Stream;
  struct Arrival {
    int64_t seq = 0;  // unwrapped transport-wide sequence number
    int64_t arrival_us = 0;
  };
  struct IndexEntry {
    uint32_t ssrc = 0;
    uint32_t stream = 0;
    bool rtx = false;
  };

  void rebuild_index();
  const IndexEntry* lookup(uint32_t ssrc) const;
  void record_arrival(Instant now, const rtp::RtpView& view);
  void on_media(Instant now, Stream& st, const MediaPacket& m, size_t size);
  void track_frame(Instant now, Stream& st, const MediaPacket& m, const PayloadLayout& l);
  void update_keyframe_requests(Instant now);
  void append_reports(rtp::rtcp::CompoundBuilder& b, Instant now);
  void append_plis(rtp::rtcp::CompoundBuilder& b, Instant now);
  void append_nacks(rtp::rtcp::CompoundBuilder& b, Instant now);
  void append_transport_cc(rtp::rtcp::CompoundBuilder& b, Instant now);
  size_t fill_transport_cc(size_t from);

  SubscriberConfig config_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<IndexEntry> index_;  // sorted by ssrc
  SubscriberCounters counters_;
  std::optional<Instant> next_report_;

  // transport-cc
  rtp::SeqUnwrapper twcc_unwrapper_;
  int64_t twcc_highest_ = 0;
  bool twcc_started_ = false;
  std::vector<Arrival> arrivals_;  // capacity fixed at construction
  std::optional<Instant> next_transport_cc_;
  int64_t next_feedback_seq_ = std::numeric_limits<int64_t>::min();
  uint8_t feedback_count_ = 0;
  rtp::rtcp::TransportCcBuilder twcc_builder_;

  std::vector<uint8_t> out_;  // max_datagram bytes
};

}  // namespace sfu::client
