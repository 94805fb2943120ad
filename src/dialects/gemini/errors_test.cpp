#include "dialects/gemini/errors.hpp"

#include <gtest/gtest.h>

#include "dialects/gemini/test_util.hpp"

namespace modelmux::dialects::gemini {
namespace {

using std::chrono::milliseconds;
using testing::ReadTestdata;

TEST(GeminiErrorsTest, RateLimitWithRetryInfo) {
  Error e = DecodeError(429, ReadTestdata("error_rate_limit.json"));
  EXPECT_EQ(e.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(e.Retry(), RetryClass::kRetry);
  EXPECT_EQ(e.HttpStatus(), 429);
  EXPECT_EQ(e.upstream_status, 429);
  EXPECT_EQ(e.provider, "gemini");
  EXPECT_EQ(e.provider_code, "RESOURCE_EXHAUSTED");
  ASSERT_TRUE(e.retry_after);
  EXPECT_EQ(*e.retry_after, milliseconds(36000));
  EXPECT_EQ(e.message.rfind("You exceeded your current quota", 0), 0u);
}

TEST(GeminiErrorsTest, QuotaFailureWithoutRetryInfoIsExhausted) {
  std::string body = ReadTestdata("error_rate_limit.json");
  const size_t at =
      body.find(",\n      {\n        \"@type\": \"type.googleapis.com/google.rpc.RetryInfo\"");
  ASSERT_NE(at, std::string::npos);
  body.erase(at, body.find('}', at) + 1 - at);
  Error e = DecodeError(429, body);
  EXPECT_EQ(e.kind, ErrorKind::kQuotaExhausted) << body;
  EXPECT_EQ(e.code, "insufficient_quota");
  EXPECT_EQ(e.Retry(), RetryClass::kNever);
  EXPECT_FALSE(e.retry_after);
  // Without QuotaFailure either, a bare RESOURCE_EXHAUSTED is a plain rate limit.
  Error bare = DecodeError(
      429, R"({"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}})");
  EXPECT_EQ(bare.kind, ErrorKind::kRateLimited);
}

TEST(GeminiErrorsTest, InvalidApiKeyIsAuthentication) {
  Error e = DecodeError(400, ReadTestdata("error_api_key_invalid.json"));
  EXPECT_EQ(e.kind, ErrorKind::kAuthentication);
  EXPECT_EQ(e.HttpStatus(), 401);
  EXPECT_EQ(e.code, "invalid_api_key");
  EXPECT_EQ(e.provider_code, "API_KEY_INVALID");
  EXPECT_EQ(e.upstream_status, 400);
}

TEST(GeminiErrorsTest, StatusStrings) {
  const std::tuple<int, const char*, ErrorKind> cases[] = {
      {400, "INVALID_ARGUMENT", ErrorKind::kInvalidRequest},
      {400, "FAILED_PRECONDITION", ErrorKind::kInvalidRequest},
      {401, "UNAUTHENTICATED", ErrorKind::kAuthentication},
      {403, "PERMISSION_DENIED", ErrorKind::kPermission},
      {404, "NOT_FOUND", ErrorKind::kNotFound},
      {500, "INTERNAL", ErrorKind::kUpstreamError},
      {503, "UNAVAILABLE", ErrorKind::kUnavailable},
      {504, "DEADLINE_EXCEEDED", ErrorKind::kTimeout},
      {418, "SOMETHING_NEW", KindForHttpStatus(418)},
      {502, "", ErrorKind::kUpstreamError},
  };
  for (const auto& [http, status, want] : cases) {
    std::string body = std::string(R"({"error":{"code":)") + std::to_string(http) +
                       R"(,"message":"m","status":")" + status + "\"}}";
    Error e = DecodeError(http, body);
    EXPECT_EQ(e.kind, want) << status;
    EXPECT_EQ(e.provider_code, status);
    EXPECT_EQ(e.message, "m");
  }
}

TEST(GeminiErrorsTest, ContextLengthAndPayloadSize) {
  Error ctx = DecodeError(400, R"({"error":{"code":400,"status":"INVALID_ARGUMENT","message":
    "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."}})");
  EXPECT_EQ(ctx.kind, ErrorKind::kContextLength);
  EXPECT_EQ(ctx.code, "context_length_exceeded");
  Error big = DecodeError(400, R"({"error":{"code":400,"status":"INVALID_ARGUMENT",
    "message":"Request payload size exceeds the limit: 20971520 bytes."}})");
  EXPECT_EQ(big.kind, ErrorKind::kPayloadTooLarge);
}

TEST(GeminiErrorsTest, ArrayWrappedNonJsonAndSecrets) {
  Error arr = DecodeError(
      503,
      R"([{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}])");
  EXPECT_EQ(arr.kind, ErrorKind::kUnavailable);
  EXPECT_EQ(arr.message, "The model is overloaded.");

  Error html = DecodeError(502, "<html>\n<body>Bad Gateway</body>\n</html>");
  EXPECT_EQ(html.kind, ErrorKind::kUpstreamError);
  EXPECT_EQ(html.message, "<html> <body>Bad Gateway</body> </html>");

  Error secret = DecodeError(400, R"({"error":{"code":400,"status":"INVALID_ARGUMENT",
    "message":"bad key AIzaSyD3xAmPlE0fK3y1234567890abcdefGH"}})");
  EXPECT_EQ(secret.message.find("AIzaSyD3xAmPlE0fK3y1234567890abcdefGH"), std::string::npos)
      << secret.message;
}

TEST(GeminiErrorsTest, ParseDuration) {
  EXPECT_EQ(ParseDuration("36s"), milliseconds(36000));
  EXPECT_EQ(ParseDuration("0.5s"), milliseconds(500));
  EXPECT_EQ(ParseDuration("1.000340012s"), milliseconds(1001));
  EXPECT_EQ(ParseDuration("0s"), milliseconds(0));
  EXPECT_FALSE(ParseDuration("36"));
  EXPECT_FALSE(ParseDuration("s"));
  EXPECT_FALSE(ParseDuration("-1s"));
  EXPECT_FALSE(ParseDuration("1.2.3s"));
}

}  // namespace
}  // namespace modelmux::dialects::gemini
