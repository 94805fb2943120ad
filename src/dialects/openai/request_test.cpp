#include "dialects/openai/request.hpp"

#include <gtest/gtest.h>

#include "dialects/openai/test_util.hpp"

namespace modelmux::dialects::openai {
namespace {

using testing::ExpectSameRequest;
using testing::ReadTestdata;

TEST(OpenAiRequestTest, DecodesTextRequest) {
  auto r = DecodeChatRequest(ReadTestdata("request_text.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "gpt-4o-mini");
  ASSERT_EQ(r->messages.size(), 2u);
  EXPECT_EQ(r->messages[0].role, Role::kDeveloper);
  EXPECT_EQ(r->messages[1].Text(), "Hello!");
  EXPECT_TRUE(r->messages[1].content_is_string);
  EXPECT_EQ(r->temperature, 0.2);
  EXPECT_EQ(r->max_tokens, 64);
  EXPECT_FALSE(r->max_completion_tokens_field);
  EXPECT_EQ(r->stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(r->seed, 42);
  EXPECT_EQ(r->user, "user-1234");
  EXPECT_EQ(r->extra, "");
}

TEST(OpenAiRequestTest, DecodesImagePartsAndAudio) {
  auto r = DecodeChatRequest(ReadTestdata("request_images.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& parts = r->messages[0].content;
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_FALSE(r->messages[0].content_is_string);
  EXPECT_EQ(parts[0].type, PartType::kText);
  EXPECT_EQ(parts[1].type, PartType::kImage);
  EXPECT_EQ(parts[1].detail, "high");
  EXPECT_TRUE(parts[1].url.starts_with("https://upload.wikimedia.org/"));
  EXPECT_EQ(parts[2].detail, "low");
  EXPECT_TRUE(parts[2].url.starts_with("data:image/png;base64,iVBOR"));
  EXPECT_EQ(parts[3].type, PartType::kAudio);
  EXPECT_EQ(parts[3].mime_type, "audio/wav");
  EXPECT_EQ(parts[3].url, "data:audio/wav;base64,UklGRiQAAABXQVZF");
  EXPECT_EQ(r->max_tokens, 300);
  EXPECT_TRUE(r->max_completion_tokens_field);
}

TEST(OpenAiRequestTest, DecodesToolsAndToolTurns) {
  auto r = DecodeChatRequest(ReadTestdata("request_tools.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->messages.size(), 3u);
  const auto& asst = r->messages[1];
  EXPECT_TRUE(asst.content.empty());
  ASSERT_EQ(asst.tool_calls.size(), 1u);
  EXPECT_EQ(asst.tool_calls[0].id, "call_abc123");
  EXPECT_EQ(asst.tool_calls[0].name, "get_current_weather");
  EXPECT_EQ(asst.tool_calls[0].arguments, R"({"location":"Boston, MA"})");
  EXPECT_EQ(r->messages[2].role, Role::kTool);
  EXPECT_EQ(r->messages[2].tool_call_id, "call_abc123");
  EXPECT_TRUE(
      r->tools.starts_with(R"([{"type":"function","function":{"name":"get_current_weather")"));
  EXPECT_EQ(r->tool_choice, R"("auto")");
  EXPECT_EQ(r->extra, R"({"parallel_tool_calls":true})");
}

TEST(OpenAiRequestTest, KeepsResponseFormatRaw) {
  auto r = DecodeChatRequest(ReadTestdata("request_json_schema.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->response_format.starts_with(
      R"({"type":"json_schema","json_schema":{"name":"math_reasoning")"));
  EXPECT_EQ(r->reasoning_effort, "low");
}

TEST(OpenAiRequestTest, UnknownFieldsGoToExtra) {
  auto r = DecodeChatRequest(ReadTestdata("request_vendor_fields.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->extra,
            R"({"stream_options":{"include_obfuscation":false},"enable_thinking":false,"top_k":20,)"
            R"("repetition_penalty":1.05E0,"logit_bias":{"50256":-100},)"
            R"("metadata":{"trace":"abc","big":12345678901234567890},"split_sentences":true})");
  EXPECT_FALSE(r->include_usage);
  EXPECT_EQ(r->messages[0].content[1].type, PartType::kVideo);
}

TEST(OpenAiRequestTest, GoldenRoundTrips) {
  for (const char* name : {"request_text.json", "request_images.json", "request_tools.json",
                           "request_json_schema.json", "request_vendor_fields.json"}) {
    SCOPED_TRACE(name);
    auto first = DecodeChatRequest(ReadTestdata(name));
    ASSERT_TRUE(first.ok()) << first.error().message;
    const std::string wire = EncodeChatRequest(*first, first->model, false);
    auto second = DecodeChatRequest(wire);
    ASSERT_TRUE(second.ok()) << second.error().message << "\n" << wire;
    ExpectSameRequest(*first, *second);
  }
}

TEST(OpenAiRequestTest, EncodeSetsUpstreamModelAndUsage) {
  auto r = DecodeChatRequest(
      R"({"model":"my-alias","messages":[{"role":"user","content":"hi"}],"stream":true})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(EncodeChatRequest(*r, "gpt-4o-mini", true),
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],)"
            R"("stream":true,"stream_options":{"include_usage":true}})");
  EXPECT_EQ(EncodeChatRequest(*r, "gpt-4o-mini", false),
            R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true})");
}

TEST(OpenAiRequestTest, EncodeToolTurns) {
  auto r = DecodeChatRequest(ReadTestdata("request_tools.json"));
  ASSERT_TRUE(r.ok());
  const std::string wire = EncodeChatRequest(*r, "gpt-4.1", false);
  EXPECT_NE(wire.find(R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_abc123",)"
                      R"("type":"function","function":{"name":"get_current_weather",)"
                      R"("arguments":"{\"location\":\"Boston, MA\"}"}}]})"),
            std::string::npos)
      << wire;
  EXPECT_NE(wire.find(R"("tool_choice":"auto")"), std::string::npos);
  EXPECT_NE(wire.find(R"("parallel_tool_calls":true)"), std::string::npos);
}

TEST(OpenAiRequestTest, LegacyCompletion) {
  auto r = DecodeCompletionRequest(ReadTestdata("completion_request.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "gpt-3.5-turbo-instruct");
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(r->messages[0].role, Role::kUser);
  EXPECT_EQ(r->messages[0].Text(), "Say this is a test");
  EXPECT_EQ(r->max_tokens, 16);
  EXPECT_EQ(r->temperature, 0.0);
  EXPECT_EQ(r->extra, R"({"echo":true,"suffix":"!","logprobs":2,"best_of":3})");

  auto bad = DecodeCompletionRequest(R"({"model":"x","prompt":["a","b"]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "prompt");
  auto missing = DecodeCompletionRequest(R"({"model":"x"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().param, "prompt");
  auto with_max = DecodeCompletionRequest(R"({"model":"x","prompt":"p","max_tokens":5})");
  ASSERT_TRUE(with_max.ok());
  EXPECT_EQ(with_max->max_tokens, 5);
}

struct BadCase {
  const char* body;
  const char* param;
  const char* code;
};

const BadCase kBadCases[] = {
    {"not json", "", "invalid_json"},
    {"[1,2]", "", "invalid_json"},
    {R"({"messages":[{"role":"user","content":"x"}]})", "model", "missing_required_parameter"},
    {R"({"model":5,"messages":[{"role":"user","content":"x"}]})", "model", "invalid_type"},
    {R"({"model":"m"})", "messages", "missing_required_parameter"},
    {R"({"model":"m","messages":"hi"})", "messages", "invalid_type"},
    {R"({"model":"m","messages":[]})", "messages", "empty_array"},
    {R"({"model":"m","messages":[{"content":"x"}]})", "messages[0].role",
     "missing_required_parameter"},
    {R"({"model":"m","messages":[{"role":"robot","content":"x"}]})", "messages[0].role",
     "invalid_value"},
    {R"({"model":"m","messages":[{"role":"user","content":5}]})", "messages[0].content",
     "invalid_type"},
    {R"({"model":"m","messages":[{"role":"user"}]})", "messages[0].content",
     "missing_required_parameter"},
    {R"({"model":"m","messages":[{"role":"user","content":[{"type":"sound"}]}]})",
     "messages[0].content[0].type", "invalid_value"},
    {R"({"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]})",
     "messages[0].content[0].text", "missing_required_parameter"},
    {R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})",
     "messages[0].content[0].image_url.url", "missing_required_parameter"},
    {R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"u","detail":"max"}}]}]})",
     "messages[0].content[0].image_url.detail", "invalid_value"},
    {R"({"model":"m","messages":[{"role":"tool","content":"r"}]})", "messages[0].tool_call_id",
     "missing_required_parameter"},
    {R"({"model":"m","messages":[{"role":"assistant","tool_calls":{}}]})", "messages[0].tool_calls",
     "invalid_type"},
    {R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"arguments":"{}"}}]}]})",
     "messages[0].tool_calls[0].function.name", "missing_required_parameter"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"})",
     "temperature", "invalid_type"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":2.5})", "temperature",
     "decimal_above_max_value"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":-1})", "temperature",
     "decimal_below_min_value"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})", "max_tokens",
     "integer_below_min_value"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.5})", "max_tokens",
     "invalid_type"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream",
     "invalid_type"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":0})", "n",
     "integer_below_min_value"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]})",
     "stop", "array_above_max_length"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":[1]})", "stop[0]",
     "invalid_type"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":{}})", "tools",
     "invalid_type"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":1})", "tool_choice",
     "invalid_type"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"response_format":"json"})",
     "response_format", "invalid_type"},
    {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}})",
     "stream_options.include_usage", "invalid_type"},
};

TEST(OpenAiRequestTest, ValidationErrorsNameTheParam) {
  for (const auto& c : kBadCases) {
    SCOPED_TRACE(c.body);
    auto r = DecodeChatRequest(c.body);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
    EXPECT_EQ(r.error().HttpStatus(), 400);
    EXPECT_EQ(r.error().param, c.param);
    EXPECT_EQ(r.error().code, c.code);
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(OpenAiRequestTest, ParseErrorMessageIsOpenAiStyle) {
  auto r = DecodeChatRequest("{");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.starts_with("We could not parse the JSON body of your request."));
  auto t = DecodeChatRequest(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3})");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message,
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 "
            "instead.");
}

}  // namespace
}  // namespace modelmux::dialects::openai
