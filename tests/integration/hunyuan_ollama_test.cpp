// Tencent Hunyuan (native, TC3-signed) and Ollama (native /api/chat, NDJSON) through the
// gateway: a caller speaking OpenAI reaches `modelmux sim`'s Hunyuan endpoint with a SecretId /
// SecretKey pair and its Ollama endpoint with a base URL without /v1. Streamed and whole answers
// agree with each other and with the simulator's OpenAI side, a wrong secret is a clear 401 (the
// simulator checks the signature) that never shows the secret, errors inside HTTP 200 bodies get
// their status, and OLLAMA_HOST discovery keeps using Ollama's OpenAI surface under /v1.

#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

// The simulator's fixed test credentials (sim/hunyuan_wire.hpp).
constexpr const char* kSecretId = "AKIDsimHUNYUAN0000000000000000000000";
constexpr const char* kSecretKey = "simHunyuanSecretKey0000000000000";
// Distinctive, so that searching for it cannot match ordinary text.
constexpr std::string_view kWrongSecret = "hyWRONGsecretQ7v3Z9";
constexpr const char* kPrompt = "Tell me about the Pearl river";

struct Upstreams {
  TempDir dir;
  Service sim;
  Service gateway;
  std::vector<std::string> bodies;  // every response body the caller saw

  Upstreams() {
    sim = StartSim();
    const std::string config = dir.Write("modelmux.yaml",
                                         "providers:\n"
                                         "  hy:\n"
                                         "    type: hunyuan\n"
                                         "    base_url: \"" +
                                             sim.base_url +
                                             "\"\n"
                                             "    api_key: \"" +
                                             kSecretId +
                                             "\"\n"
                                             "    secret_key: \"${HY_SECRET}\"\n"
                                             "    region: ap-guangzhou\n"
                                             "  hybad:\n"
                                             "    type: hunyuan\n"
                                             "    base_url: \"" +
                                             sim.base_url +
                                             "\"\n"
                                             "    api_key: \"" +
                                             kSecretId +
                                             "\"\n"
                                             "    secret_key: \"${HY_BAD_SECRET}\"\n"
                                             "  llama:\n"
                                             "    type: ollama\n"
                                             "    base_url: \"" +
                                             sim.base_url + "\"\n");
    gateway = StartGateway({"--config", config}, {{"HY_SECRET", kSecretKey},
                                                  {"HY_BAD_SECRET", std::string(kWrongSecret)}});
  }

  HttpResult Chat(std::string_view model, std::string_view extra = {}, HeaderList headers = {}) {
    HttpResult r = Http("POST", gateway.base_url + "/v1/chat/completions",
                        ChatBody(model, kPrompt, extra), std::move(headers));
    bodies.push_back(r.body);
    return r;
  }

  int64_t ByPath(std::string_view path) const {
    json::value v = ParseJson(Http("GET", sim.base_url + "/sim/stats").body);
    const json::value* by_path = v.is_object() ? v.get_object().if_contains("by_path") : nullptr;
    if (by_path == nullptr || !by_path->is_object()) return 0;
    const json::value* n = by_path->get_object().if_contains(path);
    return n != nullptr && n->is_int64() ? n->get_int64() : 0;
  }

  void ExpectNoSecret() const {
    for (std::string_view secret : {std::string_view(kSecretKey), kWrongSecret}) {
      for (const auto& b : bodies) EXPECT_EQ(b.find(secret), std::string::npos) << b;
      EXPECT_EQ(gateway.process->stderr_tail().find(secret), std::string::npos);
      for (const auto& line : gateway.process->stdout_lines()) {
        EXPECT_EQ(line.find(secret), std::string::npos) << line;
      }
    }
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

// What the simulator's OpenAI side answers for the same conversation and model.
Answer Direct(const Service& sim, std::string_view model) {
  HttpResult r = Http("POST", sim.base_url + "/v1/chat/completions", ChatBody(model, kPrompt));
  EXPECT_EQ(r.status, 200) << r.body;
  return FromWhole(r.body);
}

void ExpectSameAnswers(Upstreams& s, std::string_view model, std::string_view upstream_model) {
  HttpResult whole = s.Chat(model);
  ASSERT_EQ(whole.status, 200) << whole.body << "\n" << s.gateway.process->stderr_tail();
  Answer w = FromWhole(whole.body);
  EXPECT_FALSE(w.text.empty());
  EXPECT_EQ(w.finish, "stop");

  HttpResult streamed = s.Chat(model, R"("stream":true,"stream_options":{"include_usage":true})");
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  Answer st = FromStream(streamed.body);
  EXPECT_EQ(st.text, w.text);
  EXPECT_EQ(st.finish, "stop");
  EXPECT_EQ(st.prompt_tokens, w.prompt_tokens);
  EXPECT_EQ(st.completion_tokens, w.completion_tokens);
  EXPECT_NE(streamed.body.find("data: [DONE]"), std::string::npos);

  Answer d = Direct(s.sim, upstream_model);
  EXPECT_EQ(d.text, w.text);
  EXPECT_EQ(d.prompt_tokens, w.prompt_tokens);
  EXPECT_EQ(d.completion_tokens, w.completion_tokens);
}

TEST(HunyuanIntegrationTest, SignedCallsStreamedAndWholeAgree) {
  Upstreams s;
  ExpectSameAnswers(s, "hy/hunyuan-lite", "hunyuan-lite");
  EXPECT_EQ(s.ByPath("/"), 2);  // both reached the native endpoint, signed correctly
  s.ExpectNoSecret();
}

TEST(HunyuanIntegrationTest, WrongSecretIsAClear401WithoutTheSecret) {
  Upstreams s;
  HttpResult r = s.Chat("hybad/hunyuan-lite");
  EXPECT_EQ(r.status, 401) << r.body;
  json::object err = ExpectOpenAiError(r.body);
  EXPECT_EQ(Str(err["code"]), "AuthFailure.SignatureFailure") << r.body;
  EXPECT_EQ(Str(err["type"]), "authentication_error") << r.body;

  HttpResult streamed = s.Chat("hybad/hunyuan-lite", R"("stream":true)");
  // The error arrives inside an HTTP 200 body even for a stream: the caller still gets 401.
  EXPECT_EQ(streamed.status, 401) << streamed.body;
  EXPECT_NE(streamed.body.find("AuthFailure.SignatureFailure"), std::string::npos);
  s.ExpectNoSecret();
}

TEST(HunyuanIntegrationTest, LimitExceededInsideHttp200IsA429) {
  Upstreams s;
  HttpResult r = s.Chat("hy/hunyuan-lite", {}, {{"x-sim-status", "429"}});
  EXPECT_EQ(r.status, 429) << r.body;
  json::object err = ExpectOpenAiError(r.body);
  EXPECT_EQ(Str(err["code"]), "LimitExceeded") << r.body;
  HttpResult streamed = s.Chat("hy/hunyuan-lite", R"("stream":true)", {{"x-sim-status", "429"}});
  EXPECT_EQ(streamed.status, 429) << streamed.body;
  s.ExpectNoSecret();
}

TEST(OllamaIntegrationTest, NativeNdjsonStreamedAndWholeAgree) {
  Upstreams s;
  ExpectSameAnswers(s, "llama/llama3.2", "llama3.2");
  EXPECT_EQ(s.ByPath("/api/chat"), 2);
  EXPECT_EQ(s.ByPath("/v1/chat/completions"), 1);  // only the direct comparison call

  HttpResult missing = s.Chat("llama/llama9", {}, {{"x-sim-status", "404"}});
  EXPECT_EQ(missing.status, 404) << missing.body;
  json::object err = ExpectOpenAiError(missing.body);
  EXPECT_NE(Str(err["message"]).find("llama9"), std::string::npos) << missing.body;
}

TEST(OllamaIntegrationTest, OllamaHostDiscoveryUsesTheOpenAiSurface) {
  Service sim = StartSim();
  const std::string host = sim.base_url.substr(sim.base_url.find("://") + 3);
  Service gateway = StartGateway({}, {{"OLLAMA_HOST", host}});
  HttpResult r =
      Http("POST", gateway.base_url + "/v1/chat/completions", ChatBody("ollama/llama3.2", kPrompt));
  ASSERT_EQ(r.status, 200) << r.body << "\n" << gateway.process->stderr_tail();
  json::value stats = ParseJson(Http("GET", sim.base_url + "/sim/stats").body);
  const json::object& by_path = stats.at("by_path").as_object();
  EXPECT_TRUE(by_path.contains("/v1/chat/completions")) << json::serialize(stats);
  EXPECT_FALSE(by_path.contains("/api/chat")) << json::serialize(stats);
}

}  // namespace
}  // namespace modelmux::testing
