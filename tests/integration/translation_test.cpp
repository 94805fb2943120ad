// Dialect translation through the gateway: a caller speaking OpenAI (/v1/chat/completions) or
// Anthropic (/v1/messages) reaches an upstream speaking OpenAI or Anthropic (both the same
// `modelmux sim` process, which checks the key of each dialect). For text and tool calls, streamed
// and not, the caller gets what the simulator says when asked directly, with the same usage and
// finish reason in both forms; upstream errors, cut streams and bad bodies reach the caller in
// its own dialect; count_tokens answers an estimate.

#include <gtest/gtest.h>

#include <tuple>

#include "answers.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 15s;
constexpr const char* kKey = "sim-key-123";

enum class Caller { kOpenAi, kAnthropic };
enum class Upstream { kOpenAi, kAnthropic };

std::string Name(Caller c) {
  return c == Caller::kOpenAi ? "OpenAiCaller" : "AnthropicCaller";
}
std::string Name(Upstream u) {
  return u == Upstream::kOpenAi ? "OpenAiUpstream" : "AnthropicUpstream";
}

// ---- the fixture --------------------------------------------------------------------------------

class Translation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim({"--require-key", kKey}));
    openai_gw_ = new Service(
        StartGateway({}, {{"OPENAI_BASE_URL", sim_->base_url + "/v1"}, {"OPENAI_API_KEY", kKey}}));
    std::string config = dir_->Write("modelmux.yaml",
                                     "providers:\n"
                                     "  claude:\n"
                                     "    type: anthropic\n"
                                     "    base_url: \"" +
                                         sim_->base_url +
                                         "\"\n"
                                         "    api_key: \"" +
                                         kKey + "\"\n");
    anthropic_gw_ = new Service(StartGateway({"--config", config}));
  }
  static void TearDownTestSuite() {
    delete anthropic_gw_;
    delete openai_gw_;
    delete sim_;
    delete dir_;
    anthropic_gw_ = openai_gw_ = sim_ = nullptr;
    dir_ = nullptr;
  }

  static const Service& Gateway(Upstream u) {
    return u == Upstream::kOpenAi ? *openai_gw_ : *anthropic_gw_;
  }
  // The model as the caller names it, and as the simulator sees it.
  static std::string CallerModel(Upstream u, bool echo) {
    if (u == Upstream::kOpenAi) return echo ? "openai/gpt-echo-1" : "openai/gpt-4o-mini";
    return echo ? "claude/claude-echo-1" : "claude/claude-sonnet-4-5";
  }
  static std::string UpstreamModel(Upstream u, bool echo) {
    std::string m = CallerModel(u, echo);
    return m.substr(m.find('/') + 1);
  }

  static Answer Call(Caller c, Upstream u, std::string_view model, std::string_view prompt,
                     Kind kind, bool stream, HeaderList headers = {}) {
    const std::string base = Gateway(u).base_url;
    if (c == Caller::kOpenAi) {
      auto r = Http("POST", base + "/v1/chat/completions", OpenAiBody(model, prompt, kind, stream),
                    std::move(headers), kTimeout);
      return FromOpenAi(r, stream);
    }
    headers.emplace_back("anthropic-version", "2023-06-01");
    auto r = Http("POST", base + "/v1/messages", AnthropicBody(model, prompt, kind, stream),
                  std::move(headers), kTimeout);
    return FromAnthropic(r, stream);
  }

  // What the simulator answers when asked directly in the upstream's dialect (non-streamed).
  static Answer Direct(Upstream u, std::string_view model, std::string_view prompt, Kind kind) {
    if (u == Upstream::kOpenAi) {
      auto r = Http("POST", sim_->base_url + "/v1/chat/completions",
                    OpenAiBody(model, prompt, kind, false),
                    {{"authorization", std::string("Bearer ") + kKey}}, kTimeout);
      return FromOpenAi(r, false);
    }
    auto r =
        Http("POST", sim_->base_url + "/v1/messages", AnthropicBody(model, prompt, kind, false),
             {{"x-api-key", kKey}, {"anthropic-version", "2023-06-01"}}, kTimeout);
    return FromAnthropic(r, false);
  }

  static int64_t SimPathCount(std::string_view path) {
    auto r = Http("GET", sim_->base_url + "/sim/stats", "", {}, kTimeout);
    json::value v = ParseJson(r.body);
    if (!v.is_object()) return -1;
    const json::value* n = v.at("by_path").get_object().if_contains(path);
    return n == nullptr ? 0 : n->to_number<int64_t>();
  }

  static TempDir* dir_;
  static Service* sim_;
  static Service* openai_gw_;
  static Service* anthropic_gw_;
};
TempDir* Translation::dir_ = nullptr;
Service* Translation::sim_ = nullptr;
Service* Translation::openai_gw_ = nullptr;
Service* Translation::anthropic_gw_ = nullptr;

// ---- the matrix ---------------------------------------------------------------------------------

class TranslationMatrix : public Translation,
                          public ::testing::WithParamInterface<std::tuple<Caller, Upstream, Kind>> {
};

TEST_P(TranslationMatrix, AnswerUsageAndFinishMatchTheSimulator) {
  auto [caller, upstream, kind] = GetParam();
  const std::string upstream_path =
      upstream == Upstream::kOpenAi ? "/v1/chat/completions" : "/v1/messages";
  const int64_t calls_before = SimPathCount(upstream_path);

  if (kind == Kind::kText) {
    // An echo model answers the prompt itself: an oracle independent of the simulator's text.
    const std::string prompt = "Translate me faithfully, both ways: ünïcödé and 中文 too";
    for (bool stream : {false, true}) {
      SCOPED_TRACE(stream ? "echo, streamed" : "echo");
      Answer a = Call(caller, upstream, CallerModel(upstream, true), prompt, kind, stream);
      EXPECT_EQ(a.status, 200) << a.raw;
      EXPECT_EQ(a.text, prompt) << a.raw;
      EXPECT_EQ(a.finish, "stop") << a.raw;
      EXPECT_TRUE(a.error_type.empty()) << a.raw;
    }
  }

  const std::string prompt = kind == Kind::kTools ? "please call_tool for the weather in Lisbon"
                                                  : "Tell me something about rivers";
  const std::string model = CallerModel(upstream, false);
  Answer direct = Direct(upstream, UpstreamModel(upstream, false), prompt, kind);
  ASSERT_EQ(direct.status, 200) << direct.raw;
  Answer plain = Call(caller, upstream, model, prompt, kind, false);
  Answer streamed = Call(caller, upstream, model, prompt, kind, true);
  ASSERT_EQ(plain.status, 200) << plain.raw;
  ASSERT_EQ(streamed.status, 200) << streamed.raw;
  EXPECT_TRUE(streamed.terminated) << streamed.raw;
  EXPECT_TRUE(streamed.error_type.empty()) << streamed.raw;

  if (kind == Kind::kText) {
    EXPECT_FALSE(direct.text.empty());
    EXPECT_EQ(plain.text, direct.text) << plain.raw;
    EXPECT_EQ(streamed.text, direct.text) << streamed.raw;
    EXPECT_EQ(plain.finish, "stop");
    EXPECT_TRUE(plain.tool_name.empty());
    // One user message and no tools: both dialects count the same, so the usage is the
    // simulator's own.
    EXPECT_EQ(plain.prompt_tokens, direct.prompt_tokens) << plain.raw;
    EXPECT_EQ(plain.completion_tokens, direct.completion_tokens) << plain.raw;
  } else {
    const json::value expected_args = json::object{{"query", prompt}};
    for (const Answer* a : {&plain, &streamed}) {
      EXPECT_EQ(a->tool_name, "search") << a->raw;
      EXPECT_EQ(a->tool_args, expected_args) << a->raw;
      EXPECT_FALSE(a->tool_id.empty()) << a->raw;
      EXPECT_EQ(a->finish, "tool") << a->raw;
    }
    EXPECT_EQ(plain.tool_args, direct.tool_args);
    EXPECT_EQ(plain.completion_tokens, direct.completion_tokens) << plain.raw;
  }
  EXPECT_GT(plain.prompt_tokens, 0) << plain.raw;
  EXPECT_GT(plain.completion_tokens, 0) << plain.raw;
  EXPECT_EQ(streamed.prompt_tokens, plain.prompt_tokens) << streamed.raw;
  EXPECT_EQ(streamed.completion_tokens, plain.completion_tokens) << streamed.raw;
  EXPECT_EQ(streamed.finish, plain.finish) << streamed.raw;

  // The calls went to the upstream in its own dialect (the direct call counts one too).
  const int64_t text_calls = kind == Kind::kText ? 2 : 0;
  EXPECT_EQ(SimPathCount(upstream_path) - calls_before, 3 + text_calls);
}

std::string MatrixName(const ::testing::TestParamInfo<std::tuple<Caller, Upstream, Kind>>& info) {
  auto [c, u, k] = info.param;
  return Name(c) + "_" + Name(u) + (k == Kind::kText ? "_Text" : "_Tools");
}

INSTANTIATE_TEST_SUITE_P(All, TranslationMatrix,
                         ::testing::Combine(::testing::Values(Caller::kOpenAi, Caller::kAnthropic),
                                            ::testing::Values(Upstream::kOpenAi,
                                                              Upstream::kAnthropic),
                                            ::testing::Values(Kind::kText, Kind::kTools)),
                         MatrixName);

// ---- errors
// ---------------------------------------------------------------------------------------

class TranslationErrors : public Translation,
                          public ::testing::WithParamInterface<std::tuple<Caller, Upstream>> {};

// Checks the body is the caller dialect's error shape and returns its error type.
std::string ExpectCallerError(Caller c, const std::string& body) {
  if (c == Caller::kOpenAi) {
    json::object e = ExpectOpenAiError(body);
    return e.contains("type") ? Str(e.at("type")) : std::string();
  }
  json::value v = ParseJson(body);
  EXPECT_TRUE(v.is_object()) << body;
  if (!v.is_object()) return {};
  EXPECT_EQ(Str(v.at("type")), "error") << body;
  const json::value* e = v.get_object().if_contains("error");
  EXPECT_TRUE(e != nullptr && e->is_object()) << body;
  if (e == nullptr || !e->is_object()) return {};
  EXPECT_FALSE(Str(e->at("message")).empty()) << body;
  return Str(e->at("type"));
}

TEST_P(TranslationErrors, UpstreamStatusReachesTheCallerInItsDialect) {
  auto [caller, upstream] = GetParam();
  const std::string model = CallerModel(upstream, false);
  // 429 stays 429 (with its retry hint); Anthropic's 529 is the taxonomy's "overloaded", 503.
  const std::tuple<int, int, std::string_view> cases[] = {{429, 429, "rate_limit_error"},
                                                          {529, 503, "overloaded_error"}};
  for (auto [sim_status, want_status, anthropic_type] : cases) {
    for (bool stream : {false, true}) {
      SCOPED_TRACE("x-sim-status " + std::to_string(sim_status) + (stream ? " streamed" : ""));
      const std::string base = Gateway(upstream).base_url;
      HttpResult r;
      HeaderList h = {{"x-sim-status", std::to_string(sim_status)}};
      if (caller == Caller::kOpenAi) {
        r = Http("POST", base + "/v1/chat/completions",
                 OpenAiBody(model, "fail please", Kind::kText, stream), h, kTimeout);
      } else {
        h.emplace_back("anthropic-version", "2023-06-01");
        r = Http("POST", base + "/v1/messages",
                 AnthropicBody(model, "fail please", Kind::kText, stream), h, kTimeout);
      }
      EXPECT_EQ(r.status, want_status) << r.body;
      EXPECT_NE(r.headers.Get("content-type").find("application/json"), std::string::npos)
          << r.body;
      std::string type = ExpectCallerError(caller, r.body);
      if (caller == Caller::kAnthropic) EXPECT_EQ(type, anthropic_type) << r.body;
      if (sim_status == 429) EXPECT_FALSE(r.headers.Get("retry-after").empty());
    }
  }
}

TEST_P(TranslationErrors, CutStreamEndsWithAnInBandErrorInTheCallerDialect) {
  auto [caller, upstream] = GetParam();
  const std::string model = CallerModel(upstream, false);
  HeaderList h = {{"x-sim-cut-after", "2"}};
  Answer a;
  if (caller == Caller::kAnthropic) h.emplace_back("anthropic-version", "2023-06-01");
  a = Call(caller, upstream, model, "Tell me something about rivers", Kind::kText, true, h);
  EXPECT_EQ(a.status, 200) << a.raw;
  EXPECT_FALSE(a.error_type.empty()) << "no in-band error:\n" << a.raw;
  EXPECT_FALSE(a.terminated) << "a cut stream must not look complete:\n" << a.raw;
  // The error is the last event and is in the caller's shape.
  std::vector<std::string> data = SseData(a.raw);
  ASSERT_FALSE(data.empty());
  json::value last = ParseJson(data.back());
  ASSERT_TRUE(last.is_object()) << a.raw;
  if (caller == Caller::kOpenAi) {
    ASSERT_TRUE(last.get_object().contains("error")) << a.raw;
    EXPECT_TRUE(last.at("error").is_object());
  } else {
    EXPECT_EQ(Str(last.at("type")), "error") << a.raw;
    EXPECT_TRUE(a.raw.find("event: error") != std::string::npos) << a.raw;
  }
}

std::string ErrorsName(const ::testing::TestParamInfo<std::tuple<Caller, Upstream>>& info) {
  return Name(std::get<0>(info.param)) + "_" + Name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(All, TranslationErrors,
                         ::testing::Combine(::testing::Values(Caller::kOpenAi, Caller::kAnthropic),
                                            ::testing::Values(Upstream::kOpenAi,
                                                              Upstream::kAnthropic)),
                         ErrorsName);

// ---- Anthropic front door specifics
// -----------------------------------------------------------------

TEST_F(Translation, CountTokensAnswersAnEstimate) {
  for (Upstream u : {Upstream::kOpenAi, Upstream::kAnthropic}) {
    SCOPED_TRACE(Name(u));
    std::string body =
        AnthropicBody(CallerModel(u, false), "How many tokens is this prompt, roughly?",
                      Kind::kText, false, /*with_max_tokens=*/false);
    auto r = Http("POST", Gateway(u).base_url + "/v1/messages/count_tokens", body,
                  {{"anthropic-version", "2023-06-01"}}, kTimeout);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.Get("x-modelmux-token-count"), "estimate");
    json::value v = ParseJson(r.body);
    ASSERT_TRUE(v.is_object()) << r.body;
    ASSERT_TRUE(v.get_object().contains("input_tokens")) << r.body;
    EXPECT_GT(v.at("input_tokens").to_number<int64_t>(), 0) << r.body;
  }
}

TEST_F(Translation, MissingMaxTokensIsAnAnthropic400) {
  for (Upstream u : {Upstream::kOpenAi, Upstream::kAnthropic}) {
    SCOPED_TRACE(Name(u));
    std::string body = AnthropicBody(CallerModel(u, false), "hi", Kind::kText, false,
                                     /*with_max_tokens=*/false);
    auto r = Http("POST", Gateway(u).base_url + "/v1/messages", body,
                  {{"anthropic-version", "2023-06-01"}}, kTimeout);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(ExpectCallerError(Caller::kAnthropic, r.body), "invalid_request_error") << r.body;
    EXPECT_NE(r.body.find("max_tokens"), std::string::npos) << r.body;
  }
}

}  // namespace
}  // namespace modelmux::testing
