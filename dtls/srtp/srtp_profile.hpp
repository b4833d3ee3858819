// SRTP protection profiles negotiated by DTLS-SRTP (RFC 5764 §4.1.2, AEAD
// profiles from RFC 7714 §14.2), their key/salt/tag sizes, and the keying
// material handed from the DTLS session to the SRTP session.
//
//   profile (IANA id)                   master key  master salt  SRTP tag  SRTCP tag
//   SRTP_AES128_CM_HMAC_SHA1_80 0x0001  16          14           10        10
//   SRTP_AES128_CM_HMAC_SHA1_32 0x0002  16          14            4        10
//   SRTP_AEAD_AES_128_GCM       0x0007  16          12           16        16
//
// The SRTCP tag of the _32 profile is 80 bits (RFC 5764 §4.1.2). SRTCP also
// appends a 4-byte E-flag + SRTCP index word (RFC 3711 §3.4) before the tag
// (or, for AEAD, after it: RFC 7714 §9.1).
//
// Key export (RFC 5764 §4.2): the DTLS exporter with label
// "EXTRACTOR-dtls_srtp" yields, in this order,
//   client_write_key | server_write_key | client_write_salt | server_write_salt
// and each side protects with its own write key and unprotects with its
// peer's. srtp_keying_material_from_exporter() splits that block.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"

namespace sfu::dtls {

enum class SrtpProfile : uint8_t {
  aes128_cm_sha1_80,  // SRTP_AES128_CM_HMAC_SHA1_80
  aes128_cm_sha1_32,  // SRTP_AES128_CM_HMAC_SHA1_32
  aead_aes_128_gcm,   // SRTP_AEAD_AES_128_GCM
};

// The longest master key + master salt of any supported profile (16 + 14).
inline constexpr size_t kMaxSrtpKeySaltLen = 30;

// Label for SSL_export_keying_material (RFC 5764 §4.2).
inline constexpr std::string_view kSrtpExporterLabel = "EXTRACTOR-dtls_srtp";

// Profile list for SSL_CTX_set_tlsext_use_srtp, most preferred first. GCM
// leads: it is both the stronger transform and the cheaper one per packet
// (one AEAD pass instead of AES-CTR plus HMAC-SHA1).
inline constexpr const char* kSrtpProfilesOpenSsl = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";

// Master key length in bytes.
constexpr size_t srtp_master_key_len(SrtpProfile) { return 16; }

// Master salt length in bytes: 112 bits for AES-CM, 96 bits for AEAD (RFC 7714 §12).
constexpr size_t srtp_master_salt_len(SrtpProfile p) { return p == SrtpProfile::aead_aes_128_gcm ? 12 : 14; }

// Master key + master salt, the unit libsrtp takes and SrtpKeyingMaterial holds.
constexpr size_t srtp_key_salt_len(SrtpProfile p) { return srtp_master_key_len(p) + srtp_master_salt_len(p); }

// Authentication tag appended to each SRTP packet.
constexpr size_t srtp_rtp_tag_len(SrtpProfile p) {
  switch (p) {
    case SrtpProfile::aes128_cm_sha1_80:
      return 10;
    case SrtpProfile::aes128_cm_sha1_32:
      return 4;
    case SrtpProfile::aead_aes_128_gcm:
      return 16;
  }
  return 16;
}

// Authentication tag appended to each SRTCP packet (not counting the 4-byte index word).
constexpr size_t srtp_rtcp_tag_len(SrtpProfile p) { return p == SrtpProfile::aead_aes_128_gcm ? 16 : 10; }

// Bytes protect_rtp adds to a packet (tag only; we use no MKI).
constexpr size_t srtp_rtp_trailer_len(SrtpProfile p) { return srtp_rtp_tag_len(p); }

// Bytes protect_rtcp adds to a packet: SRTCP index word + tag.
constexpr size_t srtp_rtcp_trailer_len(SrtpProfile p) { return 4 + srtp_rtcp_tag_len(p); }

// Length of the exporter output to request for profile p (RFC 5764 §4.2).
constexpr size_t srtp_exporter_len(SrtpProfile p) { return 2 * srtp_key_salt_len(p); }

// DTLS-SRTP protection profile id (RFC 5764 §4.1.2, RFC 7714 §14.2).
constexpr uint16_t srtp_profile_id(SrtpProfile p) {
  switch (p) {
    case SrtpProfile::aes128_cm_sha1_80:
      return 0x0001;
    case SrtpProfile::aes128_cm_sha1_32:
      return 0x0002;
    case SrtpProfile::aead_aes_128_gcm:
      return 0x0007;
  }
  return 0;
}

// Profile for a DTLS-SRTP protection profile id; nullopt for ids we do not
// support (NULL ciphers, AES-256-GCM, ...).
constexpr std::optional<SrtpProfile> srtp_profile_from_id(uint16_t id) {
  switch (id) {
    case 0x0001:
      return SrtpProfile::aes128_cm_sha1_80;
    case 0x0002:
      return SrtpProfile::aes128_cm_sha1_32;
    case 0x0007:
      return SrtpProfile::aead_aes_128_gcm;
    default:
      return std::nullopt;
  }
}

// OpenSSL's name for the profile (SRTP_PROTECTION_PROFILE::name).
constexpr std::string_view srtp_profile_openssl_name(SrtpProfile p) {
  switch (p) {
    case SrtpProfile::aes128_cm_sha1_80:
      return "SRTP_AES128_CM_SHA1_80";
    case SrtpProfile::aes128_cm_sha1_32:
      return "SRTP_AES128_CM_SHA1_32";
    case SrtpProfile::aead_aes_128_gcm:
      return "SRTP_AEAD_AES_128_GCM";
  }
  return "";
}

// Profile for an OpenSSL profile name; nullopt for names we do not support.
constexpr std::optional<SrtpProfile> srtp_profile_from_openssl_name(std::string_view name) {
  for (auto p : {SrtpProfile::aes128_cm_sha1_80, SrtpProfile::aes128_cm_sha1_32, SrtpProfile::aead_aes_128_gcm}) {
    if (srtp_profile_openssl_name(p) == name) return p;
  }
  return std::nullopt;
}

// Short name for logs and metrics labels.
constexpr std::string_view to_string(SrtpProfile p) {
  switch (p) {
    case SrtpProfile::aes128_cm_sha1_80:
      return "aes128_cm_sha1_80";
    case SrtpProfile::aes128_cm_sha1_32:
      return "aes128_cm_sha1_32";
    case SrtpProfile::aead_aes_128_gcm:
      return "aead_aes_128_gcm";
  }
  return "unknown";
}

// What the DTLS session hands the SRTP session once the handshake is done.
// Each array holds master key || master salt (libsrtp's layout), the first
// key_salt_len bytes of it; the rest is zero. local_key_salt protects what
// we send, remote_key_salt unprotects what we receive.
struct SrtpKeyingMaterial {
  SrtpProfile profile = SrtpProfile::aead_aes_128_gcm;
  std::array<uint8_t, kMaxSrtpKeySaltLen> local_key_salt{};
  std::array<uint8_t, kMaxSrtpKeySaltLen> remote_key_salt{};
  size_t key_salt_len = 0;  // must equal srtp_key_salt_len(profile)
};

// Splits the RFC 5764 §4.2 exporter output for `profile` into local and
// remote key||salt. `exported` must be exactly srtp_exporter_len(profile)
// bytes, else nullopt. local_is_client: we were the DTLS client, so we
// protect with the client_write_* half.
inline std::optional<SrtpKeyingMaterial> srtp_keying_material_from_exporter(SrtpProfile profile, Bytes exported,
                                                                            bool local_is_client) {
  const size_t key = srtp_master_key_len(profile);
  const size_t salt = srtp_master_salt_len(profile);
  if (exported.size() != srtp_exporter_len(profile)) return std::nullopt;
  SrtpKeyingMaterial km;
  km.profile = profile;
  km.key_salt_len = key + salt;
  auto& client = local_is_client ? km.local_key_salt : km.remote_key_salt;
  auto& server = local_is_client ? km.remote_key_salt : km.local_key_salt;
  std::memcpy(client.data(), exported.data(), key);
  std::memcpy(server.data(), exported.data() + key, key);
  std::memcpy(client.data() + key, exported.data() + 2 * key, salt);
  std::memcpy(server.data() + key, exported.data() + 2 * key + salt, salt);
  return km;
}

}  // namespace sfu::dtls
