#include "dialects/openai/response.hpp"

#include <gtest/gtest.h>

#include "dialects/openai/test_util.hpp"

namespace modelmux::dialects::openai {
namespace {

using testing::ReadTestdata;

TEST(OpenAiResponseTest, ToolCalls) {
  auto r = DecodeChatResponse(ReadTestdata("response_tool_calls.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, "chatcmpl-abc123");
  EXPECT_EQ(r->model, "gpt-4o-mini-2024-07-18");
  EXPECT_EQ(r->created, 1699896916);
  EXPECT_EQ(r->system_fingerprint, "fp_44709d6fcb");
  ASSERT_EQ(r->choices.size(), 1u);
  const auto& c = r->choices[0];
  EXPECT_EQ(c.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(c.finish_reason_raw, "tool_calls");
  EXPECT_TRUE(c.message.content.empty());
  ASSERT_EQ(c.message.tool_calls.size(), 1u);
  EXPECT_EQ(c.message.tool_calls[0].name, "get_current_weather");
  EXPECT_EQ(c.message.tool_calls[0].arguments, "{\n\"location\": \"Boston, MA\"\n}");
  ASSERT_TRUE(r->usage);
  EXPECT_EQ(*r->usage, (Usage{82, 17, 0, 0, 0}));
}

TEST(OpenAiResponseTest, OpenAiCachedAndReasoningTokens) {
  auto r = DecodeChatResponse(ReadTestdata("response_cached_reasoning.json"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->usage, (Usage{2006, 300, 1920, 0, 192}));
  EXPECT_EQ(r->choices[0].message.Text(), "The answer is 42.");
  EXPECT_EQ(r->choices[0].finish_reason, FinishReason::kStop);
}

TEST(OpenAiResponseTest, DeepSeekReasoningAndCacheHits) {
  auto r = DecodeChatResponse(ReadTestdata("response_deepseek_reasoner.json"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->choices[0].message.reasoning, "Compare the tenths digit: 1 < 8.");
  EXPECT_EQ(r->choices[0].message.Text(), "9.11 is smaller than 9.8.");
  // prompt_tokens_details.cached_tokens is 0, so prompt_cache_hit_tokens is used.
  EXPECT_EQ(*r->usage, (Usage{16, 120, 10, 0, 100}));
}

TEST(OpenAiResponseTest, MoonshotTopLevelCachedTokens) {
  auto r = DecodeChatResponse(ReadTestdata("response_moonshot.json"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->usage, (Usage{19, 21, 8, 0, 0}));
}

TEST(OpenAiResponseTest, MoonshotUsageInsideChoice) {
  auto r = DecodeChatResponse(
      R"({"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},)"
      R"("finish_reason":"stop","usage":{"prompt_tokens":3,"completion_tokens":1,"cached_tokens":2}}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->usage, (Usage{3, 1, 2, 0, 0}));
}

TEST(OpenAiResponseTest, MalformedIsUpstreamError) {
  auto r = DecodeChatResponse("<html>bad gateway</html>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamError);
  EXPECT_FALSE(DecodeChatResponse(R"({"id":"x"})").ok());
}

TEST(OpenAiResponseTest, EncodeRoundTrip) {
  for (const char* name : {"response_tool_calls.json", "response_cached_reasoning.json",
                           "response_deepseek_reasoner.json", "response_moonshot.json"}) {
    SCOPED_TRACE(name);
    auto a = DecodeChatResponse(ReadTestdata(name));
    ASSERT_TRUE(a.ok());
    auto b = DecodeChatResponse(EncodeChatResponse(*a));
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(a->id, b->id);
    EXPECT_EQ(a->model, b->model);
    EXPECT_EQ(a->created, b->created);
    EXPECT_EQ(a->usage, b->usage);
    ASSERT_EQ(a->choices.size(), b->choices.size());
    testing::ExpectSameMessage(a->choices[0].message, b->choices[0].message);
    EXPECT_EQ(a->choices[0].message.reasoning, b->choices[0].message.reasoning);
    EXPECT_EQ(a->choices[0].finish_reason, b->choices[0].finish_reason);
  }
}

TEST(OpenAiResponseTest, EncodeShape) {
  ChatResponse r;
  r.id = "chatcmpl-1";
  r.model = "gpt-4o-mini";
  r.created = 1700000000;
  Choice c;
  c.message.role = Role::kAssistant;
  c.message.content.push_back({PartType::kText, "Paris.", "", "", ""});
  c.finish_reason = FinishReason::kStop;
  r.choices.push_back(c);
  r.usage = Usage{10, 2, 4, 0, 0};
  EXPECT_EQ(EncodeChatResponse(r),
            R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,)"
            R"("model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant",)"
            R"("content":"Paris.","refusal":null},"logprobs":null,"finish_reason":"stop"}],)"
            R"("usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,)"
            R"("prompt_tokens_details":{"cached_tokens":4},)"
            R"("completion_tokens_details":{"reasoning_tokens":0}}})");
  EXPECT_EQ(EncodeCompletionResponse(r),
            R"({"id":"chatcmpl-1","object":"text_completion","created":1700000000,)"
            R"("model":"gpt-4o-mini","choices":[{"text":"Paris.","index":0,"logprobs":null,)"
            R"("finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,)"
            R"("total_tokens":12}})");
}

}  // namespace
}  // namespace modelmux::dialects::openai
