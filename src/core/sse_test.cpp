#include "core/sse.hpp"

#include <gtest/gtest.h>

namespace modelmux {
namespace {

std::vector<SseEvent> ParseSplitAt(std::string_view bytes, size_t split) {
  SseParser p;
  std::vector<SseEvent> out;
  EXPECT_TRUE(p.Feed(bytes.substr(0, split), out));
  EXPECT_TRUE(p.Feed(bytes.substr(split), out));
  p.Finish(out);
  return out;
}

TEST(SseParserTest, SplitAtEveryOffsetGivesTheSameEvents) {
  const std::string_view stream =
      ": keep-alive\r\n\r\n"
      "event: message_start\r\ndata: {\"a\":1}\r\n\r\n"
      "data:{\"b\":2}\n"
      "data: line2\n\n"
      "id: 7\revent: x\rdata: cr\r\r"
      "data: [DONE]";  // no final newline
  for (size_t split = 0; split <= stream.size(); ++split) {
    SCOPED_TRACE(split);
    auto ev = ParseSplitAt(stream, split);
    ASSERT_EQ(ev.size(), 4u);
    EXPECT_EQ(ev[0].event, "message_start");
    EXPECT_EQ(ev[0].data, "{\"a\":1}");
    EXPECT_EQ(ev[1].data, "{\"b\":2}\nline2");
    EXPECT_EQ(ev[1].event, "");
    EXPECT_EQ(ev[2].id, "7");
    EXPECT_EQ(ev[2].event, "x");
    EXPECT_EQ(ev[2].data, "cr");
    EXPECT_EQ(ev[3].data, "[DONE]");
  }
}

TEST(SseParserTest, CommentsAreCountedNotDelivered) {
  SseParser p;
  std::vector<SseEvent> out;
  ASSERT_TRUE(p.Feed(":HTTP_STATUS/200\n: keep-alive\n\n", out));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(p.comments(), 2u);
}

TEST(SseParserTest, OversizedEventIsRefused) {
  SseParser p(16);
  std::vector<SseEvent> out;
  EXPECT_FALSE(p.Feed("data: 0123456789abcdefghij\n\n", out));
}

TEST(SseWriterTest, MultiLineDataBecomesSeveralDataLines) {
  std::string out;
  AppendSseEvent(out, "a\nb", "ev");
  EXPECT_EQ(out, "event: ev\ndata: a\ndata: b\n\n");
  SseParser p;
  std::vector<SseEvent> ev;
  ASSERT_TRUE(p.Feed(out, ev));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a\nb");
}

}  // namespace
}  // namespace modelmux
