// The simulator's OpenAI-compatible family: Azure's api-version and api-key, Zhipu's JWT check,
// and each provider's error shapes (read back through the gateway's own family dialects).
#include "sim/family.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/crypto.hpp"
#include "auth/zhipu_jwt.hpp"
#include "auth/zhipu_signer.hpp"
#include "dialects/openai/family.hpp"
#include "sim/fake_writer_test_util.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {

namespace json = boost::json;
using simtest::FakeWriter;
using simtest::Post;

constexpr std::string_view kKey = "zid.zsecret";
constexpr int64_t kNow = 1700000000000;
constexpr std::string_view kBody =
    R"({"model":"glm-4-flash","messages":[{"role":"user","content":"hi"}]})";
constexpr std::string_view kAzureChat = "/azure/openai/deployments/my-dep/chat/completions";
constexpr std::string_view kZhipuChat = "/zhipu/api/paas/v4/chat/completions";

std::string ErrorField(const FakeWriter& w, std::string_view field) {
  const json::value* v = w.Json().at("error").as_object().if_contains(field);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string Jwt(std::string_view key, int64_t now_ms) {
  auto t = auth::MakeZhipuJwt(key, now_ms);
  EXPECT_TRUE(t.ok());
  return t.ok() ? *t : std::string();
}

// ---- VerifyZhipuJwt (pure) --------------------------------------------------------------------

TEST(SimZhipuJwtTest, AcceptsATokenFromTheSigner) {
  EXPECT_EQ(VerifyZhipuJwt(Jwt(kKey, kNow), kKey, kNow + 1000), "");
}

TEST(SimZhipuJwtTest, RefusesWrongSecretWrongIdExpiredAndSecondsClaims) {
  EXPECT_EQ(VerifyZhipuJwt(Jwt("zid.other", kNow), kKey, kNow), "bad token signature");
  EXPECT_EQ(VerifyZhipuJwt(Jwt("other.zsecret", kNow), kKey, kNow),
            "the token's api_key claim does not match");
  EXPECT_EQ(VerifyZhipuJwt(Jwt(kKey, kNow), kKey, kNow + auth::kZhipuTokenTtlMs),
            "the token expired");
  // A token some clients make: claims in seconds. Signed correctly, but exp is not in ms.
  const std::string header = auth::Base64UrlNoPad(R"({"alg":"HS256","sign_type":"SIGN"})");
  const std::string payload =
      auth::Base64UrlNoPad(R"({"api_key":"zid","exp":1700000180,"timestamp":1700000000})");
  const std::string input = header + "." + payload;
  const std::string seconds =
      input + "." + auth::Base64UrlNoPad(auth::HmacSha256("zsecret", input));
  EXPECT_EQ(VerifyZhipuJwt(seconds, kKey, 1700000000), "the token's exp is not in milliseconds");
  EXPECT_EQ(VerifyZhipuJwt("not-a-jwt", kKey, kNow), "the token is not a JWT");
  EXPECT_EQ(VerifyZhipuJwt("a.b.c.d", kKey, kNow), "the token is not a JWT");
  // A flipped signature byte.
  std::string tampered = Jwt(kKey, kNow);
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(VerifyZhipuJwt(tampered, kKey, kNow), "bad token signature");
}

TEST(SimFamilyTest, FamilyOfPath) {
  EXPECT_EQ(FamilyOfPath(kAzureChat), SimFamily::kAzure);
  EXPECT_EQ(FamilyOfPath(kZhipuChat), SimFamily::kZhipu);
  EXPECT_EQ(FamilyOfPath("/deepseek/chat/completions"), SimFamily::kDeepSeek);
  EXPECT_EQ(FamilyOfPath("/deepseek/v1/chat/completions"), SimFamily::kDeepSeek);
  EXPECT_EQ(FamilyOfPath("/moonshot/v1/chat/completions"), SimFamily::kMoonshot);
  EXPECT_EQ(FamilyOfPath("/v1/chat/completions"), SimFamily::kOther);
  EXPECT_EQ(FamilyOfPath("/deepseekish/v1"), SimFamily::kOther);
}

// ---- through the simulator ------------------------------------------------------------------

TEST(SimAzureTest, ApiVersionIsRequired) {
  Simulator sim{SimOptions{}};
  FakeWriter missing = Post(sim, std::string(kAzureChat), std::string(kBody));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorField(missing, "code"), "404");
  EXPECT_EQ(ErrorField(missing, "message"), "Resource not found");
  FakeWriter empty = Post(sim, std::string(kAzureChat) + "?api-version=", std::string(kBody));
  EXPECT_EQ(empty.status, 404);
  FakeWriter ok =
      Post(sim, std::string(kAzureChat) + "?api-version=2024-10-21", std::string(kBody));
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(SimAzureTest, RequireKeyWantsTheApiKeyHeader) {
  SimOptions o;
  o.require_key = "azkey";
  Simulator sim{o};
  const std::string target = std::string(kAzureChat) + "?foo=1&api-version=2024-10-21";
  FakeWriter bearer = Post(sim, target, std::string(kBody), {{"Authorization", "Bearer azkey"}});
  EXPECT_EQ(bearer.status, 401);
  EXPECT_EQ(ErrorField(bearer, "code"), "401");
  EXPECT_EQ(Post(sim, target, std::string(kBody), {{"api-key", "wrong"}}).status, 401);
  FakeWriter ok = Post(sim, target, std::string(kBody), {{"api-key", "azkey"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  // The error reads as an authentication error through the Azure dialect.
  Error e = dialects::AzureUpstream().DecodeError(bearer.status, bearer.body);
  EXPECT_EQ(e.kind, ErrorKind::kAuthentication);
}

TEST(SimZhipuTest, RequireKeyVerifiesTheJwt) {
  SimOptions o;
  o.require_key = std::string(kKey);
  Simulator sim{o};
  const std::string target(kZhipuChat);
  const int64_t now = auth::SystemUnixMs();
  FakeWriter ok =
      Post(sim, target, std::string(kBody), {{"Authorization", "Bearer " + Jwt(kKey, now)}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  FakeWriter plain =
      Post(sim, target, std::string(kBody), {{"Authorization", "Bearer zid.zsecret"}});
  EXPECT_EQ(plain.status, 200) << plain.body;

  FakeWriter wrong = Post(sim, target, std::string(kBody),
                          {{"Authorization", "Bearer " + Jwt("zid.wrongsecret", now)}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(ErrorField(wrong, "code"), "1000");
  EXPECT_NE(ErrorField(wrong, "message").find("signature"), std::string::npos);
  FakeWriter expired = Post(sim, target, std::string(kBody),
                            {{"Authorization", "Bearer " + Jwt(kKey, now - 600'000)}});
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(ErrorField(expired, "message").find("expired"), std::string::npos);
  FakeWriter none = Post(sim, target, std::string(kBody));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(ErrorField(none, "code"), "1001");
  Error e = dialects::ZhipuUpstream().DecodeError(wrong.status, wrong.body);
  EXPECT_EQ(e.kind, ErrorKind::kAuthentication);
  EXPECT_EQ(e.provider_code, "1000");
}

TEST(SimZhipuTest, StatusControlAnswersZhipuCodes) {
  Simulator sim{SimOptions{}};
  FakeWriter busy =
      Post(sim, std::string(kZhipuChat), std::string(kBody), {{"x-sim-status", "429"}});
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(ErrorField(busy, "code"), "1302");
  Error e = dialects::ZhipuUpstream().DecodeError(busy.status, busy.body);
  EXPECT_EQ(e.kind, ErrorKind::kRateLimited);
  FakeWriter arrears =
      Post(sim, std::string(kZhipuChat), std::string(kBody), {{"x-sim-status", "402"}});
  EXPECT_EQ(ErrorField(arrears, "code"), "1113");
  EXPECT_EQ(dialects::ZhipuUpstream().DecodeError(arrears.status, arrears.body).kind,
            ErrorKind::kBilling);
}

TEST(SimDeepSeekMoonshotTest, StatusControlAnswersEachProvidersShape) {
  Simulator sim{SimOptions{}};
  FakeWriter balance =
      Post(sim, "/deepseek/chat/completions", std::string(kBody), {{"x-sim-status", "402"}});
  EXPECT_EQ(balance.status, 402);
  EXPECT_EQ(ErrorField(balance, "message"), "Insufficient Balance");
  EXPECT_EQ(dialects::DeepSeekUpstream().DecodeError(balance.status, balance.body).kind,
            ErrorKind::kBilling);
  FakeWriter overloaded =
      Post(sim, "/deepseek/v1/chat/completions", std::string(kBody), {{"x-sim-status", "503"}});
  EXPECT_EQ(dialects::DeepSeekUpstream().DecodeError(overloaded.status, overloaded.body).kind,
            ErrorKind::kOverloaded);
  FakeWriter rate =
      Post(sim, "/moonshot/v1/chat/completions", std::string(kBody), {{"x-sim-status", "429"}});
  EXPECT_EQ(ErrorField(rate, "type"), "rate_limit_reached_error");
  EXPECT_EQ(dialects::MoonshotUpstream().DecodeError(rate.status, rate.body).kind,
            ErrorKind::kRateLimited);
  // The plain OpenAI prefix keeps the OpenAI body.
  FakeWriter openai =
      Post(sim, "/v1/chat/completions", std::string(kBody), {{"x-sim-status", "429"}});
  EXPECT_EQ(ErrorField(openai, "code"), "rate_limit_exceeded");
}

TEST(SimFamilyTest, OtherPrefixesKeepTheBearerCheck) {
  SimOptions o;
  o.require_key = "k1";
  Simulator sim{o};
  EXPECT_EQ(Post(sim, "/v1/chat/completions", std::string(kBody), {{"Authorization", "Bearer k1"}})
                .status,
            200);
  EXPECT_EQ(
      Post(sim, "/deepseek/chat/completions", std::string(kBody), {{"Authorization", "Bearer k2"}})
          .status,
      401);
}

}  // namespace
}  // namespace modelmux::sim
