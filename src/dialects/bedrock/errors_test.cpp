#include "dialects/bedrock/errors.hpp"

#include <gtest/gtest.h>

namespace modelmux::dialects::bedrock {
namespace {

TEST(BedrockErrorsTest, BareTypeNames) {
  EXPECT_EQ(BareErrorType("com.amazon.coral.service#ThrottlingException"), "ThrottlingException");
  EXPECT_EQ(BareErrorType("ThrottlingException:http://internal.amazon.com/coral/x/"),
            "ThrottlingException");
  EXPECT_EQ(BareErrorType("ValidationException"), "ValidationException");
}

TEST(BedrockErrorsTest, StatusAndMessageWithoutType) {
  struct Case {
    int status;
    std::string_view message;
    ErrorKind kind;
    std::string_view provider_code;
  };
  const Case cases[] = {
      {429, "Too many requests, please wait before trying again.", ErrorKind::kRateLimited,
       "ThrottlingException"},
      {403,
       "The request signature we calculated does not match the signature you provided. Check "
       "your AWS Secret Access Key and signing method.",
       ErrorKind::kAuthentication, "InvalidSignatureException"},
      {403, "The security token included in the request is invalid.", ErrorKind::kAuthentication,
       "UnrecognizedClientException"},
      {403, "You don't have access to the model with the specified model ID.",
       ErrorKind::kPermission, "AccessDeniedException"},
      {400, "Malformed input request, please reformat your input.", ErrorKind::kInvalidRequest,
       "ValidationException"},
      {408, "Model has timed out in processing the request.", ErrorKind::kTimeout,
       "ModelTimeoutException"},
      {503, "Service is unavailable.", ErrorKind::kUnavailable, "ServiceUnavailableException"},
      {500, "Internal error.", ErrorKind::kUpstreamError, "InternalServerException"},
  };
  for (const auto& c : cases) {
    Error e = DecodeError(c.status, R"({"message":")" + std::string(c.message) + R"("})");
    EXPECT_EQ(e.kind, c.kind) << c.message;
    EXPECT_EQ(e.provider_code, c.provider_code);
    EXPECT_EQ(e.message, c.message);
    EXPECT_EQ(e.upstream_status, c.status);
    EXPECT_EQ(e.provider, "bedrock");
  }
  EXPECT_EQ(
      DecodeError(403, R"({"message":"The request signature we calculated does not match"})").code,
      "invalid_signature");
  EXPECT_EQ(DecodeError(429, R"({"message":"x"})").Retry(), RetryClass::kRetry);
}

TEST(BedrockErrorsTest, TypeInTheBodyWins) {
  Error e = DecodeError(
      400, R"({"__type":"com.amazon.coral.service#ModelNotReadyException","message":"loading"})");
  EXPECT_EQ(e.kind, ErrorKind::kUnavailable);
  EXPECT_EQ(e.provider_code, "ModelNotReadyException");
  Error q = DecodeError(400, R"({"code":"ServiceQuotaExceededException","Message":"quota"})");
  EXPECT_EQ(q.kind, ErrorKind::kQuotaExhausted);
  EXPECT_EQ(q.message, "quota");
}

TEST(BedrockErrorsTest, LongInputIsContextLength) {
  Error e = DecodeError(400, R"({"message":"Input is too long for requested model."})");
  EXPECT_EQ(e.kind, ErrorKind::kContextLength);
  EXPECT_EQ(e.code, "context_length_exceeded");
}

TEST(BedrockErrorsTest, NonJsonBodyKeepsPrintableText) {
  Error e = DecodeError(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(e.kind, ErrorKind::kUpstreamError);
  EXPECT_NE(e.message.find("Bad Gateway"), std::string::npos);
}

TEST(BedrockErrorsTest, StreamExceptions) {
  Error t = DecodeStreamException("throttlingException", R"({"message":"slow down"})");
  EXPECT_EQ(t.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(t.provider_code, "ThrottlingException");
  EXPECT_EQ(t.message, "slow down");
  Error m = DecodeStreamException("modelStreamErrorException",
                                  R"({"message":"boom","originalStatusCode":500})");
  EXPECT_EQ(m.kind, ErrorKind::kUpstreamError);
  EXPECT_EQ(m.upstream_status, 500);
  EXPECT_EQ(DecodeStreamException("validationException", "{}").kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(DecodeStreamException("brandNewException", "{}").kind, ErrorKind::kUpstreamError);
}

}  // namespace
}  // namespace modelmux::dialects::bedrock
