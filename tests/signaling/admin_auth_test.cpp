// Who may call the admin API (signaling/admin_api.hpp authorise_admin).
#include <gtest/gtest.h>

#include "signaling/admin_api.hpp"

namespace sfu::signaling {
namespace {

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef";

Authenticator keyed() { return Authenticator(AuthConfig{{{"k1", kSecret}}, false}); }

std::string bearer(std::string room, bool admin, int64_t issued = kNow, int64_t ttl = 3600) {
  Identity id{"ops", "Ops", std::move(room), Grants{false, false, false, admin}};
  return "Bearer " + mint_token(kSecret, "k1", id, issued, ttl);
}

TEST(AdminAuth, NodeWideAdminTokenMayCallEverything) {
  const auto node = bearer("", true);
  auto a = authorise_admin(keyed(), node, "", kNow);
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "ops");
  EXPECT_TRUE(authorise_admin(keyed(), node, "standup", kNow));
}

TEST(AdminAuth, MissingOrNonBearerHeaderIs401) {
  for (std::string_view h : {"", "Basic b3BzOnB3", "bearer x", "Bearer"}) {
    auto r = authorise_admin(keyed(), h, "", kNow);
    ASSERT_FALSE(r) << h;
    EXPECT_EQ(r.error().status, 401u) << h;
    EXPECT_EQ(r.error().code, "unauthorized");
  }
}

TEST(AdminAuth, TokensThatDoNotVerifyAre401WithTheReason) {
  auto expired = authorise_admin(keyed(), bearer("", true, kNow - 7200, 60), "", kNow);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().status, 401u);
  EXPECT_EQ(expired.error().message, "token expired");
  auto garbage = authorise_admin(keyed(), "Bearer not.a.jwt", "", kNow);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().status, 401u);
  Identity id{"ops", "", "", Grants{false, false, false, true}};
  auto forged = authorise_admin(keyed(), "Bearer " + mint_token("another-secret-another-secret!!", "k1", id, kNow, 60),
                                "", kNow);
  ASSERT_FALSE(forged);
  EXPECT_EQ(forged.error().status, 401u);
}

TEST(AdminAuth, ValidTokenWithoutTheAdminGrantIs403) {
  auto r = authorise_admin(keyed(), bearer("", false), "", kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 403u);
  EXPECT_EQ(r.error().code, "forbidden");
}

TEST(AdminAuth, RoomScopedTokenAdministersOnlyItsRoom) {
  const auto scoped = bearer("standup", true);
  EXPECT_TRUE(authorise_admin(keyed(), scoped, "standup", kNow));
  auto other = authorise_admin(keyed(), scoped, "retro", kNow);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().status, 403u);
  auto node = authorise_admin(keyed(), scoped, "", kNow);
  ASSERT_FALSE(node);
  EXPECT_EQ(node.error().status, 403u);
}

TEST(AdminAuth, AnonymousModeNeedsNoToken) {
  const Authenticator anonymous(AuthConfig{{}, true});
  auto r = authorise_admin(anonymous, "", "", kNow);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "anonymous");
}

}  // namespace
}  // namespace sfu::signaling
