// EvpSrtp: checks, per-SSRC state and the transforms put together, in the
// order RFC 3711 §3.3 gives for a receiver (index estimate, replay check,
// authentication, decryption, then the replay list and ROC update) and
// §3.3 / §3.4 for a sender.
#include "dtls/srtp/srtp_evp.hpp"

#include <openssl/rand.h>

#include <utility>

namespace sfu::dtls {

namespace {

constexpr uint32_t kEFlag = 0x80000000u;  // RFC 3711 §3.4: E flag above the 31-bit SRTCP index
constexpr uint32_t kNone = SrtpStreamTable::kNone;

SrtpError replay_error(SrtpReplay r) {
  return r == SrtpReplay::duplicate ? SrtpError::replay_fail : SrtpError::replay_old;
}

// A per-table hash multiplier nobody outside this process knows.
uint32_t random_seed() {
  uint8_t b[4] = {0x9e, 0x37, 0x79, 0xb9};  // golden ratio if RAND fails: still correct, only predictable
  if (RAND_bytes(b, sizeof b) != 1) return 0x9e3779b9u;
  return load_be32(b);
}

}  // namespace

size_t srtp_rtp_header_len(Bytes packet) {
  if (packet.size() < 12 || (packet[0] >> 6) != 2) return 0;
  size_t len = 12 + 4 * size_t(packet[0] & 0x0f);
  if (packet[0] & 0x10) {
    if (packet.size() < len + 4) return 0;
    len += 4 + 4 * size_t(load_be16(&packet[len + 2]));  // checked just above
  }
  return len <= packet.size() ? len : 0;
}

bool srtp_rtcp_header_ok(Bytes packet) { return packet.size() >= 8 && (packet[0] >> 6) == 2; }

// ---- Keying --------------------------------------------------------------------

std::optional<EvpSrtp::Direction> EvpSrtp::make_direction(SrtpProfile profile, Bytes key_salt, bool sealing,
                                                          const EvpSrtpConfig& cfg) {
  const Bytes key = key_salt.first(srtp_master_key_len(profile));
  const Bytes salt = key_salt.subspan(key.size(), srtp_master_salt_len(profile));
  auto rtp = SrtpTransform::derive(profile, false, sealing, key, salt);
  auto rtcp = SrtpTransform::derive(profile, true, sealing, key, salt);
  if (!rtp || !rtcp) return std::nullopt;
  return Direction{std::move(*rtp), std::move(*rtcp),
                   SrtpStreamTable(cfg.replay_window, cfg.initial_streams, cfg.max_streams, random_seed())};
}

Result<EvpSrtp, SrtpError> EvpSrtp::create(const SrtpKeyingMaterial& keys, const EvpSrtpConfig& cfg) {
  // The window bounds are libsrtp's (64 <= ws < 2^15), so that a config is
  // valid for both backends.
  if (srtp_profile_id(keys.profile) == 0 || keys.key_salt_len != srtp_key_salt_len(keys.profile) ||
      cfg.replay_window < 64 || cfg.replay_window >= 0x8000 || cfg.initial_streams == 0 ||
      cfg.initial_streams > cfg.max_streams || cfg.max_streams > SrtpStreamTable::kMaxStreamsLimit) {
    return fail(SrtpError::bad_config);
  }
  const Bytes local = Bytes(keys.local_key_salt).first(keys.key_salt_len);
  const Bytes remote = Bytes(keys.remote_key_salt).first(keys.key_salt_len);
  auto tx = make_direction(keys.profile, local, true, cfg);
  auto rx = make_direction(keys.profile, remote, false, cfg);
  if (!tx || !rx) return fail(SrtpError::other);
  return EvpSrtp(keys.profile, cfg.allow_repeat_tx, std::move(*tx), std::move(*rx));
}

EvpSrtp::EvpSrtp(SrtpProfile profile, bool allow_repeat_tx, Direction tx, Direction rx)
    : profile_(profile), allow_repeat_tx_(allow_repeat_tx), tx_(std::move(tx)), rx_(std::move(rx)) {}

uint32_t EvpSrtp::tx_stream(uint32_t ssrc) {
  uint32_t stream = tx_.streams.find(ssrc);
  if (stream == kNone) {
    stream = tx_.streams.insert(ssrc);
    if (stream == kNone) ++table_full_drops_;
  }
  return stream;
}

// ---- SRTP ---------------------------------------------------------------------------

Result<size_t, SrtpError> EvpSrtp::protect_rtp(MutBytes buffer, size_t length) {
  if (length > buffer.size() || length > kMaxSrtpPacket) return fail(SrtpError::malformed);
  const size_t header = srtp_rtp_header_len(buffer.first(length));
  if (header == 0) return fail(SrtpError::malformed);
  if (buffer.size() - length < tx_.rtp.tag_len()) return fail(SrtpError::no_room);
  const uint32_t ssrc = load_be32(&buffer[8]);  // header >= 12
  const uint32_t stream = tx_stream(ssrc);
  if (stream == kNone) return fail(SrtpError::other);
  const SrtpIndexGuess guess = tx_.streams.rtp_estimate(stream, load_be16(&buffer[2]));
  // A sender must not reuse an index with other bytes (the keystream would
  // repeat), so the replay list guards protect too (RFC 3711 §3.3.2),
  // except that a plain retransmission of the same packet may be let
  // through (allow_repeat_tx); it then leaves the window as it is.
  const SrtpReplay replay = tx_.streams.rtp_check(stream, guess.delta);
  const bool repeat = replay == SrtpReplay::duplicate && allow_repeat_tx_;
  if (replay != SrtpReplay::fresh && !repeat) return fail(replay_error(replay));
  if (!tx_.rtp.seal_rtp(buffer, header, length, ssrc, guess.index)) return fail(SrtpError::other);
  if (!repeat) tx_.streams.rtp_add(stream, guess.delta);
  return length + tx_.rtp.tag_len();
}

Result<size_t, SrtpError> EvpSrtp::unprotect_rtp(MutBytes buffer, size_t length) {
  if (length > buffer.size() || length > kMaxSrtpPacket) return fail(SrtpError::malformed);
  const size_t header = srtp_rtp_header_len(buffer.first(length));
  if (header == 0 || length - header < rx_.rtp.tag_len()) return fail(SrtpError::malformed);
  const uint32_t ssrc = load_be32(&buffer[8]);
  uint32_t stream = rx_.streams.find(ssrc);
  // §3.3 steps 2 and 5: estimate the index, check the replay list before
  // spending any crypto on it, then authenticate (and decrypt).
  const SrtpIndexGuess guess = rx_.streams.rtp_estimate(stream, load_be16(&buffer[2]));
  const SrtpReplay replay = rx_.streams.rtp_check(stream, guess.delta);
  if (replay != SrtpReplay::fresh) return fail(replay_error(replay));
  if (!rx_.rtp.open_rtp(buffer, header, length, ssrc, guess.index)) return fail(SrtpError::auth_fail);
  // §3.3 step 7: only an authenticated packet updates ROC and replay list
  // (and only it may create the SSRC's state).
  if (stream == kNone) {
    stream = rx_.streams.insert(ssrc);
    if (stream == kNone) {
      ++table_full_drops_;
      return fail(SrtpError::other);
    }
  }
  rx_.streams.rtp_add(stream, guess.delta);
  return length - rx_.rtp.tag_len();
}

// ---- SRTCP --------------------------------------------------------------------------

Result<size_t, SrtpError> EvpSrtp::protect_rtcp(MutBytes buffer, size_t length) {
  if (length > buffer.size() || length > kMaxSrtpPacket || !srtp_rtcp_header_ok(buffer.first(length))) {
    return fail(SrtpError::malformed);
  }
  if (buffer.size() - length < tx_.rtcp.trailer_len()) return fail(SrtpError::no_room);
  const uint32_t ssrc = load_be32(&buffer[4]);
  const uint32_t stream = tx_stream(ssrc);
  if (stream == kNone) return fail(SrtpError::other);
  // RFC 3711 §3.4: the index starts at 0 and counts every packet sent on
  // this SSRC; after 2^31 packets the key must be changed, so refuse.
  const uint32_t index = tx_.streams.rtcp_next(stream);
  if (index >= kEFlag) return fail(SrtpError::other);
  if (!tx_.rtcp.seal_rtcp(buffer, length, index)) return fail(SrtpError::other);
  tx_.streams.set_rtcp_next(stream, index + 1);
  return length + tx_.rtcp.trailer_len();
}

Result<size_t, SrtpError> EvpSrtp::unprotect_rtcp(MutBytes buffer, size_t length) {
  if (length > buffer.size() || length > kMaxSrtpPacket || !srtp_rtcp_header_ok(buffer.first(length)) ||
      length - 8 < rx_.rtcp.trailer_len()) {
    return fail(SrtpError::malformed);
  }
  const uint32_t word = load_be32(&buffer[rx_.rtcp.rtcp_index_offset(length)]);
  // Every profile we negotiate encrypts SRTCP; a packet saying otherwise
  // (E = 0, RFC 3711 §3.4) is not one our peer sends. See the header.
  if ((word & kEFlag) == 0) return fail(SrtpError::malformed);
  const uint32_t index = word & ~kEFlag;
  const uint32_t ssrc = load_be32(&buffer[4]);
  uint32_t stream = rx_.streams.find(ssrc);
  const SrtpReplay replay = rx_.streams.rtcp_check(stream, index);
  if (replay != SrtpReplay::fresh) return fail(replay_error(replay));
  if (!rx_.rtcp.open_rtcp(buffer, length, index)) return fail(SrtpError::auth_fail);
  if (stream == kNone) {
    stream = rx_.streams.insert(ssrc);
    if (stream == kNone) {
      ++table_full_drops_;
      return fail(SrtpError::other);
    }
  }
  rx_.streams.rtcp_add(stream, index);
  return length - rx_.rtcp.trailer_len();
}

}  // namespace sfu::dtls
