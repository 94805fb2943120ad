// Cost of each provider's usage shape, end to end (docs/OBSERVABILITY.md, "Cost"): `modelmux serve`
// in front of a `modelmux sim` speaking each provider's dialect, the sim told by x-sim-* headers
// what usage to report (docs/SIM.md), and the cost the gateway charged — x-modelmux-cost on the
// whole answer and cost_micros in the streamed request's ledger row — against a figure computed
// here by hand from list prices written in this file (not read from data/prices.yaml).
#include <gtest/gtest.h>

#include <map>

#include "gateway_it.hpp"
#include "store/sqlite.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 30s;
constexpr int64_t kVisible = 50;  // x-sim-output-tokens: the visible reply's tokens

// List prices in micro-units per 1M tokens, copied by hand from the providers' price lists.
struct Prices {
  int64_t input, cached, cache_write, output;
};

// What the sim is told to report, in the normalised shape (prompt includes the cache reads and
// writes, completion includes the reasoning tokens).
struct Shape {
  int64_t prompt = 0, cached = 0, cache_write = 0, reasoning = 0;
};

// sum(tokens x price) / 1M, rounded half up once, as docs/OBSERVABILITY.md says.
int64_t ByHand(const Shape& s, const Prices& p) {
  const int64_t fresh = s.prompt - s.cached - s.cache_write;
  const int64_t completion = kVisible + s.reasoning;
  const int64_t scaled =
      fresh * p.input + s.cached * p.cached + s.cache_write * p.cache_write + completion * p.output;
  return (scaled + 500'000) / 1'000'000;
}

struct Case {
  const char* name;
  const char* model;     // provider/model as the caller names it
  const char* currency;  // "USD" / "CNY"
  Shape shape;
  Prices prices;
  int64_t expected;  // micro-units, worked out in the comment beside each case
};

std::vector<Case> Cases() {
  return {
      // o4-mini $1.10 / cached $0.275 / $4.40: 10000 x 1.10 + 2345 x 0.275 + (50 + 777) x 4.40
      // = 11000 + 644.875 + 3638.8 = 15283.675 -> 15284.
      {"OpenAiReasoningAndCachedPrompt",
       "oa/o4-mini",
       "USD",
       {12345, 2345, 0, 777},
       {1'100'000, 275'000, 1'100'000, 4'400'000},
       15284},
      // Claude Sonnet 4.5 $3 / read $0.30 / write (5 min) $3.75 / $15: 3000 x 3 + 12000 x 0.30 +
      // 5000 x 3.75 + (50 + 100) x 15 = 9000 + 3600 + 18750 + 2250 = 33600.
      {"AnthropicCacheReadAndWrite",
       "claude/claude-sonnet-4-5-20250929",
       "USD",
       {20000, 12000, 5000, 100},
       {3'000'000, 300'000, 3'750'000, 15'000'000},
       33600},
      // Gemini 2.5 Flash $0.30 / cached $0.03 / $2.50 (thoughts billed as output): 20000 x 0.30 +
      // 30000 x 0.03 + (50 + 1000) x 2.50 = 6000 + 900 + 2625 = 9525.
      {"GeminiThoughtsAndCachedContent",
       "gem/gemini-2.5-flash",
       "USD",
       {50000, 30000, 0, 1000},
       {300'000, 30'000, 300'000, 2'500'000},
       9525},
      // Gemini 2.5 Pro at its 200k boundary (base tier $1.25 / $0.125 / $10): 150000 x 1.25 +
      // 50000 x 0.125 + 2050 x 10 = 187500 + 6250 + 20500 = 214250.
      {"GeminiProAtTheTierBoundary",
       "gem/gemini-2.5-pro",
       "USD",
       {200000, 50000, 0, 2000},
       {1'250'000, 125'000, 1'250'000, 10'000'000},
       214250},
      // One token over it: every token at the upper tier ($2.50 / $0.25 / $15): 150001 x 2.50 +
      // 50000 x 0.25 + 2050 x 15 = 375002.5 + 12500 + 30750 = 418252.5 -> 418253.
      {"GeminiProAboveTheTierBoundary",
       "gem/gemini-2.5-pro",
       "USD",
       {200001, 50000, 0, 2000},
       {2'500'000, 250'000, 2'500'000, 15'000'000},
       418253},
      // DeepSeek chat $0.28 / cache hit $0.028 / $0.42 (prompt_cache_hit_tokens): 2000 x 0.28 +
      // 7000 x 0.028 + 50 x 0.42 = 560 + 196 + 21 = 777.
      {"DeepSeekCacheHit",
       "dsk/deepseek-chat",
       "USD",
       {9000, 7000, 0, 0},
       {280'000, 28'000, 280'000, 420'000},
       777},
      // Claude Haiku 4.5 on Bedrock, cross-region id, priced as Anthropic direct ($1 / read $0.10
      // / write $1.25 / $5): 2000 x 1 + 4000 x 0.10 + 2000 x 1.25 + 50 x 5 = 2000 + 400 + 2500 +
      // 250 = 5150.
      {"BedrockClaudeCacheReadAndWrite",
       "br/us.anthropic.claude-haiku-4-5-20251001-v1:0",
       "USD",
       {8000, 4000, 2000, 0},
       {1'000'000, 100'000, 1'250'000, 5'000'000},
       5150},
      // Azure deployment named after a dated OpenAI snapshot, priced as gpt-4o ($2.50 / cached
      // $1.25 / $10): 600 x 2.50 + 400 x 1.25 + 50 x 10 = 1500 + 500 + 500 = 2500.
      {"AzurePricedAsOpenAi",
       "az/gpt-4o-2024-08-06",
       "USD",
       {1000, 400, 0, 0},
       {2'500'000, 1'250'000, 2'500'000, 10'000'000},
       2500},
      // GLM-4.5 on DashScope China in CNY, input tier above 32768 tokens (CNY 4 / 16 instead of
      // 3 / 14): 40000 x 4 + 50 x 16 = 160000 + 800 = 160800 micro-CNY.
      {"DashScopeCnyAboveTheInputTier",
       "dashscope-cn/glm-4.5",
       "CNY",
       {40000, 0, 0, 0},
       {4'000'000, 4'000'000, 4'000'000, 16'000'000},
       160800},
      // Qwen-Plus on DashScope China (CNY 0.80 / 2.00, no cached price: cached tokens at input;
      // thinking at output): 3000 x 0.80 + (50 + 100) x 2 = 2400 + 300 = 2700 micro-CNY.
      {"DashScopeCnyCachedAndThinking",
       "dashscope-cn/qwen-plus",
       "CNY",
       {3000, 1000, 0, 100},
       {800'000, 800'000, 800'000, 2'000'000},
       2700},
  };
}

std::string Config(const Service& sim) {
  const std::string& s = sim.base_url;
  return "providers:\n"
         "  oa: {type: openai, base_url: \"" +
         s +
         "/v1\", api_key: k-oa}\n"
         "  claude: {type: anthropic, base_url: \"" +
         s +
         "\", api_key: k-claude}\n"
         "  gem: {type: gemini, base_url: \"" +
         s +
         "\", api_key: k-gem}\n"
         "  dsk: {type: deepseek, base_url: \"" +
         s +
         "/deepseek/v1\", api_key: k-dsk}\n"
         "  br: {type: bedrock, base_url: \"" +
         s +
         "\", region: us-east-1, "
         "api_key: AKIDSIMULATOR, secret_key: sim-secret}\n"
         "  az: {type: azure, base_url: \"" +
         s +
         "/azure\", api_key: k-az}\n"
         "  dashscope-cn: {type: dashscope, base_url: \"" +
         s +
         "\", api_key: k-ds}\n"
         "cache: {enabled: false}\n";
}

HeaderList SimHeaders(const Shape& s, const std::string& request_id) {
  return {{"x-request-id", request_id},
          {"x-sim-output-tokens", std::to_string(kVisible)},
          {"x-sim-prompt-tokens", std::to_string(s.prompt)},
          {"x-sim-cached-tokens", std::to_string(s.cached)},
          {"x-sim-cache-write-tokens", std::to_string(s.cache_write)},
          {"x-sim-reasoning-tokens", std::to_string(s.reasoning)}};
}

// "0.015284 USD" -> {15284, "USD"}.
std::pair<int64_t, std::string> HeaderCost(std::string_view v) {
  const size_t space = v.find(' ');
  if (space == std::string_view::npos) return {-1, std::string(v)};
  std::string num(v.substr(0, space));
  const size_t dot = num.find('.');
  std::string whole = num.substr(0, dot),
              frac = dot == std::string::npos ? "" : num.substr(dot + 1);
  frac.resize(6, '0');
  return {std::stoll(whole) * 1'000'000 + std::stoll(frac), std::string(v.substr(space + 1))};
}

struct LedgerRow {
  int64_t cost_micros = -1;  // -1: NULL
  std::string currency;
  int64_t prompt = 0, completion = 0, cached = 0, cache_write = 0, reasoning = 0;
  bool stream = false;
};

std::map<std::string, LedgerRow> ReadLedger(const std::string& path) {
  std::map<std::string, LedgerRow> rows;
  store::sqlite::OpenOptions read_only;
  read_only.read_only = true;
  auto db = store::sqlite::Open(path, read_only);
  EXPECT_TRUE(db.ok()) << path;
  if (!db.ok()) return rows;
  auto q = store::sqlite::Query::Prepare(
      db->get(),
      "SELECT request_id, cost_micros, currency, prompt_tokens, completion_tokens, cached_tokens, "
      "cache_write_tokens, reasoning_tokens, stream FROM requests");
  EXPECT_TRUE(q.ok());
  if (!q.ok()) return rows;
  while (true) {
    auto step = q->Step();
    if (!step.ok() || !*step) break;
    LedgerRow r;
    r.cost_micros = q->IsNull(1) ? -1 : q->Int(1);
    r.currency = q->IsNull(2) ? "" : q->Text(2);
    r.prompt = q->Int(3);
    r.completion = q->Int(4);
    r.cached = q->Int(5);
    r.cache_write = q->Int(6);
    r.reasoning = q->Int(7);
    r.stream = q->Int(8) != 0;
    rows[q->Text(0)] = r;
  }
  return rows;
}

TEST(Cost, EachProvidersUsageShapeAgainstHandComputedPrices) {
  // The hand computation itself, checked once against the figures in the comments.
  for (const Case& c : Cases()) EXPECT_EQ(ByHand(c.shape, c.prices), c.expected) << c.name;

  TempDir dir;
  Service sim = StartSim();
  const std::string data = (dir.path() / "data").string();
  Service gw =
      StartGateway({"--config", dir.Write("c.yaml", Config(sim))}, {{"MODELMUX_DATA_DIR", data}});
  const std::string url = gw.base_url + "/v1/chat/completions";

  int n = 0;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::string id = "cost-" + std::to_string(++n);
    HttpResult whole =
        Http("POST", url, ChatBody(c.model, "whole " + id), SimHeaders(c.shape, id), kTimeout);
    ASSERT_EQ(whole.status, 200) << whole.body;
    // The sim reported what it was told (the gateway answers in the OpenAI shape).
    const json::value usage = ParseJson(whole.body).at("usage");
    EXPECT_EQ(usage.at("prompt_tokens").to_number<int64_t>(), c.shape.prompt) << whole.body;
    EXPECT_EQ(usage.at("completion_tokens").to_number<int64_t>(), kVisible + c.shape.reasoning)
        << whole.body;
    const auto [micros, currency] = HeaderCost(whole.headers.Get("x-modelmux-cost"));
    EXPECT_EQ(micros, c.expected) << whole.headers.Get("x-modelmux-cost");
    EXPECT_EQ(currency, c.currency);

    StreamResult streamed =
        HttpStream("POST", url,
                   ChatBody(c.model, "streamed " + id,
                            R"("stream":true,"stream_options":{"include_usage":true})"),
                   SimHeaders(c.shape, id + "-s"), kTimeout);
    ASSERT_EQ(streamed.status, 200);
  }

  ASSERT_EQ(gw.process->Stop(), 0) << gw.process->Describe();  // drains and commits the ledger
  const auto rows = ReadLedger(data + "/ledger.db");
  n = 0;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const std::string id = "cost-" + std::to_string(++n);
    for (const std::string& rid : {id, id + "-s"}) {
      auto it = rows.find(rid);
      ASSERT_NE(it, rows.end()) << rid;
      const LedgerRow& r = it->second;
      EXPECT_EQ(r.stream, rid != id);
      EXPECT_EQ(r.cost_micros, c.expected) << rid;
      EXPECT_EQ(r.currency, c.currency) << rid;
      EXPECT_EQ(r.prompt, c.shape.prompt) << rid;
      EXPECT_EQ(r.completion, kVisible + c.shape.reasoning) << rid;
      EXPECT_EQ(r.cached, c.shape.cached) << rid;
      EXPECT_EQ(r.cache_write, c.shape.cache_write) << rid;
    }
  }
}

// telemetry.prices_file reaches every place that prices a call, not only the answer's cost: a
// key's budget admission estimates with it, so a call the override makes too dear for the budget
// is refused before it reaches the provider, while a model the override leaves alone is admitted.
TEST(Cost, AnOverridePriceReachesBudgetAdmission) {
  const std::string master = "mk-cost-test-master-0123456789abcdef0123";
  TempDir dir;
  Service sim = StartSim();
  const std::string prices = dir.Write("prices.yaml", R"(prices:
  - {provider: openai, model: gpt-4o-mini, currency: USD, input: "100000", output: "100000", source: test, effective: 2026-11-01}
)");
  const std::string config =
      dir.Write("c.yaml", "providers:\n  up: {type: openai, base_url: \"" + sim.base_url +
                              "/v1\", api_key: sk-test}\n"
                              "telemetry: {prices_file: \"" +
                              prices + "\"}\n");
  Service gw = StartGateway({"--config", config, "--data-dir", (dir.path() / "data").string()},
                            {{"MODELMUX_MASTER_KEY", master}});
  const NewKey k = CreateKey(gw, master, R"({"models":["*"],"budgets":{"total":"1"}})");
  ASSERT_FALSE(k.key.empty());
  // About 60 tokens at $0.10 each (the override): some $6, over the $1 budget.
  auto dear =
      Http("POST", gw.base_url + "/v1/chat/completions",
           ChatBody("up/gpt-4o-mini", "hello", R"("max_tokens":50)"), Bearer(k.key), kTimeout);
  EXPECT_EQ(dear.status, 403) << dear.body;
  EXPECT_EQ(ErrorCode(dear), "budget_exceeded") << dear.body;
  EXPECT_EQ(SimModelCalls(sim, "gpt-4o-mini"), 0);
  // gpt-4o at its built-in list price: a fraction of a cent.
  auto cheap = Http("POST", gw.base_url + "/v1/chat/completions",
                    ChatBody("up/gpt-4o", "hello", R"("max_tokens":50)"), Bearer(k.key), kTimeout);
  EXPECT_EQ(cheap.status, 200) << cheap.body;
  EXPECT_EQ(SimModelCalls(sim, "gpt-4o"), 1);
}

}  // namespace
}  // namespace modelmux::testing
