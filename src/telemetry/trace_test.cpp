#include "telemetry/trace.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace modelmux::telemetry {
namespace {

namespace json = boost::json;

constexpr std::string_view kW3cExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ParsesTheW3cExample) {
  auto c = ParseTraceparent(kW3cExample);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->trace_id.hi, 0x4bf92f3577b34da6ull);
  EXPECT_EQ(c->trace_id.lo, 0xa3ce929d0e0e4736ull);
  EXPECT_EQ(c->span_id, 0x00f067aa0ba902b7ull);
  EXPECT_TRUE(c->sampled);
  EXPECT_EQ(FormatTraceparent(*c), kW3cExample);
}

TEST(TraceparentTest, ReadsTheSampledFlagOnly) {
  auto c = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->sampled);
  auto d = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->sampled);
}

TEST(TraceparentTest, RefusesMalformedHeaders) {
  for (std::string_view bad : {
           "",
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // uppercase
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero span id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // forbidden version
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // v00 with more
           "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",     // short trace id
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",    // separators
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",    // not hex
       }) {
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << bad;
  }
}

TEST(TraceparentTest, AcceptsALaterVersionWithMoreFields) {
  auto c = ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->span_id, 0x00f067aa0ba902b7ull);
}

TEST(TraceIdTest, GeneratedIdsAreNonZeroAndDistinct) {
  std::mt19937_64 rng(7);
  TraceId a = NewTraceId(rng), b = NewTraceId(rng);
  EXPECT_TRUE(a.valid());
  EXPECT_FALSE(a == b);
  EXPECT_NE(NewSpanId(rng), 0u);
  EXPECT_EQ(Hex(TraceId{1, 2}), "00000000000000010000000000000002");
  EXPECT_EQ(Hex(SpanId{0xabc}), "0000000000000abc");
}

const json::object& OnlySpanList(const json::value& v, json::array& spans_out) {
  const auto& rs = v.at("resourceSpans").as_array();
  EXPECT_EQ(rs.size(), 1u);
  const auto& ss = rs.at(0).at("scopeSpans").as_array();
  EXPECT_EQ(ss.size(), 1u);
  spans_out = ss.at(0).at("spans").as_array();
  return rs.at(0).as_object();
}

TEST(OtlpJsonTest, EncodesResourceScopeAndSpansInTheProtobufJsonMapping) {
  Span server;
  server.trace_id = {0x4bf92f3577b34da6ull, 0xa3ce929d0e0e4736ull};
  server.span_id = 0x1111;
  server.parent_span_id = 0x00f067aa0ba902b7ull;
  server.name = "POST /v1/chat/completions";
  server.kind = SpanKind::kServer;
  server.start_unix_ns = 1700000000123456789;
  server.end_unix_ns = 1700000000223456789;
  server.Set("http.method", "POST");
  server.Set("http.status_code", 200);
  server.Set("modelmux.stream", true);
  server.Set("note", std::string("quote \" and \n newline"));
  Span attempt;
  attempt.trace_id = server.trace_id;
  attempt.span_id = 0x2222;
  attempt.parent_span_id = 0x1111;
  attempt.name = "attempt sim/echo";
  attempt.kind = SpanKind::kClient;
  attempt.error = true;
  attempt.status_message = "unavailable";
  Span root;
  root.trace_id = {0, 9};
  root.span_id = 3;

  const std::string text = EncodeOtlpJson({server, attempt, root}, "modelmux", "0.1.0");
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  ASSERT_FALSE(ec) << text;
  json::array spans;
  const auto& resource = OnlySpanList(v, spans);
  const auto& rattrs = resource.at("resource").at("attributes").as_array();
  ASSERT_EQ(rattrs.size(), 2u);
  EXPECT_EQ(rattrs[0].at("key").as_string(), "service.name");
  EXPECT_EQ(rattrs[0].at("value").at("stringValue").as_string(), "modelmux");
  ASSERT_EQ(spans.size(), 3u);

  const auto& s0 = spans[0].as_object();
  EXPECT_EQ(s0.at("traceId").as_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(s0.at("spanId").as_string(), "0000000000001111");
  EXPECT_EQ(s0.at("parentSpanId").as_string(), "00f067aa0ba902b7");
  EXPECT_EQ(s0.at("kind").as_int64(), 2);
  EXPECT_EQ(s0.at("startTimeUnixNano").as_string(), "1700000000123456789");
  EXPECT_EQ(s0.at("endTimeUnixNano").as_string(), "1700000000223456789");
  EXPECT_FALSE(s0.contains("status"));
  const auto& a0 = s0.at("attributes").as_array();
  ASSERT_EQ(a0.size(), 4u);
  EXPECT_EQ(a0[0].at("value").at("stringValue").as_string(), "POST");
  EXPECT_EQ(a0[1].at("key").as_string(), "http.status_code");
  EXPECT_EQ(a0[1].at("value").at("intValue").as_string(), "200");
  EXPECT_EQ(a0[2].at("value").at("boolValue").as_bool(), true);
  EXPECT_EQ(a0[3].at("value").at("stringValue").as_string(), "quote \" and \n newline");

  const auto& s1 = spans[1].as_object();
  EXPECT_EQ(s1.at("kind").as_int64(), 3);
  EXPECT_EQ(s1.at("status").at("code").as_int64(), 2);
  EXPECT_EQ(s1.at("status").at("message").as_string(), "unavailable");
  EXPECT_FALSE(spans[2].as_object().contains("parentSpanId"));
}

TEST(OtlpJsonTest, AnEmptyBatchIsStillValid) {
  boost::system::error_code ec;
  json::value v = json::parse(EncodeOtlpJson({}, "svc"), ec);
  ASSERT_FALSE(ec);
  json::array spans;
  OnlySpanList(v, spans);
  EXPECT_TRUE(spans.empty());
}

}  // namespace
}  // namespace modelmux::telemetry
