// Value codecs for the RTP header extensions the SFU reads or rewrites, and
// the URIs that name them in SDP a=extmap lines (RFC 8285 §5). Each parse_*
// takes an element value (RtpView::extension(id)); each write_* fills a span
// of exactly the value's size (e.g. from rtp_rewriter's mutable_extension)
// and returns the bytes written, or 0 when the span is too small or the value
// is invalid. Nothing here allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.hpp"
#include "common/parse_error.hpp"
#include "common/result.hpp"
#include "common/time.hpp"

namespace sfu::rtp::ext {

// ---- URIs -------------------------------------------------------------------

inline constexpr std::string_view kAbsSendTimeUri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
inline constexpr std::string_view kTransportWideCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
inline constexpr std::string_view kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";  // RFC 6464
inline constexpr std::string_view kMidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";                 // RFC 9143
inline constexpr std::string_view kRidUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";       // RFC 8852
inline constexpr std::string_view kRepairedRidUri =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";  // RFC 8852

// ---- abs-send-time ------------------------------------------------------------
//
//  0                   1                   2
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | seconds (6) |         fraction (18 bits)        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// Send time in seconds as 6.18 fixed point, i.e. modulo 64 s, resolution
// 1/262144 s (~3.8 us).

inline constexpr size_t kAbsSendTimeSize = 3;
inline constexpr int64_t kAbsSendTimeWrapMicros = 64'000'000;

// The 24-bit value for a time in microseconds (any epoch; taken modulo 64 s,
// negative times included), rounded to the nearest tick.
uint32_t abs_send_time_from_micros(int64_t micros);
// The 24-bit value for `t` (steady-clock microseconds modulo 64 s).
inline uint32_t abs_send_time_from_instant(Instant t) { return abs_send_time_from_micros(to_micros(t)); }
// Microseconds in [0, 64 s) that a 24-bit value stands for (upper bits of
// `value` ignored), rounded to the nearest microsecond.
int64_t abs_send_time_to_micros(uint32_t value);
// The instant nearest to `reference` whose abs-send-time is `value`: undoes
// the 64 s wrap, given a reference within +-32 s of the send time.
Instant abs_send_time_to_instant(uint32_t value, Instant reference);

// Reads a 3-byte value; bad_length for any other size.
Result<uint32_t, ParseError> parse_abs_send_time(Bytes value);
// Writes the low 24 bits of `value`; returns 3, or 0 when out has < 3 bytes.
size_t write_abs_send_time(MutBytes out, uint32_t value);

// ---- transport-wide sequence number --------------------------------------------
//
//  0                   1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   transport-wide sequence     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// draft-holmer-rmcat-transport-wide-cc-extensions-01 §2. (The 4-byte variant
// of transport-cc v2 carries feedback requests; only the 2-byte one here.)

inline constexpr size_t kTransportSequenceSize = 2;

// Reads a 2-byte sequence number; bad_length for any other size.
Result<uint16_t, ParseError> parse_transport_sequence(Bytes value);
// Writes `seq`; returns 2, or 0 when out has < 2 bytes.
size_t write_transport_sequence(MutBytes out, uint16_t seq);

// ---- ssrc-audio-level (RFC 6464 §3) ----------------------------------------------
//
//  0 1 2 3 4 5 6 7
// +-+-+-+-+-+-+-+-+
// |V|    level    |
// +-+-+-+-+-+-+-+-+
// V: voice activity (only meaningful when vad=on is signalled);
// level: 0..127, in -dBov (0 loudest, 127 silence).

inline constexpr size_t kAudioLevelSize = 1;

struct AudioLevel {
  bool voice_activity = false;
  uint8_t level = 127;  // -dBov, 0..127

  friend constexpr bool operator==(const AudioLevel&, const AudioLevel&) = default;
};

// Reads a 1-byte value; bad_length for any other size.
Result<AudioLevel, ParseError> parse_audio_level(Bytes value);
// Writes `level`; returns 1, or 0 when out is empty or level.level > 127.
size_t write_audio_level(MutBytes out, AudioLevel level);

// ---- MID (RFC 9143 §15), RtpStreamId and RepairedRtpStreamId (RFC 8852 §3) ----
//
// Raw ASCII, no terminator. Length 1..16: what fits a one-byte element, and
// what every WebRTC sender uses. Trailing zero bytes (sent by some
// implementations to fill a fixed-size element) are ignored on parse.
//
// Syntax: rid and repaired-rid are RFC 8851 rid-id, 1*(ALPHA / DIGIT / "-" /
// "_"). The MID is an RFC 5888 identification-tag, an RFC 4566 token, which
// also allows !#$%&'*+.^`{|}~ — accepting only the rid alphabet would drop
// streams from senders that use e.g. "audio.0".

inline constexpr size_t kMaxSdesValueSize = 16;

// True for 1..16 characters of ALPHA / DIGIT / "-" / "_".
bool is_valid_rid(std::string_view rid);
// True for 1..16 RFC 4566 token characters.
bool is_valid_mid(std::string_view mid);

// Views of the value bytes as text (borrowing `value`); bad_length when
// empty or longer than 16 bytes, bad_value for a character outside the
// syntax.
Result<std::string_view, ParseError> parse_mid(Bytes value);
Result<std::string_view, ParseError> parse_rid(Bytes value);
Result<std::string_view, ParseError> parse_repaired_rid(Bytes value);

// Write the text (no terminator); return its size, or 0 when invalid or
// `out` is too small. To overwrite an element in place the new text must
// have the element's length (rtp_rewriter's set_extension checks it).
size_t write_mid(MutBytes out, std::string_view mid);
size_t write_rid(MutBytes out, std::string_view rid);
size_t write_repaired_rid(MutBytes out, std::string_view rid);

}  // namespace sfu::rtp::ext
