#include "dialects/openai/family.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "dialects/openai/openai.hpp"
#include "dialects/openai/test_util.hpp"

namespace modelmux::dialects {
namespace {

using openai::testing::ReadTestdata;

ChatRequest Hello() {
  ChatRequest r;
  r.model = "azure/my-gpt4o";
  Message m;
  m.content.push_back(ContentPart{PartType::kText, "hello"});
  r.messages.push_back(std::move(m));
  return r;
}

// Feeds `bytes` in pieces of `step` through the dialect's stream decoder, then Finish().
Status DecodeStream(const UpstreamDialect& d, const std::string& bytes, size_t step,
                    std::vector<StreamEvent>& out) {
  auto dec = d.NewStreamDecoder();
  for (size_t i = 0; i < bytes.size(); i += step) {
    MM_RETURN_IF_ERROR(dec->Feed(std::string_view(bytes).substr(i, step), out));
  }
  return dec->Finish(out);
}

TEST(AzurePathTest, DeploymentAndApiVersion) {
  EXPECT_EQ(AzureDeploymentPath("/chat/completions", "gpt-4o-prod", "2024-06-01"),
            "/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-06-01");
  EXPECT_EQ(AzureDeploymentPath("/embeddings", "emb.v3", ""),
            "/openai/deployments/emb.v3/embeddings?api-version=2024-10-21");
  // A deployment name cannot break out of its path segment or into the query.
  EXPECT_EQ(AzureDeploymentPath("/chat/completions", "a/b?c d", "v"),
            "/openai/deployments/a%2Fb%3Fc%20d/chat/completions?api-version=v");
  EXPECT_EQ(AzureDeploymentPath("/x?y=1", "d", "v"), "/openai/deployments/d/x?y=1&api-version=v");
}

TEST(AzureUpstreamTest, EncodeChatPutsTheCallUnderTheDeployment) {
  auto call = AzureUpstream().EncodeChat(Hello(), {"my-gpt4o", true, "2025-01-01-preview"});
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->path,
            "/openai/deployments/my-gpt4o/chat/completions?api-version=2025-01-01-preview");
  // Same body as the plain OpenAI dialect.
  auto plain = OpenAiUpstream().EncodeChat(Hello(), {"my-gpt4o", true, ""});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(call->body, plain->body);
  EXPECT_EQ(plain->path, "/chat/completions");

  auto no_version = AzureUpstream().EncodeChat(Hello(), {"dep", false, ""});
  ASSERT_TRUE(no_version.ok());
  EXPECT_EQ(no_version->path, "/openai/deployments/dep/chat/completions?api-version=2024-10-21");
  auto v1 = AzureV1Upstream().EncodeChat(Hello(), {"dep", false, ""});
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->path, "/chat/completions");
}

TEST(AzureUpstreamTest, ContentFilterStreamSkipsAnnotationChunks) {
  const std::string bytes = ReadTestdata("stream_azure_content_filter.sse");
  for (size_t step : {size_t{1}, size_t{13}, bytes.size()}) {
    SCOPED_TRACE(step);
    std::vector<StreamEvent> events;
    ASSERT_TRUE(DecodeStream(AzureUpstream(), bytes, step, events).ok());
    // prompt_filter_results (choices:[]) and the offsets-only chunk give no event.
    ASSERT_EQ(events.size(), 5u);
    EXPECT_EQ(events[0].deltas[0].role, "assistant");
    EXPECT_EQ(events[1].deltas[0].text, "Once upon");
    EXPECT_EQ(events[2].deltas[0].text, " a time");
    EXPECT_EQ(events[3].deltas[0].finish_reason, FinishReason::kContentFilter);
    EXPECT_EQ(events[3].deltas[0].finish_reason_raw, "content_filter");
    EXPECT_EQ(events[4].kind, StreamEvent::Kind::kDone);
  }
}

TEST(FamilyUpstreamTest, LookupByProviderType) {
  EXPECT_EQ(OpenAiFamilyUpstream("azure"), &AzureUpstream());
  EXPECT_EQ(OpenAiFamilyUpstream("zhipu"), &ZhipuUpstream());
  EXPECT_EQ(OpenAiFamilyUpstream("deepseek"), &DeepSeekUpstream());
  EXPECT_EQ(OpenAiFamilyUpstream("moonshot"), &MoonshotUpstream());
  EXPECT_EQ(OpenAiFamilyUpstream("openai"), nullptr);
  EXPECT_EQ(OpenAiFamilyUpstream("vllm"), nullptr);
  EXPECT_EQ(DeepSeekUpstream().name(), "deepseek");
  EXPECT_EQ(ZhipuUpstream().EncodeChat(Hello(), {"glm-4-flash", false, ""})->path,
            "/chat/completions");
}

TEST(FamilyUpstreamTest, DeepSeekReasoningAndMoonshotChoiceUsageStillDecode) {
  auto r = DeepSeekUpstream().DecodeChat(ReadTestdata("response_deepseek_reasoner.json"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->choices[0].message.reasoning, "Compare the tenths digit: 1 < 8.");
  EXPECT_EQ(*r->usage, (Usage{16, 120, 10, 0, 100}));

  std::vector<StreamEvent> events;
  ASSERT_TRUE(
      DecodeStream(MoonshotUpstream(), ReadTestdata("stream_moonshot.sse"), 9, events).ok());
  std::optional<Usage> usage;
  for (const auto& ev : events) {
    if (ev.usage) usage = ev.usage;
  }
  ASSERT_TRUE(usage.has_value());
  EXPECT_EQ(*usage, (Usage{19, 21, 8, 0, 0}));
}

// ---- error maps ------------------------------------------------------------------------------

Error Zhipu(int status, std::string_view code) {
  return ZhipuUpstream().DecodeError(
      status, R"({"error":{"code":")" + std::string(code) + R"(","message":"m"}})");
}

TEST(ZhipuErrorsTest, CodesMapToTheTaxonomy) {
  for (const char* code : {"1302", "1303", "1305"}) {
    SCOPED_TRACE(code);
    Error e = Zhipu(429, code);
    EXPECT_EQ(e.kind, ErrorKind::kRateLimited);
    EXPECT_EQ(e.HttpStatus(), 429);
    EXPECT_EQ(e.Retry(), RetryClass::kRetry);
    EXPECT_EQ(e.provider_code, code);
  }
  Error arrears = Zhipu(429, "1113");
  EXPECT_EQ(arrears.kind, ErrorKind::kBilling);
  EXPECT_EQ(arrears.HttpStatus(), 402);
  EXPECT_EQ(arrears.Retry(), RetryClass::kNever);
  EXPECT_EQ(arrears.code, "insufficient_balance");
  EXPECT_EQ(arrears.provider_code, "1113");
  for (const char* code : {"1000", "1001", "1002", "1003", "1004"}) {
    SCOPED_TRACE(code);
    EXPECT_EQ(Zhipu(401, code).kind, ErrorKind::kAuthentication);
  }
  // The HTTP status does not decide: Zhipu sends some auth codes with 400 or 500.
  EXPECT_EQ(Zhipu(400, "1002").kind, ErrorKind::kAuthentication);
  EXPECT_EQ(Zhipu(400, "1301").kind, ErrorKind::kContentFilter);
  EXPECT_EQ(Zhipu(400, "1211").kind, ErrorKind::kNotFound);
  EXPECT_EQ(Zhipu(400, "1214").kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(Zhipu(403, "1112").kind, ErrorKind::kPermission);
  EXPECT_EQ(Zhipu(500, "500").kind, ErrorKind::kUpstreamError);
  // A numeric code is read as well.
  Error numeric = ZhipuUpstream().DecodeError(429, R"({"error":{"code":1302,"message":"busy"}})");
  EXPECT_EQ(numeric.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(numeric.provider_code, "1302");
  EXPECT_EQ(numeric.message, "busy");
}

TEST(DeepSeekErrorsTest, BalanceParametersOverload) {
  Error balance = DeepSeekUpstream().DecodeError(
      402, R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,)"
           R"("code":"invalid_request_error"}})");
  EXPECT_EQ(balance.kind, ErrorKind::kBilling);
  EXPECT_EQ(balance.HttpStatus(), 402);
  EXPECT_EQ(balance.Retry(), RetryClass::kNever);
  EXPECT_EQ(balance.OpenAiType(), "billing_error");
  EXPECT_EQ(balance.code, "insufficient_balance");
  EXPECT_EQ(balance.provider_code, "invalid_request_error");
  EXPECT_EQ(balance.message, "Insufficient Balance");

  Error params = DeepSeekUpstream().DecodeError(422, R"({"error":{"message":"bad temperature"}})");
  EXPECT_EQ(params.kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(params.HttpStatus(), 400);
  Error busy = DeepSeekUpstream().DecodeError(503, R"({"error":{"message":"Server overloaded"}})");
  EXPECT_EQ(busy.kind, ErrorKind::kOverloaded);
  EXPECT_EQ(busy.Retry(), RetryClass::kRetry);
  Error ctx = DeepSeekUpstream().DecodeError(
      400, R"({"error":{"message":"This model's maximum context length is 65536 tokens.",)"
           R"("type":"invalid_request_error","code":"invalid_request_error"}})");
  EXPECT_EQ(ctx.kind, ErrorKind::kContextLength);
  // The plain OpenAI map would have called 503 unavailable, not overloaded.
  EXPECT_EQ(OpenAiUpstream().DecodeError(503, "{}").kind, ErrorKind::kUnavailable);
}

Error Moonshot(int status, std::string_view type, std::string_view message = "m") {
  return MoonshotUpstream().DecodeError(status, R"({"error":{"type":")" + std::string(type) +
                                                    R"(","message":")" + std::string(message) +
                                                    R"("}})");
}

TEST(MoonshotErrorsTest, TypesMapToTheTaxonomy) {
  Error quota = Moonshot(429, "exceeded_current_quota_error");
  EXPECT_EQ(quota.kind, ErrorKind::kQuotaExhausted);
  EXPECT_EQ(quota.Retry(), RetryClass::kNever);
  EXPECT_EQ(quota.code, "insufficient_quota");
  EXPECT_EQ(quota.provider_code, "exceeded_current_quota_error");
  Error rate = Moonshot(429, "rate_limit_reached_error");
  EXPECT_EQ(rate.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(rate.Retry(), RetryClass::kRetry);
  EXPECT_EQ(Moonshot(429, "engine_overloaded_error").kind, ErrorKind::kOverloaded);
  EXPECT_EQ(Moonshot(401, "invalid_authentication_error").kind, ErrorKind::kAuthentication);
  EXPECT_EQ(Moonshot(403, "permission_denied_error").kind, ErrorKind::kPermission);
  EXPECT_EQ(Moonshot(404, "resource_not_found_error").kind, ErrorKind::kNotFound);
  EXPECT_EQ(
      Moonshot(400, "invalid_request_error", "Your request exceeded model token limit: 8192").kind,
      ErrorKind::kContextLength);
  EXPECT_EQ(Moonshot(400, "invalid_request_error", "bad temperature").kind,
            ErrorKind::kInvalidRequest);
  EXPECT_EQ(Moonshot(400, "content_filter", "high risk").kind, ErrorKind::kContentFilter);
}

TEST(AzureErrorsTest, ContentFilterDeploymentAndRateLimit) {
  Error filtered = AzureUpstream().DecodeError(
      400, R"({"error":{"message":"The response was filtered","type":null,"param":"prompt",)"
           R"("code":"content_filter","status":400,"innererror":{"code":)"
           R"("ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,)"
           R"("severity":"high"}}}}})");
  EXPECT_EQ(filtered.kind, ErrorKind::kContentFilter);
  EXPECT_EQ(filtered.code, "content_filter");
  EXPECT_EQ(filtered.provider_code, "content_filter");
  // Only the innererror says so.
  Error inner = AzureUpstream().DecodeError(
      400, R"({"error":{"message":"blocked","code":"invalid_prompt","innererror":)"
           R"({"code":"ResponsibleAIPolicyViolation"}}})");
  EXPECT_EQ(inner.kind, ErrorKind::kContentFilter);
  EXPECT_EQ(inner.provider_code, "invalid_prompt");
  Error missing = AzureUpstream().DecodeError(
      404, R"({"error":{"code":"DeploymentNotFound","message":"The API deployment for this )"
           R"(resource does not exist."}})");
  EXPECT_EQ(missing.kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.code, "model_not_found");
  Error rate = AzureUpstream().DecodeError(
      429, R"({"error":{"code":"429","message":"Requests ... Please retry after 1 second."}})");
  EXPECT_EQ(rate.kind, ErrorKind::kRateLimited);
  Error auth = AzureUpstream().DecodeError(
      401, R"({"error":{"code":"401","message":"Access denied due to invalid subscription key"}})");
  EXPECT_EQ(auth.kind, ErrorKind::kAuthentication);
  EXPECT_EQ(auth.provider_code, "401");
}

}  // namespace
}  // namespace modelmux::dialects
