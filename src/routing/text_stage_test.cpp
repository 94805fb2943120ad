#include "routing/text_stage.hpp"

#include <gtest/gtest.h>

#include "routing/pipeline.hpp"
#include "text/count.hpp"

namespace modelmux::routing {
namespace {

EnvLookup NoEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

constexpr std::string_view kBase =
    "providers:\n"
    "  up:\n"
    "    type: openai\n"
    "    base_url: http://127.0.0.1:1/v1\n"
    "models:\n"
    "  - name: small\n"
    "    model: up/tiny-model\n"
    "    context_window: 60\n"
    "    context_window_fallback: big\n"
    "  - name: big\n"
    "    model: up/gpt-4o\n"
    "  - name: boxed\n"
    "    model: up/boxed-model\n"
    "    context_window: 40\n"
    "  - name: capped\n"
    "    model: up/gpt-4o-mini\n"
    "    max_tokens: {default: 300, cap: 1000}\n"
    "  - name: smart\n"
    "    model: up/gpt-4o\n"
    "    cheaper: {model: capped, max_prompt_tokens: 30}\n"
    "  - name: legal\n"
    "    model: up/gpt-4o\n"
    "    context: \"合同法术语：要约、承诺。\"\n";

std::shared_ptr<const Config> Cfg() {
  auto r = ParseConfig(kBase, NoEnv(), "test.yaml");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : nullptr;
}

Message UserText(std::string text) {
  Message m;
  m.role = Role::kUser;
  ContentPart p;
  p.text = std::move(text);
  m.content.push_back(std::move(p));
  return m;
}

Message SystemText(std::string text) {
  Message m = UserText(std::move(text));
  m.role = Role::kSystem;
  return m;
}

ChatRequest Request(std::string model, std::string user, std::string extra = {}) {
  ChatRequest r;
  r.model = std::move(model);
  r.messages.push_back(UserText(std::move(user)));
  r.extra = std::move(extra);
  return r;
}

TEST(KnownContextWindow, KnowsFamiliesAndSizeSuffixes) {
  EXPECT_EQ(KnownContextWindow("gpt-4o-mini"), 128000);
  EXPECT_EQ(KnownContextWindow("openai/gpt-4.1-mini"), 1047576);
  EXPECT_EQ(KnownContextWindow("claude-sonnet-4-5"), 200000);
  EXPECT_EQ(KnownContextWindow("moonshot-v1-8k"), 8192);
  EXPECT_EQ(KnownContextWindow("moonshot-v1-32k"), 32768);
  EXPECT_EQ(KnownContextWindow("ernie-4.0-8k-latest"), 8192);
  EXPECT_EQ(KnownContextWindow("some-unknown-model"), std::nullopt);
  EXPECT_EQ(KnownContextWindow("echo"), std::nullopt);
}

TEST(ContextWindowFor, AliasOverridesTheTable) {
  auto cfg = Cfg();
  ASSERT_TRUE(cfg);
  EXPECT_EQ(ContextWindowFor(*cfg, "small"), 60);
  EXPECT_EQ(ContextWindowFor(*cfg, "big"), 128000);  // gpt-4o from the table
  EXPECT_EQ(ContextWindowFor(*cfg, "up/unknown-thing"), std::nullopt);
}

TEST(TakeTextExtensions, ReadsAndRemovesOnlyItsOwnMembers) {
  ChatRequest r = Request("big", "x",
                          R"({"split_sentences":{"numbered":true},"context":{"background":"B",)"
                          R"("glossary":{"要约":"offer","承诺":"acceptance"}},"vendor_flag":1})");
  auto ext = TakeTextExtensions(r);
  ASSERT_TRUE(ext.ok()) << ext.error().message;
  ASSERT_TRUE(ext->split);
  EXPECT_TRUE(ext->split->numbered);
  EXPECT_EQ(ext->context, "Background:\nB\n\nGlossary:\n- 要约: offer\n- 承诺: acceptance");
  EXPECT_EQ(r.extra, R"({"vendor_flag":1})");
}

TEST(TakeTextExtensions, RefusesMalformedMembersNamingThem) {
  ChatRequest a = Request("big", "x", R"({"split_sentences":"yes"})");
  auto ea = TakeTextExtensions(a);
  ASSERT_FALSE(ea.ok());
  EXPECT_EQ(ea.error().param, "split_sentences");
  EXPECT_EQ(ea.error().kind, ErrorKind::kInvalidRequest);

  ChatRequest b = Request("big", "x", R"({"context":{"glossary":{"a":1}}})");
  auto eb = TakeTextExtensions(b);
  ASSERT_FALSE(eb.ok());
  EXPECT_EQ(eb.error().param, "context.glossary");

  ChatRequest c = Request("big", "x", R"({"context":{"notes":"x"}})");
  EXPECT_FALSE(TakeTextExtensions(c).ok());

  ChatRequest d = Request("big", "x", R"({"split_sentences":false})");
  auto ed = TakeTextExtensions(d);
  ASSERT_TRUE(ed.ok());
  EXPECT_FALSE(ed->split);
  EXPECT_EQ(d.extra, "");
}

TEST(SplitLastUserMessage, OneSentencePerLineOptionallyNumbered) {
  ChatRequest r = Request("big", "今天下雨了。我们去哪里？他说：“好。”Version 3.14 is out!");
  r.messages.insert(r.messages.begin(), SystemText("不要拆分。这一句。"));
  EXPECT_EQ(SplitLastUserMessage(r, {}), 4);
  EXPECT_EQ(r.messages.back().Text(),
            "今天下雨了。\n我们去哪里？\n他说：“好。”\nVersion 3.14 is out!");
  EXPECT_EQ(r.messages.front().Text(), "不要拆分。这一句。");  // only the last user message

  ChatRequest n = Request("big", "一。二！");
  SplitSpec spec;
  spec.numbered = true;
  EXPECT_EQ(SplitLastUserMessage(n, spec), 2);
  EXPECT_EQ(n.messages.back().Text(), "[1] 一。\n[2] 二！");
}

TEST(ApplyTextStage, ContextGoesAfterTheCallersSystemMessagesAndIsCounted) {
  auto cfg = Cfg();
  ChatRequest r = Request("legal", "什么是要约？", R"({"context":"案件背景：买卖合同纠纷。"})");
  r.messages.insert(r.messages.begin(), SystemText("你是律师助手。"));
  AttemptLog log;
  ASSERT_TRUE(ApplyTextStage(*cfg, r, log).ok());
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].Text(), "你是律师助手。");
  EXPECT_EQ(r.messages[1].role, Role::kSystem);
  const std::string expected = "合同法术语：要约、承诺。\n\n案件背景：买卖合同纠纷。";
  EXPECT_EQ(r.messages[1].Text(), expected);
  EXPECT_EQ(log.context_tokens, text::CountText("gpt-4o", expected).tokens);
  EXPECT_GT(log.context_tokens, 0);
  EXPECT_EQ(r.messages[2].Text(), "什么是要约？");
}

TEST(ApplyTextStage, MaxTokensDefaultAndClamp) {
  auto cfg = Cfg();
  ChatRequest none = Request("capped", "hi");
  AttemptLog a;
  ASSERT_TRUE(ApplyTextStage(*cfg, none, a).ok());
  EXPECT_EQ(none.max_tokens, 300);
  EXPECT_EQ(a.max_tokens_clamp, "");

  ChatRequest big = Request("capped", "hi");
  big.max_tokens = 5000;
  AttemptLog b;
  ASSERT_TRUE(ApplyTextStage(*cfg, big, b).ok());
  EXPECT_EQ(big.max_tokens, 1000);
  EXPECT_EQ(b.max_tokens_clamp, "5000->1000");

  ChatRequest fine = Request("capped", "hi");
  fine.max_tokens = 999;
  AttemptLog c;
  ASSERT_TRUE(ApplyTextStage(*cfg, fine, c).ok());
  EXPECT_EQ(fine.max_tokens, 999);
  EXPECT_EQ(c.max_tokens_clamp, "");
}

TEST(ApplyTextStage, KeyContextGoesBetweenTheRoutesAndTheRequests) {
  auto cfg = Cfg();
  ChatRequest r = Request("legal", "什么是承诺？", R"({"context":"案件背景：买卖合同纠纷。"})");
  AttemptLog log;
  ASSERT_TRUE(ApplyTextStage(*cfg, r, log, "本团队只处理中国大陆的合同。").ok());
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, Role::kSystem);
  const std::string expected =
      "合同法术语：要约、承诺。\n\n本团队只处理中国大陆的合同。\n\n案件背景：买卖合同纠纷。";
  EXPECT_EQ(r.messages[0].Text(), expected);
  EXPECT_EQ(log.context_tokens, text::CountText("gpt-4o", expected).tokens);

  // A key's context alone, on a model without controls.
  ChatRequest plain = Request("big", "hi");
  AttemptLog p;
  ASSERT_TRUE(ApplyTextStage(*cfg, plain, p, "Glossary: SLA = service level agreement").ok());
  ASSERT_EQ(plain.messages.size(), 2u);
  EXPECT_EQ(plain.messages[0].Text(), "Glossary: SLA = service level agreement");
  EXPECT_EQ(p.context_tokens,
            text::CountText("gpt-4o", "Glossary: SLA = service level agreement").tokens);

  RequestContext ctx;
  EXPECT_EQ(KeyContext(ctx), "");
  ctx.key_context = std::make_shared<const std::string>("术语");
  EXPECT_EQ(KeyContext(ctx), "术语");
}

TEST(ApplyTextStage, AliasCapAfterAKeyClampKeepsWhatTheCallerAsked) {
  auto cfg = Cfg();
  ChatRequest r = Request("capped", "hi");
  r.max_tokens = 4000;  // the key clamped 9000 to 4000 at admission
  AttemptLog log;
  log.max_tokens_clamp = "9000->4000";
  ASSERT_TRUE(ApplyTextStage(*cfg, r, log).ok());
  EXPECT_EQ(r.max_tokens, 1000);
  EXPECT_EQ(log.max_tokens_clamp, "9000->1000");
  // The key's cap tighter than the alias's: the key's clamp stands.
  ChatRequest k = Request("capped", "hi");
  k.max_tokens = 500;
  AttemptLog l2;
  l2.max_tokens_clamp = "9000->500";
  ASSERT_TRUE(ApplyTextStage(*cfg, k, l2).ok());
  EXPECT_EQ(k.max_tokens, 500);
  EXPECT_EQ(l2.max_tokens_clamp, "9000->500");
}

TEST(ApplyTextStage, ShortTextRequestsTakeTheCheaperVariant) {
  auto cfg = Cfg();
  ChatRequest small = Request("smart", "What is 2+2?");
  AttemptLog a;
  ASSERT_TRUE(ApplyTextStage(*cfg, small, a).ok());
  EXPECT_EQ(small.model, "capped");
  ASSERT_EQ(a.notes.size(), 1u);
  EXPECT_EQ(a.notes[0], "cheaper_variant:capped");
  EXPECT_EQ(small.max_tokens, 300);  // the cheaper alias's own default applies

  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "word ";
  ChatRequest large = Request("smart", long_text);
  AttemptLog b;
  ASSERT_TRUE(ApplyTextStage(*cfg, large, b).ok());
  EXPECT_EQ(large.model, "smart");
  EXPECT_TRUE(b.notes.empty());

  ChatRequest tools = Request("smart", "What is 2+2?");
  tools.tools = R"([{"type":"function","function":{"name":"f"}}])";
  AttemptLog c;
  ASSERT_TRUE(ApplyTextStage(*cfg, tools, c).ok());
  EXPECT_EQ(tools.model, "smart");
}

TEST(ApplyTextStage, PreflightRoutesToTheLongerModelOrRefuses) {
  auto cfg = Cfg();
  std::string text;
  for (int i = 0; i < 30; ++i) text += "lorem ipsum ";
  ChatRequest routed = Request("small", text);
  AttemptLog a;
  ASSERT_TRUE(ApplyTextStage(*cfg, routed, a).ok());
  EXPECT_EQ(routed.model, "big");
  ASSERT_EQ(a.notes.size(), 1u);
  EXPECT_EQ(a.notes[0], "context_window_fallback:big");

  ChatRequest refused = Request("boxed", text);
  AttemptLog b;
  auto st = ApplyTextStage(*cfg, refused, b);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kContextLength);
  EXPECT_EQ(st.error().code, "context_length_exceeded");
  EXPECT_EQ(st.error().HttpStatus(), 400);
  EXPECT_NE(st.error().message.find("40 tokens"), std::string::npos) << st.error().message;

  // The prompt fits, but not with the answer it asks room for.
  ChatRequest answer_room = Request("boxed", "hello");
  answer_room.max_tokens = 100;
  AttemptLog c;
  EXPECT_FALSE(ApplyTextStage(*cfg, answer_room, c).ok());
  answer_room.max_tokens = 10;
  EXPECT_TRUE(ApplyTextStage(*cfg, answer_room, c).ok());
}

TEST(NeedsTextStage, OnlyForControlledAliasesOrBodiesThatMayNotFit) {
  auto cfg = Cfg();
  EXPECT_TRUE(NeedsTextStage(*cfg, "capped", 100, std::nullopt));
  EXPECT_TRUE(NeedsTextStage(*cfg, "smart", 100, std::nullopt));
  EXPECT_TRUE(NeedsTextStage(*cfg, "legal", 100, std::nullopt));
  EXPECT_FALSE(NeedsTextStage(*cfg, "big", 1000, 4096));
  EXPECT_TRUE(NeedsTextStage(*cfg, "big", 127000, 4096));
  EXPECT_FALSE(NeedsTextStage(*cfg, "up/unknown-thing", 10'000'000, std::nullopt));
}

TEST(TextControlsConfig, RefusesBadValuesWithTheirPath) {
  auto fail = [](std::string_view alias_lines) {
    std::string yaml =
        "providers:\n  up:\n    type: openai\n    base_url: http://127.0.0.1:1/v1\n"
        "models:\n  - name: a\n    model: up/x\n";
    yaml += alias_lines;
    auto r = ParseConfig(yaml, NoEnv(), "t.yaml");
    if (!r.ok()) return r.error().param;
    auto st = ValidateConfig(**r);
    return st.ok() ? std::string("<ok>") : st.error().param;
  };
  EXPECT_EQ(fail("    context_window: 0\n"), "models[0].context_window");
  EXPECT_EQ(fail("    max_tokens: {default: 10, cap: 5}\n"), "models[0].max_tokens.default");
  EXPECT_EQ(fail("    max_tokens: {cap: 0}\n"), "models[0].max_tokens.cap");
  EXPECT_EQ(fail("    max_tokens: {limit: 5}\n"), "models[0].max_tokens.limit");
  EXPECT_EQ(fail("    cheaper: {model: nowhere, max_prompt_tokens: 5}\n"),
            "models[0].cheaper.model");
  EXPECT_EQ(fail("    cheaper: {model: up/y}\n"), "models[0].cheaper.max_prompt_tokens");
  EXPECT_EQ(fail("    cheaper: {model: up/y, max_prompt_tokens: 5}\n    context: hi\n"), "<ok>");
}

// ---- map-reduce's pure parts ------------------------------------------------------------------

Pipeline MapReducePipeline() {
  Pipeline p;
  p.name = "long";
  p.kind = PipelineKind::kMapReduce;
  p.map = "up/gpt-4o-mini";
  p.reduce = "big";
  return p;
}

TEST(MapReduce, ChunkBudgetPrefersTheSettingThenHalfTheWindow) {
  Pipeline p = MapReducePipeline();
  EXPECT_EQ(ChunkBudget(p, 128000), 64000);
  EXPECT_EQ(ChunkBudget(p, std::nullopt), 4000);
  p.chunk_tokens = 700;
  EXPECT_EQ(ChunkBudget(p, 128000), 700);
}

TEST(MapReduce, MapRequestKeepsTheTaskAndCarriesOnePart) {
  ChatRequest caller = Request("long", "the whole long text");
  caller.messages.insert(caller.messages.begin(), SystemText("Summarise the contract."));
  caller.temperature = 0.2;
  caller.tools = "[]";
  ChatRequest m = MapRequest(caller, MapReducePipeline(), "part two text", 1, 3);
  EXPECT_EQ(m.model, "up/gpt-4o-mini");
  ASSERT_EQ(m.messages.size(), 3u);
  EXPECT_EQ(m.messages[0].Text(), "Summarise the contract.");
  EXPECT_NE(m.messages[1].Text().find("part 2 of 3"), std::string::npos) << m.messages[1].Text();
  EXPECT_EQ(m.messages[2].role, Role::kUser);
  EXPECT_EQ(m.messages[2].Text(), "part two text");
  EXPECT_EQ(m.temperature, 0.2);
  EXPECT_TRUE(m.tools.empty());
}

TEST(MapReduce, ReduceRequestReplacesTheLongTextWithNumberedNotes) {
  ChatRequest caller = Request("long", "the whole long text");
  caller.messages.insert(caller.messages.begin(), SystemText("Summarise."));
  caller.max_tokens = 77;
  Pipeline p = MapReducePipeline();
  p.reduce_prompt = "Notes from {n} parts:";
  ChatRequest r = ReduceRequest(caller, p, {"note A", "note B"});
  EXPECT_EQ(r.model, "big");
  EXPECT_EQ(r.max_tokens, 77);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1].Text(),
            "Notes from 2 parts:\n\n[Part 1 of 2]\nnote A\n\n[Part 2 of 2]\nnote B");
  EXPECT_EQ(LongInput(caller), "the whole long text");
}

}  // namespace
}  // namespace modelmux::routing
