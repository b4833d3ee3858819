// JWT HS256 join tokens (RFC 7519 / RFC 7515) and TURN REST credentials.
#include "signaling/auth.hpp"

#include <gtest/gtest.h>

namespace sfu::signaling {
namespace {

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef";

Authenticator auth(bool anonymous = false) { return Authenticator(AuthConfig{{{"k1", kSecret}}, anonymous}); }

Identity ana(std::string room = "standup") { return Identity{"ana-id", "Ana", std::move(room), Grants{true, true, false, false}}; }

TEST(Jwt, ValidTokenCarriesIdentityAndGrants) {
  const auto token = mint_token(kSecret, "k1", ana(), kNow, 3600);
  auto id = auth().authenticate(token, "standup", kNow + 10);
  ASSERT_TRUE(id) << to_string(id.error());
  EXPECT_EQ(id->subject, "ana-id");
  EXPECT_EQ(id->name, "Ana");
  EXPECT_TRUE(id->grants.publish);
  EXPECT_FALSE(id->grants.publish_data);
  EXPECT_FALSE(id->grants.admin);
}

TEST(Jwt, EveryRefusalHasItsReason) {
  const auto good = mint_token(kSecret, "k1", ana(), kNow, 3600);
  EXPECT_EQ(auth().authenticate("", "standup", kNow).error(), AuthError::missing);
  EXPECT_EQ(auth().authenticate("a.b", "standup", kNow).error(), AuthError::malformed);
  EXPECT_EQ(auth().authenticate("a.b.c.d", "standup", kNow).error(), AuthError::malformed);
  EXPECT_EQ(auth().authenticate("!!.??.**", "standup", kNow).error(), AuthError::malformed);
  EXPECT_EQ(auth().authenticate(good, "other-room", kNow).error(), AuthError::wrong_room);
  EXPECT_EQ(auth().authenticate(good, "standup", kNow + 3600 + 31).error(), AuthError::expired);
  EXPECT_EQ(auth().authenticate(good, "standup", kNow - 31).error(), AuthError::not_yet_valid);
  EXPECT_EQ(auth().authenticate(mint_token("another-secret-another-secret!!", "k1", ana(), kNow, 60), "standup", kNow)
                .error(),
            AuthError::bad_signature);
  EXPECT_EQ(auth().authenticate(mint_token(kSecret, "k2", ana(), kNow, 60), "standup", kNow).error(),
            AuthError::unknown_key);
  // Tampered claims: flip one character of the payload.
  std::string tampered = good;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_FALSE(auth().authenticate(tampered, "standup", kNow));
}

TEST(Jwt, AlgNoneAndOtherAlgorithmsAreRefused) {
  const std::string none_header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
  const std::string claims = base64url_encode(R"({"sub":"x","exp":1900000000})");
  EXPECT_EQ(auth().authenticate(none_header + "." + claims + ".", "standup", kNow).error(), AuthError::malformed);
  const std::string hs512 = base64url_encode(R"({"alg":"HS512","kid":"k1"})");
  EXPECT_EQ(auth().authenticate(hs512 + "." + claims + ".AAAA", "standup", kNow).error(), AuthError::malformed);
}

TEST(Jwt, TokenWithoutKidUsesTheOnlyKeyAndNoRoomMeansAnyRoom) {
  const auto token = mint_token(kSecret, "", ana(""), kNow, 60);
  EXPECT_TRUE(auth().authenticate(token, "anything", kNow));
}

TEST(Jwt, AnonymousOnlyWhenAllowed) {
  EXPECT_FALSE(auth(false).authenticate("", "r", kNow));
  auto id = auth(true).authenticate("", "r", kNow);
  ASSERT_TRUE(id);
  EXPECT_TRUE(id->grants.publish);
  EXPECT_FALSE(id->grants.admin);
}

TEST(Base64Url, Rfc4648Vectors) {
  // RFC 4648 §10 vectors, in the URL-safe alphabet without padding.
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64url_decode("Zm9vYmE"), "fooba");
  EXPECT_FALSE(base64url_decode("Zm9v="));
  EXPECT_FALSE(base64url_decode("Z"));
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(TurnRest, CredentialsFollowTheCoturnScheme) {
  // username = expiry ":" identity; credential = base64(HMAC-SHA1(secret, username)).
  const auto c = turn_credentials("secret", "ana", 1000, 3600);
  EXPECT_EQ(c.username, "4600:ana");
  EXPECT_EQ(c.credential, "H/8daTlQF2+1J+HPqoOQFcRNH68=");  // computed independently (Python hmac)
  EXPECT_EQ(turn_credentials("secret", "ana", 1000, 3600).credential, c.credential);
  EXPECT_NE(turn_credentials("other", "ana", 1000, 3600).credential, c.credential);
}

}  // namespace
}  // namespace sfu::signaling
