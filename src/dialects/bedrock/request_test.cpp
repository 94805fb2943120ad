#include "dialects/bedrock/request.hpp"

#include <gtest/gtest.h>

#include "dialects/bedrock/test_util.hpp"
#include "dialects/openai/request.hpp"

namespace modelmux::dialects::bedrock {
namespace {

using testing::ExpectJsonEq;
using testing::ParseJson;
using testing::ReadTestdata;

ChatRequest FromOpenAi(std::string_view body) {
  auto req = openai::DecodeChatRequest(body);
  EXPECT_TRUE(req.ok()) << (req.ok() ? "" : req.error().message);
  return req.ok() ? std::move(req).value() : ChatRequest{};
}

boost::json::value Encode(std::string_view openai_body) {
  auto body = EncodeConverseRequest(FromOpenAi(openai_body));
  EXPECT_TRUE(body.ok()) << (body.ok() ? "" : body.error().message);
  return body.ok() ? ParseJson(*body) : boost::json::value();
}

Error EncodeError(std::string_view openai_body) {
  auto body = EncodeConverseRequest(FromOpenAi(openai_body));
  EXPECT_FALSE(body.ok());
  return body.ok() ? Error{} : body.error();
}

TEST(BedrockRequestTest, EncodesOpenAiRequestGolden) {
  auto body = EncodeConverseRequest(FromOpenAi(ReadTestdata("openai_request.json")));
  ASSERT_TRUE(body.ok()) << body.error().message;
  ExpectJsonEq(*body, ReadTestdata("converse_from_openai.json"));
}

TEST(BedrockRequestTest, PathEncodesTheModelIdOnce) {
  EXPECT_EQ(ConversePath("anthropic.claude-3-5-sonnet-20240620-v1:0", false),
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse");
  EXPECT_EQ(ConversePath("us.amazon.nova-lite-v1:0", true),
            "/model/us.amazon.nova-lite-v1%3A0/converse-stream");
  EXPECT_EQ(
      ModelPath("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x-v1:0", "converse"),
      "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x-v1"
      "%3A0/converse");
  EXPECT_EQ(ModelPath("amazon.titan-embed-text-v2:0", "invoke"),
            "/model/amazon.titan-embed-text-v2%3A0/invoke");
}

TEST(BedrockRequestTest, MinimalRequestHasOnlyMessages) {
  auto v = Encode(R"({"model":"m","messages":[{"role":"user","content":"Hello"}]})");
  ExpectJsonEq(boost::json::serialize(v),
               R"({"messages":[{"role":"user","content":[{"text":"Hello"}]}]})");
}

TEST(BedrockRequestTest, SameRolesMergedAndEmptyMessagesSkipped) {
  auto v = Encode(R"({"model":"m","messages":[
    {"role":"user","content":"one"},{"role":"user","content":""},{"role":"user","content":"two"},
    {"role":"assistant","content":"three"},{"role":"user","content":"four"}]})");
  ExpectJsonEq(boost::json::serialize(v.at("messages")), R"([
    {"role":"user","content":[{"text":"one"},{"text":"two"}]},
    {"role":"assistant","content":[{"text":"three"}]},
    {"role":"user","content":[{"text":"four"}]}])");
}

TEST(BedrockRequestTest, HttpImageUrlIsRefusedNamingThePart) {
  Error e = EncodeError(R"({"model":"m","messages":[{"role":"user","content":[
    {"type":"text","text":"look"},
    {"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]})");
  EXPECT_EQ(e.kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(e.HttpStatus(), 400);
  EXPECT_EQ(e.param, "messages[0].content[1]");
  EXPECT_EQ(e.code, "image_url_unsupported");
}

TEST(BedrockRequestTest, ImageFormatsAndRefusals) {
  auto v = Encode(R"({"model":"m","messages":[{"role":"user","content":[
    {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}},
    {"type":"image_url","image_url":{"url":"data:image/webp;base64,UklGRg=="}}]}]})");
  const auto& content = v.at("messages").at(0).at("content");
  EXPECT_EQ(content.at(0).at("image").at("format").as_string(), "jpeg");
  EXPECT_EQ(content.at(0).at("image").at("source").at("bytes").as_string(), "/9j/4AAQ");
  EXPECT_EQ(content.at(1).at("image").at("format").as_string(), "webp");

  Error bmp = EncodeError(R"({"model":"m","messages":[{"role":"user","content":[
    {"type":"image_url","image_url":{"url":"data:image/bmp;base64,Qk0="}}]}]})");
  EXPECT_EQ(bmp.code, "unsupported_image_format");
  EXPECT_EQ(bmp.param, "messages[0].content[0]");
}

TEST(BedrockRequestTest, ToolChoiceForms) {
  constexpr std::string_view kTools = R"("tools":[{"type":"function","function":{"name":"f"}}])";
  auto with = [&](std::string_view choice) {
    return Encode(R"({"model":"m","messages":[{"role":"user","content":"hi"}],)" +
                  std::string(kTools) + R"(,"tool_choice":)" + std::string(choice) + "}");
  };
  EXPECT_EQ(with(R"("required")").at("toolConfig").at("toolChoice"), ParseJson(R"({"any":{}})"));
  EXPECT_EQ(
      with(R"({"type":"function","function":{"name":"f"}})").at("toolConfig").at("toolChoice"),
      ParseJson(R"({"tool":{"name":"f"}})"));
  // Tools without parameters get an empty object schema (Bedrock requires inputSchema).
  EXPECT_EQ(with(R"("auto")").at("toolConfig").at("tools").at(0).at("toolSpec").at("inputSchema"),
            ParseJson(R"({"json":{"type":"object","properties":{}}})"));
  // "none" with no tool blocks in the conversation: no toolConfig at all.
  EXPECT_FALSE(with(R"("none")").as_object().contains("toolConfig"));
}

TEST(BedrockRequestTest, RefusesWhatConverseCannotCarry) {
  Error n = EncodeError(R"({"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(n.param, "n");
  Error args = EncodeError(R"({"model":"m","messages":[{"role":"user","content":"hi"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"t1","type":"function",
     "function":{"name":"f","arguments":"[1,2]"}}]}]})");
  EXPECT_EQ(args.param, "messages[1].tool_calls[0].function.arguments");
}

TEST(BedrockRequestTest, TitanEmbeddingTakesOneInput) {
  EmbeddingRequest one;
  one.inputs = {"hello world"};
  one.dimensions = 512;
  auto body = EncodeTitanEmbeddingRequest(one);
  ASSERT_TRUE(body.ok());
  ExpectJsonEq(*body, R"({"inputText":"hello world","dimensions":512,"normalize":true})");

  EmbeddingRequest two;
  two.inputs = {"a", "b"};
  auto refused = EncodeTitanEmbeddingRequest(two);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().param, "input");
  EXPECT_EQ(refused.error().code, "too_many_inputs");
  EXPECT_EQ(refused.error().HttpStatus(), 400);
}

}  // namespace
}  // namespace modelmux::dialects::bedrock
