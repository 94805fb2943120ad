#include "telemetry/price_table.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace modelmux::telemetry {
namespace {

const PriceTable& Table() {
  static const PriceTable table = [] {
    std::ifstream f(std::string(MODELMUX_SOURCE_DIR) + "/data/prices.yaml");
    std::stringstream ss;
    ss << f.rdbuf();
    auto t = PriceTable::Parse(ss.str());
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    return t.ok() ? std::move(t).value() : PriceTable();
  }();
  return table;
}

TEST(PriceTableTest, Gpt4oMiniWithCachedPrompt) {
  const ModelPrice* p = Table().Find("openai", "gpt-4o-mini");
  ASSERT_NE(p, nullptr);
  Usage u{1000, 500, 200, 0, 0};
  // 800 x $0.15/1M + 200 x $0.075/1M + 500 x $0.60/1M = $0.00012 + $0.000015 + $0.0003.
  auto c = Cost(*p, u);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->micros, 120 + 15 + 300);
  EXPECT_EQ(c->currency, Currency::kUsd);
  EXPECT_EQ(FormatMoney(*c), "$0.000435");
  // A dated snapshot name matches the glob.
  EXPECT_EQ(Table().Find("openai", "gpt-4o-mini-2024-07-18"), p);
}

TEST(PriceTableTest, ClaudeWithCacheWrite) {
  const ModelPrice* p = Table().Find("anthropic", "claude-sonnet-4-5-20250929");
  ASSERT_NE(p, nullptr);
  // prompt 10000 = 2000 fresh + 5000 cache read + 3000 cache write; 1000 output.
  // 2000x3.00 + 5000x0.30 + 3000x3.75 + 1000x15.00 = 6000+1500+11250+15000 = 33750 / 1M $.
  auto c = Cost(*p, Usage{10000, 1000, 5000, 3000, 0});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->micros, 33750);
  EXPECT_EQ(FormatMoney(*c), "$0.03375");
}

TEST(PriceTableTest, GeminiProTierAbove200k) {
  const ModelPrice* p = Table().Find("gemini", "gemini-2.5-pro");
  ASSERT_NE(p, nullptr);
  // At the boundary: base prices. 200000 x 1.25 + 1000 x 10 = 250000 + 10000 micro-$.
  EXPECT_EQ(Cost(*p, Usage{200000, 1000, 0, 0, 0})->micros, 260000);
  // Above: 250000 x 2.50 (incl. 50000 cached at 0.25) + 1000 x 15 (of which 400 thinking).
  // 200000 x 2.50 = 500000; 50000 x 0.25 = 12500; 1000 x 15 = 15000.
  EXPECT_EQ(Cost(*p, Usage{250000, 1000, 50000, 0, 400})->micros, 527500);
}

TEST(PriceTableTest, ReasoningBilledAtOutputByDefault) {
  const ModelPrice* p = Table().Find("openai", "o3");
  ASSERT_NE(p, nullptr);
  // 100 x $2.00/1M + 1000 x $8.00/1M (reasoning 800 included) = $0.0002 + $0.008.
  EXPECT_EQ(Cost(*p, Usage{100, 1000, 0, 0, 800})->micros, 8200);
  ModelPrice custom = *p;
  custom.prices.reasoning = 4'000'000;  // $4 per 1M reasoning tokens
  // 100 x $2 + 200 x $8 + 800 x $4 per 1M = $0.0002 + $0.0016 + $0.0032 = $0.005.
  EXPECT_EQ(Cost(custom, Usage{100, 1000, 0, 0, 800})->micros, 5000);
  // Sub-micro amounts round half up: 1 token at $0.15/1M = 0.15 micro -> 0; 4 tokens -> 1.
  const ModelPrice* mini = Table().Find("openai", "gpt-4o-mini");
  EXPECT_EQ(Cost(*mini, Usage{1, 0, 0, 0, 0})->micros, 0);
  EXPECT_EQ(Cost(*mini, Usage{4, 0, 0, 0, 0})->micros, 1);
}

TEST(PriceTableTest, UnknownAndFreeModels) {
  EXPECT_EQ(Table().Find("openai", "gpt-99"), nullptr);
  EXPECT_EQ(Table().Find("qianfan", "ernie-4.0-8k"), nullptr);
  EXPECT_EQ(Table().Find("hunyuan", "hunyuan-pro"), nullptr);
  const ModelPrice* sim = Table().Find("sim", "echo");
  ASSERT_NE(sim, nullptr);
  EXPECT_EQ(Cost(*sim, Usage{1000, 1000, 0, 0, 0}), (Money{0, Currency::kUsd}));
  EXPECT_EQ(FormatMoney(Money{0, Currency::kUsd}), "$0");
  const ModelPrice* glm = Table().Find("zhipu", "glm-4.5-flash");
  ASSERT_NE(glm, nullptr);
  EXPECT_EQ(Cost(*glm, Usage{5000, 5000, 0, 0, 0})->micros, 0);
}

TEST(PriceTableTest, OpenAiCachedAndReasoningTokens) {
  // OpenAI usage: prompt_tokens 2000 of which cached_tokens 1000; completion_tokens 1500 of
  // which reasoning_tokens 1200 (billed at the output price).
  const ModelPrice* p = Table().Find("openai", "gpt-5-mini-2025-08-07");
  ASSERT_NE(p, nullptr);
  // 1000 x $0.25 + 1000 x $0.025 + 1500 x $2.00 per 1M = 250 + 25 + 3000 micro-$.
  EXPECT_EQ(Cost(*p, Usage{2000, 1500, 1000, 0, 1200})->micros, 3275);
}

TEST(PriceTableTest, DeepSeekCacheHit) {
  // DeepSeek: prompt_cache_hit_tokens 8000 + prompt_cache_miss_tokens 2000; 2000 out.
  const ModelPrice* p = Table().Find("deepseek", "deepseek-chat");
  ASSERT_NE(p, nullptr);
  // 2000 x 0.28 + 8000 x 0.028 + 2000 x 0.42 = 560 + 224 + 840 micro-$.
  EXPECT_EQ(Cost(*p, Usage{10000, 2000, 8000, 0, 0})->micros, 1624);
}

TEST(PriceTableTest, GeminiThinkingBilledAsOutput) {
  // Gemini: candidatesTokenCount 1000 + thoughtsTokenCount 2000 -> completion 3000.
  const ModelPrice* p = Table().Find("gemini", "gemini-2.5-flash");
  ASSERT_NE(p, nullptr);
  // 1000 x 0.30 + 3000 x 2.50 = 300 + 7500 micro-$.
  EXPECT_EQ(Cost(*p, Usage{1000, 3000, 0, 0, 2000})->micros, 7800);
  // Gemini 3 Pro's second tier: 300000 x 4.00 + 1000 x 18.00 = 1'200'000 + 18'000.
  const ModelPrice* g3 = Table().Find("gemini", "gemini-3-pro-preview");
  ASSERT_NE(g3, nullptr);
  EXPECT_EQ(Cost(*g3, Usage{300000, 1000, 0, 0, 0})->micros, 1'218'000);
}

TEST(PriceTableTest, QwenInCnyByProviderName) {
  const PriceTable& t = Table();
  // A provider named dashscope-cn (type dashscope) gets the CNY list price.
  const ModelPrice* cn = t.Find("dashscope-cn", "dashscope", "qwen-plus");
  ASSERT_NE(cn, nullptr);
  EXPECT_EQ(cn->currency, Currency::kCny);
  // 100000 x ¥0.8 + 30000 x ¥2 per 1M = ¥0.08 + ¥0.06.
  auto c = Cost(*cn, Usage{100000, 30000, 0, 0, 0});
  EXPECT_EQ(c->micros, 140000);
  EXPECT_EQ(FormatMoney(*c), "¥0.14");
  // Any other name falls back to the type: the international USD entry (0.40 / 1.20).
  const ModelPrice* intl = t.Find("my-qwen", "dashscope", "qwen-plus");
  ASSERT_NE(intl, nullptr);
  EXPECT_EQ(intl->currency, Currency::kUsd);
  EXPECT_EQ(Cost(*intl, Usage{100000, 30000, 0, 0, 0})->micros, 40000 + 36000);
  // GLM-4.5 on DashScope China, second input tier (> 32K): 40000 x ¥4 + 1000 x ¥16.
  const ModelPrice* glm = t.Find("dashscope-cn", "dashscope", "glm-4.5");
  ASSERT_NE(glm, nullptr);
  EXPECT_EQ(Cost(*glm, Usage{40000, 1000, 0, 0, 0}), (Money{176000, Currency::kCny}));
  EXPECT_EQ(Cost(*glm, Usage{30000, 1000, 0, 0, 0})->micros, 90000 + 14000);
  EXPECT_STREQ(CurrencyCode(Currency::kCny), "CNY");
}

TEST(PriceTableTest, PerRequestAndPerImageFees) {
  auto t = PriceTable::Parse(R"(prices:
  - {provider: p, model: m, input: "1", output: "2", per_request: "0.005", per_image_input: "0.001"})");
  ASSERT_TRUE(t.ok()) << t.error().message;
  CostExtras three;
  three.images_in = 3;
  // 1000 x $1 + 500 x $2 per 1M + $0.005 + 3 x $0.001 = 1000 + 1000 + 5000 + 3000 micro-$.
  EXPECT_EQ(Cost(*t->Find("p", "m"), Usage{1000, 500, 0, 0, 0}, three)->micros, 10000);
  EXPECT_FALSE(Cost(*t->Find("p", "m"), Usage{}, CostExtras{-1}));
}

TEST(PriceTableTest, ImageTokenPricesAreRefused) {
  // Never charged by the gateway (no provider reports image tokens apart): not accepted at all.
  for (const char* field : {"image_input", "image_output", "per_image_output"}) {
    auto t = PriceTable::Parse(std::string(R"(prices: [{provider: p, model: m, input: "1", )") +
                               R"(output: "1", )" + field + R"(: "2"}])");
    ASSERT_FALSE(t.ok()) << field;
    EXPECT_NE(t.error().message.find(field), std::string::npos) << t.error().message;
  }
  for (const auto& e : Table().entries()) EXPECT_EQ(e.per_image_input, 0) << e.model;
}

TEST(PriceTableTest, BedrockClaudeIsPricedAsAnthropic) {
  const ModelPrice* direct = Table().Find("anthropic", "claude-sonnet-4-5-20250929");
  ASSERT_NE(direct, nullptr);
  for (const char* id :
       {"anthropic.claude-sonnet-4-5-20250929-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu.anthropic.claude-sonnet-4-5-v2"}) {
    EXPECT_EQ(Table().Find("my-bedrock", "bedrock", id), direct) << id;
  }
  // 1000 fresh x $3 + 1000 read x $0.30 + 1000 written x $3.75 + 100 out x $15 per 1M.
  EXPECT_EQ(Cost(*Table().Find("br", "bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
                 Usage{3000, 100, 1000, 1000, 0})
                ->micros,
            3000 + 300 + 3750 + 1500);
  EXPECT_EQ(BedrockAnthropicModel("apac.anthropic.claude-haiku-4-5-20251001-v1:0"),
            "claude-haiku-4-5-20251001");
  EXPECT_EQ(BedrockAnthropicModel("amazon.nova-pro-v1:0"), "");
  EXPECT_EQ(BedrockAnthropicModel("a.b.anthropic.claude-x"), "");
  // Nova keeps its own entry; an unknown Claude stays unknown; the rule is Bedrock's only.
  EXPECT_NE(Table().Find("br", "bedrock", "us.amazon.nova-pro-v1:0"), nullptr);
  EXPECT_EQ(Table().Find("br", "bedrock", "anthropic.claude-instant-v1"), nullptr);
  EXPECT_EQ(Table().Find("oa", "openai", "anthropic.claude-sonnet-4-5-v1:0"), nullptr);
  // The type-only lookup (budget admission, batches, the response cache) follows the rule too.
  EXPECT_EQ(Table().Find("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"), direct);
}

TEST(PriceTableTest, AzureIsPricedAsOpenAi) {
  EXPECT_EQ(Table().Find("az", "azure", "gpt-4o"), Table().Find("openai", "gpt-4o"));
  EXPECT_EQ(Table().Find("az", "azure", "gpt-4o-2024-08-06"),
            Table().Find("openai", "gpt-4o-2024-08-06"));
  // Only a dated suffix is stripped: gpt-4.1-2025-04-14 -> gpt-4.1 (no gpt-4.1 glob).
  EXPECT_EQ(WithoutDateSuffix("gpt-4.1-2025-04-14"), "gpt-4.1");
  EXPECT_EQ(WithoutDateSuffix("gpt-4o-mini"), "gpt-4o-mini");
  EXPECT_EQ(WithoutDateSuffix("o3-2025-4-16"), "o3-2025-4-16");
  const ModelPrice* p = Table().Find("az", "azure", "gpt-4.1-2025-04-14");
  ASSERT_NE(p, nullptr);
  // 1000 x $2 + 1000 x $8 per 1M.
  EXPECT_EQ(Cost(*p, Usage{1000, 1000, 0, 0, 0})->micros, 10000);
  EXPECT_EQ(Table().Find("az", "azure", "prod-deployment"), nullptr);
}

TEST(PriceTableTest, SameAsFollowsAnotherEntry) {
  auto over = PriceTable::Parse(R"(prices:
  - {provider: az, model: prod-4o, same_as: openai/gpt-4o, source: test, effective: 2026-11-01}
  - {provider: x, model: a, same_as: x/b}
  - {provider: x, model: b, same_as: x/a})");
  ASSERT_TRUE(over.ok()) << over.error().message;
  PriceTable t = PriceTable::Merged(Table(), *over);
  const ModelPrice* p = t.Find("az", "azure", "prod-4o");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->model, "gpt-4o");
  // 1000 x $2.50 + 1000 x $10 per 1M.
  EXPECT_EQ(Cost(*p, Usage{1000, 1000, 0, 0, 0})->micros, 12500);
  EXPECT_EQ(t.Find("x", "a"), nullptr) << "a loop is unknown, not a price";
  EXPECT_FALSE(PriceTable::Parse(R"(prices: [{provider: p, model: m, same_as: nope}])").ok());
}

TEST(PriceTableTest, OverrideFileReplacesAndAdds) {
  auto over = PriceTable::Parse(R"(prices:
  - {provider: openai, model: "gpt-4o-mini*", input: "1", output: "1", source: negotiated, effective: 2026-11-01}
  - {provider: sim, model: "echo", input: "2", output: "3", source: test, effective: 2026-11-01})");
  ASSERT_TRUE(over.ok());
  PriceTable merged = PriceTable::Merged(Table(), *over);
  // One replaced (same provider+model), one added.
  EXPECT_EQ(merged.entries().size(), Table().entries().size() + 1);
  const ModelPrice* mini = merged.Find("openai", "gpt-4o-mini");
  ASSERT_NE(mini, nullptr);
  EXPECT_EQ(mini->source, "negotiated");
  EXPECT_EQ(Cost(*mini, Usage{1000, 1000, 0, 0, 0})->micros, 2000);
  // The override's exact entry beats the built-in sim "*" glob; other sim models stay free.
  EXPECT_EQ(Cost(*merged.Find("sim", "echo"), Usage{1000, 1000, 0, 0, 0})->micros, 5000);
  EXPECT_EQ(Cost(*merged.Find("sim", "lorem"), Usage{1000, 1000, 0, 0, 0})->micros, 0);
  // Entries not named stay.
  EXPECT_NE(merged.Find("anthropic", "claude-haiku-4-5"), nullptr);
  EXPECT_FALSE(PriceTable::Load("/nonexistent/prices.yaml").ok());
}

TEST(PriceTableTest, ActiveTableCanBeSwapped) {
  auto before = PriceTable::Active();
  ASSERT_NE(before, nullptr);
  auto t = PriceTable::Parse(R"(prices: [{provider: x, model: y, input: "1", output: "1"}])");
  ASSERT_TRUE(t.ok());
  PriceTable::SetActive(std::make_shared<const PriceTable>(std::move(t).value()));
  EXPECT_NE(PriceTable::Active()->Find("x", "y"), nullptr);
  PriceTable::SetActive(nullptr);  // back to the built-in table
  EXPECT_EQ(PriceTable::Active()->Find("x", "y"), nullptr);
}

TEST(PriceTableTest, EveryEntryHasSourceAndDate) {
  ASSERT_GE(Table().entries().size(), 28u);
  for (const auto& e : Table().entries()) {
    EXPECT_FALSE(e.source.empty()) << e.model;
    EXPECT_EQ(e.effective.size(), 10u) << e.model;
  }
}

TEST(PriceTableTest, ExactMatchBeatsGlob) {
  auto t = PriceTable::Parse(R"(prices:
  - {provider: p, model: "m*", input: "1", output: "1"}
  - {provider: p, model: "m-2", currency: CNY, input: "2", output: "2"})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Find("p", "m-2")->currency, Currency::kCny);
  EXPECT_EQ(t->Find("p", "m-3")->currency, Currency::kUsd);
  EXPECT_EQ(FormatMoney(Money{10000, Currency::kCny}), "¥0.01");
  EXPECT_EQ(FormatMoney(Money{2'000'000, Currency::kUsd}), "$2");
}

TEST(PriceTableTest, ParseErrors) {
  EXPECT_FALSE(PriceTable::Parse("prices: [").ok());
  EXPECT_FALSE(PriceTable::Parse("other: 1").ok());
  EXPECT_FALSE(PriceTable::Parse(R"(prices: [{provider: p, model: m, input: "1"}])").ok());
  EXPECT_FALSE(
      PriceTable::Parse(R"(prices: [{provider: p, model: m, input: "0.0000001", output: "1"}])")
          .ok());
  EXPECT_FALSE(PriceTable::Parse(
                   R"(prices: [{provider: p, model: m, currency: EUR, input: "1", output: "1"}])")
                   .ok());
}

TEST(PriceTableTest, Glob) {
  EXPECT_TRUE(GlobMatch("*nova-pro*", "amazon.nova-pro-v1:0"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("gpt-4o", "gpt-4o-mini"));
  EXPECT_TRUE(GlobMatch("*", ""));
}

}  // namespace
}  // namespace modelmux::telemetry

namespace modelmux::telemetry {
namespace {

TEST(PriceTableTest, BuiltInMatchesDataFile) {
  if (PriceTable::BuiltIn().entries().empty()) {
    GTEST_SKIP() << "data/prices.yaml not embedded (cmake/EmbedFile.cmake not wired yet)";
  }
  EXPECT_EQ(PriceTable::BuiltIn().entries().size(), Table().entries().size());
  EXPECT_NE(PriceTable::BuiltIn().Find("openai", "gpt-4o-mini"), nullptr);
}

}  // namespace
}  // namespace modelmux::telemetry
