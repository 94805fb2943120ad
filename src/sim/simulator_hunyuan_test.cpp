// The simulator's Tencent Hunyuan native endpoint: TC3 signatures checked against the test
// credentials, text that matches the OpenAI side, streams that end with a FinishReason chunk, and
// errors inside HTTP 200 bodies.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/tc3.hpp"
#include "sim/fake_writer_test_util.hpp"
#include "sim/hunyuan_wire.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {

namespace json = boost::json;
using simtest::FakeWriter;
using simtest::Post;

constexpr std::string_view kHost = "127.0.0.1:9090";
constexpr int64_t kNow = 1700000000;
constexpr std::string_view kBody =
    R"({"Model":"hunyuan-lite","Messages":[{"Role":"system","Content":"Be brief"},)"
    R"({"Role":"user","Content":"Tell me about rivers"}]})";

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The headers of a correctly signed call (Content-Type is added by Post).
HeaderList Signed(std::string_view body, std::string_view action = "ChatCompletions",
                  std::string_view id = kHunyuanSimSecretId,
                  std::string_view key = kHunyuanSimSecretKey) {
  auth::Tc3Request r;
  r.host = std::string(kHost);
  r.action = std::string(action);
  r.version = "2023-09-01";
  r.service = "hunyuan";
  r.body = std::string(body);
  auto headers = auth::SignTc3(r, id, key, kNow);
  EXPECT_TRUE(headers.ok());
  HeaderList out{{"Host", std::string(kHost)}};
  for (auto& [k, v] : *headers) {
    if (k != "Content-Type") out.emplace_back(k, v);
  }
  return out;
}

FakeWriter Call(Simulator& sim, std::string_view body, HeaderList headers) {
  return Post(sim, "/", std::string(body), std::move(headers));
}

std::string ErrorCode(const FakeWriter& w) {
  const json::object& r = w.Json().at("Response").as_object();
  const json::value* e = r.if_contains("Error");
  return e != nullptr ? std::string(e->at("Code").as_string()) : std::string();
}

TEST(SimulatorHunyuanTest, SignedCallAnswersLikeTheOpenAiSide) {
  Simulator sim{SimOptions{}};
  FakeWriter hy = Call(sim, kBody, Signed(kBody));
  ASSERT_EQ(hy.status, 200);
  ASSERT_EQ(ErrorCode(hy), "") << hy.body;
  const json::object& r = hy.Json().at("Response").as_object();
  const std::string text(r.at("Choices").at(0).at("Message").at("Content").as_string());
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(r.at("Choices").at(0).at("FinishReason").as_string(), "stop");
  EXPECT_FALSE(hy.headers.Get("X-TC-RequestId").empty());

  FakeWriter oa =
      Post(sim, "/v1/chat/completions",
           R"({"model":"hunyuan-lite","messages":[{"role":"system","content":"Be brief"},)"
           R"({"role":"user","content":"Tell me about rivers"}]})");
  ASSERT_EQ(oa.status, 200) << oa.body;
  EXPECT_EQ(oa.Json().at("choices").at(0).at("message").at("content").as_string(), text);
  EXPECT_EQ(oa.Json().at("usage").at("prompt_tokens"), r.at("Usage").at("PromptTokens"));
  EXPECT_EQ(oa.Json().at("usage").at("completion_tokens"), r.at("Usage").at("CompletionTokens"));

  const json::value stats = json::parse(sim.StatsJson());
  EXPECT_EQ(stats.at("by_path").at("/").as_int64(), 1);
  EXPECT_EQ(stats.at("by_model").at("hunyuan-lite").as_int64(), 2);
}

TEST(SimulatorHunyuanTest, StreamEndsWithTheFinishReasonChunk) {
  Simulator sim{SimOptions{}};
  const std::string whole_body(kBody);
  FakeWriter whole = Call(sim, whole_body, Signed(whole_body));
  const json::object& r = whole.Json().at("Response").as_object();

  std::string body = whole_body;
  body.insert(body.size() - 1, R"(,"Stream":true)");
  FakeWriter s = Call(sim, body, Signed(body));
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.streamed);
  EXPECT_EQ(s.headers.Get("content-type"), "text/event-stream");
  std::string text;
  std::vector<std::string> events = s.Events();
  ASSERT_GE(events.size(), 2u);
  for (const std::string& e : events) {
    ASSERT_NE(e, "[DONE]");
    json::value c = json::parse(e);
    text += std::string(c.at("Choices").at(0).at("Delta").at("Content").as_string());
  }
  json::value last = json::parse(events.back());
  EXPECT_EQ(last.at("Choices").at(0).at("FinishReason").as_string(), "stop");
  EXPECT_EQ(json::parse(events.front()).at("Choices").at(0).at("FinishReason").as_string(), "");
  EXPECT_EQ(text, r.at("Choices").at(0).at("Message").at("Content").as_string());
  EXPECT_EQ(last.at("Usage"), r.at("Usage"));
}

TEST(SimulatorHunyuanTest, WrongSignaturesAreErrorsInsideHttp200) {
  Simulator sim{SimOptions{}};
  // Signed with another key.
  FakeWriter wrong_key =
      Call(sim, kBody, Signed(kBody, "ChatCompletions", kHunyuanSimSecretId, "not-the-key"));
  EXPECT_EQ(wrong_key.status, 200);
  EXPECT_EQ(ErrorCode(wrong_key), "AuthFailure.SignatureFailure");
  // The body changed after signing.
  std::string tampered(kBody);
  tampered.replace(tampered.find("rivers"), 6, "lakes!");
  EXPECT_EQ(ErrorCode(Call(sim, tampered, Signed(kBody))), "AuthFailure.SignatureFailure");
  // Another action than the one signed.
  HeaderList headers = Signed(kBody);
  for (auto& [k, v] : headers) {
    if (k == "X-TC-Action") v = "GetEmbedding";
  }
  EXPECT_EQ(ErrorCode(Call(sim, kBody, headers)), "AuthFailure.SignatureFailure");
  // No Authorization at all.
  EXPECT_EQ(ErrorCode(Call(sim, kBody, {{"X-TC-Action", "ChatCompletions"}})),
            "AuthFailure.InvalidAuthorization");
  // Another SecretId is accepted without a check unless --require-key names the pair.
  EXPECT_EQ(ErrorCode(Call(sim, kBody, Signed(kBody, "ChatCompletions", "AKIDother", "k"))), "");
}

TEST(SimulatorHunyuanTest, RequireKeyNamesThePair) {
  SimOptions o;
  o.require_key = "AKIDmine:my-secret";
  Simulator sim{o};
  EXPECT_EQ(ErrorCode(Call(sim, kBody, Signed(kBody, "ChatCompletions", "AKIDmine", "my-secret"))),
            "");
  EXPECT_EQ(ErrorCode(Call(sim, kBody, Signed(kBody))), "AuthFailure.SecretIdNotFound");
  EXPECT_EQ(ErrorCode(Call(sim, kBody, Signed(kBody, "ChatCompletions", "AKIDmine", "guess"))),
            "AuthFailure.SignatureFailure");
}

TEST(SimulatorHunyuanTest, SimControlsAnswerTencentCodes) {
  Simulator sim{SimOptions{}};
  HeaderList limited = Signed(kBody);
  limited.emplace_back("x-sim-status", "429");
  FakeWriter w = Call(sim, kBody, limited);
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(ErrorCode(w), "LimitExceeded");

  std::string body(kBody);
  body.insert(body.size() - 1, R"(,"Stream":true)");
  HeaderList broken = Signed(body);
  broken.emplace_back("x-sim-error-after", "2");
  FakeWriter s = Call(sim, body, broken);
  std::vector<std::string> events = s.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(json::parse(events.back()).at("ErrorMsg").at("Code").as_int64(), 4000);

  HeaderList cut = Signed(body);
  cut.emplace_back("x-sim-cut-after", "1");
  FakeWriter c = Call(sim, body, cut);
  EXPECT_TRUE(c.aborted);
  EXPECT_EQ(c.Events().size(), 1u);
}

TEST(SimulatorHunyuanTest, ActionsVersionsAndDispatch) {
  Simulator sim{SimOptions{}};
  HeaderList unknown = Signed(kBody, "DescribeInstances");
  EXPECT_EQ(ErrorCode(Call(sim, kBody, unknown)), "InvalidAction");
  const std::string bad = R"({"Model":"hunyuan-lite","Messages":[]})";
  EXPECT_EQ(ErrorCode(Call(sim, bad, Signed(bad))), "InvalidParameter");
  // "/" without X-TC-Action is not Hunyuan's.
  EXPECT_EQ(Post(sim, "/", std::string(kBody)).status, 404);

  const std::string embed = R"({"Input":"你好"})";
  FakeWriter e = Call(sim, embed, Signed(embed, "GetEmbedding"));
  ASSERT_EQ(ErrorCode(e), "") << e.body;
  EXPECT_EQ(e.Json().at("Response").at("Data").at(0).at("Embedding").as_array().size(), 1024u);
}

}  // namespace
}  // namespace modelmux::sim
