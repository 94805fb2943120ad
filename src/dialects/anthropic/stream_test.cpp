#include "dialects/anthropic/stream.hpp"

#include <gtest/gtest.h>

#include "dialects/anthropic/response.hpp"
#include "dialects/anthropic/test_util.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using testing::Accumulate;
using testing::DecodeStream;
using testing::ParseJson;
using testing::ReadTestdata;

void ExpectSameAnswer(const ChatResponse& streamed, const ChatResponse& whole) {
  EXPECT_EQ(streamed.id, whole.id);
  EXPECT_EQ(streamed.model, whole.model);
  EXPECT_EQ(streamed.usage, whole.usage);
  ASSERT_EQ(streamed.choices.size(), 1u);
  ASSERT_EQ(whole.choices.size(), 1u);
  const Message& s = streamed.choices[0].message;
  const Message& w = whole.choices[0].message;
  EXPECT_EQ(s.Text(), w.Text());
  EXPECT_EQ(s.reasoning, w.reasoning);
  ASSERT_EQ(s.tool_calls.size(), w.tool_calls.size());
  for (size_t i = 0; i < s.tool_calls.size(); ++i) {
    EXPECT_EQ(s.tool_calls[i].id, w.tool_calls[i].id);
    EXPECT_EQ(s.tool_calls[i].name, w.tool_calls[i].name);
    // The streamed input keeps the model's spacing; compare the JSON values.
    EXPECT_EQ(ParseJson(s.tool_calls[i].arguments), ParseJson(w.tool_calls[i].arguments));
  }
  EXPECT_EQ(streamed.choices[0].finish_reason, whole.choices[0].finish_reason);
  EXPECT_EQ(streamed.choices[0].finish_reason_raw, whole.choices[0].finish_reason_raw);
}

TEST(AnthropicStreamDecoderTest, EventSequence) {
  auto d = DecodeStream(ReadTestdata("stream_tool_use.sse"), {});
  ASSERT_TRUE(d.feed.ok());
  ASSERT_TRUE(d.finish.ok());
  const auto& ev = d.events;
  // role, 2 thinking, 2 text, tool start, 2 argument pieces, finish, usage, done.
  ASSERT_EQ(ev.size(), 11u);
  EXPECT_EQ(ev[0].deltas[0].role, "assistant");
  EXPECT_EQ(ev[0].id, "msg_01Aq9w938a90dw8q");
  EXPECT_EQ(ev[1].deltas[0].reasoning, "The user wants the weather in San Francisco.");
  EXPECT_TRUE(ev[1].deltas[0].role.empty());
  EXPECT_EQ(ev[3].deltas[0].text, "I'll check the current");
  const auto& start = ev[5].deltas[0].tool_calls.at(0);
  EXPECT_EQ(start.index, 0);
  EXPECT_EQ(start.id, "toolu_01A09q90qw90lq917835lq9");
  EXPECT_EQ(start.name, "get_weather");
  EXPECT_EQ(start.arguments, "");
  EXPECT_EQ(ev[6].deltas[0].tool_calls.at(0).arguments, "{\"location\": \"San Fra");
  EXPECT_TRUE(ev[6].deltas[0].tool_calls[0].id.empty());
  EXPECT_EQ(ev[8].deltas[0].finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(ev[9].kind, StreamEvent::Kind::kUsage);
  EXPECT_EQ(*ev[9].usage, (Usage{572, 89, 100, 0, 0}));
  EXPECT_EQ(ev[10].kind, StreamEvent::Kind::kDone);
}

TEST(AnthropicStreamDecoderTest, EverySplitEqualsNonStreamed) {
  const std::string bytes = ReadTestdata("stream_tool_use.sse");
  auto whole = DecodeMessagesResponse(ReadTestdata("response_tool_use.json"));
  ASSERT_TRUE(whole.ok());
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    SCOPED_TRACE(cut);
    auto d = DecodeStream(bytes, {cut});
    ASSERT_TRUE(d.feed.ok());
    ASSERT_TRUE(d.finish.ok());
    ExpectSameAnswer(Accumulate(d.events), *whole);
  }
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < bytes.size(); ++i) every_byte.push_back(i);
  auto d = DecodeStream(bytes, every_byte);
  ASSERT_TRUE(d.finish.ok());
  ExpectSameAnswer(Accumulate(d.events), *whole);
}

TEST(AnthropicStreamDecoderTest, CutBeforeMessageStop) {
  std::string bytes = ReadTestdata("stream_tool_use.sse");
  bytes.resize(bytes.find("event: message_stop"));
  auto d = DecodeStream(bytes, {100});
  ASSERT_TRUE(d.feed.ok());
  ASSERT_FALSE(d.finish.ok());
  EXPECT_EQ(d.finish.error().code, "stream_cut");
  EXPECT_EQ(d.finish.error().kind, ErrorKind::kUpstreamError);
  for (const auto& ev : d.events) EXPECT_NE(ev.kind, StreamEvent::Kind::kDone);
}

TEST(AnthropicStreamDecoderTest, InBandErrorAfter200) {
  const std::string bytes =
      "event: message_start\n"
      "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\","
      "\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
      "event: error\n"
      "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
      "\"message\":\"Overloaded\"}}\n\n";
  MessagesStreamDecoder dec;
  std::vector<StreamEvent> out;
  Status s = dec.Feed(bytes, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kOverloaded);
  EXPECT_EQ(s.error().provider_code, "overloaded_error");
  EXPECT_EQ(s.error().upstream_status, 529);
  EXPECT_EQ(out.size(), 1u);  // the role delta came before
  EXPECT_FALSE(dec.Feed("event: ping\ndata: {}\n\n", out).ok());
  EXPECT_FALSE(dec.Finish(out).ok());
}

TEST(AnthropicStreamDecoderTest, CumulativeUsageTakenNotAddedAndEmptyToolInput) {
  const std::string bytes =
      "event: message_start\n"
      "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"model\":\"m\","
      "\"usage\":{\"input_tokens\":40,\"cache_creation_input_tokens\":8,\"output_tokens\":1}}}\n\n"
      "event: content_block_start\n"
      "data: "
      "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\","
      "\"id\":\"toolu_9\",\"name\":\"now\",\"input\":{}}}\n\n"
      "event: content_block_stop\n"
      "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
      "event: message_delta\n"
      "data: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":10}}\n\n"
      "event: message_delta\n"
      "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"pause_turn\"},"
      "\"usage\":{\"output_tokens\":15}}\n\n"
      "event: message_stop\n"
      "data: {\"type\":\"message_stop\"}\n\n"
      "event: ping\n"
      "data: {\"type\":\"ping\"}\n\n";
  auto d = DecodeStream(bytes, {});
  ASSERT_TRUE(d.finish.ok());
  const ChatResponse r = Accumulate(d.events);
  EXPECT_EQ(*r.usage, (Usage{48, 15, 0, 8, 0}));
  ASSERT_EQ(r.choices[0].message.tool_calls.size(), 1u);
  EXPECT_EQ(r.choices[0].message.tool_calls[0].arguments, "{}");
  EXPECT_EQ(r.choices[0].finish_reason, FinishReason::kOther);
  EXPECT_EQ(r.choices[0].finish_reason_raw, "pause_turn");
  EXPECT_EQ(d.events.back().kind, StreamEvent::Kind::kDone);
}

TEST(AnthropicStreamDecoderTest, MalformedData) {
  auto d = DecodeStream("event: content_block_delta\ndata: {nope\n\n", {});
  ASSERT_FALSE(d.feed.ok());
  EXPECT_EQ(d.feed.error().code, "bad_upstream_response");
}

}  // namespace
}  // namespace modelmux::dialects::anthropic
