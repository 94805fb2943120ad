#include "gateway/recent_errors.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <thread>

namespace modelmux::gateway {
namespace {

FailedRequest Entry(int i) {
  FailedRequest e;
  e.unix_ms = 1000 + i;
  e.request_id = "req-" + std::to_string(i);
  e.status = 500 + (i % 4);
  e.message = "failure number " + std::to_string(i);
  return e;
}

telemetry::RequestRecord Record(int status, std::string code) {
  telemetry::RequestRecord r;
  r.request_id = "req-x";
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.model = "gpt-4o-mini";
  r.provider = "openai";
  r.status = status;
  r.error_code = std::move(code);
  r.error_message = "boom";
  r.start = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  r.latency = std::chrono::milliseconds(250);
  return r;
}

TEST(RecentErrors, KeepsTheNewestEntriesNewestFirst) {
  RecentErrors ring(3);
  for (int i = 1; i <= 5; ++i) ring.Push(Entry(i));
  auto latest = ring.Latest(10);
  ASSERT_EQ(latest.size(), 3u);
  EXPECT_EQ(latest[0].request_id, "req-5");
  EXPECT_EQ(latest[1].request_id, "req-4");
  EXPECT_EQ(latest[2].request_id, "req-3");
  EXPECT_EQ(ring.total(), 5u);
  EXPECT_EQ(ring.capacity(), 3u);
  auto two = ring.Latest(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].request_id, "req-4");
}

TEST(RecentErrors, EmptyAndPartlyFilled) {
  RecentErrors ring(4);
  EXPECT_TRUE(ring.Latest(4).empty());
  ring.Push(Entry(7));
  auto latest = ring.Latest(4);
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].request_id, "req-7");
  EXPECT_EQ(RecentErrors(0).capacity(), 1u);
}

TEST(RecentErrors, RecordsFailuresOnly) {
  RecentErrors ring(10);
  EXPECT_FALSE(ring.Record(Record(200, "")));
  EXPECT_FALSE(ring.Record(Record(304, "")));
  EXPECT_TRUE(ring.Record(Record(429, "rate_limited")));
  EXPECT_TRUE(ring.Record(Record(404, "")));
  // A stream that got its 200 and then ended with an error.
  EXPECT_TRUE(ring.Record(Record(200, "stream_cut")));
  auto latest = ring.Latest(10);
  ASSERT_EQ(latest.size(), 3u);
  EXPECT_EQ(latest[0].code, "stream_cut");
  EXPECT_EQ(latest[2].status, 429);
  EXPECT_EQ(latest[2].code, "rate_limited");
  EXPECT_EQ(latest[2].model, "gpt-4o-mini");
  EXPECT_EQ(latest[2].provider, "openai");
  EXPECT_EQ(latest[2].path, "/v1/chat/completions");
  EXPECT_EQ(latest[2].unix_ms, 1'700'000'000'123);
  EXPECT_DOUBLE_EQ(latest[2].latency_s, 0.25);
}

TEST(RecentErrors, MasksSecretsInFreeText) {
  RecentErrors ring(2);
  FailedRequest e = Entry(1);
  e.message = "Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz0123";
  e.model = "Bearer abcdefgh12345678secret";
  ring.Push(e);
  const auto got = ring.Latest(1).at(0);
  EXPECT_EQ(got.message.find("abcdefghijklmnopqrstuvwxyz0123"), std::string::npos) << got.message;
  EXPECT_NE(got.message.find("Incorrect API key provided"), std::string::npos);
  EXPECT_EQ(got.model.find("12345678secret"), std::string::npos) << got.model;
}

TEST(RecentErrors, ShortensLongMessagesAtACharacterBoundary) {
  std::string message;
  for (int i = 0; i < 400; ++i) message += "\xC3\xA9";  // é, 2 bytes each
  const std::string got = MaskAndShorten(message, 301);
  // 301 would split an é: the cut steps back to 300 bytes, then "…" (3 bytes) follows.
  EXPECT_EQ(got.size(), 303u);
  EXPECT_EQ(got.substr(0, 300), message.substr(0, 300));
  EXPECT_EQ(got.substr(300), "\xE2\x80\xA6");
  EXPECT_EQ(MaskAndShorten("short", 301), "short");
}

TEST(RecentErrors, ConcurrentPushesAreAllCountedAndIntact) {
  RecentErrors ring(64);
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ring, t] {
      for (int i = 0; i < kEach; ++i) {
        FailedRequest e;
        e.request_id = "t" + std::to_string(t) + "-" + std::to_string(i);
        e.message = e.request_id;
        ring.Push(std::move(e));
        if (i % 100 == 0) (void)ring.Latest(8);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ring.total(), static_cast<uint64_t>(kThreads * kEach));
  auto latest = ring.Latest(100);
  ASSERT_EQ(latest.size(), 64u);
  for (const auto& e : latest) EXPECT_EQ(e.message, e.request_id);
}

TEST(RecentErrors, JsonHasEveryFieldEscaped) {
  FailedRequest e = Entry(3);
  e.method = "POST";
  e.path = "/v1/chat/completions";
  e.model = "m\"odel";
  e.provider = "openai";
  e.code = "rate_limited";
  e.message = "line1\nline2 \"quoted\"";
  e.latency_s = 1.25;
  const auto v = boost::json::parse(FailedRequestsJson({e, Entry(4)}));
  const auto& arr = v.as_array();
  ASSERT_EQ(arr.size(), 2u);
  const auto& o = arr[0].as_object();
  EXPECT_EQ(o.at("time_ms").as_int64(), 1003);
  EXPECT_EQ(o.at("request_id").as_string(), "req-3");
  EXPECT_EQ(o.at("method").as_string(), "POST");
  EXPECT_EQ(o.at("path").as_string(), "/v1/chat/completions");
  EXPECT_EQ(o.at("model").as_string(), "m\"odel");
  EXPECT_EQ(o.at("provider").as_string(), "openai");
  EXPECT_EQ(o.at("status").as_int64(), 503);
  EXPECT_EQ(o.at("code").as_string(), "rate_limited");
  EXPECT_EQ(o.at("message").as_string(), "line1\nline2 \"quoted\"");
  EXPECT_EQ(o.at("latency_ms").as_int64(), 1250);
  EXPECT_EQ(FailedRequestsJson({}), "[]");
}

}  // namespace
}  // namespace modelmux::gateway
