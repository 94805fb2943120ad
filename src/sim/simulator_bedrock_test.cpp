// The simulator's AWS Bedrock Runtime endpoints: SigV4 verification with the simulator's fixed
// credentials, Converse text that matches the OpenAI side, ConverseStream as real event-stream
// frames, Bedrock-shaped errors and exception frames, and Titan embeddings.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/sigv4.hpp"
#include "dialects/bedrock/eventstream.hpp"
#include "sim/bedrock_wire.hpp"
#include "sim/fake_writer_test_util.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {

namespace json = boost::json;
using simtest::FakeWriter;
using simtest::MakeRequest;
using simtest::Post;
using simtest::RunRequest;

constexpr std::string_view kModelPath = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0";
constexpr std::string_view kBody =
    R"({"messages":[{"role":"user","content":[{"text":"Tell me about rivers"}]}],)"
    R"("system":[{"text":"Be brief"}]})";

using ExtraHeaders = std::vector<std::pair<std::string, std::string>>;

// A request signed as the gateway signs it (content-type, host, x-amz-*), with `secret`.
net::ServerRequest Signed(std::string target, std::string body,
                          std::string_view secret = kBedrockSimSecretKey,
                          std::string_view key_id = kBedrockSimAccessKeyId, ExtraHeaders extra = {},
                          std::string_view service = "bedrock") {
  net::ServerRequest r = MakeRequest("POST", target, body, std::move(extra));
  r.headers.Add("host", "127.0.0.1:9090");
  auth::SigV4Request s;
  s.method = "POST";
  s.host = "127.0.0.1:9090";
  const size_t q = target.find('?');
  s.path = target.substr(0, q);
  if (q != std::string::npos) s.query = target.substr(q + 1);
  s.headers = {{"content-type", "application/json"}};
  s.body = body;
  auto h = auth::SignV4(s, {std::string(key_id), std::string(secret), ""}, "us-east-1", service,
                        std::chrono::system_clock::now());
  EXPECT_TRUE(h.ok());
  for (auto& [k, v] : *h) r.headers.Add(k, v);
  return r;
}

FakeWriter Call(Simulator& sim, net::ServerRequest r) {
  return RunRequest(sim, std::move(r));
}

std::string Path(std::string_view action) {
  return std::string(kModelPath) + "/" + std::string(action);
}

TEST(SimulatorBedrockTest, RoutesAndModelIds) {
  BedrockRoute r = MatchBedrockRoute("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse");
  EXPECT_EQ(r.action, BedrockAction::kConverse);
  EXPECT_EQ(r.model, "anthropic.claude-3-5-sonnet-20240620-v1:0");
  EXPECT_EQ(MatchBedrockRoute("/model/x/converse-stream").action, BedrockAction::kConverseStream);
  EXPECT_EQ(MatchBedrockRoute("/model/x/invoke").action, BedrockAction::kInvoke);
  EXPECT_EQ(MatchBedrockRoute("/model/x/count-tokens").action, BedrockAction::kOther);
  EXPECT_FALSE(IsBedrockPath("/v1/chat/completions"));
}

TEST(SimulatorBedrockTest, SignatureIsVerified) {
  Simulator sim{SimOptions{}};
  FakeWriter ok = Call(sim, Signed(Path("converse"), std::string(kBody)));
  EXPECT_EQ(ok.status, 200) << ok.body;

  FakeWriter wrong = Call(sim, Signed(Path("converse"), std::string(kBody), "not-the-secret"));
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.headers.Get("x-amzn-ErrorType").substr(0, 26), "InvalidSignatureException:");
  EXPECT_NE(std::string(wrong.Json().at("message").as_string())
                .find("signature we calculated does not match"),
            std::string::npos);
  EXPECT_EQ(wrong.body.find("not-the-secret"), std::string::npos);

  FakeWriter unknown = Call(
      sim, Signed(Path("converse"), std::string(kBody), kBedrockSimSecretKey, "AKIDSOMEONEELSE"));
  EXPECT_EQ(unknown.status, 403);
  EXPECT_EQ(unknown.headers.Get("x-amzn-ErrorType").substr(0, 28), "UnrecognizedClientException:");

  FakeWriter service = Call(sim, Signed(Path("converse"), std::string(kBody), kBedrockSimSecretKey,
                                        kBedrockSimAccessKeyId, {}, "s3"));
  EXPECT_EQ(service.status, 403);

  FakeWriter unsigned_call = Post(sim, Path("converse"), std::string(kBody));
  EXPECT_EQ(unsigned_call.status, 403);
  EXPECT_EQ(unsigned_call.headers.Get("x-amzn-ErrorType").substr(0, 36),
            "MissingAuthenticationTokenException:");

  // A body changed after signing fails the check.
  net::ServerRequest tampered = Signed(Path("converse"), std::string(kBody));
  tampered.body += " ";
  EXPECT_EQ(Call(sim, std::move(tampered)).status, 403);
}

TEST(SimulatorBedrockTest, ConverseTextAndUsageMatchTheOpenAiSide) {
  Simulator sim{SimOptions{}};
  FakeWriter br = Call(sim, Signed(Path("converse"), std::string(kBody)));
  ASSERT_EQ(br.status, 200) << br.body;
  const json::object& o = br.Json().as_object();
  EXPECT_EQ(o.at("stopReason").as_string(), "end_turn");
  const std::string text =
      std::string(o.at("output").at("message").at("content").at(0).at("text").as_string());

  FakeWriter oa = Post(sim, "/v1/chat/completions",
                       R"({"model":"anthropic.claude-3-5-sonnet-20240620-v1:0","messages":[)"
                       R"({"role":"system","content":"Be brief"},)"
                       R"({"role":"user","content":"Tell me about rivers"}]})");
  ASSERT_EQ(oa.status, 200) << oa.body;
  EXPECT_EQ(text,
            std::string(oa.Json().at("choices").at(0).at("message").at("content").as_string()));
  EXPECT_EQ(o.at("usage").at("inputTokens"), oa.Json().at("usage").at("prompt_tokens"));
  EXPECT_EQ(o.at("usage").at("outputTokens"), oa.Json().at("usage").at("completion_tokens"));

  const json::value stats = json::parse(sim.StatsJson());
  EXPECT_EQ(stats.at("by_model").at("anthropic.claude-3-5-sonnet-20240620-v1:0").as_int64(), 2);
}

std::vector<dialects::bedrock::EventStreamMessage> Frames(const std::string& body) {
  dialects::bedrock::EventStreamParser parser;
  std::vector<dialects::bedrock::EventStreamMessage> out;
  EXPECT_TRUE(parser.Feed(body, out).ok());
  EXPECT_TRUE(parser.Finish().ok());
  return out;
}

TEST(SimulatorBedrockTest, ConverseStreamIsEventStreamFramesThatAddUp) {
  Simulator sim{SimOptions{}};
  FakeWriter whole = Call(sim, Signed(Path("converse"), std::string(kBody)));
  FakeWriter st = Call(sim, Signed(Path("converse-stream"), std::string(kBody)));
  ASSERT_EQ(st.status, 200);
  EXPECT_EQ(st.headers.Get("content-type"), "application/vnd.amazon.eventstream");
  auto frames = Frames(st.body);
  ASSERT_GE(frames.size(), 4u);
  EXPECT_EQ(frames.front().Header(":event-type"), "messageStart");
  EXPECT_EQ(frames[frames.size() - 2].Header(":event-type"), "messageStop");
  EXPECT_EQ(frames.back().Header(":event-type"), "metadata");
  std::string text;
  for (const auto& f : frames) {
    EXPECT_EQ(f.Header(":message-type"), "event");
    json::value p = json::parse(f.payload);
    EXPECT_TRUE(p.as_object().contains("p"));  // AWS's padding field
    if (f.Header(":event-type") == "contentBlockDelta") {
      text += std::string(p.at("delta").at("text").as_string());
    }
  }
  EXPECT_EQ(
      text,
      std::string(
          whole.Json().at("output").at("message").at("content").at(0).at("text").as_string()));
  EXPECT_EQ(json::parse(frames.back().payload).at("usage"), whole.Json().at("usage"));
}

TEST(SimulatorBedrockTest, ToolUseWhenAsked) {
  Simulator sim{SimOptions{}};
  const std::string body =
      R"({"messages":[{"role":"user","content":[{"text":"weather? call_tool"}]}],)"
      R"("toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","inputSchema":{"json":)"
      R"({"type":"object"}}}}]}})";
  FakeWriter w = Call(sim, Signed(Path("converse"), body));
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(w.Json().at("stopReason").as_string(), "tool_use");
  const auto& content = w.Json().at("output").at("message").at("content").as_array();
  const json::value& use = content.back().at("toolUse");
  EXPECT_EQ(use.at("name").as_string(), "get_weather");
  EXPECT_TRUE(use.at("input").is_object());

  FakeWriter st = Call(sim, Signed(Path("converse-stream"), body));
  std::string input;
  bool started = false;
  for (const auto& f : Frames(st.body)) {
    json::value p = json::parse(f.payload);
    if (f.Header(":event-type") == "contentBlockStart") {
      started = p.at("start").at("toolUse").at("name").as_string() == "get_weather";
    }
    if (f.Header(":event-type") == "contentBlockDelta" &&
        p.at("delta").as_object().contains("toolUse")) {
      input += std::string(p.at("delta").at("toolUse").at("input").as_string());
    }
  }
  EXPECT_TRUE(started);
  EXPECT_EQ(json::parse(input), use.at("input"));
}

TEST(SimulatorBedrockTest, StatusControlGivesBedrockErrors) {
  Simulator sim{SimOptions{}};
  FakeWriter t = Call(sim, Signed(Path("converse"), std::string(kBody), kBedrockSimSecretKey,
                                  kBedrockSimAccessKeyId, {{"x-sim-status", "429"}}));
  EXPECT_EQ(t.status, 429);
  EXPECT_EQ(t.headers.Get("x-amzn-ErrorType").substr(0, 20), "ThrottlingException:");
  EXPECT_EQ(t.Json().at("message").as_string(),
            "Too many requests, please wait before trying again.");
  EXPECT_FALSE(t.headers.Get("x-amzn-RequestId").empty());

  FakeWriter bad = Call(sim, Signed(Path("converse"), R"({"messages":[]})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.headers.Get("x-amzn-ErrorType").substr(0, 20), "ValidationException:");
}

TEST(SimulatorBedrockTest, ErrorAfterSendsAnExceptionFrameAndCutAfterCuts) {
  Simulator sim{SimOptions{}};
  FakeWriter e = Call(sim, Signed(Path("converse-stream"), std::string(kBody), kBedrockSimSecretKey,
                                  kBedrockSimAccessKeyId, {{"x-sim-error-after", "2"}}));
  ASSERT_EQ(e.status, 200);
  auto frames = Frames(e.body);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2].Header(":message-type"), "exception");
  EXPECT_EQ(frames[2].Header(":exception-type"), "throttlingException");

  FakeWriter c = Call(sim, Signed(Path("converse-stream"), std::string(kBody), kBedrockSimSecretKey,
                                  kBedrockSimAccessKeyId, {{"x-sim-cut-after", "3"}}));
  EXPECT_TRUE(c.aborted);
  EXPECT_EQ(Frames(c.body).size(), 3u);
}

TEST(SimulatorBedrockTest, TitanEmbeddings) {
  Simulator sim{SimOptions{}};
  FakeWriter w = Call(sim, Signed("/model/amazon.titan-embed-text-v2%3A0/invoke",
                                  R"({"inputText":"hello world","dimensions":256})"));
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(w.Json().at("embedding").as_array().size(), 256u);
  EXPECT_GT(w.Json().at("inputTextTokenCount").as_int64(), 0);
  FakeWriter other = Call(sim, Signed("/model/cohere.command-r-v1%3A0/invoke", "{}"));
  EXPECT_EQ(other.status, 400);
}

}  // namespace
}  // namespace modelmux::sim
