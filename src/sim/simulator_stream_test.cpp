// Streaming behaviour of the simulator, and the other endpoints (legacy completions, embeddings,
// models).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstring>

#include "sim/fake_writer_test_util.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sim {
namespace {
namespace json = boost::json;
using simtest::FakeWriter;
using simtest::Post;
using simtest::RunRequest;

std::string Chat(std::string_view model, std::string_view user, std::string extra = "") {
  json::object o{{"model", model},
                 {"messages", json::array{json::object{{"role", "user"}, {"content", user}}}}};
  std::string s = json::serialize(o);
  if (!extra.empty()) s = s.substr(0, s.size() - 1) + "," + extra + "}";
  return s;
}

struct Streamed {
  std::string text;
  std::string finish;
  std::optional<json::value> usage;
  size_t usage_chunks = 0;
  bool done = false;
  size_t events = 0;  // excluding [DONE]
};

Streamed Collect(const FakeWriter& w) {
  Streamed s;
  for (const std::string& data : w.Events()) {
    if (data == "[DONE]") {
      s.done = true;
      continue;
    }
    ++s.events;
    json::value v = json::parse(data);
    const json::array& choices = v.at("choices").as_array();
    if (choices.empty()) {
      ++s.usage_chunks;
      s.usage = v.at("usage");
      continue;
    }
    const json::value& c = choices.at(0);
    if (const json::value* delta = c.as_object().if_contains("delta")) {
      if (const json::value* content = delta->as_object().if_contains("content");
          content && content->is_string()) {
        s.text += content->as_string();
      }
    } else {
      s.text += c.at("text").as_string();
    }
    if (c.at("finish_reason").is_string()) s.finish = c.at("finish_reason").as_string();
  }
  return s;
}

TEST(SimulatorStreamTest, StreamMatchesNonStreamTextAndUsage) {
  for (std::string_view model : {"sim/echo", "sim/chat"}) {
    SCOPED_TRACE(model);
    Simulator sim({});
    std::string user = "Stream me some words, please";
    FakeWriter plain = Post(sim, "/v1/chat/completions", Chat(model, user));
    FakeWriter stream =
        Post(sim, "/v1/chat/completions",
             Chat(model, user, R"("stream":true,"stream_options":{"include_usage":true})"));
    ASSERT_EQ(stream.status, 200);
    EXPECT_TRUE(stream.streamed);
    EXPECT_TRUE(stream.finished);
    EXPECT_EQ(stream.headers.Get("content-type"), "text/event-stream; charset=utf-8");
    json::value p = plain.Json();
    Streamed s = Collect(stream);
    EXPECT_EQ(s.text, p.at("choices").at(0).at("message").at("content").as_string());
    EXPECT_EQ(s.finish, p.at("choices").at(0).at("finish_reason").as_string());
    ASSERT_TRUE(s.usage);
    EXPECT_EQ(*s.usage, p.at("usage"));
    EXPECT_TRUE(s.done);
    // role chunk + one per completion token + finish chunk + usage chunk.
    EXPECT_EQ(static_cast<int64_t>(s.events),
              p.at("usage").at("completion_tokens").to_number<int64_t>() + 3);
    json::value first = json::parse(stream.Events().front());
    EXPECT_EQ(first.at("choices").at(0).at("delta").at("role").as_string(), "assistant");
    EXPECT_EQ(first.at("choices").at(0).at("delta").at("content").as_string(), "");
    EXPECT_EQ(first.at("object").as_string(), "chat.completion.chunk");
  }
}

TEST(SimulatorStreamTest, UsageChunkOnlyWhenAsked) {
  Simulator sim({});
  Streamed without =
      Collect(Post(sim, "/v1/chat/completions", Chat("sim/chat", "x", R"("stream":true)")));
  EXPECT_EQ(without.usage_chunks, 0u);
  EXPECT_TRUE(without.done);
  Streamed off = Collect(
      Post(sim, "/v1/chat/completions",
           Chat("sim/chat", "x", R"("stream":true,"stream_options":{"include_usage":false})")));
  EXPECT_EQ(off.usage_chunks, 0u);
  Streamed with = Collect(
      Post(sim, "/v1/chat/completions",
           Chat("sim/chat", "x", R"("stream":true,"stream_options":{"include_usage":true})")));
  EXPECT_EQ(with.usage_chunks, 1u);
}

TEST(SimulatorStreamTest, MaxTokensCutInStream) {
  Simulator sim({});
  Streamed s = Collect(
      Post(sim, "/v1/chat/completions",
           Chat("sim/chat", "x",
                R"("stream":true,"max_tokens":3,"stream_options":{"include_usage":true})")));
  EXPECT_EQ(s.finish, "length");
  EXPECT_EQ(s.usage->at("completion_tokens").to_number<int64_t>(), 3);
}

TEST(SimulatorStreamTest, ToolCallArgumentsStreamInFragments) {
  Simulator sim({});
  std::string extra = R"("stream":true,"tools":[{"type":"function","function":{"name":"lookup"}}])";
  FakeWriter w = Post(sim, "/v1/chat/completions",
                      Chat("sim/chat", "please call_tool \"quoted\" 你好", extra));
  std::string args, id, name, finish;
  size_t fragments = 0;
  for (const std::string& data : w.Events()) {
    if (data == "[DONE]") continue;
    json::value parsed_chunk = json::parse(data);
    const json::value& c = parsed_chunk.at("choices").at(0);
    if (c.at("finish_reason").is_string()) finish = c.at("finish_reason").as_string();
    const json::object& delta = c.at("delta").as_object();
    const json::value* calls = delta.if_contains("tool_calls");
    if (calls == nullptr) continue;
    const json::object& tc = calls->at(0).as_object();
    EXPECT_EQ(tc.at("index").to_number<int>(), 0);
    if (fragments == 0) {
      id = tc.at("id").as_string();
      name = tc.at("function").at("name").as_string();
    } else {
      EXPECT_FALSE(tc.contains("id"));
      EXPECT_FALSE(tc.at("function").as_object().contains("name"));
    }
    args += tc.at("function").at("arguments").as_string();
    ++fragments;
  }
  EXPECT_GE(fragments, 3u);
  EXPECT_EQ(name, "lookup");
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(finish, "tool_calls");
  json::value parsed = json::parse(args);
  EXPECT_EQ(parsed.at("query").as_string(), "please call_tool \"quoted\" 你好");
}

TEST(SimulatorStreamTest, CutAfterEndsWithoutTerminator) {
  Simulator sim({});
  FakeWriter w = Post(sim, "/v1/chat/completions", Chat("sim/chat", "x", R"("stream":true)"),
                      {{"x-sim-cut-after", "3"}});
  EXPECT_EQ(w.status, 200);
  std::vector<std::string> events = w.Events();
  EXPECT_EQ(events.size(), 3u);
  for (const auto& e : events) EXPECT_NE(e, "[DONE]");
  EXPECT_FALSE(w.finished);
  EXPECT_TRUE(w.aborted);
  // Past the end of the stream the cut never happens.
  FakeWriter whole = Post(sim, "/v1/chat/completions", Chat("sim/chat", "x", R"("stream":true)"),
                          {{"x-sim-cut-after", "1000"}});
  EXPECT_TRUE(whole.finished);
  EXPECT_EQ(whole.Events().back(), "[DONE]");
}

TEST(SimulatorStreamTest, ErrorAfterSendsInBandErrorAndEnds) {
  Simulator sim({});
  FakeWriter w = Post(sim, "/v1/chat/completions", Chat("sim/chat", "x", R"("stream":true)"),
                      {{"x-sim-error-after", "2"}});
  std::vector<std::string> events = w.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_TRUE(json::parse(events[1]).as_object().contains("choices"));
  json::value err = json::parse(events[2]);
  EXPECT_EQ(err.at("error").at("code").as_string(), "sim_error");
  EXPECT_EQ(err.at("error").at("type").as_string(), "server_error");
  EXPECT_EQ(err.at("error").at("message").as_string(), "simulated mid-stream error");
  EXPECT_TRUE(w.finished);
}

TEST(SimulatorStreamTest, PacingAndStallsStillDeliverEverything) {
  Simulator sim({});
  FakeWriter w =
      Post(sim, "/v1/chat/completions", Chat("sim/chat", "x", R"("stream":true,"max_tokens":4)"),
           {{"x-sim-ttft-ms", "2"},
            {"x-sim-tokens-per-s", "2000"},
            {"x-sim-stall-ms", "2"},
            {"x-sim-stall-at", "body"}});
  Streamed s = Collect(w);
  EXPECT_EQ(s.finish, "length");
  EXPECT_TRUE(s.done);
  FakeWriter plain =
      Post(sim, "/v1/chat/completions", Chat("sim/echo", "hi"),
           {{"x-sim-latency-ms", "1"}, {"x-sim-stall-ms", "1"}, {"x-sim-stall-at", "body"}});
  EXPECT_TRUE(plain.streamed);  // headers went first, then the body after the stall
  EXPECT_EQ(plain.Json().at("choices").at(0).at("message").at("content").as_string(), "hi");
}

TEST(SimulatorStreamTest, LegacyCompletions) {
  Simulator sim({});
  FakeWriter echo = Post(sim, "/v1/completions", R"({"model":"sim/echo","prompt":"say this"})");
  json::value v = echo.Json();
  EXPECT_EQ(v.at("object").as_string(), "text_completion");
  EXPECT_EQ(v.at("id").as_string(), "cmpl-sim-1");
  EXPECT_EQ(v.at("choices").at(0).at("text").as_string(), "say this");
  EXPECT_EQ(v.at("usage").at("prompt_tokens").to_number<int64_t>(), 2);  // 8 bytes / 4, no framing
  FakeWriter gen =
      Post(sim, "/v1/completions", R"({"model":"gpt-3.5-turbo-instruct","prompt":"x"})");
  EXPECT_EQ(gen.Json().at("usage").at("completion_tokens").to_number<int64_t>(), 16);
  EXPECT_EQ(gen.Json().at("choices").at(0).at("finish_reason").as_string(), "length");
  FakeWriter stream = Post(sim, "/v1/completions",
                           R"({"model":"gpt-3.5-turbo-instruct","prompt":"x","stream":true,
                               "stream_options":{"include_usage":true}})");
  Streamed s = Collect(stream);
  EXPECT_EQ(s.text, gen.Json().at("choices").at(0).at("text").as_string());
  EXPECT_EQ(*s.usage, gen.Json().at("usage"));
}

std::vector<float> DecodeBase64Floats(std::string_view b64) {
  auto val = [](char c) -> uint32_t {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : 63;
  };
  std::string bytes;
  for (size_t i = 0; i + 3 < b64.size(); i += 4) {
    uint32_t v = (val(b64[i]) << 18) | (val(b64[i + 1]) << 12);
    bytes.push_back(static_cast<char>(v >> 16));
    if (b64[i + 2] != '=') {
      v |= val(b64[i + 2]) << 6;
      bytes.push_back(static_cast<char>((v >> 8) & 0xFF));
    }
    if (b64[i + 3] != '=') {
      v |= val(b64[i + 3]);
      bytes.push_back(static_cast<char>(v & 0xFF));
    }
  }
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);  // little-endian host
  return out;
}

TEST(SimulatorStreamTest, EmbeddingsAreDeterministicUnitVectors) {
  Simulator sim({});
  FakeWriter w = Post(
      sim, "/v1/embeddings",
      R"({"model":"text-embedding-3-small","input":["hello","world","hello"],"dimensions":32})");
  ASSERT_EQ(w.status, 200);
  json::value v = w.Json();
  const json::array& data = v.at("data").as_array();
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[0].at("embedding"), data[2].at("embedding"));
  EXPECT_NE(data[0].at("embedding"), data[1].at("embedding"));
  double norm = 0;
  for (const json::value& x : data[0].at("embedding").as_array())
    norm += x.to_number<double>() * x.to_number<double>();
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_EQ(data[0].at("embedding").as_array().size(), 32u);
  EXPECT_EQ(v.at("usage").at("prompt_tokens").to_number<int64_t>(), 6);  // 2+2+2

  FakeWriter b = Post(sim, "/v1/embeddings",
                      R"({"model":"text-embedding-3-small","input":"hello","dimensions":32,)"
                      R"("encoding_format":"base64"})");
  std::vector<float> decoded =
      DecodeBase64Floats(b.Json().at("data").at(0).at("embedding").as_string());
  ASSERT_EQ(decoded.size(), 32u);
  const json::array& floats = data[0].at("embedding").as_array();
  for (size_t i = 0; i < decoded.size(); ++i) {
    EXPECT_FLOAT_EQ(decoded[i], static_cast<float>(floats[i].to_number<double>()));
  }
}

TEST(SimulatorStreamTest, ModelsAndCompatiblePrefixes) {
  Simulator sim({});
  FakeWriter models = RunRequest(sim, simtest::MakeRequest("GET", "/v1/models", ""));
  std::vector<std::string> ids;
  json::value list = models.Json();
  for (const json::value& m : list.at("data").as_array()) ids.emplace_back(m.at("id").as_string());
  EXPECT_EQ(ids, (std::vector<std::string>{"sim/echo", "sim/chat", "sim/vision", "gpt-4o-mini"}));
  FakeWriter one = RunRequest(sim, simtest::MakeRequest("GET", "/v1/models/sim/echo", ""));
  EXPECT_EQ(one.Json().at("id").as_string(), "sim/echo");
  for (std::string_view prefix :
       {"/deepseek/v1", "/moonshot/v1", "/qianfan/v2", "/dashscope/compatible-mode/v1",
        "/zhipu/api/paas/v4", "/vllm/v1", "/ollama/v1"}) {
    FakeWriter w = Post(sim, std::string(prefix) + "/chat/completions", Chat("sim/echo", "ping"));
    EXPECT_EQ(w.status, 200) << prefix;
    EXPECT_EQ(w.Json().at("choices").at(0).at("message").at("content").as_string(), "ping");
  }
}

}  // namespace
}  // namespace modelmux::sim
