#include "dialects/anthropic/response.hpp"

#include <gtest/gtest.h>

#include "dialects/anthropic/test_util.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using testing::ExpectJsonEq;
using testing::ParseJson;
using testing::ReadTestdata;

TEST(AnthropicResponseTest, DecodesThinkingTextAndToolUse) {
  auto resp = DecodeMessagesResponse(ReadTestdata("response_tool_use.json"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  EXPECT_EQ(resp->id, "msg_01Aq9w938a90dw8q");
  EXPECT_EQ(resp->model, "claude-sonnet-4-5-20250929");
  ASSERT_EQ(resp->choices.size(), 1u);
  const Choice& c = resp->choices[0];
  EXPECT_EQ(c.message.role, Role::kAssistant);
  EXPECT_EQ(c.message.Text(), "I'll check the current weather in San Francisco for you.");
  EXPECT_EQ(c.message.reasoning,
            "The user wants the weather in San Francisco. I should call get_weather.");
  ASSERT_EQ(c.message.tool_calls.size(), 1u);
  EXPECT_EQ(c.message.tool_calls[0].id, "toolu_01A09q90qw90lq917835lq9");
  EXPECT_EQ(c.message.tool_calls[0].name, "get_weather");
  ExpectJsonEq(c.message.tool_calls[0].arguments,
               R"({"location":"San Francisco, CA","unit":"celsius"})");
  EXPECT_EQ(c.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(c.finish_reason_raw, "tool_use");
  ASSERT_TRUE(resp->usage);
  // prompt = 472 input + 100 cache read + 0 cache creation.
  EXPECT_EQ(*resp->usage, (Usage{572, 89, 100, 0, 0}));
}

TEST(AnthropicResponseTest, UsageIncludesCacheReadAndWrite) {
  auto resp = DecodeMessagesResponse(R"({"type":"message","id":"msg_1","content":[],
    "stop_reason":"end_turn","usage":{"input_tokens":10,"cache_read_input_tokens":300,
    "cache_creation_input_tokens":50,"output_tokens":7}})");
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(*resp->usage, (Usage{360, 7, 300, 50, 0}));
}

TEST(AnthropicResponseTest, StopReasonMapping) {
  const std::pair<const char*, FinishReason> cases[] = {
      {"end_turn", FinishReason::kStop},         {"max_tokens", FinishReason::kLength},
      {"stop_sequence", FinishReason::kStop},    {"tool_use", FinishReason::kToolCalls},
      {"refusal", FinishReason::kContentFilter}, {"pause_turn", FinishReason::kOther},
  };
  for (const auto& [raw, want] : cases) {
    auto resp = DecodeMessagesResponse(
        std::string(R"({"type":"message","content":[],"stop_reason":")") + raw + "\"}");
    ASSERT_TRUE(resp.ok());
    EXPECT_EQ(resp->choices[0].finish_reason, want) << raw;
    EXPECT_EQ(resp->choices[0].finish_reason_raw, raw);
    // Encoding back keeps Anthropic's own value.
    EXPECT_EQ(ParseJson(EncodeMessagesResponse(*resp)).at("stop_reason").as_string(), raw);
  }
}

TEST(AnthropicResponseTest, ErrorsAndMalformedBodies) {
  auto err = DecodeMessagesResponse(
      R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().kind, ErrorKind::kOverloaded);
  for (const char* body : {"not json", "[]", R"({"type":"message"})"}) {
    auto r = DecodeMessagesResponse(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamError);
    EXPECT_EQ(r.error().code, "bad_upstream_response");
  }
}

TEST(AnthropicResponseTest, EncodesNeutralResponse) {
  ChatResponse resp;
  resp.id = "chatcmpl-9";
  resp.model = "gpt-4o-2024-08-06";
  Choice c;
  c.message.role = Role::kAssistant;
  c.message.content.push_back(ContentPart{PartType::kText, "Let me look.", "", "", ""});
  c.message.tool_calls.push_back(ToolCall{"call_7", "lookup", R"({"q":"ants"})"});
  c.finish_reason = FinishReason::kToolCalls;
  c.finish_reason_raw = "tool_calls";
  resp.choices.push_back(c);
  resp.usage = Usage{120, 30, 100, 0, 0};
  ExpectJsonEq(EncodeMessagesResponse(resp), R"({
    "id":"msg_chatcmpl-9","type":"message","role":"assistant","model":"gpt-4o-2024-08-06",
    "content":[{"type":"text","text":"Let me look."},
               {"type":"tool_use","id":"call_7","name":"lookup","input":{"q":"ants"}}],
    "stop_reason":"tool_use","stop_sequence":null,
    "usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,
             "output_tokens":30}})");
  resp.choices[0].finish_reason = FinishReason::kLength;
  resp.choices[0].finish_reason_raw = "length";
  EXPECT_EQ(ParseJson(EncodeMessagesResponse(resp)).at("stop_reason").as_string(), "max_tokens");
  resp.choices[0].finish_reason = FinishReason::kContentFilter;
  EXPECT_EQ(ParseJson(EncodeMessagesResponse(resp)).at("stop_reason").as_string(), "refusal");
}

TEST(AnthropicResponseTest, EncodeDecodeRoundTrip) {
  auto first = DecodeMessagesResponse(ReadTestdata("response_tool_use.json"));
  ASSERT_TRUE(first.ok());
  auto again = DecodeMessagesResponse(EncodeMessagesResponse(*first));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(again->model, first->model);
  EXPECT_EQ(again->usage, first->usage);
  EXPECT_EQ(again->choices[0].message.Text(), first->choices[0].message.Text());
  EXPECT_EQ(again->choices[0].message.reasoning, first->choices[0].message.reasoning);
  EXPECT_EQ(again->choices[0].message.tool_calls[0].arguments,
            first->choices[0].message.tool_calls[0].arguments);
  EXPECT_EQ(again->choices[0].finish_reason_raw, "tool_use");
}

}  // namespace
}  // namespace modelmux::dialects::anthropic
