#include "dialects/bedrock/stream.hpp"

#include <gtest/gtest.h>

#include "dialects/bedrock/eventstream.hpp"
#include "dialects/bedrock/response.hpp"
#include "dialects/bedrock/test_util.hpp"

namespace modelmux::dialects::bedrock {
namespace {

using testing::Accumulate;
using testing::DecodeStream;
using testing::ParseJson;
using testing::ReadTestdata;

void ExpectSameAnswer(const ChatResponse& streamed, const ChatResponse& whole) {
  EXPECT_EQ(streamed.usage, whole.usage);
  ASSERT_EQ(streamed.choices.size(), whole.choices.size());
  const Message& s = streamed.choices[0].message;
  const Message& w = whole.choices[0].message;
  EXPECT_EQ(s.Text(), w.Text());
  ASSERT_EQ(s.tool_calls.size(), w.tool_calls.size());
  for (size_t i = 0; i < s.tool_calls.size(); ++i) {
    EXPECT_EQ(s.tool_calls[i].id, w.tool_calls[i].id);
    EXPECT_EQ(s.tool_calls[i].name, w.tool_calls[i].name);
    // Streamed input fragments keep the model's spacing; compare the JSON values.
    EXPECT_EQ(ParseJson(s.tool_calls[i].arguments), ParseJson(w.tool_calls[i].arguments));
  }
  EXPECT_EQ(streamed.choices[0].finish_reason, whole.choices[0].finish_reason);
  EXPECT_EQ(streamed.choices[0].finish_reason_raw, whole.choices[0].finish_reason_raw);
}

class BedrockStreamGolden : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(BedrockStreamGolden, SplitAtEveryByteEqualsTheWholeAnswer) {
  const std::string bytes = ReadTestdata(GetParam().first);
  auto whole = DecodeConverseResponse(ReadTestdata(GetParam().second));
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  ASSERT_TRUE(whole->usage);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    auto d = DecodeStream(bytes, {cut});
    ASSERT_TRUE(d.feed.ok()) << d.feed.error().message;
    ASSERT_TRUE(d.finish.ok()) << d.finish.error().message;
    ExpectSameAnswer(Accumulate(d.events), *whole);
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
  auto d = DecodeStream(bytes, every);
  ASSERT_TRUE(d.finish.ok());
  ExpectSameAnswer(Accumulate(d.events), *whole);
}

INSTANTIATE_TEST_SUITE_P(Transcripts, BedrockStreamGolden,
                         ::testing::Values(std::make_pair("stream_text.bin", "response_text.json"),
                                           std::make_pair("stream_tool_use.bin",
                                                          "response_tool_use.json")));

TEST(BedrockStreamTest, EventsInOrderWithUsageAndDoneAtMetadata) {
  auto d = DecodeStream(ReadTestdata("stream_tool_use.bin"), {});
  ASSERT_TRUE(d.finish.ok());
  const auto& ev = d.events;
  // messageStart, text, tool start, 2 fragments, messageStop, usage, done.
  ASSERT_EQ(ev.size(), 8u);
  EXPECT_EQ(ev[0].deltas[0].role, "assistant");
  EXPECT_EQ(ev[1].deltas[0].text, "I'll look up the top song.");
  ASSERT_EQ(ev[2].deltas[0].tool_calls.size(), 1u);
  EXPECT_EQ(ev[2].deltas[0].tool_calls[0].index, 0);  // first call, though block 1
  EXPECT_EQ(ev[2].deltas[0].tool_calls[0].id, "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q");
  EXPECT_EQ(ev[2].deltas[0].tool_calls[0].name, "top_song");
  EXPECT_EQ(ev[3].deltas[0].tool_calls[0].arguments, "{\"sign\":");
  EXPECT_EQ(ev[3].deltas[0].tool_calls[0].index, 0);
  EXPECT_EQ(ev[5].deltas[0].finish_reason, FinishReason::kToolCalls);
  EXPECT_EQ(ev[6].kind, StreamEvent::Kind::kUsage);
  EXPECT_EQ(ev[6].usage->prompt_tokens, 495);
  EXPECT_EQ(ev[7].kind, StreamEvent::Kind::kDone);
}

TEST(BedrockStreamTest, ExceptionFrameIsAnError) {
  const std::string bytes = ReadTestdata("stream_exception.bin");
  for (size_t cut = 0; cut <= bytes.size(); cut += 7) {
    auto d = DecodeStream(bytes, {cut});
    ASSERT_FALSE(d.feed.ok());
    EXPECT_EQ(d.feed.error().kind, ErrorKind::kRateLimited);
    EXPECT_EQ(d.feed.error().provider_code, "ThrottlingException");
    EXPECT_EQ(d.feed.error().message, "Too many requests, please wait before trying again.");
    // The text before the exception was delivered.
    EXPECT_EQ(Accumulate(d.events).choices[0].message.Text(), "The most popular song on WZPZ is ");
  }
}

TEST(BedrockStreamTest, UnmodeledErrorFrame) {
  std::string frame = EncodeEventStreamMessage({{":message-type", "error"},
                                                {":error-code", "InternalFailure"},
                                                {":error-message", "something broke"}},
                                               "");
  ConverseStreamDecoder dec;
  std::vector<StreamEvent> out;
  Status st = dec.Feed(frame, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kUpstreamError);
  EXPECT_EQ(st.error().provider_code, "InternalFailure");
  EXPECT_NE(st.error().message.find("something broke"), std::string::npos);
  EXPECT_FALSE(dec.Feed("more", out).ok());  // sticky
}

TEST(BedrockStreamTest, CrcCorruptionAbortsTheStream) {
  std::string bytes = ReadTestdata("stream_text.bin");
  bytes[bytes.size() / 2] ^= 0x01;  // inside some frame's headers or payload
  auto d = DecodeStream(bytes, {});
  ASSERT_FALSE(d.feed.ok());
  EXPECT_EQ(d.feed.error().code, "eventstream_crc");
  EXPECT_EQ(d.feed.error().kind, ErrorKind::kUpstreamError);
}

TEST(BedrockStreamTest, CutStreamsAreReported) {
  const std::string bytes = ReadTestdata("stream_text.bin");
  // Ends exactly after a frame boundary before messageStop, and mid-frame.
  for (size_t end : {size_t{0}, bytes.size() / 2, bytes.size() - 1}) {
    auto d = DecodeStream(bytes.substr(0, end), {});
    ASSERT_TRUE(d.feed.ok()) << end;
    ASSERT_FALSE(d.finish.ok()) << end;
    EXPECT_EQ(d.finish.error().code, "stream_cut");
  }
}

TEST(BedrockStreamTest, MessageStopWithoutMetadataStillEnds) {
  std::string bytes = EncodeEventStreamMessage(
      {{":event-type", "messageStop"}, {":message-type", "event"}}, R"({"stopReason":"end_turn"})");
  auto d = DecodeStream(bytes, {});
  ASSERT_TRUE(d.finish.ok());
  ASSERT_FALSE(d.events.empty());
  EXPECT_EQ(d.events.back().kind, StreamEvent::Kind::kDone);
}

}  // namespace
}  // namespace modelmux::dialects::bedrock
