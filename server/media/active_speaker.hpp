// The room's active speaker from the audio levels its publishers send
// (RFC 6464 client-to-mixer levels, in -dBov: 0 loudest, 127 silence).
// Sans-IO: the router feeds the latest level of every audio producer and
// gets a new speaker back when it changes.
//
// The loudest recent producer takes over when the current speaker is
// silent, stale (no level for kStale), or quieter by kHysteresisDb or more;
// a lead smaller than that keeps the current speaker (no flapping between
// two people talking at similar levels).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "common/time.hpp"

namespace sfu::server::media {

class ActiveSpeakerDetector {
 public:
  static constexpr int kSilence = 127;
  static constexpr int kHysteresisDb = 5;
  static constexpr Duration kStale = seconds(1);

  // The latest level of one audio producer. A paused one cannot take
  // over, but while its last level is recent it still holds its place.
  struct Level {
    uint64_t producer = 0;
    int dbov = kSilence;  // RFC 6464 level: lower is louder
    Instant at{};         // when it arrived
    bool paused = false;
  };

  // The new speaker when it changed, nullopt when it did not.
  std::optional<uint64_t> update(Instant now, std::span<const Level> levels);
  std::optional<uint64_t> current() const { return current_; }
  // The current speaker's producer closed.
  void forget(uint64_t producer) {
    if (current_ == producer) current_.reset();
  }

 private:
  std::optional<uint64_t> current_;
};

}  // namespace sfu::server::media
