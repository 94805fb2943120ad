// The conformance matrix: caller dialect (OpenAI Chat Completions, Anthropic Messages) x every
// upstream dialect modelmux speaks x {text, image, tools} x {streamed, not}, through one gateway
// in front of one `modelmux sim` that speaks every dialect at the provider's own paths.
//
// For every cell: an echo model answers the caller's own text (an oracle independent of the
// simulator's text generator), the streamed and non-streamed answers of the same request agree
// on text, tool call, finish reason and usage, and the upstream was reached in its own dialect
// (its path counted by the simulator). An upstream that cannot take images refuses them with a
// 400 in the caller's dialect naming the content, and nothing is sent upstream.

#include <gtest/gtest.h>

#include <tuple>

#include "answers.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 20s;

enum class Caller { kOpenAi, kAnthropic };

struct UpstreamCase {
  std::string name;        // test name part
  std::string provider;    // provider name in the config
  std::string yaml;        // its block under `providers:` ({SIM} = the simulator's base URL)
  std::string echo_model;  // as the caller names it
  std::string model;       // a generating model
  std::string path_part;   // a fragment of the upstream path the simulator counts
  bool images = true;
  bool tools = true;
};

std::vector<UpstreamCase> Upstreams() {
  return {
      {"OpenAi", "oa", "    type: openai\n    base_url: \"{SIM}/v1\"\n    api_key: k-oa\n",
       "oa/gpt-echo-1", "oa/gpt-4o-mini", "/v1/chat/completions"},
      {"Anthropic", "claude",
       "    type: anthropic\n    base_url: \"{SIM}\"\n    api_key: k-claude\n",
       "claude/claude-echo-1", "claude/claude-sonnet-4-5", "/v1/messages"},
      {"Gemini", "gem", "    type: gemini\n    base_url: \"{SIM}\"\n    api_key: k-gem\n",
       "gem/gemini-echo", "gem/gemini-2.0-flash", "/models/gemini"},
      {"QianfanLegacy", "qf",
       "    type: qianfan\n    base_url: \"{SIM}\"\n    api_key: k-qf\n    secret_key: s-qf\n",
       "qf/ernie-echo", "qf/ernie-4.0-8k", "/wenxinworkshop/chat/", /*images=*/false},
      {"DashScopeNative", "ds", "    type: dashscope\n    base_url: \"{SIM}\"\n    api_key: k-ds\n",
       "ds/qwen-echo", "ds/qwen-plus", "/api/v1/services/aigc/"},
      {"Bedrock", "br",
       "    type: bedrock\n    base_url: \"{SIM}\"\n    region: us-east-1\n"
       "    api_key: AKIDSIMULATOR\n    secret_key: sim-secret\n",
       "br/anthropic.claude-echo-v1:0", "br/anthropic.claude-3-5-sonnet-20240620-v1:0", "/model/"},
      {"Azure", "az", "    type: azure\n    base_url: \"{SIM}/azure\"\n    api_key: k-az\n",
       "az/gpt-echo-1", "az/gpt-4o-mini", "/azure/openai/deployments/"},
      {"Zhipu", "zp",
       "    type: zhipu\n    base_url: \"{SIM}/zhipu/api/paas/v4\"\n    api_key: zid.zsecret\n",
       "zp/glm-echo", "zp/glm-4-flash", "/zhipu/api/paas/v4/"},
      {"DeepSeek", "dsk",
       "    type: deepseek\n    base_url: \"{SIM}/deepseek/v1\"\n    api_key: k-dsk\n",
       "dsk/deepseek-echo", "dsk/deepseek-chat", "/deepseek/", /*images=*/false},
      {"HunyuanNative", "hy",
       "    type: hunyuan\n    base_url: \"{SIM}\"\n"
       "    api_key: AKIDsimHUNYUAN0000000000000000000000\n"
       "    secret_key: simHunyuanSecretKey0000000000000\n",
       "hy/hunyuan-echo", "hy/hunyuan-lite", "="},
      {"OllamaNative", "ol", "    type: ollama\n    base_url: \"{SIM}/ollama\"\n", "ol/llama-echo",
       "ol/llama3.1", "/ollama/api/chat"},
  };
}

std::string Replace(std::string s, std::string_view from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

class Conformance : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim());
    std::string yaml = "providers:\n";
    for (const auto& u : Upstreams()) {
      yaml += "  " + u.provider + ":\n" + Replace(u.yaml, "{SIM}", sim_->base_url);
    }
    gateway_ = new Service(StartGateway({"--config", dir_->Write("modelmux.yaml", yaml)}));
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete sim_;
    delete dir_;
    gateway_ = sim_ = nullptr;
    dir_ = nullptr;
  }

  static Answer Call(Caller c, std::string_view model, std::string_view prompt, Kind kind,
                     bool stream) {
    const std::string& base = gateway_->base_url;
    if (c == Caller::kOpenAi) {
      return FromOpenAi(Http("POST", base + "/v1/chat/completions",
                             OpenAiBody(model, prompt, kind, stream), {}, kTimeout),
                        stream);
    }
    return FromAnthropic(
        Http("POST", base + "/v1/messages", AnthropicBody(model, prompt, kind, stream),
             {{"anthropic-version", "2023-06-01"}}, kTimeout),
        stream);
  }

  // Calls the simulator counted on paths containing `part` ("=/x": exactly the path /x; "=" alone:
  // the path "/").
  static int64_t SimCalls(std::string_view part) {
    json::value v = ParseJson(Http("GET", sim_->base_url + "/sim/stats", "", {}, kTimeout).body);
    if (!v.is_object()) return -1;
    int64_t n = 0;
    const bool exact = part.starts_with('=');
    const std::string want = exact && part.size() == 1 ? "/" : std::string(part.substr(exact));
    for (const auto& [path, count] : v.at("by_path").get_object()) {
      if (exact ? std::string_view(path) == want
                : std::string_view(path).find(part) != std::string_view::npos) {
        n += count.to_number<int64_t>();
      }
    }
    return n;
  }

  static TempDir* dir_;
  static Service* sim_;
  static Service* gateway_;
};
TempDir* Conformance::dir_ = nullptr;
Service* Conformance::sim_ = nullptr;
Service* Conformance::gateway_ = nullptr;

using Cell = std::tuple<Caller, size_t, Kind>;

class ConformanceMatrix : public Conformance, public ::testing::WithParamInterface<Cell> {};

void ExpectSameAnswer(const Answer& plain, const Answer& streamed) {
  EXPECT_EQ(streamed.text, plain.text) << streamed.raw;
  EXPECT_EQ(streamed.tool_name, plain.tool_name) << streamed.raw;
  EXPECT_EQ(streamed.tool_args, plain.tool_args) << streamed.raw;
  EXPECT_EQ(streamed.finish, plain.finish) << streamed.raw;
  EXPECT_EQ(streamed.prompt_tokens, plain.prompt_tokens) << streamed.raw;
  EXPECT_EQ(streamed.completion_tokens, plain.completion_tokens) << streamed.raw;
  EXPECT_TRUE(streamed.terminated) << streamed.raw;
  EXPECT_TRUE(streamed.error_type.empty()) << streamed.raw;
}

TEST_P(ConformanceMatrix, StreamedAndWholeAgreeAndReachTheUpstreamInItsDialect) {
  auto [caller, index, kind] = GetParam();
  const UpstreamCase u = Upstreams()[index];
  const int64_t before = SimCalls(u.path_part);

  if (kind == Kind::kImage && !u.images) {
    for (bool stream : {false, true}) {
      Answer a = Call(caller, u.echo_model, "What is in this picture?", kind, stream);
      EXPECT_EQ(a.status, 400) << a.raw;
      EXPECT_FALSE(a.error_type.empty()) << a.raw;
      EXPECT_NE(a.raw.find("image"), std::string::npos) << a.raw;
    }
    EXPECT_EQ(SimCalls(u.path_part), before) << "an unsupported image was sent upstream";
    return;
  }
  if (kind == Kind::kTools && !u.tools) GTEST_SKIP() << u.name << " has no tools";

  int64_t expected_calls = 0;
  if (kind != Kind::kTools) {
    // Echo: the answer is the caller's own text, whatever the dialects in between.
    const std::string prompt = "Translate me faithfully: ünïcödé, 中文, \"quotes\" and \\ too";
    Answer text_only;
    for (bool stream : {false, true}) {
      SCOPED_TRACE(stream ? "echo, streamed" : "echo");
      Answer a = Call(caller, u.echo_model, prompt, kind, stream);
      ASSERT_EQ(a.status, 200) << a.raw;
      // The simulator states what media reached it: the 1x1 PNG, unchanged (it fits everyone).
      EXPECT_EQ(a.text, kind == Kind::kImage ? TinyPngLine() + prompt : prompt) << a.raw;
      EXPECT_EQ(a.finish, "stop") << a.raw;
      EXPECT_TRUE(a.error_type.empty()) << a.raw;
      ++expected_calls;
      if (!stream) text_only = a;
    }
    if (kind == Kind::kImage) {
      // The image reached the upstream: it costs prompt tokens there.
      Answer no_image = Call(caller, u.echo_model, prompt, Kind::kText, false);
      ++expected_calls;
      ASSERT_EQ(no_image.status, 200) << no_image.raw;
      EXPECT_GT(text_only.prompt_tokens, no_image.prompt_tokens) << text_only.raw;
    }
  }

  const std::string prompt = kind == Kind::kTools ? "please call_tool for the weather in Lisbon"
                                                  : "Tell me something about rivers";
  Answer plain = Call(caller, u.model, prompt, kind, false);
  Answer streamed = Call(caller, u.model, prompt, kind, true);
  expected_calls += 2;
  ASSERT_EQ(plain.status, 200) << plain.raw;
  ASSERT_EQ(streamed.status, 200) << streamed.raw;
  ExpectSameAnswer(plain, streamed);
  EXPECT_GT(plain.prompt_tokens, 0) << plain.raw;
  EXPECT_GT(plain.completion_tokens, 0) << plain.raw;
  if (kind == Kind::kTools) {
    EXPECT_EQ(plain.tool_name, "search") << plain.raw;
    EXPECT_EQ(plain.tool_args, (json::value(json::object{{"query", prompt}}))) << plain.raw;
    EXPECT_EQ(plain.finish, "tool") << plain.raw;
  } else {
    EXPECT_FALSE(plain.text.empty()) << plain.raw;
    EXPECT_EQ(plain.finish, "stop") << plain.raw;
  }
  EXPECT_EQ(SimCalls(u.path_part) - before, expected_calls);
}

std::string CellName(const ::testing::TestParamInfo<Cell>& info) {
  auto [c, u, k] = info.param;
  const char* kinds[] = {"Text", "Image", "Tools"};
  return std::string(c == Caller::kOpenAi ? "OpenAiCaller_" : "AnthropicCaller_") +
         Upstreams()[u].name + "_" + kinds[static_cast<int>(k)];
}

std::vector<size_t> AllUpstreams() {
  std::vector<size_t> v(Upstreams().size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

INSTANTIATE_TEST_SUITE_P(All, ConformanceMatrix,
                         ::testing::Combine(::testing::Values(Caller::kOpenAi, Caller::kAnthropic),
                                            ::testing::ValuesIn(AllUpstreams()),
                                            ::testing::Values(Kind::kText, Kind::kImage,
                                                              Kind::kTools)),
                         CellName);

}  // namespace
}  // namespace modelmux::testing
