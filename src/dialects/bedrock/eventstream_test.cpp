#include "dialects/bedrock/eventstream.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace modelmux::dialects::bedrock {
namespace {

// Expected bytes below were computed independently of this code with Python (struct + zlib):
//   h = b"\x0b:event-type\x07\x00\x11contentBlockDelta"; p = b'{"delta":{"text":"Hi"}}'
//   t = 12 + len(h) + len(p) + 4; pre = struct.pack(">II", t, len(h))
//   pre += struct.pack(">I", zlib.crc32(pre)); b = pre + h + p
//   b += struct.pack(">I", zlib.crc32(b)); print(b.hex())
// (total 71, headers 32, prelude CRC b49f7bf8, message CRC c52cb23d).
constexpr std::string_view kFrameHex =
    "0000004700000020b49f7bf80b3a6576656e742d74797065070011636f6e74656e74426c6f636b44656c74617b2264"
    "656c7461223a7b2274657874223a224869227d7dc52cb23d";

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(MODELMUX_TESTDATA_DIR) + "/bedrock/testdata/" + name,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Crc32Test, StandardCheckValues) {
  // The CRC-32/ISO-HDLC check value, and zlib.crc32(b"") == 0, zlib.crc32(b"a") == 0xe8b7be43.
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
  EXPECT_EQ(Crc32("a"), 0xE8B7BE43u);
  EXPECT_EQ(Crc32("56789", Crc32("1234")), 0xCBF43926u);  // incremental
}

TEST(EventStreamParserTest, DecodesHandBuiltFrame) {
  EventStreamParser parser;
  std::vector<EventStreamMessage> out;
  ASSERT_TRUE(parser.Feed(FromHex(kFrameHex), out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].Header(":event-type"), "contentBlockDelta");
  EXPECT_EQ(out[0].Header(":message-type"), "");
  EXPECT_EQ(out[0].headers.size(), 1u);
  EXPECT_EQ(out[0].payload, R"({"delta":{"text":"Hi"}})");
  EXPECT_TRUE(parser.Finish().ok());
}

TEST(EventStreamParserTest, SplitAtEveryOffsetOfAStream) {
  const std::string stream = ReadTestdata("converse_stream.bin");
  ASSERT_EQ(stream.size(), 170u + 162u + 174u + 178u);  // sizes printed by make_eventstream.py
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    EventStreamParser parser;
    std::vector<EventStreamMessage> out;
    ASSERT_TRUE(parser.Feed(std::string_view(stream).substr(0, cut), out).ok()) << cut;
    ASSERT_TRUE(parser.Feed(std::string_view(stream).substr(cut), out).ok()) << cut;
    ASSERT_TRUE(parser.Finish().ok()) << cut;
    ASSERT_EQ(out.size(), 4u) << cut;
    EXPECT_EQ(out[0].Header(":event-type"), "messageStart");
    EXPECT_EQ(out[0].Header(":content-type"), "application/json");
    EXPECT_EQ(out[0].Header(":message-type"), "event");
    EXPECT_EQ(out[0].payload,
              R"({"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS","role":"assistant"})");
    EXPECT_EQ(out[1].payload, R"({"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcd"})");
    // Frame 3 carries headers of every type 0-9 before its string headers.
    EXPECT_EQ(out[2].Header(":event-type"), "messageStop");
    EXPECT_EQ(out[2].Header(":message-type"), "event");
    EXPECT_EQ(out[2].Header("bin"), std::string("\x00\xff\x07", 3));
    EXPECT_FALSE(out[2].headers.contains("i32"));
    EXPECT_EQ(out[2].payload, R"({"stopReason":"end_turn"})");
    EXPECT_EQ(out[3].Header(":message-type"), "exception");
    EXPECT_EQ(out[3].Header(":exception-type"), "throttlingException");
  }
}

TEST(EventStreamParserTest, ByteByByte) {
  const std::string stream = ReadTestdata("converse_stream.bin");
  EventStreamParser parser;
  std::vector<EventStreamMessage> out;
  for (char c : stream) ASSERT_TRUE(parser.Feed(std::string_view(&c, 1), out).ok());
  EXPECT_EQ(out.size(), 4u);
  EXPECT_EQ(parser.buffered(), 0u);
}

TEST(EventStreamParserTest, CorruptPreludeCrc) {
  std::string frame = FromHex(kFrameHex);
  frame[9] = static_cast<char>(frame[9] ^ 0x01);
  EventStreamParser parser;
  std::vector<EventStreamMessage> out;
  Status s = parser.Feed(frame, out);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "eventstream_crc");
  EXPECT_EQ(s.error().kind, ErrorKind::kUpstreamError);
  EXPECT_TRUE(out.empty());
  // The parser stays failed.
  EXPECT_EQ(parser.Feed(FromHex(kFrameHex), out).error().code, "eventstream_crc");
  EXPECT_TRUE(out.empty());
}

TEST(EventStreamParserTest, CorruptLengthIsCaughtByPreludeCrc) {
  std::string frame = FromHex(kFrameHex);
  frame[3] = static_cast<char>(frame[3] + 1);  // total length 72, CRC no longer matches
  EventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.Feed(frame, out).error().code, "eventstream_crc");
}

TEST(EventStreamParserTest, CorruptMessageCrcAndPayload) {
  for (size_t at : {size_t{20}, size_t{60}, size_t{70}}) {  // a header byte, payload, the CRC
    std::string frame = FromHex(kFrameHex);
    frame[at] = static_cast<char>(frame[at] ^ 0x40);
    EventStreamParser parser;
    std::vector<EventStreamMessage> out;
    Status s = parser.Feed(frame, out);
    ASSERT_FALSE(s.ok()) << at;
    EXPECT_EQ(s.error().code, "eventstream_crc") << at;
    EXPECT_NE(s.error().message.find("message CRC"), std::string::npos);
    EXPECT_TRUE(out.empty());
  }
}

TEST(EventStreamParserTest, MessagesBeforeAnErrorAreKept) {
  std::string bad = FromHex(kFrameHex);
  bad[70] = static_cast<char>(bad[70] ^ 1);
  EventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_FALSE(parser.Feed(FromHex(kFrameHex) + bad, out).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(EventStreamParserTest, LengthsOutOfBounds) {
  // Preludes with valid CRCs (Python: pre = struct.pack(">II", t, h); pre + crc32(pre)):
  //   t = 16 MiB + 1, h = 0 -> 010000010000000094e8f647
  //   t = 20, h = 5 (headers larger than the message allows) -> 000000140000000580281aa4
  for (std::string_view hex : {"010000010000000094e8f647", "000000140000000580281aa4"}) {
    EventStreamParser parser;
    std::vector<EventStreamMessage> out;
    Status s = parser.Feed(FromHex(hex), out);
    ASSERT_FALSE(s.ok()) << hex;
    EXPECT_EQ(s.error().code, "eventstream_length") << hex;
  }
}

TEST(EventStreamParserTest, TruncatedFrame) {
  const std::string frame = FromHex(kFrameHex);
  for (size_t len : {size_t{5}, size_t{12}, frame.size() - 1}) {
    EventStreamParser parser;
    std::vector<EventStreamMessage> out;
    ASSERT_TRUE(parser.Feed(std::string_view(frame).substr(0, len), out).ok());
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(parser.buffered(), len);
    Status s = parser.Finish();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, "eventstream_truncated");
  }
}

TEST(EventStreamParserTest, BadHeaderType) {
  // A frame whose single header has type 10; the CRCs are valid (made by the encoder, whose CRC is
  // checked against zlib above), so the header parser must reject it.
  std::string frame = EncodeEventStreamMessage({{"x", "y"}}, "{}");
  frame[12 + 1 + 1] = 10;  // after name_len and "x" comes the type byte
  // Re-seal the message CRC.
  std::string body = frame.substr(0, frame.size() - 4);
  uint32_t crc = Crc32(body);
  for (int i = 0; i < 4; ++i) frame[frame.size() - 4 + i] = static_cast<char>(crc >> (24 - 8 * i));
  EventStreamParser parser;
  std::vector<EventStreamMessage> out;
  EXPECT_EQ(parser.Feed(frame, out).error().code, "eventstream_header");
}

TEST(EncodeEventStreamMessageTest, MatchesIndependentBytes) {
  EXPECT_EQ(EncodeEventStreamMessage({{":event-type", "contentBlockDelta"}},
                                     R"({"delta":{"text":"Hi"}})"),
            FromHex(kFrameHex));
  // The first frame of the testdata stream, re-encoded with the same header order.
  const std::string stream = ReadTestdata("converse_stream.bin");
  EXPECT_EQ(EncodeEventStreamMessage(
                {{":event-type", "messageStart"},
                 {":content-type", "application/json"},
                 {":message-type", "event"}},
                R"({"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS","role":"assistant"})"),
            stream.substr(0, 170));
}

TEST(EncodeEventStreamMessageTest, RoundTrip) {
  std::string payload(70000, 'z');  // larger than any u16 length
  std::string bytes = EncodeEventStreamMessage(
      {{":message-type", "event"}, {":event-type", "metadata"}, {"empty", ""}}, payload);
  bytes += EncodeEventStreamMessage({}, "");
  EventStreamParser parser;
  std::vector<EventStreamMessage> out;
  ASSERT_TRUE(parser.Feed(bytes, out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].Header(":event-type"), "metadata");
  EXPECT_EQ(out[0].Header(":message-type"), "event");
  EXPECT_TRUE(out[0].headers.contains("empty"));
  EXPECT_EQ(out[0].payload, payload);
  EXPECT_TRUE(out[1].headers.empty());
  EXPECT_EQ(out[1].payload, "");
}

}  // namespace
}  // namespace modelmux::dialects::bedrock
