// The OpenAI-compatible family through the gateway against `modelmux sim`:
// - Azure OpenAI from AZURE_OPENAI_API_KEY + AZURE_OPENAI_ENDPOINT: the call reaches the
//   deployment path with ?api-version= and the `api-key` header, on the fast path (OpenAI caller,
//   whole and streamed) and through translation (an Anthropic caller on /v1/messages);
// - Zhipu GLM from ZHIPUAI_API_KEY=id.secret: the gateway signs an HS256 JWT that the simulator
//   (--require-key id.secret) verifies; a wrong secret is refused with a clear 401;
// - DeepSeek: an upstream 402 Insufficient Balance reaches the caller as 402 billing.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = std::chrono::seconds(20);
constexpr const char* kAzureKey = "az-itest-key";
constexpr const char* kZhipuKey = "zid7.zSECRETq81";
constexpr const char* kAzureDeploymentPath = "/azure/openai/deployments/my-dep/chat/completions";
constexpr const char* kZhipuPath = "/zhipu/api/paas/v4/chat/completions";

int64_t SimPathCount(const Service& sim, std::string_view path) {
  auto r = Http("GET", sim.base_url + "/sim/stats", "", {}, kTimeout);
  json::value v = ParseJson(r.body);
  if (!v.is_object() || !v.get_object().contains("by_path")) return 0;
  const json::value* n = v.at("by_path").get_object().if_contains(path);
  return n == nullptr ? 0 : n->to_number<int64_t>();
}

std::string StreamText(std::string_view body, bool* done) {
  std::string text;
  *done = false;
  for (const std::string& data : SseData(body)) {
    if (data == "[DONE]") {
      *done = true;
      continue;
    }
    json::value v = ParseJson(data);
    if (!v.is_object()) continue;
    const json::value* choices = v.get_object().if_contains("choices");
    if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) continue;
    const json::value* delta = choices->get_array()[0].get_object().if_contains("delta");
    if (delta == nullptr || !delta->is_object()) continue;
    if (const json::value* c = delta->get_object().if_contains("content")) text += Str(*c);
  }
  return text;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// ---- Azure -----------------------------------------------------------------------------------

class AzureFamily : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sim_ = new Service(StartSim({"--require-key", kAzureKey}));
    gw_ = new Service(StartGateway({}, {{"AZURE_OPENAI_API_KEY", kAzureKey},
                                        {"AZURE_OPENAI_ENDPOINT", sim_->base_url + "/azure"}}));
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete sim_;
    gw_ = sim_ = nullptr;
  }
  static Service* sim_;
  static Service* gw_;
};
Service* AzureFamily::sim_ = nullptr;
Service* AzureFamily::gw_ = nullptr;

TEST_F(AzureFamily, FastPathReachesTheDeploymentWithApiKeyAndVersion) {
  const int64_t before = SimPathCount(*sim_, kAzureDeploymentPath);
  auto whole = Http("POST", gw_->base_url + "/v1/chat/completions",
                    ChatBody("azure/my-dep", "Tell me about lakes"), {}, kTimeout);
  ASSERT_EQ(whole.status, 200) << whole.body << "\n" << gw_->process->stderr_tail();
  json::value v = ParseJson(whole.body);
  const std::string whole_text = Str(v.at("choices").at(0).at("message").at("content"));
  EXPECT_FALSE(whole_text.empty());

  auto streamed =
      Http("POST", gw_->base_url + "/v1/chat/completions",
           ChatBody("azure/my-dep", "Tell me about lakes", R"("stream":true)"), {}, kTimeout);
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  bool done = false;
  EXPECT_EQ(StreamText(streamed.body, &done), whole_text);
  EXPECT_TRUE(done) << streamed.body;
  // Both calls reached the deployment path (the simulator refuses a missing api-version with 404
  // and a missing api-key header with 401, so 200s prove both were sent).
  EXPECT_EQ(SimPathCount(*sim_, kAzureDeploymentPath) - before, 2);
}

TEST_F(AzureFamily, AnthropicCallerIsTranslatedOntoTheDeploymentPath) {
  const int64_t before = SimPathCount(*sim_, kAzureDeploymentPath);
  json::object body{{"model", "azure/my-dep"},
                    {"max_tokens", 256},
                    {"messages", json::array{json::object{{"role", "user"},
                                                          {"content", "Tell me about lakes"}}}}};
  auto r = Http("POST", gw_->base_url + "/v1/messages", json::serialize(body),
                {{"anthropic-version", "2023-06-01"}}, kTimeout);
  ASSERT_EQ(r.status, 200) << r.body << "\n" << gw_->process->stderr_tail();
  json::value v = ParseJson(r.body);
  ASSERT_TRUE(v.is_object()) << r.body;
  EXPECT_EQ(Str(v.at("type")), "message");
  EXPECT_FALSE(Str(v.at("content").at(0).at("text")).empty()) << r.body;
  EXPECT_GT(v.at("usage").at("output_tokens").to_number<int64_t>(), 0);
  EXPECT_EQ(SimPathCount(*sim_, kAzureDeploymentPath) - before, 1);
}

// What the gateway sends upstream, seen by a one-shot fake Azure: the path under the deployment
// with the default api-version, the key in `api-key`, no Authorization, and an endpoint given
// with a trailing /openai/ not doubled.
TEST(AzureWire, RequestShapeUpstream) {
  const std::string answer =
      R"({"id":"x","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,)"
      R"("message":{"role":"assistant","content":"Hi."},"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})";
  OneShotUpstream upstream(
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
      "connection: close\r\ncontent-length: " +
      std::to_string(answer.size()) + "\r\n\r\n" + answer);
  auto gw =
      StartGateway({}, {{"AZURE_OPENAI_API_KEY", kAzureKey},
                        {"AZURE_OPENAI_ENDPOINT",
                         "http://127.0.0.1:" + std::to_string(upstream.port()) + "/openai/"}});
  auto r = Http("POST", gw.base_url + "/v1/chat/completions", ChatBody("azure/prod-4o", "Hi"), {},
                kTimeout);
  ASSERT_EQ(r.status, 200) << r.body << gw.process->Describe();
  const std::string head = upstream.head();
  EXPECT_EQ(
      head.rfind(
          "POST /openai/deployments/prod-4o/chat/completions?api-version=2024-10-21 HTTP/1.1", 0),
      0u)
      << head;
  const std::string lower = Lower(head);
  EXPECT_NE(lower.find("\r\napi-key: " + Lower(kAzureKey) + "\r\n"), std::string::npos) << head;
  EXPECT_EQ(lower.find("\r\nauthorization:"), std::string::npos) << head;
}

// ---- Zhipu -----------------------------------------------------------------------------------

TEST(ZhipuFamily, SignedJwtVerifiesAtTheSimulator) {
  auto sim = StartSim({"--require-key", kZhipuKey});
  auto gw = StartGateway({}, {{"ZHIPUAI_API_KEY", kZhipuKey},
                              {"ZHIPUAI_BASE_URL", sim.base_url + "/zhipu/api/paas/v4"}});
  auto whole = Http("POST", gw.base_url + "/v1/chat/completions",
                    ChatBody("glm-4-flash", "Tell me about rivers"), {}, kTimeout);
  ASSERT_EQ(whole.status, 200) << whole.body << "\n" << gw.process->stderr_tail();
  auto streamed =
      Http("POST", gw.base_url + "/v1/chat/completions",
           ChatBody("zhipu/glm-4-flash", "Tell me about rivers", R"("stream":true)"), {}, kTimeout);
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  bool done = false;
  EXPECT_EQ(StreamText(streamed.body, &done),
            Str(ParseJson(whole.body).at("choices").at(0).at("message").at("content")));
  EXPECT_TRUE(done);
  EXPECT_EQ(SimPathCount(sim, kZhipuPath), 2);
  // The secret never reaches a response or the gateway's logs.
  const std::string secret = "zSECRETq81";
  EXPECT_EQ(whole.body.find(secret), std::string::npos);
  EXPECT_EQ(gw.process->stderr_tail().find(secret), std::string::npos);
}

TEST(ZhipuFamily, WrongSecretIsAClear401) {
  auto sim = StartSim({"--require-key", kZhipuKey});
  auto gw = StartGateway({}, {{"ZHIPUAI_API_KEY", "zid7.notTheSecret"},
                              {"ZHIPUAI_BASE_URL", sim.base_url + "/zhipu/api/paas/v4"}});
  auto r = Http("POST", gw.base_url + "/v1/chat/completions",
                ChatBody("zhipu/glm-4-flash", "Tell me about rivers"), {}, kTimeout);
  EXPECT_EQ(r.status, 401) << r.body;
  json::object err = ExpectOpenAiError(r.body);
  EXPECT_EQ(Str(err["type"]), "authentication_error") << r.body;
  EXPECT_EQ(Str(err["code"]), "invalid_api_key") << r.body;
  EXPECT_NE(Str(err["message"]).find("signature"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("notTheSecret"), std::string::npos);
}

// ---- DeepSeek --------------------------------------------------------------------------------

TEST(DeepSeekFamily, InsufficientBalanceIsBilling402) {
  auto sim = StartSim();
  auto gw = StartGateway({}, {{"DEEPSEEK_API_KEY", "ds-itest-key"},
                              {"DEEPSEEK_BASE_URL", sim.base_url + "/deepseek"}});
  auto r = Http("POST", gw.base_url + "/v1/chat/completions", ChatBody("deepseek-chat", "Hi"),
                {{"x-sim-status", "402"}}, kTimeout);
  EXPECT_EQ(r.status, 402) << r.body;
  json::object err = ExpectOpenAiError(r.body);
  EXPECT_EQ(Str(err["type"]), "billing_error") << r.body;
  EXPECT_EQ(Str(err["code"]), "insufficient_balance") << r.body;
  EXPECT_EQ(Str(err["message"]), "Insufficient Balance") << r.body;
  EXPECT_EQ(SimPathCount(sim, "/deepseek/chat/completions"), 1);  // no retry of a billing error

  auto busy = Http("POST", gw.base_url + "/v1/chat/completions", ChatBody("deepseek-chat", "Hi"),
                   {{"x-sim-status", "503"}}, kTimeout);
  EXPECT_EQ(busy.status, 503) << busy.body;
  EXPECT_EQ(Str(ExpectOpenAiError(busy.body)["code"]), "server_overloaded") << busy.body;
}

}  // namespace
}  // namespace modelmux::testing
