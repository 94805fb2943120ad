// The simulator's embeddings in every dialect that has them (OpenAI /v1/embeddings, Gemini
// batchEmbedContents, Qianfan legacy embeddings): the same (model, text, size) gives the same
// vector everywhere, sizes default per model, and the x-sim-* controls work.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>

#include "sim/fake_writer_test_util.hpp"
#include "sim/gemini_embed.hpp"
#include "sim/qianfan_embed.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {

namespace json = boost::json;
using simtest::FakeWriter;
using simtest::Post;

std::vector<float> Floats(const json::value& array) {
  std::vector<float> out;
  for (const json::value& x : array.as_array())
    out.push_back(static_cast<float>(x.to_number<double>()));
  return out;
}

std::vector<float> OpenAiVector(Simulator& sim, std::string_view model, std::string_view text) {
  json::object body{{"model", model}, {"input", text}};
  FakeWriter w = Post(sim, "/v1/embeddings", json::serialize(body));
  EXPECT_EQ(w.status, 200) << w.body;
  return Floats(w.Json().at("data").at(0).at("embedding"));
}

std::string QianfanToken(Simulator& sim) {
  FakeWriter w =
      Post(sim, "/oauth/2.0/token?grant_type=client_credentials&client_id=a&client_secret=b", "");
  EXPECT_EQ(w.status, 200) << w.body;
  return std::string(w.Json().at("access_token").as_string());
}

TEST(SimEmbedTest, DefaultSizesFollowTheModel) {
  EXPECT_EQ(DefaultEmbeddingDimensions("text-embedding-3-small"), 1536);
  EXPECT_EQ(DefaultEmbeddingDimensions("TEXT-EMBEDDING-3-LARGE"), 3072);
  EXPECT_EQ(DefaultEmbeddingDimensions("models/text-embedding-004"), 768);
  EXPECT_EQ(DefaultEmbeddingDimensions("embedding-v1"), 384);
  EXPECT_EQ(DefaultEmbeddingDimensions("sim/whatever"), kDefaultDimensions);
  Simulator sim{SimOptions{}};
  EXPECT_EQ(OpenAiVector(sim, "text-embedding-3-small", "hi").size(), 1536u);
  EXPECT_EQ(OpenAiVector(sim, "my-embedder", "hi").size(), static_cast<size_t>(kDefaultDimensions));
}

TEST(SimEmbedTest, GeminiBatchMatchesOpenAi) {
  Simulator sim{SimOptions{}};
  const std::string body = R"({"requests":[
      {"model":"models/embed-x","content":{"parts":[{"text":"alpha"}]},"outputDimensionality":48},
      {"model":"models/embed-x","content":{"parts":[{"text":"beta"}]},"outputDimensionality":48,
       "taskType":"RETRIEVAL_QUERY"}]})";
  FakeWriter g = Post(sim, "/v1beta/models/embed-x:batchEmbedContents", body);
  ASSERT_EQ(g.status, 200) << g.body;
  const json::array& embeddings = g.Json().at("embeddings").as_array();
  ASSERT_EQ(embeddings.size(), 2u);
  FakeWriter o = Post(sim, "/v1/embeddings",
                      R"({"model":"embed-x","input":["alpha","beta"],"dimensions":48})");
  ASSERT_EQ(o.status, 200) << o.body;
  for (size_t i = 0; i < 2; ++i) {
    std::vector<float> gv = Floats(embeddings[i].at("values"));
    ASSERT_EQ(gv.size(), 48u);
    EXPECT_EQ(gv, Floats(o.Json().at("data").at(i).at("embedding"))) << i;
  }
  EXPECT_NE(Floats(embeddings[0].at("values")), Floats(embeddings[1].at("values")));
}

TEST(SimEmbedTest, GeminiRejectsBadBatches) {
  Simulator sim{SimOptions{}};
  const std::string target = "/v1beta/models/embed-x:batchEmbedContents";
  for (std::string_view body : {
           R"({})",
           R"({"requests":[]})",
           R"({"requests":[{"model":"models/other","content":{"parts":[{"text":"a"}]}}]})",
           R"({"requests":[{"model":"models/embed-x","content":{"parts":[]}}]})",
           R"({"requests":[{"content":{"parts":[{"text":"a"}]},"taskType":"POETRY"}]})",
           R"({"requests":[{"content":{"parts":[{"text":"a"}]},"outputDimensionality":0}]})",
       }) {
    FakeWriter w = Post(sim, target, std::string(body));
    EXPECT_EQ(w.status, 400) << body;
    EXPECT_EQ(w.Json().at("error").at("status").as_string(), "INVALID_ARGUMENT") << body;
  }
}

TEST(SimEmbedTest, GeminiControls) {
  Simulator sim{SimOptions{}};
  FakeWriter w =
      Post(sim, "/v1beta/models/embed-x:batchEmbedContents",
           R"({"requests":[{"content":{"parts":[{"text":"a"}]}}]})", {{"x-sim-status", "429"}});
  EXPECT_EQ(w.status, 429);
  EXPECT_EQ(w.Json().at("error").at("status").as_string(), "RESOURCE_EXHAUSTED");
}

TEST(SimEmbedTest, QianfanMatchesOpenAiAndCountsTokens) {
  Simulator sim{SimOptions{}};
  const std::string token = QianfanToken(sim);
  FakeWriter q = Post(
      sim, "/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/embedding-v1?access_token=" + token,
      R"({"input":["你好世界","rivers"]})");
  ASSERT_EQ(q.status, 200) << q.body;
  const json::object& o = q.Json().as_object();
  EXPECT_EQ(o.at("object").as_string(), "embedding_list");
  ASSERT_EQ(o.at("data").as_array().size(), 2u);
  EXPECT_EQ(o.at("data").at(1).at("index").as_int64(), 1);
  // "你好世界" is 12 UTF-8 bytes -> 3 tokens; "rivers" 6 bytes -> 2 tokens.
  EXPECT_EQ(o.at("usage").at("prompt_tokens").as_int64(), 5);
  std::vector<float> v = Floats(o.at("data").at(0).at("embedding"));
  EXPECT_EQ(v.size(), 384u);
  EXPECT_EQ(v, OpenAiVector(sim, "embedding-v1", "你好世界"));
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST(SimEmbedTest, QianfanErrorsInside200) {
  Simulator sim{SimOptions{}};
  const std::string target = "/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/embedding-v1";
  FakeWriter no_token = Post(sim, target + "?access_token=nope", R"({"input":["a"]})");
  EXPECT_EQ(no_token.status, 200);
  EXPECT_EQ(no_token.Json().at("error_code").as_int64(), 110);
  const std::string token = QianfanToken(sim);
  FakeWriter empty = Post(sim, target + "?access_token=" + token, R"({"input":[]})");
  EXPECT_EQ(empty.Json().at("error_code").as_int64(), 336003);
  std::string many = R"({"input":[)";
  for (size_t i = 0; i <= kQianfanMaxEmbeddingInputs; ++i) many += i ? ",\"a\"" : "\"a\"";
  many += "]}";
  FakeWriter too_many = Post(sim, target + "?access_token=" + token, many);
  EXPECT_EQ(too_many.Json().at("error_code").as_int64(), 336003);
  FakeWriter limited =
      Post(sim, target + "?access_token=" + token, R"({"input":["a"]})", {{"x-sim-status", "429"}});
  EXPECT_EQ(limited.status, 200);
  EXPECT_EQ(limited.Json().at("error_code").as_int64(), 18);
}

}  // namespace
}  // namespace modelmux::sim
