#include "dialects/openai/stream.hpp"

#include <gtest/gtest.h>

#include "dialects/openai/response.hpp"
#include "dialects/openai/test_util.hpp"

namespace modelmux::dialects::openai {
namespace {

using testing::ReadTestdata;

// Feeds `bytes` through the SSE framer in pieces of `step` bytes and decodes every event.
std::vector<StreamEvent> DecodeAll(const std::string& bytes, size_t step, bool* done = nullptr) {
  SseParser parser;
  StreamDecoder dec;
  std::vector<SseEvent> frames;
  for (size_t i = 0; i < bytes.size(); i += step) {
    EXPECT_TRUE(parser.Feed(std::string_view(bytes).substr(i, step), frames));
  }
  parser.Finish(frames);
  std::vector<StreamEvent> out;
  for (const auto& f : frames) {
    auto ev = dec.OnEvent(f);
    EXPECT_TRUE(ev.ok());
    if (ev.ok() && ev->has_value()) out.push_back(**ev);
  }
  if (done != nullptr) *done = dec.done();
  return out;
}

TEST(OpenAiStreamTest, ToolCallFragmentsUsageAndDone) {
  bool done = false;
  auto events = DecodeAll(ReadTestdata("stream_tool_calls.sse"), 7, &done);
  EXPECT_TRUE(done);
  // The Azure prompt_filter_results chunk and the keep-alive produce no event.
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[0].kind, StreamEvent::Kind::kDelta);
  EXPECT_EQ(events[0].deltas[0].role, "assistant");
  ASSERT_EQ(events[0].deltas[0].tool_calls.size(), 1u);
  EXPECT_EQ(events[0].deltas[0].tool_calls[0].id, "call_DdmO9pD3xa9XTPNJ32zg2hcA");
  EXPECT_FALSE(events[0].usage);  // usage:null ignored
  EXPECT_EQ(events[3].deltas[0].tool_calls[0].index, 1);
  EXPECT_EQ(events[5].deltas[0].finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(events[6].kind, StreamEvent::Kind::kUsage);
  EXPECT_EQ(*events[6].usage, (Usage{80, 40, 64, 0, 0}));
  EXPECT_EQ(events[7].kind, StreamEvent::Kind::kDone);
}

TEST(OpenAiStreamTest, StreamedEqualsNonStreamed) {
  StreamAccumulator acc;
  for (const auto& ev : DecodeAll(ReadTestdata("stream_tool_calls.sse"), 1)) acc.Add(ev);
  const ChatResponse streamed = acc.Response();
  auto whole = DecodeChatResponse(ReadTestdata("response_tool_calls_same_as_stream.json"));
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(streamed.id, whole->id);
  EXPECT_EQ(streamed.model, whole->model);
  EXPECT_EQ(streamed.created, whole->created);
  EXPECT_EQ(streamed.usage, whole->usage);
  ASSERT_EQ(streamed.choices.size(), 1u);
  testing::ExpectSameMessage(streamed.choices[0].message, whole->choices[0].message);
  EXPECT_EQ(streamed.choices[0].finish_reason, whole->choices[0].finish_reason);
}

TEST(OpenAiStreamTest, MoonshotUsageInChoiceEqualsNonStreamed) {
  StreamAccumulator acc;
  for (const auto& ev : DecodeAll(ReadTestdata("stream_moonshot.sse"), 5)) acc.Add(ev);
  auto whole = DecodeChatResponse(ReadTestdata("response_moonshot.json"));
  ASSERT_TRUE(whole.ok());
  const ChatResponse streamed = acc.Response();
  EXPECT_EQ(streamed.choices[0].message.Text(), whole->choices[0].message.Text());
  EXPECT_EQ(streamed.usage, whole->usage);
  EXPECT_EQ(streamed.choices[0].finish_reason, FinishReason::kStop);
}

TEST(OpenAiStreamTest, ReasoningThenMidStreamError) {
  bool done = true;
  auto events = DecodeAll(ReadTestdata("stream_reasoning_error.sse"), 11, &done);
  EXPECT_FALSE(done);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].deltas[0].reasoning, "Compare ");
  EXPECT_EQ(events[2].deltas[0].text, "9.8 is ");
  EXPECT_EQ(events[3].kind, StreamEvent::Kind::kError);
  EXPECT_EQ(events[3].error_message,
            "The server had an error while processing your request (key sk-a***).");
  StreamAccumulator acc;
  for (const auto& ev : events) acc.Add(ev);
  EXPECT_TRUE(acc.saw_error());
  EXPECT_EQ(acc.Response().choices[0].message.reasoning, "Compare tenths.");
}

TEST(OpenAiStreamTest, MalformedChunkIsError) {
  StreamDecoder dec;
  SseEvent ev;
  ev.has_data = true;
  ev.data = "{not json";
  auto r = dec.OnEvent(ev);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamError);
}

TEST(OpenAiStreamTest, EncodeChunks) {
  StreamEvent ev;
  ev.id = "c1";
  ev.model = "gpt-4o-mini";
  ev.created = 1;
  StreamDelta d;
  d.role = "assistant";
  ev.deltas.push_back(d);
  EXPECT_EQ(EncodeStreamChunk(ev),
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":"
            "\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
            "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
  StreamEvent usage;
  usage.kind = StreamEvent::Kind::kUsage;
  usage.id = "c1";
  usage.model = "m";
  usage.usage = Usage{5, 3, 0, 0, 0};
  EXPECT_EQ(EncodeStreamChunk(usage),
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":"
            "\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,"
            "\"total_tokens\":8,\"prompt_tokens_details\":{\"cached_tokens\":0},"
            "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n");
  StreamEvent done;
  done.kind = StreamEvent::Kind::kDone;
  EXPECT_EQ(EncodeStreamChunk(done), "data: [DONE]\n\n");
  StreamEvent err;
  err.kind = StreamEvent::Kind::kError;
  err.error_message = "boom";
  EXPECT_EQ(EncodeStreamChunk(err),
            "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\",\"param\":null,"
            "\"code\":null}}\n\n");
}

TEST(OpenAiStreamTest, EncodeDecodeRoundTripOfRecordedStream) {
  // Re-encoding every decoded event and decoding again yields the same accumulated response.
  auto events = DecodeAll(ReadTestdata("stream_tool_calls.sse"), 64);
  std::string wire;
  for (const auto& ev : events) wire += EncodeStreamChunk(ev);
  StreamAccumulator a, b;
  for (const auto& ev : events) a.Add(ev);
  for (const auto& ev : DecodeAll(wire, 3)) b.Add(ev);
  testing::ExpectSameMessage(a.Response().choices[0].message, b.Response().choices[0].message);
  EXPECT_EQ(a.Response().usage, b.Response().usage);
}

}  // namespace
}  // namespace modelmux::dialects::openai
