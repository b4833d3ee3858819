#include "server/media/active_speaker.hpp"

namespace sfu::server::media {

std::optional<uint64_t> ActiveSpeakerDetector::update(Instant now, std::span<const Level> levels) {
  auto audible = [&](const Level& l) { return now - l.at <= kStale && l.dbov < kSilence; };
  const Level* best = nullptr;
  const Level* cur = nullptr;
  for (const Level& l : levels) {
    if (current_ && l.producer == *current_) cur = &l;
    if (l.paused || !audible(l)) continue;
    if (!best || l.dbov < best->dbov) best = &l;
  }
  if (!best || best->producer == current_) return std::nullopt;
  if (cur && audible(*cur) && cur->dbov - best->dbov < kHysteresisDb) return std::nullopt;
  current_ = best->producer;
  return current_;
}

}  // namespace sfu::server::media
