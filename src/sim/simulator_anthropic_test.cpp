// The simulator's Anthropic Messages dialect: /v1/messages streamed and not, tool use, count
// tokens, errors in Anthropic's shape, controls and key checks.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/sse.hpp"
#include "sim/fake_writer_test_util.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {
namespace json = boost::json;
using simtest::FakeWriter;
using simtest::Post;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

std::string Messages(std::string_view model, std::string_view user, std::string extra = "",
                     int64_t max_tokens = 1024) {
  json::object o{{"model", model},
                 {"max_tokens", max_tokens},
                 {"messages", json::array{json::object{{"role", "user"}, {"content", user}}}}};
  std::string s = json::serialize(o);
  if (!extra.empty()) s = s.substr(0, s.size() - 1) + "," + extra + "}";
  return s;
}

std::string Chat(std::string_view model, std::string_view user, std::string extra = "") {
  json::object o{{"model", model},
                 {"messages", json::array{json::object{{"role", "user"}, {"content", user}}}}};
  std::string s = json::serialize(o);
  if (!extra.empty()) s = s.substr(0, s.size() - 1) + "," + extra + "}";
  return s;
}

int64_t Int(const json::value& v, std::string_view key) {
  return v.at(key).to_number<int64_t>();
}

struct NamedEvent {
  std::string name;
  json::value data;
};

std::vector<NamedEvent> NamedEvents(const FakeWriter& w) {
  SseParser parser;
  std::vector<SseEvent> events;
  EXPECT_TRUE(parser.Feed(w.body, events));
  parser.Finish(events);
  std::vector<NamedEvent> out;
  for (auto& e : events) out.push_back({e.event, json::parse(e.data)});
  return out;
}

struct Collected {
  std::vector<std::string> names;
  std::string text;
  std::string partial_json;
  std::string stop_reason;
  int64_t input_tokens = -1;
  int64_t start_output_tokens = -1;
  int64_t output_tokens = -1;
  json::value block_start;
};

Collected Collect(const FakeWriter& w) {
  Collected c;
  for (const NamedEvent& e : NamedEvents(w)) {
    c.names.push_back(e.name);
    EXPECT_EQ(e.data.at("type").as_string(), e.name);  // data.type repeats the event name
    if (e.name == "message_start") {
      const json::value& u = e.data.at("message").at("usage");
      c.input_tokens = Int(u, "input_tokens");
      c.start_output_tokens = Int(u, "output_tokens");
    } else if (e.name == "content_block_start") {
      c.block_start = e.data.at("content_block");
    } else if (e.name == "content_block_delta") {
      const json::value& d = e.data.at("delta");
      if (d.at("type").as_string() == "text_delta") c.text += d.at("text").as_string();
      if (d.at("type").as_string() == "input_json_delta") {
        c.partial_json += d.at("partial_json").as_string();
      }
    } else if (e.name == "message_delta") {
      c.stop_reason = e.data.at("delta").at("stop_reason").as_string();
      c.output_tokens = Int(e.data.at("usage"), "output_tokens");
    }
  }
  return c;
}

TEST(SimulatorAnthropicTest, EchoMessageHasAnthropicShapeAndUsage) {
  Simulator sim({});
  std::string body = R"({"model":"sim/echo","max_tokens":100,"system":"Be brief",
    "messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},
    {"role":"user","content":[{"type":"text","text":"hello there world"}]}]})";
  FakeWriter w = Post(sim, "/v1/messages", body, {{"anthropic-version", "2023-06-01"}});
  ASSERT_EQ(w.status, 200) << w.body;
  const json::value& v = w.Json();
  EXPECT_EQ(v.at("id").as_string(), "msg_sim_1");
  EXPECT_EQ(v.at("type").as_string(), "message");
  EXPECT_EQ(v.at("role").as_string(), "assistant");
  EXPECT_EQ(v.at("model").as_string(), "sim/echo");
  ASSERT_EQ(v.at("content").as_array().size(), 1u);
  EXPECT_EQ(v.at("content").at(0).at("type").as_string(), "text");
  EXPECT_EQ(v.at("content").at(0).at("text").as_string(), "hello there world");
  EXPECT_EQ(v.at("stop_reason").as_string(), "end_turn");
  EXPECT_TRUE(v.at("stop_sequence").is_null());
  // Same counting as the OpenAI side: "Be brief" 2+4, "first" 2+4, "ok" 1+4, "hello there
  // world" 5+4 = 26 input tokens; 3 output pieces.
  const json::value& u = v.at("usage");
  EXPECT_EQ(Int(u, "input_tokens"), 26);
  EXPECT_EQ(Int(u, "output_tokens"), 3);
  EXPECT_EQ(Int(u, "cache_creation_input_tokens"), 0);
  EXPECT_EQ(Int(u, "cache_read_input_tokens"), 0);
  EXPECT_EQ(w.headers.Get("request-id"), "req_sim_1");
}

TEST(SimulatorAnthropicTest, SameTextAndUsageAsOpenAiDialect) {
  for (std::string_view model : {"sim/echo", "sim/chat", "claude-sonnet-4-5"}) {
    SCOPED_TRACE(model);
    Simulator sim({});
    std::string user = "Tell me about the weather in Lisbon";
    FakeWriter a = Post(sim, "/v1/messages", Messages(model, user));
    FakeWriter o = Post(sim, "/v1/chat/completions", Chat(model, user));
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(o.status, 200);
    const json::value& av = a.Json();
    const json::value& ov = o.Json();
    EXPECT_EQ(av.at("content").at(0).at("text").as_string(),
              ov.at("choices").at(0).at("message").at("content").as_string());
    EXPECT_EQ(Int(av.at("usage"), "input_tokens"), Int(ov.at("usage"), "prompt_tokens"));
    EXPECT_EQ(Int(av.at("usage"), "output_tokens"), Int(ov.at("usage"), "completion_tokens"));
  }
}

TEST(SimulatorAnthropicTest, StreamMatchesNonStream) {
  for (std::string_view model : {"sim/echo", "sim/chat"}) {
    SCOPED_TRACE(model);
    Simulator sim({});
    std::string user = "Stream me some words, please";
    FakeWriter plain = Post(sim, "/v1/messages", Messages(model, user));
    FakeWriter stream =
        Post(sim, "/anthropic/v1/messages", Messages(model, user, R"("stream":true)"));
    ASSERT_EQ(stream.status, 200);
    EXPECT_TRUE(stream.streamed);
    EXPECT_TRUE(stream.finished);
    EXPECT_FALSE(stream.aborted);
    EXPECT_EQ(stream.headers.Get("content-type"), "text/event-stream; charset=utf-8");
    EXPECT_EQ(stream.body.find("[DONE]"), std::string::npos);
    Collected c = Collect(stream);
    const json::value& p = plain.Json();
    EXPECT_EQ(c.text, p.at("content").at(0).at("text").as_string());
    EXPECT_EQ(c.stop_reason, p.at("stop_reason").as_string());
    EXPECT_EQ(c.input_tokens, Int(p.at("usage"), "input_tokens"));
    EXPECT_EQ(c.start_output_tokens, 1);
    EXPECT_EQ(c.output_tokens, Int(p.at("usage"), "output_tokens"));
    ASSERT_GE(c.names.size(), 7u);
    EXPECT_EQ(c.names[0], "message_start");
    EXPECT_EQ(c.names[1], "content_block_start");
    EXPECT_EQ(c.names[2], "ping");
    EXPECT_EQ(c.names[c.names.size() - 3], "content_block_stop");
    EXPECT_EQ(c.names[c.names.size() - 2], "message_delta");
    EXPECT_EQ(c.names.back(), "message_stop");
    // One text_delta per output token.
    EXPECT_EQ(static_cast<int64_t>(c.names.size() - 6), c.output_tokens);
    EXPECT_EQ(c.block_start.at("type").as_string(), "text");
  }
}

TEST(SimulatorAnthropicTest, MaxTokensCutsWithStopReasonMaxTokens) {
  Simulator sim({});
  FakeWriter w = Post(sim, "/v1/messages", Messages("sim/echo", "one two three four five", "", 2));
  ASSERT_EQ(w.status, 200);
  EXPECT_EQ(w.Json().at("content").at(0).at("text").as_string(), "one two");
  EXPECT_EQ(w.Json().at("stop_reason").as_string(), "max_tokens");
  EXPECT_EQ(Int(w.Json().at("usage"), "output_tokens"), 2);
  FakeWriter s = Post(sim, "/v1/messages",
                      Messages("sim/echo", "one two three four five", R"("stream":true)", 2));
  Collected c = Collect(s);
  EXPECT_EQ(c.text, "one two");
  EXPECT_EQ(c.stop_reason, "max_tokens");
}

constexpr std::string_view kTools =
    R"("tools":[{"name":"search","description":"look up","input_schema":{"type":"object"}},)"
    R"({"name":"weather","input_schema":{"type":"object"}}])";

TEST(SimulatorAnthropicTest, ToolUseOnCallToolAndToolChoice) {
  Simulator sim({});
  std::string user = "please call_tool for cats";
  FakeWriter w = Post(sim, "/v1/messages", Messages("sim/chat", user, std::string(kTools)));
  ASSERT_EQ(w.status, 200) << w.body;
  const json::value& v = w.Json();
  EXPECT_EQ(v.at("stop_reason").as_string(), "tool_use");
  const json::value& block = v.at("content").at(0);
  EXPECT_EQ(block.at("type").as_string(), "tool_use");
  EXPECT_EQ(block.at("name").as_string(), "search");
  EXPECT_EQ(block.at("input"), (json::value(json::object{{"query", user}})));
  std::string id(block.at("id").as_string());
  EXPECT_TRUE(id.starts_with("toolu_sim_")) << id;

  // The OpenAI side calls the same tool with the same arguments and hash.
  FakeWriter o =
      Post(sim, "/v1/chat/completions",
           Chat("sim/chat", user, R"("tools":[{"type":"function","function":{"name":"search"}}])"));
  const json::value& call = o.Json().at("choices").at(0).at("message").at("tool_calls").at(0);
  EXPECT_EQ(json::parse(call.at("function").at("arguments").as_string()), block.at("input"));
  EXPECT_EQ(id.substr(10), std::string(call.at("id").as_string()).substr(9));

  // tool_choice {type:tool,name} picks that tool without the trigger word; {type:any} the first;
  // {type:none} none even with it.
  FakeWriter named =
      Post(sim, "/v1/messages",
           Messages("sim/chat", "hi",
                    std::string(kTools) + R"(,"tool_choice":{"type":"tool","name":"weather"})"));
  EXPECT_EQ(named.Json().at("content").at(0).at("name").as_string(), "weather");
  FakeWriter any =
      Post(sim, "/v1/messages",
           Messages("sim/chat", "hi", std::string(kTools) + R"(,"tool_choice":{"type":"any"})"));
  EXPECT_EQ(any.Json().at("content").at(0).at("name").as_string(), "search");
  FakeWriter none =
      Post(sim, "/v1/messages",
           Messages("sim/chat", user, std::string(kTools) + R"(,"tool_choice":{"type":"none"})"));
  EXPECT_EQ(none.Json().at("content").at(0).at("type").as_string(), "text");
  FakeWriter no_tools = Post(sim, "/v1/messages", Messages("sim/chat", user));
  EXPECT_EQ(no_tools.Json().at("stop_reason").as_string(), "end_turn");
  FakeWriter unknown =
      Post(sim, "/v1/messages",
           Messages("sim/chat", "hi",
                    std::string(kTools) + R"(,"tool_choice":{"type":"tool","name":"nope"})"));
  EXPECT_EQ(unknown.status, 400);
}

TEST(SimulatorAnthropicTest, StreamedToolUseSendsInputJsonDeltas) {
  Simulator sim({});
  std::string user = "please call_tool for a fairly long query about many things";
  std::string extra = std::string(kTools);
  FakeWriter plain = Post(sim, "/v1/messages", Messages("sim/chat", user, extra));
  FakeWriter stream =
      Post(sim, "/v1/messages", Messages("sim/chat", user, extra + R"(,"stream":true)"));
  Collected c = Collect(stream);
  const json::value& block = plain.Json().at("content").at(0);
  EXPECT_EQ(c.block_start.at("type").as_string(), "tool_use");
  EXPECT_EQ(c.block_start.at("name").as_string(), "search");
  EXPECT_EQ(c.block_start.at("id"), block.at("id"));
  EXPECT_TRUE(c.block_start.at("input").as_object().empty());
  EXPECT_EQ(json::parse(c.partial_json), block.at("input"));
  size_t deltas = std::count(c.names.begin(), c.names.end(), "content_block_delta");
  EXPECT_GE(deltas, 3u);
  EXPECT_EQ(c.stop_reason, "tool_use");
  EXPECT_EQ(c.output_tokens, Int(plain.Json().at("usage"), "output_tokens"));
}

void ExpectAnthropicError(const FakeWriter& w, int status, std::string_view type) {
  EXPECT_EQ(w.status, status) << w.body;
  json::value v = json::parse(w.body);
  EXPECT_EQ(v.at("type").as_string(), "error") << w.body;
  EXPECT_EQ(v.at("error").at("type").as_string(), type) << w.body;
  EXPECT_FALSE(v.at("error").at("message").as_string().empty());
}

TEST(SimulatorAnthropicTest, SimStatusAnswersAnthropicErrors) {
  Simulator sim({});
  const std::pair<int, std::string_view> cases[] = {
      {400, "invalid_request_error"}, {401, "authentication_error"},
      {403, "permission_error"},      {404, "not_found_error"},
      {429, "rate_limit_error"},      {500, "api_error"},
      {529, "overloaded_error"},      {503, "api_error"}};
  for (auto [status, type] : cases) {
    SCOPED_TRACE(status);
    FakeWriter w = Post(sim, "/v1/messages", Messages("sim/echo", "x"),
                        {{"x-sim-status", std::to_string(status)}});
    ExpectAnthropicError(w, status, type);
    EXPECT_EQ(w.headers.Has("retry-after"), status == 429);
  }
  FakeWriter hinted = Post(sim, "/v1/messages", Messages("sim/echo", "x"),
                           {{"x-sim-status", "529"}, {"x-sim-retry-after", "3"}});
  ExpectAnthropicError(hinted, 529, "overloaded_error");
  EXPECT_EQ(hinted.headers.Get("retry-after"), "3");
  FakeWriter bad_header =
      Post(sim, "/v1/messages", Messages("sim/echo", "x"), {{"x-sim-status", "abc"}});
  ExpectAnthropicError(bad_header, 400, "invalid_request_error");
}

TEST(SimulatorAnthropicTest, BadRequestsGetAnthropic400) {
  Simulator sim({});
  const std::string bodies[] = {
      R"({"model":"sim/echo","messages":[{"role":"user","content":"x"}]})",  // no max_tokens
      R"({"max_tokens":5,"messages":[{"role":"user","content":"x"}]})",      // no model
      R"({"model":"m","max_tokens":5})",                                     // no messages
      R"({"model":"m","max_tokens":5,"messages":[]})",
      R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})",
      R"({"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]})",
      R"({"model":"m","max_tokens":5,"temperature":1.5,"messages":[{"role":"user","content":"x"}]})",
      R"({"model":"m","max_tokens":5,"temperature":-0.1,"messages":[{"role":"user","content":"x"}]})",
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"text":"x"}]}]})",
      R"({"model":"m","max_tokens":5,"stop_sequences":"x","messages":[{"role":"user","content":"x"}]})",
      R"(not json)",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    ExpectAnthropicError(Post(sim, "/v1/messages", body), 400, "invalid_request_error");
  }
  FakeWriter missing = Post(sim, "/v1/messages", bodies[0]);
  EXPECT_NE(json::parse(missing.body).at("error").at("message").as_string().find("max_tokens"),
            std::string::npos);
  // Temperature at the bounds is fine; none of the refused bodies counted as parsed.
  FakeWriter ok = Post(sim, "/v1/messages", Messages("sim/echo", "x", R"("temperature":1)"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(sim.StatsJson()).at("total").as_int64(), 1);
}

TEST(SimulatorAnthropicTest, BlocksImagesToolResultsAndCountTokens) {
  Simulator sim({});
  std::string body = R"({"model":"sim/echo","max_tokens":50,
    "system":[{"type":"text","text":"Be brief"}],
    "messages":[{"role":"user","content":[{"type":"text","text":"look"},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]},
      {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"search",
        "input":{"q":"x"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",
        "content":"result text"}]}]})";
  FakeWriter w = Post(sim, "/v1/messages", body);
  ASSERT_EQ(w.status, 200) << w.body;
  // The echo is the last user message with text ("look"), not the tool result, after what the
  // simulator made of the image ("AAAA" is three zero bytes, not an image).
  EXPECT_EQ(w.Json().at("content").at(0).at("text").as_string(),
            "[image: unreadable (unsupported_image_format), 3 bytes]\nlook");
  // system "Be brief" 2+4; "look" 1+4+85 (image); tool_use "search" 2 + {"q":"x"} (9 bytes) 3,
  // +4; "result text" 3+4 -> 112.
  EXPECT_EQ(Int(w.Json().at("usage"), "input_tokens"), 112);

  // count_tokens: no max_tokens needed, same count.
  std::string counted = body;
  counted.erase(counted.find(R"("max_tokens":50,)"), 16);
  FakeWriter c = Post(sim, "/v1/messages/count_tokens", counted);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.Json(), (json::value(json::object{{"input_tokens", 112}})));
}

TEST(SimulatorAnthropicTest, CutAndErrorAfterInStream) {
  Simulator sim({});
  std::string body = Messages("sim/chat", "tell me things", R"("stream":true)");
  FakeWriter cut = Post(sim, "/v1/messages", body, {{"x-sim-cut-after", "4"}});
  EXPECT_TRUE(cut.aborted);
  EXPECT_FALSE(cut.finished);
  Collected c = Collect(cut);
  EXPECT_EQ(c.names.size(), 4u);
  EXPECT_EQ(std::count(c.names.begin(), c.names.end(), "message_stop"), 0);

  FakeWriter err = Post(sim, "/v1/messages", body, {{"x-sim-error-after", "3"}});
  EXPECT_TRUE(err.finished);
  EXPECT_FALSE(err.aborted);
  std::vector<NamedEvent> events = NamedEvents(err);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events.back().name, "error");
  EXPECT_EQ(events.back().data.at("type").as_string(), "error");
  EXPECT_EQ(events.back().data.at("error").at("type").as_string(), "overloaded_error");
}

TEST(SimulatorAnthropicTest, RequireKeyChecksXApiKey) {
  SimOptions o;
  o.require_key = "secret";
  Simulator sim(o);
  std::string body = Messages("sim/echo", "x");
  ExpectAnthropicError(Post(sim, "/v1/messages", body), 401, "authentication_error");
  ExpectAnthropicError(Post(sim, "/v1/messages", body, {{"x-api-key", "wrong"}}), 401,
                       "authentication_error");
  // A bearer token is the OpenAI side's credential, not Anthropic's.
  ExpectAnthropicError(Post(sim, "/v1/messages", body, {{"authorization", "Bearer secret"}}), 401,
                       "authentication_error");
  EXPECT_EQ(Post(sim, "/v1/messages", body, {{"x-api-key", "secret"}}).status, 200);
}

TEST(SimulatorAnthropicTest, StatsRateLimitsAndUnknownPaths) {
  SimOptions o;
  o.rpm = 1;
  Simulator sim(o);
  EXPECT_EQ(Post(sim, "/v1/messages", Messages("claude-x", "a")).status, 200);
  FakeWriter limited = Post(sim, "/anthropic/v1/messages", Messages("claude-x", "a"));
  ExpectAnthropicError(limited, 429, "rate_limit_error");
  EXPECT_FALSE(limited.headers.Get("retry-after").empty());
  EXPECT_EQ(limited.headers.Get("anthropic-ratelimit-requests-limit"), "1");
  EXPECT_EQ(limited.headers.Get("anthropic-ratelimit-requests-remaining"), "0");
  ExpectAnthropicError(Post(sim, "/anthropic/v1/nothing", "{}"), 404, "not_found_error");
  FakeWriter get = simtest::RunRequest(sim, simtest::MakeRequest("GET", "/v1/messages", ""));
  ExpectAnthropicError(get, 405, "invalid_request_error");
  json::value stats = json::parse(sim.StatsJson());
  EXPECT_EQ(stats.at("by_path").at("/v1/messages").as_int64(), 2);
  EXPECT_EQ(stats.at("by_path").at("/anthropic/v1/messages").as_int64(), 1);
  EXPECT_EQ(stats.at("by_model").at("claude-x").as_int64(), 2);
  EXPECT_EQ(stats.at("by_status").at("429").as_int64(), 1);
}

}  // namespace
}  // namespace modelmux::sim
