// Non-streaming behaviour of the simulator: answers, usage, errors, limits, stats.
#include "sim/simulator.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>

#include "sim/fake_writer_test_util.hpp"
#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace {
namespace json = boost::json;
using simtest::FakeWriter;
using simtest::Post;
using simtest::RunRequest;

std::string Chat(std::string_view model, std::string_view user, std::string extra = "") {
  json::object o{{"model", model},
                 {"messages", json::array{json::object{{"role", "user"}, {"content", user}}}}};
  std::string s = json::serialize(o);
  if (!extra.empty()) s = s.substr(0, s.size() - 1) + "," + extra + "}";
  return s;
}

int64_t Int(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) cur = &cur->at(key);
  return cur->to_number<int64_t>();
}

TEST(SimulatorTest, EchoAnswersLastUserTextWithMatchingUsage) {
  Simulator sim({});
  std::string body = R"({"model":"sim/echo","messages":[{"role":"system","content":"Be brief"},
    {"role":"user","content":"first"},{"role":"assistant","content":"ok"},
    {"role":"user","content":"hello there world"}]})";
  FakeWriter w = Post(sim, "/v1/chat/completions", body);
  ASSERT_EQ(w.status, 200);
  json::value v = w.Json();
  EXPECT_EQ(v.at("id").as_string(), "chatcmpl-sim-1");
  EXPECT_EQ(v.at("object").as_string(), "chat.completion");
  EXPECT_EQ(v.at("model").as_string(), "sim/echo");
  EXPECT_EQ(v.at("system_fingerprint").as_string(), "sim");
  const json::value& choice = v.at("choices").at(0);
  EXPECT_EQ(choice.at("message").at("content").as_string(), "hello there world");
  EXPECT_EQ(choice.at("message").at("role").as_string(), "assistant");
  EXPECT_EQ(choice.at("finish_reason").as_string(), "stop");
  // Prompt: ceil(bytes/4) + 4 per message: "Be brief"(8)=2+4, "first"(5)=2+4, "ok"=1+4,
  // "hello there world"(17)=5+4 -> 26. Completion: pieces "hello", " there", " world" -> 3.
  EXPECT_EQ(Int(v, {"usage", "prompt_tokens"}), 26);
  EXPECT_EQ(Int(v, {"usage", "completion_tokens"}), 3);
  EXPECT_EQ(Int(v, {"usage", "total_tokens"}), 29);
  EXPECT_EQ(w.headers.Get("content-type"), "application/json");
}

TEST(SimulatorTest, GeneratedTextIsDeterministicAndHasDefaultLength) {
  Simulator a({}), b({});
  FakeWriter w1 = Post(a, "/v1/chat/completions", Chat("sim/chat", "tell me a story"));
  FakeWriter w2 = Post(b, "/v1/chat/completions", Chat("sim/chat", "tell me a story"));
  FakeWriter w3 = Post(b, "/v1/chat/completions", Chat("sim/chat", "tell me another story"));
  auto content = [](const FakeWriter& w) {
    return std::string(w.Json().at("choices").at(0).at("message").at("content").as_string());
  };
  EXPECT_EQ(content(w1), content(w2));
  EXPECT_NE(content(w1), content(w3));
  EXPECT_EQ(Int(w1.Json(), {"usage", "completion_tokens"}), 32);
  EXPECT_EQ(w1.Json().at("choices").at(0).at("finish_reason").as_string(), "stop");
  // 32 pieces: the first without a leading space, then 31 " word" pieces.
  std::string text = content(w1);
  EXPECT_EQ(std::count(text.begin(), text.end(), ' '), 31);
}

TEST(SimulatorTest, MaxTokensCutsWithFinishLength) {
  Simulator sim({});
  FakeWriter full = Post(sim, "/v1/chat/completions", Chat("sim/chat", "story"));
  FakeWriter cut =
      Post(sim, "/v1/chat/completions", Chat("sim/chat", "story", R"("max_tokens":5)"));
  FakeWriter cut2 =
      Post(sim, "/v1/chat/completions", Chat("sim/chat", "story", R"("max_completion_tokens":4)"));
  std::string full_text(full.Json().at("choices").at(0).at("message").at("content").as_string());
  std::string cut_text(cut.Json().at("choices").at(0).at("message").at("content").as_string());
  EXPECT_EQ(Int(cut.Json(), {"usage", "completion_tokens"}), 5);
  EXPECT_EQ(cut.Json().at("choices").at(0).at("finish_reason").as_string(), "length");
  EXPECT_EQ(full_text.substr(0, cut_text.size()), cut_text);
  EXPECT_EQ(Int(cut2.Json(), {"usage", "completion_tokens"}), 4);

  FakeWriter echo =
      Post(sim, "/v1/chat/completions", Chat("my-echo-model", "a b c d", R"("max_tokens":2)"));
  EXPECT_EQ(echo.Json().at("choices").at(0).at("message").at("content").as_string(), "a b");
  EXPECT_EQ(echo.Json().at("choices").at(0).at("finish_reason").as_string(), "length");
}

TEST(SimulatorTest, ChinesePromptGetsChineseWords) {
  Simulator sim({});
  FakeWriter w = Post(sim, "/v1/chat/completions", Chat("sim/chat", "你好，请介绍一下你自己"));
  std::string text(w.Json().at("choices").at(0).at("message").at("content").as_string());
  EXPECT_TRUE(ContainsCjk(text)) << text;
}

TEST(SimulatorTest, NonStreamToolCall) {
  Simulator sim({});
  std::string tools = R"("tools":[{"type":"function","function":{"name":"search","parameters":{}}},
    {"type":"function","function":{"name":"other"}}])";
  FakeWriter w = Post(sim, "/v1/chat/completions", Chat("sim/chat", "please call_tool", tools));
  ASSERT_EQ(w.status, 200);
  const json::value& choice = w.Json().at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason").as_string(), "tool_calls");
  EXPECT_TRUE(choice.at("message").at("content").is_null());
  const json::value& call = choice.at("message").at("tool_calls").at(0);
  EXPECT_EQ(call.at("function").at("name").as_string(), "search");
  json::value args = json::parse(call.at("function").at("arguments").as_string());
  EXPECT_EQ(args.at("query").as_string(), "please call_tool");

  // tool_choice naming a function forces it even without the trigger word.
  FakeWriter named = Post(sim, "/v1/chat/completions",
                          Chat("sim/chat", "hi", tools + R"(,"tool_choice":{"type":"function",
                               "function":{"name":"other"}})"));
  EXPECT_EQ(named.Json()
                .at("choices")
                .at(0)
                .at("message")
                .at("tool_calls")
                .at(0)
                .at("function")
                .at("name")
                .as_string(),
            "other");
  FakeWriter none = Post(sim, "/v1/chat/completions", Chat("sim/chat", "hi", tools));
  EXPECT_EQ(none.Json().at("choices").at(0).at("finish_reason").as_string(), "stop");
}

TEST(SimulatorTest, SimStatusAnswersOpenAiErrorBodies) {
  struct Case {
    int status;
    std::string_view type;
    std::string_view code;
  };
  for (const Case& c : {Case{400, "invalid_request_error", "sim_bad_request"},
                        Case{401, "invalid_request_error", "invalid_api_key"},
                        Case{403, "permission_error", "permission_denied"},
                        Case{404, "invalid_request_error", "model_not_found"},
                        Case{429, "requests", "rate_limit_exceeded"}, Case{500, "server_error", ""},
                        Case{503, "server_error", "service_unavailable"}}) {
    Simulator sim({});
    FakeWriter w = Post(sim, "/v1/chat/completions", Chat("gpt-x", "hi"),
                        {{"x-sim-status", std::to_string(c.status)}});
    SCOPED_TRACE(c.status);
    EXPECT_EQ(w.status, c.status);
    const json::value& e = w.Json().at("error");
    EXPECT_EQ(e.at("type").as_string(), c.type);
    if (c.code.empty()) {
      EXPECT_TRUE(e.at("code").is_null());
    } else {
      EXPECT_EQ(e.at("code").as_string(), c.code);
    }
    EXPECT_FALSE(e.at("message").as_string().empty());
    EXPECT_TRUE(e.at("param").is_null());
    if (c.status == 429) {
      EXPECT_EQ(w.headers.Get("retry-after"), "1");
    }
    if (c.status == 404) {
      EXPECT_NE(e.at("message").as_string().find("gpt-x"), json::string::npos);
    }
  }
  Simulator sim({});
  FakeWriter w = Post(sim, "/v1/chat/completions", Chat("m", "hi"),
                      {{"x-sim-status", "503"}, {"x-sim-retry-after-ms", "250"}});
  EXPECT_EQ(w.headers.Get("retry-after-ms"), "250");
  EXPECT_FALSE(w.headers.Has("retry-after"));
}

TEST(SimulatorTest, ShouldRetryHintAndContextWindows) {
  Simulator sim({});
  FakeWriter no = Post(sim, "/v1/chat/completions", Chat("m", "hi"),
                       {{"x-sim-status", "500"}, {"x-sim-should-retry", "false"}});
  EXPECT_EQ(no.status, 500);
  EXPECT_EQ(no.headers.Get("x-should-retry"), "false");
  FakeWriter yes = Post(sim, "/v1/chat/completions", Chat("m", "hi"),
                        {{"x-sim-status", "400"}, {"x-sim-should-retry", "true"}});
  EXPECT_EQ(yes.headers.Get("x-should-retry"), "true");
  FakeWriter none = Post(sim, "/v1/chat/completions", Chat("m", "hi"), {{"x-sim-status", "500"}});
  EXPECT_FALSE(none.headers.Has("x-should-retry"));
  FakeWriter bad =
      Post(sim, "/v1/chat/completions", Chat("m", "hi"), {{"x-sim-should-retry", "maybe"}});
  EXPECT_EQ(bad.status, 400);

  // "ctx<N>" in the model name: a window of N tokens, refused with the dialect's error.
  FakeWriter fits = Post(sim, "/v1/chat/completions", Chat("echo-ctx50", "hi"));
  EXPECT_EQ(fits.status, 200);
  std::string long_text;
  for (int i = 0; i < 60; ++i) long_text += "word ";
  FakeWriter over = Post(sim, "/v1/chat/completions", Chat("echo-ctx50", long_text));
  EXPECT_EQ(over.status, 400);
  EXPECT_EQ(over.Json().at("error").at("code").as_string(), "context_length_exceeded");
}

TEST(SimulatorTest, BadRequestsGetOpenAi400) {
  Simulator sim({});
  FakeWriter bad_json = Post(sim, "/v1/chat/completions", "{not json");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.Json().at("error").at("type").as_string(), "invalid_request_error");
  FakeWriter missing = Post(sim, "/v1/chat/completions", R"({"model":"m"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.Json().at("error").at("param").as_string(), "messages");
  FakeWriter no_model =
      Post(sim, "/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(no_model.status, 400);
  FakeWriter bad_max = Post(sim, "/v1/chat/completions", Chat("m", "x", R"("max_tokens":0)"));
  EXPECT_EQ(bad_max.Json().at("error").at("code").as_string(), "integer_below_min_value");
  FakeWriter bad_header =
      Post(sim, "/v1/chat/completions", Chat("m", "x"), {{"x-sim-ttft-ms", "abc"}});
  EXPECT_EQ(bad_header.status, 400);
  FakeWriter unknown = Post(sim, "/v1/nothing", "{}");
  EXPECT_EQ(unknown.status, 404);
  FakeWriter wrong_method =
      RunRequest(sim, simtest::MakeRequest("GET", "/v1/chat/completions", ""));
  EXPECT_EQ(wrong_method.status, 405);
}

TEST(SimulatorTest, FailRateIsExactAndEvenlySpread) {
  SimOptions o;
  o.fail_rate = 0.3;
  o.fail_status = 503;
  o.retry_after_s = 2;
  Simulator sim(o);
  std::vector<int> statuses;
  for (int i = 0; i < 100; ++i) {
    statuses.push_back(Post(sim, "/v1/chat/completions", Chat("sim/echo", "x")).status);
  }
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 503), 30);
  for (int block = 0; block < 10; ++block) {
    EXPECT_EQ(std::count(statuses.begin() + block * 10, statuses.begin() + block * 10 + 10, 503),
              3);
  }
  FakeWriter last_fail;
  sim.Reset();
  for (int i = 0; i < 4; ++i) {
    FakeWriter w = Post(sim, "/v1/chat/completions", Chat("sim/echo", "x"));
    if (w.status == 503) last_fail = w;
  }
  EXPECT_EQ(last_fail.headers.Get("retry-after"), "2");
  EXPECT_EQ(last_fail.Json().at("error").at("code").as_string(), "service_unavailable");
}

TEST(SimulatorTest, SeededFailRateIsReproducible) {
  SimOptions o;
  o.fail_rate = 0.5;
  o.seed = 42;
  Simulator a(o), b(o);
  int fails = 0;
  for (int i = 0; i < 200; ++i) {
    int sa = Post(a, "/v1/chat/completions", Chat("sim/echo", "x")).status;
    int sb = Post(b, "/v1/chat/completions", Chat("sim/echo", "x")).status;
    EXPECT_EQ(sa, sb);
    fails += sa == 500;
  }
  EXPECT_GT(fails, 60);
  EXPECT_LT(fails, 140);
}

TEST(SimulatorTest, RpmWindowWithInjectedClock) {
  using namespace std::chrono_literals;
  auto now = std::chrono::steady_clock::time_point(1000s);  // 20 s before the window ends
  SimOptions o;
  o.rpm = 3;
  Simulator sim(o, [&now] { return now; });
  for (int i = 0; i < 3; ++i) {
    FakeWriter w = Post(sim, "/v1/chat/completions", Chat("sim/echo", "x"));
    ASSERT_EQ(w.status, 200);
    EXPECT_EQ(w.headers.Get("x-ratelimit-limit-requests"), "3");
    EXPECT_EQ(w.headers.Get("x-ratelimit-remaining-requests"), std::to_string(2 - i));
    EXPECT_EQ(w.headers.Get("x-ratelimit-reset-requests"), "20s");
    EXPECT_FALSE(w.headers.Has("x-ratelimit-limit-tokens"));
  }
  now += 5500ms;
  FakeWriter limited = Post(sim, "/v1/chat/completions", Chat("sim/echo", "x"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers.Get("retry-after"), "15");
  EXPECT_EQ(limited.headers.Get("x-ratelimit-reset-requests"), "14.5s");
  EXPECT_EQ(limited.headers.Get("x-ratelimit-remaining-requests"), "0");
  const json::value& e = limited.Json().at("error");
  EXPECT_EQ(e.at("code").as_string(), "rate_limit_exceeded");
  EXPECT_EQ(e.at("type").as_string(), "requests");
  EXPECT_NE(e.at("message").as_string().find("Please try again in 14.5s."), json::string::npos);
  now += 14500ms;  // next window
  EXPECT_EQ(Post(sim, "/v1/chat/completions", Chat("sim/echo", "x")).status, 200);
}

TEST(SimulatorTest, TpmCountsPromptPlusMaxTokens) {
  using namespace std::chrono_literals;
  auto now = std::chrono::steady_clock::time_point(0s);
  SimOptions o;
  o.tpm = 100;
  o.window = 10s;
  Simulator sim(o, [&now] { return now; });
  // "x": 1 + 4 = 5 prompt tokens, + max_tokens 40 = 45 per request.
  std::string body = Chat("sim/echo", "x", R"("max_tokens":40)");
  FakeWriter a = Post(sim, "/v1/chat/completions", body);
  EXPECT_EQ(a.headers.Get("x-ratelimit-remaining-tokens"), "55");
  EXPECT_EQ(Post(sim, "/v1/chat/completions", body).status, 200);
  FakeWriter c = Post(sim, "/v1/chat/completions", body);
  EXPECT_EQ(c.status, 429);
  EXPECT_EQ(c.Json().at("error").at("type").as_string(), "tokens");
  EXPECT_EQ(c.headers.Get("x-ratelimit-reset-tokens"), "10s");
  // Without max_tokens the generated length counts: echo "x" -> 1 token, 5 + 1 = 6 fits in 10.
  EXPECT_EQ(Post(sim, "/v1/chat/completions", Chat("sim/echo", "x")).status, 200);
  now += 10s;
  EXPECT_EQ(Post(sim, "/v1/chat/completions", body).status, 200);
}

TEST(SimulatorTest, StatsCountPathsModelsStatusesAndReset) {
  Simulator sim({});
  (void)Post(sim, "/v1/chat/completions", Chat("sim/echo", "x"));
  (void)Post(sim, "/deepseek/v1/chat/completions", Chat("deepseek-chat", "x"));
  (void)Post(sim, "/deepseek/v1/chat/completions", Chat("deepseek-chat", "x"),
             {{"x-sim-status", "500"}});
  (void)Post(sim, "/v1/chat/completions", "{bad");
  (void)Post(sim, "/azure/openai/deployments/dep1/chat/completions?api-version=2024-06-01",
             R"({"messages":[{"role":"user","content":"x"}]})");
  (void)RunRequest(sim, simtest::MakeRequest("GET", "/v1/models", ""));
  FakeWriter stats = RunRequest(sim, simtest::MakeRequest("GET", "/sim/stats", ""));
  ASSERT_EQ(stats.status, 200);
  json::value v = stats.Json();
  EXPECT_EQ(Int(v, {"total"}), 4);  // the unparsable body and /v1/models are not in total
  EXPECT_EQ(Int(v, {"by_path", "/v1/chat/completions"}), 2);
  EXPECT_EQ(Int(v, {"by_path", "/deepseek/v1/chat/completions"}), 2);
  EXPECT_EQ(Int(v, {"by_path", "/azure/openai/deployments/dep1/chat/completions"}), 1);
  EXPECT_EQ(Int(v, {"by_path", "/v1/models"}), 1);
  EXPECT_EQ(Int(v, {"by_model", "deepseek-chat"}), 2);
  EXPECT_EQ(Int(v, {"by_model", "sim/echo"}), 1);
  EXPECT_EQ(Int(v, {"by_model", "dep1"}), 1);
  EXPECT_EQ(Int(v, {"by_status", "200"}), 4);  // 3 completions + /v1/models
  EXPECT_EQ(Int(v, {"by_status", "500"}), 1);
  EXPECT_EQ(Int(v, {"by_status", "400"}), 1);
  EXPECT_EQ(v.at("by_path").as_object().size(), 4u);  // /sim/* is not counted

  FakeWriter reset = RunRequest(sim, simtest::MakeRequest("POST", "/sim/reset", ""));
  EXPECT_EQ(reset.status, 200);
  json::value zero = json::parse(sim.StatsJson());
  EXPECT_EQ(Int(zero, {"total"}), 0);
  EXPECT_TRUE(zero.at("by_path").as_object().empty());
  EXPECT_TRUE(zero.at("by_status").as_object().empty());
  // Ids restart after a reset.
  EXPECT_EQ(Post(sim, "/v1/chat/completions", Chat("sim/echo", "x")).Json().at("id").as_string(),
            "chatcmpl-sim-1");
}

TEST(SimulatorTest, ResetHeaderClosesBeforeHeaders) {
  Simulator sim({});
  FakeWriter w = Post(sim, "/v1/chat/completions", Chat("sim/echo", "x"), {{"x-sim-reset", "1"}});
  EXPECT_EQ(w.status, 0);
  EXPECT_FALSE(w.started());
  EXPECT_TRUE(w.aborted);
  EXPECT_EQ(Int(json::parse(sim.StatsJson()), {"resets"}), 1);
}

TEST(SimulatorTest, RequireKey) {
  SimOptions o;
  o.require_key = "sk-test";
  Simulator sim(o);
  EXPECT_EQ(Post(sim, "/v1/chat/completions", Chat("m", "x")).status, 401);
  EXPECT_EQ(
      Post(sim, "/v1/chat/completions", Chat("m", "x"), {{"authorization", "Bearer nope"}}).status,
      401);
  EXPECT_EQ(Post(sim, "/v1/chat/completions", Chat("m", "x"), {{"Authorization", "Bearer sk-test"}})
                .status,
            200);
  EXPECT_EQ(Post(sim, "/azure/openai/deployments/d/chat/completions?api-version=2024-10-21",
                 Chat("m", "x"), {{"api-key", "sk-test"}})
                .status,
            200);
}

TEST(SimulatorTest, ConcurrentHandlersKeepExactCounts) {
  SimOptions o;
  o.fail_rate = 0.25;
  Simulator sim(o);
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&sim, &failures] {
      for (int i = 0; i < kPerThread; ++i) {
        if (Post(sim, "/v1/chat/completions", Chat("sim/echo", "x")).status != 200) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  json::value v = json::parse(sim.StatsJson());
  EXPECT_EQ(Int(v, {"total"}), kThreads * kPerThread);
  EXPECT_EQ(failures.load(), kThreads * kPerThread / 4);
  EXPECT_EQ(Int(v, {"by_status", "500"}), kThreads * kPerThread / 4);
}

}  // namespace
}  // namespace modelmux::sim
