#include "cache/answer_codec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace modelmux::cache {
namespace {

// Field-by-field equality of the core types (they define no operator==).
void ExpectEqual(const Message& a, const Message& b) {
  EXPECT_EQ(a.role, b.role);
  ASSERT_EQ(a.content.size(), b.content.size());
  for (size_t i = 0; i < a.content.size(); ++i) {
    EXPECT_EQ(a.content[i].type, b.content[i].type);
    EXPECT_EQ(a.content[i].text, b.content[i].text);
    EXPECT_EQ(a.content[i].url, b.content[i].url);
    EXPECT_EQ(a.content[i].detail, b.content[i].detail);
    EXPECT_EQ(a.content[i].mime_type, b.content[i].mime_type);
  }
  EXPECT_EQ(a.content_is_string, b.content_is_string);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.tool_call_id, b.tool_call_id);
  ASSERT_EQ(a.tool_calls.size(), b.tool_calls.size());
  for (size_t i = 0; i < a.tool_calls.size(); ++i) {
    EXPECT_EQ(a.tool_calls[i].id, b.tool_calls[i].id);
    EXPECT_EQ(a.tool_calls[i].name, b.tool_calls[i].name);
    EXPECT_EQ(a.tool_calls[i].arguments, b.tool_calls[i].arguments);
  }
  EXPECT_EQ(a.reasoning, b.reasoning);
}

void ExpectEqual(const ChatResponse& a, const ChatResponse& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.system_fingerprint, b.system_fingerprint);
  EXPECT_EQ(a.usage, b.usage);
  ASSERT_EQ(a.choices.size(), b.choices.size());
  for (size_t i = 0; i < a.choices.size(); ++i) {
    EXPECT_EQ(a.choices[i].index, b.choices[i].index);
    EXPECT_EQ(a.choices[i].finish_reason, b.choices[i].finish_reason);
    EXPECT_EQ(a.choices[i].finish_reason_raw, b.choices[i].finish_reason_raw);
    ExpectEqual(a.choices[i].message, b.choices[i].message);
  }
}

void ExpectEqual(const StreamEvent& a, const StreamEvent& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.usage, b.usage);
  EXPECT_EQ(a.error_message, b.error_message);
  ASSERT_EQ(a.deltas.size(), b.deltas.size());
  for (size_t i = 0; i < a.deltas.size(); ++i) {
    const StreamDelta& x = a.deltas[i];
    const StreamDelta& y = b.deltas[i];
    EXPECT_EQ(x.index, y.index);
    EXPECT_EQ(x.role, y.role);
    EXPECT_EQ(x.text, y.text);
    EXPECT_EQ(x.reasoning, y.reasoning);
    EXPECT_EQ(x.finish_reason, y.finish_reason);
    EXPECT_EQ(x.finish_reason_raw, y.finish_reason_raw);
    ASSERT_EQ(x.tool_calls.size(), y.tool_calls.size());
    for (size_t j = 0; j < x.tool_calls.size(); ++j) {
      EXPECT_EQ(x.tool_calls[j].index, y.tool_calls[j].index);
      EXPECT_EQ(x.tool_calls[j].id, y.tool_calls[j].id);
      EXPECT_EQ(x.tool_calls[j].name, y.tool_calls[j].name);
      EXPECT_EQ(x.tool_calls[j].arguments, y.tool_calls[j].arguments);
    }
  }
}

ChatResponse RichResponse() {
  ChatResponse r;
  r.id = "chatcmpl-abc";
  r.model = "gpt-4o-mini-2024-07-18";
  r.created = 1764340000;
  r.system_fingerprint = "fp_44709d6fcb";
  r.usage = Usage{120, 45, 64, 8, 30};
  Choice c0;
  c0.index = 0;
  c0.message.role = Role::kAssistant;
  c0.message.content.push_back({PartType::kText, "Hello, \"world\"\n\u00e9\u4e2d", "", "", ""});
  c0.message.reasoning = "step 1; step 2";
  c0.finish_reason = FinishReason::kStop;
  c0.finish_reason_raw = "end_turn";
  Choice c1;
  c1.index = 1;
  c1.message.role = Role::kAssistant;
  c1.message.content_is_string = false;
  c1.message.content.push_back(
      {PartType::kImage, "", "data:image/png;base64,AAAA", "high", "image/png"});
  c1.message.name = "bot";
  c1.message.tool_calls.push_back({"call_1", "get_weather", R"({"city": "Paris"})"});
  c1.message.tool_calls.push_back({"call_2", "get_time", "{}"});
  c1.finish_reason = FinishReason::kToolCalls;
  c1.finish_reason_raw = "tool_use";
  Choice c2;
  c2.index = 2;
  c2.message.role = Role::kAssistant;
  c2.finish_reason = FinishReason::kContentFilter;
  r.choices = {c0, c1, c2};
  return r;
}

std::vector<StreamEvent> RichStream() {
  std::vector<StreamEvent> ev;
  StreamEvent e1;
  e1.id = "chatcmpl-s";
  e1.model = "claude-sonnet-4-5";
  e1.created = 1764340001;
  StreamDelta d;
  d.role = "assistant";
  d.reasoning = "thinking...";
  e1.deltas.push_back(d);
  ev.push_back(e1);
  StreamEvent e2 = e1;
  e2.deltas.clear();
  StreamDelta text;
  text.text = "Hel";
  StreamDelta other;
  other.index = 1;
  other.text = "Bon";
  e2.deltas = {text, other};
  ev.push_back(e2);
  StreamEvent e3 = e1;
  e3.deltas.clear();
  StreamDelta tc;
  tc.tool_calls.push_back({0, "call_9", "lookup", "{\"q\":"});
  tc.tool_calls.push_back({1, "", "", ""});
  e3.deltas.push_back(tc);
  ev.push_back(e3);
  StreamEvent e4 = e1;
  e4.deltas.clear();
  StreamDelta fin;
  fin.tool_calls.push_back({0, "", "", "\"x\"}"});
  fin.finish_reason = FinishReason::kLength;
  fin.finish_reason_raw = "max_tokens";
  e4.deltas.push_back(fin);
  e4.usage = Usage{10, 20, 0, 0, 5};  // usage riding on a delta
  ev.push_back(e4);
  StreamEvent u;
  u.kind = StreamEvent::Kind::kUsage;
  u.usage = Usage{10, 20, 3, 4, 5};
  ev.push_back(u);
  StreamEvent done;
  done.kind = StreamEvent::Kind::kDone;
  ev.push_back(done);
  return ev;
}

TEST(AnswerCodec, NonStreamRoundTripKeepsEveryField) {
  CachedAnswer a;
  a.response = RichResponse();
  Result<CachedAnswer> b = DecodeAnswer(EncodeAnswer(a));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_FALSE(b->stream);
  EXPECT_TRUE(b->events.empty());
  ExpectEqual(b->response, a.response);
}

TEST(AnswerCodec, StreamRoundTripKeepsChunking) {
  CachedAnswer a;
  a.stream = true;
  a.events = RichStream();
  Result<CachedAnswer> b = DecodeAnswer(EncodeAnswer(a));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->stream);
  ASSERT_EQ(b->events.size(), a.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) ExpectEqual(b->events[i], a.events[i]);
}

TEST(AnswerCodec, EveryFinishReasonAndRoleSurvives) {
  for (FinishReason f :
       {FinishReason::kNone, FinishReason::kStop, FinishReason::kLength, FinishReason::kToolCalls,
        FinishReason::kContentFilter, FinishReason::kError, FinishReason::kOther}) {
    for (Role role :
         {Role::kSystem, Role::kDeveloper, Role::kUser, Role::kAssistant, Role::kTool}) {
      CachedAnswer a;
      Choice c;
      c.finish_reason = f;
      c.message.role = role;
      a.response.choices.push_back(c);
      Result<CachedAnswer> b = DecodeAnswer(EncodeAnswer(a));
      ASSERT_TRUE(b.ok());
      ASSERT_EQ(b->response.choices.size(), 1u);
      EXPECT_EQ(b->response.choices[0].finish_reason, f);
      EXPECT_EQ(b->response.choices[0].message.role, role);
    }
  }
}

TEST(AnswerCodec, ExtremeValuesAndInvalidUtf8Survive) {
  CachedAnswer a;
  a.response.created = INT64_MAX;
  a.response.usage = Usage{INT64_MAX, -1, 0, 0, 0};  // absent vs zero usage differ below
  Choice c;
  c.index = -3;
  c.message.content.push_back(
      {PartType::kText, std::string("bad \xff\xfe utf8 \0 nul", 18), "", "", ""});
  a.response.choices.push_back(c);
  Result<CachedAnswer> b = DecodeAnswer(EncodeAnswer(a));
  ASSERT_TRUE(b.ok()) << b.error().message;
  ExpectEqual(b->response, a.response);

  CachedAnswer no_usage;
  Result<CachedAnswer> d = DecodeAnswer(EncodeAnswer(no_usage));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->response.usage.has_value());
  CachedAnswer zero_usage;
  zero_usage.response.usage = Usage{};
  d = DecodeAnswer(EncodeAnswer(zero_usage));
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->response.usage.has_value());
}

TEST(AnswerCodec, EncodingIsCompactJsonWithAVersion) {
  CachedAnswer a;
  std::string bytes = EncodeAnswer(a);
  EXPECT_EQ(bytes.find(' '), std::string::npos);
  EXPECT_NE(bytes.find("\"v\":1"), std::string::npos);
}

TEST(AnswerCodec, CorruptInputIsAnErrorNotACrash) {
  CachedAnswer a;
  a.stream = true;
  a.events = RichStream();
  const std::string good = EncodeAnswer(a);
  std::vector<std::string> bad = {
      "",
      "not json",
      "[]",
      "{}",
      R"({"v":2,"stream":false,"response":{}})",  // another version
      R"({"v":"1","stream":false,"response":{}})",
      R"({"v":1,"stream":"yes","response":{}})",
      R"({"v":1,"stream":false})",
      R"({"v":1,"stream":true})",
      R"({"v":1,"stream":true,"events":[{"k":"bogus"}]})",
      R"({"v":1,"stream":true,"events":[{"k":"delta","d":[{"f":"weird"}]}]})",
      R"({"v":1,"stream":false,"response":{"choices":[{"m":{"role":"robot"}}]}})",
      R"({"v":1,"stream":false,"response":{"choices":[{"i":99999999999,"m":{"role":"assistant"}}]}})",
      R"({"v":1,"stream":false,"response":{"usage":{"p":"1"}}})",
      good.substr(0, good.size() / 2),  // truncated
  };
  for (const std::string& b : bad) {
    Result<CachedAnswer> r = DecodeAnswer(b);
    ASSERT_FALSE(r.ok()) << b;
    EXPECT_EQ(r.error().code, "cache_entry_invalid");
  }
  // Every single-byte truncation and flip of a valid entry either decodes or errors cleanly.
  for (size_t i = 0; i < good.size(); ++i) {
    (void)DecodeAnswer(std::string_view(good).substr(0, i));
    std::string flipped = good;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x20);
    (void)DecodeAnswer(flipped);
  }
}

}  // namespace
}  // namespace modelmux::cache
