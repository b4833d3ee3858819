#include "rtp/header_extensions.hpp"

#include <cstring>

namespace sfu::rtp::ext {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int kAbsSendTimeFractionBits = 18;
constexpr uint32_t kAbsSendTimeMask = 0xFFFFFF;

constexpr int64_t floor_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}

constexpr bool is_rid_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// RFC 4566 §9: token-char = %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39
//                           / %x41-5A / %x5E-7E
constexpr bool is_token_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2A || c == 0x2B || c == 0x2D || c == 0x2E ||
         (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x5E && c <= 0x7E);
}

template <bool (*Valid)(char)>
bool all_of_1_to_16(std::string_view s) {
  if (s.empty() || s.size() > kMaxSdesValueSize) return false;
  for (char c : s) {
    if (!Valid(c)) return false;
  }
  return true;
}

template <bool (*Valid)(char)>
Result<std::string_view, ParseError> parse_sdes_text(Bytes value) {
  size_t n = value.size();
  while (n > 0 && value[n - 1] == 0) --n;  // tolerate zero fill at the end
  if (n == 0 || n > kMaxSdesValueSize) return fail(ParseError::bad_length);
  const std::string_view text(reinterpret_cast<const char*>(value.data()), n);
  if (!all_of_1_to_16<Valid>(text)) return fail(ParseError::bad_value);
  return text;
}

size_t write_text(MutBytes out, std::string_view text) {
  if (out.size() < text.size()) return 0;
  std::memcpy(out.data(), text.data(), text.size());
  return text.size();
}

}  // namespace

// ---- abs-send-time ------------------------------------------------------------

uint32_t abs_send_time_from_micros(int64_t micros) {
  const int64_t m = floor_mod(micros, kAbsSendTimeWrapMicros);  // < 2^26, so m << 18 < 2^44
  const int64_t ticks = ((m << kAbsSendTimeFractionBits) + kMicrosPerSecond / 2) / kMicrosPerSecond;
  return uint32_t(ticks) & kAbsSendTimeMask;  // rounding up to 64 s wraps to 0
}

int64_t abs_send_time_to_micros(uint32_t value) {
  const int64_t ticks = value & kAbsSendTimeMask;
  return (ticks * kMicrosPerSecond + (int64_t(1) << (kAbsSendTimeFractionBits - 1))) >> kAbsSendTimeFractionBits;
}

Instant abs_send_time_to_instant(uint32_t value, Instant reference) {
  const int64_t ref = to_micros(reference);
  int64_t delta = abs_send_time_to_micros(value) - floor_mod(ref, kAbsSendTimeWrapMicros);
  if (delta >= kAbsSendTimeWrapMicros / 2) delta -= kAbsSendTimeWrapMicros;
  if (delta < -kAbsSendTimeWrapMicros / 2) delta += kAbsSendTimeWrapMicros;
  return from_micros(ref + delta);
}

Result<uint32_t, ParseError> parse_abs_send_time(Bytes value) {
  if (value.size() != kAbsSendTimeSize) return fail(ParseError::bad_length);
  return load_be24(value.data());
}

size_t write_abs_send_time(MutBytes out, uint32_t value) {
  if (out.size() < kAbsSendTimeSize) return 0;
  store_be24(out.data(), value & kAbsSendTimeMask);
  return kAbsSendTimeSize;
}

// ---- transport-wide sequence number --------------------------------------------

Result<uint16_t, ParseError> parse_transport_sequence(Bytes value) {
  if (value.size() != kTransportSequenceSize) return fail(ParseError::bad_length);
  return load_be16(value.data());
}

size_t write_transport_sequence(MutBytes out, uint16_t seq) {
  if (out.size() < kTransportSequenceSize) return 0;
  store_be16(out.data(), seq);
  return kTransportSequenceSize;
}

// ---- ssrc-audio-level ------------------------------------------------------------

Result<AudioLevel, ParseError> parse_audio_level(Bytes value) {
  if (value.size() != kAudioLevelSize) return fail(ParseError::bad_length);
  return AudioLevel{(value[0] & 0x80) != 0, uint8_t(value[0] & 0x7F)};
}

size_t write_audio_level(MutBytes out, AudioLevel level) {
  if (out.empty() || level.level > 0x7F) return 0;
  out[0] = uint8_t((level.voice_activity ? 0x80 : 0) | level.level);
  return kAudioLevelSize;
}

// ---- MID, rid, repaired-rid ----------------------------------------------------------

bool is_valid_rid(std::string_view rid) { return all_of_1_to_16<is_rid_char>(rid); }
bool is_valid_mid(std::string_view mid) { return all_of_1_to_16<is_token_char>(mid); }

Result<std::string_view, ParseError> parse_mid(Bytes value) { return parse_sdes_text<is_token_char>(value); }
Result<std::string_view, ParseError> parse_rid(Bytes value) { return parse_sdes_text<is_rid_char>(value); }
Result<std::string_view, ParseError> parse_repaired_rid(Bytes value) { return parse_rid(value); }

size_t write_mid(MutBytes out, std::string_view mid) { return is_valid_mid(mid) ? write_text(out, mid) : 0; }
size_t write_rid(MutBytes out, std::string_view rid) { return is_valid_rid(rid) ? write_text(out, rid) : 0; }
size_t write_repaired_rid(MutBytes out, std::string_view rid) { return write_rid(out, rid); }

}  // namespace sfu::rtp::ext
