// The simulator's Baidu Qianfan legacy endpoints: token exchange, access-token checks, text that
// matches the OpenAI side, streams ending with is_end, and errors inside HTTP 200 bodies.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "sim/fake_writer_test_util.hpp"
#include "sim/qianfan_wire.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {

namespace json = boost::json;
using simtest::FakeWriter;
using simtest::Post;

constexpr std::string_view kTokenTarget =
    "/oauth/2.0/token?grant_type=client_credentials&client_id=ak&client_secret=sk";
constexpr std::string_view kChat = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro";
constexpr std::string_view kBody =
    R"({"messages":[{"role":"user","content":"Tell me about rivers"}],"system":"Be brief"})";

std::string NewToken(Simulator& sim) {
  FakeWriter w = Post(sim, std::string(kTokenTarget), "");
  EXPECT_EQ(w.status, 200) << w.body;
  return std::string(w.Json().at("access_token").as_string());
}

std::string ChatTarget(std::string_view token) {
  return std::string(kChat) + "?access_token=" + std::string(token);
}

TEST(SimulatorQianfanTest, TokenEndpointIssuesAndCountsTokens) {
  Simulator sim{SimOptions{}};
  FakeWriter first = Post(sim, std::string(kTokenTarget), "");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.Json().at("access_token").as_string(), "sim-token-1");
  EXPECT_EQ(first.Json().at("expires_in").as_int64(), 2592000);
  EXPECT_EQ(NewToken(sim), "sim-token-2");

  FakeWriter no_secret =
      Post(sim, "/oauth/2.0/token?grant_type=client_credentials&client_id=ak", "");
  EXPECT_EQ(no_secret.status, 401);
  EXPECT_EQ(no_secret.Json().at("error").as_string(), "invalid_client");
  FakeWriter bad_grant = Post(sim, "/oauth/2.0/token?client_id=ak&client_secret=sk", "");
  EXPECT_EQ(bad_grant.status, 400);

  const json::value stats = json::parse(sim.StatsJson());
  EXPECT_EQ(stats.at("by_path").at("/oauth/2.0/token").as_int64(), 4);
}

TEST(SimulatorQianfanTest, RequireKeyChecksTheClientId) {
  SimOptions o;
  o.require_key = "right";
  Simulator sim{o};
  EXPECT_EQ(Post(sim, std::string(kTokenTarget), "").status, 401);
  EXPECT_EQ(
      Post(sim, "/oauth/2.0/token?grant_type=client_credentials&client_id=right&client_secret=x",
           "")
          .status,
      200);
}

TEST(SimulatorQianfanTest, ChatNeedsAnIssuedToken) {
  Simulator sim{SimOptions{}};
  for (std::string target : {std::string(kChat), ChatTarget("forged")}) {
    FakeWriter w = Post(sim, target, std::string(kBody));
    EXPECT_EQ(w.status, 200);
    EXPECT_EQ(w.Json().at("error_code").as_int64(), 110) << target;
  }
}

TEST(SimulatorQianfanTest, TextAndUsageMatchTheOpenAiSide) {
  Simulator sim{SimOptions{}};
  const std::string token = NewToken(sim);
  FakeWriter qf = Post(sim, ChatTarget(token), std::string(kBody));
  ASSERT_EQ(qf.status, 200) << qf.body;
  const json::object& o = qf.Json().as_object();
  ASSERT_FALSE(o.contains("error_code")) << qf.body;
  FakeWriter oa = Post(sim, "/v1/chat/completions",
                       R"({"model":"completions_pro","messages":[)"
                       R"({"role":"system","content":"Be brief"},)"
                       R"({"role":"user","content":"Tell me about rivers"}]})");
  ASSERT_EQ(oa.status, 200) << oa.body;
  const json::value& choice = oa.Json().at("choices").at(0);
  EXPECT_EQ(o.at("result").as_string(), choice.at("message").at("content").as_string());
  EXPECT_FALSE(o.at("result").as_string().empty());
  EXPECT_EQ(o.at("finish_reason").as_string(), "normal");
  EXPECT_EQ(o.at("usage").at("prompt_tokens"), oa.Json().at("usage").at("prompt_tokens"));
  EXPECT_EQ(o.at("usage").at("completion_tokens"), oa.Json().at("usage").at("completion_tokens"));
  const json::value stats = json::parse(sim.StatsJson());
  EXPECT_EQ(stats.at("by_model").at("completions_pro").as_int64(), 2);
}

TEST(SimulatorQianfanTest, StreamEndsWithIsEndAndTheSameText) {
  Simulator sim{SimOptions{}};
  const std::string token = NewToken(sim);
  FakeWriter whole = Post(sim, ChatTarget(token), std::string(kBody));
  FakeWriter s = Post(sim, ChatTarget(token),
                      R"({"messages":[{"role":"user","content":"Tell me about rivers"}],)"
                      R"("system":"Be brief","stream":true})");
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.streamed);
  EXPECT_TRUE(s.finished);
  const auto events = s.Events();
  ASSERT_GE(events.size(), 2u);
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    const json::value chunk = json::parse(events[i]);
    text += chunk.at("result").as_string();
    EXPECT_EQ(chunk.at("is_end").as_bool(), i + 1 == events.size());
  }
  const json::value last = json::parse(events.back());
  EXPECT_EQ(text, whole.Json().at("result").as_string());
  EXPECT_EQ(last.at("usage"), whole.Json().at("usage"));
  EXPECT_EQ(s.body.find("[DONE]"), std::string::npos);
}

TEST(SimulatorQianfanTest, StatusControlAnswersErrorCodesInsideHttp200) {
  Simulator sim{SimOptions{}};
  const std::string token = NewToken(sim);
  const std::pair<int, int64_t> cases[] = {{429, 18}, {401, 110},    {403, 6},
                                           {503, 2},  {500, 336000}, {400, 336003}};
  for (auto [status, code] : cases) {
    FakeWriter w = Post(sim, ChatTarget(token), std::string(kBody),
                        {{"x-sim-status", std::to_string(status)}});
    EXPECT_EQ(w.status, 200) << status;
    EXPECT_EQ(w.Json().at("error_code").as_int64(), code) << status;
  }
  FakeWriter limited = Post(sim, ChatTarget(token), std::string(kBody), {{"x-sim-status", "429"}});
  EXPECT_EQ(limited.Json().at("error_msg").as_string(), "Open api qps request limit reached");
}

TEST(SimulatorQianfanTest, MalformedConversationIsRejected) {
  Simulator sim{SimOptions{}};
  const std::string token = NewToken(sim);
  FakeWriter even = Post(sim, ChatTarget(token),
                         R"({"messages":[{"role":"user","content":"a"},)"
                         R"({"role":"assistant","content":"b"}]})");
  EXPECT_EQ(even.Json().at("error_code").as_int64(), 336003);
  FakeWriter order =
      Post(sim, ChatTarget(token), R"({"messages":[{"role":"assistant","content":"a"}]})");
  EXPECT_EQ(order.Json().at("error_code").as_int64(), 336003);
  FakeWriter temp = Post(sim, ChatTarget(token),
                         R"({"messages":[{"role":"user","content":"a"}],"temperature":1.5})");
  EXPECT_EQ(temp.Json().at("error_code").as_int64(), 336003);
  EXPECT_EQ(Post(sim, ChatTarget(token), "{").Json().at("error_code").as_int64(), 336002);
}

TEST(SimulatorQianfanTest, ErrorAfterAndFunctionCall) {
  Simulator sim{SimOptions{}};
  const std::string token = NewToken(sim);
  FakeWriter s = Post(sim, ChatTarget(token),
                      R"({"messages":[{"role":"user","content":"one two three"}],"stream":true})",
                      {{"x-sim-error-after", "2"}});
  const auto events = s.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(json::parse(events[2]).at("error_code").as_int64(), 336000);

  FakeWriter fc = Post(sim, ChatTarget(token),
                       R"({"messages":[{"role":"user","content":"please call_tool now"}],)"
                       R"("functions":[{"name":"lookup","parameters":{}}]})");
  EXPECT_EQ(fc.Json().at("finish_reason").as_string(), "function_call");
  EXPECT_EQ(fc.Json().at("function_call").at("name").as_string(), "lookup");
}

TEST(SimulatorQianfanTest, WireHelpers) {
  EXPECT_TRUE(IsQianfanPath("/oauth/2.0/token"));
  EXPECT_TRUE(IsQianfanPath("/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/x"));
  EXPECT_FALSE(IsQianfanPath("/v1/chat/completions"));
  EXPECT_EQ(QueryParam("a=1&client_id=x%2By&b", "client_id"), "x+y");
  EXPECT_EQ(QueryParam("a=1", "b"), "");
  EXPECT_EQ(QianfanCodeForStatus(429).code, 18);
  EXPECT_EQ(QianfanCodeForStatus(504).code, 336000);
  EXPECT_EQ(QianfanCodeForStatus(418).code, 336001);
}

}  // namespace
}  // namespace modelmux::sim
