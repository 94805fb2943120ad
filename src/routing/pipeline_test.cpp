#include "routing/pipeline.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "routing/resolver.hpp"
#include "routing/router.hpp"
#include "text/token_estimator.hpp"

namespace modelmux::routing {
namespace {

EnvLookup NoEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

constexpr std::string_view kProviders =
    "providers:\n"
    "  up:\n"
    "    type: openai\n"
    "    base_url: http://127.0.0.1:1/v1\n"
    "models:\n"
    "  - name: smart\n"
    "    model: up/gpt-4o\n";

Result<std::shared_ptr<const Config>> Parse(std::string_view pipelines) {
  return ParseConfig(std::string(kProviders) + std::string(pipelines), NoEnv(), "test.yaml");
}

// The error's key path, or "<ok>" when the config parses and validates.
std::string FailurePath(std::string_view pipelines) {
  auto r = Parse(pipelines);
  if (!r.ok()) return r.error().param;
  Status s = ValidateConfig(**r);
  return s.ok() ? "<ok>" : s.error().param;
}

ContentPart Text(std::string t) {
  ContentPart p;
  p.text = std::move(t);
  return p;
}

ContentPart Image(std::string url) {
  ContentPart p;
  p.type = PartType::kImage;
  p.url = std::move(url);
  return p;
}

Message Msg(Role role, std::vector<ContentPart> parts) {
  Message m;
  m.role = role;
  m.content = std::move(parts);
  m.content_is_string = false;
  return m;
}

ChatRequest Conversation() {
  ChatRequest r;
  r.model = "pipe";
  r.temperature = 0.7;
  r.tools = R"([{"type":"function","function":{"name":"f"}}])";
  r.messages.push_back(Msg(Role::kSystem, {Text("be brief")}));
  r.messages.push_back(Msg(Role::kUser, {Text("what is this?"), Image("https://x/a.png")}));
  r.messages.push_back(Msg(Role::kAssistant, {Text("a cat")}));
  r.messages.push_back(Msg(Role::kUser, {Image("https://x/b.png"), Text("and this?")}));
  r.messages.push_back(Msg(Role::kUser, {Text("no image here")}));
  return r;
}

// ---- config ---------------------------------------------------------------------------------

TEST(PipelineConfigTest, ParsesEveryKind) {
  auto r = Parse(
      "pipelines:\n"
      "  - name: see\n"
      "    kind: vision_then_reason\n"
      "    vision: up/gpt-4o\n"
      "    reasoner: smart\n"
      "    describe_prompt: Describe it.\n"
      "  - name: many\n"
      "    kind: fan_out\n"
      "    models: [up/a, up/b, smart]\n"
      "    judge: up/j\n"
      "  - name: pick\n"
      "    kind: conditional\n"
      "    routes:\n"
      "      - when: {modality: image, min_prompt_tokens: 10, max_prompt_tokens: 90, tier: gold}\n"
      "        model: up/v\n"
      "      - model: smart\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Config& c = **r;
  EXPECT_TRUE(ValidateConfig(c).ok());
  ASSERT_EQ(c.pipelines.size(), 3u);
  const Pipeline* see = c.FindPipeline("see");
  ASSERT_NE(see, nullptr);
  EXPECT_EQ(see->kind, PipelineKind::kVisionThenReason);
  EXPECT_EQ(see->vision, "up/gpt-4o");
  EXPECT_EQ(see->reasoner, "smart");
  EXPECT_EQ(see->describe_prompt, "Describe it.");
  const Pipeline* many = c.FindPipeline("many");
  ASSERT_NE(many, nullptr);
  EXPECT_EQ(many->kind, PipelineKind::kFanOut);
  EXPECT_EQ(many->models, (std::vector<std::string>{"up/a", "up/b", "smart"}));
  EXPECT_EQ(many->judge, "up/j");
  const Pipeline* pick = c.FindPipeline("pick");
  ASSERT_NE(pick, nullptr);
  ASSERT_EQ(pick->routes.size(), 2u);
  ASSERT_TRUE(pick->routes[0].when.has_value());
  EXPECT_EQ(pick->routes[0].when->modality, Modality::kImage);
  EXPECT_EQ(pick->routes[0].when->min_prompt_tokens, 10u);
  EXPECT_EQ(pick->routes[0].when->max_prompt_tokens, 90u);
  EXPECT_EQ(pick->routes[0].when->tier, "gold");
  EXPECT_EQ(pick->routes[0].model, "up/v");
  EXPECT_FALSE(pick->routes[1].when.has_value());
  EXPECT_EQ(c.FindPipeline("smart"), nullptr);
  // /v1/models: aliases, then pipelines, then provider models.
  EXPECT_EQ(ListModels(c), (std::vector<std::string>{"smart", "see", "many", "pick"}));
}

TEST(PipelineConfigTest, RefusesBadShapesNamingTheKey) {
  EXPECT_EQ(FailurePath("pipelines: {a: 1}\n"), "pipelines");
  EXPECT_EQ(FailurePath("pipelines:\n  - kind: fan_out\n    models: [up/a, up/b]\n"),
            "pipelines[0].name");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    models: [up/a, up/b]\n"),
            "pipelines[0].kind");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: chain\n"), "pipelines[0].kind");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: fan_out\n    models: [up/a]\n"),
            "pipelines[0].models");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: fan_out\n"
                        "    models: [up/a, up/b, up/c, up/d, up/e, up/f, up/g, up/h, up/i]\n"),
            "pipelines[0].models");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: fan_out\n    models: [up/a, up/b]\n"
                        "    reasoner: up/x\n"),
            "pipelines[0].reasoner");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: fan_out\n    models: [up/a, up/b]\n"
                        "    judges: up/x\n"),
            "pipelines[0].judges");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: vision_then_reason\n"
                        "    vision: up/v\n"),
            "pipelines[0].reasoner");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: conditional\n    routes: []\n"),
            "pipelines[0].routes");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: conditional\n    routes:\n"
                        "      - model: up/a\n      - model: up/b\n"),
            "pipelines[0].routes[0].when");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: conditional\n    routes:\n"
                        "      - when: {modality: audio}\n        model: up/a\n"),
            "pipelines[0].routes[0].when.modality");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: conditional\n    routes:\n"
                        "      - when: {min_prompt_tokens: 9, max_prompt_tokens: 3}\n"
                        "        model: up/a\n"),
            "pipelines[0].routes[0].when.max_prompt_tokens");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: conditional\n    routes:\n"
                        "      - when: {colour: red}\n        model: up/a\n"),
            "pipelines[0].routes[0].when.colour");
}

TEST(PipelineConfigTest, ValidationNamesTheUnknownModel) {
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: fan_out\n"
                        "    models: [up/a, nowhere/b]\n"),
            "pipelines[0].models[1]");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: fan_out\n"
                        "    models: [up/a, up/b]\n    judge: gpt-4o\n"),
            "pipelines[0].judge");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: vision_then_reason\n"
                        "    vision: nope\n    reasoner: smart\n"),
            "pipelines[0].vision");
  EXPECT_EQ(FailurePath("pipelines:\n  - name: p\n    kind: conditional\n    routes:\n"
                        "      - model: unknown\n"),
            "pipelines[0].routes[0].model");
  // A pipeline cannot name another pipeline, reuse a name or take an alias's.
  EXPECT_EQ(FailurePath("pipelines:\n"
                        "  - {name: p, kind: fan_out, models: [up/a, up/b]}\n"
                        "  - {name: q, kind: fan_out, models: [p, up/b]}\n"),
            "pipelines[1].models[0]");
  EXPECT_EQ(FailurePath("pipelines:\n"
                        "  - {name: p, kind: fan_out, models: [up/a, up/b]}\n"
                        "  - {name: p, kind: fan_out, models: [up/a, up/b]}\n"),
            "pipelines[1].name");
  EXPECT_EQ(FailurePath("pipelines:\n  - {name: smart, kind: fan_out, models: [up/a, up/b]}\n"),
            "pipelines[0].name");
  EXPECT_EQ(FailurePath("pipelines:\n  - {name: p, kind: fan_out, models: [up/a, smart]}\n"),
            "<ok>");
}

// ---- vision_then_reason ---------------------------------------------------------------------

TEST(PipelineTest, VisionRequestHoldsTheImageMessagesAndTheInstruction) {
  const ChatRequest in = Conversation();
  EXPECT_TRUE(HasImages(in));
  ChatRequest v = VisionRequest(in, "up/vision", "Describe!");
  EXPECT_EQ(v.model, "up/vision");
  EXPECT_FALSE(v.stream);
  EXPECT_TRUE(v.tools.empty());
  EXPECT_FALSE(v.temperature.has_value());
  ASSERT_EQ(v.messages.size(), 2u);  // the two user messages with images
  EXPECT_EQ(v.messages[0].Text(), "what is this?");
  ASSERT_EQ(v.messages[0].content.size(), 2u);
  EXPECT_EQ(v.messages[0].content[1].url, "https://x/a.png");
  const Message& last = v.messages[1];
  ASSERT_EQ(last.content.size(), 3u);
  EXPECT_EQ(last.content[0].type, PartType::kText);
  EXPECT_EQ(last.content[0].text, "Describe!");
  EXPECT_EQ(last.content[1].url, "https://x/b.png");
  EXPECT_EQ(last.content[2].text, "and this?");
}

TEST(PipelineTest, ReasonerRequestReplacesImagesWithTheDescription) {
  const ChatRequest in = Conversation();
  ChatRequest r = ReasonerRequest(in, "up/reason", "two cats");
  EXPECT_EQ(r.model, "up/reason");
  EXPECT_FALSE(HasImages(r));
  ASSERT_EQ(r.messages.size(), in.messages.size());
  EXPECT_EQ(r.temperature, 0.7);  // the caller's settings stay
  EXPECT_EQ(r.tools, in.tools);
  ASSERT_EQ(r.messages[1].content.size(), 2u);
  EXPECT_EQ(r.messages[1].content[1].type, PartType::kText);
  EXPECT_EQ(r.messages[1].content[1].text, "[image description: two cats]");
  EXPECT_EQ(r.messages[3].content[0].text, "[image 2: described above]");
  EXPECT_EQ(r.messages[3].content[1].text, "and this?");
  EXPECT_EQ(r.messages[4].Text(), "no image here");
}

TEST(PipelineTest, NoImagesNoVisionMessages) {
  ChatRequest in;
  in.messages.push_back(Msg(Role::kUser, {Text("hi")}));
  EXPECT_FALSE(HasImages(in));
  EXPECT_TRUE(VisionRequest(in, "v", "d").messages.empty());
  EXPECT_EQ(ReasonerRequest(in, "r", "d").messages[0].Text(), "hi");
}

// ---- fan_out and the judge ------------------------------------------------------------------

TEST(PipelineTest, JudgeRequestNumbersTheCandidates) {
  ChatRequest in = Conversation();
  ChatRequest j = JudgeRequest(in, "up/judge", {"first answer", "second answer"});
  EXPECT_EQ(j.model, "up/judge");
  ASSERT_EQ(j.messages.size(), 2u);
  EXPECT_EQ(j.messages[0].role, Role::kSystem);
  EXPECT_EQ(j.messages[1].role, Role::kUser);
  const std::string prompt = j.messages[1].Text();
  EXPECT_NE(prompt.find("Question:\nno image here"), std::string::npos) << prompt;
  const size_t one = prompt.find("[1]\nfirst answer");
  const size_t two = prompt.find("[2]\nsecond answer");
  ASSERT_NE(one, std::string::npos) << prompt;
  ASSERT_NE(two, std::string::npos) << prompt;
  EXPECT_LT(one, two);
  EXPECT_TRUE(j.tools.empty());
}

TEST(PipelineTest, ParseVerdictTakesTheFirstIntegerInRange) {
  EXPECT_EQ(ParseVerdict("2", 3), 1u);
  EXPECT_EQ(ParseVerdict("The best answer is [3].", 3), 2u);
  EXPECT_EQ(ParseVerdict("1 or 2", 2), 0u);
  EXPECT_EQ(ParseVerdict("Answer 2 is better than 1", 2), 1u);
  EXPECT_EQ(ParseVerdict("4", 3), std::nullopt);
  EXPECT_EQ(ParseVerdict("0", 3), std::nullopt);
  EXPECT_EQ(ParseVerdict("none of them", 3), std::nullopt);
  EXPECT_EQ(ParseVerdict("", 3), std::nullopt);
  EXPECT_EQ(ParseVerdict("99999999999999999999999", 3), std::nullopt);
}

ChatResponse Answer(std::string id, std::string text, int64_t prompt, int64_t completion) {
  ChatResponse r;
  r.id = std::move(id);
  r.model = "m-" + text;
  r.created = 7;
  Choice c;
  c.message.role = Role::kAssistant;
  c.message.content.push_back(Text(std::move(text)));
  c.finish_reason = FinishReason::kStop;
  r.choices.push_back(std::move(c));
  r.usage = Usage{.prompt_tokens = prompt, .completion_tokens = completion};
  return r;
}

TEST(PipelineTest, MergeAnswersMakesOneChoicePerAnswerAndSumsUsage) {
  ChatResponse empty;  // no choices: skipped, but its usage counts
  empty.usage = Usage{.prompt_tokens = 1};
  ChatResponse m =
      MergeAnswers({Answer("a", "alpha", 10, 2), empty, Answer("b", "beta", 20, 3)}, "pipe");
  EXPECT_EQ(m.model, "pipe");
  EXPECT_EQ(m.id, "a");
  ASSERT_EQ(m.choices.size(), 2u);
  EXPECT_EQ(m.choices[0].index, 0);
  EXPECT_EQ(m.choices[0].message.Text(), "alpha");
  EXPECT_EQ(m.choices[1].index, 1);
  EXPECT_EQ(m.choices[1].message.Text(), "beta");
  ASSERT_TRUE(m.usage.has_value());
  EXPECT_EQ(m.usage->prompt_tokens, 31);
  EXPECT_EQ(m.usage->completion_tokens, 5);
}

TEST(PipelineTest, ResponseEventsStreamEachChoiceThenUsageThenDone) {
  ChatResponse m = MergeAnswers({Answer("a", "alpha", 10, 2), Answer("b", "beta", 20, 3)}, "p");
  std::vector<StreamEvent> ev = ResponseEvents(m);
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev[0].kind, StreamEvent::Kind::kDelta);
  EXPECT_EQ(ev[0].deltas.at(0).index, 0);
  EXPECT_EQ(ev[0].deltas.at(0).role, "assistant");
  EXPECT_EQ(ev[0].deltas.at(0).text, "alpha");
  EXPECT_EQ(ev[1].deltas.at(0).finish_reason, FinishReason::kStop);
  EXPECT_EQ(ev[2].deltas.at(0).index, 1);
  EXPECT_EQ(ev[2].deltas.at(0).text, "beta");
  EXPECT_EQ(ev[4].kind, StreamEvent::Kind::kUsage);
  EXPECT_EQ(ev[4].usage->total(), 35);
  EXPECT_EQ(ev[5].kind, StreamEvent::Kind::kDone);
  EXPECT_EQ(ev[5].model, "p");
}

// Reads `stream` to its end: every event, then the usage it reports.
boost::asio::awaitable<void> Drain(UpstreamStream* stream, std::vector<StreamEvent>* events,
                                   int* reads) {
  while (true) {
    ++*reads;
    auto more = co_await stream->Next(*events);
    if (!more.ok() || !*more) break;
  }
  // A stream that ended stays ended.
  auto again = co_await stream->Next(*events);
  EXPECT_TRUE(again.ok() && !*again);
}

TEST(PipelineTest, AKnownAnswerStreamsOnceWithTheAddedUsage) {
  ChatResponse m = MergeAnswers({Answer("a", "alpha", 10, 2)}, "p");
  UpstreamStream stream(ResponseEvents(m));
  stream.AddUsage(Usage{.prompt_tokens = 5, .completion_tokens = 1});
  std::vector<StreamEvent> events;
  int reads = 0;
  boost::asio::io_context io;
  boost::asio::co_spawn(io, Drain(&stream, &events, &reads), boost::asio::detached);
  io.run();
  EXPECT_EQ(reads, 1);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].deltas.at(0).text, "alpha");
  ASSERT_TRUE(events[2].usage.has_value());
  EXPECT_EQ(events[2].usage->prompt_tokens, 15);
  ASSERT_TRUE(stream.usage().has_value());
  EXPECT_EQ(stream.usage()->completion_tokens, 3);
  EXPECT_EQ(events[3].kind, StreamEvent::Kind::kDone);
  stream.Cancel();  // no upstream call: nothing to end, and no crash
}

// ---- conditional ----------------------------------------------------------------------------

TEST(PipelineTest, MatchesChecksEverySetField) {
  PipelineCondition any;
  EXPECT_TRUE(Matches(any, true, 5, ""));
  EXPECT_TRUE(Matches(any, false, 5000, "gold"));
  PipelineCondition image{.modality = Modality::kImage};
  EXPECT_TRUE(Matches(image, true, 5, ""));
  EXPECT_FALSE(Matches(image, false, 5, ""));
  PipelineCondition text_only{.modality = Modality::kText};
  EXPECT_FALSE(Matches(text_only, true, 5, ""));
  EXPECT_TRUE(Matches(text_only, false, 5, ""));
  PipelineCondition sized{.min_prompt_tokens = 10, .max_prompt_tokens = 20};
  EXPECT_FALSE(Matches(sized, false, 9, ""));
  EXPECT_TRUE(Matches(sized, false, 10, ""));
  EXPECT_TRUE(Matches(sized, false, 20, ""));
  EXPECT_FALSE(Matches(sized, false, 21, ""));
  PipelineCondition gold{.tier = "gold"};
  EXPECT_TRUE(Matches(gold, false, 1, "gold"));
  EXPECT_FALSE(Matches(gold, false, 1, "silver"));
  EXPECT_FALSE(Matches(gold, false, 1, ""));
}

TEST(PipelineTest, PickRouteTakesTheFirstMatchElseTheDefault) {
  Pipeline p;
  p.kind = PipelineKind::kConditional;
  p.routes.push_back({PipelineCondition{.modality = Modality::kImage}, "vision"});
  p.routes.push_back({PipelineCondition{.min_prompt_tokens = 200}, "long"});
  p.routes.push_back({PipelineCondition{.tier = "gold"}, "premium"});
  p.routes.push_back({std::nullopt, "default"});
  ChatRequest short_text;
  short_text.messages.push_back(Msg(Role::kUser, {Text("hello")}));
  ChatRequest long_text;
  long_text.messages.push_back(Msg(Role::kUser, {Text(std::string(2000, 'x'))}));
  ASSERT_GE(text::EstimatePromptTokens(long_text), 200);
  ASSERT_LT(text::EstimatePromptTokens(short_text), 200);
  EXPECT_EQ(PickRoute(p, Conversation(), "")->model, "vision");
  EXPECT_EQ(PickRoute(p, long_text, "gold")->model, "long");
  EXPECT_EQ(PickRoute(p, short_text, "gold")->model, "premium");
  EXPECT_EQ(PickRoute(p, short_text, "")->model, "default");
  p.routes.pop_back();
  EXPECT_EQ(PickRoute(p, short_text, ""), nullptr);
  EXPECT_EQ(PrimaryModel(p), "premium");
}

}  // namespace
}  // namespace modelmux::routing
