// Offer/answer helpers: capability tables, codec and extension matching,
// simulcast extraction and mirroring (see sdp_negotiation.hpp).
#include "signaling/sdp/sdp_negotiation.hpp"

#include <algorithm>

namespace sfu::signaling::sdp {

namespace {

std::vector<RtcpFeedback> video_feedback() {
  return {{"goog-remb", ""}, {"transport-cc", ""}, {"ccm", "fir"}, {"nack", ""}, {"nack", "pli"}};
}

CodecCapability video_codec(std::string name, std::vector<Param> params, uint8_t pt) {
  CodecCapability c;
  c.kind = MediaKind::video;
  c.name = std::move(name);
  c.clock_rate = 90000;
  c.params = std::move(params);
  c.feedback = video_feedback();
  c.rtx = true;
  c.payload_type = pt;
  c.rtx_payload_type = uint8_t(pt + 1);
  return c;
}

std::vector<CodecCapability> make_codec_table() {
  CodecCapability opus;
  opus.kind = MediaKind::audio;
  opus.name = "opus";
  opus.clock_rate = 48000;
  opus.channels = 2;
  opus.params = {{"minptime", "10"}, {"useinbandfec", "1"}};
  opus.answer_fmtp = "minptime=10;useinbandfec=1";
  opus.feedback = {{"transport-cc", ""}};
  opus.payload_type = 111;
  return {
      opus,
      video_codec("VP8", {}, 96),
      video_codec("VP9", {{"profile-id", "0"}}, 98),
      video_codec("H264",
                  {{"level-asymmetry-allowed", "1"}, {"packetization-mode", "1"}, {"profile-level-id", "42e01f"}}, 102),
  };
}

// RFC 6184 §8.1 Table 5: profile_idc plus a pattern over profile-iop (the
// constraint_set flags; bits marked x are free, the low four must be 0 except
// for Constrained High).
struct ProfilePattern {
  uint8_t profile_idc;
  uint8_t iop_mask;
  uint8_t iop_value;
  H264Profile profile;
};
constexpr ProfilePattern kProfilePatterns[] = {
    {0x42, 0x4f, 0x40, H264Profile::constrained_baseline},  // x1xx0000
    {0x4d, 0x8f, 0x80, H264Profile::constrained_baseline},  // 1xxx0000
    {0x58, 0xcf, 0xc0, H264Profile::constrained_baseline},  // 11xx0000
    {0x42, 0x4f, 0x00, H264Profile::baseline},              // x0xx0000
    {0x58, 0xcf, 0x80, H264Profile::baseline},              // 10xx0000
    {0x58, 0xcf, 0x00, H264Profile::extended},              // 00xx0000
    {0x4d, 0xaf, 0x00, H264Profile::main},                  // 0x0x0000
    {0x64, 0xff, 0x00, H264Profile::high},                  // 00000000
    {0x64, 0xff, 0x0c, H264Profile::constrained_high},      // 00001100
    {0x6e, 0xff, 0x00, H264Profile::high10},
    {0x7a, 0xff, 0x00, H264Profile::high422},
    {0xf4, 0xff, 0x00, H264Profile::high444},
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view param_or(const std::vector<Param>& params, std::string_view key, std::string_view fallback) {
  return find_param(params, key).value_or(fallback);
}

// Baseline is served as Constrained Baseline (see codec_matches).
H264Profile h264_class(H264Profile p) { return p == H264Profile::baseline ? H264Profile::constrained_baseline : p; }

bool h264_matches(const Codec& offered, const CodecCapability& cap) {
  if (param_or(offered.params, "packetization-mode", "0") != param_or(cap.params, "packetization-mode", "0")) {
    return false;
  }
  // RFC 6184 §8.1: profile-level-id defaults to 420010 (Baseline, level 1).
  auto offered_pl = parse_h264_profile_level_id(param_or(offered.params, "profile-level-id", "420010"));
  auto cap_pl = parse_h264_profile_level_id(param_or(cap.params, "profile-level-id", "420010"));
  return offered_pl && cap_pl && h264_class(offered_pl->profile) == h264_class(cap_pl->profile);
}

// Offered feedback (its own and rtcp-fb:*) that the capability lists, each once.
std::vector<RtcpFeedback> intersect_feedback(const MediaSection& m, const Codec& offered, const CodecCapability& cap) {
  std::vector<RtcpFeedback> out;
  auto consider = [&](const RtcpFeedback& fb) {
    bool ours = std::find(cap.feedback.begin(), cap.feedback.end(), fb) != cap.feedback.end();
    if (ours && std::find(out.begin(), out.end(), fb) == out.end()) out.push_back(fb);
  };
  for (const RtcpFeedback& fb : offered.feedback) consider(fb);
  for (const RtcpFeedback& fb : m.feedback_all) consider(fb);
  return out;
}

std::optional<Codec> offered_rtx(const MediaSection& m, const Codec& codec) {
  std::optional<uint8_t> pt = m.rtx_payload_type(codec.payload_type);
  const Codec* rtx = pt ? m.find_codec(*pt) : nullptr;
  if (!rtx || rtx->clock_rate != codec.clock_rate) return std::nullopt;
  Codec out = *rtx;
  out.feedback.clear();
  return out;
}

}  // namespace

const std::vector<CodecCapability>& server_codec_capabilities() {
  static const std::vector<CodecCapability> table = make_codec_table();
  return table;
}

const std::vector<HeaderExtensionCapability>& server_header_extensions() {
  static const std::vector<HeaderExtensionCapability> table = {
      {"urn:ietf:params:rtp-hdrext:ssrc-audio-level", true, false, 1},
      {"http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", true, true, 2},
      {"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", true, true, 3},
      {"urn:ietf:params:rtp-hdrext:sdes:mid", true, true, 4},
      {"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", true, true, 10},
      {"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", true, true, 11},
  };
  return table;
}

std::optional<H264ProfileLevel> parse_h264_profile_level_id(std::string_view hex) {
  if (hex.size() != 6) return std::nullopt;
  uint8_t bytes[3];
  for (size_t i = 0; i < 3; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes[i] = uint8_t(hi << 4 | lo);
  }
  for (const ProfilePattern& p : kProfilePatterns) {
    if (bytes[0] == p.profile_idc && (bytes[1] & p.iop_mask) == p.iop_value) {
      return H264ProfileLevel{p.profile, bytes[2]};
    }
  }
  return std::nullopt;
}

bool codec_matches(const Codec& offered, const CodecCapability& cap) {
  if (!iequals(offered.name, cap.name) || offered.clock_rate != cap.clock_rate) return false;
  if (cap.channels != 0 && (offered.channels == 0 ? 1 : offered.channels) != cap.channels) return false;
  if (iequals(cap.name, "H264")) return h264_matches(offered, cap);
  if (iequals(cap.name, "VP9")) {
    return param_or(offered.params, "profile-id", "0") == param_or(cap.params, "profile-id", "0");
  }
  return true;
}

std::vector<AcceptedCodec> match_codecs(const MediaSection& offered, std::span<const CodecCapability> caps) {
  std::vector<AcceptedCodec> out;
  if (!offered.is_rtp()) return out;
  for (const Codec& codec : offered.codecs) {
    for (size_t i = 0; i < caps.size(); ++i) {
      const CodecCapability& cap = caps[i];
      if (cap.kind != offered.kind || !codec_matches(codec, cap)) continue;
      AcceptedCodec a;
      a.codec = codec;
      if (!cap.answer_fmtp.empty()) {
        a.codec.fmtp = cap.answer_fmtp;
        a.codec.params = parse_params(cap.answer_fmtp);
      }
      a.codec.feedback = intersect_feedback(offered, codec, cap);
      if (cap.rtx) a.rtx = offered_rtx(offered, codec);
      a.capability = i;
      out.push_back(std::move(a));
      break;
    }
  }
  return out;
}

void set_codecs(MediaSection& answer, const std::vector<AcceptedCodec>& accepted) {
  answer.formats.clear();
  answer.codecs.clear();
  for (const AcceptedCodec& a : accepted) {
    answer.formats.push_back(std::to_string(a.codec.payload_type));
    answer.codecs.push_back(a.codec);
    if (a.rtx) {
      answer.formats.push_back(std::to_string(a.rtx->payload_type));
      answer.codecs.push_back(*a.rtx);
    }
  }
}

std::vector<Codec> capability_codecs(const CodecCapability& cap) {
  std::vector<Codec> out(1);
  Codec& c = out[0];
  c.payload_type = cap.payload_type;
  c.name = cap.name;
  c.clock_rate = cap.clock_rate;
  c.channels = cap.channels;
  c.params = cap.params;
  c.fmtp = format_params(cap.params);
  c.feedback = cap.feedback;
  if (cap.rtx) {
    Codec rtx;
    rtx.payload_type = cap.rtx_payload_type;
    rtx.name = "rtx";
    rtx.clock_rate = cap.clock_rate;
    rtx.fmtp = "apt=" + std::to_string(cap.payload_type);
    rtx.params = parse_params(rtx.fmtp);
    out.push_back(std::move(rtx));
  }
  return out;
}

std::vector<Extmap> match_extensions(const MediaSection& offered,
                                     std::span<const HeaderExtensionCapability> supported) {
  std::vector<Extmap> out;
  if (offered.kind != MediaKind::audio && offered.kind != MediaKind::video) return out;
  for (const Extmap& e : offered.extmaps) {
    auto cap = std::find_if(supported.begin(), supported.end(), [&](const HeaderExtensionCapability& s) {
      return s.uri == e.uri && (offered.kind == MediaKind::audio ? s.audio : s.video);
    });
    bool seen = std::any_of(out.begin(), out.end(), [&](const Extmap& x) { return x.uri == e.uri; });
    if (cap == supported.end() || seen) continue;
    Extmap a;
    a.id = e.id;
    if (e.direction) a.direction = reverse(*e.direction);
    a.uri = e.uri;
    out.push_back(std::move(a));
  }
  return out;
}

namespace {

bool has_send_rid(const MediaSection& m, std::string_view rid) {
  return std::any_of(m.rids.begin(), m.rids.end(),
                     [&](const Rid& r) { return r.id == rid && r.direction == RidDirection::send; });
}

std::optional<SimulcastInfo> ssrc_simulcast(const MediaSection& m) {
  auto sim =
      std::find_if(m.ssrc_groups.begin(), m.ssrc_groups.end(), [](const SsrcGroup& g) { return g.semantics == "SIM"; });
  if (sim == m.ssrc_groups.end()) return std::nullopt;
  SimulcastInfo info;
  for (uint32_t ssrc : sim->ssrcs) {
    uint32_t rtx = 0;
    for (const SsrcGroup& g : m.ssrc_groups) {
      if (g.semantics == "FID" && g.ssrcs.size() == 2 && g.ssrcs[0] == ssrc) rtx = g.ssrcs[1];
    }
    info.ssrcs.push_back(ssrc);
    info.rtx_ssrcs.push_back(rtx);
  }
  return info;
}

}  // namespace

std::optional<SimulcastInfo> extract_simulcast(const MediaSection& offered) {
  if (offered.simulcast && !offered.simulcast->send.empty()) {
    SimulcastInfo info;
    for (const auto& stream : offered.simulcast->send) {
      auto alt = std::find_if(stream.begin(), stream.end(),
                              [&](const SimulcastRid& r) { return has_send_rid(offered, r.rid); });
      bool dup = alt != stream.end() && std::find(info.rids.begin(), info.rids.end(), alt->rid) != info.rids.end();
      if (alt != stream.end() && !dup) info.rids.push_back(alt->rid);
    }
    if (!info.rids.empty()) return info;
  }
  return ssrc_simulcast(offered);
}

void answer_simulcast(const SimulcastInfo& info, MediaSection& answer) {
  if (info.rids.empty()) return;
  answer.rids.clear();
  Simulcast s;
  for (const std::string& rid : info.rids) {
    Rid r;
    r.id = rid;
    r.direction = RidDirection::recv;
    answer.rids.push_back(std::move(r));
    s.recv.push_back({SimulcastRid{rid, false}});
  }
  answer.simulcast = std::move(s);
}

}  // namespace sfu::signaling::sdp
