// The DashScope dialect: request goldens, whole answers, errors, embeddings and the wire call.
#include "dialects/dashscope/dashscope.hpp"

#include <gtest/gtest.h>

#include "dialects/dashscope/errors.hpp"
#include "dialects/dashscope/request.hpp"
#include "dialects/dashscope/response.hpp"
#include "dialects/dashscope/test_util.hpp"

namespace modelmux::dialects {
namespace {

using dashscope::testing::ParseJson;
using dashscope::testing::ReadTestdata;

ContentPart Text(std::string t) {
  return ContentPart{PartType::kText, std::move(t), "", "", ""};
}

Message Msg(Role role, std::string text) {
  Message m;
  m.role = role;
  m.content.push_back(Text(std::move(text)));
  return m;
}

ChatRequest WeatherRequest() {
  ChatRequest req;
  req.model = "dashscope/qwen-plus";
  req.messages.push_back(Msg(Role::kSystem, "You are a helpful assistant."));
  req.messages.push_back(Msg(Role::kUser, "What is the weather in Hangzhou?"));
  Message call = Msg(Role::kAssistant, "");
  call.tool_calls.push_back({"call_1", "get_current_weather", R"({"location":"Hangzhou"})"});
  req.messages.push_back(call);
  Message result = Msg(Role::kTool, "Sunny, 24C");
  result.tool_call_id = "call_1";
  req.messages.push_back(result);
  req.temperature = 2.0;
  req.top_p = 0.8;
  req.max_tokens = 256;
  req.seed = 42;
  req.stop = {"\n\n"};
  req.tools = R"([{"type":"function","function":{"name":"get_current_weather",)"
              R"("description":"Current weather","parameters":{"type":"object"}}}])";
  req.tool_choice = R"("auto")";
  req.extra = R"({"enable_search":true,"top_k":20,"unknown_key":1})";
  return req;
}

TEST(DashScopeRequestTest, TextGolden) {
  auto body = dashscope::EncodeChatRequest(WeatherRequest(), "qwen-plus", true, false);
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(ParseJson(*body), ParseJson(ReadTestdata("request_text.json"))) << *body;
}

TEST(DashScopeRequestTest, MultimodalGolden) {
  ChatRequest req;
  req.messages.push_back(Msg(Role::kSystem, "You are a helpful assistant."));
  Message user;
  user.content.push_back(ContentPart{
      PartType::kImage, "",
      "https://dashscope.oss-cn-beijing.aliyuncs.com/images/dog_and_girl.jpeg", "", ""});
  user.content.push_back(Text("What is in this picture?"));
  req.messages.push_back(user);
  EXPECT_TRUE(dashscope::IsMultimodal("qwen-plus", req));  // the image decides
  auto body = dashscope::EncodeChatRequest(req, "qwen-vl-max", false, true);
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(ParseJson(*body), ParseJson(ReadTestdata("request_multimodal.json"))) << *body;
}

TEST(DashScopeRequestTest, MultimodalModels) {
  ChatRequest text_only;
  text_only.messages.push_back(Msg(Role::kUser, "hi"));
  for (const char* m : {"qwen-vl-max", "Qwen-VL-Plus", "qwen2.5-vl-72b-instruct", "qwen3-vl-plus",
                        "qwen-omni-turbo", "qwen2.5-omni-7b", "qvq-max", "qwen-audio-turbo"}) {
    EXPECT_TRUE(dashscope::IsMultimodal(m, text_only)) << m;
  }
  for (const char* m : {"qwen-plus", "qwen-max", "qwen3-235b-a22b", "qwen-turbo", "qwq-plus"}) {
    EXPECT_FALSE(dashscope::IsMultimodal(m, text_only)) << m;
  }
}

TEST(DashScopeRequestTest, MediaOnTheTextPathAndBadToolsAreRefused) {
  ChatRequest req;
  Message user;
  user.content.push_back(ContentPart{PartType::kImage, "", "https://x/y.png", "", ""});
  req.messages.push_back(user);
  auto media = dashscope::EncodeChatRequest(req, "qwen-plus", false, false);
  ASSERT_FALSE(media.ok());
  EXPECT_EQ(media.error().param, "messages[0].content");

  ChatRequest tools;
  tools.messages.push_back(Msg(Role::kUser, "hi"));
  tools.tools = "[{";
  auto bad = dashscope::EncodeChatRequest(tools, "qwen-plus", false, false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "tools");
  EXPECT_FALSE(dashscope::EncodeChatRequest(ChatRequest{}, "qwen-plus", false, false).ok());
}

TEST(DashScopeDialectTest, WireCallPathsAndStreamHeaders) {
  const UpstreamDialect& d = DashScopeUpstream();
  EXPECT_EQ(d.name(), "dashscope");
  CallOptions options;
  options.upstream_model = "qwen-plus";
  options.stream = true;
  auto call = d.EncodeChat(WeatherRequest(), options);
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->method, "POST");
  EXPECT_EQ(call->path, "/api/v1/services/aigc/text-generation/generation");
  HeaderList want{{"X-DashScope-SSE", "enable"}, {"Accept", "text/event-stream"}};
  EXPECT_EQ(call->headers, want);
  EXPECT_EQ(ParseJson(call->body).at("model").as_string(), "qwen-plus");

  options.stream = false;
  options.upstream_model = "qwen-vl-max";
  auto vl = d.EncodeChat(WeatherRequest(), options);
  ASSERT_TRUE(vl.ok());
  EXPECT_EQ(vl->path, "/api/v1/services/aigc/multimodal-generation/generation");
  EXPECT_TRUE(vl->headers.empty());
  const auto params = ParseJson(vl->body).at("parameters").as_object();
  EXPECT_FALSE(params.contains("incremental_output"));
  EXPECT_TRUE(ParseJson(vl->body).at("input").at("messages").at(1).at("content").is_array());
}

TEST(DashScopeResponseTest, TextAnswer) {
  auto r = dashscope::DecodeChatResponse(ReadTestdata("response_text.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, "5d768057-2820-91ba-8c99-31cd520e7628");
  ASSERT_EQ(r->choices.size(), 1u);
  EXPECT_EQ(r->choices[0].message.Text(), "我是大规模语言模型，我叫通义千问。");
  EXPECT_EQ(r->choices[0].finish_reason, FinishReason::kStop);
  EXPECT_EQ(r->choices[0].finish_reason_raw, "stop");
  ASSERT_TRUE(r->usage);
  EXPECT_EQ(r->usage->prompt_tokens, 22);
  EXPECT_EQ(r->usage->completion_tokens, 17);
}

TEST(DashScopeResponseTest, ToolCallsMultimodalAndReasoning) {
  auto tool = dashscope::DecodeChatResponse(ReadTestdata("response_tool_call.json"));
  ASSERT_TRUE(tool.ok());
  ASSERT_EQ(tool->choices.at(0).message.tool_calls.size(), 1u);
  const ToolCall& c = tool->choices[0].message.tool_calls[0];
  EXPECT_EQ(c.id, "call_240d6341de4c484384849d");
  EXPECT_EQ(c.name, "get_current_weather");
  EXPECT_EQ(ParseJson(c.arguments).at("location").as_string(), "杭州市");
  EXPECT_EQ(tool->choices[0].finish_reason, FinishReason::kToolCalls);

  auto vl = dashscope::DecodeChatResponse(ReadTestdata("response_multimodal.json"));
  ASSERT_TRUE(vl.ok());
  EXPECT_EQ(vl->choices.at(0).message.Text(), "这是一只狗和一个女孩在海滩上玩耍。");
  EXPECT_EQ(vl->usage->prompt_tokens, 1271);

  auto think = dashscope::DecodeChatResponse(ReadTestdata("response_reasoning.json"));
  ASSERT_TRUE(think.ok());
  EXPECT_EQ(think->choices.at(0).message.reasoning, "用户问1+1等于几，答案是2。");
  EXPECT_EQ(think->usage->cache_read_tokens, 8);
  EXPECT_EQ(think->usage->reasoning_tokens, 9);
}

TEST(DashScopeResponseTest, TextResultFormatAndMalformedBodies) {
  auto r = dashscope::DecodeChatResponse(
      R"({"output":{"text":"hello","finish_reason":"length"},"usage":{"input_tokens":1,)"
      R"("output_tokens":2},"request_id":"r1"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->choices.at(0).message.Text(), "hello");
  EXPECT_EQ(r->choices[0].finish_reason, FinishReason::kLength);
  for (const char* body : {"", "[]", "{\"request_id\":\"x\"}", "{\"output\":{}}"}) {
    auto bad = dashscope::DecodeChatResponse(body);
    ASSERT_FALSE(bad.ok()) << body;
    EXPECT_EQ(bad.error().code, "bad_upstream_response") << body;
  }
}

struct ErrorRow {
  int status;
  const char* code;
  const char* message;
  ErrorKind kind;
};

TEST(DashScopeErrorsTest, CodesMapToTheTaxonomy) {
  const ErrorRow rows[] = {
      {401, "InvalidApiKey", "Invalid API-key provided.", ErrorKind::kAuthentication},
      {429, "Throttling", "Requests throttling triggered.", ErrorKind::kRateLimited},
      {429, "Throttling.RateQuota", "Requests rate limit exceeded", ErrorKind::kRateLimited},
      {429, "Throttling.AllocationQuota", "Allocated quota exceeded", ErrorKind::kRateLimited},
      {403, "AllocationQuota.FreeTierOnly", "free tier used up", ErrorKind::kQuotaExhausted},
      {400, "DataInspectionFailed", "Input data may contain inappropriate content.",
       ErrorKind::kContentFilter},
      {400, "Arrearage", "Access denied, please make sure your account is in good standing.",
       ErrorKind::kBilling},
      {403, "AccessDenied", "Access denied.", ErrorKind::kPermission},
      {400, "InvalidParameter", "Range of input length should be [1, 30720]",
       ErrorKind::kContextLength},
      {400, "InvalidParameter", "Model not exist.", ErrorKind::kNotFound},
      {400, "InvalidParameter", "temperature should be in [0, 2)", ErrorKind::kInvalidRequest},
      {500, "InternalError", "An internal error has occured", ErrorKind::kUpstreamError},
      {500, "RequestTimeOut", "Request timed out", ErrorKind::kTimeout},
      {503, "ModelUnavailable", "Model is unavailable", ErrorKind::kUnavailable},
      {418, "SomethingNew", "?", ErrorKind::kInvalidRequest},
      {502, "SomethingNew", "?", ErrorKind::kUpstreamError},
  };
  for (const auto& row : rows) {
    const std::string body = std::string(R"({"code":")") + row.code + R"(","message":")" +
                             row.message + R"(","request_id":"rid"})";
    const Error e = dashscope::DecodeError(row.status, body);
    EXPECT_EQ(e.kind, row.kind) << row.code << " " << row.message;
    EXPECT_EQ(e.provider_code, row.code);
    EXPECT_EQ(e.provider, "dashscope");
    EXPECT_EQ(e.upstream_status, row.status);
    EXPECT_EQ(e.message, row.message);
  }
}

TEST(DashScopeErrorsTest, GoldensStatusesAndSecrets) {
  const Error key =
      DashScopeUpstream().DecodeError(401, ReadTestdata("error_invalid_api_key.json"));
  EXPECT_EQ(key.HttpStatus(), 401);
  EXPECT_EQ(key.code, "invalid_api_key");
  const Error rate = DashScopeUpstream().DecodeError(429, ReadTestdata("error_throttling.json"));
  EXPECT_EQ(rate.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(rate.Retry(), RetryClass::kRetry);
  EXPECT_EQ(rate.code, "rate_limit_exceeded");

  const Error masked = dashscope::DecodeError(
      401, R"({"code":"InvalidApiKey","message":"Invalid API-key provided: sk-0123456789abcdef"})");
  EXPECT_EQ(masked.message.find("0123456789abcdef"), std::string::npos) << masked.message;
  const Error html = dashscope::DecodeError(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(html.kind, ErrorKind::kUpstreamError);
  EXPECT_TRUE(html.provider_code.empty());
  // A successful body carries code "" and is not an error.
  EXPECT_FALSE(dashscope::ErrorFromBody(ReadTestdata("response_text.json"), 200));
  // An error inside a 200 body (as the SDKs see it) is returned as one.
  auto in_200 = dashscope::DecodeChatResponse(ReadTestdata("error_throttling.json"));
  ASSERT_FALSE(in_200.ok());
  EXPECT_EQ(in_200.error().kind, ErrorKind::kRateLimited);
}

TEST(DashScopeEmbeddingsTest, EncodeAndDecode) {
  EmbeddingRequest req;
  req.model = "text-embedding-v3";
  req.inputs = {"风急天高猿啸哀", "渚清沙白鸟飞回"};
  req.dimensions = 512;
  req.task_type = "RETRIEVAL_QUERY";
  CallOptions options;
  auto call = DashScopeUpstream().EncodeEmbeddings(req, options);
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->path, "/api/v1/services/embeddings/text-embedding/text-embedding");
  EXPECT_EQ(ParseJson(call->body),
            ParseJson(R"({"model":"text-embedding-v3","input":{"texts":["风急天高猿啸哀",)"
                      R"("渚清沙白鸟飞回"]},"parameters":{"dimension":512,"text_type":"query"}})"));

  auto resp = DashScopeUpstream().DecodeEmbeddings(ReadTestdata("embeddings_response.json"));
  ASSERT_TRUE(resp.ok()) << resp.error().message;
  ASSERT_EQ(resp->data.size(), 2u);
  EXPECT_EQ(resp->data[0].index, 0);
  EXPECT_FLOAT_EQ(resp->data[0].vector.at(2), 0.9f);
  EXPECT_EQ(resp->data[1].index, 1);
  EXPECT_FLOAT_EQ(resp->data[1].vector.at(1), -0.5f);
  EXPECT_EQ(resp->prompt_tokens, 12);

  EmbeddingRequest empty;
  empty.model = "text-embedding-v3";
  EXPECT_FALSE(DashScopeUpstream().EncodeEmbeddings(empty, options).ok());
  auto err = DashScopeUpstream().DecodeEmbeddings(ReadTestdata("error_invalid_api_key.json"));
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().kind, ErrorKind::kAuthentication);
  EXPECT_FALSE(DashScopeUpstream().DecodeEmbeddings(R"({"output":{}})").ok());
}

}  // namespace
}  // namespace modelmux::dialects
