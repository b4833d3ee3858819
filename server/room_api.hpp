// The control API of the media side: what signaling asks of a room's router
// and what the router reports back. Plain structs (DESIGN.md: "Commands are
// C++ structs, not JSON"); MediaController (media_controller.hpp) carries
// them to the right worker and brings results back to the control thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dtls/certificate.hpp"
#include "ice/candidate.hpp"
#include "ice/lite_agent.hpp"
#include "sctp/association.hpp"
#include "server/media/media_types.hpp"
#include "server/ids.hpp"

namespace sfu::server {

// Header extension ids as negotiated on one transport (0 = not negotiated).
struct ExtensionIds {
  uint8_t mid = 0;
  uint8_t rid = 0;
  uint8_t repaired_rid = 0;
  uint8_t abs_send_time = 0;
  uint8_t transport_cc = 0;
  uint8_t audio_level = 0;
};

// Ids the server uses in every subscriber offer (it is the offerer there).
inline constexpr ExtensionIds kSubscriberExtensionIds{
    .mid = 4, .rid = 0, .repaired_rid = 0, .abs_send_time = 2, .transport_cc = 3, .audio_level = 1};

struct TransportSpec {
  std::string remote_ufrag;
  std::string remote_pwd;
  dtls::Fingerprint remote_fingerprint{};
  bool publisher = true;  // the peer's sending PC; false: the SFU sends
};

struct TransportInfo {
  TransportId id = 0;
  uint32_t worker = 0;
  ice::IceCredentials local_ice;
  std::vector<ice::Candidate> candidates;
  std::string fingerprint;  // "AB:CD:..." (sha-256)
};

enum class ProducerSource : uint8_t { camera, microphone, screen, screen_audio };

struct ProducerSpec {
  ProducerId id = 0;
  TransportId transport = 0;
  media::MediaKind kind = media::MediaKind::video;
  ProducerSource source = ProducerSource::camera;
  std::string mid;
  std::vector<media::CodecInfo> codecs;  // the publisher's payload types
  // Simulcast, lowest layer first: by RID, or by SSRC (ssrc-group SIM, with
  // FID pairs in rtx_ssrcs). Both empty: one stream, SSRC learnt from MID.
  std::vector<std::string> rids;
  std::vector<uint32_t> ssrcs;
  std::vector<uint32_t> rtx_ssrcs;
  ExtensionIds extensions;  // the publisher transport's ids
  bool paused = false;
};

struct ConsumerSpec {
  ConsumerId id = 0;
  ProducerId producer = 0;
  TransportId transport = 0;  // the subscriber's transport
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // 0: no RTX (plain retransmission)
  std::vector<media::CodecInfo> codecs;  // subscriber-side payload types, same order as the producer's
  ExtensionIds extensions = kSubscriberExtensionIds;
  bool paused = false;
  int preferred_spatial = 2;
  int preferred_temporal = 3;
  std::string mid;  // the subscriber's m-section; written as the MID extension (RFC 8843 §15)
};

// Events the media side reports to signaling.
struct TransportStateEvent {
  TransportId transport;
  TransportState state;
};
struct ConsumerLayersEvent {
  ConsumerId consumer;
  int spatial;
  int temporal;
};
struct ActiveSpeakerEvent {
  ProducerId producer;  // the audio producer now loudest
  int audio_level;      // dBov, 0 loudest .. 127 silence
};
// Our a=max-message-size (RFC 8841 §6): the largest message we take.
inline constexpr uint64_t kSctpLocalMaxMessageSize = 262144;

// Data channels on a transport (its SDP m=application section, RFC 8841).
struct SctpSpec {
  TransportId transport = 0;
  uint16_t remote_port = 5000;
  uint64_t max_message_size = 65536;  // the peer's a=max-message-size (absent: 65536; 0: no limit)
};

// One channel on a subscriber's association relaying a data producer.
struct DataConsumerSpec {
  DataConsumerId id = 0;
  DataProducerId producer = 0;
  TransportId transport = 0;  // the subscriber's transport
  std::string protocol;       // the channel's protocol: the sending peer's id
};

// A channel the peer opened on its publisher connection (DCEP OPEN).
struct DataProducerOpenedEvent {
  TransportId transport;
  DataProducerId producer;
  sctp::ChannelParams params;
};
// The producer's channel closed (stream reset, association lost) or its
// transport went away; its consumers are closed too (each reported).
struct DataProducerClosedEvent {
  TransportId transport;
  DataProducerId producer;
};
struct DataConsumerClosedEvent {
  TransportId transport;
  DataConsumerId consumer;
};
// The first media packet forwarded on a subscriber transport (once per
// transport): the end of a join as /metrics measures it.
struct TransportFirstMediaEvent {
  TransportId transport;
};
using MediaEvent = std::variant<TransportStateEvent, ConsumerLayersEvent, ActiveSpeakerEvent, DataProducerOpenedEvent,
                                DataProducerClosedEvent, DataConsumerClosedEvent, TransportFirstMediaEvent>;

}  // namespace sfu::server
