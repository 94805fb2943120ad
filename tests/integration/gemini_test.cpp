// A Gemini upstream through the gateway: callers speaking OpenAI (/v1/chat/completions) and
// Anthropic (/v1/messages) reach `modelmux sim`'s Gemini generateContent endpoints (which check
// x-goog-api-key). Non-streamed and streamed answers agree with the simulator asked directly; a
// tool call makes the round trip (and what went upstream is Gemini's functionCall /
// functionResponse shape); a 429 keeps Gemini's RetryInfo as retry-after; a cut stream ends
// with an in-band error.

#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 15s;
constexpr const char* kKey = "gemini-test-key";
constexpr const char* kModel = "gemini/gemini-2.5-flash";

const char* kTools =
    R"("tools":[{"type":"function","function":{"name":"search","description":"Search the web",
    "parameters":{"type":"object","properties":{"query":{"type":"string"}},"required":["query"],
    "additionalProperties":false}}}])";

struct Answer {
  int status = 0;
  std::string text;
  std::string finish;
  std::string tool_id, tool_name, tool_args;
  int64_t prompt_tokens = -1, completion_tokens = -1;
  bool done = false;      // [DONE] seen
  json::value last_data;  // the last SSE data that is not [DONE]
  std::string raw;
  net::Headers headers;
};

Answer ReadOpenAi(const HttpResult& r, bool stream) {
  Answer a;
  a.status = r.status;
  a.raw = r.body;
  a.headers = r.headers;
  auto usage = [&a](const json::object& o) {
    const json::value* u = o.if_contains("usage");
    if (u == nullptr || !u->is_object()) return;
    a.prompt_tokens = u->at("prompt_tokens").to_number<int64_t>();
    a.completion_tokens = u->at("completion_tokens").to_number<int64_t>();
  };
  if (!stream || r.status != 200) {
    json::value v = ParseJson(r.body);
    if (!v.is_object() || !v.get_object().contains("choices")) return a;
    const json::value& c = v.at("choices").at(0);
    a.text = Str(c.at("message").at("content"));
    a.finish = Str(c.at("finish_reason"));
    if (const json::value* calls = c.at("message").get_object().if_contains("tool_calls");
        calls != nullptr && calls->is_array() && !calls->get_array().empty()) {
      a.tool_id = Str(calls->at(0).at("id"));
      a.tool_name = Str(calls->at(0).at("function").at("name"));
      a.tool_args = Str(calls->at(0).at("function").at("arguments"));
    }
    usage(v.get_object());
    return a;
  }
  for (const std::string& data : SseData(r.body)) {
    if (data == "[DONE]") {
      a.done = true;
      continue;
    }
    a.last_data = ParseJson(data);
    if (!a.last_data.is_object()) continue;
    const json::object& o = a.last_data.get_object();
    usage(o);
    const json::value* choices = o.if_contains("choices");
    if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) continue;
    const json::object& c = choices->at(0).get_object();
    const json::object& d = c.at("delta").get_object();
    if (const json::value* t = d.if_contains("content"); t && t->is_string()) a.text += Str(*t);
    if (const json::value* calls = d.if_contains("tool_calls"); calls && calls->is_array()) {
      for (const json::value& call : calls->get_array()) {
        if (const json::value* id = call.get_object().if_contains("id")) a.tool_id += Str(*id);
        const json::object& fn = call.at("function").get_object();
        if (const json::value* n = fn.if_contains("name")) a.tool_name += Str(*n);
        if (const json::value* s = fn.if_contains("arguments")) a.tool_args += Str(*s);
      }
    }
    if (const json::value* f = c.if_contains("finish_reason"); f && f->is_string()) {
      a.finish = Str(*f);
    }
  }
  return a;
}

std::string StreamExtra(std::string_view extra = {}) {
  std::string s = R"("stream":true,"stream_options":{"include_usage":true})";
  if (!extra.empty()) s += "," + std::string(extra);
  return s;
}

class GeminiUpstream : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sim_ = new Service(StartSim({"--require-key", kKey}));
    gw_ = new Service(StartGateway(
        {}, {{"GEMINI_API_KEY", kKey}, {"GEMINI_BASE_URL", sim_->base_url + "/v1beta"}}));
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete sim_;
    gw_ = sim_ = nullptr;
  }

  static Answer Chat(const std::string& body, bool stream, HeaderList headers = {}) {
    return ReadOpenAi(
        Http("POST", gw_->base_url + "/v1/chat/completions", body, std::move(headers), kTimeout),
        stream);
  }

  // The simulator's own answer in Gemini's dialect, for a one-message conversation.
  static json::value Direct(std::string_view prompt) {
    json::object body{{"contents", json::array{json::object{
                                       {"role", "user"},
                                       {"parts", json::array{json::object{{"text", prompt}}}}}}}};
    auto r = Http("POST", sim_->base_url + "/v1beta/models/gemini-2.5-flash:generateContent",
                  json::serialize(body), {{"x-goog-api-key", kKey}}, kTimeout);
    EXPECT_EQ(r.status, 200) << r.body;
    return ParseJson(r.body);
  }

  static int64_t SimPathCount(std::string_view path) {
    auto r = Http("GET", sim_->base_url + "/sim/stats", "", {}, kTimeout);
    json::value v = ParseJson(r.body);
    const json::value* n = v.is_object() ? v.at("by_path").get_object().if_contains(path) : nullptr;
    return n == nullptr ? 0 : n->to_number<int64_t>();
  }

  static Service* sim_;
  static Service* gw_;
};
Service* GeminiUpstream::sim_ = nullptr;
Service* GeminiUpstream::gw_ = nullptr;

TEST_F(GeminiUpstream, StreamAndNonStreamGiveTheSimulatorsTextAndUsage) {
  const std::string prompt = "Tell me something about rivers";
  const json::value direct = Direct(prompt);
  std::string direct_text;
  for (const auto& p : direct.at("candidates").at(0).at("content").at("parts").as_array()) {
    direct_text += Str(p.at("text"));
  }
  const int64_t direct_prompt =
      direct.at("usageMetadata").at("promptTokenCount").to_number<int64_t>();
  const int64_t direct_completion =
      direct.at("usageMetadata").at("candidatesTokenCount").to_number<int64_t>();
  ASSERT_FALSE(direct_text.empty());

  const int64_t whole_before = SimPathCount("/v1beta/models/gemini-2.5-flash:generateContent");
  const int64_t stream_before =
      SimPathCount("/v1beta/models/gemini-2.5-flash:streamGenerateContent");
  Answer plain = Chat(ChatBody(kModel, prompt), false);
  Answer streamed = Chat(ChatBody(kModel, prompt, StreamExtra()), true);
  ASSERT_EQ(plain.status, 200) << plain.raw;
  ASSERT_EQ(streamed.status, 200) << streamed.raw;
  EXPECT_EQ(plain.text, direct_text) << plain.raw;
  EXPECT_EQ(streamed.text, direct_text) << streamed.raw;
  EXPECT_EQ(plain.finish, "stop");
  EXPECT_EQ(streamed.finish, "stop");
  EXPECT_TRUE(streamed.done) << streamed.raw;
  EXPECT_EQ(plain.prompt_tokens, direct_prompt) << plain.raw;
  EXPECT_EQ(plain.completion_tokens, direct_completion) << plain.raw;
  EXPECT_EQ(streamed.prompt_tokens, plain.prompt_tokens) << streamed.raw;
  EXPECT_EQ(streamed.completion_tokens, plain.completion_tokens) << streamed.raw;
  // Each went to its own Gemini method.
  EXPECT_EQ(SimPathCount("/v1beta/models/gemini-2.5-flash:generateContent") - whole_before, 1);
  EXPECT_EQ(SimPathCount("/v1beta/models/gemini-2.5-flash:streamGenerateContent") - stream_before,
            1);

  // An echo model answers the prompt itself: an oracle independent of the simulator's text.
  const std::string echo = "Say it back: ünïcödé and 中文 too";
  for (bool stream : {false, true}) {
    Answer a = Chat(ChatBody("gemini/gemini-echo", echo, stream ? StreamExtra() : ""), stream);
    EXPECT_EQ(a.status, 200) << a.raw;
    EXPECT_EQ(a.text, echo) << a.raw;
  }
}

TEST_F(GeminiUpstream, ToolCallRoundTrip) {
  const std::string prompt = "please call_tool for the weather in Lisbon";
  const json::value want_args = json::object{{"query", prompt}};
  Answer call = Chat(ChatBody(kModel, prompt, kTools), false);
  ASSERT_EQ(call.status, 200) << call.raw;
  EXPECT_EQ(call.finish, "tool_calls") << call.raw;
  EXPECT_EQ(call.tool_name, "search");
  EXPECT_EQ(ParseJson(call.tool_args), want_args) << call.raw;
  ASSERT_FALSE(call.tool_id.empty());

  Answer streamed = Chat(ChatBody(kModel, prompt, StreamExtra(kTools)), true);
  ASSERT_EQ(streamed.status, 200) << streamed.raw;
  EXPECT_EQ(streamed.finish, "tool_calls") << streamed.raw;
  EXPECT_EQ(streamed.tool_name, "search");
  EXPECT_EQ(ParseJson(streamed.tool_args), want_args) << streamed.raw;
  EXPECT_EQ(streamed.tool_id, call.tool_id);  // the same id, whole or streamed
  EXPECT_TRUE(streamed.done);

  // The result goes back; with tool_choice none the model answers in text.
  json::array messages{
      json::object{{"role", "user"}, {"content", prompt}},
      json::object{{"role", "assistant"},
                   {"content", nullptr},
                   {"tool_calls", json::array{json::object{
                                      {"id", call.tool_id},
                                      {"type", "function"},
                                      {"function", json::object{{"name", call.tool_name},
                                                                {"arguments", call.tool_args}}}}}}},
      json::object{{"role", "tool"}, {"tool_call_id", call.tool_id}, {"content", "18C, sunny"}}};
  std::string body = json::serialize(json::object{{"model", kModel}, {"messages", messages}});
  body.pop_back();
  body += std::string(",") + kTools + R"(,"tool_choice":"none"})";
  Answer answer = Chat(body, false);
  ASSERT_EQ(answer.status, 200) << answer.raw;
  EXPECT_EQ(answer.finish, "stop") << answer.raw;
  EXPECT_FALSE(answer.text.empty()) << answer.raw;
  EXPECT_TRUE(answer.tool_name.empty()) << answer.raw;
  EXPECT_GT(answer.prompt_tokens, call.prompt_tokens) << answer.raw;
}

TEST_F(GeminiUpstream, RateLimitKeepsRetryInfoAsRetryAfter) {
  for (bool stream : {false, true}) {
    SCOPED_TRACE(stream ? "streamed" : "whole");
    auto r = Http("POST", gw_->base_url + "/v1/chat/completions",
                  ChatBody(kModel, "fail please", stream ? StreamExtra() : ""),
                  {{"x-sim-status", "429"}, {"x-sim-retry-after", "7"}}, kTimeout);
    EXPECT_EQ(r.status, 429) << r.body;
    // The simulator, like Google, sends no retry-after header: "7" comes from RetryInfo.
    EXPECT_EQ(r.headers.Get("retry-after"), "7") << r.body;
    json::object err = ExpectOpenAiError(r.body);
    EXPECT_EQ(Str(err["type"]), "rate_limit_error") << r.body;
  }
  auto busy = Http("POST", gw_->base_url + "/v1/chat/completions", ChatBody(kModel, "x"),
                   {{"x-sim-status", "503"}}, kTimeout);
  EXPECT_EQ(busy.status, 503) << busy.body;
  ExpectOpenAiError(busy.body);
}

TEST_F(GeminiUpstream, CutStreamEndsWithAnInBandError) {
  Answer a = Chat(ChatBody(kModel, "Tell me something about rivers", StreamExtra()), true,
                  {{"x-sim-cut-after", "2"}});
  EXPECT_EQ(a.status, 200) << a.raw;
  EXPECT_FALSE(a.done) << "a cut stream must not look complete:\n" << a.raw;
  ASSERT_TRUE(a.last_data.is_object()) << a.raw;
  ASSERT_TRUE(a.last_data.get_object().contains("error")) << a.raw;
  EXPECT_TRUE(a.last_data.at("error").is_object());
  EXPECT_FALSE(a.text.empty()) << "the two chunks before the cut arrive: " << a.raw;
}

TEST_F(GeminiUpstream, AnthropicCallerReachesGemini) {
  const std::string prompt = "Tell me something about mountains";
  const json::value direct = Direct(prompt);
  const std::string direct_text =
      Str(direct.at("candidates").at(0).at("content").at("parts").at(0).at("text"));
  json::object body{{"model", kModel},
                    {"max_tokens", 1024},
                    {"messages", json::array{json::object{{"role", "user"}, {"content", prompt}}}}};
  auto r = Http("POST", gw_->base_url + "/v1/messages", json::serialize(body),
                {{"anthropic-version", "2023-06-01"}}, kTimeout);
  ASSERT_EQ(r.status, 200) << r.body;
  json::value v = ParseJson(r.body);
  ASSERT_TRUE(v.is_object()) << r.body;
  EXPECT_EQ(Str(v.at("type")), "message");
  EXPECT_EQ(Str(v.at("content").at(0).at("text")), direct_text) << r.body;
  EXPECT_EQ(Str(v.at("stop_reason")), "end_turn");
  EXPECT_EQ(v.at("usage").at("input_tokens").to_number<int64_t>(),
            direct.at("usageMetadata").at("promptTokenCount").to_number<int64_t>());
  EXPECT_EQ(v.at("usage").at("output_tokens").to_number<int64_t>(),
            direct.at("usageMetadata").at("candidatesTokenCount").to_number<int64_t>());
}

// What the gateway sends upstream, seen by a one-shot fake Gemini: the versionless base URL gets
// /v1beta, the key travels in x-goog-api-key, and a tool result is a functionResponse named after
// the call it answers.
TEST(GeminiWire, RequestShapeUpstream) {
  const std::string answer =
      R"({"candidates":[{"content":{"role":"model","parts":[{"text":"It is sunny."}]},)"
      R"("finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":20,)"
      R"("candidatesTokenCount":4,"totalTokenCount":24},"modelVersion":"gemini-2.5-flash"})";
  OneShotUpstream upstream(
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
      "connection: close\r\ncontent-length: " +
      std::to_string(answer.size()) + "\r\n\r\n" + answer);
  auto gw = StartGateway(
      {}, {{"GEMINI_API_KEY", kKey},
           {"GEMINI_BASE_URL", "http://127.0.0.1:" + std::to_string(upstream.port())}});
  const std::string body = R"({"model":"gemini/gemini-2.5-flash","messages":[
    {"role":"system","content":"Be brief."},
    {"role":"user","content":"Weather in Lisbon?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_x","type":"function",
      "function":{"name":"get_weather","arguments":"{\"city\":\"Lisbon\"}"}}]},
    {"role":"tool","tool_call_id":"call_x","content":"sunny"}]})";
  auto r = Http("POST", gw.base_url + "/v1/chat/completions", body, {}, kTimeout);
  ASSERT_EQ(r.status, 200) << r.body << gw.process->Describe();
  EXPECT_EQ(Str(ParseJson(r.body).at("choices").at(0).at("message").at("content")), "It is sunny.");

  std::string head = upstream.head();
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(head.rfind("post /v1beta/models/gemini-2.5-flash:generatecontent http/1.1", 0), 0u)
      << head;
  EXPECT_NE(head.find(std::string("x-goog-api-key: ") + kKey), std::string::npos) << head;
  EXPECT_EQ(head.find("authorization:"), std::string::npos) << head;
  const json::value sent = ParseJson(upstream.body());
  ASSERT_TRUE(sent.is_object()) << upstream.body();
  const json::value want = ParseJson(R"({
    "contents":[
      {"role":"user","parts":[{"text":"Weather in Lisbon?"}]},
      {"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Lisbon"}}}]},
      {"role":"user","parts":[{"functionResponse":{"name":"get_weather",
                                                    "response":{"result":"sunny"}}}]}],
    "system_instruction":{"parts":[{"text":"Be brief."}]}})");
  EXPECT_EQ(sent, want) << upstream.body();
}

}  // namespace
}  // namespace modelmux::testing
