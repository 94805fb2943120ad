#include "dialects/anthropic/anthropic.hpp"

#include <gtest/gtest.h>

#include "dialects/anthropic/test_util.hpp"

namespace modelmux::dialects {
namespace {

using anthropic::testing::ParseJson;
using anthropic::testing::ReadTestdata;

ChatRequest Hello() {
  ChatRequest req;
  req.model = "claude";
  Message m;
  m.content.push_back(ContentPart{PartType::kText, "Hello", "", "", ""});
  req.messages.push_back(m);
  return req;
}

TEST(AnthropicDialectTest, UpstreamWireCall) {
  const UpstreamDialect& d = AnthropicUpstream();
  EXPECT_EQ(d.name(), "anthropic");
  CallOptions options;
  options.upstream_model = "claude-sonnet-4-5-20250929";
  options.stream = true;
  auto call = d.EncodeChat(Hello(), options);
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->method, "POST");
  EXPECT_EQ(call->path, "/messages");
  ASSERT_EQ(call->headers.size(), 1u);  // x-api-key is the signer's
  EXPECT_EQ(call->headers[0],
            (std::pair<std::string, std::string>{"anthropic-version", "2023-06-01"}));
  const auto body = ParseJson(call->body);
  EXPECT_EQ(body.at("model").as_string(), "claude-sonnet-4-5-20250929");
  EXPECT_TRUE(body.at("stream").as_bool());

  options.api_version = "2024-01-01";
  options.stream = false;
  call = d.EncodeChat(Hello(), options);
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->headers[0].second, "2024-01-01");
  EXPECT_FALSE(ParseJson(call->body).as_object().contains("stream"));
}

TEST(AnthropicDialectTest, UpstreamDecodesThroughTheInterface) {
  const UpstreamDialect& d = AnthropicUpstream();
  auto resp = d.DecodeChat(ReadTestdata("response_tool_use.json"));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->choices[0].finish_reason, FinishReason::kToolCalls);
  auto dec = d.NewStreamDecoder();
  std::vector<StreamEvent> out;
  ASSERT_TRUE(dec->Feed(ReadTestdata("stream_tool_use.sse"), out).ok());
  ASSERT_TRUE(dec->Finish(out).ok());
  EXPECT_EQ(out.back().kind, StreamEvent::Kind::kDone);
  EXPECT_EQ(d.DecodeError(529, "").kind, ErrorKind::kOverloaded);
}

TEST(AnthropicDialectTest, IngressThroughTheInterface) {
  const IngressDialect& d = AnthropicIngress();
  EXPECT_EQ(d.name(), "anthropic");
  auto req = d.DecodeRequest(R"({"model":"claude-x","max_tokens":3,"stream":true,
                                 "messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(req.ok());
  auto enc = d.NewStreamEncoder(*req);
  const std::string bytes = enc->Finish(std::nullopt, nullptr);
  EXPECT_NE(bytes.find("\"model\":\"claude-x\""), std::string::npos);
  EXPECT_EQ(bytes.substr(0, 21), "event: message_start\n");
  auto bad = d.DecodeRequest(R"({"model":"claude-x","messages":[]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ParseJson(d.EncodeError(bad.error())),
            ParseJson(R"({"type":"error","error":{"type":"invalid_request_error",
                          "message":"max_tokens: Field required"}})"));
  ChatResponse resp;
  EXPECT_EQ(ParseJson(d.EncodeResponse(resp)).at("type").as_string(), "message");
}

}  // namespace
}  // namespace modelmux::dialects
