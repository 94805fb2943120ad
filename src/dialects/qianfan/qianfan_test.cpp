#include "dialects/qianfan/qianfan.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "dialects/qianfan/errors.hpp"
#include "dialects/qianfan/stream.hpp"

namespace modelmux::dialects {
namespace {

namespace json = boost::json;

std::string ReadTestdata(const std::string& name) {
  std::ifstream f(std::string(MODELMUX_TESTDATA_DIR) + "/qianfan/testdata/" + name,
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

TEST(QianfanDialectTest, EndpointTable) {
  EXPECT_EQ(QianfanEndpointFor("ernie-4.0-8k"), "completions_pro");
  EXPECT_EQ(QianfanEndpointFor("ERNIE-3.5-8K"), "completions");
  EXPECT_EQ(QianfanEndpointFor("ernie-speed-128k"), "ernie-speed-128k");
  EXPECT_EQ(QianfanEndpointFor("ernie-lite-8k"), "ernie-lite-8k");
  EXPECT_EQ(QianfanEndpointFor("my_custom_ep"), "my_custom_ep");
}

TEST(QianfanDialectTest, EncodeChat) {
  ChatRequest req;
  req.model = "qianfan/ernie-4.0-8k";
  req.messages = {Msg(Role::kSystem, "Be brief."), Msg(Role::kUser, "Hi"),
                  Msg(Role::kAssistant, "Hello"), Msg(Role::kUser, "Part one"),
                  Msg(Role::kUser, "part two")};
  req.temperature = 1.6;
  req.top_p = 0.9;
  req.max_tokens = 1;
  req.stop = {"END"};
  req.user = "u-7";
  req.seed = 3;
  req.extra = R"({"penalty_score":1.2,"frequency_penalty":0.5})";
  const UpstreamDialect& d = QianfanLegacyUpstream();
  EXPECT_EQ(d.name(), "qianfan");
  auto call = d.EncodeChat(req, {"ernie-4.0-8k", true, {}});
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->method, "POST");
  EXPECT_EQ(call->path, "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro");
  EXPECT_TRUE(call->headers.empty());  // the token is the signer's
  const json::value expected = json::parse(R"({
    "messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"},
                {"role":"user","content":"Part one\npart two"}],
    "system":"Be brief.","stream":true,"temperature":1.0,"top_p":0.9,"max_output_tokens":2,
    "stop":["END"],"user_id":"u-7","penalty_score":1.2})");
  EXPECT_EQ(json::parse(call->body), expected) << call->body;

  auto plain = d.EncodeChat(req, {"ernie-3.5-8k", false, {}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->path, "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions");
  EXPECT_FALSE(json::parse(plain->body).as_object().contains("stream"));
  EXPECT_FALSE(d.EncodeChat(req, {"bad/../path", false, {}}).ok());
}

TEST(QianfanDialectTest, EncodeToolsAndToolTurns) {
  ChatRequest req;
  req.messages.push_back(Msg(Role::kUser, "Weather in Beijing?"));
  Message call = Msg(Role::kAssistant, "");
  call.tool_calls.push_back(ToolCall{"call_1", "get_weather", R"({"city":"Beijing"})"});
  req.messages.push_back(call);
  Message result = Msg(Role::kTool, R"({"temp":20})");
  result.tool_call_id = "call_1";
  req.messages.push_back(result);
  req.tools = R"([{"type":"function","function":{"name":"get_weather","description":"d",
                  "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])";
  auto call_wire = QianfanLegacyUpstream().EncodeChat(req, {"ernie-4.0-8k", false, {}});
  ASSERT_TRUE(call_wire.ok()) << call_wire.error().message;
  const json::value body = json::parse(call_wire->body);
  const json::array& msgs = body.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[1].at("function_call").at("name").as_string(), "get_weather");
  EXPECT_EQ(msgs[1].at("function_call").at("arguments").as_string(), R"({"city":"Beijing"})");
  EXPECT_EQ(msgs[2].at("role").as_string(), "function");
  EXPECT_EQ(msgs[2].at("name").as_string(), "get_weather");
  const json::array& fns = body.at("functions").as_array();
  ASSERT_EQ(fns.size(), 1u);
  EXPECT_EQ(fns[0].at("name").as_string(), "get_weather");
  EXPECT_EQ(fns[0].at("parameters").at("type").as_string(), "object");
}

TEST(QianfanDialectTest, EncodeRejectsWhatErnieCannotTake) {
  const UpstreamDialect& d = QianfanLegacyUpstream();
  ChatRequest ends_on_assistant;
  ends_on_assistant.messages = {Msg(Role::kUser, "a"), Msg(Role::kAssistant, "b")};
  EXPECT_EQ(d.EncodeChat(ends_on_assistant, {"ernie-4.0-8k", false, {}}).error().kind,
            ErrorKind::kInvalidRequest);
  ChatRequest starts_on_assistant;
  starts_on_assistant.messages = {Msg(Role::kAssistant, "b"), Msg(Role::kUser, "a")};
  EXPECT_FALSE(d.EncodeChat(starts_on_assistant, {"ernie-4.0-8k", false, {}}).ok());
  ChatRequest only_system;
  only_system.messages = {Msg(Role::kSystem, "s")};
  EXPECT_FALSE(d.EncodeChat(only_system, {"ernie-4.0-8k", false, {}}).ok());
  ChatRequest image;
  Message m = Msg(Role::kUser, "see");
  m.content.push_back(ContentPart{PartType::kImage, "", "https://x/y.png", "", ""});
  image.messages = {m};
  auto r = d.EncodeChat(image, {"ernie-4.0-8k", false, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().param, "messages[0].content");
}

TEST(QianfanDialectTest, DecodeChat) {
  auto r = QianfanLegacyUpstream().DecodeChat(
      R"({"id":"as-1","object":"chat.completion","created":1700000009,"result":"你好",)"
      R"("is_end":true,"is_truncated":false,"finish_reason":"normal",)"
      R"("usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->id, "as-1");
  EXPECT_EQ(r->created, 1700000009);
  ASSERT_EQ(r->choices.size(), 1u);
  EXPECT_EQ(r->choices[0].message.Text(), "你好");
  EXPECT_EQ(r->choices[0].finish_reason, FinishReason::kStop);
  EXPECT_EQ(r->choices[0].finish_reason_raw, "normal");
  ASSERT_TRUE(r->usage.has_value());
  EXPECT_EQ(r->usage->prompt_tokens, 3);
  EXPECT_EQ(r->usage->completion_tokens, 2);

  auto truncated =
      QianfanLegacyUpstream().DecodeChat(R"({"id":"as-2","result":"cut","is_truncated":true})");
  ASSERT_TRUE(truncated.ok());
  EXPECT_EQ(truncated->choices[0].finish_reason, FinishReason::kLength);

  auto fc = QianfanLegacyUpstream().DecodeChat(ReadTestdata("response_function_call.json"));
  ASSERT_TRUE(fc.ok());
  ASSERT_EQ(fc->choices[0].message.tool_calls.size(), 1u);
  EXPECT_EQ(fc->choices[0].message.tool_calls[0].id, "call_as-fc2");
  EXPECT_EQ(fc->choices[0].message.tool_calls[0].name, "get_weather");
  EXPECT_EQ(fc->choices[0].message.tool_calls[0].arguments, R"({"city":"北京"})");
  EXPECT_EQ(fc->choices[0].finish_reason, FinishReason::kToolCalls);
  EXPECT_FALSE(QianfanLegacyUpstream().DecodeChat("not json").ok());
}

struct CodeCase {
  int64_t code;
  ErrorKind kind;
  int status;  // what a caller receives
};

TEST(QianfanDialectTest, ErrorsInsideHttp200) {
  const CodeCase cases[] = {
      {18, ErrorKind::kRateLimited, 429},        {4, ErrorKind::kRateLimited, 429},
      {336501, ErrorKind::kRateLimited, 429},    {336502, ErrorKind::kRateLimited, 429},
      {17, ErrorKind::kQuotaExhausted, 429},     {19, ErrorKind::kQuotaExhausted, 429},
      {110, ErrorKind::kAuthentication, 401},    {111, ErrorKind::kAuthentication, 401},
      {6, ErrorKind::kPermission, 403},          {336004, ErrorKind::kPermission, 403},
      {2, ErrorKind::kUnavailable, 503},         {336000, ErrorKind::kUnavailable, 503},
      {336100, ErrorKind::kOverloaded, 503},     {336001, ErrorKind::kInvalidRequest, 400},
      {336003, ErrorKind::kInvalidRequest, 400}, {336104, ErrorKind::kInvalidRequest, 400},
      {100, ErrorKind::kInvalidRequest, 400},    {1, ErrorKind::kUpstreamError, 502},
      {999999, ErrorKind::kUpstreamError, 502},
  };
  for (const auto& c : cases) {
    const std::string body = R"({"error_code":)" + std::to_string(c.code) +
                             R"(,"error_msg":"msg )" + std::to_string(c.code) + R"("})";
    auto r = QianfanLegacyUpstream().DecodeChat(body);
    ASSERT_FALSE(r.ok()) << c.code;
    EXPECT_EQ(r.error().kind, c.kind) << c.code;
    EXPECT_EQ(r.error().HttpStatus(), c.status) << c.code;
    EXPECT_EQ(r.error().provider_code, std::to_string(c.code));
    EXPECT_EQ(r.error().message, "msg " + std::to_string(c.code));
    EXPECT_EQ(qianfan::IsStaleToken(r.error()), c.code == 110 || c.code == 111) << c.code;
  }
  auto expired = QianfanLegacyUpstream().DecodeChat(
      R"({"error_code":111,"error_msg":"Access token expired"})");
  EXPECT_EQ(expired.error().code, "token_expired");
  EXPECT_EQ(expired.error().Retry(), RetryClass::kNever);  // retried once via the signer only
  const Error http = QianfanLegacyUpstream().DecodeError(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(http.kind, ErrorKind::kUpstreamError);
  EXPECT_EQ(http.upstream_status, 502);
  EXPECT_EQ(QianfanLegacyUpstream().DecodeError(500, R"({"error_code":18,"error_msg":"q"})").kind,
            ErrorKind::kRateLimited);
}

struct Decoded {
  std::vector<StreamEvent> events;
  Status feed = OkStatus();
  Status finish = OkStatus();
};

Decoded DecodeStream(std::string_view bytes, size_t piece) {
  Decoded d;
  auto dec = QianfanLegacyUpstream().NewStreamDecoder();
  for (size_t at = 0; at < bytes.size(); at += piece) {
    d.feed = dec->Feed(bytes.substr(at, piece), d.events);
    if (!d.feed.ok()) return d;
  }
  d.finish = dec->Finish(d.events);
  return d;
}

TEST(QianfanDialectTest, StreamSplitAnywhereGivesTheSameEvents) {
  const std::string sse = ReadTestdata("stream_text.sse");
  for (size_t piece : {sse.size(), size_t{1}, size_t{7}, size_t{64}}) {
    Decoded d = DecodeStream(sse, piece);
    ASSERT_TRUE(d.feed.ok()) << piece;
    ASSERT_TRUE(d.finish.ok()) << piece;
    std::string text;
    std::optional<Usage> usage;
    int done = 0;
    FinishReason finish = FinishReason::kNone;
    for (const auto& ev : d.events) {
      for (const auto& delta : ev.deltas) {
        text += delta.text;
        if (delta.finish_reason != FinishReason::kNone) finish = delta.finish_reason;
      }
      if (ev.kind == StreamEvent::Kind::kUsage) usage = ev.usage;
      if (ev.kind == StreamEvent::Kind::kDone) ++done;
      EXPECT_EQ(ev.id, "as-fx1");
    }
    EXPECT_EQ(text, "你好，我是文心一言。");
    EXPECT_EQ(d.events.front().deltas.at(0).role, "assistant");
    EXPECT_EQ(finish, FinishReason::kStop);
    ASSERT_TRUE(usage.has_value());
    EXPECT_EQ(usage->prompt_tokens, 5);
    EXPECT_EQ(usage->completion_tokens, 9);  // the last chunk's, not a sum
    EXPECT_EQ(done, 1);
    EXPECT_EQ(d.events.back().kind, StreamEvent::Kind::kDone);
  }
}

TEST(QianfanDialectTest, StreamErrors) {
  Decoded inband = DecodeStream(
      "data: {\"id\":\"a\",\"result\":\"x\",\"is_end\":false}\n\n"
      "data: {\"error_code\":336100,\"error_msg\":\"high load\"}\n\n",
      5);
  ASSERT_FALSE(inband.feed.ok());
  EXPECT_EQ(inband.feed.error().kind, ErrorKind::kOverloaded);
  EXPECT_EQ(inband.feed.error().provider_code, "336100");

  // Baidu answers a stream request with a bad token as one plain JSON body.
  Decoded plain = DecodeStream(R"({"error_code":110,"error_msg":"Access token invalid"})", 9);
  ASSERT_FALSE(plain.feed.ok() && plain.finish.ok());
  const Error& e = plain.feed.ok() ? plain.finish.error() : plain.feed.error();
  EXPECT_EQ(e.code, "token_expired");

  Decoded cut = DecodeStream("data: {\"id\":\"a\",\"result\":\"x\",\"is_end\":false}\n\n", 100);
  ASSERT_TRUE(cut.feed.ok());
  ASSERT_FALSE(cut.finish.ok());
  EXPECT_EQ(cut.finish.error().code, "stream_cut");

  Decoded junk = DecodeStream("data: [not json]\n\n", 100);
  ASSERT_FALSE(junk.feed.ok());
  EXPECT_EQ(junk.feed.error().code, "bad_upstream_response");
}

}  // namespace
}  // namespace modelmux::dialects
