// The simulator's Ollama native endpoints: /api/chat whole and as NDJSON (the default), text that
// matches the OpenAI side, /api/embed, /api/tags, the /ollama prefix and errors with statuses.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

#include "sim/fake_writer_test_util.hpp"
#include "sim/ollama_wire.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {

namespace json = boost::json;
using simtest::FakeWriter;
using simtest::Post;

constexpr std::string_view kMessages =
    R"([{"role":"system","content":"Be brief"},{"role":"user","content":"Tell me about rivers"}])";

std::string ChatBody(std::string_view extra = {}) {
  return R"({"model":"llama3.2","messages":)" + std::string(kMessages) + std::string(extra) + "}";
}

std::vector<json::value> Lines(const std::string& body) {
  std::vector<json::value> out;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

TEST(SimulatorOllamaTest, WholeAnswerMatchesTheOpenAiSide) {
  Simulator sim{SimOptions{}};
  FakeWriter w = Post(sim, "/api/chat", ChatBody(R"(,"stream":false)"));
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_FALSE(w.streamed);
  const json::object& o = w.Json().as_object();
  EXPECT_EQ(o.at("done"), true);
  EXPECT_EQ(o.at("done_reason").as_string(), "stop");
  EXPECT_EQ(o.at("model").as_string(), "llama3.2");
  const std::string text(o.at("message").at("content").as_string());
  EXPECT_FALSE(text.empty());

  FakeWriter oa = Post(sim, "/v1/chat/completions",
                       R"({"model":"llama3.2","messages":)" + std::string(kMessages) + "}");
  ASSERT_EQ(oa.status, 200) << oa.body;
  EXPECT_EQ(oa.Json().at("choices").at(0).at("message").at("content").as_string(), text);
  EXPECT_EQ(oa.Json().at("usage").at("prompt_tokens"), o.at("prompt_eval_count"));
  EXPECT_EQ(oa.Json().at("usage").at("completion_tokens"), o.at("eval_count"));
}

TEST(SimulatorOllamaTest, StreamsNdjsonByDefault) {
  Simulator sim{SimOptions{}};
  FakeWriter whole = Post(sim, "/api/chat", ChatBody(R"(,"stream":false)"));
  FakeWriter s = Post(sim, "/ollama/api/chat", ChatBody());  // no "stream": Ollama streams
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_TRUE(s.streamed);
  EXPECT_EQ(s.headers.Get("content-type"), "application/x-ndjson");
  EXPECT_EQ(s.body.find("data:"), std::string::npos);
  std::vector<json::value> lines = Lines(s.body);
  ASSERT_GE(lines.size(), 2u);
  std::string text;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].at("done").as_bool(), i + 1 == lines.size()) << i;
    text += std::string(lines[i].at("message").at("content").as_string());
  }
  EXPECT_EQ(text, whole.Json().at("message").at("content").as_string());
  EXPECT_EQ(lines.back().at("eval_count"), whole.Json().at("eval_count"));
  EXPECT_EQ(lines.back().at("prompt_eval_count"), whole.Json().at("prompt_eval_count"));
}

TEST(SimulatorOllamaTest, ErrorsCarryTheStatus) {
  Simulator sim{SimOptions{}};
  FakeWriter missing = Post(sim, "/api/chat", ChatBody(), {{"x-sim-status", "404"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Json().at("error").as_string(),
            "model \"llama3.2\" not found, try pulling it first");
  FakeWriter bad = Post(sim, "/api/chat", R"({"messages":[]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(bad.Json().at("error").is_string());
  FakeWriter data_url = Post(
      sim, "/api/chat",
      R"({"model":"llava","messages":[{"role":"user","content":"x","images":["data:image/png;base64,AA=="]}]})");
  EXPECT_EQ(data_url.status, 400);

  FakeWriter broken = Post(sim, "/api/chat", ChatBody(), {{"x-sim-error-after", "2"}});
  std::vector<json::value> lines = Lines(broken.body);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines.back().as_object().contains("error"));
  FakeWriter cut = Post(sim, "/api/chat", ChatBody(), {{"x-sim-cut-after", "1"}});
  EXPECT_TRUE(cut.aborted);
  EXPECT_EQ(Lines(cut.body).size(), 1u);
}

TEST(SimulatorOllamaTest, EmbedAndTags) {
  Simulator sim{SimOptions{}};
  FakeWriter e =
      Post(sim, "/api/embed", R"({"model":"all-minilm","input":["why is the sky blue?","x"]})");
  ASSERT_EQ(e.status, 200) << e.body;
  const json::array& rows = e.Json().at("embeddings").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].as_array().size(), 64u);
  EXPECT_NE(rows[0], rows[1]);
  EXPECT_GT(e.Json().at("prompt_eval_count").as_int64(), 0);

  FakeWriter tags = simtest::RunRequest(sim, simtest::MakeRequest("GET", "/api/tags", ""));
  ASSERT_EQ(tags.status, 200);
  EXPECT_EQ(tags.Json().at("models").at(0).at("name").as_string(), "llama3.2:latest");
  EXPECT_EQ(Post(sim, "/api/tags", "").status, 405);
  EXPECT_FALSE(IsOllamaPath("/api/paas/v4/chat/completions"));
}

}  // namespace
}  // namespace modelmux::sim
