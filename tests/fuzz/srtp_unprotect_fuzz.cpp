// libFuzzer target: SrtpSession::unprotect_rtp / unprotect_rtcp (and the
// header checks of protect_*) over arbitrary bytes, for every profile, with
// a fixed key so that seed packets authenticate and the fuzzer can mutate
// from packets that reach the decrypt and replay paths.
//
// Input layout:
//   byte 0          profile: value % 3 → gcm, cm_sha1_80, cm_sha1_32
//   then records    2-byte big-endian length L, then L bytes (the last
//                   record may be cut short by the end of the input)
// Records go, in order, through one session per input, so replay state
// carries from one record to the next. Each is classified as the transport
// does (RFC 5761 §4: second byte 192..223 is RTCP) and unprotected in a
// buffer of exactly its size; then its bytes are given to protect_* as
// plaintext, in a buffer with kMaxTrailer spare bytes.
//
// Seeds (tests/fuzz/corpus/srtp_unprotect/) come from this binary, so they
// are protected with this key: SFU_WRITE_SRTP_SEEDS=<dir> srtp_unprotect_fuzz
// writes one file per profile (RTP with CSRC + extension, RTCP, the same RTP
// again as a replay, an empty-payload RTP) and exits.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dtls/srtp_session.hpp"

namespace {

using sfu::dtls::SrtpKeyingMaterial;
using sfu::dtls::SrtpProfile;
using sfu::dtls::SrtpSession;

// Master key || salt the seeds were protected with (bytes 1..30).
constexpr uint8_t kFuzzKeySalt[30] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                      16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};

SrtpSession make_session(SrtpProfile profile) {
  SrtpKeyingMaterial km;
  km.profile = profile;
  km.key_salt_len = sfu::dtls::srtp_key_salt_len(profile);
  std::memcpy(km.remote_key_salt.data(), kFuzzKeySalt, km.key_salt_len);
  std::memcpy(km.local_key_salt.data(), kFuzzKeySalt, km.key_salt_len);
  auto s = SrtpSession::create(km);
  if (!s.ok()) __builtin_trap();  // fixed, valid keys: cannot fail
  return std::move(s).value();
}

bool looks_like_rtcp(const uint8_t* p, size_t n) { return n >= 2 && p[1] >= 192 && p[1] <= 223; }

constexpr SrtpProfile kProfiles[] = {SrtpProfile::aead_aes_128_gcm, SrtpProfile::aes128_cm_sha1_80,
                                     SrtpProfile::aes128_cm_sha1_32};

// Protects `plain` with `tx` and appends it to `seed` as one record.
void append_record(SrtpSession& tx, std::vector<uint8_t> plain, std::vector<uint8_t>& seed) {
  const size_t len = plain.size();
  plain.resize(len + SrtpSession::kMaxTrailer);
  auto n = looks_like_rtcp(plain.data(), len) ? tx.protect_rtcp(plain, len) : tx.protect_rtp(plain, len);
  if (!n.ok()) __builtin_trap();
  seed.push_back(uint8_t(*n >> 8));
  seed.push_back(uint8_t(*n));
  seed.insert(seed.end(), plain.begin(), plain.begin() + long(*n));
}

void write_seeds(const std::string& dir) {
  // RTP: V=2 X=1 CC=1, PT 96, seq 1, SSRC 0x11111111, one CSRC, a one-byte
  // header extension block (RFC 8285), 100 bytes of payload.
  std::vector<uint8_t> rtp = {0x91, 0x60, 0x00, 0x01, 0,    0,    0x10, 0,    0x11, 0x11, 0x11, 0x11,
                              0x0b, 0xad, 0xf0, 0x0d, 0xbe, 0xde, 0x00, 0x01, 0x10, 0xff, 0x00, 0x00};
  rtp.resize(rtp.size() + 100, 0x42);
  std::vector<uint8_t> rtcp = {0x80, 204, 0x00, 0x0b, 0x11, 0x11, 0x11, 0x11};  // APP, 48 bytes
  rtcp.resize(48, 0x24);
  const std::vector<uint8_t> empty = {0x80, 0x60, 0x00, 0x02, 0, 0, 0x20, 0, 0x11, 0x11, 0x11, 0x11};
  for (uint8_t i = 0; i < 3; ++i) {
    SrtpSession tx = make_session(kProfiles[i]);
    std::vector<uint8_t> seed = {i};
    append_record(tx, rtp, seed);
    append_record(tx, rtcp, seed);
    const size_t first_len = size_t(seed[1]) << 8 | seed[2];
    seed.insert(seed.end(), seed.begin() + 1, seed.begin() + 3 + long(first_len));  // replay of record 1
    append_record(tx, empty, seed);
    const std::string path = dir + "/" + std::string(sfu::dtls::to_string(kProfiles[i])) + "_rtp_rtcp_replay";
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(seed.data(), 1, seed.size(), f) != seed.size()) std::abort();
    std::fclose(f);
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
  SrtpSession session = make_session(kProfiles[data[0] % 3]);
  size_t pos = 1;
  std::vector<uint8_t> buf;
  while (pos + 2 <= size) {
    size_t len = size_t(data[pos]) << 8 | data[pos + 1];
    pos += 2;
    if (len > size - pos) len = size - pos;
    const uint8_t* rec = data + pos;
    pos += len;
    const bool rtcp = looks_like_rtcp(rec, len);

    buf.assign(rec, rec + len);  // exactly the record: an over-read is an ASan report
    auto r = rtcp ? session.unprotect_rtcp(buf, len) : session.unprotect_rtp(buf, len);
    if (r.ok() && *r > len) __builtin_trap();

    buf.assign(rec, rec + len);
    buf.resize(len + SrtpSession::kMaxTrailer);
    auto p = rtcp ? session.protect_rtcp(buf, len) : session.protect_rtp(buf, len);
    if (p.ok() && *p > buf.size()) __builtin_trap();
  }
  return 0;
}
