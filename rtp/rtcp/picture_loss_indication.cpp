#include "rtp/rtcp/picture_loss_indication.hpp"

namespace sfu::rtp::rtcp {

Result<PictureLossIndication, ParseError> PictureLossIndication::parse(const PacketView& p) {
  auto fb = parse_feedback(p, pt::kPsFeedback, fmt::kPli);
  if (!fb) return fail(fb.error());
  return PictureLossIndication{fb->header};
}

size_t PictureLossIndication::serialize_to(MutBytes out) const {
  return write_feedback_header(out, pt::kPsFeedback, fmt::kPli, header, kSize) ? kSize : 0;
}

}  // namespace sfu::rtp::rtcp
