#include "signaling/sdp/publish_answer.hpp"

#include "signaling/sdp/sdp_session.hpp"

namespace sfu::signaling {

namespace {

bool sends(const sdp::MediaSection& m) {
  const auto dir = m.effective_direction();
  return dir == sdp::Direction::sendonly || dir == sdp::Direction::sendrecv;
}

bool is_media(const sdp::MediaSection& m) { return m.kind == sdp::MediaKind::audio || m.kind == sdp::MediaKind::video; }

// The single media SSRC and its RTX SSRC from a=ssrc / ssrc-group:FID.
void single_stream_ssrcs(const sdp::MediaSection& m, PublishedSection& out) {
  for (const auto& g : m.ssrc_groups) {
    if (g.semantics == "FID" && g.ssrcs.size() == 2) {
      out.ssrcs = {g.ssrcs[0]};
      out.rtx_ssrcs = {g.ssrcs[1]};
      return;
    }
  }
  if (!m.ssrcs.empty()) out.ssrcs = {m.ssrcs.front().ssrc};
}

}  // namespace

OfferYield weigh_publish_offer(const sdp::SessionDescription& offer, bool grant_media, bool grant_data) {
  OfferYield y;
  for (const auto& m : offer.media) {
    if (!m.in_use() || !m.mid) continue;
    if (m.kind == sdp::MediaKind::application) {
      if (is_data_section(m)) ++(grant_data ? y.acceptable : y.forbidden);
      continue;
    }
    if (!is_media(m) || !sends(m)) continue;
    if (sdp::match_codecs(m, sdp::server_codec_capabilities()).empty()) continue;
    ++(grant_media ? y.acceptable : y.forbidden);
  }
  return y;
}

PublishAnswer answer_publish_offer(const sdp::SessionDescription& offer, const PublishAnswerInput& in) {
  PublishAnswer out;
  out.answer = session_skeleton(in.session_id, in.version);
  sdp::Group bundle{"BUNDLE", {}};
  for (const auto& m : offer.media) {
    PublishedSection& section = out.sections.emplace_back();
    section.mid = m.mid;
    section.offered_in_use = m.in_use();
    sdp::MediaSection a;
    a.kind = m.kind;
    a.other_kind = m.other_kind;
    a.protocol = m.protocol;
    a.mid = m.mid;
    a.formats = m.formats;
    if (m.kind == sdp::MediaKind::application && m.in_use() && m.mid && is_data_section(m) && in.grant_data) {
      section.outcome = PublishedSection::Outcome::data;
      section.sctp_port = m.sctp_port.value_or(kDefaultSctpPort);
      section.max_message_size = m.max_message_size.value_or(kDefaultMaxMessageSize);
      a.formats = {"webrtc-datachannel"};
      a.sctp_port = kDefaultSctpPort;
      a.max_message_size = server::kSctpLocalMaxMessageSize;
      apply_transport(a, *in.transport, sdp::Setup::passive);
      a.rtcp_mux = false;
      bundle.mids.push_back(*m.mid);
      out.answer.media.push_back(std::move(a));
      continue;
    }
    std::vector<sdp::AcceptedCodec> codecs;
    if (is_media(m) && m.in_use() && m.mid && in.grant_media)
      codecs = sdp::match_codecs(m, sdp::server_codec_capabilities());
    if (codecs.empty()) {
      // Rejected (RFC 8829 §5.3.1): unsupported codecs or kinds, media
      // without the publish grant, data without publishData.
      a.port = 0;
      if (a.formats.empty()) a.formats = {"0"};
      // RFC 8866 §5.7: a c= per section when there is none at session level
      // (Firefox refuses the whole answer otherwise).
      a.connection = sdp::Connection{"IN", "IP4", "0.0.0.0"};
      out.answer.media.push_back(std::move(a));
      continue;
    }
    const bool sending = sends(m);
    sdp::set_codecs(a, codecs);
    a.extmaps = sdp::match_extensions(m, sdp::server_header_extensions());
    a.rtcp_rsize = m.rtcp_rsize;
    a.direction = sending ? sdp::Direction::recvonly : sdp::Direction::inactive;
    auto simulcast = sdp::extract_simulcast(m);
    if (simulcast) sdp::answer_simulcast(*simulcast, a);
    apply_transport(a, *in.transport, sdp::Setup::passive);
    bundle.mids.push_back(*m.mid);
    if (sending) {
      section.outcome = PublishedSection::Outcome::receiving;
      section.kind = m.kind == sdp::MediaKind::audio ? server::media::MediaKind::audio : server::media::MediaKind::video;
      section.codecs = std::move(codecs);
      section.extensions = extension_ids(a.extmaps);
      if (simulcast) {
        section.simulcast = std::move(simulcast);
      } else {
        single_stream_ssrcs(m, section);
      }
    } else {
      section.outcome = PublishedSection::Outcome::inactive;
    }
    out.answer.media.push_back(std::move(a));
  }
  if (!bundle.mids.empty()) out.answer.groups.push_back(bundle);
  return out;
}

}  // namespace sfu::signaling
