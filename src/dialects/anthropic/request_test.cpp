#include "dialects/anthropic/request.hpp"

#include <gtest/gtest.h>

#include "dialects/anthropic/test_util.hpp"
#include "dialects/openai/request.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using testing::ExpectJsonEq;
using testing::ParseJson;
using testing::ReadTestdata;

Message Text(Role role, std::string text) {
  Message m;
  m.role = role;
  m.content.push_back(ContentPart{PartType::kText, std::move(text), "", "", ""});
  return m;
}

ChatRequest Simple() {
  ChatRequest req;
  req.model = "claude-haiku-4-5";
  req.messages.push_back(Text(Role::kUser, "Hi"));
  return req;
}

boost::json::object Encoded(const ChatRequest& req) {
  auto body = EncodeMessagesRequest(req, "", false);
  EXPECT_TRUE(body.ok()) << (body.ok() ? "" : body.error().message);
  return body.ok() ? ParseJson(*body).as_object() : boost::json::object{};
}

TEST(AnthropicRequestTest, EncodesOpenAiRequestGolden) {
  auto req = openai::DecodeChatRequest(ReadTestdata("openai_request.json"));
  ASSERT_TRUE(req.ok()) << req.error().message;
  auto body = EncodeMessagesRequest(*req, "claude-sonnet-4-5", false);
  ASSERT_TRUE(body.ok()) << body.error().message;
  ExpectJsonEq(*body, ReadTestdata("anthropic_from_openai.json"));
}

TEST(AnthropicRequestTest, MaxTokensDefaultsTo4096) {
  ChatRequest req = Simple();
  EXPECT_EQ(Encoded(req).at("max_tokens").as_int64(), 4096);
  req.max_tokens = 77;
  EXPECT_EQ(Encoded(req).at("max_tokens").as_int64(), 77);
}

TEST(AnthropicRequestTest, TemperatureClampedNotRescaled) {
  ChatRequest req = Simple();
  EXPECT_FALSE(Encoded(req).contains("temperature"));
  req.temperature = 1.7;
  EXPECT_DOUBLE_EQ(Encoded(req).at("temperature").as_double(), 1.0);
  req.temperature = 0.3;
  EXPECT_DOUBLE_EQ(Encoded(req).at("temperature").as_double(), 0.3);
  req.temperature = -0.2;
  EXPECT_DOUBLE_EQ(Encoded(req).at("temperature").as_double(), 0.0);
}

TEST(AnthropicRequestTest, ModelStreamAndStringContent) {
  ChatRequest req = Simple();
  auto body = EncodeMessagesRequest(req, "claude-haiku-4-5-20251001", true);
  ASSERT_TRUE(body.ok());
  ExpectJsonEq(*body, R"({"model":"claude-haiku-4-5-20251001","max_tokens":4096,"stream":true,
                          "messages":[{"role":"user","content":"Hi"}]})");
}

TEST(AnthropicRequestTest, SystemAndDeveloperHoistedAndSameRolesMerged) {
  ChatRequest req;
  req.model = "m";
  req.messages.push_back(Text(Role::kSystem, "Be terse."));
  req.messages.push_back(Text(Role::kUser, "One"));
  req.messages.push_back(Text(Role::kDeveloper, "Use metric units."));
  req.messages.push_back(Text(Role::kUser, "Two"));
  req.messages.push_back(Text(Role::kAssistant, "Ok"));
  req.messages.push_back(Text(Role::kAssistant, "Sure"));
  auto o = Encoded(req);
  ExpectJsonEq(
      boost::json::serialize(o.at("system")),
      R"([{"type":"text","text":"Be terse."},{"type":"text","text":"Use metric units."}])");
  ExpectJsonEq(boost::json::serialize(o.at("messages")), R"([
    {"role":"user","content":[{"type":"text","text":"One"},{"type":"text","text":"Two"}]},
    {"role":"assistant","content":[{"type":"text","text":"Ok"},{"type":"text","text":"Sure"}]}])");
}

TEST(AnthropicRequestTest, ToolChoiceMapping) {
  const std::pair<std::string, std::string> cases[] = {
      {R"("auto")", R"({"type":"auto"})"},
      {R"("required")", R"({"type":"any"})"},
      {R"("none")", R"({"type":"none"})"},
      {R"({"type":"function","function":{"name":"get_weather"}})",
       R"({"type":"tool","name":"get_weather"})"},
      {R"({"type":"tool","name":"x"})", R"({"type":"tool","name":"x"})"},
  };
  for (const auto& [in, want] : cases) {
    ChatRequest req = Simple();
    req.tool_choice = in;
    ExpectJsonEq(boost::json::serialize(Encoded(req).at("tool_choice")), want);
  }
  ChatRequest bad = Simple();
  bad.tool_choice = R"("sometimes")";
  auto r = EncodeMessagesRequest(bad, "", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "tool_choice");
}

TEST(AnthropicRequestTest, ImagesFromDataAndHttpUrls) {
  ChatRequest req = Simple();
  Message& m = req.messages[0];
  m.content_is_string = false;
  m.content.push_back(ContentPart{PartType::kImage, "", "data:image/webp;base64,UklGRg==", "", ""});
  m.content.push_back(ContentPart{PartType::kImage, "", "https://example.com/a.png", "high", ""});
  auto o = Encoded(req);
  ExpectJsonEq(boost::json::serialize(o.at("messages")), R"([{"role":"user","content":[
    {"type":"text","text":"Hi"},
    {"type":"image","source":{"type":"base64","media_type":"image/webp","data":"UklGRg=="}},
    {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]}])");

  m.content.push_back(ContentPart{PartType::kImage, "", "ftp://example.com/a.png", "", ""});
  auto r = EncodeMessagesRequest(req, "", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "messages[0].content[3]");
}

TEST(AnthropicRequestTest, RejectsWhatAnthropicCannotTake) {
  ChatRequest n = Simple();
  n.n = 2;
  auto r = EncodeMessagesRequest(n, "", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "n");

  ChatRequest video = Simple();
  video.messages[0].content.push_back(ContentPart{PartType::kVideo, "", "https://v/x.mp4", "", ""});
  r = EncodeMessagesRequest(video, "", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);

  ChatRequest args = Simple();
  Message a = Text(Role::kAssistant, "");
  a.tool_calls.push_back(ToolCall{"call_1", "f", "[1,2]"});
  args.messages.push_back(a);
  r = EncodeMessagesRequest(args, "", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "messages[1].tool_calls[0].function.arguments");
}

TEST(AnthropicRequestTest, ExtraFilteredAndUserToMetadata) {
  ChatRequest req = Simple();
  req.seed = 3;
  req.response_format = R"({"type":"json_object"})";
  req.extra =
      R"({"frequency_penalty":1,"top_k":5,"thinking":{"type":"enabled","budget_tokens":1024},
                  "metadata":{"user_id":"from-extra","tag":"x"}})";
  auto o = Encoded(req);
  EXPECT_FALSE(o.contains("frequency_penalty"));
  EXPECT_FALSE(o.contains("seed"));
  EXPECT_FALSE(o.contains("response_format"));
  EXPECT_EQ(o.at("top_k").as_int64(), 5);
  EXPECT_EQ(o.at("thinking").at("budget_tokens").as_int64(), 1024);
  ExpectJsonEq(boost::json::serialize(o.at("metadata")), R"({"user_id":"from-extra"})");
  req.user = "u-1";
  ExpectJsonEq(boost::json::serialize(Encoded(req).at("metadata")), R"({"user_id":"u-1"})");
}

TEST(AnthropicRequestTest, AssistantToolCallWithEmptyArgumentsGetsEmptyInput) {
  ChatRequest req = Simple();
  Message a;
  a.role = Role::kAssistant;
  a.content_is_string = false;
  a.tool_calls.push_back(ToolCall{"toolu_1", "now", ""});
  req.messages.push_back(a);
  ExpectJsonEq(boost::json::serialize(Encoded(req).at("messages").at(1)),
               R"({"role":"assistant","content":[
                   {"type":"tool_use","id":"toolu_1","name":"now","input":{}}]})");
}

}  // namespace
}  // namespace modelmux::dialects::anthropic
