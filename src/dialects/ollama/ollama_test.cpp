#include "dialects/ollama/ollama.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "dialects/ollama/errors.hpp"
#include "dialects/ollama/stream.hpp"
#include "dialects/ollama/wire.hpp"

namespace modelmux::dialects {
namespace {

namespace json = boost::json;

std::string ReadTestdata(const std::string& name) {
  std::ifstream f(std::string(MODELMUX_TESTDATA_DIR) + "/ollama/testdata/" + name,
                  std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Message Msg(Role role, std::string text) {
  Message m;
  m.role = role;
  m.content.push_back(ContentPart{PartType::kText, std::move(text), "", "", ""});
  return m;
}

Result<std::vector<StreamEvent>> Decode(std::string_view bytes, size_t step) {
  ollama::OllamaStreamDecoder d;
  std::vector<StreamEvent> out;
  if (step == 0) step = bytes.size() + 1;
  for (size_t i = 0; i < bytes.size(); i += step) {
    MM_RETURN_IF_ERROR(d.Feed(bytes.substr(i, step), out));
  }
  MM_RETURN_IF_ERROR(d.Finish(out));
  return out;
}

std::string TextOf(const std::vector<StreamEvent>& events) {
  std::string text;
  for (const auto& ev : events) {
    for (const auto& d : ev.deltas) text += d.text;
  }
  return text;
}

TEST(OllamaDialectTest, EncodeChat) {
  ChatRequest req;
  req.model = "ollama/llama3.2";
  Message user = Msg(Role::kUser, "What is in this picture?");
  user.content.push_back(
      ContentPart{PartType::kImage, "", "data:image/png;base64,iVBORw0KGgo=", "", "image/png"});
  req.messages = {Msg(Role::kDeveloper, "Be brief."), user};
  req.temperature = 0.2;
  req.top_p = 0.9;
  req.max_tokens = 64;
  req.seed = 7;
  req.stop = {"END"};
  req.response_format = R"({"type":"json_object"})";
  req.tool_choice = R"("auto")";
  req.extra = R"({"top_k":20,"options":{"num_ctx":8192},"keep_alive":"5m","unknown":1})";
  const UpstreamDialect& d = OllamaUpstream();
  EXPECT_EQ(d.name(), "ollama");
  auto call = d.EncodeChat(req, {"llama3.2", false, {}});
  ASSERT_TRUE(call.ok()) << call.error().message;
  EXPECT_EQ(call->path, "/api/chat");
  const json::value expected = json::parse(R"({
    "model":"llama3.2",
    "messages":[{"role":"system","content":"Be brief."},
                {"role":"user","content":"What is in this picture?","images":["iVBORw0KGgo="]}],
    "stream":false,
    "options":{"temperature":0.2,"top_p":0.9,"num_predict":64,"stop":["END"],"seed":7,
               "top_k":20,"num_ctx":8192},
    "keep_alive":"5m","format":"json"})");
  EXPECT_EQ(json::parse(call->body), expected) << call->body;
  auto streamed = d.EncodeChat(req, {"llama3.2", true, {}});
  ASSERT_TRUE(streamed.ok());
  EXPECT_EQ(json::parse(streamed->body).at("stream"), true);
}

TEST(OllamaDialectTest, EncodeToolsAndSchemas) {
  ChatRequest req;
  req.messages.push_back(Msg(Role::kUser, "Weather in Paris?"));
  Message call = Msg(Role::kAssistant, "");
  call.tool_calls.push_back(ToolCall{"call_0", "get_current_weather", R"({"location":"Paris"})"});
  req.messages.push_back(call);
  Message result = Msg(Role::kTool, "22C");
  result.tool_call_id = "call_0";
  req.messages.push_back(result);
  req.tools = R"([{"type":"function","function":{"name":"get_current_weather",
                  "parameters":{"type":"object"}}}])";
  req.response_format = R"({"type":"json_schema","json_schema":{"name":"w",
                            "schema":{"type":"object","properties":{"t":{"type":"number"}}}}})";
  auto wire = OllamaUpstream().EncodeChat(req, {"llama3.2", false, {}});
  ASSERT_TRUE(wire.ok()) << wire.error().message;
  const json::value body = json::parse(wire->body);
  const json::array& msgs = body.at("messages").as_array();
  EXPECT_EQ(msgs[1].at("tool_calls"), json::parse(R"([{"function":{"name":"get_current_weather",
                                                        "arguments":{"location":"Paris"}}}])"));
  EXPECT_EQ(msgs[2].at("role").as_string(), "tool");
  EXPECT_EQ(msgs[2].at("tool_name").as_string(), "get_current_weather");
  EXPECT_EQ(body.at("tools").at(0).at("function").at("name").as_string(), "get_current_weather");
  EXPECT_EQ(body.at("format").at("properties").at("t").at("type").as_string(), "number");

  req.messages[1].tool_calls[0].arguments = "[1,2]";
  EXPECT_EQ(OllamaUpstream().EncodeChat(req, {"m", false, {}}).error().param,
            "messages[1].tool_calls");
}

TEST(OllamaDialectTest, RemoteImagesAreRefusedClearly) {
  ChatRequest req;
  Message user = Msg(Role::kUser, "see");
  user.content.push_back(ContentPart{PartType::kImage, "", "https://example.com/a.png", "", ""});
  req.messages = {user};
  auto r = OllamaUpstream().EncodeChat(req, {"llava", false, {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(r.error().HttpStatus(), 400);
  EXPECT_EQ(r.error().code, "image_url_not_supported");
  EXPECT_EQ(r.error().param, "messages[0].content");
}

TEST(OllamaDialectTest, DecodeDocumentedAnswer) {
  auto r = OllamaUpstream().DecodeChat(ReadTestdata("chat_response.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "llama3.2");
  EXPECT_EQ(r->created, 1702390423);  // 2023-12-12T14:13:43Z
  EXPECT_EQ(r->id, "ollama-20231212141343416799");
  EXPECT_EQ(r->choices.at(0).message.Text(), "Hello! How are you today?");
  EXPECT_EQ(r->choices[0].finish_reason, FinishReason::kStop);
  EXPECT_EQ(r->usage->prompt_tokens, 26);
  EXPECT_EQ(r->usage->completion_tokens, 298);
}

TEST(OllamaDialectTest, DecodeToolCalls) {
  auto r = OllamaUpstream().DecodeChat(ReadTestdata("chat_tool_calls.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Choice& c = r->choices.at(0);
  EXPECT_EQ(c.finish_reason, FinishReason::kToolCalls);  // Ollama says "stop"
  EXPECT_EQ(c.finish_reason_raw, "stop");
  ASSERT_EQ(c.message.tool_calls.size(), 1u);
  EXPECT_EQ(c.message.tool_calls[0].id, "call_0");
  EXPECT_EQ(c.message.tool_calls[0].name, "get_current_weather");
  EXPECT_EQ(json::parse(c.message.tool_calls[0].arguments),
            json::parse(R"({"format":"celsius","location":"Paris, FR"})"));
}

TEST(OllamaDialectTest, CreatedAtWithOffsets) {
  EXPECT_EQ(ollama::detail::ParseCreatedAt("2023-08-04T08:52:19.385406455-07:00"), 1691164339);
  EXPECT_EQ(ollama::detail::ParseCreatedAt("2023-08-04T15:52:19Z"), 1691164339);
  EXPECT_EQ(ollama::detail::ParseCreatedAt("yesterday"), 0);
}

TEST(OllamaDialectTest, NdjsonSplitAtEveryByteGivesTheSameEvents) {
  const std::string body = ReadTestdata("chat_stream.ndjson");
  auto whole = Decode(body, 0);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_EQ(TextOf(*whole), "The sky is blue.");
  EXPECT_EQ(whole->front().deltas.at(0).role, "assistant");
  EXPECT_EQ(whole->front().model, "llama3.2");
  EXPECT_EQ(whole->front().created, 1691164339);
  ASSERT_GE(whole->size(), 3u);
  EXPECT_EQ(whole->back().kind, StreamEvent::Kind::kDone);
  const StreamEvent& usage = (*whole)[whole->size() - 2];
  ASSERT_EQ(usage.kind, StreamEvent::Kind::kUsage);
  EXPECT_EQ(usage.usage->prompt_tokens, 26);
  EXPECT_EQ(usage.usage->completion_tokens, 282);
  EXPECT_EQ((*whole)[whole->size() - 3].deltas.at(0).finish_reason, FinishReason::kStop);
  for (size_t step = 1; step <= 9; ++step) {
    auto split = Decode(body, step);
    ASSERT_TRUE(split.ok()) << step;
    EXPECT_EQ(TextOf(*split), TextOf(*whole)) << step;
    EXPECT_EQ(split->size(), whole->size()) << step;
  }
  // CRLF line ends and blank lines change nothing.
  std::string crlf;
  for (char c : body) crlf += c == '\n' ? std::string("\r\n\r\n") : std::string(1, c);
  auto with_crlf = Decode(crlf, 4);
  ASSERT_TRUE(with_crlf.ok()) << with_crlf.error().message;
  EXPECT_EQ(with_crlf->size(), whole->size());
}

TEST(OllamaDialectTest, StreamedToolCallsAndErrors) {
  const std::string tool_line =
      R"({"model":"m","created_at":"2024-07-22T20:33:28.1Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"a","arguments":{"x":1}}},{"function":{"name":"b","arguments":{}}}]},"done":false})"
      "\n"
      R"({"model":"m","created_at":"2024-07-22T20:33:28.2Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":4})"
      "\n";
  auto events = Decode(tool_line, 0);
  ASSERT_TRUE(events.ok()) << events.error().message;
  std::vector<std::string> names;
  FinishReason finish = FinishReason::kNone;
  for (const auto& ev : *events) {
    for (const auto& d : ev.deltas) {
      for (const auto& f : d.tool_calls) {
        names.push_back(f.name);
        EXPECT_EQ(f.id, "call_" + std::to_string(f.index));
      }
      if (d.finish_reason != FinishReason::kNone) finish = d.finish_reason;
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(finish, FinishReason::kToolCalls);

  const std::string body = ReadTestdata("chat_stream.ndjson");
  const std::string cut_body = body.substr(0, body.rfind("{\"model\""));
  auto cut = Decode(cut_body, 0);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, "stream_cut");
  auto in_band = Decode(cut_body + R"({"error":"an error was encountered while running the model"})"
                                   "\n",
                        0);
  ASSERT_FALSE(in_band.ok());
  EXPECT_EQ(in_band.error().kind, ErrorKind::kUpstreamError);
  EXPECT_NE(in_band.error().message.find("while running the model"), std::string::npos);
  EXPECT_EQ(Decode("data: {}\n", 0).error().code, "bad_upstream_response");
}

TEST(OllamaDialectTest, Errors) {
  Error missing = OllamaUpstream().DecodeError(
      404, R"({"error":"model \"llama9\" not found, try pulling it first"})");
  EXPECT_EQ(missing.kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.code, "model_not_found");
  EXPECT_EQ(missing.provider, "ollama");
  EXPECT_NE(missing.message.find("llama9"), std::string::npos);
  Error bad = OllamaUpstream().DecodeError(400, R"({"error":"invalid options"})");
  EXPECT_EQ(bad.kind, ErrorKind::kInvalidRequest);
  Error plain = OllamaUpstream().DecodeError(502, "Bad Gateway");
  EXPECT_EQ(plain.message, "Bad Gateway");
  EXPECT_EQ(OllamaUpstream().DecodeChat(R"({"error":"boom"})").error().message, "boom");
}

TEST(OllamaDialectTest, Embeddings) {
  EmbeddingRequest req;
  req.model = "all-minilm";
  req.inputs = {"Why is the sky blue?", "Why is the grass green?"};
  auto call = OllamaUpstream().EncodeEmbeddings(req, {});
  ASSERT_TRUE(call.ok());
  EXPECT_EQ(call->path, "/api/embed");
  EXPECT_EQ(json::parse(call->body), json::parse(R"({"model":"all-minilm",
                            "input":["Why is the sky blue?","Why is the grass green?"]})"));
  auto r = OllamaUpstream().DecodeEmbeddings(ReadTestdata("embed_response.json"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "all-minilm");
  ASSERT_EQ(r->data.size(), 1u);
  EXPECT_EQ(r->data[0].vector.size(), 10u);
  EXPECT_FLOAT_EQ(r->data[0].vector[1], -0.0017594862f);
  EXPECT_EQ(r->prompt_tokens, 8);
}

}  // namespace
}  // namespace modelmux::dialects
