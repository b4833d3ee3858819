// The answer to a publisher's offer (PROTOCOL.md "Publishing"), as a pure
// function: the offer, the publisher transport's parameters, the token's
// grants and the mids that already have a producer in; the answer's SDP and
// what each offered section becomes out. No I/O: the publisher connection
// (signaling/publisher_connection.hpp) creates and closes producers from it.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/room_api.hpp"
#include "signaling/sdp/sdp_model.hpp"
#include "signaling/sdp/sdp_negotiation.hpp"

namespace sfu::signaling {

// What a publish offer would yield before any work: sections that would
// become a producer or a data channel, and sections that would but for the
// token's grants.
struct OfferYield {
  int acceptable = 0;
  int forbidden = 0;
};
OfferYield weigh_publish_offer(const sdp::SessionDescription& offer, bool grant_media, bool grant_data);

struct PublishAnswerInput {
  uint64_t session_id = 0;
  uint64_t version = 0;
  const server::TransportInfo* transport = nullptr;
  bool grant_media = false;
  bool grant_data = false;
};

// One offered m-section, in offer order.
struct PublishedSection {
  enum class Outcome {
    rejected,   // port 0 in the answer: unsupported, not granted, or stopped by the offer
    data,       // the data channel section (SCTP)
    inactive,   // accepted, but the client does not send on it
    receiving,  // audio or video the client sends: a producer
  };
  Outcome outcome = Outcome::rejected;
  std::optional<std::string> mid;
  bool offered_in_use = false;  // the offer's section had a port (or was bundle-only)
  // For `receiving`:
  server::media::MediaKind kind = server::media::MediaKind::audio;
  std::vector<sdp::AcceptedCodec> codecs;
  server::ExtensionIds extensions;
  // Simulcast (rids, or ssrcs with their RTX), else the single SSRC and its
  // RTX SSRC from a=ssrc / ssrc-group:FID (empty when the offer has none).
  std::optional<sdp::SimulcastInfo> simulcast;
  std::vector<uint32_t> ssrcs;
  std::vector<uint32_t> rtx_ssrcs;
  // For `data`: the client's SCTP port and max-message-size (RFC 8841 defaults).
  uint16_t sctp_port = 0;
  uint64_t max_message_size = 0;
};

struct PublishAnswer {
  sdp::SessionDescription answer;
  std::vector<PublishedSection> sections;
};

PublishAnswer answer_publish_offer(const sdp::SessionDescription& offer, const PublishAnswerInput& in);

}  // namespace sfu::signaling
