#include "dialects/gemini/request.hpp"

#include <gtest/gtest.h>

#include "dialects/gemini/test_util.hpp"
#include "dialects/openai/request.hpp"

namespace modelmux::dialects::gemini {
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
  auto body = EncodeGenerateContentRequest(FromOpenAi(openai_body));
  EXPECT_TRUE(body.ok()) << (body.ok() ? "" : body.error().message);
  return body.ok() ? ParseJson(*body) : boost::json::value();
}

Error EncodeError(std::string_view openai_body) {
  auto body = EncodeGenerateContentRequest(FromOpenAi(openai_body));
  EXPECT_FALSE(body.ok());
  return body.ok() ? Error{} : body.error();
}

TEST(GeminiRequestTest, EncodesOpenAiRequestGolden) {
  auto body = EncodeGenerateContentRequest(FromOpenAi(ReadTestdata("openai_request.json")));
  ASSERT_TRUE(body.ok()) << body.error().message;
  ExpectJsonEq(*body, ReadTestdata("gemini_from_openai.json"));
}

TEST(GeminiRequestTest, PathNamesModelAndStreamingMode) {
  EXPECT_EQ(GenerateContentPath("gemini-2.5-flash", false),
            "/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(GenerateContentPath("gemini-2.5-flash", true),
            "/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  EXPECT_EQ(GenerateContentPath("models/gemini-2.5-pro", false),
            "/models/gemini-2.5-pro:generateContent");
  EXPECT_EQ(GenerateContentPath("tunedModels/my-tune", true),
            "/tunedModels/my-tune:streamGenerateContent?alt=sse");
}

TEST(GeminiRequestTest, MinimalRequestHasNoGenerationConfig) {
  auto v = Encode(R"({"model":"m","messages":[{"role":"user","content":"Hello"}]})");
  ExpectJsonEq(boost::json::serialize(v),
               R"({"contents":[{"role":"user","parts":[{"text":"Hello"}]}]})");
}

TEST(GeminiRequestTest, SameRolesMergedAndEmptyMessagesSkipped) {
  auto v = Encode(R"({"model":"m","messages":[
    {"role":"user","content":"one"},{"role":"user","content":""},{"role":"user","content":"two"},
    {"role":"assistant","content":"three"},{"role":"user","content":"four"}]})");
  ExpectJsonEq(boost::json::serialize(v.at("contents")), R"([
    {"role":"user","parts":[{"text":"one"},{"text":"two"}]},
    {"role":"model","parts":[{"text":"three"}]},
    {"role":"user","parts":[{"text":"four"}]}])");
}

TEST(GeminiRequestTest, ToolChoiceMapping) {
  const std::string tools =
      R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}])";
  auto with_choice = [&](std::string_view choice) {
    return Encode(R"({"model":"m","messages":[{"role":"user","content":"x"}],)" + tools +
                  R"(,"tool_choice":)" + std::string(choice) + "}");
  };
  EXPECT_EQ(with_choice(R"("auto")").at("toolConfig").at("functionCallingConfig").at("mode"),
            "AUTO");
  EXPECT_EQ(with_choice(R"("none")").at("toolConfig").at("functionCallingConfig").at("mode"),
            "NONE");
  ExpectJsonEq(boost::json::serialize(
                   with_choice(R"({"type":"function","function":{"name":"f"}})").at("toolConfig")),
               R"({"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}})");
  EXPECT_EQ(EncodeError(R"({"model":"m","messages":[{"role":"user","content":"x"}],)" + tools +
                        R"(,"tool_choice":{"type":"bogus"}})")
                .param,
            "tool_choice");
}

TEST(GeminiRequestTest, ResponseFormatAndReasoningEffort) {
  auto v = Encode(R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":2,
    "reasoning_effort":"none","response_format":{"type":"json_schema","json_schema":{"name":"r",
    "schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}})");
  ExpectJsonEq(boost::json::serialize(v.at("generationConfig")), R"({
    "candidateCount":2,"thinkingConfig":{"thinkingBudget":0},
    "responseMimeType":"application/json",
    "responseJsonSchema":{"type":"object","properties":{"a":{"type":"integer"}}}})");
  auto o = Encode(R"({"model":"m","messages":[{"role":"user","content":"x"}],
    "response_format":{"type":"json_object"},"reasoning_effort":"high"})");
  EXPECT_EQ(o.at("generationConfig").at("responseMimeType"), "application/json");
  EXPECT_EQ(o.at("generationConfig").at("thinkingConfig").at("thinkingBudget"), 24576);
}

TEST(GeminiRequestTest, MediaPartsForVideoAndAudioToo) {
  ChatRequest req;
  Message m;
  m.content.push_back(ContentPart{PartType::kVideo, "", "https://cdn.example/v.MP4?x=1", "", ""});
  m.content.push_back(ContentPart{PartType::kAudio, "", "data:audio/wav;base64,UklGRg==", "", ""});
  m.content.push_back(ContentPart{PartType::kImage, "", "https://example.com/img", "", ""});
  req.messages.push_back(m);
  auto body = EncodeGenerateContentRequest(req);
  ASSERT_TRUE(body.ok());
  ExpectJsonEq(boost::json::serialize(ParseJson(*body).at("contents").at(0).at("parts")), R"([
    {"file_data":{"mime_type":"video/mp4","file_uri":"https://cdn.example/v.MP4?x=1"}},
    {"inline_data":{"mime_type":"audio/wav","data":"UklGRg=="}},
    {"file_data":{"file_uri":"https://example.com/img"}}])");
}

TEST(GeminiRequestTest, RejectsWhatGeminiCannotTake) {
  Error bad_url = EncodeError(R"({"model":"m","messages":[{"role":"user","content":[
    {"type":"image_url","image_url":{"url":"ftp://example.com/a.png"}}]}]})");
  EXPECT_EQ(bad_url.kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(bad_url.param, "messages[0].content[0]");

  Error bad_args = EncodeError(R"({"model":"m","messages":[{"role":"user","content":"x"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
     "function":{"name":"f","arguments":"[1,2]"}}]}]})");
  EXPECT_EQ(bad_args.param, "messages[1].tool_calls[0].function.arguments");

  Error orphan = EncodeError(R"({"model":"m","messages":[{"role":"user","content":"x"},
    {"role":"tool","tool_call_id":"nowhere","content":"42"}]})");
  EXPECT_EQ(orphan.param, "messages[1].tool_call_id");
  EXPECT_EQ(orphan.code, "invalid_tool_call_id");
}

TEST(GeminiRequestTest, ExtraPassesGeminiKeysOnly) {
  auto v = Encode(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":9,
    "presence_penalty":1,"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT",
    "threshold":"BLOCK_NONE"}],"generationConfig":{"maxOutputTokens":12,"topK":3}})");
  const auto& o = v.as_object();
  EXPECT_TRUE(o.contains("safetySettings"));
  EXPECT_FALSE(o.contains("presence_penalty"));
  EXPECT_FALSE(o.contains("generationConfig") &&
               o.at("generationConfig").as_object().contains("presencePenalty"));
  EXPECT_EQ(o.at("generationConfig").at("maxOutputTokens"), 12);  // the caller's own wins
  EXPECT_EQ(o.at("generationConfig").at("topK"), 3);
}

}  // namespace
}  // namespace modelmux::dialects::gemini
