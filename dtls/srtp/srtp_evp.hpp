// SRTP/SRTCP session on OpenSSL EVP (RFC 3711; AEAD_AES_128_GCM per RFC
// 7714): the default backend of SrtpSession, usable on its own.
//
// Why not libsrtp: Debian's libsrtp2 does its crypto through NSS, which
// costs ~2x (GCM) to ~4x (AES-CM + HMAC-SHA1) what OpenSSL EVP costs per
// packet and allocates inside NSS on every packet. Here each direction's
// EVP contexts are keyed once at create(), each packet only sets a new IV,
// HMAC-SHA1 resumes precomputed inner/outer states, and nothing is
// allocated per packet (tests/dtls/srtp/srtp_evp_test.cpp counts mallocs).
//
// Accept/refuse behaviour matches the libsrtp backend packet for packet
// (index estimation, replay windows, allow_repeat_tx; see
// srtp_evp_streams.hpp), which the cross-check tests and the differential
// fuzzer verify, with these deliberate differences:
//   - the first SRTCP index sent on an SSRC is 0, as RFC 3711 §3.4 says
//     (libsrtp sends 1 first); receivers of either accept both;
//   - an SRTCP packet with E = 0 (unencrypted) is refused as malformed
//     (libsrtp answers cant_check for AES-CM and, for GCM, checks the tag
//     over the whole packet); every profile we negotiate encrypts SRTCP.
//
// Per-SSRC state: a table per direction sized for initial_streams SSRCs at
// create(), doubled when a new SSRC needs room (one allocation when that
// SSRC first appears, never per packet), refused beyond max_streams: the
// packet is dropped with SrtpError::other and counted in
// table_full_drops(). A receiver adds an SSRC only after its first packet
// authenticated, so unauthenticated traffic cannot grow or fill the table.
//
// Media-path policy as SrtpSession: no throw, no abort on remote input;
// every refusal is an SrtpError. One worker thread; no locking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "dtls/srtp/srtp_evp_streams.hpp"
#include "dtls/srtp/srtp_evp_transform.hpp"
#include "dtls/srtp/srtp_profile.hpp"
#include "dtls/srtp/srtp_session.hpp"

namespace sfu::dtls {

struct EvpSrtpConfig {
  // RTP replay window in packets (RFC 3711 §3.3.2), 64..32767, rounded up
  // to a multiple of 32 as libsrtp does; used by both directions.
  size_t replay_window = 1024;
  // protect_rtp may protect an index again (plain retransmission of the
  // same bytes; see SrtpSessionConfig::allow_repeat_tx).
  bool allow_repeat_tx = true;
  // SSRCs per direction allocated at create(), and the cap (<= 32768).
  size_t initial_streams = 64;
  size_t max_streams = 4096;
};

class EvpSrtp {
 public:
  // Keys both directions from `keys` (local protects, remote unprotects;
  // RFC 3711 §4.3 derivation of all six session keys per direction). Fails
  // with bad_config on a key length or config out of range, with other if
  // OpenSSL refuses. Control path: allocates the contexts and tables.
  static Result<EvpSrtp, SrtpError> create(const SrtpKeyingMaterial& keys, const EvpSrtpConfig& cfg = {});

  EvpSrtp(EvpSrtp&&) noexcept = default;
  EvpSrtp& operator=(EvpSrtp&&) noexcept = default;
  ~EvpSrtp() = default;

  SrtpProfile profile() const { return profile_; }

  // The four calls have SrtpSession's contracts exactly (see there): in
  // place in buffer[0, length); protect needs room for the trailer (no_room,
  // buffer untouched); malformed for bytes that are not RTP/RTCP of the
  // right size; replay_fail / replay_old / auth_fail as named; nothing is
  // written outside buffer[0, returned length) (unprotect: [0, length)).
  Result<size_t, SrtpError> protect_rtp(MutBytes buffer, size_t length);
  Result<size_t, SrtpError> unprotect_rtp(MutBytes buffer, size_t length);
  Result<size_t, SrtpError> protect_rtcp(MutBytes buffer, size_t length);
  Result<size_t, SrtpError> unprotect_rtcp(MutBytes buffer, size_t length);

  // Packets dropped (SrtpError::other) because a direction already held
  // max_streams SSRCs and this one was new.
  uint64_t table_full_drops() const { return table_full_drops_; }
  // SSRCs known on the send / receive side.
  size_t tx_streams() const { return tx_.streams.size(); }
  size_t rx_streams() const { return rx_.streams.size(); }

 private:
  struct Direction {
    SrtpTransform rtp;
    SrtpTransform rtcp;
    SrtpStreamTable streams;
  };

  EvpSrtp(SrtpProfile profile, bool allow_repeat_tx, Direction tx, Direction rx);
  static std::optional<Direction> make_direction(SrtpProfile profile, Bytes key_salt, bool sealing,
                                                 const EvpSrtpConfig& cfg);
  uint32_t tx_stream(uint32_t ssrc);

  SrtpProfile profile_;
  bool allow_repeat_tx_;
  uint64_t table_full_drops_ = 0;
  Direction tx_;  // local key: protect
  Direction rx_;  // remote key: unprotect
};

// Length of the RTP header of `packet` (RFC 3550 §5.1 fixed part and CSRC
// list, plus the §5.3.1 extension block when X is set) if it is version 2
// and lies within the packet; 0 otherwise. Shared by both backends so that
// they refuse the same packets as malformed.
size_t srtp_rtp_header_len(Bytes packet);

// True if `packet` starts like an RTCP packet: RFC 3550 §6.4.1 version 2
// and the 8-byte header with the sender SSRC, which SRTCP leaves in clear.
bool srtp_rtcp_header_ok(Bytes packet);

}  // namespace sfu::dtls
