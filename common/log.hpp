// Structured logs: one line per event on stderr, as text (logfmt-like) or
// JSON, written through spdlog's thread-safe stderr sink.
//
//   text: 2026-12-07T05:01:02.123Z info peer joined room=r1 peer=p_x transport=12
//   json: {"ts":"2026-12-07T05:01:02.123Z","level":"info","msg":"peer joined","room":"r1","peer":"p_x","transport":"12"}
//
// An event is a short fixed phrase ("peer joined"); what varies goes in
// fields, so lines can be grepped and parsed. Every field value is a string
// in JSON. Control-path code logs directly; the media hot path never logs per
// packet: it counts, and where a warning is worth a line it goes through a
// RateLimited. Fields are built before write() filters by level, so a debug
// line with costly fields goes under `if (log::enabled(Level::debug))`.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace sfu::log {

enum class Level { trace, debug, info, warn, error, off };
enum class Format { text, json };

// "trace", "debug", "info", "warn", "error", "off".
std::string_view to_string(Level level);
std::string_view to_string(Format format);
// The inverse of to_string; nullopt for anything else.
std::optional<Level> parse_level(std::string_view text);
std::optional<Format> parse_format(std::string_view text);

// One key=value of an event. Keys are code-chosen identifiers; values are
// anything, escaped when the line is formatted.
struct Field {
  std::string_view key;
  std::string value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, std::string&& v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  Field(std::string_view k, T v) : key(k), value(std::to_string(v)) {}
  Field(std::string_view k, double v);
};

// Sets the level and format of every later line. Call once at start-up
// before other threads log (later calls are allowed and take effect for
// every thread, e.g. in tests). `out`, when given, receives the lines
// instead of stderr and must outlive every later write (tests).
// Before init, lines go to stderr as text at level info.
void init(Level level, Format format, std::ostream* out = nullptr);

// Whether a line at `level` would be written. Cheap (one relaxed atomic load).
bool enabled(Level level);

// Formats one line, without the trailing newline. Pure: the logger calls it
// with the current time; tests with a fixed one.
std::string format_line(Format format, Level level, std::chrono::system_clock::time_point ts,
                        std::string_view event, std::initializer_list<Field> fields);

// Writes one line if `level` is enabled. Thread-safe.
void write(Level level, std::string_view event, std::initializer_list<Field> fields);

inline void trace(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::trace)) write(Level::trace, event, fields);
}
inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::debug)) write(Level::debug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::info)) write(Level::info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::warn)) write(Level::warn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::error)) write(Level::error, event, fields);
}

// At most `lines` admitted per `interval` (fixed windows), counting the
// refused ones, for warnings off the control thread (a worker's loop) that
// could otherwise repeat per packet. Not thread-safe: one instance per
// thread (each worker owns its own), as everything on the media path.
// Time is an argument, so the hot path passes the loop's cached clock.
//
//   if (auto skipped = limiter.admit(now))
//     log::warn("srtp unprotect failed", {{"worker", id}, {"suppressed", *skipped}});
class RateLimited {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimited(uint32_t lines, Clock::duration interval) : lines_(lines), interval_(interval) {}

  // A line may be written now: returns how many were refused since the
  // previous admitted one. nullopt: refused (and counted).
  std::optional<uint64_t> admit(Clock::time_point now);
  uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  uint32_t lines_;
  Clock::duration interval_;
  Clock::time_point window_start_{};
  bool started_ = false;
  uint32_t in_window_ = 0;
  uint64_t suppressed_since_ = 0;
  uint64_t suppressed_total_ = 0;
};

}  // namespace sfu::log
