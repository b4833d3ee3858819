// libFuzzer target: SrtpSession::unprotect_rtp / unprotect_rtcp (and the
// header checks of protect_*) over arbitrary bytes, for every profile and
// both backends, with a fixed key so that seed packets authenticate and the
// fuzzer can mutate from packets that reach the decrypt and replay paths;
// and a differential mode in which the EVP and libsrtp backends must agree.
//
// Input layout:
//   byte 0          selector s: profile = s % 3 (gcm, cm_sha1_80, cm_sha1_32);
//                   mode = (s / 3) % 3 (0 differential, 1 evp, 2 libsrtp);
//                   replay window = (s / 9) % 2 ? 64 : 1024
//   then records    2-byte big-endian length L, then L bytes (the last
//                   record may be cut short by the end of the input)
// Records go, in order, through one session per backend per input, so
// replay state carries from one record to the next. Each is classified as
// the transport does (RFC 5761 §4: second byte 192..223 is RTCP) and
// unprotected in a buffer of exactly its size; then its bytes are given to
// protect_* as plaintext, in a buffer with kMaxTrailer spare bytes.
//
// Differential mode (the seeds' mode): every record is unprotected by both
// backends, which must return the same verdict (error reason included) and,
// on success, the same plaintext; the one documented difference (SRTCP with
// E = 0: malformed for EVP, refused otherwise by libsrtp; srtp_evp.hpp) is
// checked as such. Protect must agree too: same verdict, and for RTP the
// same bytes; SRTCP bytes differ by design (EVP's first index is 0,
// libsrtp's 1), so each backend's SRTCP output must open in a verifier
// session of the other backend and give back the plaintext.
//
// Seeds (tests/fuzz/corpus/srtp_unprotect/) come from this binary, so they
// are protected with this key: SFU_WRITE_SRTP_SEEDS=<dir> srtp_unprotect_fuzz
// writes two files per profile (RTP with CSRC + extension, RTCP, a replay
// and an empty-payload RTP; RTP on two SSRCs across the sequence wrap) and
// exits. They are written through the libsrtp backend.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "dtls/srtp/srtp_session.hpp"

namespace {

using sfu::dtls::SrtpBackend;
using sfu::dtls::SrtpError;
using sfu::dtls::SrtpKeyingMaterial;
using sfu::dtls::SrtpProfile;
using sfu::dtls::SrtpSession;
using Buffer = std::vector<uint8_t>;

// Master key || salt the seeds were protected with (bytes 1..30).
constexpr uint8_t kFuzzKeySalt[30] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                      16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};

SrtpSession make_session(SrtpProfile profile, SrtpBackend backend, size_t window = 1024) {
  SrtpKeyingMaterial km;
  km.profile = profile;
  km.key_salt_len = sfu::dtls::srtp_key_salt_len(profile);
  std::memcpy(km.remote_key_salt.data(), kFuzzKeySalt, km.key_salt_len);
  std::memcpy(km.local_key_salt.data(), kFuzzKeySalt, km.key_salt_len);
  auto s = SrtpSession::create(km, {.replay_window = window, .backend = backend});
  if (!s.ok()) __builtin_trap();  // fixed, valid keys: cannot fail
  return std::move(s).value();
}

[[noreturn]] void mismatch(const char* what) {
  std::fprintf(stderr, "srtp differential mismatch: %s\n", what);
  __builtin_trap();
}

bool looks_like_rtcp(const uint8_t* p, size_t n) { return n >= 2 && p[1] >= 192 && p[1] <= 223; }

constexpr SrtpProfile kProfiles[] = {SrtpProfile::aead_aes_128_gcm, SrtpProfile::aes128_cm_sha1_80,
                                     SrtpProfile::aes128_cm_sha1_32};

// Splits the input after byte 0 into records (see the layout above).
struct Records {
  const uint8_t* data;
  size_t size;
  size_t pos = 1;
  bool next(const uint8_t*& rec, size_t& len) {
    if (pos + 2 > size) return false;
    len = size_t(data[pos]) << 8 | data[pos + 1];
    pos += 2;
    if (len > size - pos) len = size - pos;
    rec = data + pos;
    pos += len;
    return true;
  }
};

auto unprotect(SrtpSession& s, Buffer& buf, const uint8_t* rec, size_t len, bool rtcp) {
  buf.assign(rec, rec + len);  // exactly the record: an over-read is an ASan report
  return rtcp ? s.unprotect_rtcp(buf, len) : s.unprotect_rtp(buf, len);
}

auto protect(SrtpSession& s, Buffer& buf, const uint8_t* rec, size_t len, bool rtcp) {
  buf.assign(rec, rec + len);
  buf.resize(len + SrtpSession::kMaxTrailer);
  return rtcp ? s.protect_rtcp(buf, len) : s.protect_rtp(buf, len);
}

// One backend alone: no crash, no over-read, no length beyond the buffer.
void run_single(SrtpSession& session, Records records) {
  Buffer buf;
  const uint8_t* rec = nullptr;
  size_t len = 0;
  while (records.next(rec, len)) {
    const bool rtcp = looks_like_rtcp(rec, len);
    auto r = unprotect(session, buf, rec, len, rtcp);
    if (r.ok() && *r > len) __builtin_trap();
    auto p = protect(session, buf, rec, len, rtcp);
    if (p.ok() && *p > buf.size()) __builtin_trap();
  }
}

// True if `rec` is SRTCP whose E flag is 0, for `profile`'s trailer layout.
bool srtcp_e_flag_clear(SrtpProfile profile, const uint8_t* rec, size_t len) {
  const size_t tag = sfu::dtls::srtp_rtcp_tag_len(profile);
  if (len < 8 + 4 + tag) return false;
  const size_t at = profile == SrtpProfile::aead_aes_128_gcm ? len - 4 : len - 4 - tag;
  return (rec[at] & 0x80) == 0;
}

struct Differential {
  SrtpProfile profile;
  SrtpSession evp, lib;
  std::optional<SrtpSession> evp_verifier, lib_verifier;  // open the other's SRTCP
  Buffer a, b, c;

  void unprotect_both(const uint8_t* rec, size_t len, bool rtcp) {
    auto ra = unprotect(evp, a, rec, len, rtcp);
    auto rb = unprotect(lib, b, rec, len, rtcp);
    if (ra.ok() != rb.ok())
      mismatch(ra.ok() ? "unprotect: evp ok, libsrtp refused" : "unprotect: libsrtp ok, evp refused");
    if (ra.ok()) {
      if (*ra != *rb || std::memcmp(a.data(), b.data(), *ra) != 0) mismatch("unprotect: plaintexts differ");
      return;
    }
    if (ra.error() == rb.error()) return;
    if (rtcp && ra.error() == SrtpError::malformed && srtcp_e_flag_clear(profile, rec, len)) return;  // documented
    std::fprintf(stderr, "evp %s, libsrtp %s\n", std::string(to_string(ra.error())).c_str(),
                 std::string(to_string(rb.error())).c_str());
    mismatch("unprotect: different reasons");
  }

  // `sealed` from one backend must open in the other backend's verifier.
  void verify_rtcp(std::optional<SrtpSession>& verifier, SrtpBackend backend, const Buffer& sealed, size_t n,
                   const uint8_t* rec, size_t len) {
    if (!verifier) verifier.emplace(make_session(profile, backend));
    c.assign(sealed.begin(), sealed.begin() + long(n));
    auto r = verifier->unprotect_rtcp(c, n);
    if (!r.ok() || *r != len || std::memcmp(c.data(), rec, len) != 0)
      mismatch("protect_rtcp: output does not open across");
  }

  void protect_both(const uint8_t* rec, size_t len, bool rtcp) {
    auto pa = protect(evp, a, rec, len, rtcp);
    auto pb = protect(lib, b, rec, len, rtcp);
    if (pa.ok() != pb.ok() || (!pa.ok() && pa.error() != pb.error())) mismatch("protect: different verdicts");
    if (!pa.ok()) return;
    if (*pa != *pb) mismatch("protect: different lengths");
    if (!rtcp) {
      if (std::memcmp(a.data(), b.data(), *pa) != 0) mismatch("protect_rtp: different bytes");
      return;
    }
    verify_rtcp(lib_verifier, SrtpBackend::libsrtp, a, *pa, rec, len);
    verify_rtcp(evp_verifier, SrtpBackend::evp, b, *pb, rec, len);
  }
};

void run_differential(SrtpProfile profile, size_t window, Records records) {
  Differential d{profile,
                 make_session(profile, SrtpBackend::evp, window),
                 make_session(profile, SrtpBackend::libsrtp, window),
                 std::nullopt,
                 std::nullopt,
                 {},
                 {},
                 {}};
  const uint8_t* rec = nullptr;
  size_t len = 0;
  while (records.next(rec, len)) {
    const bool rtcp = looks_like_rtcp(rec, len);
    d.unprotect_both(rec, len, rtcp);
    d.protect_both(rec, len, rtcp);
  }
}

// ---- Seeds ------------------------------------------------------------------------

// Protects `plain` with `tx` and appends it to `seed` as one record.
void append_record(SrtpSession& tx, Buffer plain, Buffer& seed) {
  const size_t len = plain.size();
  plain.resize(len + SrtpSession::kMaxTrailer);
  auto n = looks_like_rtcp(plain.data(), len) ? tx.protect_rtcp(plain, len) : tx.protect_rtp(plain, len);
  if (!n.ok()) __builtin_trap();
  seed.push_back(uint8_t(*n >> 8));
  seed.push_back(uint8_t(*n));
  seed.insert(seed.end(), plain.begin(), plain.begin() + long(*n));
}

void write_file(const std::string& path, const Buffer& seed) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(seed.data(), 1, seed.size(), f) != seed.size()) std::abort();
  std::fclose(f);
}

void write_seeds(const std::string& dir) {
  // RTP: V=2 X=1 CC=1, PT 96, seq 1, SSRC 0x11111111, one CSRC, a one-byte
  // header extension block (RFC 8285), 100 bytes of payload.
  Buffer rtp = {0x91, 0x60, 0x00, 0x01, 0,    0,    0x10, 0,    0x11, 0x11, 0x11, 0x11,
                0x0b, 0xad, 0xf0, 0x0d, 0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00};
  rtp.resize(rtp.size() + 100, 0x42);
  Buffer rtcp = {0x80, 204, 0x00, 0x0b, 0x11, 0x11, 0x11, 0x11};  // APP, 48 bytes
  rtcp.resize(48, 0x24);
  const Buffer empty = {0x80, 0x60, 0x00, 0x02, 0, 0, 0x20, 0, 0x11, 0x11, 0x11, 0x11};
  for (uint8_t i = 0; i < 3; ++i) {
    const std::string name = dir + "/" + std::string(sfu::dtls::to_string(kProfiles[i]));
    SrtpSession tx = make_session(kProfiles[i], SrtpBackend::libsrtp);
    Buffer seed = {i};
    append_record(tx, rtp, seed);
    append_record(tx, rtcp, seed);
    const size_t first_len = size_t(seed[1]) << 8 | seed[2];
    seed.insert(seed.end(), seed.begin() + 1, seed.begin() + 3 + long(first_len));  // replay of record 1
    append_record(tx, empty, seed);
    write_file(name + "_rtp_rtcp_replay", seed);
    // Two SSRCs interleaved across the wrap: seq 65533..65535, 0..2 (ROC 0 -> 1).
    seed = {i};
    for (uint16_t k = 0; k < 6; ++k) {
      for (uint8_t ssrc : {0x22, 0x33}) {
        Buffer p = {0x80, 0x60, 0, 0, 0, 0, 0x30, 0, ssrc, ssrc, ssrc, ssrc};
        sfu::store_be16(&p[2], uint16_t(65533 + k));
        p.resize(12 + 20 * k, uint8_t(k));
        append_record(tx, p, seed);
      }
    }
    write_file(name + "_two_ssrcs_wrap", seed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("SFU_WRITE_SRTP_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const SrtpProfile profile = kProfiles[data[0] % 3];
  const unsigned mode = (data[0] / 3) % 3;
  const size_t window = (data[0] / 9) % 2 ? 64 : 1024;
  const Records records{data, size};
  if (mode == 0) {
    run_differential(profile, window, records);
  } else {
    SrtpSession session = make_session(profile, mode == 1 ? SrtpBackend::evp : SrtpBackend::libsrtp, window);
    run_single(session, records);
  }
  return 0;
}
