#include "dialects/qianfan/embeddings.hpp"

#include <gtest/gtest.h>

#include "dialects/qianfan/qianfan.hpp"

namespace modelmux::dialects::qianfan {
namespace {

TEST(QianfanEmbeddings, PathAndBody) {
  EmbeddingRequest req;
  req.inputs = {"你好", "b"};
  req.input_is_string = false;
  req.dimensions = 8;  // no counterpart: not sent
  req.user = "u1";
  auto call = QianfanLegacyUpstream().EncodeEmbeddings(req, {"embedding-v1", false, ""});
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->path, "/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/embedding-v1");
  EXPECT_EQ(call->body, R"({"input":["你好","b"],"user_id":"u1"})");
}

TEST(QianfanEmbeddings, BadEndpointNames) {
  for (std::string_view model : {"", "a/b", "x?y"}) {
    auto p = EmbeddingsPath(model);
    ASSERT_FALSE(p.ok()) << model;
    EXPECT_EQ(p.error().param, "model");
  }
}

TEST(QianfanEmbeddings, DecodeData) {
  auto r = DecodeEmbeddingsResponse(R"({"id":"as-1","object":"embedding_list","created":1,"data":[)"
                                    R"({"object":"embedding","embedding":[0.75,-1],"index":1},)"
                                    R"({"object":"embedding","embedding":[0.5],"index":0}],)"
                                    R"("usage":{"prompt_tokens":9,"total_tokens":9}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->prompt_tokens, 9);
  ASSERT_EQ(r->data.size(), 2u);
  EXPECT_EQ(r->data[0].index, 0);
  EXPECT_EQ(r->data[0].vector, (std::vector<float>{0.5f}));
  EXPECT_EQ(r->data[1].vector, (std::vector<float>{0.75f, -1.0f}));
}

TEST(QianfanEmbeddings, ErrorsInside200) {
  auto stale = QianfanLegacyUpstream().DecodeEmbeddings(
      R"({"error_code":111,"error_msg":"Access token expired"})");
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind, ErrorKind::kAuthentication);
  EXPECT_EQ(stale.error().code, "token_expired");
  auto limited = DecodeEmbeddingsResponse(
      R"({"error_code":18,"error_msg":"Open api qps request limit reached"})");
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().kind, ErrorKind::kRateLimited);
  EXPECT_EQ(limited.error().HttpStatus(), 429);
}

TEST(QianfanEmbeddings, DecodeRejectsMalformed) {
  for (std::string_view body : {"<html>", R"({"data":{}})", R"({"data":[{"embedding":"x"}]})",
                                R"({"data":[{"embedding":[true]}]})"}) {
    auto r = DecodeEmbeddingsResponse(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, "bad_upstream_response") << body;
  }
}

}  // namespace
}  // namespace modelmux::dialects::qianfan
