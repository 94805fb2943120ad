// Multi-model pipelines through the gateway (config `pipelines:`), against `modelmux sim` as an
// OpenAI-compatible upstream. The simulator's echo models answer with the last user message's
// text, so each answer shows what that model was sent: a vision_then_reason reasoner's answer
// holds the vision model's description in place of the image; a fan_out returns one choice per
// model, equal to what each model says when asked directly; an echo judge answers its own
// prompt, whose first number is the caller's, so the caller decides the verdict; a conditional
// pipeline sends each request to the model its route names (counted by the simulator per model).
// OpenAI and Anthropic callers, streamed and not.

#include <gtest/gtest.h>

#include <map>

#include "answers.hpp"

namespace modelmux::testing {
namespace {

constexpr const char* kDescribe = "DESCRIBE:";

class Pipelines : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim());
    std::string config = dir_->Write("modelmux.yaml",
                                     "router:\n"
                                     "  num_retries: 0\n"
                                     "providers:\n"
                                     "  up:\n"
                                     "    type: openai\n"
                                     "    base_url: \"" +
                                         sim_->base_url +
                                         "/v1\"\n"
                                         "    api_key: k\n"
                                         "  down:\n"
                                         "    type: openai\n"
                                         "    base_url: http://127.0.0.1:1/v1\n"
                                         "    api_key: k\n"
                                         "pipelines:\n"
                                         "  - name: see\n"
                                         "    kind: vision_then_reason\n"
                                         "    vision: up/echo-vision\n"
                                         "    reasoner: up/echo-reason\n"
                                         "    describe_prompt: \"" +
                                         kDescribe +
                                         "\"\n"
                                         "  - name: many\n"
                                         "    kind: fan_out\n"
                                         "    models: [up/echo-a, up/chat-b]\n"
                                         "  - name: judged\n"
                                         "    kind: fan_out\n"
                                         "    models: [up/echo-a, up/chat-b]\n"
                                         "    judge: up/echo-judge\n"
                                         "  - name: partial\n"
                                         "    kind: fan_out\n"
                                         "    models: [down/x, up/echo-a]\n"
                                         "  - name: broken\n"
                                         "    kind: fan_out\n"
                                         "    models: [down/x, down/y]\n"
                                         "  - name: pick\n"
                                         "    kind: conditional\n"
                                         "    routes:\n"
                                         "      - when: {modality: image}\n"
                                         "        model: up/echo-img\n"
                                         "      - when: {min_prompt_tokens: 200}\n"
                                         "        model: up/echo-long\n"
                                         "      - when: {tier: gold}\n"
                                         "        model: up/echo-gold\n"
                                         "      - model: up/echo-default\n");
    gw_ = new Service(StartGateway({"--config", config}));
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete sim_;
    delete dir_;
    gw_ = sim_ = nullptr;
    dir_ = nullptr;
  }

  static HttpResult OpenAi(const std::string& body, HeaderList headers = {}) {
    headers.emplace_back("content-type", "application/json");
    return Http("POST", gw_->base_url + "/v1/chat/completions", body, std::move(headers));
  }
  static HttpResult Anthropic(const std::string& body) {
    return Http("POST", gw_->base_url + "/v1/messages", body,
                {{"content-type", "application/json"}, {"anthropic-version", "2023-06-01"}});
  }
  // What the simulator answers when asked directly (model without the provider prefix).
  static Answer Direct(const std::string& body) {
    return FromOpenAi(Http("POST", sim_->base_url + "/v1/chat/completions", body,
                           {{"content-type", "application/json"}}),
                      false);
  }
  static int64_t Calls(std::string_view model) { return SimModelCalls(*sim_, model); }

  static TempDir* dir_;
  static Service* sim_;
  static Service* gw_;
};

TempDir* Pipelines::dir_ = nullptr;
Service* Pipelines::sim_ = nullptr;
Service* Pipelines::gw_ = nullptr;

// The text of every choice of an OpenAI answer, by index (whole or streamed).
std::map<int64_t, std::string> ChoiceTexts(const HttpResult& r, bool stream) {
  std::map<int64_t, std::string> out;
  auto take = [&out](const json::value& choices, const char* field) {
    if (!choices.is_array()) return;
    for (const json::value& c : choices.get_array()) {
      const json::object& o = c.get_object();
      const json::value* m = o.if_contains(field);
      if (m == nullptr || !m->is_object()) continue;
      const json::value* t = m->get_object().if_contains("content");
      out[o.at("index").to_number<int64_t>()] += t != nullptr ? Str(*t) : "";
    }
  };
  if (!stream) {
    json::value v = ParseJson(r.body);
    if (v.is_object() && v.get_object().contains("choices")) take(v.at("choices"), "message");
    return out;
  }
  for (const std::string& data : SseData(r.body)) {
    json::value v = ParseJson(data);
    if (v.is_object() && v.get_object().contains("choices")) take(v.at("choices"), "delta");
  }
  return out;
}

const std::string kImageQuestion = "What is in this picture?";

// ---- vision_then_reason ---------------------------------------------------------------------

TEST_F(Pipelines, VisionThenReasonGivesTheReasonerTheDescription) {
  const int64_t vision_before = Calls("echo-vision");
  const int64_t reason_before = Calls("echo-reason");
  HttpResult r = OpenAi(OpenAiBody("see", kImageQuestion, Kind::kImage, false));
  ASSERT_EQ(r.status, 200) << r.body;
  Answer a = FromOpenAi(r, false);
  // The vision model (echo) saw the instruction and the question; the reasoner (echo) saw the
  // question and the description instead of the image.
  // (The simulator states the image it received before it echoes.)
  const std::string description = TinyPngLine() + kDescribe + "\n" + kImageQuestion;
  const std::string expected = kImageQuestion + "\n[image description: " + description + "]";
  EXPECT_EQ(a.text, expected);
  EXPECT_EQ(Calls("echo-vision"), vision_before + 1);
  EXPECT_EQ(Calls("echo-reason"), reason_before + 1);

  // Usage is the sum of the two calls, as the simulator counts them when asked directly.
  const std::string url = "data:image/png;base64," + std::string(kTinyPngBase64);
  json::object image{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}};
  json::array vision_content{json::object{{"type", "text"}, {"text", kDescribe}},
                             json::object{{"type", "text"}, {"text", kImageQuestion}}, image};
  json::array reason_content{
      json::object{{"type", "text"}, {"text", kImageQuestion}},
      json::object{{"type", "text"}, {"text", "[image description: " + description + "]"}}};
  auto body = [](std::string_view model, json::array content) {
    return json::serialize(json::object{
        {"model", model},
        {"messages", json::array{json::object{{"role", "user"}, {"content", content}}}}});
  };
  Answer vision = Direct(body("echo-vision", vision_content));
  Answer reason = Direct(body("echo-reason", reason_content));
  EXPECT_EQ(vision.text, description);
  EXPECT_EQ(reason.text, expected);
  EXPECT_EQ(a.prompt_tokens, vision.prompt_tokens + reason.prompt_tokens);
  EXPECT_EQ(a.completion_tokens, vision.completion_tokens + reason.completion_tokens);

  // Streamed: the same text and usage.
  HttpResult s = OpenAi(OpenAiBody("see", kImageQuestion, Kind::kImage, true));
  ASSERT_EQ(s.status, 200) << s.body;
  Answer sa = FromOpenAi(s, true);
  EXPECT_TRUE(sa.terminated);
  EXPECT_EQ(sa.text, expected);
  EXPECT_EQ(sa.prompt_tokens, a.prompt_tokens);
  EXPECT_EQ(sa.completion_tokens, a.completion_tokens);
}

TEST_F(Pipelines, VisionThenReasonForAnthropicCallers) {
  const std::string expected = kImageQuestion + "\n[image description: " + TinyPngLine() +
                               kDescribe + "\n" + kImageQuestion + "]";
  for (bool stream : {false, true}) {
    HttpResult r = Anthropic(AnthropicBody("see", kImageQuestion, Kind::kImage, stream));
    ASSERT_EQ(r.status, 200) << r.body;
    Answer a = FromAnthropic(r, stream);
    EXPECT_EQ(a.text, expected) << "stream=" << stream;
    EXPECT_EQ(a.finish, "stop");
  }
}

TEST_F(Pipelines, VisionThenReasonWithoutImagesAsksTheReasonerOnly) {
  const int64_t vision_before = Calls("echo-vision");
  HttpResult r = OpenAi(ChatBody("see", "just text"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(FromOpenAi(r, false).text, "just text");
  EXPECT_EQ(Calls("echo-vision"), vision_before);
}

// ---- fan_out --------------------------------------------------------------------------------

TEST_F(Pipelines, FanOutReturnsEveryModelsAnswerAsAChoice) {
  const std::string prompt = "Name a river";
  Answer a = Direct(ChatBody("echo-a", prompt));
  Answer b = Direct(ChatBody("chat-b", prompt));
  ASSERT_NE(a.text, b.text);
  for (bool stream : {false, true}) {
    HttpResult r = OpenAi(OpenAiBody("many", prompt, Kind::kText, stream));
    ASSERT_EQ(r.status, 200) << r.body;
    std::map<int64_t, std::string> texts = ChoiceTexts(r, stream);
    ASSERT_EQ(texts.size(), 2u) << r.body;
    EXPECT_EQ(texts[0], a.text);
    EXPECT_EQ(texts[1], b.text);
    EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "up/echo-a,up/chat-b");
    Answer whole = FromOpenAi(r, stream);
    EXPECT_EQ(whole.prompt_tokens, a.prompt_tokens + b.prompt_tokens);
    EXPECT_EQ(whole.completion_tokens, a.completion_tokens + b.completion_tokens);
    EXPECT_EQ(whole.terminated, stream);
  }
}

TEST_F(Pipelines, FanOutDropsAFailedMemberAndFailsOnlyWhenAllFail) {
  HttpResult r = OpenAi(ChatBody("partial", "still here"));
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<int64_t, std::string> texts = ChoiceTexts(r, false);
  ASSERT_EQ(texts.size(), 1u) << r.body;
  EXPECT_EQ(texts[0], "still here");

  HttpResult broken = OpenAi(ChatBody("broken", "nobody home"));
  EXPECT_GE(broken.status, 500) << broken.body;
  ExpectOpenAiError(broken.body);
}

TEST_F(Pipelines, FanOutJudgePicksTheNamedCandidate) {
  // The echo judge answers its own prompt, "Question:\n<the question>...": the question's first
  // number is its verdict.
  const std::string prompt = "Pick 2 for me";
  Answer b = Direct(ChatBody("chat-b", prompt));
  const int64_t judge_before = Calls("echo-judge");
  HttpResult r = OpenAi(ChatBody("judged", prompt));
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<int64_t, std::string> texts = ChoiceTexts(r, false);
  ASSERT_EQ(texts.size(), 1u) << r.body;
  EXPECT_EQ(texts[0], b.text);
  EXPECT_EQ(Calls("echo-judge"), judge_before + 1);
  EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "up/chat-b");
  EXPECT_EQ(Str(ParseJson(r.body).at("model")), "chat-b");

  // A verdict out of range: the first answer.
  HttpResult out_of_range = OpenAi(ChatBody("judged", "Pick 7 for me"));
  ASSERT_EQ(out_of_range.status, 200) << out_of_range.body;
  EXPECT_EQ(ChoiceTexts(out_of_range, false)[0], "Pick 7 for me");
  EXPECT_EQ(out_of_range.headers.Get("x-modelmux-notes"), "judge_verdict_unusable");
  EXPECT_EQ(r.headers.Get("x-modelmux-notes"), "");
  EXPECT_EQ(Calls("echo-judge"), judge_before + 2);

  // Anthropic callers, streamed and not, get the chosen answer.
  for (bool stream : {false, true}) {
    HttpResult m = Anthropic(AnthropicBody("judged", prompt, Kind::kText, stream));
    ASSERT_EQ(m.status, 200) << m.body;
    EXPECT_EQ(FromAnthropic(m, stream).text, b.text) << "stream=" << stream;
  }
}

TEST(PipelinesTiming, FanOutAsksItsModelsAtTheSameTime) {
  // Every simulator answer takes 500 ms: one after the other, three would take 1.5 s.
  TempDir dir;
  Service sim = StartSim({"--latency-ms", "500"});
  std::string config = dir.Write("modelmux.yaml",
                                 "providers:\n"
                                 "  up:\n"
                                 "    type: openai\n"
                                 "    base_url: \"" +
                                     sim.base_url +
                                     "/v1\"\n"
                                     "    api_key: k\n"
                                     "pipelines:\n"
                                     "  - name: three\n"
                                     "    kind: fan_out\n"
                                     "    models: [up/echo-1, up/echo-2, up/echo-3]\n");
  Service gw = StartGateway({"--config", config});
  const auto start = std::chrono::steady_clock::now();
  HttpResult r = Http("POST", gw.base_url + "/v1/chat/completions", ChatBody("three", "hi"),
                      {{"content-type", "application/json"}});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ChoiceTexts(r, false).size(), 3u);
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 1300ms);
}

// ---- conditional ----------------------------------------------------------------------------

TEST_F(Pipelines, ConditionalRoutesByModalityLengthAndTier) {
  struct Case {
    std::string body;
    HeaderList headers;
    std::string model;
  };
  const std::vector<Case> cases = {
      {OpenAiBody("pick", "look", Kind::kImage, false), {}, "echo-img"},
      {ChatBody("pick", std::string(2000, 'x')), {}, "echo-long"},
      {ChatBody("pick", "short"), {{"x-modelmux-tier", "gold"}}, "echo-gold"},
      {ChatBody("pick", "short"), {{"x-modelmux-tier", "silver"}}, "echo-default"},
      {ChatBody("pick", "short"), {}, "echo-default"},
  };
  for (const Case& c : cases) {
    const int64_t before = Calls(c.model);
    HttpResult r = OpenAi(c.body, c.headers);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Calls(c.model), before + 1) << c.model;
    EXPECT_EQ(Str(ParseJson(r.body).at("model")), c.model);
    EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "up/" + c.model);
  }
  // Streamed, both callers.
  const int64_t before = Calls("echo-img");
  HttpResult s = OpenAi(OpenAiBody("pick", "look", Kind::kImage, true));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(FromOpenAi(s, true).text, TinyPngLine() + "look");
  HttpResult m = Anthropic(AnthropicBody("pick", "look", Kind::kImage, true));
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(FromAnthropic(m, true).text, TinyPngLine() + "look");
  EXPECT_EQ(Calls("echo-img"), before + 2);
}

TEST_F(Pipelines, ModelsListsThePipelines) {
  HttpResult r = Http("GET", gw_->base_url + "/v1/models");
  ASSERT_EQ(r.status, 200) << r.body;
  for (const char* name : {"see", "many", "judged", "pick"}) {
    EXPECT_NE(r.body.find(std::string("\"") + name + "\""), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace modelmux::testing
