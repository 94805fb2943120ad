#include "upstream/diagnose.hpp"

#include <gtest/gtest.h>

namespace modelmux::upstream {
namespace {

Error Failed(ErrorKind kind, std::string provider_code = {}, std::string message = {}) {
  Error e;
  e.kind = kind;
  e.provider_code = std::move(provider_code);
  e.message = std::move(message);
  e.upstream_status = HttpStatusFor(kind);
  return e;
}

CredentialInfo Cred(std::string type, std::string key_source, std::string secret_source = {}) {
  CredentialInfo c;
  c.provider_type = std::move(type);
  c.api_key_source = std::move(key_source);
  c.secret_key_source = std::move(secret_source);
  c.base_url = "https://api.example.test/v1";
  c.region = "eu-west-3";
  return c;
}

TEST(Diagnose, UnauthorisedNamesTheVariableNotTheValue) {
  auto d = Diagnose(Failed(ErrorKind::kAuthentication), Cred("openai", "OPENAI_API_KEY"));
  EXPECT_NE(d.summary.find("$OPENAI_API_KEY"), std::string::npos) << d.summary;
  EXPECT_NE(d.checks.find("revoked"), std::string::npos) << d.checks;
  EXPECT_NE(d.checks.find("1. "), std::string::npos);
}

TEST(Diagnose, MissingKeySaysNoneIsConfigured) {
  auto d = Diagnose(Failed(ErrorKind::kAuthentication), Cred("deepseek", ""));
  EXPECT_NE(d.summary.find("none is configured"), std::string::npos) << d.summary;
}

TEST(Diagnose, QianfanPairNamesBothVariables) {
  auto d = Diagnose(Failed(ErrorKind::kAuthentication, "invalid_client"),
                    Cred("qianfan", "QIANFAN_API_KEY", "QIANFAN_SECRET_KEY"));
  EXPECT_NE(d.summary.find("token exchange"), std::string::npos) << d.summary;
  EXPECT_NE(d.checks.find("$QIANFAN_API_KEY"), std::string::npos) << d.checks;
  EXPECT_NE(d.checks.find("$QIANFAN_SECRET_KEY"), std::string::npos) << d.checks;
}

TEST(Diagnose, QianfanStaleTokenIsNotBlamedOnThePair) {
  auto d = Diagnose(Failed(ErrorKind::kAuthentication, "111"),
                    Cred("qianfan", "QIANFAN_API_KEY", "QIANFAN_SECRET_KEY"));
  EXPECT_NE(d.summary.find("access token"), std::string::npos) << d.summary;
}

TEST(Diagnose, BedrockSignatureMismatchPointsAtSecretClockAndSessionToken) {
  auto d = Diagnose(Failed(ErrorKind::kAuthentication, "InvalidSignatureException"),
                    Cred("bedrock", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"));
  EXPECT_NE(d.summary.find("signature"), std::string::npos) << d.summary;
  EXPECT_NE(d.checks.find("clock"), std::string::npos);
  EXPECT_NE(d.checks.find("AWS_SESSION_TOKEN"), std::string::npos);
}

TEST(Diagnose, ForbiddenGivesTheSeedChecklist) {
  // The seed's 403 advice: check the key's permissions and the IP allowlist; region too.
  auto d = Diagnose(Failed(ErrorKind::kPermission), Cred("bedrock", "AWS_ACCESS_KEY_ID"));
  EXPECT_NE(d.checks.find("permission"), std::string::npos) << d.checks;
  EXPECT_NE(d.checks.find("eu-west-3"), std::string::npos) << d.checks;
  EXPECT_NE(d.checks.find("IP allowlist"), std::string::npos) << d.checks;
}

TEST(Diagnose, ForbiddenMentioningAnAddressIsAnAllowlistProblem) {
  auto d = Diagnose(Failed(ErrorKind::kPermission, "", "IP 203.0.113.9 is not in the whitelist"),
                    Cred("qianfan", "QIANFAN_API_KEY"));
  EXPECT_NE(d.summary.find("allowlist"), std::string::npos) << d.summary;
}

TEST(Diagnose, UnreachableHostIsNotACredentialProblem) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.message = "connect failed: Connection refused";
  auto d = Diagnose(e, Cred("openai", "OPENAI_API_KEY"));
  EXPECT_NE(d.summary.find("could not reach https://api.example.test/v1"), std::string::npos);
  EXPECT_NE(d.checks.find("HTTPS_PROXY"), std::string::npos);
}

TEST(Diagnose, ProbeModelsAreKnownForTheMainTypes) {
  EXPECT_EQ(ProbeModel("openai"), "gpt-4o-mini");
  EXPECT_EQ(ProbeModel("sim"), "echo");
  EXPECT_EQ(ProbeModel("vllm"), "");
}

}  // namespace
}  // namespace modelmux::upstream
