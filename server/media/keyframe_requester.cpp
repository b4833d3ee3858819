#include "server/media/keyframe_requester.hpp"

#include <array>

#include "rtp/rtcp/full_intra_request.hpp"
#include "rtp/rtcp/picture_loss_indication.hpp"

namespace sfu::server::media {

bool KeyframeRequester::request(Instant now) {
  ++requests_;
  if (elapsed(now, config_.min_interval)) {
    mark_sent(now);
    return true;
  }
  defer(config_.min_interval);  // coalesced with any request already waiting
  return false;
}

bool KeyframeRequester::request_first(Instant now) {
  ++requests_;
  if (unanswered_ && !elapsed(now, config_.min_interval)) {
    // The key frame asked for is on its way: it serves this consumer too.
    // Should it never come, ask again when a repeat may go.
    defer(config_.min_interval);
    return false;
  }
  if (elapsed(now, config_.first_interval)) {
    mark_sent(now);
    return true;
  }
  defer(config_.first_interval);
  return false;
}

void KeyframeRequester::defer(Duration interval) {
  const Instant due = last_sent_ ? *last_sent_ + interval : Instant{};
  if (!pending_ || due < due_) due_ = due;
  pending_ = true;
}

std::optional<Instant> KeyframeRequester::poll_timeout() const {
  if (!pending_) return std::nullopt;
  return due_;
}

bool KeyframeRequester::poll_due(Instant now) {
  if (!pending_ || now < due_) return false;
  mark_sent(now);
  return true;
}

void KeyframeRequester::on_keyframe(Instant /*now*/) {
  pending_ = false;
  unanswered_ = false;
}

void KeyframeRequester::mark_sent(Instant now) {
  last_sent_ = now;
  pending_ = false;
  unanswered_ = true;
  ++sent_;
  ++fir_seq_nr_;  // RFC 5104 §4.3.1.2: a new command, not a repetition
}

size_t KeyframeRequester::write_request(MutBytes out, uint32_t sender_ssrc, uint32_t media_ssrc) const {
  return config_.fir_only ? write_fir(out, sender_ssrc, media_ssrc) : write_pli(out, sender_ssrc, media_ssrc);
}

size_t KeyframeRequester::write_pli(MutBytes out, uint32_t sender_ssrc, uint32_t media_ssrc) {
  return rtp::rtcp::PictureLossIndication{{sender_ssrc, media_ssrc}}.serialize_to(out);
}

size_t KeyframeRequester::write_fir(MutBytes out, uint32_t sender_ssrc, uint32_t media_ssrc) const {
  const std::array<rtp::rtcp::FirEntry, 1> entry = {rtp::rtcp::FirEntry{media_ssrc, fir_seq_nr_}};
  // RFC 5104 §4.3.1.2: the common header's media source SSRC is 0; the
  // target is named in the FCI entry.
  return rtp::rtcp::FullIntraRequest{{sender_ssrc, 0}, entry}.serialize_to(out);
}

}  // namespace sfu::server::media
