#include "dialects/gemini/stream.hpp"

#include <gtest/gtest.h>

#include "dialects/gemini/response.hpp"
#include "dialects/gemini/test_util.hpp"

namespace modelmux::dialects::gemini {
namespace {

using testing::Accumulate;
using testing::DecodeStream;
using testing::ReadTestdata;

void ExpectSameAnswer(const ChatResponse& streamed, const ChatResponse& whole) {
  EXPECT_EQ(streamed.id, whole.id);
  EXPECT_EQ(streamed.model, whole.model);
  EXPECT_EQ(streamed.usage, whole.usage);
  ASSERT_EQ(streamed.choices.size(), whole.choices.size());
  for (size_t c = 0; c < whole.choices.size(); ++c) {
    const Message& s = streamed.choices[c].message;
    const Message& w = whole.choices[c].message;
    EXPECT_EQ(s.Text(), w.Text());
    EXPECT_EQ(s.reasoning, w.reasoning);
    ASSERT_EQ(s.tool_calls.size(), w.tool_calls.size());
    for (size_t i = 0; i < s.tool_calls.size(); ++i) {
      EXPECT_EQ(s.tool_calls[i].id, w.tool_calls[i].id);
      EXPECT_EQ(s.tool_calls[i].name, w.tool_calls[i].name);
      EXPECT_EQ(s.tool_calls[i].arguments, w.tool_calls[i].arguments);
    }
    EXPECT_EQ(streamed.choices[c].finish_reason, whole.choices[c].finish_reason);
    EXPECT_EQ(streamed.choices[c].finish_reason_raw, whole.choices[c].finish_reason_raw);
  }
}

class GeminiStreamGolden : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(GeminiStreamGolden, SplitAtEveryByteEqualsTheWholeAnswer) {
  const std::string bytes = ReadTestdata(GetParam().first);
  auto whole = DecodeGenerateContentResponse(ReadTestdata(GetParam().second));
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

INSTANTIATE_TEST_SUITE_P(Transcripts, GeminiStreamGolden,
                         ::testing::Values(std::make_pair("stream_text.sse", "response_text.json"),
                                           std::make_pair("stream_function_call.sse",
                                                          "response_function_call.json")));

TEST(GeminiStreamTest, EventsInOrderWithUsageOnceAtTheEnd) {
  auto d = DecodeStream(ReadTestdata("stream_function_call.sse"), {});
  ASSERT_TRUE(d.finish.ok());
  const auto& ev = d.events;
  ASSERT_EQ(ev.size(), 5u);  // three chunks, usage, done
  EXPECT_EQ(ev[0].deltas[0].role, "assistant");
  EXPECT_EQ(ev[0].deltas[0].text, "I'll schedule it ");
  EXPECT_EQ(ev[1].deltas[0].role, "");
  ASSERT_EQ(ev[1].deltas[0].tool_calls.size(), 1u);
  EXPECT_EQ(ev[1].deltas[0].tool_calls[0].index, 0);
  EXPECT_EQ(ev[1].deltas[0].tool_calls[0].name, "schedule_meeting");
  ASSERT_EQ(ev[2].deltas[0].tool_calls.size(), 1u);
  EXPECT_EQ(ev[2].deltas[0].tool_calls[0].index, 1);
  EXPECT_EQ(ev[2].deltas[0].finish_reason, FinishReason::kToolCalls);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ev[i].kind, StreamEvent::Kind::kDelta);
    EXPECT_FALSE(ev[i].usage);  // cumulative usage is not sent piecemeal
    EXPECT_EQ(ev[i].id, "2_x2aJ-cLIfjz7IPq_qWkQ4");
  }
  EXPECT_EQ(ev[3].kind, StreamEvent::Kind::kUsage);
  EXPECT_EQ(*ev[3].usage, (Usage{118, 93, 0, 0, 52}));  // the last chunk's, not a sum
  EXPECT_EQ(ev[4].kind, StreamEvent::Kind::kDone);
}

TEST(GeminiStreamTest, BodyEndingBeforeTheFinalChunkIsACutStream) {
  std::string bytes = ReadTestdata("stream_text.sse");
  bytes.resize(bytes.rfind("data:"));  // drop the chunk with finishReason
  auto d = DecodeStream(bytes, {});
  ASSERT_TRUE(d.feed.ok());
  ASSERT_FALSE(d.finish.ok());
  EXPECT_EQ(d.finish.error().code, "stream_cut");
  EXPECT_NE(d.events.back().kind, StreamEvent::Kind::kDone);
  EXPECT_FALSE(DecodeStream("", {}).finish.ok());  // an empty body is no answer either
}

TEST(GeminiStreamTest, InBandErrorWithRetryInfo) {
  const std::string bytes =
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\n\n"
      "data: {\"error\":{\"code\":429,\"message\":\"Resource exhausted\","
      "\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":"
      "\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"2.5s\"}]}}\n\n";
  GenerateContentStreamDecoder dec;
  std::vector<StreamEvent> out;
  Status st = dec.Feed(bytes, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kRateLimited);
  EXPECT_EQ(st.error().upstream_status, 429);
  ASSERT_TRUE(st.error().retry_after);
  EXPECT_EQ(st.error().retry_after->count(), 2500);
  EXPECT_EQ(out.size(), 1u);  // what came before the error
  EXPECT_EQ(dec.Feed("data: {}\n\n", out).error().kind, ErrorKind::kRateLimited);
  EXPECT_EQ(dec.Finish(out).error().kind, ErrorKind::kRateLimited);
}

TEST(GeminiStreamTest, BlockedPromptAndMalformedData) {
  auto blocked =
      DecodeStream("data: {\"promptFeedback\":{\"blockReason\":\"PROHIBITED_CONTENT\"}}\n\n", {});
  ASSERT_FALSE(blocked.feed.ok());
  EXPECT_EQ(blocked.feed.error().kind, ErrorKind::kContentFilter);
  EXPECT_EQ(blocked.feed.error().provider_code, "PROHIBITED_CONTENT");
  auto bad = DecodeStream("data: [DONE]\n\n", {});
  ASSERT_FALSE(bad.feed.ok());
  EXPECT_EQ(bad.feed.error().code, "bad_upstream_response");
}

TEST(GeminiStreamTest, FinalEventWithoutBlankLineStillCounts) {
  auto d = DecodeStream(
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"ok\"}]},"
      "\"finishReason\":\"STOP\"}]}",
      {});
  ASSERT_TRUE(d.finish.ok());
  EXPECT_EQ(Accumulate(d.events).choices.at(0).message.Text(), "ok");
  EXPECT_EQ(d.events.back().kind, StreamEvent::Kind::kDone);
}

}  // namespace
}  // namespace modelmux::dialects::gemini
