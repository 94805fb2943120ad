// The gateway's ordinary paths over real sockets: chat, request ids, health, models, legacy
// completions, streaming and usage, metrics and keep-alive. Upstream: the built-in simulator, a
// `modelmux sim` process, or a one-shot fake upstream that records what the gateway sent.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kShort = 10s;

// One gateway on the built-in simulator, shared by the tests of this suite that do not count.
class GatewayBasic : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gw_ = new Service(StartGateway()); }
  static void TearDownTestSuite() {
    delete gw_;
    gw_ = nullptr;
  }
  static std::string Url(std::string_view path) { return gw_->base_url + std::string(path); }
  static Service* gw_;
};
Service* GatewayBasic::gw_ = nullptr;

struct UsageCounts {
  int64_t prompt = -1, completion = -1, total = -1;
  bool operator==(const UsageCounts&) const = default;
};

UsageCounts UsageOf(const json::value& usage) {
  UsageCounts u;
  if (!usage.is_object()) return u;
  const auto& o = usage.get_object();
  if (o.contains("prompt_tokens")) u.prompt = o.at("prompt_tokens").to_number<int64_t>();
  if (o.contains("completion_tokens"))
    u.completion = o.at("completion_tokens").to_number<int64_t>();
  if (o.contains("total_tokens")) u.total = o.at("total_tokens").to_number<int64_t>();
  return u;
}

TEST_F(GatewayBasic, ChatReturnsTheEchoTextAndConsistentUsage) {
  const std::string text = "the quick brown fox jumps over the lazy dog";
  auto r = Http("POST", Url("/v1/chat/completions"), ChatBody("sim/echo", text), {}, kShort);
  ASSERT_EQ(r.status, 200) << r.body << (r.error ? r.error->message : "");
  EXPECT_NE(r.headers.Get("content-type").find("application/json"), std::string::npos);
  auto v = ParseJson(r.body);
  ASSERT_TRUE(v.is_object()) << r.body;
  const auto& choice = v.at("choices").at(0);
  EXPECT_EQ(Str(choice.at("message").at("content")), text);
  EXPECT_EQ(Str(choice.at("message").at("role")), "assistant");
  UsageCounts u = UsageOf(v.at("usage"));
  EXPECT_GT(u.prompt, 0);
  EXPECT_GT(u.completion, 0);
  EXPECT_EQ(u.total, u.prompt + u.completion);
}

TEST_F(GatewayBasic, RequestIdIsEchoedOrGenerated) {
  auto given = Http("POST", Url("/v1/chat/completions"), ChatBody("sim/echo", "hi"),
                    {{"x-request-id", "it-caller-id-42"}}, kShort);
  ASSERT_EQ(given.status, 200);
  EXPECT_EQ(given.headers.Get("x-request-id"), "it-caller-id-42");

  auto a = Http("POST", Url("/v1/chat/completions"), ChatBody("sim/echo", "hi"), {}, kShort);
  auto b = Http("POST", Url("/v1/chat/completions"), ChatBody("sim/echo", "hi"), {}, kShort);
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  std::string id_a(a.headers.Get("x-request-id")), id_b(b.headers.Get("x-request-id"));
  EXPECT_GE(id_a.size(), 8u);
  EXPECT_NE(id_a, id_b);

  // Errors carry the id too.
  auto err = Http("POST", Url("/v1/chat/completions"), "{", {{"x-request-id", "it-err-1"}}, kShort);
  EXPECT_EQ(err.status, 400);
  EXPECT_EQ(err.headers.Get("x-request-id"), "it-err-1");
}

TEST_F(GatewayBasic, HealthReadyAndModels) {
  auto h = Http("GET", Url("/healthz"), {}, {}, kShort);
  EXPECT_EQ(h.status, 200);
  auto r = Http("GET", Url("/readyz"), {}, {}, kShort);
  EXPECT_EQ(r.status, 200);
  auto rv = ParseJson(r.body);
  ASSERT_TRUE(rv.is_object()) << r.body;
  EXPECT_TRUE(Str(rv.at("status")) == "ok" || Str(rv.at("status")) == "degraded") << r.body;

  auto m = Http("GET", Url("/v1/models"), {}, {}, kShort);
  ASSERT_EQ(m.status, 200);
  auto v = ParseJson(m.body);
  ASSERT_TRUE(v.is_object()) << m.body;
  EXPECT_EQ(Str(v.at("object")), "list");
  std::set<std::string> ids;
  for (const auto& e : v.at("data").as_array()) ids.insert(Str(e.at("id")));
  EXPECT_TRUE(ids.count("sim/echo")) << m.body;
}

TEST_F(GatewayBasic, LegacyCompletionsWork) {
  auto r =
      Http("POST", Url("/v1/completions"),
           R"({"model":"sim/echo","prompt":"legacy prompt text","max_tokens":50})", {}, kShort);
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = ParseJson(r.body);
  ASSERT_TRUE(v.is_object()) << r.body;
  EXPECT_EQ(Str(v.at("object")), "text_completion");
  EXPECT_EQ(Str(v.at("choices").at(0).at("text")), "legacy prompt text");
  UsageCounts u = UsageOf(v.at("usage"));
  EXPECT_GT(u.completion, 0);
  EXPECT_EQ(u.total, u.prompt + u.completion);
}

// The content deltas of a chat stream joined, and the parsed data events before [DONE].
struct ParsedStream {
  std::vector<json::value> events;
  std::string text;
  bool done_last = false;  // the last data line is [DONE]
  int usage_chunks = 0;    // chunks with a non-null usage
  int empty_choices = 0;   // chunks with "choices":[]
  json::value usage;
};

ParsedStream ParseChatStream(std::string_view body) {
  ParsedStream s;
  auto data = SseData(body);
  s.done_last = !data.empty() && data.back() == "[DONE]";
  for (const auto& d : data) {
    if (d == "[DONE]") continue;
    json::value v = ParseJson(d);
    EXPECT_TRUE(v.is_object()) << "bad event: " << d;
    if (!v.is_object()) continue;
    const auto& o = v.get_object();
    if (const auto* u = o.if_contains("usage"); u && !u->is_null()) {
      ++s.usage_chunks;
      s.usage = *u;
    }
    if (const auto* c = o.if_contains("choices"); c && c->is_array()) {
      if (c->get_array().empty()) ++s.empty_choices;
      for (const auto& ch : c->get_array()) {
        if (const auto* delta = ch.get_object().if_contains("delta")) {
          if (const auto* content = delta->get_object().if_contains("content");
              content && content->is_string()) {
            s.text += content->get_string();
          }
        }
      }
    }
    s.events.push_back(std::move(v));
  }
  return s;
}

TEST_F(GatewayBasic, StreamWithoutIncludeUsageHasNoUsageChunk) {
  const std::string text = "one two three four five six seven";
  auto r = HttpStream("POST", Url("/v1/chat/completions"),
                      ChatBody("sim/echo", text, R"("stream":true)"), {}, kShort);
  ASSERT_EQ(r.status, 200) << r.Body();
  EXPECT_FALSE(r.error) << r.error->message;
  EXPECT_NE(r.headers.Get("content-type").find("text/event-stream"), std::string::npos);
  auto s = ParseChatStream(r.Body());
  EXPECT_EQ(s.text, text);  // deltas in order
  EXPECT_TRUE(s.done_last) << r.Body();
  EXPECT_EQ(s.empty_choices, 0) << r.Body();
  EXPECT_EQ(s.usage_chunks, 0) << r.Body();
  EXPECT_GE(s.events.size(), 3u);
}

TEST_F(GatewayBasic, StreamWithIncludeUsageHasExactlyOneUsageChunkEqualToNonStream) {
  const std::string text = "alpha beta gamma delta epsilon";
  auto plain = Http("POST", Url("/v1/chat/completions"), ChatBody("sim/echo", text), {}, kShort);
  ASSERT_EQ(plain.status, 200);
  UsageCounts expected = UsageOf(ParseJson(plain.body).at("usage"));
  ASSERT_GT(expected.completion, 0);

  auto r = HttpStream(
      "POST", Url("/v1/chat/completions"),
      ChatBody("sim/echo", text, R"("stream":true,"stream_options":{"include_usage":true})"), {},
      kShort);
  ASSERT_EQ(r.status, 200);
  auto s = ParseChatStream(r.Body());
  EXPECT_EQ(s.text, text);
  EXPECT_TRUE(s.done_last);
  ASSERT_EQ(s.usage_chunks, 1) << r.Body();
  EXPECT_EQ(s.empty_choices, 1) << r.Body();
  EXPECT_EQ(UsageOf(s.usage), expected);
  // The usage chunk is the last event before [DONE].
  ASSERT_FALSE(s.events.empty());
  EXPECT_TRUE(s.events.back().at("choices").as_array().empty());
}

// A canned OpenAI stream that carries a usage-only chunk, as OpenAI sends with include_usage.
std::string CannedUsageStream() {
  std::string body;
  auto ev = [&](std::string_view d) { body += "data: " + std::string(d) + "\n\n"; };
  const char* env =
      R"("id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini")";
  ev(std::string("{") + env +
     R"(,"choices":[{"index":0,"delta":{"role":"assistant","content":""},)"
     R"("finish_reason":null}],"usage":null})");
  ev(std::string("{") + env +
     R"(,"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null})");
  ev(std::string("{") + env +
     R"(,"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}],"usage":null})");
  ev(std::string("{") + env +
     R"(,"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}})");
  ev("[DONE]");
  return "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n"
         "content-length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(GatewayStreamUsage, AsksUpstreamForUsageAndDropsTheChunkTheCallerDidNotAskFor) {
  OneShotUpstream upstream(CannedUsageStream());
  auto gw = StartGateway(
      {}, {{"OPENAI_BASE_URL", "http://127.0.0.1:" + std::to_string(upstream.port()) + "/v1"},
           {"OPENAI_API_KEY", "sk-test"}});
  auto r = HttpStream("POST", gw.base_url + "/v1/chat/completions",
                      ChatBody("gpt-4o-mini", "hi", R"("stream":true)"), {}, kShort);
  ASSERT_EQ(r.status, 200) << r.Body() << gw.process->Describe();

  // What went upstream: a stream that asks for usage.
  auto sent = ParseJson(upstream.body());
  ASSERT_TRUE(sent.is_object()) << "upstream saw: " << upstream.head() << upstream.body();
  EXPECT_EQ(sent.at("stream"), json::value(true));
  const auto* so = sent.get_object().if_contains("stream_options");
  ASSERT_TRUE(so != nullptr && so->is_object()) << upstream.body();
  EXPECT_EQ(so->get_object().at("include_usage"), json::value(true)) << upstream.body();

  // What the caller got: the text in order, no usage-only chunk, [DONE] at the end.
  auto s = ParseChatStream(r.Body());
  EXPECT_EQ(s.text, "Hello");
  EXPECT_EQ(s.empty_choices, 0) << r.Body();
  EXPECT_EQ(s.usage_chunks, 0) << r.Body();
  EXPECT_TRUE(s.done_last) << r.Body();
  EXPECT_EQ(s.events.size(), 3u) << r.Body();
}

// The value of the first sample line of `metric` whose labels include every one of `labels`.
std::optional<double> Sample(std::string_view text, std::string_view metric,
                             const std::vector<std::string>& labels) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    if (line.substr(0, metric.size()) != metric) continue;
    std::string_view rest = line.substr(metric.size());
    if (rest.empty() || (rest[0] != '{' && rest[0] != ' ')) continue;  // another metric's prefix
    auto sp = rest.rfind(' ');
    std::string_view label_part = rest.substr(0, sp);
    bool all = true;
    for (const auto& l : labels) all = all && label_part.find(l) != std::string_view::npos;
    if (!all) continue;
    return std::strtod(std::string(rest.substr(sp + 1)).c_str(), nullptr);
  }
  return std::nullopt;
}

TEST(GatewayMetrics, CountsRequestsTokensAndLatency) {
  auto gw = StartGateway();
  const std::string url = gw.base_url + "/v1/chat/completions";
  int64_t completion_sum = 0, prompt_sum = 0;
  const std::vector<std::string> texts = {"a b c", "one two three four", "x"};
  for (const auto& t : texts) {
    auto r = Http("POST", url, ChatBody("sim/echo", t), {}, kShort);
    ASSERT_EQ(r.status, 200);
    UsageCounts u = UsageOf(ParseJson(r.body).at("usage"));
    completion_sum += u.completion;
    prompt_sum += u.prompt;
  }
  auto s = HttpStream("POST", url,
                      ChatBody("sim/echo", "streamed words here",
                               R"("stream":true,"stream_options":{"include_usage":true})"),
                      {}, kShort);
  ASSERT_EQ(s.status, 200);
  UsageCounts streamed = UsageOf(ParseChatStream(s.Body()).usage);
  ASSERT_GT(streamed.completion, 0) << s.Body();
  completion_sum += streamed.completion;
  prompt_sum += streamed.prompt;
  auto bad = Http("POST", url, ChatBody("no-such/model", "x"), {}, kShort);
  ASSERT_EQ(bad.status, 404);

  // A request is counted after its answer left (on its own event loop): wait until all are.
  HttpResult m;
  Eventually(
      [&] {
        m = Http("GET", gw.base_url + "/metrics", {}, {}, kShort);
        return Sample(m.body, "modelmux_requests_total",
                      {R"(model="sim/echo")", R"(status="200")"}) == 4.0 &&
               Sample(m.body, "modelmux_requests_total", {R"(status="404")"}) == 1.0;
      },
      5s);
  ASSERT_EQ(m.status, 200);
  const std::string& text = m.body;
  const std::vector<std::string> echo = {R"(model="sim/echo")", R"(provider="sim")"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), echo.begin(), echo.end());
    return extra;
  };
  EXPECT_EQ(Sample(text, "modelmux_requests_total", with({R"(status="200")"})), 4.0) << text;
  EXPECT_FALSE(Sample(text, "modelmux_requests_total", with({R"(status="404")"})).has_value());
  auto not_found = Sample(text, "modelmux_requests_total", {R"(status="404")"});
  EXPECT_EQ(not_found, 1.0) << text;
  EXPECT_NE(text.find("# TYPE modelmux_request_duration_seconds histogram"), std::string::npos)
      << text;
  EXPECT_EQ(Sample(text, "modelmux_request_duration_seconds_count", echo), 4.0) << text;
  EXPECT_EQ(Sample(text, "modelmux_request_duration_seconds_bucket", with({R"(le="+Inf")"})), 4.0)
      << text;
  auto sum = Sample(text, "modelmux_request_duration_seconds_sum", echo);
  ASSERT_TRUE(sum.has_value()) << text;
  EXPECT_GT(*sum, 0.0);
  EXPECT_LT(*sum, 10.0);  // seconds, not nanoseconds
  // The streamed request's usage is counted as well as the non-stream ones.
  auto completion = Sample(text, "modelmux_tokens_total", with({R"(kind="completion")"}));
  ASSERT_TRUE(completion.has_value()) << text;
  EXPECT_EQ(*completion, static_cast<double>(completion_sum)) << text;
  auto prompt = Sample(text, "modelmux_tokens_total", with({R"(kind="prompt")"}));
  ASSERT_TRUE(prompt.has_value()) << text;
  EXPECT_EQ(*prompt, static_cast<double>(prompt_sum));
}

TEST(GatewayKeepAlive, FiftySequentialRequestsOnOneConnection) {
  auto gw = StartGateway();
  RawConn conn(gw.address.port);
  ASSERT_TRUE(conn.connected()) << std::strerror(conn.connect_errno());
  for (int i = 0; i < 50; ++i) {
    std::string text = "request number " + std::to_string(i);
    ASSERT_TRUE(conn.SendAll(RawPost("/v1/chat/completions", ChatBody("sim/echo", text))))
        << "send failed at request " << i;
    auto r = conn.ReadResponse(5s);
    ASSERT_EQ(r.status, 200) << "request " << i << " head: " << r.head;
    auto v = ParseJson(r.body);
    ASSERT_TRUE(v.is_object()) << r.body;
    EXPECT_EQ(Str(v.at("choices").at(0).at("message").at("content")), text);
    EXPECT_FALSE(conn.peer_closed()) << "closed after request " << i;
  }
  // Streamed responses keep the connection too.
  ASSERT_TRUE(conn.SendAll(
      RawPost("/v1/chat/completions", ChatBody("sim/echo", "last one", R"("stream":true)"))));
  auto r = conn.ReadResponse(5s);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos) << r.body;
  ASSERT_TRUE(conn.SendAll("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n"));
  EXPECT_EQ(conn.ReadResponse(5s).status, 200);
}

}  // namespace
}  // namespace modelmux::testing
