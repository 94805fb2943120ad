#include "dialects/anthropic/errors.hpp"

#include <gtest/gtest.h>

#include "dialects/anthropic/test_util.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using testing::ParseJson;

std::string Body(std::string_view type, std::string_view message) {
  return R"({"type":"error","error":{"type":")" + std::string(type) + R"(","message":")" +
         std::string(message) + R"("},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"})";
}

TEST(AnthropicErrorsTest, EveryDocumentedTypeMaps) {
  struct Case {
    int status;
    const char* type;
    ErrorKind kind;
  };
  const Case cases[] = {
      {400, "invalid_request_error", ErrorKind::kInvalidRequest},
      {401, "authentication_error", ErrorKind::kAuthentication},
      {402, "billing_error", ErrorKind::kBilling},
      {403, "permission_error", ErrorKind::kPermission},
      {404, "not_found_error", ErrorKind::kNotFound},
      {413, "request_too_large", ErrorKind::kPayloadTooLarge},
      {429, "rate_limit_error", ErrorKind::kRateLimited},
      {500, "api_error", ErrorKind::kUpstreamError},
      {504, "timeout_error", ErrorKind::kTimeout},
      {529, "overloaded_error", ErrorKind::kOverloaded},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.type);
    const Error e = DecodeError(c.status, Body(c.type, "Something went wrong"));
    EXPECT_EQ(e.kind, c.kind);
    EXPECT_EQ(e.provider_code, c.type);
    EXPECT_EQ(e.provider, "anthropic");
    EXPECT_EQ(e.upstream_status, c.status);
    EXPECT_EQ(e.message, "Something went wrong");
    // The same type encoded back for a caller speaking Anthropic.
    EXPECT_EQ(ParseJson(EncodeError(e)).at("error").at("type").as_string(), c.type);
  }
}

TEST(AnthropicErrorsTest, RetryClassesFollowTheKinds) {
  EXPECT_EQ(DecodeError(529, Body("overloaded_error", "Overloaded")).Retry(), RetryClass::kRetry);
  EXPECT_EQ(DecodeError(429, Body("rate_limit_error", "slow down")).Retry(), RetryClass::kRetry);
  EXPECT_EQ(DecodeError(402, Body("billing_error", "pay")).Retry(), RetryClass::kNever);
  EXPECT_EQ(DecodeError(400, Body("invalid_request_error", "bad")).Retry(), RetryClass::kNever);
}

TEST(AnthropicErrorsTest, MessagesAreMasked) {
  const Error e = DecodeError(
      401, Body("authentication_error", "invalid x-api-key sk-ant-api03-abcdefghijklmnop1234"));
  EXPECT_EQ(e.message.find("abcdefghijklmnop1234"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("invalid x-api-key"), std::string::npos);
  Error ours;
  ours.kind = ErrorKind::kAuthentication;
  ours.message = "bad key sk-ant-api03-abcdefghijklmnop1234";
  EXPECT_EQ(EncodeError(ours).find("abcdefghijklmnop1234"), std::string::npos);
}

TEST(AnthropicErrorsTest, UnknownTypesAndNonJsonBodies) {
  EXPECT_EQ(DecodeError(529, "overloaded").kind, ErrorKind::kOverloaded);
  const Error page = DecodeError(413, "<html>\n<h1>413 Request Entity Too Large</h1></html>");
  EXPECT_EQ(page.kind, ErrorKind::kPayloadTooLarge);
  EXPECT_EQ(page.message, "<html> <h1>413 Request Entity Too Large</h1></html>");
  EXPECT_EQ(DecodeError(503, Body("new_error_type", "x")).kind, ErrorKind::kUnavailable);
}

TEST(AnthropicErrorsTest, PromptTooLongIsContextLength) {
  const Error e = DecodeError(
      400, Body("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum"));
  EXPECT_EQ(e.kind, ErrorKind::kContextLength);
  EXPECT_EQ(e.code, "context_length_exceeded");
  EXPECT_EQ(e.provider_code, "invalid_request_error");
}

TEST(AnthropicErrorsTest, StreamErrorUsesTheTypesStatus) {
  const Error e = DecodeStreamError(Body("overloaded_error", "Overloaded"));
  EXPECT_EQ(e.kind, ErrorKind::kOverloaded);
  EXPECT_EQ(e.upstream_status, 529);
}

TEST(AnthropicErrorsTest, EncodesEveryKind) {
  const std::pair<ErrorKind, const char*> cases[] = {
      {ErrorKind::kInvalidRequest, "invalid_request_error"},
      {ErrorKind::kContextLength, "invalid_request_error"},
      {ErrorKind::kContentFilter, "invalid_request_error"},
      {ErrorKind::kHeadersTooLarge, "invalid_request_error"},
      {ErrorKind::kAuthentication, "authentication_error"},
      {ErrorKind::kBilling, "billing_error"},
      {ErrorKind::kPermission, "permission_error"},
      {ErrorKind::kNotFound, "not_found_error"},
      {ErrorKind::kPayloadTooLarge, "request_too_large"},
      {ErrorKind::kRateLimited, "rate_limit_error"},
      {ErrorKind::kQuotaExhausted, "rate_limit_error"},
      {ErrorKind::kBudgetExceeded, "permission_error"},
      {ErrorKind::kUpstreamError, "api_error"},
      {ErrorKind::kUnavailable, "api_error"},
      {ErrorKind::kInternal, "api_error"},
      {ErrorKind::kOverloaded, "overloaded_error"},
      {ErrorKind::kTimeout, "timeout_error"},
  };
  for (const auto& [kind, type] : cases) {
    Error e;
    e.kind = kind;
    e.message = "m";
    EXPECT_EQ(ParseJson(EncodeError(e)),
              ParseJson(std::string(R"({"type":"error","error":{"type":")") + type +
                        R"(","message":"m"}})"))
        << type;
  }
}

}  // namespace
}  // namespace modelmux::dialects::anthropic
