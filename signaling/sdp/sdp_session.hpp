// Glue between SDP and the media API: the transport attributes the server
// puts in every m-section it writes (ICE-lite credentials, candidates,
// fingerprint, setup), and the reading of what a peer's SDP says about its
// transport, codecs and header extensions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dtls/certificate.hpp"
#include "server/room_api.hpp"
#include "signaling/sdp/sdp_model.hpp"
#include "signaling/sdp/sdp_negotiation.hpp"

namespace sfu::signaling {

// v=0, o=- <id> <version> IN IP4 127.0.0.1, s=-, t=0 0, a=ice-lite,
// a=msid-semantic: WMS *, a=extmap-allow-mixed.
sdp::SessionDescription session_skeleton(uint64_t session_id, uint64_t version);

// Sets ICE credentials, fingerprint, setup, rtcp-mux, candidates (and the
// m-line port / c-line from the first UDP candidate) of `m`.
void apply_transport(sdp::MediaSection& m, const server::TransportInfo& t, sdp::Setup setup);

// The peer's ICE ufrag/pwd and sha-256 fingerprint, as seen for section `m`
// (media level first, then session level). nullopt if any is missing.
struct RemoteTransport {
  std::string ufrag;
  std::string pwd;
  dtls::Fingerprint fingerprint{};
};
std::optional<RemoteTransport> remote_transport(const sdp::SessionDescription& sd, const sdp::MediaSection& m);

// A removed (port 0) audio or video m-section of our offers that every
// stack we test parses: c=IN IP4 0.0.0.0 (Firefox refuses an m-section
// without c= when there is none at session level, RFC 8866 §5.7), one
// codec, a=inactive, and the transport's ICE, fingerprint, setup and
// rtcp-mux (aiortc refuses sections without them). Keeps m.kind and m.mid.
void write_removed_section(sdp::MediaSection& m, bool audio, const server::TransportInfo& t);

// An m=application section carrying data channels (SCTP, webrtc-datachannel).
bool is_data_section(const sdp::MediaSection& m);
// RFC 8841: the SCTP port when a=sctp-port is absent, and the peer's
// max-message-size when a=max-message-size is absent (§6.1).
inline constexpr uint16_t kDefaultSctpPort = 5000;
inline constexpr uint64_t kDefaultMaxMessageSize = 65536;

server::media::Codec codec_of(std::string_view name);
// The accepted codecs as the media side's CodecInfo (publisher payload types).
std::vector<server::media::CodecInfo> codec_infos(const std::vector<sdp::AcceptedCodec>& accepted);
// The subscriber-side payload types for the same codecs: the server's own
// table (CodecCapability::payload_type / rtx_payload_type), in the same order.
std::vector<server::media::CodecInfo> subscriber_codec_infos(const std::vector<sdp::AcceptedCodec>& accepted);
// Header extension ids from negotiated extmaps.
server::ExtensionIds extension_ids(const std::vector<sdp::Extmap>& extmaps);

}  // namespace sfu::signaling
