#include "dialects/bedrock/response.hpp"

#include <gtest/gtest.h>

#include "dialects/bedrock/test_util.hpp"

namespace modelmux::dialects::bedrock {
namespace {

using testing::ReadTestdata;

TEST(BedrockResponseTest, TextAnswer) {
  auto r = DecodeConverseResponse(ReadTestdata("response_text.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->choices.size(), 1u);
  const Choice& c = r->choices[0];
  EXPECT_EQ(c.message.role, Role::kAssistant);
  EXPECT_EQ(c.message.Text(),
            "The most popular song on WZPZ is \"Elemental Hotel\" by 8 Storey Hike.");
  EXPECT_EQ(c.finish_reason, FinishReason::kStop);
  EXPECT_EQ(c.finish_reason_raw, "end_turn");
  ASSERT_TRUE(r->usage);
  EXPECT_EQ(r->usage->prompt_tokens, 125);
  EXPECT_EQ(r->usage->completion_tokens, 60);
  EXPECT_EQ(r->usage->total(), 185);
}

TEST(BedrockResponseTest, ToolUseAndCacheUsage) {
  auto r = DecodeConverseResponse(ReadTestdata("response_tool_use.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Message& m = r->choices[0].message;
  EXPECT_EQ(m.Text(), "I'll look up the top song.");
  ASSERT_EQ(m.tool_calls.size(), 1u);
  EXPECT_EQ(m.tool_calls[0].id, "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
  EXPECT_EQ(m.tool_calls[0].name, "top_song");
  EXPECT_EQ(m.tool_calls[0].arguments, R"({"sign":"WZPZ"})");
  EXPECT_EQ(r->choices[0].finish_reason, FinishReason::kToolCalls);
  // Cached tokens are counted apart by Bedrock and included in the neutral prompt count.
  EXPECT_EQ(r->usage->prompt_tokens, 375 + 100 + 20);
  EXPECT_EQ(r->usage->cache_read_tokens, 100);
  EXPECT_EQ(r->usage->cache_write_tokens, 20);
  EXPECT_EQ(r->usage->completion_tokens, 69);
}

TEST(BedrockResponseTest, StopReasons) {
  auto with = [](std::string_view reason) {
    auto r = DecodeConverseResponse(
        R"({"output":{"message":{"role":"assistant","content":[{"text":"x"}]}},"stopReason":")" +
        std::string(reason) + R"("})");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->choices[0].finish_reason : FinishReason::kNone;
  };
  EXPECT_EQ(with("max_tokens"), FinishReason::kLength);
  EXPECT_EQ(with("stop_sequence"), FinishReason::kStop);
  EXPECT_EQ(with("guardrail_intervened"), FinishReason::kContentFilter);
  EXPECT_EQ(with("content_filtered"), FinishReason::kContentFilter);
  EXPECT_EQ(with("something_new"), FinishReason::kOther);
}

TEST(BedrockResponseTest, ReasoningContentIsKeptApart) {
  auto r = DecodeConverseResponse(R"({"output":{"message":{"role":"assistant","content":[
    {"reasoningContent":{"reasoningText":{"text":"thinking","signature":"sig"}}},
    {"text":"answer"}]}},"stopReason":"end_turn"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->choices[0].message.reasoning, "thinking");
  EXPECT_EQ(r->choices[0].message.Text(), "answer");
}

TEST(BedrockResponseTest, MalformedAnswers) {
  for (std::string_view body : {"not json", "[]", R"({"output":{}})"}) {
    auto r = DecodeConverseResponse(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamError);
    EXPECT_EQ(r.error().code, "bad_upstream_response");
  }
}

TEST(BedrockResponseTest, TitanEmbedding) {
  auto r = DecodeTitanEmbeddingResponse(R"({"embedding":[0.25,-0.5,1],"inputTextTokenCount":3})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->data.size(), 1u);
  EXPECT_EQ(r->data[0].vector, (std::vector<float>{0.25f, -0.5f, 1.0f}));
  EXPECT_EQ(r->prompt_tokens, 3);
  EXPECT_FALSE(DecodeTitanEmbeddingResponse(R"({"embedding":["x"]})").ok());
  EXPECT_FALSE(DecodeTitanEmbeddingResponse(R"({"inputTextTokenCount":3})").ok());
}

}  // namespace
}  // namespace modelmux::dialects::bedrock
