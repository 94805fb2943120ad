#include "auth/zhipu_signer.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "auth/zhipu_jwt.hpp"

namespace modelmux::auth {
namespace {

// The token for key "myid.mysecret" at 1700000000000 ms, computed independently with the openssl
// CLI (see zhipu_jwt_test.cpp for the commands).
constexpr std::string_view kExpectedToken =
    "eyJhbGciOiJIUzI1NiIsInNpZ25fdHlwZSI6IlNJR04ifQ."
    "eyJhcGlfa2V5IjoibXlpZCIsImV4cCI6MTcwMDAwMDE4MDAwMCwidGltZXN0YW1wIjoxNzAwMDAwMDAwMDAwfQ."
    "Rs2SbSHGgpxjBR8zP80jmw9B-4Y10AebxJDZuXUGjHA";

std::string SignedAuthorization(const Signer& signer) {
  net::ClientRequest req;
  req.headers.Add("Authorization", "Bearer caller-key");
  EXPECT_TRUE(signer.Sign(req).ok());
  return std::string(req.headers.Get("authorization"));
}

TEST(ZhipuSignerTest, IdSecretKeyIsSentAsAJwtFromTheInjectedClock) {
  auto signer = MakeZhipuSigner("myid.mysecret", [] { return int64_t{1700000000000}; });
  EXPECT_FALSE(signer->is_async());
  std::string auth = SignedAuthorization(*signer);
  EXPECT_EQ(auth, "Bearer " + std::string(kExpectedToken));
  EXPECT_EQ(auth.find("mysecret"), std::string::npos);
}

TEST(ZhipuSignerTest, TokenIsReusedUntilNearExpiryThenReminted) {
  std::atomic<int64_t> now{1700000000000};
  auto signer = MakeZhipuSigner("myid.mysecret", [&now] { return now.load(); });
  std::string first = SignedAuthorization(*signer);
  now += 60'000;  // well inside the 3-minute TTL
  EXPECT_EQ(SignedAuthorization(*signer), first);
  now = 1700000000000 + kZhipuTokenTtlMs - kZhipuRefreshMarginMs;  // refresh point
  std::string second = SignedAuthorization(*signer);
  EXPECT_NE(second, first);
  EXPECT_EQ(second.rfind("Bearer eyJ", 0), 0u);
}

TEST(ZhipuSignerTest, PlainKeyIsSentAsBearer) {
  EXPECT_EQ(SignedAuthorization(*MakeZhipuSigner("plainkey123")), "Bearer plainkey123");
  // Malformed id.secret forms are plain keys too (never a JWT with an empty id or secret).
  EXPECT_EQ(SignedAuthorization(*MakeZhipuSigner(".secret")), "Bearer .secret");
  EXPECT_EQ(SignedAuthorization(*MakeZhipuSigner("id.")), "Bearer id.");
  net::ClientRequest req;
  ASSERT_TRUE(MakeZhipuSigner("")->Sign(req).ok());
  EXPECT_FALSE(req.headers.Has("authorization"));
}

TEST(ZhipuSignerTest, IdSecretShape) {
  EXPECT_TRUE(IsZhipuIdSecretKey("a.b"));
  EXPECT_TRUE(IsZhipuIdSecretKey("a.b.c"));
  EXPECT_FALSE(IsZhipuIdSecretKey("ab"));
  EXPECT_FALSE(IsZhipuIdSecretKey(".b"));
  EXPECT_FALSE(IsZhipuIdSecretKey("a."));
}

TEST(ZhipuSignerTest, SystemClockIsUnixMilliseconds) {
  // 2020-01-01 .. 2100-01-01 in ms: catches seconds or microseconds.
  EXPECT_GT(SystemUnixMs(), int64_t{1577836800000});
  EXPECT_LT(SystemUnixMs(), int64_t{4102444800000});
}

}  // namespace
}  // namespace modelmux::auth
