// Baidu Qianfan (legacy ERNIE) through the gateway: a caller speaking OpenAI reaches `modelmux
// sim`'s Qianfan endpoints with the QIANFAN_API_KEY + QIANFAN_SECRET_KEY pair from the
// environment. The gateway exchanges the pair for an access token once (also when many first
// requests arrive together), streamed and whole answers agree with each other and with what the
// simulator says when asked directly, an error inside an HTTP 200 body reaches the caller with
// its status, and the secret key never shows in a response or in the gateway's stderr.

#include <gtest/gtest.h>

#include <thread>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr const char* kApiKey = "qf-itest-api-key";
// Distinctive, so that searching for it cannot match ordinary text.
constexpr std::string_view kSecret = "qfSECRETz9Q4w7X2";
constexpr const char* kModel = "qianfan/ernie-4.0-8k";
constexpr const char* kTokenPath = "/oauth/2.0/token";
constexpr const char* kChatPath = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro";
constexpr const char* kPrompt = "Tell me about the Yangtze river";

struct QianfanSetup {
  Service sim;
  Service gateway;
  std::vector<std::string> bodies;  // every response body the caller saw (for the secret check)

  explicit QianfanSetup(std::vector<std::string> sim_args = {}) {
    sim = StartSim(std::move(sim_args));
    gateway = StartGateway({}, {{"QIANFAN_API_KEY", kApiKey},
                                {"QIANFAN_SECRET_KEY", std::string(kSecret)},
                                {"QIANFAN_BASE_URL", sim.base_url}});
  }

  HttpResult Chat(std::string_view extra = {}, HeaderList headers = {}) {
    HttpResult r = Http("POST", gateway.base_url + "/v1/chat/completions",
                        ChatBody(kModel, kPrompt, extra), std::move(headers));
    bodies.push_back(r.body);
    return r;
  }

  json::object SimStats() const {
    json::value v = ParseJson(Http("GET", sim.base_url + "/sim/stats").body);
    return v.is_object() ? v.get_object() : json::object{};
  }

  int64_t ByPath(std::string_view path) const {
    json::object stats = SimStats();
    const json::value* by_path = stats.if_contains("by_path");
    if (by_path == nullptr || !by_path->is_object()) return 0;
    const json::value* n = by_path->get_object().if_contains(path);
    return n != nullptr && n->is_int64() ? n->get_int64() : 0;
  }

  void ExpectNoSecret() const {
    for (const auto& b : bodies) EXPECT_EQ(b.find(kSecret), std::string::npos) << b;
    EXPECT_EQ(gateway.process->stderr_tail().find(kSecret), std::string::npos);
    for (const auto& line : gateway.process->stdout_lines()) {
      EXPECT_EQ(line.find(kSecret), std::string::npos) << line;
    }
  }
};

// The text and usage of an OpenAI answer, whole or streamed.
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

TEST(QianfanIntegrationTest, WholeAndStreamedAnswersAgreeWithTheSimulator) {
  QianfanSetup s;
  HttpResult whole = s.Chat();
  ASSERT_EQ(whole.status, 200) << whole.body << "\n" << s.gateway.process->stderr_tail();
  Answer w = FromWhole(whole.body);
  EXPECT_FALSE(w.text.empty());
  EXPECT_EQ(w.finish, "stop");

  HttpResult streamed = s.Chat(R"("stream":true,"stream_options":{"include_usage":true})");
  ASSERT_EQ(streamed.status, 200) << streamed.body;
  Answer st = FromStream(streamed.body);
  EXPECT_EQ(st.text, w.text);
  EXPECT_EQ(st.finish, "stop");
  EXPECT_EQ(st.prompt_tokens, w.prompt_tokens);
  EXPECT_EQ(st.completion_tokens, w.completion_tokens);
  EXPECT_NE(streamed.body.find("data: [DONE]"), std::string::npos);

  // The simulator asked directly (its own token, the same conversation) says the same.
  HttpResult token = Http("POST", s.sim.base_url + kTokenPath +
                                      std::string("?grant_type=client_credentials&client_id=a"
                                                  "&client_secret=b"));
  ASSERT_EQ(token.status, 200);
  const std::string access = Str(ParseJson(token.body).at("access_token"));
  HttpResult direct =
      Http("POST", s.sim.base_url + kChatPath + "?access_token=" + access,
           json::serialize(json::object{
               {"messages", json::array{json::object{{"role", "user"}, {"content", kPrompt}}}}}));
  ASSERT_EQ(direct.status, 200);
  json::value d = ParseJson(direct.body);
  EXPECT_EQ(Str(d.at("result")), w.text);
  EXPECT_EQ(d.at("usage").at("prompt_tokens").to_number<int64_t>(), w.prompt_tokens);
  EXPECT_EQ(d.at("usage").at("completion_tokens").to_number<int64_t>(), w.completion_tokens);

  // One exchange served all of the gateway's calls (the direct call made the second).
  EXPECT_EQ(s.ByPath(kTokenPath), 2);
  s.ExpectNoSecret();
}

TEST(QianfanIntegrationTest, TwentyConcurrentFirstRequestsMakeOneExchange) {
  QianfanSetup s;
  constexpr int kCalls = 20;
  std::vector<HttpResult> results(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&s, &results, i] {
      results[i] = Http("POST", s.gateway.base_url + "/v1/chat/completions",
                        ChatBody(kModel, "hello " + std::to_string(i)));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    EXPECT_EQ(r.status, 200) << r.body;
    s.bodies.push_back(r.body);
  }
  EXPECT_EQ(s.ByPath(kTokenPath), 1);
  EXPECT_EQ(s.ByPath(kChatPath), kCalls);
  s.ExpectNoSecret();
}

TEST(QianfanIntegrationTest, RateLimitInsideHttp200ReachesTheCallerAs429) {
  QianfanSetup s;
  HttpResult r = s.Chat({}, {{"x-sim-status", "429"}});
  EXPECT_EQ(r.status, 429) << r.body;
  json::object err = ExpectOpenAiError(r.body);
  EXPECT_NE(Str(err["message"]).find("qps request limit"), std::string::npos) << r.body;

  HttpResult streamed = s.Chat(R"("stream":true)", {{"x-sim-status", "429"}});
  // The error arrives inside an HTTP 200 body even for a stream: the caller still gets 429,
  // not a 200 stream whose only event is an error.
  EXPECT_EQ(streamed.status, 429) << streamed.body;
  EXPECT_NE(streamed.body.find("qps request limit"), std::string::npos) << streamed.body;
  s.ExpectNoSecret();
}

TEST(QianfanIntegrationTest, RefusedExchangeIsAnAuthenticationErrorWithoutTheSecret) {
  QianfanSetup s({"--require-key", "another-client-id"});  // the simulator refuses our client_id
  HttpResult r = s.Chat();
  EXPECT_EQ(r.status, 401) << r.body;
  json::object err = ExpectOpenAiError(r.body);
  EXPECT_NE(Str(err["message"]).find("invalid_client"), std::string::npos) << r.body;
  s.ExpectNoSecret();
}

}  // namespace
}  // namespace modelmux::testing
