// The simulator's DashScope native endpoints, read back with the DashScope dialect: text that
// matches the OpenAI side, cumulative and incremental streams, the multimodal path, tool calls,
// errors in DashScope's shape and embeddings.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>

#include "dialects/dashscope/dashscope.hpp"
#include "dialects/dashscope/stream.hpp"
#include "dialects/openai/stream.hpp"
#include "sim/dashscope_wire.hpp"
#include "sim/fake_writer_test_util.hpp"
#include "sim/simulator.hpp"
#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace {

namespace json = boost::json;
using dialects::dashscope::DashScopeStreamDecoder;
using simtest::FakeWriter;
using simtest::Post;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kText = "/api/v1/services/aigc/text-generation/generation";
constexpr std::string_view kVl = "/api/v1/services/aigc/multimodal-generation/generation";
constexpr std::string_view kEmb = "/api/v1/services/embeddings/text-embedding/text-embedding";

std::string Body(std::string_view model, std::string_view user, std::string_view params) {
  return std::string(R"({"model":")") + std::string(model) +
         R"(","input":{"messages":[{"role":"system","content":"Be brief"},)" +
         R"({"role":"user","content":")" + std::string(user) + R"("}]},"parameters":)" +
         std::string(params) + "}";
}

const Headers kSse{{"x-dashscope-sse", "enable"}, {"accept", "text/event-stream"}};

struct Decoded {
  ChatResponse response;
  Status status = OkStatus();
  DashScopeStreamDecoder::TextMode mode = DashScopeStreamDecoder::TextMode::kAuto;
};

// Feeds the stream one byte at a time to the dialect's decoder.
Decoded DecodeBytewise(std::string_view body) {
  Decoded d;
  DashScopeStreamDecoder dec;
  std::vector<StreamEvent> events;
  for (size_t i = 0; i < body.size() && d.status.ok(); ++i) {
    d.status = dec.Feed(body.substr(i, 1), events);
  }
  if (d.status.ok()) d.status = dec.Finish(events);
  dialects::openai::StreamAccumulator acc;
  for (const auto& ev : events) acc.Add(ev);
  d.response = acc.Response();
  d.mode = dec.mode();
  return d;
}

ChatResponse DecodeWhole(const FakeWriter& w) {
  auto r = dialects::DashScopeUpstream().DecodeChat(w.body);
  EXPECT_TRUE(r.ok()) << w.body;
  return r.ok() ? *r : ChatResponse{};
}

TEST(SimulatorDashScopeTest, TextAndUsageMatchTheOpenAiSide) {
  Simulator sim{SimOptions{}};
  FakeWriter ds = Post(sim, std::string(kText),
                       Body("qwen-plus", "Tell me about rivers", R"({"result_format":"message"})"));
  ASSERT_EQ(ds.status, 200) << ds.body;
  FakeWriter oa = Post(sim, "/v1/chat/completions",
                       R"({"model":"qwen-plus","messages":[)"
                       R"({"role":"system","content":"Be brief"},)"
                       R"({"role":"user","content":"Tell me about rivers"}]})");
  ASSERT_EQ(oa.status, 200);
  const json::value& choice = ds.Json().at("output").at("choices").at(0);
  EXPECT_EQ(choice.at("message").at("content"),
            oa.Json().at("choices").at(0).at("message").at("content"));
  EXPECT_EQ(choice.at("finish_reason").as_string(), "stop");
  EXPECT_EQ(ds.Json().at("usage").at("input_tokens"), oa.Json().at("usage").at("prompt_tokens"));
  EXPECT_EQ(ds.Json().at("usage").at("output_tokens"),
            oa.Json().at("usage").at("completion_tokens"));
  EXPECT_FALSE(ds.headers.Get("x-dashscope-request-id").empty());
  const json::value stats = json::parse(sim.StatsJson());
  EXPECT_EQ(stats.at("by_model").at("qwen-plus").as_int64(), 2);
  EXPECT_EQ(stats.at("by_path").at(std::string(kText)).as_int64(), 1);
}

TEST(SimulatorDashScopeTest, TextResultFormatByDefault) {
  Simulator sim{SimOptions{}};
  FakeWriter w = Post(sim, std::string(kText), Body("qwen-turbo", "hello", "{}"));
  ASSERT_EQ(w.status, 200);
  EXPECT_FALSE(w.Json().at("output").at("text").as_string().empty());
  EXPECT_EQ(w.Json().at("output").at("finish_reason").as_string(), "stop");
  EXPECT_FALSE(w.Json().at("output").as_object().contains("choices"));
  // The dialect reads it too.
  EXPECT_EQ(DecodeWhole(w).choices.at(0).message.Text(),
            std::string(w.Json().at("output").at("text").as_string()));
}

TEST(SimulatorDashScopeTest, StreamsAreCumulativeByDefault) {
  Simulator sim{SimOptions{}};
  const std::string body =
      Body("qwen-plus", "Tell me about rivers", R"({"result_format":"message"})");
  const ChatResponse whole = DecodeWhole(Post(sim, std::string(kText), body));
  FakeWriter s = Post(sim, std::string(kText), body, kSse);
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.streamed);
  EXPECT_NE(s.body.find("event:result\n:HTTP_STATUS/200\ndata:{"), std::string::npos);
  const auto events = s.Events();
  ASSERT_GE(events.size(), 3u);
  std::string previous;
  for (size_t i = 0; i < events.size(); ++i) {
    const json::value e = json::parse(events[i]);
    const json::value& c = e.at("output").at("choices").at(0);
    const std::string content(c.at("message").at("content").as_string());
    EXPECT_EQ(content.rfind(previous, 0), 0u) << "event " << i << " does not repeat the text";
    previous = content;
    EXPECT_EQ(c.at("finish_reason").as_string(), i + 1 == events.size() ? "stop" : "null");
  }
  EXPECT_EQ(previous, whole.choices.at(0).message.Text());

  const Decoded d = DecodeBytewise(s.body);
  ASSERT_TRUE(d.status.ok()) << d.status.error().message;
  EXPECT_EQ(d.mode, DashScopeStreamDecoder::TextMode::kCumulative);
  EXPECT_EQ(d.response.choices.at(0).message.Text(), whole.choices.at(0).message.Text());
  EXPECT_EQ(d.response.usage, whole.usage);
  EXPECT_EQ(d.response.choices.at(0).finish_reason, FinishReason::kStop);
}

TEST(SimulatorDashScopeTest, IncrementalOutputSendsPieces) {
  Simulator sim{SimOptions{}};
  const std::string params = R"({"result_format":"message","incremental_output":true})";
  const std::string body = Body("qwen-plus", "Tell me about rivers", params);
  const ChatResponse whole = DecodeWhole(Post(sim, std::string(kText), body));
  FakeWriter s = Post(sim, std::string(kText), body, kSse);
  const auto events = s.Events();
  ASSERT_GE(events.size(), 3u);
  std::string joined;
  for (const auto& e : events) {
    joined +=
        json::parse(e).at("output").at("choices").at(0).at("message").at("content").as_string();
  }
  EXPECT_EQ(joined, whole.choices.at(0).message.Text());
  EXPECT_EQ(json::parse(events.back()).at("output").at("choices").at(0).at("message").at("content"),
            "");

  const Decoded d = DecodeBytewise(s.body);
  ASSERT_TRUE(d.status.ok()) << d.status.error().message;
  EXPECT_EQ(d.mode, DashScopeStreamDecoder::TextMode::kIncremental);
  EXPECT_EQ(d.response.choices.at(0).message.Text(), whole.choices.at(0).message.Text());
  EXPECT_EQ(d.response.usage, whole.usage);
}

TEST(SimulatorDashScopeTest, ToolCallsWholeAndStreamed) {
  Simulator sim{SimOptions{}};
  for (std::string_view inc : {"false", "true"}) {
    const std::string params =
        std::string(R"({"result_format":"message","incremental_output":)") + std::string(inc) +
        R"(,"tools":[{"type":"function","function":{"name":"lookup","parameters":{}}}]})";
    const std::string body = Body("qwen-max", "please call_tool now", params);
    const ChatResponse whole = DecodeWhole(Post(sim, std::string(kText), body));
    ASSERT_EQ(whole.choices.at(0).message.tool_calls.size(), 1u);
    EXPECT_EQ(whole.choices[0].message.tool_calls[0].name, "lookup");
    EXPECT_EQ(whole.choices[0].finish_reason, FinishReason::kToolCalls);
    const Decoded d = DecodeBytewise(Post(sim, std::string(kText), body, kSse).body);
    ASSERT_TRUE(d.status.ok()) << inc;
    ASSERT_EQ(d.response.choices.at(0).message.tool_calls.size(), 1u) << inc;
    const ToolCall& got = d.response.choices[0].message.tool_calls[0];
    EXPECT_EQ(got.id, whole.choices[0].message.tool_calls[0].id) << inc;
    EXPECT_EQ(got.name, "lookup") << inc;
    EXPECT_EQ(got.arguments, whole.choices[0].message.tool_calls[0].arguments) << inc;
    EXPECT_EQ(json::parse(got.arguments).at("query").as_string(), "please call_tool now");
  }
}

TEST(SimulatorDashScopeTest, MultimodalPathTakesImages) {
  Simulator sim{SimOptions{}};
  const std::string body =
      R"({"model":"qwen-vl-max","input":{"messages":[{"role":"user","content":[)"
      R"({"image":"https://example.com/dog.jpeg"},{"text":"What is this?"}]}]},"parameters":{}})";
  FakeWriter w = Post(sim, std::string(kVl), body);
  ASSERT_EQ(w.status, 200) << w.body;
  const json::value& content =
      w.Json().at("output").at("choices").at(0).at("message").at("content");
  ASSERT_TRUE(content.is_array());
  EXPECT_FALSE(content.at(0).at("text").as_string().empty());
  FakeWriter text_only = Post(sim, std::string(kVl),
                              R"({"model":"qwen-vl-max","input":{"messages":[{"role":"user",)"
                              R"("content":[{"text":"What is this?"}]}]}})");
  EXPECT_EQ(w.Json().at("usage").at("input_tokens").as_int64() -
                text_only.Json().at("usage").at("input_tokens").as_int64(),
            85);
  // Image parts are refused on the text path.
  FakeWriter wrong = Post(sim, std::string(kText), body);
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.Json().at("code").as_string(), "InvalidParameter");
  // Streamed multimodal answers decode to the same text.
  const Decoded d = DecodeBytewise(Post(sim, std::string(kVl), body, kSse).body);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.response.choices.at(0).message.Text(),
            std::string(content.at(0).at("text").as_string()));
}

TEST(SimulatorDashScopeTest, ErrorsInDashScopeShape) {
  Simulator sim{SimOptions{}};
  const std::string body = Body("qwen-plus", "hi", "{}");
  const std::tuple<int, std::string_view, ErrorKind> cases[] = {
      {429, "Throttling.RateQuota", ErrorKind::kRateLimited},
      {401, "InvalidApiKey", ErrorKind::kAuthentication},
      {402, "Arrearage", ErrorKind::kBilling},
      {403, "AccessDenied", ErrorKind::kPermission},
      {500, "InternalError", ErrorKind::kUpstreamError},
      {503, "ModelUnavailable", ErrorKind::kUnavailable},
      {400, "InvalidParameter", ErrorKind::kInvalidRequest}};
  for (const auto& [status, code, kind] : cases) {
    FakeWriter w = Post(sim, std::string(kText), body, {{"x-sim-status", std::to_string(status)}});
    EXPECT_EQ(w.status, status);
    EXPECT_EQ(w.Json().at("code").as_string(), code);
    EXPECT_FALSE(w.Json().at("request_id").as_string().empty());
    const Error e = dialects::DashScopeUpstream().DecodeError(w.status, w.body);
    EXPECT_EQ(e.kind, kind) << status;
    EXPECT_EQ(e.provider_code, code);
  }
  FakeWriter limited = Post(sim, std::string(kText), body, {{"x-sim-status", "429"}});
  EXPECT_EQ(limited.headers.Get("retry-after"), "1");

  FakeWriter bad = Post(sim, std::string(kText), "{");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json().at("code").as_string(), "InvalidParameter");
  EXPECT_EQ(Post(sim, std::string(kText), Body("m", "x", R"({"temperature":2.5})")).status, 400);
  EXPECT_EQ(Post(sim, "/api/v1/services/aigc/unknown", body).status, 404);
  FakeWriter get = simtest::RunRequest(sim, simtest::MakeRequest("GET", std::string(kText), ""));
  EXPECT_EQ(get.status, 405);
}

TEST(SimulatorDashScopeTest, RequireKeyChecksTheBearerKey) {
  SimOptions o;
  o.require_key = "sk-right";
  Simulator sim{o};
  const std::string body = Body("qwen-plus", "hi", "{}");
  FakeWriter none = Post(sim, std::string(kText), body);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Json().at("code").as_string(), "InvalidApiKey");
  EXPECT_EQ(Post(sim, std::string(kText), body, {{"authorization", "Bearer sk-wrong"}}).status,
            401);
  EXPECT_EQ(Post(sim, std::string(kText), body, {{"Authorization", "Bearer sk-right"}}).status,
            200);
}

TEST(SimulatorDashScopeTest, ErrorAfterAndCutAfter) {
  Simulator sim{SimOptions{}};
  const std::string body = Body("qwen-plus", "one two three", R"({"incremental_output":true})");
  FakeWriter s = Post(sim, std::string(kText), body,
                      {{"x-dashscope-sse", "enable"}, {"x-sim-error-after", "2"}});
  EXPECT_NE(s.body.find("event:error"), std::string::npos);
  const Decoded d = DecodeBytewise(s.body);
  ASSERT_FALSE(d.status.ok());
  EXPECT_EQ(d.status.error().provider_code, "InternalError");
  EXPECT_EQ(d.status.error().kind, ErrorKind::kUpstreamError);

  FakeWriter cut = Post(sim, std::string(kText), body,
                        {{"x-dashscope-sse", "enable"}, {"x-sim-cut-after", "2"}});
  EXPECT_TRUE(cut.aborted);
  const Decoded c = DecodeBytewise(cut.body);
  ASSERT_FALSE(c.status.ok());
  EXPECT_EQ(c.status.error().code, "stream_cut");
}

TEST(SimulatorDashScopeTest, Embeddings) {
  Simulator sim{SimOptions{}};
  FakeWriter w = Post(sim, std::string(kEmb),
                      R"({"model":"text-embedding-v3","input":{"texts":["alpha","beta gamma"]},)"
                      R"("parameters":{"text_type":"query"}})");
  ASSERT_EQ(w.status, 200) << w.body;
  auto r = dialects::DashScopeUpstream().DecodeEmbeddings(w.body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->data.size(), 2u);
  EXPECT_EQ(r->data[1].index, 1);
  EXPECT_EQ(r->data[0].vector.size(), 1024u);
  double norm = 0;
  for (float x : r->data[0].vector) norm += static_cast<double>(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-3);
  EXPECT_EQ(r->prompt_tokens, CountTokens("alpha") + CountTokens("beta gamma"));

  EmbeddingRequest req;
  req.inputs = {"alpha"};
  req.dimensions = 256;
  auto call = dialects::DashScopeUpstream().EncodeEmbeddings(req, {"text-embedding-v4", false, ""});
  ASSERT_TRUE(call.ok());
  FakeWriter sized = Post(sim, call->path, call->body);
  auto sr = dialects::DashScopeUpstream().DecodeEmbeddings(sized.body);
  ASSERT_TRUE(sr.ok()) << sized.body;
  EXPECT_EQ(sr->data.at(0).vector.size(), 256u);
  // The same text and model give the same vector at any batch position.
  EXPECT_NE(sr->data[0].vector, std::vector<float>(256, 0.0f));

  EXPECT_EQ(Post(sim, std::string(kEmb), R"({"model":"m","input":{"texts":[]}})").status, 400);
  EXPECT_EQ(Post(sim, std::string(kEmb),
                 R"({"model":"m","input":{"texts":["a"]},"parameters":{"dimension":0}})")
                .status,
            400);
}

TEST(SimulatorDashScopeTest, WireHelpers) {
  EXPECT_TRUE(IsDashScopePath("/api/v1/services/aigc/text-generation/generation"));
  EXPECT_FALSE(IsDashScopePath("/dashscope/compatible-mode/v1/chat/completions"));
  EXPECT_FALSE(IsDashScopePath("/v1/chat/completions"));
  EXPECT_EQ(DashScopeCodeForStatus(429).code, "Throttling.RateQuota");
  EXPECT_EQ(DashScopeCodeForStatus(502).code, "InternalError");
  EXPECT_EQ(DashScopeCodeForStatus(418).code, "InvalidParameter");
}

}  // namespace
}  // namespace modelmux::sim
