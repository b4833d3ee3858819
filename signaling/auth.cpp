#include "signaling/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace sfu::signaling {

std::string_view to_string(AuthError e) {
  switch (e) {
    case AuthError::missing: return "token missing";
    case AuthError::malformed: return "token malformed";
    case AuthError::bad_signature: return "bad signature";
    case AuthError::unknown_key: return "unknown key id";
    case AuthError::expired: return "token expired";
    case AuthError::not_yet_valid: return "token not yet valid";
    case AuthError::wrong_room: return "token is for another room";
  }
  return "unauthorized";
}

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string encode(std::string_view in, bool url) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    if (i + 1 < in.size()) out += kB64[(v >> 6) & 63];
    if (!url) out.append(i + 1 < in.size() ? 1 : 2, '=');
  }
  if (url)
    for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  HMAC(md, key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
       &len);
  return std::string(reinterpret_cast<const char*>(out.data()), len);
}

Grants read_grants(const Json& claims) {
  Grants g{false, false, false, false};
  auto it = claims.find("grants");
  if (it == claims.end() || !it->is_object()) return Grants{};  // no grants claim: the defaults
  auto flag = [&](const char* k) {
    auto f = it->find(k);
    return f != it->end() && f->is_boolean() && f->get<bool>();
  };
  g.publish = flag("publish");
  g.subscribe = flag("subscribe");
  g.publish_data = flag("publishData");
  g.admin = flag("admin");
  return g;
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) { return hmac(EVP_sha256(), key, data); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64url_encode(std::string_view bytes) { return encode(bytes, true); }
std::string base64_encode(std::string_view bytes) { return encode(bytes, false); }

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return std::nullopt;  // padding is not used in JWS (RFC 7515 §2)
    acc = acc << 6 | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

Result<Identity, AuthError> Authenticator::authenticate(std::string_view token, std::string_view room,
                                                        int64_t now) const {
  if (token.empty()) {
    if (!config_.allow_anonymous) return fail(AuthError::missing);
    return Identity{"", "", "", Grants{}};
  }
  if (token.size() > 8192) return fail(AuthError::malformed);
  const size_t d1 = token.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) return fail(AuthError::malformed);
  auto header_text = base64url_decode(token.substr(0, d1));
  auto claims_text = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto signature = base64url_decode(token.substr(d2 + 1));
  if (!header_text || !claims_text || !signature) return fail(AuthError::malformed);
  const Json header = Json::parse(*header_text, nullptr, false);
  const Json claims = Json::parse(*claims_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return fail(AuthError::malformed);
  // Only HS256: never let the token choose "none" or another algorithm.
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || *alg != "HS256") return fail(AuthError::malformed);
  std::string kid = "default";
  if (auto k = header.find("kid"); k != header.end() && k->is_string()) kid = k->get<std::string>();
  auto key = config_.keys.find(kid);
  if (key == config_.keys.end() && header.find("kid") == header.end() && config_.keys.size() == 1)
    key = config_.keys.begin();
  if (key == config_.keys.end()) return fail(AuthError::unknown_key);
  const std::string expected = hmac(EVP_sha256(), key->second, token.substr(0, d2));
  if (!constant_time_equal(expected, *signature))
    return fail(AuthError::bad_signature);
  auto number = [&](const char* k) -> std::optional<int64_t> {
    auto it = claims.find(k);
    if (it == claims.end() || !it->is_number()) return std::nullopt;
    return it->get<int64_t>();
  };
  constexpr int64_t kLeeway = 30;  // seconds of clock skew tolerated
  if (auto exp = number("exp"); !exp || now > *exp + kLeeway) return fail(AuthError::expired);
  if (auto nbf = number("nbf"); nbf && now + kLeeway < *nbf) return fail(AuthError::not_yet_valid);
  Identity id;
  if (auto s = claims.find("sub"); s != claims.end() && s->is_string()) id.subject = s->get<std::string>();
  if (auto n = claims.find("name"); n != claims.end() && n->is_string()) id.name = n->get<std::string>();
  if (auto r = claims.find("room"); r != claims.end() && r->is_string()) id.room = r->get<std::string>();
  if (!id.room.empty() && id.room != room) return fail(AuthError::wrong_room);
  id.grants = read_grants(claims);
  return id;
}

std::string mint_token(std::string_view secret, std::string_view kid, const Identity& id, int64_t now,
                       int64_t ttl_seconds) {
  Json header = Json::object();
  header["alg"] = "HS256";
  header["typ"] = "JWT";
  if (!kid.empty()) header["kid"] = kid;
  Json grants = Json::object();
  grants["publish"] = id.grants.publish;
  grants["subscribe"] = id.grants.subscribe;
  grants["publishData"] = id.grants.publish_data;
  grants["admin"] = id.grants.admin;
  Json claims = Json::object();
  claims["sub"] = id.subject;
  if (!id.name.empty()) claims["name"] = id.name;
  if (!id.room.empty()) claims["room"] = id.room;
  claims["iat"] = now;
  claims["nbf"] = now;
  claims["exp"] = now + ttl_seconds;
  claims["grants"] = grants;
  const std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  return signing_input + "." + base64url_encode(hmac(EVP_sha256(), secret, signing_input));
}

TurnCredentials turn_credentials(std::string_view secret, std::string_view identity, int64_t now, int64_t ttl_seconds) {
  TurnCredentials c;
  c.username = std::to_string(now + ttl_seconds) + ":" + std::string(identity.empty() ? "anonymous" : identity);
  c.credential = base64_encode(hmac(EVP_sha1(), secret, c.username));
  return c;
}

}  // namespace sfu::signaling
