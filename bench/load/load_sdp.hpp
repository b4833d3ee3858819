// The load generator's SDP: what a browser would write and read, on top of
// the signaling library's SDP model, parser and writer.
//
//   publisher PC:  build_publisher_offer(PublisherConfig) ──publish──► answer
//                  parse_remote_transport(answer) → ICE creds, fingerprint, candidates
//   receiving PC:  server offer ─► parse_remote_offer() → transport + tracks
//                  build_receive_answer(offer) ─► subscriberAnswer / Janus "start"
//
// Control path only (called once per negotiation): allocates freely and
// returns errors as text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/client/synthetic_publisher.hpp"
#include "common/result.hpp"
#include "dtls/certificate.hpp"
#include "ice/address.hpp"
#include "server/media/media_types.hpp"
#include "signaling/sdp/sdp_model.hpp"

namespace sfu::load {

// Our side of one PeerConnection.
struct LocalPcParams {
  std::string ice_ufrag;
  std::string ice_pwd;
  dtls::Fingerprint fingerprint{};
  uint64_t session_id = 1;
  // Our socket: written as the host candidate (and the c= / m= address) of
  // a complete, non-trickled description, as a browser does after
  // gathering. Absent: 0.0.0.0 port 9 and no candidate (enough for an
  // ICE-lite server, which only answers our checks).
  std::optional<ice::Address> host;
};

// A candidate of the remote side we can check (UDP, IP literal).
struct RemoteCandidate {
  ice::Address address;
  uint32_t priority = 0;
  friend bool operator==(const RemoteCandidate&, const RemoteCandidate&) = default;
};

// The remote side's transport, from the first section that is not rejected
// (everything is BUNDLEd on it).
struct RemoteTransport {
  std::string ice_ufrag;
  std::string ice_pwd;
  dtls::Fingerprint fingerprint{};
  bool ice_lite = false;
  // The remote's a=setup (RFC 5763 §5): `active` in an answer makes us the
  // DTLS server (Janus answers so); absent when not written.
  std::optional<signaling::sdp::Setup> setup;
  // a=candidate lines of that section (UDP only); when there are none, the
  // c= address and m= port (RFC 8839 §4.2.1.1 default candidate).
  std::vector<RemoteCandidate> candidates;
};

// What the sending PeerConnection carries: which parts of `config` to offer.
struct PublisherOfferOptions {
  bool audio = true;
  bool video = true;
  // Offer a=rid + a=simulcast:send for every layer of config.video.layers
  // (which must then carry rids); otherwise one plain video stream
  // described by a=ssrc and ssrc-group FID (its first layer).
  bool simulcast = true;
};

// The sending PC's offer, as Chrome writes it: BUNDLE, actpass, rtcp-mux,
// sendonly audio (opus) and video (VP8 + RTX), the header extensions of
// config.extensions (mid, rid, repaired-rid, abs-send-time, transport-cc,
// audio-level), the mids of config.audio.mid / config.video.mid.
std::string build_publisher_offer(const client::PublisherConfig& config, const PublisherOfferOptions& options,
                                  const LocalPcParams& local);

// The remote transport of a parsed description; fails when no section is
// accepted or the first accepted one lacks credentials or a sha-256
// fingerprint.
Result<RemoteTransport, std::string> remote_transport_of(const signaling::sdp::SessionDescription& sd);
// Parses an answer (or offer) and returns its remote transport.
Result<RemoteTransport, std::string> parse_remote_transport(const std::string& sdp);

// One track the server offers to the receiving PC.
struct RemoteTrack {
  std::string mid;
  server::media::MediaKind kind = server::media::MediaKind::audio;
  uint32_t ssrc = 0;
  uint32_t rtx_ssrc = 0;  // 0: none
  uint8_t payload_type = 0;
  uint8_t rtx_payload_type = 0;
  uint32_t clock_rate = 0;
  std::string stream_id;  // msid stream (the publisher, for reports), may be empty
  friend bool operator==(const RemoteTrack&, const RemoteTrack&) = default;
};

struct RemoteOfferInfo {
  signaling::sdp::SessionDescription description;
  // Absent when every section is rejected or an application section
  // (the first offer may have nothing else).
  std::optional<RemoteTransport> transport;
  // Every active (port != 0, sending) audio / video section with a usable
  // codec (opus, VP8) and an SSRC.
  std::vector<RemoteTrack> tracks;
  uint8_t transport_cc_ext_id = 0;  // 0: not offered
};

// Parses the server's offer for the receiving PC: m-sections, mids,
// SSRCs (a=ssrc, ssrc-group FID for RTX), payload types, extension ids,
// candidates, ICE credentials and fingerprint.
Result<RemoteOfferInfo, std::string> parse_remote_offer(const std::string& sdp);

// The receiving PC's answer, as Chrome writes it: a=setup:active, recvonly,
// the offered opus / VP8 / rtx codecs and header extensions (those the
// subscriber understands), rtcp-mux, BUNDLE of the accepted sections.
// m=application and sections with no usable codec are rejected (port 0);
// sections rejected in the offer stay rejected.
std::string build_receive_answer(const signaling::sdp::SessionDescription& offer, const LocalPcParams& local);

}  // namespace sfu::load
