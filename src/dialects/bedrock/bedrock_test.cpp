#include "dialects/bedrock/bedrock.hpp"

#include <gtest/gtest.h>

namespace modelmux::dialects {
namespace {

TEST(BedrockUpstreamTest, ChatCallsNameTheModelInThePath) {
  ChatRequest req;
  req.model = "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0";
  Message m;
  m.content.push_back(ContentPart{PartType::kText, "hi", "", "", ""});
  req.messages.push_back(m);
  auto whole = BedrockUpstream().EncodeChat(req, {"anthropic.claude-3-5-sonnet-20240620-v1:0"});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->method, "POST");
  EXPECT_EQ(whole->path, "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse");
  auto streamed =
      BedrockUpstream().EncodeChat(req, {"anthropic.claude-3-5-sonnet-20240620-v1:0", true});
  ASSERT_TRUE(streamed.ok());
  EXPECT_EQ(streamed->path, "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream");
  EXPECT_EQ(streamed->body, whole->body);  // the body is the same; only the path differs
  EXPECT_EQ(BedrockUpstream().name(), "bedrock");
}

TEST(BedrockUpstreamTest, TitanEmbeddingsOnly) {
  EmbeddingRequest req;
  req.inputs = {"hello"};
  auto call = BedrockUpstream().EncodeEmbeddings(req, {"amazon.titan-embed-text-v2:0"});
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
  auto other = BedrockUpstream().EncodeEmbeddings(req, {"cohere.embed-english-v3"});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "embeddings_not_supported");
  auto decoded =
      BedrockUpstream().DecodeEmbeddings(R"({"embedding":[1,0],"inputTextTokenCount":1})");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->data[0].vector.size(), 2u);
}

TEST(BedrockUpstreamTest, ErrorsGoThroughTheDialect) {
  Error e = BedrockUpstream().DecodeError(429, R"({"message":"Too many requests"})");
  EXPECT_EQ(e.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(e.HttpStatus(), 429);
}

}  // namespace
}  // namespace modelmux::dialects
