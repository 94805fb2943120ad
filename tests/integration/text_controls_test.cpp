// Text and cost controls through the gateway (docs/TEXT.md), against `modelmux sim` as an
// OpenAI-compatible upstream. The simulator's echo models answer with the last user message, so
// an answer shows what reached the provider; /sim/stats counts calls per model.
//   - split_sentences re-flows the last user message, one sentence per line;
//   - context (per request and per alias) reaches the provider as a system message and is counted;
//   - max_tokens defaults and caps, with x-modelmux-max-tokens-clamped;
//   - cheaper variants for short requests;
//   - the pre-flight context check: routed to a longer-context model, or 400 before any call;
//   - map_reduce over a long input: N map calls and one reduce call, usage summed;
//   - a virtual key's max_tokens default and cap (clamped, with the same header; the tighter of
//     the key's and the alias's cap wins) in both dialects, and its domain context.

#include <gtest/gtest.h>

#include "answers.hpp"

namespace modelmux::testing {
namespace {

class TextControls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim());
    const std::string config =
        dir_->Write("modelmux.yaml",
                    "router:\n"
                    "  num_retries: 0\n"
                    "providers:\n"
                    "  up:\n"
                    "    type: openai\n"
                    "    base_url: \"" +
                        sim_->base_url +
                        "/v1\"\n"
                        "    api_key: k\n"
                        "models:\n"
                        "  - name: legal\n"
                        "    model: up/echo-legal\n"
                        "    context: \"术语：要约 = offer\"\n"
                        "  - name: capped\n"
                        "    model: up/chat-capped\n"
                        "    max_tokens: {default: 3, cap: 5}\n"
                        "  - name: smart\n"
                        "    model: up/echo-smart\n"
                        "    cheaper: {model: up/echo-cheap, max_prompt_tokens: 30}\n"
                        "  - name: small\n"
                        "    model: up/echo-small\n"
                        "    context_window: 60\n"
                        "    context_window_fallback: roomy\n"
                        "  - name: roomy\n"
                        "    model: up/echo-roomy\n"
                        "    context_window: 100000\n"
                        "  - name: tight\n"
                        "    model: up/echo-ctx40\n"
                        "    context_window_fallback: roomy\n"
                        "  - name: boxed\n"
                        "    model: up/echo-boxed\n"
                        "    context_window: 60\n"
                        "pipelines:\n"
                        "  - name: digest\n"
                        "    kind: map_reduce\n"
                        "    map: up/echo-map\n"
                        "    reduce: up/echo-reduce\n"
                        "    chunk_tokens: 40\n"
                        "    concurrency: 3\n"
                        "    map_prompt: \"MAP {i}/{n}\"\n"
                        "    reduce_prompt: \"REDUCE {n}\"\n");
    gw_ = new Service(StartGateway({"--config", config}));
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete sim_;
    delete dir_;
    gw_ = sim_ = nullptr;
    dir_ = nullptr;
  }

  static HttpResult Post(const json::object& body) {
    return Http("POST", gw_->base_url + "/v1/chat/completions", json::serialize(body),
                {{"content-type", "application/json"}});
  }
  static json::object Body(std::string_view model, std::string_view text) {
    return json::object{
        {"model", model},
        {"messages", json::array{json::object{{"role", "user"}, {"content", text}}}}};
  }
  static int64_t Calls(std::string_view model) { return SimModelCalls(*sim_, model); }

  static TempDir* dir_;
  static Service* sim_;
  static Service* gw_;
};

TempDir* TextControls::dir_ = nullptr;
Service* TextControls::sim_ = nullptr;
Service* TextControls::gw_ = nullptr;

TEST_F(TextControls, SplitSentencesReflowsTheUserMessage) {
  json::object body = Body("up/echo-split", "第一句。第二句！Is 3.14 pi? Yes.");
  body["split_sentences"] = json::object{{"numbered", true}};
  for (bool stream : {false, true}) {
    body["stream"] = stream;
    HttpResult r = Post(body);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(FromOpenAi(r, stream).text, "[1] 第一句。\n[2] 第二句！\n[3] Is 3.14 pi?\n[4] Yes.");
    EXPECT_EQ(r.headers.Get("x-modelmux-sentences"), "4");
  }
  // A malformed extension is the caller's error, named, before any call.
  const int64_t before = Calls("echo-split");
  json::object bad = Body("up/echo-split", "x");
  bad["split_sentences"] = "yes";
  HttpResult e = Post(bad);
  EXPECT_EQ(e.status, 400) << e.body;
  EXPECT_EQ(Str(ExpectOpenAiError(e.body).at("param")), "split_sentences");
  EXPECT_EQ(Calls("echo-split"), before);
}

TEST_F(TextControls, ContextReachesTheProviderAsASystemMessageAndIsCounted) {
  HttpResult plain = Post(Body("up/echo-ctx", "什么是要约？"));
  ASSERT_EQ(plain.status, 200) << plain.body;
  json::object body = Body("up/echo-ctx", "什么是要约？");
  body["context"] =
      json::object{{"background", "买卖合同纠纷"}, {"glossary", json::object{{"要约", "offer"}}}};
  HttpResult with = Post(body);
  ASSERT_EQ(with.status, 200) << with.body;
  Answer a = FromOpenAi(plain, false), b = FromOpenAi(with, false);
  EXPECT_EQ(b.text, "什么是要约？");  // the echo is still the user's message
  const int64_t context_tokens =
      std::stoll(std::string(with.headers.Get("x-modelmux-context-tokens")));
  EXPECT_GT(context_tokens, 0);
  // The simulator counted one more message: the context's tokens plus its message overhead.
  EXPECT_GT(b.prompt_tokens, a.prompt_tokens + context_tokens / 2);

  // The alias's own context.
  HttpResult alias = Post(Body("legal", "什么是要约？"));
  ASSERT_EQ(alias.status, 200) << alias.body;
  EXPECT_FALSE(alias.headers.Get("x-modelmux-context-tokens").empty());
  EXPECT_GT(FromOpenAi(alias, false).prompt_tokens, a.prompt_tokens);
}

TEST_F(TextControls, MaxTokensDefaultAndCap) {
  HttpResult d = Post(Body("capped", "Tell me a long story."));
  ASSERT_EQ(d.status, 200) << d.body;
  Answer a = FromOpenAi(d, false);
  EXPECT_EQ(a.completion_tokens, 3);  // the default, as the simulator was asked
  EXPECT_EQ(a.finish, "length");
  EXPECT_TRUE(d.headers.Get("x-modelmux-max-tokens-clamped").empty());

  json::object body = Body("capped", "Tell me a long story.");
  body["max_tokens"] = 500;
  for (bool stream : {false, true}) {
    body["stream"] = stream;
    if (stream) body["stream_options"] = json::object{{"include_usage", true}};
    HttpResult c = Post(body);
    ASSERT_EQ(c.status, 200) << c.body;
    EXPECT_EQ(c.headers.Get("x-modelmux-max-tokens-clamped"), "500->5");
    EXPECT_EQ(FromOpenAi(c, stream).completion_tokens, 5);
  }
}

TEST_F(TextControls, ShortRequestsGoToTheCheaperVariant) {
  const int64_t cheap = Calls("echo-cheap"), smart = Calls("echo-smart");
  HttpResult s = Post(Body("smart", "2+2?"));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_NE(std::string(s.headers.Get("x-modelmux-notes")).find("cheaper_variant:up/echo-cheap"),
            std::string::npos);
  EXPECT_EQ(Calls("echo-cheap"), cheap + 1);
  std::string long_text;
  for (int i = 0; i < 30; ++i) long_text += "more words here ";
  HttpResult l = Post(Body("smart", long_text));
  ASSERT_EQ(l.status, 200) << l.body;
  EXPECT_EQ(Calls("echo-smart"), smart + 1);
  EXPECT_EQ(Calls("echo-cheap"), cheap + 1);
}

TEST_F(TextControls, PreflightRoutesOrRefusesBeforeAnySpend) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "lorem ipsum ";
  const int64_t small = Calls("echo-small"), roomy = Calls("echo-roomy"),
                boxed = Calls("echo-boxed");
  HttpResult routed = Post(Body("small", text));
  ASSERT_EQ(routed.status, 200) << routed.body;
  EXPECT_NE(
      std::string(routed.headers.Get("x-modelmux-notes")).find("context_window_fallback:roomy"),
      std::string::npos);
  EXPECT_EQ(Calls("echo-roomy"), roomy + 1);
  EXPECT_EQ(Calls("echo-small"), small);

  HttpResult refused = Post(Body("boxed", text));
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(Str(ExpectOpenAiError(refused.body).at("code")), "context_length_exceeded");
  EXPECT_EQ(Calls("echo-boxed"), boxed);

  // A short prompt asking for more room than the window has is refused too.
  json::object room = Body("boxed", "hi");
  room["max_tokens"] = 1000;
  EXPECT_EQ(Post(room).status, 400);
  room["max_tokens"] = 10;
  EXPECT_EQ(Post(room).status, 200);
}

TEST_F(TextControls, TheProvidersContextLengthErrorFallsBackToTheLongerModel) {
  // The gateway does not know echo-ctx40's window, so the request goes out; the simulator's
  // provider-shaped context-length error sends it to the alias's context_window_fallback.
  std::string text;
  for (int i = 0; i < 40; ++i) text += "lorem ipsum ";
  const int64_t tight = Calls("echo-ctx40"), roomy = Calls("echo-roomy");
  HttpResult r = Post(Body("tight", text));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "up/echo-roomy");
  EXPECT_EQ(Calls("echo-ctx40"), tight + 1);
  EXPECT_EQ(Calls("echo-roomy"), roomy + 1);
  // A short one stays.
  HttpResult s = Post(Body("tight", "hi"));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.headers.Get("x-modelmux-deployment"), "up/echo-ctx40");
}

TEST_F(TextControls, MapReduceReadsALongInputInPartsAndSumsUsage) {
  std::string text;
  for (int i = 1; i <= 12; ++i) {
    text += "这是第" + std::to_string(i) + "句，内容关于合同的履行和违约责任。";
  }
  const int64_t maps = Calls("echo-map"), reduces = Calls("echo-reduce");
  HttpResult r = Post(Body("digest", text));
  ASSERT_EQ(r.status, 200) << r.body;
  Answer a = FromOpenAi(r, false);
  const int64_t parts = Calls("echo-map") - maps;
  EXPECT_GE(parts, 3);
  EXPECT_EQ(Calls("echo-reduce"), reduces + 1);
  EXPECT_NE(std::string(r.headers.Get("x-modelmux-notes"))
                .find("map_reduce_parts:" + std::to_string(parts)),
            std::string::npos);
  // The reducer (echo) answers its own prompt: the instruction and the echoed parts in order,
  // which together hold every sentence of the input.
  EXPECT_EQ(a.text.rfind("REDUCE " + std::to_string(parts), 0), 0u) << a.text;
  size_t at = 0;
  for (int i = 1; i <= 12; ++i) {
    const std::string sentence = "这是第" + std::to_string(i) + "句";
    const size_t found = a.text.find(sentence, at);
    ASSERT_NE(found, std::string::npos) << sentence;
    at = found;
  }
  EXPECT_NE(a.text.find("[Part " + std::to_string(parts) + " of " + std::to_string(parts) + "]"),
            std::string::npos);
  // Usage is more than the reducer's alone: the map calls are included.
  json::object reduce_only = Body("echo-reduce", a.text);
  HttpResult direct = Http("POST", sim_->base_url + "/v1/chat/completions",
                           json::serialize(reduce_only), {{"content-type", "application/json"}});
  Answer d = FromOpenAi(direct, false);
  EXPECT_GT(a.prompt_tokens, d.prompt_tokens);
  EXPECT_GT(a.completion_tokens, d.completion_tokens);

  // A short input is answered by the reducer alone.
  const int64_t maps2 = Calls("echo-map");
  HttpResult s = Post(Body("digest", "短文本。"));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(FromOpenAi(s, false).text, "短文本。");
  EXPECT_EQ(Calls("echo-map"), maps2);

  // Streamed: the same text.
  json::object streamed = Body("digest", text);
  streamed["stream"] = true;
  HttpResult st = Post(streamed);
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_EQ(FromOpenAi(st, true).text, a.text);
}

// ---- per-key controls: a gateway with a master key and virtual keys --------------------------

const std::string kKeysMaster = "mk-text-controls-master-0123456789";

class TextControlsKeys : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    sim_ = new Service(StartSim());
    const std::string config = dir_->Write("modelmux.yaml",
                                           "router:\n"
                                           "  num_retries: 0\n"
                                           "providers:\n"
                                           "  up:\n"
                                           "    type: openai\n"
                                           "    base_url: \"" +
                                               sim_->base_url +
                                               "/v1\"\n"
                                               "    api_key: k\n"
                                               "models:\n"
                                               "  - name: capped\n"
                                               "    model: up/chat-capped\n"
                                               "    max_tokens: {default: 3, cap: 5}\n");
    gw_ = new Service(StartGateway({"--config", config}, {{"MODELMUX_MASTER_KEY", kKeysMaster}}));
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete sim_;
    delete dir_;
    gw_ = sim_ = nullptr;
    dir_ = nullptr;
  }
  static HeaderList Auth(const std::string& key) {
    return {{"authorization", "Bearer " + key}, {"content-type", "application/json"}};
  }
  // Creates a key; returns its secret and id.
  static std::pair<std::string, std::string> NewKey(const json::object& attributes) {
    HttpResult r =
        Http("POST", gw_->base_url + "/admin/keys", json::serialize(attributes), Auth(kKeysMaster));
    EXPECT_EQ(r.status, 201) << r.body;
    json::value v = ParseJson(r.body);
    if (!v.is_object()) return {};
    return {std::string(v.at("key").as_string()), std::string(v.at("id").as_string())};
  }
  static HttpResult OpenAi(const std::string& key, const json::object& body) {
    return Http("POST", gw_->base_url + "/v1/chat/completions", json::serialize(body), Auth(key));
  }
  static HttpResult Anthropic(const std::string& key, const json::object& body) {
    HeaderList h = Auth(key);
    h.emplace_back("anthropic-version", "2023-06-01");
    return Http("POST", gw_->base_url + "/v1/messages", json::serialize(body), h);
  }
  static json::object Body(std::string_view model, std::string_view text) {
    return json::object{
        {"model", model},
        {"messages", json::array{json::object{{"role", "user"}, {"content", text}}}}};
  }

  static TempDir* dir_;
  static Service* sim_;
  static Service* gw_;
};

TempDir* TextControlsKeys::dir_ = nullptr;
Service* TextControlsKeys::sim_ = nullptr;
Service* TextControlsKeys::gw_ = nullptr;

TEST_F(TextControlsKeys, KeyDefaultAndCapInBothDialects) {
  auto [key, id] = NewKey(
      json::object{{"models", json::array{"*"}}, {"max_tokens", 6}, {"default_max_tokens", 4}});
  // The attributes read back.
  HttpResult shown = Http("GET", gw_->base_url + "/admin/keys/" + id, {}, Auth(kKeysMaster));
  ASSERT_EQ(shown.status, 200) << shown.body;
  json::object attrs = ParseJson(shown.body).as_object();
  EXPECT_EQ(attrs.at("max_tokens").as_int64(), 6);
  EXPECT_EQ(attrs.at("default_max_tokens").as_int64(), 4);

  // OpenAI: none asked -> the key's default; above the cap -> clamped, and the header says so.
  HttpResult d = OpenAi(key, Body("up/chat-key", "Tell me a long story."));
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(FromOpenAi(d, false).completion_tokens, 4);
  EXPECT_TRUE(d.headers.Get("x-modelmux-max-tokens-clamped").empty());
  for (const char* field : {"max_tokens", "max_completion_tokens"}) {
    for (bool stream : {false, true}) {
      json::object body = Body("up/chat-key", "Tell me a long story.");
      body[field] = 100;
      body["stream"] = stream;
      if (stream) body["stream_options"] = json::object{{"include_usage", true}};
      HttpResult c = OpenAi(key, body);
      ASSERT_EQ(c.status, 200) << field << " " << c.body;  // clamped, no longer refused
      EXPECT_EQ(c.headers.Get("x-modelmux-max-tokens-clamped"), "100->6") << field;
      EXPECT_EQ(FromOpenAi(c, stream).completion_tokens, 6) << field;
    }
  }
  json::object under = Body("up/chat-key", "Tell me a long story.");
  under["max_tokens"] = 2;
  HttpResult u = OpenAi(key, under);
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(FromOpenAi(u, false).completion_tokens, 2);
  EXPECT_TRUE(u.headers.Get("x-modelmux-max-tokens-clamped").empty());

  // Anthropic: the same cap; a body without max_tokens (which Anthropic requires) gets the
  // key's default.
  for (bool stream : {false, true}) {
    json::object body = Body("up/chat-key", "Tell me a long story.");
    body["max_tokens"] = 100;
    body["stream"] = stream;
    HttpResult a = Anthropic(key, body);
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(a.headers.Get("x-modelmux-max-tokens-clamped"), "100->6");
    EXPECT_EQ(FromAnthropic(a, stream).completion_tokens, 6);
  }
  HttpResult ad = Anthropic(key, Body("up/chat-key", "Tell me a long story."));
  ASSERT_EQ(ad.status, 200) << ad.body;
  EXPECT_EQ(FromAnthropic(ad, false).completion_tokens, 4);

  // The tighter of the key's cap (6) and the alias's (5) wins; the header names the request.
  json::object big = Body("capped", "Tell me a long story.");
  big["max_tokens"] = 500;
  HttpResult alias = OpenAi(key, big);
  ASSERT_EQ(alias.status, 200) << alias.body;
  EXPECT_EQ(alias.headers.Get("x-modelmux-max-tokens-clamped"), "500->5");
  EXPECT_EQ(FromOpenAi(alias, false).completion_tokens, 5);
  HttpResult patched = Http("PATCH", gw_->base_url + "/admin/keys/" + id,
                            R"({"max_tokens":2,"default_max_tokens":null})", Auth(kKeysMaster));
  ASSERT_EQ(patched.status, 200) << patched.body;
  HttpResult tighter = OpenAi(key, big);
  ASSERT_EQ(tighter.status, 200) << tighter.body;
  EXPECT_EQ(tighter.headers.Get("x-modelmux-max-tokens-clamped"), "500->2");
  EXPECT_EQ(FromOpenAi(tighter, false).completion_tokens, 2);

  // A default above the cap is refused by the admin API, naming the field.
  HttpResult bad = Http("PATCH", gw_->base_url + "/admin/keys/" + id, R"({"default_max_tokens":3})",
                        Auth(kKeysMaster));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(Str(ExpectOpenAiError(bad.body).at("param")), "default_max_tokens");
}

TEST_F(TextControlsKeys, KeyContextReachesTheProviderAndIsCounted) {
  const std::string glossary = "术语表：要约 = offer；承诺 = acceptance；合同 = contract。";
  auto [plain_key, plain_id] = NewKey(json::object{{"models", json::array{"*"}}});
  auto [key, id] = NewKey(json::object{{"models", json::array{"*"}}, {"context", glossary}});
  (void)plain_id;
  HttpResult shown = Http("GET", gw_->base_url + "/admin/keys/" + id, {}, Auth(kKeysMaster));
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(ParseJson(shown.body).as_object().at("context").as_string(), glossary);

  const json::object body = Body("up/echo-keyctx", "什么是要约？");
  HttpResult p = OpenAi(plain_key, body);
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_TRUE(p.headers.Get("x-modelmux-context-tokens").empty());
  HttpResult k = OpenAi(key, body);
  ASSERT_EQ(k.status, 200) << k.body;
  const Answer a = FromOpenAi(p, false), b = FromOpenAi(k, false);
  EXPECT_EQ(b.text, "什么是要约？");  // the echo is still the user's message
  const std::string counted(k.headers.Get("x-modelmux-context-tokens"));
  ASSERT_FALSE(counted.empty());
  const int64_t key_tokens = std::stoll(counted);
  EXPECT_GT(key_tokens, 5);
  // The provider saw one more (system) message carrying the context.
  EXPECT_GT(b.prompt_tokens, a.prompt_tokens + key_tokens / 2);

  // With the request's own context too, both apply (more tokens than either alone).
  json::object both = body;
  both["context"] = "案件背景：买卖合同纠纷。";
  HttpResult w = OpenAi(key, both);
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_GT(std::stoll(std::string(w.headers.Get("x-modelmux-context-tokens"))), key_tokens);
  EXPECT_GT(FromOpenAi(w, false).prompt_tokens, b.prompt_tokens);

  // The Anthropic front door applies it too.
  json::object ab = body;
  ab["max_tokens"] = 50;
  HttpResult an = Anthropic(key, ab);
  ASSERT_EQ(an.status, 200) << an.body;
  EXPECT_EQ(std::string(an.headers.Get("x-modelmux-context-tokens")), counted);

  // Cleared with null: no context any more.
  HttpResult cleared =
      Http("PATCH", gw_->base_url + "/admin/keys/" + id, R"({"context":null})", Auth(kKeysMaster));
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  HttpResult after = OpenAi(key, body);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_TRUE(after.headers.Get("x-modelmux-context-tokens").empty());

  // Bounded: more than 32 KiB is refused.
  HttpResult huge =
      Http("PATCH", gw_->base_url + "/admin/keys/" + id,
           json::serialize(json::object{{"context", std::string(32 * 1024 + 1, 'x')}}),
           Auth(kKeysMaster));
  EXPECT_EQ(huge.status, 400) << huge.body;
}

}  // namespace
}  // namespace modelmux::testing
