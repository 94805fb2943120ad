#include <gtest/gtest.h>

#include "dialects/anthropic/request.hpp"
#include "dialects/anthropic/test_util.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using testing::ExpectJsonEq;
using testing::ReadTestdata;

TEST(AnthropicRequestDecodeTest, ToolsGoldenToNeutral) {
  auto req = DecodeMessagesRequest(ReadTestdata("request_tools.json"));
  ASSERT_TRUE(req.ok()) << req.error().message;
  EXPECT_EQ(req->model, "claude-sonnet-4-5");
  EXPECT_EQ(req->max_tokens, 1024);
  EXPECT_EQ(req->temperature, 0.5);
  EXPECT_EQ(req->stop, std::vector<std::string>{"\n\nHuman:"});
  EXPECT_TRUE(req->stream);
  EXPECT_TRUE(req->include_usage);
  EXPECT_EQ(req->user, "user-123");
  ASSERT_EQ(req->messages.size(), 6u);
  const auto& m = req->messages;
  EXPECT_EQ(m[0].role, Role::kSystem);
  EXPECT_FALSE(m[0].content_is_string);
  EXPECT_EQ(m[0].Text(), "You are a weather assistant.Answer briefly.");
  EXPECT_EQ(m[1].role, Role::kUser);
  EXPECT_TRUE(m[1].content_is_string);
  EXPECT_EQ(m[2].role, Role::kAssistant);
  EXPECT_EQ(m[2].Text(), "I'll check both cities.");
  ASSERT_EQ(m[2].tool_calls.size(), 2u);
  EXPECT_EQ(m[2].tool_calls[0].id, "toolu_01A09q90qw90lq917835lq9");
  EXPECT_EQ(m[2].tool_calls[0].name, "get_weather");
  ExpectJsonEq(m[2].tool_calls[0].arguments,
               R"({"location":"San Francisco, CA","unit":"celsius"})");
  EXPECT_EQ(m[3].role, Role::kTool);
  EXPECT_EQ(m[3].tool_call_id, "toolu_01A09q90qw90lq917835lq9");
  EXPECT_EQ(m[3].Text(), "15 degrees");
  EXPECT_EQ(m[4].role, Role::kTool);
  EXPECT_FALSE(m[4].content_is_string);
  EXPECT_EQ(m[4].Text(), "59 degrees");
  EXPECT_EQ(m[5].role, Role::kUser);
  EXPECT_EQ(m[5].Text(), "Which one is warmer?");
  // Tools and tool_choice in the neutral (OpenAI) shape; the server tool kept as it is.
  ExpectJsonEq(req->tools, R"([
    {"type":"function","function":{"name":"get_weather",
      "description":"Get the current weather in a given location",
      "parameters":{"type":"object","properties":{
        "location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},
        "unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}},
    {"type":"web_search_20250305","name":"web_search","max_uses":2}])");
  EXPECT_EQ(req->tool_choice, R"("auto")");
  ExpectJsonEq(req->extra, R"({"top_k":40,"parallel_tool_calls":false})");
}

TEST(AnthropicRequestDecodeTest, ImagesGoldenToNeutral) {
  auto req = DecodeMessagesRequest(ReadTestdata("request_images.json"));
  ASSERT_TRUE(req.ok()) << req.error().message;
  ASSERT_EQ(req->messages.size(), 4u);
  const Message& user = req->messages[1];
  ASSERT_EQ(user.content.size(), 3u);
  EXPECT_EQ(user.content[0].type, PartType::kImage);
  EXPECT_EQ(user.content[0].mime_type, "image/png");
  EXPECT_EQ(user.content[0].url.substr(0, 30), "data:image/png;base64,iVBORw0K");
  EXPECT_EQ(user.content[1].url,
            "https://upload.wikimedia.org/wikipedia/commons/a/a7/"
            "Camponotus_flavomarginatus_ant.jpg");
  EXPECT_EQ(req->top_p, 0.9);
  ExpectJsonEq(req->extra, R"({"thinking":{"type":"enabled","budget_tokens":2048}})");
}

// Anthropic request -> neutral -> Anthropic upstream encode: the same JSON (modulo key order).
TEST(AnthropicRequestDecodeTest, IngressToUpstreamRoundTrip) {
  for (const char* name : {"request_tools.json", "request_images.json"}) {
    SCOPED_TRACE(name);
    const std::string original = ReadTestdata(name);
    auto req = DecodeMessagesRequest(original);
    ASSERT_TRUE(req.ok()) << req.error().message;
    auto body = EncodeMessagesRequest(*req, req->model, req->stream);
    ASSERT_TRUE(body.ok()) << body.error().message;
    ExpectJsonEq(*body, original);
  }
}

TEST(AnthropicRequestDecodeTest, ThinkingAndNamedToolChoice) {
  auto req = DecodeMessagesRequest(R"({"model":"m","max_tokens":5,
    "tool_choice":{"type":"tool","name":"get_weather"},
    "messages":[{"role":"user","content":"q"},
      {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"s"},
        {"type":"redacted_thinking","data":"xyz"},{"type":"text","text":"a"}]}]})");
  ASSERT_TRUE(req.ok()) << req.error().message;
  EXPECT_EQ(req->messages[1].reasoning, "hmm");
  EXPECT_EQ(req->messages[1].Text(), "a");
  ExpectJsonEq(req->tool_choice, R"({"type":"function","function":{"name":"get_weather"}})");
  EXPECT_TRUE(req->extra.empty());
}

TEST(AnthropicRequestDecodeTest, ValidatesLikeAnthropic) {
  const std::pair<const char*, const char*> cases[] = {
      {R"([1])", ""},
      {R"({"max_tokens":10,"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}]})", "max_tokens"},
      {R"({"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]})", "max_tokens"},
      {R"({"model":"m","max_tokens":"5","messages":[{"role":"user","content":"x"}]})",
       "max_tokens"},
      {R"({"model":"m","max_tokens":5})", "messages"},
      {R"({"model":"m","max_tokens":5,"messages":[]})", "messages"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})",
       "messages.0.role"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user"}]})", "messages.0.content"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[]}]})",
       "messages.0.content"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"video"}]}]})",
       "messages.0.content.0.type"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[
         {"type":"image","source":{"type":"base64","media_type":"image/bmp","data":"x"}}]}]})",
       "messages.0.content.0.source.media_type"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[
         {"type":"tool_use","id":"t","name":"n","input":{}}]}]})",
       "messages.0.content.0.type"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},
         {"role":"assistant","content":[{"type":"tool_result","tool_use_id":"t"}]}]})",
       "messages.1.content.0.type"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"},
         {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"n","input":[]}]}]})",
       "messages.1.content.0.input"},
      {R"({"model":"m","max_tokens":5,"temperature":1.5,)"
       R"("messages":[{"role":"user","content":"x"}]})",
       "temperature"},
      {R"({"model":"m","max_tokens":5,"top_k":-1,"messages":[{"role":"user","content":"x"}]})",
       "top_k"},
      {R"({"model":"m","max_tokens":5,"system":5,"messages":[{"role":"user","content":"x"}]})",
       "system"},
      {R"({"model":"m","max_tokens":5,"stop_sequences":["a",1],)"
       R"("messages":[{"role":"user","content":"x"}]})",
       "stop_sequences.1"},
      {R"({"model":"m","max_tokens":5,"tools":[{"name":"f"}],)"
       R"("messages":[{"role":"user","content":"x"}]})",
       "tools.0.input_schema"},
      {R"({"model":"m","max_tokens":5,"tool_choice":{"type":"maybe"},)"
       R"("messages":[{"role":"user","content":"x"}]})",
       "tool_choice.type"},
  };
  for (const auto& [body, param] : cases) {
    SCOPED_TRACE(body);
    auto r = DecodeMessagesRequest(body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
    EXPECT_EQ(r.error().param, param);
  }
}

}  // namespace
}  // namespace modelmux::dialects::anthropic
