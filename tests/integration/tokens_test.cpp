// POST /utils/token_counter and `modelmux tokens`: exact counts for OpenAI models (o200k_base for
// gpt-4o, with OpenAI's chat framing for messages), estimates for other models (Qwen), OpenAI-style
// 400s naming the field at fault, no provider needed (nothing is configured but the simulator),
// and the CLI's count and Chinese sentence split on a file.

#include <gtest/gtest.h>

#include <regex>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 15s;
// Two Chinese sentences: "The weather is nice today. Let's go to the park!"
constexpr std::string_view kChinese = "今天天气很好。我们去公园吧！";
constexpr std::string_view kFirst = "今天天气很好。";
constexpr std::string_view kSecond = "我们去公园吧！";

Service& Gateway() {
  static Service s = StartGateway();  // no provider keys: only the simulator is configured
  return s;
}

HttpResult Count(const std::string& body) {
  return Http("POST", Gateway().base_url + "/utils/token_counter", body,
              {{"content-type", "application/json"}}, kTimeout);
}

json::object CountOk(const std::string& body) {
  HttpResult r = Count(body);
  EXPECT_EQ(r.status, 200) << body << " -> " << r.body;
  json::value v = ParseJson(r.body);
  if (!v.is_object()) {
    ADD_FAILURE() << r.body;
    return {};
  }
  return v.get_object();
}

int64_t Tokens(const json::object& o) {
  const json::value* v = o.if_contains("tokens");
  return v && v->is_int64() ? v->get_int64() : -1;
}

bool Exact(const json::object& o) {
  const json::value* v = o.if_contains("exact");
  return v && v->is_bool() && v->get_bool();
}

std::string TextBody(std::string_view model, std::string_view text) {
  return json::serialize(json::object{{"model", model}, {"text", text}});
}

TEST(TokenCounter, TextForGpt4oIsExactO200k) {
  // "hello world" is [24912, 2375] in o200k_base (OpenAI's tiktoken).
  json::object o = CountOk(TextBody("gpt-4o", "hello world"));
  EXPECT_EQ(Tokens(o), 2);
  EXPECT_TRUE(Exact(o));
  EXPECT_EQ(Str(o["encoding"]), "o200k_base");

  // A provider prefix is ignored, and the model needs no provider configured.
  o = CountOk(TextBody("openai/gpt-4o", "hello world"));
  EXPECT_EQ(Tokens(o), 2);
  EXPECT_EQ(Str(o["encoding"]), "o200k_base");

  // "tiktoken is great!" is 6 tokens in cl100k_base (OpenAI's README).
  o = CountOk(TextBody("gpt-4", "tiktoken is great!"));
  EXPECT_EQ(Tokens(o), 6);
  EXPECT_TRUE(Exact(o));
  EXPECT_EQ(Str(o["encoding"]), "cl100k_base");
}

TEST(TokenCounter, MessagesForGpt4oUseOpenAiFraming) {
  // system "You are a helpful assistant." (6 tokens) and user "hello world" (2): each message
  // 3 + role (1) + content, plus 3 priming the reply: (3+1+6) + (3+1+2) + 3 = 19.
  const std::string body = R"({"model":"gpt-4o","messages":[
      {"role":"system","content":"You are a helpful assistant."},
      {"role":"user","content":"hello world"}]})";
  json::object o = CountOk(body);
  EXPECT_EQ(Tokens(o), 19);
  EXPECT_TRUE(Exact(o));
  EXPECT_EQ(Str(o["encoding"]), "o200k_base");

  // Content given as parts counts the same.
  o = CountOk(R"({"model":"gpt-4o","messages":[
      {"role":"system","content":[{"type":"text","text":"You are a helpful assistant."}]},
      {"role":"user","content":"hello world"}]})");
  EXPECT_EQ(Tokens(o), 19);

  // Tool definitions add their JSON text and make the count approximate.
  o = CountOk(R"({"model":"gpt-4o","messages":[{"role":"user","content":"hello world"}],
      "tools":[{"type":"function","function":{"name":"get_weather","parameters":{}}}]})");
  EXPECT_GT(Tokens(o), 3 + 1 + 2 + 3);
  EXPECT_FALSE(Exact(o));
  EXPECT_EQ(Str(o["encoding"]), "o200k_base");
}

TEST(TokenCounter, QwenIsAnEstimate) {
  json::object text = CountOk(TextBody("qwen-plus", kChinese));
  EXPECT_FALSE(Exact(text));
  EXPECT_EQ(Str(text["encoding"]), "estimate");
  // 12 ideographs and 2 full-width marks: at least one token per ideograph is conservative.
  EXPECT_GE(Tokens(text), 12);
  // The estimate does not under-count the exact o200k count of the same text.
  EXPECT_GE(Tokens(text), Tokens(CountOk(TextBody("gpt-4o", kChinese))));

  json::object chat = CountOk(json::serialize(json::object{
      {"model", "dashscope/qwen-max"},
      {"messages", json::array{json::object{{"role", "user"}, {"content", kChinese}}}}}));
  EXPECT_FALSE(Exact(chat));
  EXPECT_EQ(Str(chat["encoding"]), "estimate");
  EXPECT_GT(Tokens(chat), Tokens(text));  // framing on top of the text
}

struct BadCase {
  std::string body;
  std::string param;
  std::string code;
};

TEST(TokenCounter, BadRequestsAreOpenAi400sNamingTheField) {
  const std::vector<BadCase> cases = {
      {"not json", "", "invalid_json"},
      {R"(["gpt-4o"])", "", "invalid_json"},
      {R"({"text":"hi"})", "model", "missing_required_parameter"},
      {R"({"model":4,"text":"hi"})", "model", "invalid_type"},
      {R"({"model":"gpt-4o"})", "text", "missing_required_parameter"},
      {R"({"model":"gpt-4o","text":"hi","messages":[{"role":"user","content":"hi"}]})", "messages",
       "invalid_value"},
      {R"({"model":"gpt-4o","text":5})", "text", "invalid_type"},
      {R"({"model":"gpt-4o","messages":"hi"})", "messages", "invalid_type"},
      {R"({"model":"gpt-4o","messages":[{"role":"wizard","content":"hi"}]})", "messages[0].role",
       ""},
  };
  for (const auto& c : cases) {
    HttpResult r = Count(c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    json::value v = ParseJson(r.body);
    ASSERT_TRUE(v.is_object() && v.get_object().contains("error")) << r.body;
    const json::object& e = v.at("error").get_object();
    EXPECT_EQ(Str(e.at("type")), "invalid_request_error") << r.body;
    EXPECT_EQ(Str(e.at("param")), c.param) << c.body << " -> " << r.body;
    if (!c.code.empty()) {
      EXPECT_EQ(Str(e.at("code")), c.code) << c.body << " -> " << r.body;
    }
  }
}

TEST(TokenCounter, OnlyPostIsAllowed) {
  HttpResult r = Http("GET", Gateway().base_url + "/utils/token_counter", {}, {}, kTimeout);
  EXPECT_EQ(r.status, 405) << r.body;
  EXPECT_EQ(r.headers.Get("allow"), "POST");
}

// ---- modelmux tokens ------------------------------------------------------------------------

struct CliRun {
  int code = -1;
  std::vector<std::string> lines;  // stdout
  std::string err;
};

CliRun RunTokens(std::vector<std::string> args) {
  args.insert(args.begin(), "tokens");
  auto p = Process::Start(ModelmuxBin(), std::move(args));
  CliRun r;
  auto code = p->Wait(30s);
  EXPECT_TRUE(code.has_value()) << p->Describe();
  r.code = code.value_or(-1);
  r.lines = p->stdout_lines();
  r.err = p->stderr_tail();
  return r;
}

struct TempText {
  std::filesystem::path path;
  explicit TempText(std::string_view content) {
    path = std::filesystem::temp_directory_path() /
           ("modelmux-tokens-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".txt");
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempText() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

TEST(CliTokens, CountsAFileExactlyForGpt4o) {
  TempText f("hello world");
  CliRun r = RunTokens({f.path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 1u) << r.err;
  EXPECT_EQ(r.lines[0], "2 tokens (exact, o200k_base)");

  r = RunTokens({"--model", "gpt-3.5-turbo", "--json", f.path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 1u);
  json::value v = ParseJson(r.lines[0]);
  ASSERT_TRUE(v.is_object()) << r.lines[0];
  EXPECT_EQ(v.at("tokens").to_number<int64_t>(), 2);
  EXPECT_TRUE(v.at("exact").as_bool());
  EXPECT_EQ(Str(v.at("encoding")), "cl100k_base");
}

TEST(CliTokens, OtherModelsAreEstimates) {
  TempText f(kChinese);
  CliRun r = RunTokens({"--model", "qwen-plus", f.path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(r.lines[0], m, std::regex(R"((\d+) tokens \(estimate\))")))
      << r.lines[0];
  // The same number as the gateway's counter.
  EXPECT_EQ(std::stoll(m[1].str()), Tokens(CountOk(TextBody("qwen-plus", kChinese))));
}

TEST(CliTokens, SplitPrintsEachChineseSentenceWithItsCount) {
  TempText f(std::string(kChinese) + "\n");
  CliRun r = RunTokens({"--split", f.path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 3u) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(r.lines[0], m, std::regex(R"((\d+) tokens \(exact, o200k_base\))")))
      << r.lines[0];
  EXPECT_EQ(std::stoll(m[1].str()),
            Tokens(CountOk(TextBody("gpt-4o", std::string(kChinese) + "\n"))));
  const std::string_view want[] = {kFirst, kSecond};
  for (size_t i = 0; i < 2; ++i) {
    const std::string& line = r.lines[i + 1];
    const auto tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    EXPECT_EQ(line.substr(tab + 1), want[i]);
    const int64_t n = std::stoll(line.substr(0, tab));
    EXPECT_GT(n, 0) << line;
    EXPECT_EQ(n, Tokens(CountOk(TextBody("gpt-4o", want[i])))) << line;
  }

  r = RunTokens({"--split", "--json", "--model", "qwen-turbo", f.path.string()});
  ASSERT_EQ(r.code, 0) << r.err;
  json::value v = ParseJson(r.lines.empty() ? "" : r.lines[0]);
  ASSERT_TRUE(v.is_object());
  EXPECT_FALSE(v.at("exact").as_bool());
  const json::array& list = v.at("sentences").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(Str(list[0].at("text")), kFirst);
  EXPECT_EQ(Str(list[1].at("text")), kSecond);
}

TEST(CliTokens, MissingFileFailsWithUsageError) {
  CliRun r = RunTokens({"/nonexistent/modelmux-tokens.txt"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/nonexistent/modelmux-tokens.txt"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace modelmux::testing
