// SyntheticPublisher: a sans-IO stand-in for a browser's sending RTP stack
// (libwebrtc's shape), producing plaintext RTP/RTCP for one audio track and
// one simulcast VP8 video track. The caller protects what it polls with a
// client-role server::Transport and feeds back the unprotected RTCP.
//
//   start(now) ─► poll_timeout() ─► handle_timeout(now) ─► poll_rtp()  (frames, audio, RTX first)
//                                                      └─► poll_rtcp() (SR + SDES per SSRC, ~1 s)
//   RTCP in ─► handle_rtcp(now, compound): NACK → RTX (RFC 4588) from a 1 s history,
//                                          PLI / FIR → next frame of that layer is a key frame,
//                                          REMB / transport-cc counted
//
// What the packets look like (what an SFU sees from Chrome):
// - extensions on every packet: MID, RID (repaired-RID on RTX), abs-send-time,
//   transport-wide sequence number (one counter across all SSRCs), and the
//   ssrc-audio-level on audio;
// - VP8 payload descriptor (RFC 7741 §4.2) with X, I (15-bit PictureID, per
//   layer), L (TL0PICIDX), T (TID, Y); S=1 PID=0 on a frame's first packet;
//   a VP8 payload header (RFC 6386 §9.1) on that packet: 3-byte frame tag,
//   and on key frames the start code 9d 01 2a with the 14-bit width/height;
// - frames split evenly into packets of at most max_payload_size bytes of
//   RTP payload, marker on the last; RTP timestamp 90 kHz per frame; random
//   initial sequence number and timestamp per SSRC;
// - then a payload probe (payload_probe.hpp): capture time, layer, frame
//   counter and a fill pattern, so receivers measure latency and corruption.
//
// Temporal layers (temporal_layers = 3): the L1T3 pattern TID 0,2,1,2; the
// TID 1 and 2 frames right after a TL0 frame reference only TL0 and carry the
// layer-sync bit Y. A key frame restarts the pattern.
//
// Rate: each layer's frame sizes are chosen so that its bytes on the wire
// (RTP header + payload) average the layer's target bitrate: key frames are
// keyframe_size_factor times a delta frame, TL0 frames 1.6x and TL1/TL2 0.8x
// (libwebrtc's 40/20/40 % split), +-15 % noise, and the surplus is paid back
// by the delta frames that follow.
//
// Memory: packets are never stored. The history keeps a 48-byte record per
// packet (512 per video SSRC, about 1.8 s at 2.5 Mbit/s; 64 for audio) and
// regenerates the identical bytes on retransmission, so a publisher needs
// about 80 KB and thousands fit in one load generator. No heap allocation per packet in
// steady state (the send queues grow to their high-water mark once).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/time.hpp"

namespace sfu::rtp {
struct RtpHeader;
namespace rtcp {
struct PacketView;
struct TransportLayerNackView;
}  // namespace rtcp
}  // namespace sfu::rtp

namespace sfu::client {

struct VideoLayerConfig {
  std::string rid;  // "q", "h", "f"; empty: no RID extension (plain stream)
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // 0: no RTX, NACKs for this layer are ignored
  uint32_t target_bps = 0;
  uint16_t width = 0;
  uint16_t height = 0;
};

struct VideoConfig {
  bool enabled = true;
  std::string mid = "1";
  uint8_t payload_type = 96;      // VP8
  uint8_t rtx_payload_type = 97;  // RTX, apt=96
  uint32_t fps = 30;
  Duration keyframe_interval = seconds(3);
  int temporal_layers = 1;         // 1, or 3 for L1T3
  size_t max_payload_size = 1100;  // RTP payload bytes per packet, at most
  double keyframe_size_factor = 4.0;
  std::vector<VideoLayerConfig> layers;  // 1..3, lowest first
};

struct AudioConfig {
  bool enabled = true;
  std::string mid = "0";
  uint8_t payload_type = 111;  // Opus, 48 kHz, 20 ms packets (50 per second)
  uint32_t ssrc = 0;
  size_t payload_size = 100;  // bytes per packet, +-10 % noise
  // Talk spurts and silence alternate; silence zero = talking all the time.
  Duration talk_spurt = seconds(2);
  Duration silence = seconds(1);
  uint8_t talking_level = 30;  // -dBov with V=1 (RFC 6464)
  uint8_t silent_level = 110;  // -dBov with V=0
};

// Local ids of the header extensions (RFC 8285); 0 leaves one out.
struct ExtensionIds {
  uint8_t mid = 1;
  uint8_t rid = 10;
  uint8_t repaired_rid = 11;
  uint8_t abs_send_time = 2;
  uint8_t transport_cc = 3;
  uint8_t audio_level = 4;
};

struct PublisherConfig {
  VideoConfig video;
  AudioConfig audio;
  ExtensionIds extensions;
  std::string cname = "synthetic";
  uint64_t seed = 1;  // initial sequence numbers, timestamps, picture ids, noise
  Duration rtcp_interval = seconds(1);
  Duration history = seconds(1);  // how far back NACKs are answered
  // A packet is retransmitted at most once per this interval (libwebrtc
  // waits about one RTT); duplicate NACKs inside it are ignored.
  Duration retransmit_min_interval = milliseconds(10);
};

// Audio SSRC ssrc_base, video layer i SSRC ssrc_base + 1 + 2i and RTX
// ssrc_base + 2 + 2i, rids "q", "h", "f" (no rid with one layer), bitrates
// 150k / 500k / 1.5M, 320x180 / 640x360 / 1280x720 (the top `video_layers`
// of them when fewer than 3: one layer is 1280x720 at 1.5M). Seed = ssrc_base.
PublisherConfig default_publisher_config(uint32_t ssrc_base, int video_layers = 3);

struct PublisherStreamStats {
  uint32_t ssrc = 0;
  uint64_t packets = 0;        // media packets sent (RTX not included)
  uint64_t bytes = 0;          // their RTP bytes (header + payload)
  uint64_t payload_bytes = 0;  // their payload bytes (the SR octet count)
  uint64_t frames = 0;
  uint64_t keyframes = 0;
  uint64_t retransmissions = 0;  // RTX packets sent
  uint64_t retransmitted_bytes = 0;
  uint64_t nacked = 0;       // sequence numbers asked for by NACKs
  uint64_t nack_misses = 0;  // ... not in the history (too old / unknown)
  uint64_t plis = 0;
  uint64_t firs = 0;  // FIRs with a new command sequence number
  uint64_t sender_reports = 0;
};

struct PublisherCounters {
  uint64_t rtcp_received = 0;   // compound datagrams given to handle_rtcp
  uint64_t rtcp_malformed = 0;  // ... that did not parse to the end
  uint64_t nacks = 0;           // NACK messages
  uint64_t unknown_ssrc_feedback = 0;
  uint64_t remb = 0;
  uint64_t transport_cc = 0;
  uint64_t receiver_reports = 0;
  uint64_t last_remb_bps = 0;
  uint16_t next_transport_seq = 0;  // the transport-wide number the next packet gets
};

class SyntheticPublisher {
 public:
  // Takes the configuration; nothing is sent before start(). Layers beyond 3
  // are ignored; temporal_layers other than 3 means 1.
  explicit SyntheticPublisher(PublisherConfig config);
  ~SyntheticPublisher();
  SyntheticPublisher(SyntheticPublisher&&) noexcept;
  SyntheticPublisher& operator=(SyntheticPublisher&&) noexcept;

  // The first video frame (a key frame on every layer) and the first audio
  // packet are due at `now`; the first SR one rtcp_interval later. Call once.
  void start(Instant now);

  // Stops producing frames, audio and sender reports (poll_timeout() turns
  // nullopt); queued packets can still be polled and NACKs are still
  // answered from the history. Final: start() is ignored afterwards.
  void stop() {
    started_ = false;
    stopped_ = true;
  }

  // When handle_timeout must next be called; nullopt before start().
  std::optional<Instant> poll_timeout() const;
  // Produces every frame, audio packet and sender report due at `now` (late
  // calls catch up: each frame keeps its own capture time). Then drain
  // poll_rtp() and poll_rtcp().
  void handle_timeout(Instant now);

  // The next plaintext RTP packet to send (retransmissions before media), or
  // nullopt when none is queued. The span points into this publisher and is
  // valid until the next poll_rtp() call.
  std::optional<Bytes> poll_rtp();
  // The next plaintext RTCP compound (SR + SDES CNAME of one SSRC), or
  // nullopt. Valid until the next poll_rtcp() call.
  std::optional<Bytes> poll_rtcp();

  // One unprotected RTCP datagram from the SFU. Malformed input is counted
  // and dropped; never throws.
  void handle_rtcp(Instant now, Bytes compound);

  // The next frame of `layer` is a key frame (as if a PLI arrived); ignored
  // for a layer that does not exist.
  void request_keyframe(size_t layer);
  // Changes a layer's target bitrate from the next frame on (e.g. to follow
  // REMB / transport-cc estimates in a load test); ignored for a layer that
  // does not exist.
  void set_target_bitrate(size_t layer, uint32_t bps);

  size_t video_layer_count() const;
  const PublisherConfig& config() const { return config_; }
  // Stats of video layer `layer` (< video_layer_count()).
  const PublisherStreamStats& layer_stats(size_t layer) const;
  const PublisherStreamStats& audio_stats() const;
  const PublisherCounters& counters() const { return counters_; }
  // Sums over every SSRC.
  PublisherStreamStats totals() const;

 private:
  struct Stream;
  struct Record;
  struct QueuedPacket {
    uint8_t stream = 0;
    uint16_t seq = 0;
  };
  class PacketQueue {
   public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    void push(QueuedPacket p);
    QueuedPacket pop();

   private:
    std::vector<QueuedPacket> ring_;
    size_t head_ = 0, size_ = 0;
  };

  struct ExtensionValues;

  void add_video_stream(const VideoLayerConfig& layer, uint8_t index);
  void add_audio_stream();
  Instant frame_time(int64_t index) const;
  Instant audio_time(int64_t index) const;
  void produce_video_frame(Stream& s, int64_t frame_index, Instant capture);
  void produce_audio_packet(Stream& s, int64_t index, Instant capture);
  size_t frame_wire_bytes(Stream& s, bool keyframe, uint8_t tid);
  void packetize_frame(Stream& s, const Record& frame, size_t wire_bytes);
  void store_and_queue(Stream& s, const Record& r, size_t payload_size);
  void fill_header(const Stream& s, const Record& r, std::optional<uint16_t> rtx_seq, ExtensionValues& values,
                   rtp::RtpHeader& h) const;
  size_t write_packet(const Stream& s, const Record& r, std::optional<uint16_t> rtx_seq, MutBytes out);
  size_t write_video_payload(const Stream& s, const Record& r, MutBytes out) const;
  size_t write_audio_payload(const Record& r, MutBytes out) const;
  void snapshot_sender_report(Stream& s, Instant now);
  void on_nack(Instant now, const rtp::rtcp::TransportLayerNackView& nack);
  void on_keyframe_request(uint32_t media_ssrc, std::optional<uint8_t> fir_seq);
  void dispatch_rtcp(Instant now, const rtp::rtcp::PacketView& p);
  Stream* find_stream(uint32_t ssrc);
  double next_unit();  // uniform in [0, 1)

  PublisherConfig config_;
  std::vector<Stream> streams_;  // video layers first, then audio
  std::optional<size_t> audio_index_;
  bool started_ = false;
  bool stopped_ = false;
  Instant start_;
  int64_t next_frame_ = 0;  // video frame index
  int64_t next_audio_ = 0;  // audio packet index
  PacketQueue media_queue_;
  PacketQueue rtx_queue_;
  PublisherCounters counters_;
  uint64_t rng_ = 0;
  std::array<uint8_t, 1500> rtp_buf_{};
  std::array<uint8_t, 512> rtcp_buf_{};
};

}  // namespace sfu::client
