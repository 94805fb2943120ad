#include "core/error.hpp"

#include <gtest/gtest.h>

#include "core/chat.hpp"
#include "core/model_id.hpp"
#include "core/result.hpp"

namespace modelmux {
namespace {

TEST(ErrorTest, StatusAndRetryClassFollowTheTaxonomy) {
  struct Row {
    ErrorKind kind;
    int status;
    RetryClass retry;
  };
  const Row rows[] = {
      {ErrorKind::kInvalidRequest, 400, RetryClass::kNever},
      {ErrorKind::kAuthentication, 401, RetryClass::kNever},
      {ErrorKind::kBilling, 402, RetryClass::kNever},
      {ErrorKind::kPermission, 403, RetryClass::kNever},
      {ErrorKind::kNotFound, 404, RetryClass::kNever},
      {ErrorKind::kPayloadTooLarge, 413, RetryClass::kNever},
      {ErrorKind::kContextLength, 400, RetryClass::kNever},
      {ErrorKind::kContentFilter, 400, RetryClass::kNever},
      {ErrorKind::kRateLimited, 429, RetryClass::kRetry},
      {ErrorKind::kQuotaExhausted, 429, RetryClass::kNever},
      {ErrorKind::kBudgetExceeded, 403, RetryClass::kNever},
      {ErrorKind::kHeadersTooLarge, 431, RetryClass::kNever},
      {ErrorKind::kUpstreamError, 502, RetryClass::kRetry},
      {ErrorKind::kUnavailable, 503, RetryClass::kRetry},
      {ErrorKind::kOverloaded, 503, RetryClass::kRetry},
      {ErrorKind::kTimeout, 504, RetryClass::kRetry},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::string(ErrorKindName(r.kind)));
    EXPECT_EQ(HttpStatusFor(r.kind), r.status);
    EXPECT_EQ(RetryClassFor(r.kind), r.retry);
  }
}

TEST(ErrorTest, UpstreamStatusMapsToKind) {
  EXPECT_EQ(KindForHttpStatus(429), ErrorKind::kRateLimited);
  EXPECT_EQ(KindForHttpStatus(529), ErrorKind::kOverloaded);
  EXPECT_EQ(KindForHttpStatus(500), ErrorKind::kUpstreamError);
  EXPECT_EQ(KindForHttpStatus(503), ErrorKind::kUnavailable);
  EXPECT_EQ(KindForHttpStatus(418), ErrorKind::kInvalidRequest);
}

Result<int> Half(int x) {
  if (x % 2) return InvalidRequest("odd", "x");
  return x / 2;
}

Result<int> Quarter(int x) {
  MM_TRY(int h, Half(x));
  MM_TRY(int q, Half(h));
  return q;
}

TEST(ResultTest, TryPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "x");
  EXPECT_EQ(r.error().HttpStatus(), 400);
}

TEST(ModelIdTest, SplitsAtTheFirstSlash) {
  auto id = ModelId::Parse("openrouter/meta/llama-3");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->provider, "openrouter");
  EXPECT_EQ(id->model, "meta/llama-3");
  EXPECT_FALSE(ModelId::Parse("gpt-4o"));
  EXPECT_FALSE(ModelId::Parse("/x"));
  EXPECT_FALSE(ModelId::Parse("x/"));
}

TEST(ChatTest, PromptCharsCountsCodePointsOfTextParts) {
  ChatRequest req;
  Message m;
  m.content.push_back({PartType::kText, "héllo 你好"});
  m.content.push_back({PartType::kImage, "", "https://x/y.png"});
  req.messages.push_back(m);
  EXPECT_EQ(req.PromptChars(), 8u);
}

}  // namespace
}  // namespace modelmux
