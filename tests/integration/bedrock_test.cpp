// AWS Bedrock (Converse / ConverseStream, SigV4) through the gateway: a caller speaking OpenAI
// reaches `modelmux sim`'s Bedrock endpoints with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_REGION / BEDROCK_BASE_URL from the environment. The simulator recomputes every SigV4
// signature; streamed and whole answers agree with each other and with the simulator; a wrong
// secret reaches the caller as a 401 naming the signature (without the secret anywhere); a
// throttling status maps to 429; a throttling exception frame mid-stream ends the stream with an
// error event.

#include <gtest/gtest.h>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

// The simulator's fixed Bedrock credentials (src/sim/bedrock_wire.hpp).
constexpr const char* kAccessKeyId = "AKIDSIMULATOR";
constexpr std::string_view kSecret = "sim-secret";
// Distinctive, so that searching for it cannot match ordinary text.
constexpr std::string_view kWrongSecret = "awsWRONGz7Q4w2X9";
constexpr const char* kModel = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0";
constexpr const char* kConversePath = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse";
constexpr const char* kPrompt = "Tell me about the Danube";

struct BedrockSetup {
  Service sim;
  Service gateway;
  std::string secret;
  std::vector<std::string> bodies;  // every response body the caller saw (for the secret check)

  explicit BedrockSetup(std::string_view secret_key = kSecret) : secret(secret_key) {
    sim = StartSim();
    gateway = StartGateway({}, {{"AWS_ACCESS_KEY_ID", kAccessKeyId},
                                {"AWS_SECRET_ACCESS_KEY", secret},
                                {"AWS_REGION", "eu-central-1"},
                                {"BEDROCK_BASE_URL", sim.base_url}});
  }

  HttpResult Chat(std::string_view extra = {}, HeaderList headers = {}) {
    HttpResult r = Http("POST", gateway.base_url + "/v1/chat/completions",
                        ChatBody(kModel, kPrompt, extra), std::move(headers));
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
    for (const auto& b : bodies) EXPECT_EQ(b.find(secret), std::string::npos) << b;
    EXPECT_EQ(gateway.process->stderr_tail().find(secret), std::string::npos);
    for (const auto& line : gateway.process->stdout_lines()) {
      EXPECT_EQ(line.find(secret), std::string::npos) << line;
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

TEST(BedrockIntegrationTest, WholeAndStreamedAnswersAgreeWithTheSimulator) {
  BedrockSetup s;
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

  // The simulator's OpenAI face, asked for the same conversation, says the same.
  HttpResult direct = Http("POST", s.sim.base_url + "/v1/chat/completions",
                           ChatBody("anthropic.claude-3-5-sonnet-20240620-v1:0", kPrompt));
  ASSERT_EQ(direct.status, 200) << direct.body;
  Answer d = FromWhole(direct.body);
  EXPECT_EQ(d.text, w.text);
  EXPECT_EQ(d.prompt_tokens, w.prompt_tokens);
  EXPECT_EQ(d.completion_tokens, w.completion_tokens);

  EXPECT_EQ(s.ByPath(kConversePath), 1);
  EXPECT_EQ(s.ByPath("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"), 1);
  s.ExpectNoSecret();
}

TEST(BedrockIntegrationTest, WrongSecretIsAnAuthenticationErrorNamingTheSignature) {
  BedrockSetup s(kWrongSecret);
  HttpResult r = s.Chat();
  EXPECT_EQ(r.status, 401) << r.body;
  json::object err = ExpectOpenAiError(r.body);
  EXPECT_NE(Str(err["message"]).find("signature"), std::string::npos) << r.body;
  EXPECT_EQ(Str(err["code"]), "invalid_signature") << r.body;

  HttpResult streamed = s.Chat(R"("stream":true)");
  EXPECT_EQ(streamed.status, 401) << streamed.body;
  s.ExpectNoSecret();
}

TEST(BedrockIntegrationTest, ThrottlingMapsTo429) {
  BedrockSetup s;
  HttpResult r = s.Chat({}, {{"x-sim-status", "429"}});
  EXPECT_EQ(r.status, 429) << r.body;
  json::object err = ExpectOpenAiError(r.body);
  EXPECT_NE(Str(err["message"]).find("Too many requests"), std::string::npos) << r.body;

  HttpResult streamed = s.Chat(R"("stream":true)", {{"x-sim-status", "429"}});
  EXPECT_EQ(streamed.status, 429) << streamed.body;
  s.ExpectNoSecret();
}

TEST(BedrockIntegrationTest, ExceptionFrameMidStreamEndsWithAnErrorEvent) {
  BedrockSetup s;
  HttpResult r = s.Chat(R"("stream":true)", {{"x-sim-error-after", "3"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("Too many requests"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"finish_reason\":\"stop\""), std::string::npos) << r.body;
}

}  // namespace
}  // namespace modelmux::testing
