#include "dialects/dashscope/stream.hpp"

#include <gtest/gtest.h>

#include "dialects/dashscope/response.hpp"
#include "dialects/dashscope/test_util.hpp"

namespace modelmux::dialects::dashscope {
namespace {

using testing::Accumulate;
using testing::DecodeStream;
using testing::ReadTestdata;
using TextMode = DashScopeStreamDecoder::TextMode;

void ExpectSameAnswer(const ChatResponse& streamed, const ChatResponse& whole) {
  EXPECT_EQ(streamed.id, whole.id);
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

struct Golden {
  const char* stream;
  const char* whole;
  TextMode found;  // the kind the decoder must find
};

class DashScopeStreamGolden : public ::testing::TestWithParam<Golden> {};

TEST_P(DashScopeStreamGolden, SplitAtEveryByteEqualsTheWholeAnswer) {
  const std::string bytes = ReadTestdata(GetParam().stream);
  auto whole = DecodeChatResponse(ReadTestdata(GetParam().whole));
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  ASSERT_TRUE(whole->usage);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    auto d = DecodeStream(bytes, {cut});
    ASSERT_TRUE(d.feed.ok()) << d.feed.error().message;
    ASSERT_TRUE(d.finish.ok()) << d.finish.error().message;
    ExpectSameAnswer(Accumulate(d.events), *whole);
    EXPECT_EQ(d.mode, GetParam().found);
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < bytes.size(); ++i) every.push_back(i);
  auto d = DecodeStream(bytes, every);
  ASSERT_TRUE(d.finish.ok());
  ExpectSameAnswer(Accumulate(d.events), *whole);
  // The same bytes with the kind given up front.
  auto told = DecodeStream(bytes, {}, GetParam().found);
  ASSERT_TRUE(told.finish.ok());
  ExpectSameAnswer(Accumulate(told.events), *whole);
}

INSTANTIATE_TEST_SUITE_P(
    Transcripts, DashScopeStreamGolden,
    ::testing::Values(
        Golden{"stream_cumulative.sse", "response_text.json", TextMode::kCumulative},
        Golden{"stream_incremental.sse", "response_text.json", TextMode::kIncremental},
        Golden{"stream_tool_call_cumulative.sse", "response_tool_call.json", TextMode::kCumulative},
        Golden{"stream_tool_call_incremental.sse", "response_tool_call.json",
               TextMode::kIncremental},
        Golden{"stream_multimodal_cumulative.sse", "response_multimodal.json",
               TextMode::kCumulative},
        Golden{"stream_reasoning_incremental.sse", "response_reasoning.json",
               TextMode::kIncremental}));

std::vector<std::string> Texts(const std::vector<StreamEvent>& events) {
  std::vector<std::string> texts;
  for (const auto& ev : events) {
    for (const auto& delta : ev.deltas) {
      if (!delta.text.empty()) texts.push_back(delta.text);
    }
  }
  return texts;
}

TEST(DashScopeStreamTest, CumulativeStreamEmitsOnlyTheNewSuffixes) {
  // Told up front: each event gives exactly its new suffix.
  auto told = DecodeStream(ReadTestdata("stream_cumulative.sse"), {}, TextMode::kCumulative);
  ASSERT_TRUE(told.finish.ok());
  EXPECT_EQ(Texts(told.events),
            (std::vector<std::string>{"我是", "大规模", "语言模型", "，我叫通义千问。"}));
  // Found out: the second event is held until the third shows the stream cumulative.
  auto d = DecodeStream(ReadTestdata("stream_cumulative.sse"), {});
  ASSERT_TRUE(d.finish.ok());
  EXPECT_EQ(Texts(d.events),
            (std::vector<std::string>{"我是", "大规模语言模型", "，我叫通义千问。"}));
  ASSERT_GE(d.events.size(), 3u);
  EXPECT_EQ(d.events.front().deltas.at(0).role, "assistant");
  EXPECT_EQ(d.events.back().kind, StreamEvent::Kind::kDone);
  const StreamEvent& usage = d.events[d.events.size() - 2];
  EXPECT_EQ(usage.kind, StreamEvent::Kind::kUsage);
  ASSERT_TRUE(usage.usage);
  EXPECT_EQ(usage.usage->prompt_tokens, 22);
  EXPECT_EQ(usage.usage->completion_tokens, 17);
  EXPECT_EQ(usage.id, "5d768057-2820-91ba-8c99-31cd520e7628");
}

// Builds a one-choice event with `content`.
std::string Event(std::string_view content, std::string_view finish = "null") {
  return std::string("id:1\nevent:result\ndata:{\"output\":{\"choices\":[{\"message\":{") +
         "\"role\":\"assistant\",\"content\":\"" + std::string(content) +
         "\"},\"finish_reason\":\"" + std::string(finish) +
         "\"}]},\"usage\":{\"input_tokens\":3,\"output_tokens\":4},\"request_id\":\"r\"}\n\n";
}

std::string TextOf(const std::string& bytes) {
  auto d = DecodeStream(bytes, {});
  EXPECT_TRUE(d.finish.ok()) << d.finish.error().message;
  return Accumulate(d.events).choices.at(0).message.Text();
}

TEST(DashScopeStreamTest, IncrementalPiecesThatLookCumulativeAreNotLost) {
  // " a" then " about": the second starts with the first, but the third shows the kind.
  EXPECT_EQ(TextOf(Event(" a") + Event(" about") + Event(" dogs") + Event("", "stop")),
            " a about dogs");
  // The same word twice.
  EXPECT_EQ(TextOf(Event(" the") + Event(" the") + Event(" end") + Event("", "stop")),
            " the the end");
  // Undecided at the end: incremental, as the requests ask.
  EXPECT_EQ(TextOf(Event(" a") + Event(" about") + Event("", "stop")), " a about");
}

TEST(DashScopeStreamTest, CumulativeStreamsAreFoundEarly) {
  EXPECT_EQ(
      TextOf(Event("Hi") + Event("Hi there") + Event("Hi there!") + Event("Hi there!", "stop")),
      "Hi there!");
  // Confirmed by the final event repeating the text.
  EXPECT_EQ(TextOf(Event("Hi") + Event("Hi there") + Event("Hi there", "stop")), "Hi there");
}

TEST(DashScopeStreamTest, LengthFinishKeepsTheRawValue) {
  auto d = DecodeStream(Event("abc") + Event("", "length"), {});
  ASSERT_TRUE(d.finish.ok());
  const ChatResponse r = Accumulate(d.events);
  EXPECT_EQ(r.choices.at(0).finish_reason, FinishReason::kLength);
  EXPECT_EQ(r.choices.at(0).finish_reason_raw, "length");
}

TEST(DashScopeStreamTest, ErrorEventKeepsTheProviderCode) {
  auto d = DecodeStream(ReadTestdata("stream_error_event.sse"), {});
  ASSERT_FALSE(d.feed.ok());
  EXPECT_EQ(d.feed.error().provider_code, "InternalError");
  EXPECT_EQ(d.feed.error().kind, ErrorKind::kUpstreamError);
  EXPECT_EQ(d.feed.error().provider, "dashscope");
  ASSERT_FALSE(d.events.empty());
  EXPECT_EQ(d.events.front().deltas.at(0).text, "我是");
}

TEST(DashScopeStreamTest, ThrottlingInsideAStreamIsRateLimited) {
  auto d = DecodeStream(
      "id:1\nevent:error\n:HTTP_STATUS/429\ndata:{\"code\":\"Throttling.RateQuota\","
      "\"message\":\"Requests rate limit exceeded\",\"request_id\":\"x\"}\n\n",
      {});
  ASSERT_FALSE(d.feed.ok());
  EXPECT_EQ(d.feed.error().kind, ErrorKind::kRateLimited);
  EXPECT_EQ(d.feed.error().provider_code, "Throttling.RateQuota");
}

TEST(DashScopeStreamTest, CutStreamIsAnError) {
  auto d = DecodeStream(Event("Hello") + Event(" world"), {});
  ASSERT_TRUE(d.feed.ok());
  ASSERT_FALSE(d.finish.ok());
  EXPECT_EQ(d.finish.error().code, "stream_cut");
}

TEST(DashScopeStreamTest, JsonBodyInsteadOfSse) {
  auto err = DecodeStream(ReadTestdata("error_invalid_api_key.json"), {7});
  ASSERT_FALSE(err.feed.ok() && err.finish.ok());
  const Error& e = err.feed.ok() ? err.finish.error() : err.feed.error();
  EXPECT_EQ(e.kind, ErrorKind::kAuthentication);
  EXPECT_EQ(e.provider_code, "InvalidApiKey");

  auto whole = DecodeStream(ReadTestdata("response_text.json"), {10});
  ASSERT_TRUE(whole.finish.ok());
  const ChatResponse r = Accumulate(whole.events);
  EXPECT_EQ(r.choices.at(0).message.Text(), "我是大规模语言模型，我叫通义千问。");
  EXPECT_EQ(r.choices.at(0).finish_reason, FinishReason::kStop);
}

TEST(DashScopeStreamTest, MalformedDataIsAnUpstreamError) {
  auto d = DecodeStream("id:1\nevent:result\ndata:{not json\n\n", {});
  ASSERT_FALSE(d.feed.ok());
  EXPECT_EQ(d.feed.error().code, "bad_upstream_response");
  // Events after the terminal one are ignored.
  auto after = DecodeStream(Event("a", "stop") + Event("ab b"), {});
  ASSERT_TRUE(after.finish.ok());
  EXPECT_EQ(Accumulate(after.events).choices.at(0).message.Text(), "a");
}

}  // namespace
}  // namespace modelmux::dialects::dashscope
