// SRTP/SRTCP session (RFC 3711, AEAD per RFC 7714): protects what we send
// and unprotects what we receive, in place in a caller-owned buffer, with
// replay protection on the receive side.
//
// One session per DTLS-SRTP association, keyed from SrtpKeyingMaterial: the
// outbound direction matches every SSRC we send, the inbound direction every
// SSRC we receive; per-SSRC state (rollover counter, replay window) is made
// the first time an SSRC is seen (for inbound, only once that packet has
// authenticated), so that first packet allocates and later ones do not.
//
// The backend is private to srtp_session.cpp (today libsrtp2; nothing of it
// appears here), so a faster one — OpenSSL EVP, say — can replace it without
// touching callers. That matters: Debian's libsrtp2 does its crypto through
// NSS, which costs 2-6x OpenSSL EVP per packet and allocates inside NSS on
// every packet (5 mallocs per GCM packet, 14 per AES-CM one, measured);
// this wrapper itself allocates nothing per packet.
//
// Media-path policy: nothing here throws or aborts on remote input; every
// refusal is an SrtpError to count. A session belongs to one worker thread
// (no internal locking); a moved-from session refuses every call with other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "dtls/srtp/srtp_profile.hpp"

namespace sfu::dtls {

// Why a packet (or a session) was refused; distinct so the transport can
// count drops by reason.
enum class SrtpError : uint8_t {
  auth_fail,    // authentication tag did not verify (tampered, wrong key, garbage)
  replay_fail,  // index already seen inside the replay window (a duplicate)
  replay_old,   // index is older than the replay window reaches
  malformed,    // not a well-formed RTP/RTCP packet, or too short for the tag
  no_room,      // protect: the buffer has no room for the trailer
  bad_config,   // create: key length or replay window out of range
  other,        // anything else the backend reports
  count_,       // number of reasons; keep last
};

// Name of the reason, for logs and metric labels.
constexpr std::string_view to_string(SrtpError e) {
  switch (e) {
    case SrtpError::auth_fail:
      return "auth_fail";
    case SrtpError::replay_fail:
      return "replay_fail";
    case SrtpError::replay_old:
      return "replay_old";
    case SrtpError::malformed:
      return "malformed";
    case SrtpError::no_room:
      return "no_room";
    case SrtpError::bad_config:
      return "bad_config";
    case SrtpError::other:
      return "other";
    case SrtpError::count_:
      break;
  }
  return "unknown";
}

// Which implementation does the crypto and keeps the per-SSRC state.
// evp (the default): our own SRTP/SRTCP on OpenSSL EVP (dtls/srtp/srtp_evp.hpp),
// no allocation per packet, about 2x (GCM) to 4x (AES-CM + HMAC-SHA1)
// cheaper than Debian's NSS-based libsrtp2. libsrtp: the libsrtp2 adapter,
// kept to cross-check and benchmark the two side by side. Both accept and
// refuse the same packets (srtp_evp.hpp lists the two deliberate
// differences, both about SRTCP).
enum class SrtpBackend : uint8_t { evp, libsrtp };

struct SrtpSessionConfig {
  // Inbound SRTP replay window in packets (RFC 3711 §3.3.2); 64..32767.
  // The outbound side keeps a window of the same size for its own checks.
  // SRTCP's window is fixed by the backend (128 for libsrtp).
  size_t replay_window = 1024;
  // Let protect_rtp accept a sequence number it has already protected, for
  // plain retransmission of the same packet. The bytes must be identical:
  // the same index with a different payload reuses keystream.
  bool allow_repeat_tx = true;
  // Implementation behind the session; see SrtpBackend.
  SrtpBackend backend = SrtpBackend::evp;
};

class SrtpSession {
 public:
  // Largest number of bytes any protect_* call appends, over all profiles
  // (SRTCP with GCM: 4-byte index + 16-byte tag). Size pooled buffers as
  // packet + kMaxTrailer and every call has room.
  static constexpr size_t kMaxTrailer = 20;

  // Builds a session from keying material. Fails with bad_config when
  // key_salt_len does not match the profile or the replay window is out of
  // range, with other if the backend refuses. The material is copied; the
  // caller may wipe its copy afterwards. Control path: allocates.
  static Result<SrtpSession, SrtpError> create(const SrtpKeyingMaterial& keys, SrtpSessionConfig cfg = {});

  SrtpSession(SrtpSession&& other) noexcept;
  SrtpSession& operator=(SrtpSession&& other) noexcept;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;
  ~SrtpSession();

  // The negotiated profile.
  SrtpProfile profile() const { return profile_; }
  // Bytes protect_rtp / protect_rtcp append for this session's profile.
  size_t rtp_trailer_len() const { return srtp_rtp_trailer_len(profile_); }
  size_t rtcp_trailer_len() const { return srtp_rtcp_trailer_len(profile_); }

  // Encrypts and authenticates the RTP packet in buffer[0, length) in place
  // and appends the tag. buffer.size() must be at least length +
  // rtp_trailer_len() (kMaxTrailer always suffices), else no_room and the
  // buffer is untouched. Returns the SRTP length. Fails with malformed if the
  // bytes are not an RTP packet (version 2, header within length), with
  // replay_fail / replay_old if this sequence number may not be sent again.
  // Nothing is written outside buffer[0, returned length).
  Result<size_t, SrtpError> protect_rtp(MutBytes buffer, size_t length);

  // Verifies and decrypts the SRTP packet in buffer[0, length) in place.
  // Returns the RTP length (length minus the tag). On any error the packet
  // must be dropped; its bytes may have been altered. Safe on arbitrary bytes.
  Result<size_t, SrtpError> unprotect_rtp(MutBytes buffer, size_t length);

  // protect_rtp for a (compound) RTCP packet: encrypts everything after the
  // first 8 bytes, appends the SRTCP index word and tag (rtcp_trailer_len()).
  Result<size_t, SrtpError> protect_rtcp(MutBytes buffer, size_t length);

  // unprotect_rtp for SRTCP: returns the RTCP length (without index and tag).
  Result<size_t, SrtpError> unprotect_rtcp(MutBytes buffer, size_t length);

 private:
  struct Backend;  // defined in srtp_session.cpp
  SrtpSession(std::unique_ptr<Backend> backend, SrtpProfile profile);

  std::unique_ptr<Backend> backend_;
  SrtpProfile profile_;
};

}  // namespace sfu::dtls
