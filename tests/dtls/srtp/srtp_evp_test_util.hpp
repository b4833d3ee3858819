// Helpers shared by the SrtpEvp* tests: hex fixtures, RTP/RTCP packet
// builders, keying, and protect/unprotect in a guarded buffer.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dtls/srtp/srtp_evp.hpp"
#include "dtls/srtp/srtp_session.hpp"

namespace sfu::dtls::evp_test {

using Vec = std::vector<uint8_t>;

// Hex digits to bytes; spaces and line breaks (as in the RFCs) are skipped.
inline Vec hex(std::string_view s) {
  std::string digits;
  for (char c : s) {
    if (std::isxdigit(static_cast<unsigned char>(c))) digits += c;
  }
  Vec out;
  for (size_t i = 0; i + 1 < digits.size(); i += 2)
    out.push_back(uint8_t(std::stoul(digits.substr(i, 2), nullptr, 16)));
  return out;
}

constexpr SrtpProfile kAllProfiles[] = {SrtpProfile::aead_aes_128_gcm, SrtpProfile::aes128_cm_sha1_80,
                                        SrtpProfile::aes128_cm_sha1_32};

// Keying material with `local` and `remote` key||salt (truncated to the profile's length).
inline SrtpKeyingMaterial keying(SrtpProfile p, const Vec& local, const Vec& remote) {
  SrtpKeyingMaterial km;
  km.profile = p;
  km.key_salt_len = srtp_key_salt_len(p);
  std::copy_n(local.begin(), std::min(local.size(), km.key_salt_len), km.local_key_salt.begin());
  std::copy_n(remote.begin(), std::min(remote.size(), km.key_salt_len), km.remote_key_salt.begin());
  return km;
}

inline Vec key_a() { return hex("00112233445566778899aabbccddeeff f0e1d2c3b4a5968778695a4b3c2d"); }
inline Vec key_b() { return hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0 0123456789abcdef0123456789ab"); }

// A session on `backend` that protects with key_a and unprotects with key_b
// (sender = true), or the reverse: a sender talks to a receiver.
inline SrtpSession session(SrtpProfile p, SrtpBackend backend, bool sender, SrtpSessionConfig cfg = {}) {
  cfg.backend = backend;
  auto s = SrtpSession::create(sender ? keying(p, key_a(), key_b()) : keying(p, key_b(), key_a()), cfg);
  if (!s.ok()) {
    ADD_FAILURE() << "create: " << to_string(s.error());
    std::abort();  // every caller needs the session
  }
  return std::move(s).value();
}

inline EvpSrtp evp(SrtpProfile p, bool sender, EvpSrtpConfig cfg = {}) {
  auto s = EvpSrtp::create(sender ? keying(p, key_a(), key_b()) : keying(p, key_b(), key_a()), cfg);
  if (!s.ok()) {
    ADD_FAILURE() << "create: " << to_string(s.error());
    std::abort();
  }
  return std::move(s).value();
}

// RTP packet shape for the builders below.
struct RtpShape {
  uint16_t seq = 0;
  uint32_t ssrc = 0x11223344;
  size_t payload = 100;
  uint8_t csrcs = 0;     // CC, 0..15
  size_t ext_words = 0;  // extension block length in 32-bit words (0 = no X bit)
  bool two_byte_ext = false;
  uint8_t padding = 0;  // P bit and this many padding octets (the last = count)
};

// V=2, PT 111, marker set, timestamp 0x01e240 + seq, patterned contents.
inline Vec rtp_packet(const RtpShape& s) {
  Vec p = {uint8_t(0x80 | (s.padding ? 0x20 : 0) | (s.ext_words || s.two_byte_ext ? 0x10 : 0) | s.csrcs),
           0xef,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0,
           0};
  store_be16(&p[2], s.seq);
  store_be32(&p[4], 0x01e240u + s.seq);
  store_be32(&p[8], s.ssrc);
  for (uint8_t i = 0; i < s.csrcs; ++i) {
    const uint8_t c[4] = {0xc5, 0x00, 0x00, uint8_t(i)};
    p.insert(p.end(), c, c + 4);
  }
  if (s.ext_words || s.two_byte_ext) {
    const uint16_t profile = s.two_byte_ext ? 0x1000 : 0xbede;  // RFC 8285 §4.3 / §4.2
    const uint8_t h[4] = {uint8_t(profile >> 8), uint8_t(profile), uint8_t(s.ext_words >> 8), uint8_t(s.ext_words)};
    p.insert(p.end(), h, h + 4);
    for (size_t i = 0; i < 4 * s.ext_words; ++i) p.push_back(uint8_t(0x10 + i));
  }
  for (size_t i = 0; i < s.payload; ++i) p.push_back(uint8_t(i * 7 + s.seq));
  for (uint8_t i = 1; i <= s.padding; ++i) p.push_back(i == s.padding ? s.padding : 0);
  return p;
}

inline Vec rtp_packet(uint16_t seq, uint32_t ssrc, size_t payload) {
  return rtp_packet(RtpShape{.seq = seq, .ssrc = ssrc, .payload = payload});
}

// A compound RTCP packet of exactly `total` bytes (a multiple of 4, >= 8):
// an RR from `ssrc` with no report blocks, then APP packets of varied sizes
// filling the rest. Under 20 bytes there is no room for an APP (>= 12), so
// the RR carries the rest as profile-specific extension (RFC 3550 §6.4.2).
inline Vec rtcp_packet(uint32_t ssrc, size_t total) {
  const size_t rr = total < 20 ? total : 8;
  Vec p = {0x80, 201, 0, 0, 0, 0, 0, 0};
  store_be16(&p[2], uint16_t(rr / 4 - 1));
  store_be32(&p[4], ssrc);
  for (size_t i = 8; i < rr; ++i) p.push_back(uint8_t(i));
  size_t left = total - rr;  // 0 or >= 12 from here on
  while (left > 0) {
    const size_t len = std::min<size_t>(left, 12 + 4 * (left % 64 + 1));
    const size_t take = left - len < 12 ? left : len;  // never leave a runt under 12
    Vec app = {0x80, 204, 0, 0, 0, 0, 0, 0, 'T', 'E', 'S', 'T'};
    store_be16(&app[2], uint16_t(take / 4 - 1));
    store_be32(&app[4], ssrc);
    for (size_t i = 12; i < take; ++i) app.push_back(uint8_t(i * 13 + take));
    p.insert(p.end(), app.begin(), app.end());
    left -= take;
  }
  return p;
}

// Runs `op` on a copy of `in` in a buffer with `room` spare bytes inside the
// span and 32 guard bytes after it; fails the test if a guard byte changes.
template <class Op>
Result<Vec, SrtpError> in_buffer(const Vec& in, size_t room, Op op) {
  Vec buf(in.size() + room + 32, 0xa5);
  std::copy(in.begin(), in.end(), buf.begin());
  auto r = op(MutBytes(buf).first(in.size() + room), in.size());
  EXPECT_TRUE(std::all_of(buf.end() - 32, buf.end(), [](uint8_t b) { return b == 0xa5; })) << "wrote past the span";
  if (!r.ok()) return fail(r.error());
  EXPECT_LE(*r, in.size() + room);
  return Vec(buf.begin(), buf.begin() + long(*r));
}

// protect/unprotect through anything with SrtpSession's four calls.
template <class S>
Result<Vec, SrtpError> protect(S& s, const Vec& p, bool rtcp = false) {
  return in_buffer(p, SrtpSession::kMaxTrailer,
                   [&](MutBytes b, size_t n) { return rtcp ? s.protect_rtcp(b, n) : s.protect_rtp(b, n); });
}

template <class S>
Result<Vec, SrtpError> unprotect(S& s, const Vec& p, bool rtcp = false) {
  return in_buffer(p, 0, [&](MutBytes b, size_t n) { return rtcp ? s.unprotect_rtcp(b, n) : s.unprotect_rtp(b, n); });
}

// The error, or count_ for success: lets EXPECT_EQ compare verdicts.
inline SrtpError verdict(const Result<Vec, SrtpError>& r) { return r.ok() ? SrtpError::count_ : r.error(); }

// Test-name suffix for a profile parameter.
inline std::string profile_name(const ::testing::TestParamInfo<SrtpProfile>& param) {
  return std::string(to_string(param.param));
}

}  // namespace sfu::dtls::evp_test
