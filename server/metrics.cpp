#include "server/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace sfu::server {

void Histogram::observe(uint64_t value) {
  const size_t i = size_t(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  ++buckets_[i];
  sum_ += value;
  ++count_;
}

void Histogram::merge(const Histogram& other) {
  for (size_t i = 0; i < buckets_.size() && i < other.buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  sum_ += other.sum_;
  count_ += other.count_;
}

namespace {

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string_view type_name(Exposition::Type t) {
  switch (t) {
    case Exposition::Type::counter: return "counter";
    case Exposition::Type::gauge: return "gauge";
    case Exposition::Type::histogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

void Exposition::family(std::string_view name, Type type, std::string_view help) {
  if (!valid_name(name, true)) throw std::invalid_argument("metric name '" + std::string(name) + "'");
  current_ = name;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void Exposition::write_labels(Labels labels, std::string_view extra_key, std::string_view extra_value) {
  if (labels.size() == 0 && extra_key.empty()) return;
  out_ += '{';
  bool first = true;
  auto one = [&](std::string_view k, std::string_view v) {
    if (!valid_name(k, false) || k.starts_with("__")) throw std::invalid_argument("label name '" + std::string(k) + "'");
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    out_ += escape_label_value(v);
    out_ += '"';
  };
  for (const auto& [k, v] : labels) one(k, v);
  if (!extra_key.empty()) one(extra_key, extra_value);
  out_ += '}';
}

void Exposition::write_value(double v) {
  out_ += ' ';
  out_ += format_value(v);
  out_ += '\n';
}

void Exposition::sample(Labels labels, double value) {
  out_ += current_;
  write_labels(labels);
  write_value(value);
}

void Exposition::sample(Labels labels, uint64_t value) {
  out_ += current_;
  write_labels(labels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void Exposition::histogram(Labels labels, const Histogram& h, double divisor) {
  uint64_t cumulative = 0;
  const auto bounds = h.bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += h.buckets()[i];
    out_ += current_;
    out_ += "_bucket";
    write_labels(labels, "le", i < bounds.size() ? format_value(double(bounds[i]) / divisor) : "+Inf");
    out_ += ' ';
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  out_ += current_;
  out_ += "_sum";
  write_labels(labels);
  write_value(double(h.sum()) / divisor);
  out_ += current_;
  out_ += "_count";
  write_labels(labels);
  out_ += ' ';
  out_ += std::to_string(h.count());
  out_ += '\n';
}

}  // namespace sfu::server
