#include "dialects/gemini/response.hpp"

#include <gtest/gtest.h>

#include "dialects/gemini/test_util.hpp"

namespace modelmux::dialects::gemini {
namespace {

using testing::ExpectJsonEq;
using testing::ReadTestdata;

TEST(GeminiResponseTest, DecodesTextThoughtsAndUsage) {
  auto resp = DecodeGenerateContentResponse(ReadTestdata("response_text.json"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->id, "7Mx2aO3vLPqkz7IP2p7k4Qo");
  EXPECT_EQ(resp->model, "gemini-2.5-flash");
  ASSERT_EQ(resp->choices.size(), 1u);
  const Choice& c = resp->choices[0];
  EXPECT_EQ(c.message.role, Role::kAssistant);
  EXPECT_EQ(c.message.Text(), "AI learns patterns from data to make predictions or decisions.\n");
  EXPECT_EQ(c.message.reasoning,
            "**Explaining AI simply**\n\nThe user wants a short, plain explanation of how AI "
            "works.");
  EXPECT_TRUE(c.message.tool_calls.empty());
  EXPECT_EQ(c.finish_reason, FinishReason::kStop);
  EXPECT_EQ(c.finish_reason_raw, "STOP");
  ASSERT_TRUE(resp->usage);
  // completion = 12 candidates + 27 thoughts; the 4 cached tokens are inside the prompt's 8.
  EXPECT_EQ(*resp->usage, (Usage{8, 39, 4, 0, 27}));
  EXPECT_EQ(resp->usage->total(), 47);  // Gemini's totalTokenCount
}

TEST(GeminiResponseTest, DecodesFunctionCallsWithIdsAndSignatures) {
  auto resp = DecodeGenerateContentResponse(ReadTestdata("response_function_call.json"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  const Choice& c = resp->choices[0];
  EXPECT_EQ(c.message.Text(), "I'll schedule it and check London.");
  ASSERT_EQ(c.message.tool_calls.size(), 2u);
  const ToolCall& a = c.message.tool_calls[0];
  const ToolCall& b = c.message.tool_calls[1];
  EXPECT_EQ(a.name, "schedule_meeting");
  ExpectJsonEq(a.arguments,
               R"({"attendees":["Bob","Alice"],"date":"2025-03-27","time":"10:00",
                   "topic":"Q3 planning"})");
  EXPECT_EQ(b.name, "get_current_temperature");
  ExpectJsonEq(b.arguments, R"({"location":"London"})");
  // Generated ids are distinct, start with call_, and carry the thought signature when any.
  EXPECT_EQ(a.id.rfind("call_", 0), 0u);
  EXPECT_NE(a.id.find("__thought__CiQBVKhc7sig1mNBmU0lhx"), std::string::npos) << a.id;
  EXPECT_EQ(b.id.find("__thought__"), std::string::npos) << b.id;
  EXPECT_NE(a.id, b.id);
  // Gemini says STOP after function calls; callers are told tool_calls.
  EXPECT_EQ(c.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(c.finish_reason_raw, "STOP");
  EXPECT_EQ(*resp->usage, (Usage{118, 93, 0, 0, 52}));
}

TEST(GeminiResponseTest, ProviderIdIsKept) {
  auto resp = DecodeGenerateContentResponse(R"({"candidates":[{"content":{"role":"model",
    "parts":[{"functionCall":{"id":"fc-9","name":"f","args":{}}}]},"finishReason":"STOP"}]})");
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->choices[0].message.tool_calls[0].id, "fc-9");
  EXPECT_EQ(resp->choices[0].message.tool_calls[0].arguments, "{}");
  EXPECT_FALSE(resp->usage);
}

TEST(GeminiResponseTest, FinishReasonMapping) {
  const std::pair<const char*, FinishReason> cases[] = {
      {"STOP", FinishReason::kStop},
      {"MAX_TOKENS", FinishReason::kLength},
      {"SAFETY", FinishReason::kContentFilter},
      {"RECITATION", FinishReason::kContentFilter},
      {"BLOCKLIST", FinishReason::kContentFilter},
      {"PROHIBITED_CONTENT", FinishReason::kContentFilter},
      {"SPII", FinishReason::kContentFilter},
      {"MALFORMED_FUNCTION_CALL", FinishReason::kError},
      {"OTHER", FinishReason::kOther},
      {"LANGUAGE", FinishReason::kOther},
  };
  for (const auto& [raw, want] : cases) {
    auto resp = DecodeGenerateContentResponse(
        std::string(R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":")") +
        raw + "\"}]}");
    ASSERT_TRUE(resp.ok()) << raw;
    EXPECT_EQ(resp->choices[0].finish_reason, want) << raw;
    EXPECT_EQ(resp->choices[0].finish_reason_raw, raw);
  }
}

TEST(GeminiResponseTest, SeveralCandidates) {
  auto resp = DecodeGenerateContentResponse(R"({"candidates":[
    {"content":{"parts":[{"text":"a"}]},"finishReason":"STOP","index":0},
    {"content":{"parts":[{"text":"b"}]},"finishReason":"MAX_TOKENS","index":1}]})");
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->choices.size(), 2u);
  EXPECT_EQ(resp->choices[1].index, 1);
  EXPECT_EQ(resp->choices[1].message.Text(), "b");
  EXPECT_EQ(resp->choices[1].finish_reason, FinishReason::kLength);
}

TEST(GeminiResponseTest, BlockedPromptIsAContentFilterError) {
  auto resp = DecodeGenerateContentResponse(
      R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},
          "usageMetadata":{"promptTokenCount":7,"totalTokenCount":7}})");
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.error().kind, ErrorKind::kContentFilter);
  EXPECT_EQ(resp.error().code, "content_filter");
  EXPECT_EQ(resp.error().provider_code, "SAFETY");
  EXPECT_EQ(resp.error().HttpStatus(), 400);
}

TEST(GeminiResponseTest, ErrorsAndMalformedBodies) {
  auto in_200 = DecodeGenerateContentResponse(
      R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})");
  ASSERT_FALSE(in_200.ok());
  EXPECT_EQ(in_200.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(in_200.error().upstream_status, 503);
  for (const char* body : {"not json", "[]", R"({"candidates":[]})"}) {
    auto r = DecodeGenerateContentResponse(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, "bad_upstream_response") << body;
    EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamError);
  }
}

}  // namespace
}  // namespace modelmux::dialects::gemini
