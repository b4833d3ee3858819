#include "common/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <charconv>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

namespace sfu::log {

namespace {

constexpr std::string_view kLevelNames[] = {"trace", "debug", "info", "warn", "error", "off"};

std::atomic<int> g_level{int(Level::info)};
std::atomic<Format> g_format{Format::text};

// spdlog does the writing: its _mt sinks serialise lines from any thread and
// flush each one. The line is formatted here (format_line), so the pattern
// is the bare message.
std::shared_ptr<spdlog::logger> make_logger(std::ostream* out) {
  spdlog::sink_ptr sink;
  if (out) sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(*out, /*force_flush=*/true);
  else sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("sfu", std::move(sink));
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);  // filtered by g_level before formatting
  return logger;
}

std::atomic<std::shared_ptr<spdlog::logger>>& logger_slot() {
  static std::atomic<std::shared_ptr<spdlog::logger>> slot{make_logger(nullptr)};
  return slot;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::trace: return spdlog::level::trace;
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
    case Level::off: break;
  }
  return spdlog::level::off;
}

void append_timestamp(std::string& out, std::chrono::system_clock::time_point ts) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(ts.time_since_epoch()).count();
  const std::time_t secs = std::time_t(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  const int millis = int((ms % 1000 + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  out.append(buf, size_t(n > 0 ? n : 0));
}

// Text: control characters become escapes, so one event is one line.
void append_escaped(std::string& out, std::string_view s, bool quoted) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (quoted && (c == '"' || c == '\\')) {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

// JSON strings through nlohmann::json, which also replaces invalid UTF-8
// (a remote identity or user agent can hold anything) with U+FFFD.
void append_json_string(std::string& out, std::string_view s) {
  out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool reserved_key(std::string_view key) { return key == "ts" || key == "level" || key == "msg"; }

}  // namespace

Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  value.assign(buf, ec == std::errc() ? end : buf);
}

std::string_view to_string(Level level) { return kLevelNames[size_t(level)]; }
std::string_view to_string(Format format) { return format == Format::json ? "json" : "text"; }

std::optional<Level> parse_level(std::string_view text) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i)
    if (text == kLevelNames[i]) return Level(i);
  return std::nullopt;
}

std::optional<Format> parse_format(std::string_view text) {
  if (text == "text") return Format::text;
  if (text == "json") return Format::json;
  return std::nullopt;
}

void init(Level level, Format format, std::ostream* out) {
  logger_slot().store(make_logger(out));
  g_format.store(format, std::memory_order_relaxed);
  g_level.store(int(level), std::memory_order_relaxed);
}

bool enabled(Level level) { return level != Level::off && int(level) >= g_level.load(std::memory_order_relaxed); }

std::string format_line(Format format, Level level, std::chrono::system_clock::time_point ts, std::string_view event,
                        std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(64 + event.size() + fields.size() * 24);
  if (format == Format::json) {
    out += "{\"ts\":\"";
    append_timestamp(out, ts);
    out += "\",\"level\":\"";
    out += to_string(level);
    out += "\",\"msg\":";
    append_json_string(out, event);
    for (const auto& f : fields) {
      out += ',';
      std::string key = reserved_key(f.key) ? "_" : "";  // not "_" + string: GCC 12 -Wrestrict at -O3
      key += f.key;
      append_json_string(out, key);
      out += ':';
      append_json_string(out, f.value);
    }
    out += '}';
    return out;
  }
  append_timestamp(out, ts);
  out += ' ';
  out += to_string(level);
  out += ' ';
  append_escaped(out, event, false);
  for (const auto& f : fields) {
    out += ' ';
    append_escaped(out, f.key, false);
    out += '=';
    if (needs_quotes(f.value)) {
      out += '"';
      append_escaped(out, f.value, true);
      out += '"';
    } else {
      append_escaped(out, f.value, false);
    }
  }
  return out;
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  const std::string line = format_line(g_format.load(std::memory_order_relaxed), level,
                                       std::chrono::system_clock::now(), event, fields);
  logger_slot().load()->log(to_spdlog(level), spdlog::string_view_t(line.data(), line.size()));
}

std::optional<uint64_t> RateLimited::admit(Clock::time_point now) {
  if (!started_ || now - window_start_ >= interval_) {
    started_ = true;
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= lines_) {
    ++suppressed_since_;
    ++suppressed_total_;
    return std::nullopt;
  }
  ++in_window_;
  const uint64_t skipped = suppressed_since_;
  suppressed_since_ = 0;
  return skipped;
}

}  // namespace sfu::log
