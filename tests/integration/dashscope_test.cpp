// Alibaba DashScope (native API) through the gateway: a caller speaking OpenAI reaches `modelmux
// sim`'s DashScope endpoints with DASHSCOPE_API_KEY (Bearer) and DASHSCOPE_BASE_URL from the
// environment. Streamed and whole answers agree with each other and with the simulator asked
// directly, image requests go to the multimodal path, errors in DashScope's shape reach the
// caller with the right status, and /v1/embeddings reaches the native text-embedding endpoint.

#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr const char* kApiKey = "ds-itest-key-7f3a";
constexpr const char* kModel = "dashscope/qwen-plus";
constexpr const char* kTextPath = "/api/v1/services/aigc/text-generation/generation";
constexpr const char* kVlPath = "/api/v1/services/aigc/multimodal-generation/generation";
constexpr const char* kEmbPath = "/api/v1/services/embeddings/text-embedding/text-embedding";
constexpr const char* kPrompt = "Tell me about the Qiantang river";
// A 1x1 PNG.
constexpr const char* kPng =
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9Q"
    "DwADhgGAWjR9awAAAABJRU5ErkJggg==";

struct DashScopeSetup {
  Service sim;
  Service gateway;

  explicit DashScopeSetup(std::string base_suffix = {}) {
    sim = StartSim({"--require-key", kApiKey});  // the Bearer key must arrive
    gateway = StartGateway(
        {}, {{"DASHSCOPE_API_KEY", kApiKey}, {"DASHSCOPE_BASE_URL", sim.base_url + base_suffix}});
  }

  HttpResult Chat(std::string_view extra = {}, HeaderList headers = {},
                  std::string_view model = kModel) {
    return Http("POST", gateway.base_url + "/v1/chat/completions", ChatBody(model, kPrompt, extra),
                std::move(headers));
  }

  int64_t ByPath(std::string_view path) const {
    json::value v = ParseJson(Http("GET", sim.base_url + "/sim/stats").body);
    const json::value* by_path = v.is_object() ? v.get_object().if_contains("by_path") : nullptr;
    if (by_path == nullptr || !by_path->is_object()) return 0;
    const json::value* n = by_path->get_object().if_contains(path);
    return n != nullptr && n->is_int64() ? n->get_int64() : 0;
  }
};

struct Answer {
  std::string text;
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
  std::string finish;
};

Answer FromWhole(std::string_view body) {
  Answer a;
  json::value v = ParseJson(body);
  if (!v.is_object()) return a;
  const json::value& choice = v.at("choices").at(0);
  a.text = Str(choice.at("message").at("content"));
  a.finish = Str(choice.at("finish_reason"));
  a.prompt_tokens = v.at("usage").at("prompt_tokens").to_number<int64_t>();
  a.completion_tokens = v.at("usage").at("completion_tokens").to_number<int64_t>();
  return a;
}

Answer FromStream(std::string_view body) {
  Answer a;
  for (const std::string& data : SseData(body)) {
    if (data == "[DONE]") continue;
    json::value v = ParseJson(data);
    if (!v.is_object()) continue;
    const json::object& o = v.get_object();
    if (const json::value* choices = o.if_contains("choices");
        choices && choices->is_array() && !choices->get_array().empty()) {
      const json::value& c = choices->get_array()[0];
      if (const json::value* d = c.get_object().if_contains("delta")) {
        if (const json::value* content = d->get_object().if_contains("content")) {
          a.text += Str(*content);
        }
      }
      if (std::string f = Str(c.at("finish_reason")); !f.empty()) a.finish = f;
    }
    if (const json::value* u = o.if_contains("usage"); u && u->is_object()) {
      a.prompt_tokens = u->at("prompt_tokens").to_number<int64_t>();
      a.completion_tokens = u->at("completion_tokens").to_number<int64_t>();
    }
  }
  return a;
}

TEST(DashScopeIntegrationTest, WholeAndStreamedAnswersAgreeWithTheSimulator) {
  DashScopeSetup s;
  HttpResult whole = s.Chat();
  ASSERT_EQ(whole.status, 200) << whole.body << "\n" << s.gateway.process->stderr_tail();
  Answer w = FromWhole(whole.body);
  EXPECT_FALSE(w.text.empty());
  EXPECT_EQ(w.finish, "stop");
  EXPECT_GT(w.prompt_tokens, 0);

  HttpResult streamed = s.Chat(R"("stream":true,"stream_options":{"include_usage":true})");
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  Answer st = FromStream(streamed.body);
  EXPECT_EQ(st.text, w.text);
  EXPECT_EQ(st.finish, "stop");
  EXPECT_EQ(st.prompt_tokens, w.prompt_tokens);
  EXPECT_EQ(st.completion_tokens, w.completion_tokens);
  EXPECT_NE(streamed.body.find("data: [DONE]"), std::string::npos);

  // The simulator asked directly, in its default cumulative stream, says the same.
  const std::string direct_body = json::serialize(json::object{
      {"model", "qwen-plus"},
      {"input", json::object{{"messages",
                              json::array{json::object{{"role", "user"}, {"content", kPrompt}}}}}},
      {"parameters", json::object{{"result_format", "message"}}}});
  HttpResult direct = Http("POST", s.sim.base_url + kTextPath, direct_body,
                           {{"authorization", std::string("Bearer ") + kApiKey}});
  ASSERT_EQ(direct.status, 200) << direct.body;
  json::value d = ParseJson(direct.body);
  EXPECT_EQ(Str(d.at("output").at("choices").at(0).at("message").at("content")), w.text);
  EXPECT_EQ(d.at("usage").at("input_tokens").to_number<int64_t>(), w.prompt_tokens);
  EXPECT_EQ(d.at("usage").at("output_tokens").to_number<int64_t>(), w.completion_tokens);
  EXPECT_EQ(s.ByPath(kTextPath), 3);
}

TEST(DashScopeIntegrationTest, BaseUrlWithApiV1WorksToo) {
  DashScopeSetup s("/api/v1/");
  HttpResult r = s.Chat();
  ASSERT_EQ(r.status, 200) << r.body << "\n" << s.gateway.process->stderr_tail();
  EXPECT_EQ(s.ByPath(kTextPath), 1);
}

TEST(DashScopeIntegrationTest, CompatibleModeBaseUrlStaysOpenAi) {
  DashScopeSetup s("/dashscope/compatible-mode/v1");
  HttpResult r = s.Chat(R"("stream":true)");
  ASSERT_EQ(r.status, 200) << r.body << "\n" << s.gateway.process->stderr_tail();
  EXPECT_FALSE(FromStream(r.body).text.empty());
  EXPECT_EQ(s.ByPath("/dashscope/compatible-mode/v1/chat/completions"), 1);
  EXPECT_EQ(s.ByPath(kTextPath), 0);
}

TEST(DashScopeIntegrationTest, ImagesGoToTheMultimodalPath) {
  DashScopeSetup s;
  const std::string body = json::serialize(json::object{
      {"model", "dashscope/qwen-vl-max"},
      {"messages",
       json::array{json::object{
           {"role", "user"},
           {"content", json::array{json::object{{"type", "text"}, {"text", "What is this?"}},
                                   json::object{{"type", "image_url"},
                                                {"image_url", json::object{{"url", kPng}}}}}}}}}});
  HttpResult whole = Http("POST", s.gateway.base_url + "/v1/chat/completions", body);
  ASSERT_EQ(whole.status, 200) << whole.body << "\n" << s.gateway.process->stderr_tail();
  EXPECT_FALSE(FromWhole(whole.body).text.empty());
  EXPECT_EQ(s.ByPath(kVlPath), 1);
  EXPECT_EQ(s.ByPath(kTextPath), 0);
}

TEST(DashScopeIntegrationTest, ErrorsReachTheCallerWithTheirStatus) {
  DashScopeSetup s;
  HttpResult limited = s.Chat({}, {{"x-sim-status", "429"}});
  EXPECT_EQ(limited.status, 429) << limited.body;
  json::object err = ExpectOpenAiError(limited.body);
  EXPECT_NE(Str(err["message"]).find("rate limit"), std::string::npos) << limited.body;

  HttpResult billing = s.Chat({}, {{"x-sim-status", "402"}});
  EXPECT_EQ(billing.status, 402) << billing.body;

  HttpResult streamed = s.Chat(R"("stream":true)", {{"x-sim-status", "401"}});
  EXPECT_EQ(streamed.status, 401) << streamed.body;

  // An error event in the middle of a stream ends the caller's stream with an error.
  HttpResult broken = s.Chat(R"("stream":true)", {{"x-sim-error-after", "2"}});
  EXPECT_EQ(broken.status, 200);
  EXPECT_NE(broken.body.find("error"), std::string::npos) << broken.body;
}

TEST(DashScopeIntegrationTest, WrongKeyIsAnAuthenticationError) {
  Service sim = StartSim({"--require-key", "another-key"});
  Service gateway =
      StartGateway({}, {{"DASHSCOPE_API_KEY", kApiKey}, {"DASHSCOPE_BASE_URL", sim.base_url}});
  HttpResult r = Http("POST", gateway.base_url + "/v1/chat/completions", ChatBody(kModel, "hi"));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_EQ(r.body.find(kApiKey), std::string::npos) << r.body;
}

TEST(DashScopeIntegrationTest, EmbeddingsReachTheNativeEndpoint) {
  DashScopeSetup s;
  HttpResult r = Http("POST", s.gateway.base_url + "/v1/embeddings",
                      R"({"model":"dashscope/text-embedding-v3","input":["alpha","beta gamma"],)"
                      R"("dimensions":256})");
  ASSERT_EQ(r.status, 200) << r.body << "\n" << s.gateway.process->stderr_tail();
  json::value v = ParseJson(r.body);
  ASSERT_EQ(v.at("data").as_array().size(), 2u);
  EXPECT_EQ(v.at("data").at(1).at("index").to_number<int64_t>(), 1);
  EXPECT_EQ(v.at("data").at(0).at("embedding").as_array().size(), 256u);
  EXPECT_GT(v.at("usage").at("prompt_tokens").to_number<int64_t>(), 0);
  EXPECT_EQ(s.ByPath(kEmbPath), 1);
}

}  // namespace
}  // namespace modelmux::testing
