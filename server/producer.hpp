// A producer: one media track a publisher sends (audio, or video with up to
// three simulcast layers), as seen on the worker. It recognises its packets
// (by SSRC, or by MID / RID / repaired-RID header extensions until the SSRCs
// are learnt), unwraps RTX, keeps per-layer receive statistics, upstream
// NACK state, keyframe-request coalescing and a retransmission buffer.
// Worker thread only.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rtp/rtp_packet.hpp"
#include "server/media/keyframe_requester.hpp"
#include "server/media/nack_generator.hpp"
#include "server/media/receive_stream.hpp"
#include "server/media/retransmission_buffer.hpp"
#include "server/media/simulcast_forwarder.hpp"
#include "server/room_api.hpp"

namespace sfu::server {

inline constexpr int kMaxLayers = 3;

struct ProducerLayer {
  std::string rid;
  uint32_t ssrc = 0;      // 0 until learnt
  uint32_t rtx_ssrc = 0;  // 0 until learnt (or none)
  std::optional<media::ReceiveStream> stream;  // created with the SSRC
  media::NackGenerator nacks;
  media::KeyframeRequester keyframes;
  media::RetransmissionBuffer buffer;
  Instant last_packet{};
  uint64_t packets = 0;
};

// What the producer made of one incoming packet.
struct ProducerMatch {
  int layer = -1;
  bool rtx = false;
};

class Producer {
 public:
  explicit Producer(const ProducerSpec& spec);

  const ProducerSpec& spec() const { return spec_; }
  ProducerId id() const { return spec_.id; }
  int layer_count() const { return int(layers_.size()); }
  ProducerLayer& layer(int i) { return layers_[size_t(i)]; }
  const ProducerLayer& layer(int i) const { return layers_[size_t(i)]; }

  // Which layer (and whether RTX) a packet with an SSRC not yet known
  // belongs to, judged from its MID / RID / repaired-RID extensions and
  // payload type; learns the SSRC on success.
  std::optional<ProducerMatch> learn(const rtp::RtpView& packet);
  // The layer for a known SSRC.
  std::optional<ProducerMatch> match(uint32_t ssrc) const;

  // The codec for a payload type (primary), or nullptr.
  const media::CodecInfo* codec(uint8_t pt) const;
  // The primary payload type an RTX payload type repairs, or nullopt.
  std::optional<uint8_t> apt(uint8_t rtx_pt) const;
  bool is_rtx_payload_type(uint8_t pt) const { return apt(pt).has_value(); }

  // One packet of layer `layer` (unwrapped already when it came as RTX):
  // what the codec says of it (key frame, temporal layer, VP8 ids), and the
  // layer's bookkeeping — receive statistics (RFC 3550), NACK tracking,
  // key frame arrival, the retransmission buffer — and the audio level.
  media::PacketMeta on_packet(int layer, bool rtx, Instant now, const rtp::RtpView& packet);

  bool paused() const { return paused_; }
  void set_paused(bool p) { paused_ = p; }

  // Packets lost upstream so far, over every layer (cumulative lost of the
  // receive statistics; a layer with more duplicates than losses counts 0).
  uint64_t rtp_lost() const {
    uint64_t lost = 0;
    for (const auto& l : layers_)
      if (l.stream && l.stream->cumulative_lost() > 0) lost += uint64_t(l.stream->cumulative_lost());
    return lost;
  }

  // Audio level (RFC 6464) bookkeeping for the active-speaker detector.
  void note_audio_level(Instant now, int level_dbov) {
    last_level_ = level_dbov;
    last_level_at_ = now;
  }
  int last_audio_level() const { return last_level_; }
  Instant last_audio_level_at() const { return last_level_at_; }

 private:
  media::PacketMeta describe(Instant now, const rtp::RtpView& packet);

  ProducerSpec spec_;
  std::vector<ProducerLayer> layers_;
  bool paused_ = false;
  int last_level_ = 127;
  Instant last_level_at_{};
};

}  // namespace sfu::server
