#include "dialects/gemini/gemini.hpp"

#include <gtest/gtest.h>

#include "dialects/gemini/test_util.hpp"

namespace modelmux::dialects {
namespace {

using gemini::testing::ParseJson;
using gemini::testing::ReadTestdata;

ChatRequest Hello() {
  ChatRequest req;
  req.model = "gemini/gemini-2.5-flash";
  Message m;
  m.content.push_back(ContentPart{PartType::kText, "Hello", "", "", ""});
  req.messages.push_back(m);
  return req;
}

TEST(GeminiDialectTest, UpstreamWireCall) {
  const UpstreamDialect& d = GeminiUpstream();
  EXPECT_EQ(d.name(), "gemini");
  CallOptions options;
  options.upstream_model = "gemini-2.5-flash";
  options.stream = true;
  auto call = d.EncodeChat(Hello(), options);
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->method, "POST");
  EXPECT_EQ(call->path, "/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  EXPECT_TRUE(call->headers.empty());  // x-goog-api-key is the signer's
  const auto body = ParseJson(call->body);
  EXPECT_FALSE(body.as_object().contains("model"));
  EXPECT_FALSE(body.as_object().contains("stream"));
  EXPECT_EQ(body.at("contents").at(0).at("parts").at(0).at("text"), "Hello");

  options.stream = false;
  call = d.EncodeChat(Hello(), options);
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->path, "/models/gemini-2.5-flash:generateContent");
}

TEST(GeminiDialectTest, UpstreamDecodesThroughTheInterface) {
  const UpstreamDialect& d = GeminiUpstream();
  auto resp = d.DecodeChat(ReadTestdata("response_function_call.json"));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->choices[0].finish_reason, FinishReason::kToolCalls);
  auto dec = d.NewStreamDecoder();
  std::vector<StreamEvent> out;
  ASSERT_TRUE(dec->Feed(ReadTestdata("stream_text.sse"), out).ok());
  ASSERT_TRUE(dec->Finish(out).ok());
  EXPECT_EQ(out.back().kind, StreamEvent::Kind::kDone);
  Error e = d.DecodeError(429, ReadTestdata("error_rate_limit.json"));
  EXPECT_EQ(e.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(e.retry_after, std::chrono::milliseconds(36000));
}

}  // namespace
}  // namespace modelmux::dialects
