#include "dialects/openai/errors.hpp"

#include <gtest/gtest.h>

#include <string>

namespace modelmux::dialects::openai {
namespace {

TEST(OpenAiErrorsTest, RateLimitVersusQuota) {
  auto rl = DecodeError(429,
                        R"({"error":{"message":"Rate limit reached. Please try again in 644ms.",)"
                        R"("type":"tokens","param":null,"code":"rate_limit_exceeded"}})",
                        "openai");
  EXPECT_EQ(rl.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(rl.Retry(), RetryClass::kRetry);
  EXPECT_EQ(rl.provider_code, "rate_limit_exceeded");
  EXPECT_EQ(rl.provider, "openai");
  EXPECT_EQ(rl.upstream_status, 429);
  auto q = DecodeError(429,
                       R"({"error":{"message":"You exceeded your current quota.",)"
                       R"("type":"insufficient_quota","param":null,"code":"insufficient_quota"}})",
                       "openai");
  EXPECT_EQ(q.kind, ErrorKind::kQuotaExhausted);
  EXPECT_EQ(q.Retry(), RetryClass::kNever);
}

TEST(OpenAiErrorsTest, ContextLengthAndContentFilter) {
  auto c = DecodeError(
      400,
      R"({"error":{"message":"This model's maximum context length is 128000 tokens.",)"
      R"("type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})",
      "openai");
  EXPECT_EQ(c.kind, ErrorKind::kContextLength);
  EXPECT_EQ(c.param, "messages");
  auto f = DecodeError(400, R"({"error":{"message":"filtered","code":"content_filter"}})", "azure");
  EXPECT_EQ(f.kind, ErrorKind::kContentFilter);
}

TEST(OpenAiErrorsTest, NumericCodeAndTypeFallback) {
  auto e = DecodeError(500, R"({"error":{"message":"oops","type":"server_error","code":1234}})",
                       "deepseek");
  EXPECT_EQ(e.provider_code, "1234");
  EXPECT_EQ(e.kind, ErrorKind::kUpstreamError);
  auto m = DecodeError(401, R"({"error":{"type":"invalid_authentication_error","message":"bad"}})",
                       "moonshot");
  EXPECT_EQ(m.provider_code, "invalid_authentication_error");
  EXPECT_EQ(m.kind, ErrorKind::kAuthentication);
}

TEST(OpenAiErrorsTest, NonJsonBodyIsTruncatedPrintableAndMasked) {
  std::string body = "<html>\r\n<body>502 Bad Gateway\x01\x02 key=sk-live-ABCDEFGH123</body>";
  body += std::string(2000, 'x');
  auto e = DecodeError(502, body, "openai");
  EXPECT_EQ(e.kind, KindForHttpStatus(502));
  EXPECT_LE(e.message.size(), 512u);
  EXPECT_TRUE(e.message.starts_with("<html> <body>502 Bad Gateway key=sk-l***</body>xxx"))
      << e.message;
}

TEST(OpenAiErrorsTest, MasksSecretsInProviderMessage) {
  auto e = DecodeError(
      401,
      R"({"error":{"message":"Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz012345.",)"
      R"("type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
      "openai");
  EXPECT_EQ(e.message, "Incorrect API key provided: sk-p***.");
  EXPECT_EQ(e.kind, ErrorKind::kAuthentication);
}

TEST(OpenAiErrorsTest, EncodeShape) {
  Error e =
      InvalidRequest("Missing required parameter: 'model'.", "model", "missing_required_parameter");
  EXPECT_EQ(
      EncodeError(e),
      R"({"error":{"message":"Missing required parameter: 'model'.",)"
      R"("type":"invalid_request_error","param":"model","code":"missing_required_parameter"}})");
  Error up;
  up.kind = ErrorKind::kRateLimited;
  up.message = "slow down";
  up.provider_code = "rate_limit_exceeded";
  EXPECT_EQ(EncodeError(up), std::string(R"({"error":{"message":"slow down","type":")") +
                                 std::string(up.OpenAiType()) +
                                 R"(","param":null,"code":"rate_limit_exceeded"}})");
  Error bare;
  bare.kind = ErrorKind::kInternal;
  bare.message = "Bearer abcdefghijkl leaked";
  EXPECT_EQ(EncodeError(bare),
            std::string(R"({"error":{"message":"Bearer abcd*** leaked","type":")") +
                std::string(bare.OpenAiType()) + R"(","param":null,"code":null}})");
}

}  // namespace
}  // namespace modelmux::dialects::openai
