// Offer/answer helpers (RFC 3264, JSEP RFC 9429) for the server's two roles:
// answering a publisher's offer and writing offers to subscribers. Pure
// functions over the SDP model: what the server supports (codec and header
// extension tables, shared/PROTOCOL.md "SDP rules the server follows"), what
// an offer asks for, and how an answer mirrors simulcast.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/sdp_model.hpp"

namespace sfu::signaling::sdp {

// A codec the server can forward.
struct CodecCapability {
  MediaKind kind = MediaKind::video;
  std::string name;  // "opus", "VP8", "VP9", "H264" (matched case-insensitively)
  uint32_t clock_rate = 90000;
  uint16_t channels = 0;      // 0: not compared (video); opus is 2
  std::vector<Param> params;  // what identifies the format (profile-id, profile-level-id, ...)
  std::string answer_fmtp;    // the fmtp the server answers with; empty: echo the offer's
  std::vector<RtcpFeedback> feedback;
  bool rtx = false;              // RFC 4588 retransmission supported
  uint8_t payload_type = 0;      // the server's choice in its own offers
  uint8_t rtx_payload_type = 0;  // likewise for the RTX format, when rtx
};

// A header extension the server understands (RFC 8285), by URI.
struct HeaderExtensionCapability {
  std::string uri;
  bool audio = true;
  bool video = true;
  uint16_t id = 0;  // the server's choice in its own offers
};

// The server's codec table, in its order of preference: opus/48000/2
// (minptime=10;useinbandfec=1), VP8, VP9 profile-id=0, H264
// packetization-mode=1 profile-level-id=42e01f; each video codec with RTX
// and nack, nack pli, ccm fir, goog-remb, transport-cc; opus with
// transport-cc. The reference is valid for the life of the program.
const std::vector<CodecCapability>& server_codec_capabilities();

// The header extensions the server negotiates: sdes:mid, sdes:rtp-stream-id,
// sdes:repaired-rtp-stream-id, abs-send-time, transport-wide-cc (all kinds)
// and ssrc-audio-level (audio only). Valid for the life of the program.
const std::vector<HeaderExtensionCapability>& server_header_extensions();

// profile-level-id (RFC 6184 §8.1): profile from profile_idc + profile-iop
// per Table 5, and level_idc.
enum class H264Profile : uint8_t {
  constrained_baseline,
  baseline,
  main,
  extended,
  high,
  constrained_high,
  high10,
  high422,
  high444
};
struct H264ProfileLevel {
  H264Profile profile = H264Profile::constrained_baseline;
  uint8_t level = 0;  // level_idc, e.g. 0x1f = 3.1
  bool operator==(const H264ProfileLevel&) const = default;
};
// Parses six hex digits ("42e01f"); nullopt for a malformed value or a
// profile_idc/profile-iop pair outside Table 5.
std::optional<H264ProfileLevel> parse_h264_profile_level_id(std::string_view hex);

// Whether the offered format is one the capability describes. Names compare
// case-insensitively, clock rates exactly, channels when the capability
// sets them (an absent count counts as 1). Format parameters:
//   - VP9: profile-id equal, absent meaning 0.
//   - H264: packetization-mode equal (absent meaning 0), and the same
//     profile class per RFC 6184 Table 5 — except that Baseline counts as
//     Constrained Baseline: libwebrtc offers 42001f next to 42e01f for the
//     same encoder, and no browser emits the Baseline-only tools (FMO, ASO).
//     Main (4d001f) or High only match a capability of that profile, and the
//     default table has none, because Firefox's decoder takes only
//     Constrained Baseline. The level is not compared: the SFU does not
//     decode, and each subscriber's offer carries the producer's
//     profile-level-id so its browser decides (RFC 6184 §8.2.2 lets an
//     answer keep any level with level-asymmetry-allowed, which all
//     browsers offer).
bool codec_matches(const Codec& offered, const CodecCapability& cap);

// One offered codec the server accepts, ready to go into the answer.
struct AcceptedCodec {
  Codec codec;               // offerer's payload type, name, rate, channels;
                             // fmtp: capability's answer_fmtp or the offer's;
                             // feedback: offered (incl. rtcp-fb:*) ∩ supported
  std::optional<Codec> rtx;  // the offerer's rtx format for it (apt=pt), when both support RTX
  size_t capability = 0;     // index into the capability table used
  bool operator==(const AcceptedCodec&) const = default;
};

// The codecs of `offered` (an RTP m-section) the server accepts, in the
// offerer's order with the offerer's payload types. Empty when nothing is
// acceptable (the caller answers bad_sdp or rejects the m-section).
std::vector<AcceptedCodec> match_codecs(const MediaSection& offered, std::span<const CodecCapability> caps);

// Fills answer.formats and answer.codecs from `accepted` (each codec then its
// RTX), replacing what was there.
void set_codecs(MediaSection& answer, const std::vector<AcceptedCodec>& accepted);

// The server's own codec entries for an offer: the capability with its
// payload type and params, then its RTX format (apt=) when it has one.
std::vector<Codec> capability_codecs(const CodecCapability& cap);

// The extmaps of `offered` whose URI is supported for its media kind, with the
// offerer's ids (RFC 8285 §7: the answer keeps them), in offer order, the
// direction reversed (sendonly → recvonly) when one was given, each URI once.
std::vector<Extmap> match_extensions(const MediaSection& offered, std::span<const HeaderExtensionCapability> supported);

// How a publisher sends simulcast in one m-section.
struct SimulcastInfo {
  // RID-based (RFC 8851/8853): the rids of a=simulcast:send in the order
  // listed, lowest resolution first per PROTOCOL.md; the first alternative of
  // each stream that has an a=rid send line.
  std::vector<std::string> rids;
  // SSRC-based (a=ssrc-group:SIM, lowest first) when there is no rid form.
  std::vector<uint32_t> ssrcs;
  // Parallel to ssrcs: the RTX SSRC from a=ssrc-group:FID <ssrc> <rtx>, 0 if none.
  std::vector<uint32_t> rtx_ssrcs;
  bool operator==(const SimulcastInfo&) const = default;
};

// The simulcast layout of an offered m-section, or nullopt when it sends a
// single stream (no a=simulcast:send with known rids, no ssrc-group:SIM).
std::optional<SimulcastInfo> extract_simulcast(const MediaSection& offered);

// Mirrors RID-based simulcast in an answer: one "a=rid:<rid> recv" per rid
// and "a=simulcast:recv <rid>;<rid>..." in the same order (RFC 8853 §5.3).
// Replaces answer.rids and answer.simulcast; does nothing for SSRC-based
// simulcast, which needs no answer attributes.
void answer_simulcast(const SimulcastInfo& info, MediaSection& answer);

}  // namespace sfu::signaling::sdp
