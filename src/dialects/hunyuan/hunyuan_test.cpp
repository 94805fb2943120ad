#include "dialects/hunyuan/hunyuan.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "dialects/hunyuan/errors.hpp"
#include "dialects/hunyuan/stream.hpp"

namespace modelmux::dialects {
namespace {

namespace json = boost::json;

std::string ReadTestdata(const std::string& name) {
  std::ifstream f(std::string(MODELMUX_TESTDATA_DIR) + "/hunyuan/testdata/" + name,
                  std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Message Msg(Role role, std::string text) {
  Message m;
  m.role = role;
  m.content.push_back(ContentPart{PartType::kText, std::move(text), "", "", ""});
  return m;
}

std::string HeaderOf(const WireCall& call, std::string_view name) {
  for (const auto& [k, v] : call.headers) {
    if (k == name) return v;
  }
  return {};
}

// Feeds `bytes` in pieces of `step` bytes (0: all at once) and finishes.
Result<std::vector<StreamEvent>> Decode(std::string_view bytes, size_t step) {
  hunyuan::HunyuanStreamDecoder d;
  std::vector<StreamEvent> out;
  if (step == 0) step = bytes.size() + 1;
  for (size_t i = 0; i < bytes.size(); i += step) {
    MM_RETURN_IF_ERROR(d.Feed(bytes.substr(i, step), out));
  }
  MM_RETURN_IF_ERROR(d.Finish(out));
  return out;
}

std::string TextOf(const std::vector<StreamEvent>& events) {
  std::string text;
  for (const auto& ev : events) {
    for (const auto& d : ev.deltas) text += d.text;
  }
  return text;
}

TEST(HunyuanDialectTest, EncodeChat) {
  ChatRequest req;
  req.model = "hunyuan/hunyuan-lite";
  req.messages = {Msg(Role::kSystem, "Be brief."), Msg(Role::kUser, "Hi"),
                  Msg(Role::kAssistant, "Hello"),  Msg(Role::kDeveloper, "Answer in Chinese."),
                  Msg(Role::kUser, "Part one"),    Msg(Role::kUser, "part two")};
  req.temperature = 2.5;
  req.top_p = 0.9;
  req.max_tokens = 100;
  req.seed = 3;
  req.stop = {"END"};
  req.extra = R"({"EnableEnhancement":false,"Citation":true,"frequency_penalty":0.5})";
  const UpstreamDialect& d = HunyuanUpstream();
  EXPECT_EQ(d.name(), "hunyuan");
  auto call = d.EncodeChat(req, {"hunyuan-lite", true, {}});
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->method, "POST");
  EXPECT_EQ(call->path, "/");
  EXPECT_EQ(HeaderOf(*call, "X-TC-Action"), "ChatCompletions");
  EXPECT_EQ(HeaderOf(*call, "X-TC-Version"), "2023-09-01");
  const json::value expected = json::parse(R"({
    "Model":"hunyuan-lite",
    "Messages":[{"Role":"system","Content":"Be brief.\nAnswer in Chinese."},
                {"Role":"user","Content":"Hi"},{"Role":"assistant","Content":"Hello"},
                {"Role":"user","Content":"Part one\npart two"}],
    "Stream":true,"Temperature":2.0,"TopP":0.9,"StopWords":["END"],
    "EnableEnhancement":false,"Citation":true})");
  EXPECT_EQ(json::parse(call->body), expected) << call->body;

  auto plain = d.EncodeChat(req, {"hunyuan-pro", false, {}});
  ASSERT_TRUE(plain.ok());
  const json::object body = json::parse(plain->body).as_object();
  EXPECT_EQ(body.at("Model").as_string(), "hunyuan-pro");
  EXPECT_FALSE(body.contains("Stream"));
}

TEST(HunyuanDialectTest, EncodeToolsImagesAndToolTurns) {
  ChatRequest req;
  Message user = Msg(Role::kUser, "What is in this picture, and the weather in Beijing?");
  user.content.push_back(ContentPart{PartType::kImage, "", "https://example.com/1.png", "", ""});
  req.messages.push_back(user);
  Message call = Msg(Role::kAssistant, "");
  call.tool_calls.push_back(ToolCall{"call_1", "get_weather", R"({"city":"Beijing"})"});
  req.messages.push_back(call);
  Message result = Msg(Role::kTool, R"({"temp":20})");
  result.tool_call_id = "call_1";
  req.messages.push_back(result);
  req.tools = R"([{"type":"function","function":{"name":"get_weather","description":"d",
                  "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])";
  req.tool_choice = R"({"type":"function","function":{"name":"get_weather"}})";
  auto wire = HunyuanUpstream().EncodeChat(req, {"hunyuan-functioncall", false, {}});
  ASSERT_TRUE(wire.ok()) << wire.error().message;
  const json::value body = json::parse(wire->body);
  const json::array& msgs = body.at("Messages").as_array();
  ASSERT_EQ(msgs.size(), 3u);
  const json::value contents = json::parse(R"([
    {"Type":"text","Text":"What is in this picture, and the weather in Beijing?"},
    {"Type":"image_url","ImageUrl":{"Url":"https://example.com/1.png"}}])");
  EXPECT_EQ(msgs[0].at("Contents"), contents);
  EXPECT_FALSE(msgs[0].as_object().contains("Content"));
  const json::value tool_calls = json::parse(R"([{"Id":"call_1","Type":"function",
    "Function":{"Name":"get_weather","Arguments":"{\"city\":\"Beijing\"}"}}])");
  EXPECT_EQ(msgs[1].at("ToolCalls"), tool_calls);
  EXPECT_EQ(msgs[2].at("Role").as_string(), "tool");
  EXPECT_EQ(msgs[2].at("ToolCallId").as_string(), "call_1");
  const json::object& fn = body.at("Tools").at(0).at("Function").as_object();
  EXPECT_EQ(fn.at("Name").as_string(), "get_weather");
  // Parameters travel as JSON text, as Tencent's ToolFunction declares them.
  ASSERT_TRUE(fn.at("Parameters").is_string());
  EXPECT_EQ(json::parse(fn.at("Parameters").as_string()).at("properties").at("city").at("type"),
            "string");
  EXPECT_EQ(body.at("ToolChoice").as_string(), "custom");
  EXPECT_EQ(body.at("CustomTool").at("Function").at("Name").as_string(), "get_weather");

  req.tool_choice = R"("required")";
  auto required = HunyuanUpstream().EncodeChat(req, {"m", false, {}});
  ASSERT_TRUE(required.ok());
  EXPECT_EQ(json::parse(required->body).at("ToolChoice").as_string(), "auto");
  req.tool_choice = R"({"type":"function","function":{"name":"missing"}})";
  EXPECT_EQ(HunyuanUpstream().EncodeChat(req, {"m", false, {}}).error().param, "tool_choice");
}

TEST(HunyuanDialectTest, EncodeRejectsWhatHunyuanCannotTake) {
  const UpstreamDialect& d = HunyuanUpstream();
  ChatRequest video;
  Message m = Msg(Role::kUser, "see");
  m.content.push_back(ContentPart{PartType::kVideo, "", "https://x/y.mp4", "", ""});
  video.messages = {m};
  auto r = d.EncodeChat(video, {"hunyuan-vision", false, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "messages[0].content");
  ChatRequest many;
  many.messages = {Msg(Role::kUser, "a")};
  many.n = 2;
  EXPECT_EQ(d.EncodeChat(many, {"m", false, {}}).error().param, "n");
  ChatRequest no_model;
  no_model.messages = {Msg(Role::kUser, "a")};
  EXPECT_EQ(d.EncodeChat(no_model, {}).error().param, "model");
}

TEST(HunyuanDialectTest, DecodeDocumentedAnswer) {
  auto r = HunyuanUpstream().DecodeChat(ReadTestdata("response_text.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, "e1bd1e2f-4a2c-4e31-8b6d-2d3b8d7f4c1a");
  EXPECT_EQ(r->created, 1701767600);
  ASSERT_EQ(r->choices.size(), 1u);
  EXPECT_EQ(r->choices[0].message.Text(), "您好！我是腾讯混元大模型，很高兴为您服务。");
  EXPECT_EQ(r->choices[0].finish_reason, FinishReason::kStop);
  ASSERT_TRUE(r->usage);
  EXPECT_EQ(r->usage->prompt_tokens, 4);
  EXPECT_EQ(r->usage->completion_tokens, 14);
}

TEST(HunyuanDialectTest, DecodeToolCalls) {
  auto r = HunyuanUpstream().DecodeChat(ReadTestdata("response_tool_calls.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Choice& c = r->choices.at(0);
  EXPECT_EQ(c.finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(c.finish_reason_raw, "tool_calls");
  ASSERT_EQ(c.message.tool_calls.size(), 1u);
  EXPECT_EQ(c.message.tool_calls[0].id, "call_cnqtr6ehg5k7jf7b9r5g");
  EXPECT_EQ(c.message.tool_calls[0].name, "get_current_weather");
  EXPECT_EQ(c.message.tool_calls[0].arguments, R"({"location":"北京"})");
  EXPECT_EQ(r->usage->prompt_tokens, 178);
}

TEST(HunyuanDialectTest, ErrorsInsideHttp200AreErrors) {
  auto r = HunyuanUpstream().DecodeChat(ReadTestdata("error_signature.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kAuthentication);
  EXPECT_EQ(r.error().HttpStatus(), 401);
  EXPECT_EQ(r.error().provider_code, "AuthFailure.SignatureFailure");
  EXPECT_EQ(r.error().provider, "hunyuan");
  EXPECT_EQ(r.error().upstream_status, 200);
  EXPECT_NE(r.error().message.find("could not be validated"), std::string::npos);

  auto limited = HunyuanUpstream().DecodeChat(
      R"({"Response":{"Error":{"Code":"LimitExceeded","Message":"too many"},"RequestId":"r"}})");
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().HttpStatus(), 429);
  EXPECT_EQ(limited.error().Retry(), RetryClass::kRetry);
  EXPECT_EQ(limited.error().provider_code, "LimitExceeded");
  EXPECT_TRUE(limited.error().code.empty());

  EXPECT_EQ(HunyuanUpstream().DecodeChat("not json").error().code, "bad_upstream_response");
  EXPECT_EQ(HunyuanUpstream().DecodeChat(R"({"Response":{"RequestId":"r"}})").error().code,
            "bad_upstream_response");
}

TEST(HunyuanDialectTest, ErrorCodeTable) {
  struct Row {
    std::string_view code;
    ErrorKind kind;
  };
  for (const Row& row : {
           Row{"AuthFailure.SignatureFailure", ErrorKind::kAuthentication},
           Row{"AuthFailure.SignatureExpire", ErrorKind::kAuthentication},
           Row{"AuthFailure.SecretIdNotFound", ErrorKind::kAuthentication},
           Row{"AuthFailure.UnauthorizedOperation", ErrorKind::kPermission},
           Row{"UnauthorizedOperation", ErrorKind::kPermission},
           Row{"LimitExceeded", ErrorKind::kRateLimited},
           Row{"RequestLimitExceeded", ErrorKind::kRateLimited},
           Row{"RequestLimitExceeded.UinLimitExceeded", ErrorKind::kRateLimited},
           Row{"ResourceInsufficient.ChargeResourceSoldOut", ErrorKind::kBilling},
           Row{"ResourceUnavailable.InArrears", ErrorKind::kBilling},
           Row{"FailedOperation.ServiceNotActivated", ErrorKind::kPermission},
           Row{"InvalidParameter", ErrorKind::kInvalidRequest},
           Row{"InvalidParameterValue.Model", ErrorKind::kInvalidRequest},
           Row{"MissingParameter", ErrorKind::kInvalidRequest},
           Row{"OperationDenied.TextIllegalDetected", ErrorKind::kContentFilter},
           Row{"OperationDenied", ErrorKind::kPermission},
           Row{"InternalError", ErrorKind::kUpstreamError},
           Row{"FailedOperation.EngineRequestTimeout", ErrorKind::kTimeout},
           Row{"ResourceNotFound", ErrorKind::kNotFound},
           Row{"RequestSizeLimitExceeded", ErrorKind::kPayloadTooLarge},
           Row{"SomethingNew.Unknown", ErrorKind::kUpstreamError},
       }) {
    EXPECT_EQ(hunyuan::KindForErrorCode(row.code), row.kind) << row.code;
  }
  Error expired = hunyuan::DecodeError(
      200, R"({"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"m"}}})");
  EXPECT_EQ(expired.provider_code, "AuthFailure.SignatureExpire");
  EXPECT_EQ(expired.kind, ErrorKind::kAuthentication);
  Error plain = hunyuan::DecodeError(503, "<html>Service Unavailable</html>");
  EXPECT_EQ(plain.kind, ErrorKind::kUnavailable);
  EXPECT_EQ(plain.upstream_status, 503);
  // Secrets in a provider message are masked.
  Error leaked = hunyuan::DecodeError(
      200,
      R"({"Response":{"Error":{"Code":"AuthFailure.SecretIdNotFound","Message":"AKIDabcdef1234567890ABCDEFGHIJ not found"}}})");
  EXPECT_EQ(leaked.message.find("AKIDabcdef1234567890ABCDEFGHIJ"), std::string::npos)
      << leaked.message;
}

TEST(HunyuanDialectTest, StreamSplitAtEveryByteGivesTheSameEvents) {
  const std::string sse = ReadTestdata("stream_text.sse");
  auto whole = Decode(sse, 0);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(TextOf(*whole), "您好！我是腾讯混元大模型。");
  ASSERT_GE(whole->size(), 3u);
  EXPECT_EQ(whole->front().deltas.at(0).role, "assistant");
  EXPECT_EQ(whole->front().id, "b2f6d8c4-3c1a-4e0f-9a1b-5d2e7f8a9b0c");
  EXPECT_EQ(whole->front().created, 1701767600);
  const StreamEvent& done = whole->back();
  EXPECT_EQ(done.kind, StreamEvent::Kind::kDone);
  const StreamEvent& usage = (*whole)[whole->size() - 2];
  ASSERT_EQ(usage.kind, StreamEvent::Kind::kUsage);
  EXPECT_EQ(usage.usage->prompt_tokens, 4);
  EXPECT_EQ(usage.usage->completion_tokens, 10);
  const StreamEvent& finish = (*whole)[whole->size() - 3];
  EXPECT_EQ(finish.deltas.at(0).finish_reason, FinishReason::kStop);
  for (size_t step = 1; step <= 7; ++step) {
    auto split = Decode(sse, step);
    ASSERT_TRUE(split.ok()) << step;
    EXPECT_EQ(TextOf(*split), TextOf(*whole)) << step;
    EXPECT_EQ(split->size(), whole->size()) << step;
  }
}

TEST(HunyuanDialectTest, StreamToolCallsMergeById) {
  auto events = Decode(ReadTestdata("stream_tool_calls.sse"), 3);
  ASSERT_TRUE(events.ok()) << events.error().message;
  std::vector<std::string> ids, names, args(2);
  FinishReason finish = FinishReason::kNone;
  for (const auto& ev : *events) {
    for (const auto& d : ev.deltas) {
      for (const auto& f : d.tool_calls) {
        if (!f.id.empty()) ids.push_back(f.id);
        if (!f.name.empty()) names.push_back(f.name);
        ASSERT_LT(f.index, 2);
        args[f.index] += f.arguments;
      }
      if (d.finish_reason != FinishReason::kNone) finish = d.finish_reason;
    }
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"call_a1", "call_b2"}));
  EXPECT_EQ(names, (std::vector<std::string>{"get_current_weather", "get_time"}));
  EXPECT_EQ(args[0], R"({"location":"北京"})");
  EXPECT_EQ(args[1], "{}");
  EXPECT_EQ(finish, FinishReason::kToolCalls);
}

TEST(HunyuanDialectTest, StreamErrors) {
  // An error answered to a stream request: one JSON body, no SSE.
  const std::string err = ReadTestdata("error_signature.json");
  for (size_t step : {size_t{0}, size_t{1}, size_t{5}}) {
    auto r = Decode(err, step);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kAuthentication) << step;
    EXPECT_EQ(r.error().provider_code, "AuthFailure.SignatureFailure");
  }
  // The body ends before the chunk with FinishReason.
  const std::string sse = ReadTestdata("stream_text.sse");
  auto cut = Decode(sse.substr(0, sse.rfind("data:")), 0);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, "stream_cut");
  // A runtime error chunk in the middle of the stream.
  auto mid = Decode(sse.substr(0, sse.rfind("data:")) +
                        "data: {\"ErrorMsg\":{\"Code\":4001,\"Msg\":\"model timeout\"}}\n\n",
                    0);
  ASSERT_FALSE(mid.ok());
  EXPECT_EQ(mid.error().kind, ErrorKind::kTimeout);
  EXPECT_EQ(mid.error().provider_code, "4001");
  // After an error every call returns it again.
  hunyuan::HunyuanStreamDecoder d;
  std::vector<StreamEvent> out;
  EXPECT_FALSE(d.Feed("data: [not json]\n\n", out).ok());
  EXPECT_FALSE(d.Feed(sse, out).ok());
  EXPECT_FALSE(d.Finish(out).ok());
}

TEST(HunyuanDialectTest, Embeddings) {
  EmbeddingRequest req;
  req.inputs = {"你好"};
  auto call = HunyuanUpstream().EncodeEmbeddings(req, {"hunyuan-embedding", false, {}});
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(HeaderOf(*call, "X-TC-Action"), "GetEmbedding");
  EXPECT_EQ(json::parse(call->body), json::parse(R"({"Input":"你好"})"));
  req.inputs.push_back("second");
  EXPECT_EQ(HunyuanUpstream().EncodeEmbeddings(req, {}).error().param, "input");

  auto r = HunyuanUpstream().DecodeEmbeddings(
      R"({"Response":{"Data":[{"Embedding":[0.25,-0.5,1],"Index":0,"Object":"embedding"}],
          "Usage":{"PromptTokens":2,"TotalTokens":2},"RequestId":"r"}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->data.size(), 1u);
  EXPECT_EQ(r->data[0].vector, (std::vector<float>{0.25f, -0.5f, 1.0f}));
  EXPECT_EQ(r->prompt_tokens, 2);
  EXPECT_FALSE(HunyuanUpstream().DecodeEmbeddings(ReadTestdata("error_signature.json")).ok());
}

}  // namespace
}  // namespace modelmux::dialects
