// The simulator's Gemini dialect: generateContent and streamGenerateContent?alt=sse, function
// calls, Google-shaped errors with RetryInfo, controls and key checks; answers agree with the
// OpenAI side for the same conversation.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "sim/fake_writer_test_util.hpp"
#include "sim/gemini_request.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {
namespace json = boost::json;
using simtest::FakeWriter;
using simtest::Post;

constexpr const char* kPath = "/v1beta/models/gemini-2.5-flash:generateContent";
constexpr const char* kStreamPath = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";

std::string Contents(std::string_view user, std::string extra = "") {
  json::object o{
      {"contents", json::array{json::object{
                       {"role", "user"}, {"parts", json::array{json::object{{"text", user}}}}}}}};
  std::string s = json::serialize(o);
  if (!extra.empty()) s = s.substr(0, s.size() - 1) + "," + extra + "}";
  return s;
}

std::string Chat(std::string_view model, std::string_view user) {
  return json::serialize(
      json::object{{"model", model},
                   {"messages", json::array{json::object{{"role", "user"}, {"content", user}}}}});
}

constexpr const char* kTools =
    R"("tools":[{"functionDeclarations":[{"name":"search","parameters":{"type":"object",
    "properties":{"query":{"type":"string"}}}},{"name":"lookup"}]}])";

int64_t Int(const json::value& v, std::string_view key) {
  return v.at(key).to_number<int64_t>();
}

std::string Text(const json::value& chunk) {
  std::string out;
  for (const auto& p : chunk.at("candidates").at(0).at("content").at("parts").as_array()) {
    if (const json::value* t = p.as_object().if_contains("text")) out += t->as_string();
  }
  return out;
}

TEST(SimGeminiRouteTest, MatchesGeminiPathsOnly) {
  GeminiRoute r = MatchGeminiRoute("/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(r.method, GeminiMethod::kGenerate);
  EXPECT_EQ(r.model, "gemini-2.5-flash");
  r = MatchGeminiRoute("/v1/models/gemini-2.0-flash:streamGenerateContent");
  EXPECT_EQ(r.method, GeminiMethod::kStreamGenerate);
  EXPECT_EQ(r.model, "gemini-2.0-flash");
  EXPECT_EQ(MatchGeminiRoute("/v1beta/models/x:countTokens").method, GeminiMethod::kOther);
  EXPECT_EQ(MatchGeminiRoute("/v1beta/models").method, GeminiMethod::kOther);
  EXPECT_EQ(MatchGeminiRoute("/v1/models/ft:gpt-4o-mini:org::abc").method, GeminiMethod::kNone);
  EXPECT_EQ(MatchGeminiRoute("/v1/chat/completions").method, GeminiMethod::kNone);
}

TEST(SimGeminiTest, AnswersLikeTheOpenAiSide) {
  Simulator sim({});
  FakeWriter g = Post(sim, kPath, Contents("Tell me something about rivers"));
  ASSERT_EQ(g.status, 200) << g.body;
  FakeWriter o =
      Post(sim, "/v1/chat/completions", Chat("gemini-2.5-flash", "Tell me something about rivers"));
  ASSERT_EQ(o.status, 200) << o.body;
  const json::value& gj = g.Json();
  const json::value& oj = o.Json();
  EXPECT_EQ(Text(gj), oj.at("choices").at(0).at("message").at("content").as_string());
  EXPECT_FALSE(Text(gj).empty());
  const json::value& cand = gj.at("candidates").at(0);
  EXPECT_EQ(cand.at("content").at("role").as_string(), "model");
  EXPECT_EQ(cand.at("finishReason").as_string(), "STOP");
  const json::value& u = gj.at("usageMetadata");
  EXPECT_EQ(Int(u, "promptTokenCount"), Int(oj.at("usage"), "prompt_tokens"));
  EXPECT_EQ(Int(u, "candidatesTokenCount"), Int(oj.at("usage"), "completion_tokens"));
  EXPECT_EQ(Int(u, "totalTokenCount"), Int(u, "promptTokenCount") + Int(u, "candidatesTokenCount"));
  EXPECT_EQ(gj.at("modelVersion").as_string(), "gemini-2.5-flash");
  EXPECT_FALSE(gj.at("responseId").as_string().empty());
  EXPECT_TRUE(g.headers.Get("retry-after").empty());
}

TEST(SimGeminiTest, EchoModelAndSystemInstruction) {
  Simulator sim({});
  FakeWriter e = Post(sim, "/v1beta/models/gemini-echo:generateContent",
                      Contents("say exactly this, 中文 too"));
  ASSERT_EQ(e.status, 200) << e.body;
  EXPECT_EQ(Text(e.Json()), "say exactly this, 中文 too");
  // A system instruction is a leading system message, as on the OpenAI side.
  FakeWriter g =
      Post(sim, kPath, Contents("hi", R"("system_instruction":{"parts":[{"text":"Be brief."}]})"));
  FakeWriter o = Post(sim, "/v1/chat/completions",
                      R"({"model":"gemini-2.5-flash","messages":[{"role":"system",
                      "content":"Be brief."},{"role":"user","content":"hi"}]})");
  EXPECT_EQ(Text(g.Json()), o.Json().at("choices").at(0).at("message").at("content").as_string());
  EXPECT_EQ(Int(g.Json().at("usageMetadata"), "promptTokenCount"),
            Int(o.Json().at("usage"), "prompt_tokens"));
}

TEST(SimGeminiTest, StreamIsTheSameAnswerInCumulativeChunks) {
  Simulator sim({});
  FakeWriter whole = Post(sim, kPath, Contents("Tell me something about lakes"));
  FakeWriter s = Post(sim, kStreamPath, Contents("Tell me something about lakes"));
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.streamed);
  EXPECT_TRUE(s.finished);
  EXPECT_FALSE(s.aborted);
  EXPECT_EQ(s.headers.Get("content-type"), "text/event-stream");
  EXPECT_EQ(s.body.find("[DONE]"), std::string::npos);
  std::vector<std::string> events = s.Events();
  const int64_t pieces = Int(whole.Json().at("usageMetadata"), "candidatesTokenCount");
  ASSERT_EQ(static_cast<int64_t>(events.size()), pieces);
  std::string text;
  int64_t last_count = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    json::value chunk = json::parse(events[i]);
    text += Text(chunk);
    const int64_t count = Int(chunk.at("usageMetadata"), "candidatesTokenCount");
    EXPECT_EQ(count, last_count + 1);  // cumulative, one piece per chunk
    last_count = count;
    const bool has_finish = chunk.at("candidates").at(0).as_object().contains("finishReason");
    EXPECT_EQ(has_finish, i + 1 == events.size()) << events[i];
  }
  EXPECT_EQ(text, Text(whole.Json()));
  EXPECT_EQ(json::parse(events.back()).at("usageMetadata"), whole.Json().at("usageMetadata"));
}

TEST(SimGeminiTest, FunctionCallWholeAndStreamed) {
  Simulator sim({});
  const std::string prompt = "please call_tool for Lisbon";
  FakeWriter g = Post(sim, kPath, Contents(prompt, kTools));
  ASSERT_EQ(g.status, 200) << g.body;
  const json::value& part = g.Json().at("candidates").at(0).at("content").at("parts").at(0);
  EXPECT_EQ(part.at("functionCall").at("name").as_string(), "search");
  EXPECT_EQ(part.at("functionCall").at("args"), (json::value{{"query", prompt}}));
  EXPECT_EQ(g.Json().at("candidates").at(0).at("finishReason").as_string(), "STOP");

  FakeWriter s = Post(sim, kStreamPath, Contents(prompt, kTools));
  std::vector<std::string> events = s.Events();
  ASSERT_EQ(events.size(), 1u);  // Gemini streams a function call whole
  json::value chunk = json::parse(events[0]);
  EXPECT_EQ(chunk.at("candidates").at(0).at("content").at("parts").at(0), part);
  EXPECT_EQ(chunk.at("usageMetadata"), g.Json().at("usageMetadata"));

  // toolConfig: NONE answers text, ANY with allowed names calls that one.
  FakeWriter none =
      Post(sim, kPath,
           Contents(prompt, std::string(kTools) +
                                R"(,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}})"));
  EXPECT_FALSE(Text(none.Json()).empty());
  const std::string any_config =
      R"(,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["lookup"]}})";
  FakeWriter any = Post(sim, kPath, Contents("no magic words", std::string(kTools) + any_config));
  EXPECT_EQ(any.Json()
                .at("candidates")
                .at(0)
                .at("content")
                .at("parts")
                .at(0)
                .at("functionCall")
                .at("name"),
            "lookup");
}

TEST(SimGeminiTest, MaxOutputTokensEndsWithMaxTokens) {
  Simulator sim({});
  FakeWriter g =
      Post(sim, kPath, Contents("long please", R"("generationConfig":{"maxOutputTokens":3})"));
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(g.Json().at("candidates").at(0).at("finishReason").as_string(), "MAX_TOKENS");
  EXPECT_EQ(Int(g.Json().at("usageMetadata"), "candidatesTokenCount"), 3);
  FakeWriter bad = Post(sim, kPath, Contents("x", R"("generationConfig":{"maxOutputTokens":0})"));
  EXPECT_EQ(bad.status, 400);
}

TEST(SimGeminiTest, StatusControlGivesGoogleErrorsWithRetryInfo) {
  Simulator sim({});
  FakeWriter r = Post(sim, kPath, Contents("x"), {{"x-sim-status", "429"}});
  ASSERT_EQ(r.status, 429);
  const json::value& err = r.Json().at("error");
  EXPECT_EQ(Int(err, "code"), 429);
  EXPECT_EQ(err.at("status").as_string(), "RESOURCE_EXHAUSTED");
  bool quota = false;
  std::string delay;
  for (const auto& d : err.at("details").as_array()) {
    const std::string type(d.at("@type").as_string());
    if (type == "type.googleapis.com/google.rpc.QuotaFailure") quota = true;
    if (type == "type.googleapis.com/google.rpc.RetryInfo") delay = d.at("retryDelay").as_string();
  }
  EXPECT_TRUE(quota);
  EXPECT_EQ(delay, "1s");
  EXPECT_TRUE(r.headers.Get("retry-after").empty());  // Gemini's hint is in the body only

  FakeWriter later =
      Post(sim, kPath, Contents("x"), {{"x-sim-status", "429"}, {"x-sim-retry-after", "7"}});
  EXPECT_NE(later.body.find(R"("retryDelay":"7s")"), std::string::npos) << later.body;

  FakeWriter busy = Post(sim, kStreamPath, Contents("x"), {{"x-sim-status", "503"}});
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.Json().at("error").at("status").as_string(), "UNAVAILABLE");
  EXPECT_FALSE(busy.streamed);
}

TEST(SimGeminiTest, CutAndErrorAfterInStreams) {
  Simulator sim({});
  FakeWriter cut =
      Post(sim, kStreamPath, Contents("Tell me about rivers"), {{"x-sim-cut-after", "2"}});
  EXPECT_EQ(cut.Events().size(), 2u);
  EXPECT_TRUE(cut.aborted);
  EXPECT_FALSE(cut.finished);

  FakeWriter err =
      Post(sim, kStreamPath, Contents("Tell me about rivers"), {{"x-sim-error-after", "1"}});
  std::vector<std::string> events = err.Events();
  ASSERT_EQ(events.size(), 2u);
  json::value last = json::parse(events[1]);
  EXPECT_EQ(last.at("error").at("status").as_string(), "UNAVAILABLE");
  EXPECT_TRUE(err.finished);
  EXPECT_FALSE(err.aborted);
}

TEST(SimGeminiTest, KeyCheckAndBadRequests) {
  SimOptions opt;
  opt.require_key = "gk-1";
  Simulator sim(opt);
  FakeWriter none = Post(sim, kPath, Contents("x"));
  EXPECT_EQ(none.status, 400);
  EXPECT_NE(none.body.find("API_KEY_INVALID"), std::string::npos);
  EXPECT_EQ(Post(sim, kPath, Contents("x"), {{"x-goog-api-key", "gk-1"}}).status, 200);
  EXPECT_EQ(Post(sim, std::string(kPath) + "?key=gk-1", Contents("x")).status, 200);
  EXPECT_EQ(Post(sim, std::string(kPath) + "?key=nope", Contents("x")).status, 400);

  Simulator open({});
  FakeWriter empty = Post(open, kPath, R"({"contents":[]})");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.Json().at("error").at("status").as_string(), "INVALID_ARGUMENT");
  EXPECT_EQ(Post(open, kPath, "not json").status, 400);
  EXPECT_EQ(Post(open, kPath, R"({"contents":[{"role":"bot","parts":[{"text":"x"}]}]})").status,
            400);
  FakeWriter unknown = Post(open, "/v1beta/models/gemini-2.5-flash:countTokens", Contents("x"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.Json().at("error").at("status").as_string(), "NOT_FOUND");
  // The OpenAI side keeps its own /v1/models paths.
  FakeWriter model =
      simtest::RunRequest(open, simtest::MakeRequest("GET", "/v1/models/sim/echo", ""));
  EXPECT_EQ(model.status, 200);
}

}  // namespace
}  // namespace modelmux::sim
