// libFuzzer target for the SDP parser (signaling/sdp/sdp_parser.hpp): parse
// arbitrary text; when it parses, write it back, re-parse and trap unless the
// two models are equal. Also runs the negotiation helpers over every section,
// which must accept any parsed model.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "signaling/sdp/sdp_negotiation.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_writer.hpp"

using namespace sfu::signaling::sdp;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void exercise_negotiation(const SessionDescription& sd) {
  for (const MediaSection& m : sd.media) {
    auto accepted = match_codecs(m, server_codec_capabilities());
    auto extmaps = match_extensions(m, server_header_extensions());
    MediaSection answer;
    set_codecs(answer, accepted);
    check(answer.codecs.size() >= accepted.size());
    if (auto sim = extract_simulcast(m)) {
      check(!sim->rids.empty() || !sim->ssrcs.empty());
      check(sim->ssrcs.size() == sim->rtx_ssrcs.size());
      answer_simulcast(*sim, answer);
    }
    (void)sd.effective_fingerprints(m);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto first = parse_sdp(text);
  if (!first.ok()) {
    check(first.error().line >= 1 && !first.error().reason.empty());
    return 0;
  }
  exercise_negotiation(*first);
  std::string written = write_sdp(*first);
  // CRLF endings and a default "t=0 0" can push a description that was just
  // under the 64 KiB cap over it; every other cap holds for the written text.
  if (written.size() > kMaxSdpSize) return 0;
  auto second = parse_sdp(written);
  check(second.ok());
  check(*first == *second);
  check(write_sdp(*second) == written);
  return 0;
}
