// Join authorisation: JWT HS256 tokens (RFC 7519, RFC 7515) with room grants,
// and time-limited TURN REST credentials (the coturn use-auth-secret scheme).
//
// Token claims: sub (identity), name, room, exp, nbf, iat, and
// "grants": {"publish": bool, "subscribe": bool, "publishData": bool,
// "admin": bool}. The JOSE header's "kid" picks the secret; tokens without
// kid use the key named "default" (or the only one).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "signaling/jsonrpc.hpp"

namespace sfu::signaling {

struct Grants {
  bool publish = true;
  bool subscribe = true;
  bool publish_data = true;
  bool admin = false;
};

struct Identity {
  std::string subject;  // sub
  std::string name;
  std::string room;  // empty: any room
  Grants grants;
};

struct AuthConfig {
  std::map<std::string, std::string> keys;  // kid → HS256 secret
  // Anonymous joins are allowed only when this is true (the binary sets it
  // when listening on loopback with no key configured).
  bool allow_anonymous = false;
};

// Why a token was refused (every reason maps to 4001 unauthorized).
enum class AuthError : uint8_t { missing, malformed, bad_signature, unknown_key, expired, not_yet_valid, wrong_room };
std::string_view to_string(AuthError e);

class Authenticator {
 public:
  explicit Authenticator(AuthConfig config) : config_(std::move(config)) {}

  // Checks `token` (may be empty) for a join of `room` at `now` (seconds
  // since the Unix epoch). Anonymous (empty token) passes only when allowed,
  // with every grant but admin.
  Result<Identity, AuthError> authenticate(std::string_view token, std::string_view room, int64_t now) const;
  bool anonymous_allowed() const { return config_.allow_anonymous; }
  bool has_keys() const { return !config_.keys.empty(); }

 private:
  AuthConfig config_;
};

// Mints an HS256 token (for `sfu token` and tests).
std::string mint_token(std::string_view secret, std::string_view kid, const Identity& id, int64_t now,
                       int64_t ttl_seconds);

// TURN REST credentials (draft-uberti-behave-turn-rest-00, coturn
// use-auth-secret): username "<expiry>:<identity>", credential
// base64(HMAC-SHA1(secret, username)).
struct TurnCredentials {
  std::string username;
  std::string credential;
};
TurnCredentials turn_credentials(std::string_view secret, std::string_view identity, int64_t now, int64_t ttl_seconds);

std::string base64url_encode(std::string_view bytes);
// HMAC-SHA256(key, data), raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);
// Equal bytes, in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);
std::optional<std::string> base64url_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace sfu::signaling
