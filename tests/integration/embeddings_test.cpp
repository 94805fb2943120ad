// POST /v1/embeddings through the gateway to `modelmux sim` in every dialect that has embeddings
// here (OpenAI-compatible, Gemini batchEmbedContents, Qianfan legacy): the same text gives the
// same vector through each (and the same as the simulator says when asked directly, float for
// float), base64 answers decode to the same floats, bad input is an OpenAI-shaped 400 naming the
// parameter, a chat-only provider (Anthropic) is refused with embeddings_not_supported before any
// upstream call, upstream errors keep their status, and the metrics count the calls.

#include <gtest/gtest.h>

#include <cstring>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 15s;
constexpr const char* kModel = "embed-x";  // no per-model default size: 64 everywhere

struct EmbedSetup {
  Service sim;
  Service gateway;
  EmbedSetup() {
    sim = StartSim();
    gateway = StartGateway({}, {{"OPENAI_API_KEY", "sk-embed-test"},
                                {"OPENAI_BASE_URL", sim.base_url + "/v1"},
                                {"GEMINI_API_KEY", "gemini-embed-test"},
                                {"GEMINI_BASE_URL", sim.base_url},
                                {"QIANFAN_API_KEY", "qf-ak"},
                                {"QIANFAN_SECRET_KEY", "qf-sk"},
                                {"QIANFAN_BASE_URL", sim.base_url},
                                {"ANTHROPIC_API_KEY", "anthropic-embed-test"},
                                {"ANTHROPIC_BASE_URL", sim.base_url}});
  }
  HttpResult Embed(const std::string& body, HeaderList headers = {}) const {
    return Http("POST", gateway.base_url + "/v1/embeddings", body, std::move(headers), kTimeout);
  }
  int64_t SimTotal() const {
    json::value v = ParseJson(Http("GET", sim.base_url + "/sim/stats", {}, {}, kTimeout).body);
    return v.is_object() ? v.at("total").to_number<int64_t>() : -1;
  }
};

EmbedSetup& Shared() {
  static EmbedSetup s;  // one simulator and gateway for the file, stopped at exit
  return s;
}

std::string Body(std::string_view model, json::value input, std::string_view extra = {}) {
  std::string s = json::serialize(json::object{{"model", model}, {"input", std::move(input)}});
  if (!extra.empty()) {
    s.pop_back();
    s += ',';
    s += extra;
    s += '}';
  }
  return s;
}

std::vector<float> Floats(const json::value& v) {
  std::vector<float> out;
  if (!v.is_array()) return out;
  for (const json::value& x : v.get_array())
    out.push_back(static_cast<float>(x.to_number<double>()));
  return out;
}

std::vector<float> FromBase64(std::string_view text) {
  auto index = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (index(c) < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(index(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  std::vector<float> out(bytes.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t b = 0;
    for (int k = 0; k < 4; ++k) b |= uint32_t(static_cast<uint8_t>(bytes[i * 4 + k])) << (8 * k);
    std::memcpy(&out[i], &b, 4);
  }
  return out;
}

// The vectors of an OpenAI embeddings answer, in order.
std::vector<std::vector<float>> Vectors(const HttpResult& r) {
  std::vector<std::vector<float>> out;
  json::value v = ParseJson(r.body);
  EXPECT_TRUE(v.is_object()) << r.body;
  if (!v.is_object()) return out;
  EXPECT_EQ(Str(v.at("object")), "list");
  const json::array& data = v.at("data").as_array();
  for (size_t i = 0; i < data.size(); ++i) {
    EXPECT_EQ(Str(data[i].at("object")), "embedding");
    EXPECT_EQ(data[i].at("index").to_number<int64_t>(), static_cast<int64_t>(i));
    const json::value& e = data[i].at("embedding");
    out.push_back(e.is_string() ? FromBase64(e.get_string()) : Floats(e));
  }
  return out;
}

// A sample's value from the Prometheus text: the first line of `name` holding every label.
std::optional<double> Sample(const std::string& text, std::string_view name,
                             const std::vector<std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(std::string(name) + "{", 0) != 0) continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (!all) continue;
    return std::strtod(line.substr(line.rfind(' ') + 1).c_str(), nullptr);
  }
  return std::nullopt;
}

TEST(EmbeddingsIt, SameVectorThroughEveryDialect) {
  EmbedSetup& s = Shared();
  const json::array input{"the quick brown fox", "一只敏捷的狐狸"};
  auto direct = Http("POST", s.sim.base_url + "/v1/embeddings", Body(kModel, input), {}, kTimeout);
  ASSERT_EQ(direct.status, 200) << direct.body;
  const auto expected = Vectors(direct);
  ASSERT_EQ(expected.size(), 2u);
  ASSERT_EQ(expected[0].size(), 64u);
  ASSERT_NE(expected[0], expected[1]);
  for (std::string provider : {"openai", "gemini", "qianfan"}) {
    auto r = s.Embed(Body(provider + "/" + kModel, input));
    ASSERT_EQ(r.status, 200) << provider << ": " << r.body;
    EXPECT_EQ(Vectors(r), expected) << provider;
    json::value v = ParseJson(r.body);
    EXPECT_EQ(Str(v.at("model")), kModel) << provider;
    if (provider != "gemini") {  // Gemini reports no token counts
      EXPECT_GT(v.at("usage").at("prompt_tokens").to_number<int64_t>(), 0) << provider;
    }
  }
}

TEST(EmbeddingsIt, Base64AndDimensions) {
  EmbedSetup& s = Shared();
  auto floats = s.Embed(Body("openai/" + std::string(kModel), "hello", R"("dimensions":16)"));
  auto base64 = s.Embed(Body("gemini/" + std::string(kModel), "hello",
                             R"("dimensions":16,"encoding_format":"base64")"));
  ASSERT_EQ(floats.status, 200) << floats.body;
  ASSERT_EQ(base64.status, 200) << base64.body;
  EXPECT_TRUE(ParseJson(base64.body).at("data").at(0).at("embedding").is_string());
  auto a = Vectors(floats), b = Vectors(base64);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].size(), 16u);
  EXPECT_EQ(a, b);
}

TEST(EmbeddingsIt, BadInputIsAnOpenAi400) {
  EmbedSetup& s = Shared();
  const int64_t before = s.SimTotal();
  struct Case {
    std::string body, param;
  };
  for (const Case& c :
       {Case{Body("openai/e", json::array{1, 2, 3}), "input"}, Case{Body("openai/e", ""), "input"},
        Case{R"({"model":"openai/e"})", "input"},
        Case{Body("openai/e", "x", R"("stream":true)"), "stream"},
        Case{Body("openai/e", "x", R"("encoding_format":"int8")"), "encoding_format"}}) {
    auto r = s.Embed(c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    json::object err = ExpectOpenAiError(r.body);
    EXPECT_EQ(Str(err["param"]), c.param) << r.body;
    EXPECT_EQ(Str(err["type"]), "invalid_request_error") << r.body;
  }
  EXPECT_EQ(s.SimTotal(), before);  // nothing reached the upstream
}

TEST(EmbeddingsIt, ChatOnlyProviderIsRefused) {
  EmbedSetup& s = Shared();
  const int64_t before = s.SimTotal();
  auto r = s.Embed(Body("anthropic/claude-sonnet-4-5", "hello"));
  EXPECT_EQ(r.status, 400) << r.body;
  json::object err = ExpectOpenAiError(r.body);
  EXPECT_EQ(Str(err["code"]), "embeddings_not_supported") << r.body;
  EXPECT_EQ(Str(err["param"]), "model");
  EXPECT_EQ(s.SimTotal(), before);
  auto unknown = s.Embed(Body("nobody/model", "hello"));
  EXPECT_EQ(unknown.status, 404) << unknown.body;
}

TEST(EmbeddingsIt, UpstreamErrorsKeepTheirStatus) {
  EmbedSetup& s = Shared();
  for (std::string provider : {"openai", "gemini", "qianfan"}) {
    auto r = s.Embed(Body(provider + "/" + kModel, "x"), {{"x-sim-status", "429"}});
    EXPECT_EQ(r.status, 429) << provider << ": " << r.body;
    ExpectOpenAiError(r.body);
  }
  auto r = s.Embed(Body("openai/" + std::string(kModel), "x"), {{"x-sim-status", "503"}});
  EXPECT_EQ(r.status, 503) << r.body;
}

TEST(EmbeddingsIt, QianfanStaleTokenIsRetriedOnce) {
  EmbedSetup& s = Shared();
  const std::string path = "/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/" + std::string(kModel);
  auto count = [&s, &path] {
    json::value v = ParseJson(Http("GET", s.sim.base_url + "/sim/stats", {}, {}, kTimeout).body);
    const json::value* n = v.is_object() ? v.at("by_path").get_object().if_contains(path) : nullptr;
    return n != nullptr ? n->to_number<int64_t>() : 0;
  };
  const int64_t before = count();
  // x-sim-status 401 is error_code 110 (access token invalid) inside HTTP 200, on every attempt.
  auto r = s.Embed(Body("qianfan/" + std::string(kModel), "x"), {{"x-sim-status", "401"}});
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(count() - before, 2);  // the first call and one retry with a fresh token
}

TEST(EmbeddingsIt, MetricsCountCallsTokensAndCost) {
  // A gateway of its own, so the counts are exactly this test's.
  Service sim = StartSim();
  Service gw =
      StartGateway({}, {{"OPENAI_API_KEY", "sk-m"}, {"OPENAI_BASE_URL", sim.base_url + "/v1"}});
  const std::string url = gw.base_url + "/v1/embeddings";
  int64_t prompt = 0;
  // Long enough to cost whole micro-dollars at $0.02 per 1M tokens.
  for (const std::string& text : {std::string(4000, 'a'), std::string(2400, 'b')}) {
    auto r = Http("POST", url,
                  Body("openai/text-embedding-3-small", json::string(text), R"("dimensions":8)"),
                  {}, kTimeout);
    ASSERT_EQ(r.status, 200) << r.body;
    prompt += ParseJson(r.body).at("usage").at("prompt_tokens").to_number<int64_t>();
  }
  ASSERT_EQ(Http("POST", url, Body("openai/text-embedding-3-small", ""), {}, kTimeout).status, 400);
  // A request is counted after its answer left (on its own event loop): wait until all three are.
  std::string text;
  Eventually(
      [&] {
        text = Http("GET", gw.base_url + "/metrics", {}, {}, kTimeout).body;
        return Sample(text, "modelmux_requests_total", {R"(status="400")"}) == 1.0 &&
               Sample(text, "modelmux_requests_total", {R"(status="200")"}) == 2.0;
      },
      5s);
  const std::vector<std::string> labels = {R"(model="openai/text-embedding-3-small")",
                                           R"(provider="openai")"};
  auto with = [&](std::string extra) {
    auto l = labels;
    l.push_back(std::move(extra));
    return l;
  };
  EXPECT_EQ(Sample(text, "modelmux_requests_total", with(R"(status="200")")), 2.0) << text;
  EXPECT_EQ(Sample(text, "modelmux_requests_total", {R"(status="400")"}), 1.0) << text;
  EXPECT_EQ(Sample(text, "modelmux_tokens_total", with(R"(kind="prompt")")),
            static_cast<double>(prompt))
      << text;
  // $0.02 per 1M tokens (data/prices.yaml).
  auto cost = Sample(text, "modelmux_cost_total", with(R"(currency="USD")"));
  ASSERT_TRUE(cost.has_value()) << text;
  EXPECT_GT(*cost, 0.0);
  EXPECT_NEAR(*cost, static_cast<double>(prompt) * 0.02 / 1e6, 2e-6);  // each call rounds
}

}  // namespace
}  // namespace modelmux::testing
