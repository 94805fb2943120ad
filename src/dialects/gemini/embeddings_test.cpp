#include "dialects/gemini/embeddings.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "dialects/gemini/gemini.hpp"

namespace modelmux::dialects::gemini {
namespace {

namespace json = boost::json;

TEST(GeminiEmbeddings, PathKeepsCollections) {
  EXPECT_EQ(BatchEmbedContentsPath("gemini-embedding-001"),
            "/models/gemini-embedding-001:batchEmbedContents");
  EXPECT_EQ(BatchEmbedContentsPath("tunedModels/t1"), "/tunedModels/t1:batchEmbedContents");
}

TEST(GeminiEmbeddings, EncodeGolden) {
  EmbeddingRequest req;
  req.model = "gem/gemini-embedding-001";
  req.inputs = {"first", "second"};
  req.input_is_string = false;
  req.dimensions = 768;
  req.task_type = "retrieval_document";
  req.encoding_format = "base64";
  auto body = EncodeBatchEmbedRequest(req, "gemini-embedding-001");
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(json::parse(*body), json::parse(R"({"requests":[
      {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"first"}]},
       "taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":768},
      {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"second"}]},
       "taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":768}]})"));
}

TEST(GeminiEmbeddings, EncodeMinimal) {
  EmbeddingRequest req;
  req.inputs = {"x"};
  auto body = EncodeBatchEmbedRequest(req, "text-embedding-004");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(json::parse(*body), json::parse(R"({"requests":[{"model":"models/text-embedding-004",
      "content":{"parts":[{"text":"x"}]}}]})"));
}

TEST(GeminiEmbeddings, TaskTypes) {
  EXPECT_EQ(*GeminiTaskType(""), "");
  EXPECT_EQ(*GeminiTaskType("query"), "RETRIEVAL_QUERY");
  EXPECT_EQ(*GeminiTaskType("Document"), "RETRIEVAL_DOCUMENT");
  EXPECT_EQ(*GeminiTaskType("semantic_similarity"), "SEMANTIC_SIMILARITY");
  auto bad = GeminiTaskType("poetry");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "task_type");
  EXPECT_EQ(bad.error().HttpStatus(), 400);
}

TEST(GeminiEmbeddings, DecodeValuesInOrder) {
  auto r =
      DecodeBatchEmbedResponse(R"({"embeddings":[{"values":[0.5,-0.25,1]},{"values":[0.125]}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->data.size(), 2u);
  EXPECT_EQ(r->data[0].index, 0);
  EXPECT_EQ(r->data[0].vector, (std::vector<float>{0.5f, -0.25f, 1.0f}));
  EXPECT_EQ(r->data[1].index, 1);
  EXPECT_EQ(r->data[1].vector, (std::vector<float>{0.125f}));
  EXPECT_EQ(r->prompt_tokens, 0);
}

TEST(GeminiEmbeddings, DecodeRejectsMalformed) {
  for (std::string_view body :
       {"x", R"({})", R"({"embeddings":[{}]})", R"({"embeddings":[{"values":["a"]}]})"}) {
    auto r = DecodeBatchEmbedResponse(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, "bad_upstream_response");
    EXPECT_EQ(r.error().provider, "gemini");
  }
}

TEST(GeminiEmbeddings, ThroughTheDialectInterface) {
  EmbeddingRequest req;
  req.model = "gemini/gemini-embedding-001";
  req.inputs = {"hello"};
  auto call = GeminiUpstream().EncodeEmbeddings(req, {"gemini-embedding-001", false, ""});
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->path, "/models/gemini-embedding-001:batchEmbedContents");
  auto r = GeminiUpstream().DecodeEmbeddings(R"({"embeddings":[{"values":[2]}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data.at(0).vector, (std::vector<float>{2.0f}));
}

}  // namespace
}  // namespace modelmux::dialects::gemini
