#include <gtest/gtest.h>

#include "core/sse.hpp"
#include "dialects/anthropic/response.hpp"
#include "dialects/anthropic/stream.hpp"
#include "dialects/anthropic/test_util.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using testing::Accumulate;
using testing::DecodeStream;
using testing::ParseJson;
using testing::ReadTestdata;

StreamEvent DeltaEvent(StreamDelta d) {
  StreamEvent ev;
  ev.id = "chatcmpl-42";
  ev.model = "gpt-4o";
  ev.deltas.push_back(std::move(d));
  return ev;
}

StreamDelta::ToolCallFragment Fragment(int index, std::string id, std::string name,
                                       std::string args) {
  return {index, std::move(id), std::move(name), std::move(args)};
}

// A neutral stream as an OpenAI upstream would produce it: reasoning, text, two tool calls.
std::vector<StreamEvent> NeutralStream() {
  std::vector<StreamEvent> events;
  StreamDelta d;
  d.role = "assistant";
  events.push_back(DeltaEvent(d));
  d = {};
  d.reasoning = "Two cities, ";
  events.push_back(DeltaEvent(d));
  d.reasoning = "two calls.";
  events.push_back(DeltaEvent(d));
  d = {};
  d.text = "Checking ";
  events.push_back(DeltaEvent(d));
  d.text = "both.";
  events.push_back(DeltaEvent(d));
  d = {};
  d.tool_calls = {Fragment(0, "call_a", "get_weather", "")};
  events.push_back(DeltaEvent(d));
  d.tool_calls = {Fragment(0, "", "", "{\"location\":")};
  events.push_back(DeltaEvent(d));
  d.tool_calls = {Fragment(0, "", "", "\"Paris\"}")};
  events.push_back(DeltaEvent(d));
  d.tool_calls = {Fragment(1, "call_b", "get_weather", "{\"location\":\"Tokyo\"}")};
  events.push_back(DeltaEvent(d));
  d = {};
  d.finish_reason = FinishReason::kToolCalls;
  d.finish_reason_raw = "tool_calls";
  events.push_back(DeltaEvent(d));
  StreamEvent usage;
  usage.kind = StreamEvent::Kind::kUsage;
  usage.usage = Usage{130, 42, 30, 12, 0};
  events.push_back(usage);
  StreamEvent done;
  done.kind = StreamEvent::Kind::kDone;
  events.push_back(done);
  return events;
}

std::string EncodeAll(const std::vector<StreamEvent>& events) {
  MessagesStreamEncoder enc("claude-via-gateway");
  std::string bytes;
  for (const auto& ev : events) bytes += enc.Encode(ev);
  bytes += enc.Finish(std::nullopt, nullptr);
  EXPECT_EQ(enc.Finish(std::nullopt, nullptr), "");
  return bytes;
}

// The key conformance check: what the encoder writes, the decoder reads back unchanged.
TEST(AnthropicStreamEncoderTest, DecoderReadsBackTextToolCallsAndUsage) {
  const std::string bytes = EncodeAll(NeutralStream());
  auto d = DecodeStream(bytes, {17, 400});
  ASSERT_TRUE(d.feed.ok());
  ASSERT_TRUE(d.finish.ok()) << d.finish.error().message;
  const ChatResponse r = Accumulate(d.events);
  EXPECT_EQ(r.id, "msg_chatcmpl-42");
  EXPECT_EQ(r.model, "gpt-4o");
  ASSERT_EQ(r.choices.size(), 1u);
  const Message& m = r.choices[0].message;
  EXPECT_EQ(m.reasoning, "Two cities, two calls.");
  EXPECT_EQ(m.Text(), "Checking both.");
  ASSERT_EQ(m.tool_calls.size(), 2u);
  EXPECT_EQ(m.tool_calls[0].id, "call_a");
  EXPECT_EQ(m.tool_calls[0].name, "get_weather");
  EXPECT_EQ(m.tool_calls[0].arguments, "{\"location\":\"Paris\"}");
  EXPECT_EQ(m.tool_calls[1].id, "call_b");
  EXPECT_EQ(m.tool_calls[1].arguments, "{\"location\":\"Tokyo\"}");
  EXPECT_EQ(r.choices[0].finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(r.choices[0].finish_reason_raw, "tool_use");
  EXPECT_EQ(r.usage, (Usage{130, 42, 30, 12, 0}));
}

TEST(AnthropicStreamEncoderTest, EventOrderAndBlockIndices) {
  const std::string bytes = EncodeAll(NeutralStream());
  SseParser parser;
  std::vector<SseEvent> frames;
  ASSERT_TRUE(parser.Feed(bytes, frames));
  std::vector<std::string> names;
  std::vector<int64_t> start_indices;
  for (const auto& f : frames) {
    names.push_back(f.event);
    auto data = ParseJson(f.data).as_object();
    EXPECT_EQ(data.at("type").as_string(), f.event);  // event name and data type agree
    if (f.event == "content_block_start") start_indices.push_back(data.at("index").as_int64());
  }
  const std::vector<std::string> want = {
      "message_start",      "content_block_start", "content_block_delta", "content_block_delta",
      "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta",
      "content_block_stop", "content_block_start", "content_block_delta", "content_block_delta",
      "content_block_stop", "content_block_start", "content_block_delta", "content_block_stop",
      "message_delta",      "message_stop"};
  EXPECT_EQ(names, want);
  EXPECT_EQ(start_indices, (std::vector<int64_t>{0, 1, 2, 3}));
  auto delta = ParseJson(frames[16].data);
  EXPECT_EQ(delta.at("delta").at("stop_reason").as_string(), "tool_use");
  EXPECT_EQ(delta.at("usage").at("input_tokens").as_int64(), 88);  // 130 - 30 - 12
}

TEST(AnthropicStreamEncoderTest, AnthropicTranscriptSurvivesDecodeEncodeDecode) {
  auto first = DecodeStream(ReadTestdata("stream_tool_use.sse"), {});
  ASSERT_TRUE(first.finish.ok());
  auto again = DecodeStream(EncodeAll(first.events), {});
  ASSERT_TRUE(again.finish.ok());
  const ChatResponse a = Accumulate(first.events);
  const ChatResponse b = Accumulate(again.events);
  EXPECT_EQ(b.id, a.id);
  EXPECT_EQ(b.usage, a.usage);
  EXPECT_EQ(b.choices[0].message.Text(), a.choices[0].message.Text());
  EXPECT_EQ(b.choices[0].message.reasoning, a.choices[0].message.reasoning);
  EXPECT_EQ(b.choices[0].message.tool_calls[0].arguments,
            a.choices[0].message.tool_calls[0].arguments);
  EXPECT_EQ(b.choices[0].finish_reason_raw, "tool_use");
}

TEST(AnthropicStreamEncoderTest, FinishUsageWinsAndEmptyStreamIsComplete) {
  MessagesStreamEncoder enc("claude-x");
  const std::string bytes = enc.Finish(Usage{9, 3, 0, 0, 0}, nullptr);
  auto d = DecodeStream(bytes, {});
  ASSERT_TRUE(d.finish.ok());
  const ChatResponse r = Accumulate(d.events);
  EXPECT_EQ(r.model, "claude-x");
  EXPECT_EQ(r.usage, (Usage{9, 3, 0, 0, 0}));
  EXPECT_EQ(r.choices[0].finish_reason_raw, "end_turn");
}

TEST(AnthropicStreamEncoderTest, FinishWithErrorWritesErrorEvent) {
  MessagesStreamEncoder enc("claude-x");
  StreamDelta d;
  d.text = "partial";
  std::string bytes = enc.Encode(DeltaEvent(d));
  Error e;
  e.kind = ErrorKind::kOverloaded;
  e.message = "Overloaded";
  const std::string tail = enc.Finish(std::nullopt, &e);
  EXPECT_EQ(tail.substr(0, 13), "event: error\n");
  EXPECT_EQ(
      ParseJson(tail.substr(tail.find("data: ") + 6)),
      ParseJson(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  bytes += tail;
  auto decoded = DecodeStream(bytes, {});
  ASSERT_FALSE(decoded.feed.ok());
  EXPECT_EQ(decoded.feed.error().kind, ErrorKind::kOverloaded);
  EXPECT_EQ(enc.Finish(std::nullopt, nullptr), "");
}

}  // namespace
}  // namespace modelmux::dialects::anthropic
