// The x-sim-* usage controls (docs/SIM.md) and how each dialect's wire reports them.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "sim/anthropic_wire.hpp"
#include "sim/bedrock_wire.hpp"
#include "sim/gemini_wire.hpp"
#include "sim/options.hpp"
#include "sim/wire.hpp"

namespace modelmux::sim {
namespace {

namespace json = boost::json;

// A plan of 5 visible tokens, told: prompt 1000, 300 read from the cache, 200 written, 40
// reasoning.
ReplyPlan Told() {
  net::Headers h;
  h.Add("x-sim-prompt-tokens", "1000");
  h.Add("x-sim-cached-tokens", "300");
  h.Add("x-sim-cache-write-tokens", "200");
  h.Add("x-sim-reasoning-tokens", "40");
  auto c = ReadControls(SimOptions{}, h);
  EXPECT_TRUE(c.ok());
  ReplyPlan plan;
  plan.pieces = {"a", "b", "c", "d", "e"};
  plan.finish_reason = "stop";
  plan.prompt_tokens = 12;
  plan.completion_tokens = 5;
  ApplyUsageControls(*c, plan);
  return plan;
}

TEST(UsageControlsTest, AppliedToThePlan) {
  const ReplyPlan p = Told();
  EXPECT_EQ(p.prompt_tokens, 1000);
  EXPECT_EQ(p.cached_tokens, 300);
  EXPECT_EQ(p.cache_write_tokens, 200);
  EXPECT_EQ(p.reasoning_tokens, 40);
  EXPECT_EQ(p.completion_tokens, 45);
  // Without x-sim-prompt-tokens the prompt is raised to what the cache counts need.
  net::Headers h;
  h.Add("x-sim-cached-tokens", "50");
  ReplyPlan small;
  small.prompt_tokens = 12;
  ApplyUsageControls(*ReadControls(SimOptions{}, h), small);
  EXPECT_EQ(small.prompt_tokens, 50);
  net::Headers bad;
  bad.Add("x-sim-reasoning-tokens", "-1");
  EXPECT_FALSE(ReadControls(SimOptions{}, bad).ok());
}

TEST(UsageControlsTest, EachDialectsShape) {
  const ReplyPlan p = Told();
  const ResponseMeta meta{"id-1", 1, "m"};
  const json::value oa = json::parse(ChatCompletionJson(meta, p)).at("usage");
  EXPECT_EQ(oa.at("prompt_tokens").as_int64(), 1000);
  EXPECT_EQ(oa.at("prompt_tokens_details").at("cached_tokens").as_int64(), 300);
  EXPECT_EQ(oa.at("completion_tokens").as_int64(), 45);
  EXPECT_EQ(oa.at("completion_tokens_details").at("reasoning_tokens").as_int64(), 40);

  ReplyPlan ds = p;
  ds.deepseek_usage = true;
  const json::value dsu = json::parse(ChatCompletionJson(meta, ds)).at("usage");
  EXPECT_EQ(dsu.at("prompt_cache_hit_tokens").as_int64(), 300);
  EXPECT_EQ(dsu.at("prompt_cache_miss_tokens").as_int64(), 700);
  EXPECT_FALSE(dsu.as_object().contains("prompt_tokens_details"));

  const json::value an = json::parse(AnthropicMessageJson(meta, p)).at("usage");
  EXPECT_EQ(an.at("input_tokens").as_int64(), 500);  // 1000 - 300 read - 200 written
  EXPECT_EQ(an.at("cache_read_input_tokens").as_int64(), 300);
  EXPECT_EQ(an.at("cache_creation_input_tokens").as_int64(), 200);
  EXPECT_EQ(an.at("output_tokens").as_int64(), 45);

  const json::value ge = json::parse(GeminiResponseJson(meta, p)).at("usageMetadata");
  EXPECT_EQ(ge.at("promptTokenCount").as_int64(), 1000);
  EXPECT_EQ(ge.at("cachedContentTokenCount").as_int64(), 300);
  EXPECT_EQ(ge.at("candidatesTokenCount").as_int64(), 5);
  EXPECT_EQ(ge.at("thoughtsTokenCount").as_int64(), 40);
  EXPECT_EQ(ge.at("totalTokenCount").as_int64(), 1045);
  const StreamEvents gs = GeminiStreamEvents(meta, p);
  const json::value last = json::parse(gs.events.back()).at("usageMetadata");
  EXPECT_EQ(last.at("candidatesTokenCount").as_int64(), 5);
  EXPECT_EQ(last.at("thoughtsTokenCount").as_int64(), 40);

  const json::value br = json::parse(ConverseJson(p)).at("usage");
  EXPECT_EQ(br.at("inputTokens").as_int64(), 500);
  EXPECT_EQ(br.at("cacheReadInputTokens").as_int64(), 300);
  EXPECT_EQ(br.at("cacheWriteInputTokens").as_int64(), 200);
  EXPECT_EQ(br.at("outputTokens").as_int64(), 45);
  EXPECT_EQ(br.at("totalTokens").as_int64(), 1045);
}

TEST(UsageControlsTest, UntouchedPlansReportZeros) {
  ReplyPlan p;
  p.pieces = {"a"};
  p.finish_reason = "stop";
  p.prompt_tokens = 7;
  p.completion_tokens = 1;
  const json::value br = json::parse(ConverseJson(p)).at("usage");
  EXPECT_EQ(br.at("inputTokens").as_int64(), 7);
  EXPECT_FALSE(br.as_object().contains("cacheReadInputTokens"));
  const json::value oa = json::parse(ChatCompletionJson(ResponseMeta{"i", 1, "m"}, p)).at("usage");
  EXPECT_EQ(oa.at("prompt_tokens_details").at("cached_tokens").as_int64(), 0);
}

}  // namespace
}  // namespace modelmux::sim
