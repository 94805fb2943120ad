// OpenTelemetry tracing from the built binary (issue 9): spans reach an OTLP/HTTP receiver that
// the test runs on loopback, one SERVER span per request with one CLIENT span per upstream
// attempt beneath it; a caller's traceparent is continued and each attempt's is sent upstream;
// the spans carry the documented attributes and no secret; a collector that is down fails no
// request.

#include <gtest/gtest.h>
#include <map>
#include <mutex>

#include "gateway_it.hpp"
#include "prometheus_text.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kShort = 10s;
constexpr std::string_view kCallerTrace = "0af7651916cd43dd8448eb211c80319c";
constexpr std::string_view kCallerSpan = "b7ad6b7169203331";

// Answers every POST with 200 {} (one request per connection) and keeps heads and bodies.
class OtlpReceiver {
 public:
  OtlpReceiver() {
    listen_fd_ = ListenOnLoopback(16, port_, "otlp receiver");
    thread_ = std::thread([this] { Serve(); });
  }
  ~OtlpReceiver() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  OtlpReceiver(const OtlpReceiver&) = delete;
  OtlpReceiver& operator=(const OtlpReceiver&) = delete;

  [[nodiscard]] std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  struct Post {
    std::string head, body;
  };
  [[nodiscard]] std::vector<Post> posts() const {
    std::lock_guard lock(mu_);
    return posts_;
  }
  // Every span received so far.
  [[nodiscard]] std::vector<json::object> Spans() const {
    std::vector<json::object> out;
    for (const auto& p : posts()) {
      json::value v = ParseJson(p.body);
      if (!v.is_object()) continue;
      for (const auto& rs : v.at("resourceSpans").as_array()) {
        for (const auto& ss : rs.at("scopeSpans").as_array()) {
          for (const auto& s : ss.at("spans").as_array()) out.push_back(s.as_object());
        }
      }
    }
    return out;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      Answer(fd);
      ::close(fd);
    }
  }
  void Answer(int fd) {
    std::string in;
    char buf[65536];
    size_t need = std::string::npos, head_end = 0;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!stop_ && std::chrono::steady_clock::now() < deadline) {
      if (need == std::string::npos) {
        if (auto end = in.find("\r\n\r\n"); end != std::string::npos) {
          head_end = end + 4;
          std::string lower = in.substr(0, head_end);
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          auto cl = lower.find("\r\ncontent-length:");
          need = head_end +
                 (cl == std::string::npos ? 0 : std::strtoul(lower.c_str() + cl + 17, nullptr, 10));
        }
      }
      if (need != std::string::npos && in.size() >= need) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
    }
    if (need == std::string::npos || in.size() < need) return;
    {
      std::lock_guard lock(mu_);
      posts_.push_back({in.substr(0, head_end), in.substr(head_end, need - head_end)});
    }
    const std::string out =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"
        "connection: close\r\n\r\n{}";
    (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Post> posts_;
};

const json::value* Attr(const json::object& span, std::string_view key) {
  for (const auto& a : span.at("attributes").as_array()) {
    if (a.at("key").as_string() == key) return &a.at("value");
  }
  return nullptr;
}
std::string StrAttr(const json::object& span, std::string_view key) {
  const json::value* v = Attr(span, key);
  if (v == nullptr || !v->as_object().contains("stringValue")) return "<missing>";
  return std::string(v->at("stringValue").as_string());
}
int64_t IntAttr(const json::object& span, std::string_view key) {
  const json::value* v = Attr(span, key);
  if (v == nullptr || !v->as_object().contains("intValue")) return -1;
  const json::value& i = v->at("intValue");
  return i.is_string() ? std::stoll(std::string(i.as_string())) : i.to_number<int64_t>();
}
std::string S(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The spans of `trace_id`, waiting until `count` arrived.
std::vector<json::object> SpansOf(const OtlpReceiver& rx, const std::string& trace_id,
                                  size_t count) {
  std::vector<json::object> out;
  Eventually(
      [&] {
        out.clear();
        for (auto& s : rx.Spans()) {
          if (S(s, "traceId") == trace_id) out.push_back(std::move(s));
        }
        return out.size() >= count;
      },
      8s);
  return out;
}

constexpr std::string_view kAnswer =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":2,)"
    R"("total_tokens":9}})";

TEST(Tracing, ContinuesTheCallersTraceAndSendsEachAttemptsContextUpstream) {
  OtlpReceiver rx;
  OneShotUpstream upstream("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " +
                           std::to_string(kAnswer.size()) + "\r\nconnection: close\r\n\r\n" +
                           std::string(kAnswer));
  Service gw = StartGateway(
      {}, {{"OPENAI_BASE_URL", "http://127.0.0.1:" + std::to_string(upstream.port()) + "/v1"},
           {"OPENAI_API_KEY", "sk-provider-secret-4711"},
           {"OTEL_EXPORTER_OTLP_ENDPOINT", rx.base_url()},
           {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20otlp-secret-0815"}});
  const std::string caller_tp =
      "00-" + std::string(kCallerTrace) + "-" + std::string(kCallerSpan) + "-01";
  auto r = Http("POST", gw.base_url + "/v1/chat/completions", ChatBody("gpt-4o-mini", "hi"),
                {{"traceparent", caller_tp}, {"authorization", "Bearer caller-secret-42"}}, kShort);
  ASSERT_EQ(r.status, 200) << r.body;

  // The upstream got a traceparent in the caller's trace, naming the attempt's span.
  std::string head = upstream.head();
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string prefix = "\r\ntraceparent: 00-" + std::string(kCallerTrace) + "-";
  const auto at = head.find(prefix);
  ASSERT_NE(at, std::string::npos) << head;
  const std::string upstream_span = head.substr(at + prefix.size(), 16);
  EXPECT_EQ(head.substr(at + prefix.size() + 16, 3), "-01");
  EXPECT_NE(upstream_span, kCallerSpan);

  auto spans = SpansOf(rx, std::string(kCallerTrace), 2);
  ASSERT_EQ(spans.size(), 2u) << gw.process->stderr_tail();
  const json::object* server = nullptr;
  const json::object* attempt = nullptr;
  for (const auto& s : spans) {
    if (s.at("kind").to_number<int>() == 2) server = &s;
    if (s.at("kind").to_number<int>() == 3) attempt = &s;
  }
  ASSERT_TRUE(server != nullptr && attempt != nullptr);
  EXPECT_EQ(S(*server, "parentSpanId"), kCallerSpan);
  EXPECT_EQ(S(*attempt, "parentSpanId"), S(*server, "spanId"));
  EXPECT_EQ(S(*attempt, "spanId"), upstream_span);
  EXPECT_EQ(S(*server, "name"), "POST /v1/chat/completions");
  EXPECT_EQ(StrAttr(*server, "http.method"), "POST");
  EXPECT_EQ(StrAttr(*server, "http.route"), "/v1/chat/completions");
  EXPECT_EQ(IntAttr(*server, "http.status_code"), 200);
  EXPECT_EQ(StrAttr(*server, "modelmux.model"), "gpt-4o-mini");
  EXPECT_EQ(StrAttr(*server, "modelmux.provider"), "openai");
  EXPECT_EQ(StrAttr(*server, "modelmux.request_id"), r.headers.Get("x-request-id"));
  EXPECT_EQ(IntAttr(*server, "gen_ai.usage.input_tokens"), 7);
  EXPECT_EQ(IntAttr(*server, "gen_ai.usage.output_tokens"), 2);
  EXPECT_EQ(StrAttr(*attempt, "modelmux.deployment"), "openai/gpt-4o-mini");
  EXPECT_EQ(StrAttr(*attempt, "modelmux.provider"), "openai");
  EXPECT_EQ(IntAttr(*attempt, "modelmux.attempt"), 1);
  EXPECT_EQ(IntAttr(*attempt, "modelmux.retry"), 0);
  EXPECT_EQ(IntAttr(*attempt, "http.response.status_code"), 200);
  // The child lies within its parent.
  auto ns = [](const json::object& s, std::string_view k) { return std::stoll(S(s, k)); };
  EXPECT_LE(ns(*server, "startTimeUnixNano"), ns(*attempt, "startTimeUnixNano"));
  EXPECT_LE(ns(*attempt, "endTimeUnixNano"), ns(*server, "endTimeUnixNano"));
  EXPECT_LT(ns(*server, "startTimeUnixNano"), ns(*server, "endTimeUnixNano"));

  // The collector got its header and service.name; no secret went anywhere it should not.
  const auto posts = rx.posts();
  ASSERT_FALSE(posts.empty());
  std::string rx_head = posts[0].head;
  for (char& c : rx_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(rx_head.find("authorization: bearer otlp-secret-0815"), std::string::npos) << rx_head;
  EXPECT_NE(rx_head.find("post /v1/traces "), std::string::npos) << rx_head;
  EXPECT_NE(posts[0].body.find(R"({"key":"service.name","value":{"stringValue":"modelmux"}})"),
            std::string::npos);
  for (const auto& p : posts) {
    for (const char* secret : {"sk-provider-secret-4711", "caller-secret-42", "otlp-secret-0815"}) {
      EXPECT_EQ(p.body.find(secret), std::string::npos) << secret;
    }
  }
  const std::string tail = gw.process->stderr_tail();
  EXPECT_EQ(tail.find("otlp-secret-0815"), std::string::npos);
}

TEST(Tracing, EachRetriedAttemptIsAChildSpanWithItsStatus) {
  OtlpReceiver rx;
  TempDir dir;
  Service sim = StartSim();
  const std::string yaml = "providers:\n  openai: {type: openai, base_url: \"" + sim.base_url +
                           "/v1\", api_key: sk-test}\n"
                           "router:\n  retry_base: 5ms\n"
                           "telemetry:\n  otlp_endpoint: \"" +
                           rx.base_url() + "/\"\n";
  Service gw = StartGateway({"--config", dir.Write("modelmux.yaml", yaml)});
  auto r = Http("POST", gw.base_url + "/v1/chat/completions", ChatBody("gpt-4o-mini", "hi"),
                {{"x-sim-status", "503"}}, kShort);
  ASSERT_EQ(r.status, 503) << r.body;
  const int attempts = std::atoi(std::string(r.headers.Get("x-modelmux-attempts")).c_str());
  ASSERT_GE(attempts, 2);

  // A new trace (the caller sent none): find it by the request id.
  std::string trace;
  Eventually(
      [&] {
        for (const auto& s : rx.Spans()) {
          if (StrAttr(s, "modelmux.request_id") == r.headers.Get("x-request-id")) {
            trace = S(s, "traceId");
          }
        }
        return !trace.empty();
      },
      8s);
  ASSERT_EQ(trace.size(), 32u);
  auto spans = SpansOf(rx, trace, static_cast<size_t>(attempts) + 1);
  ASSERT_EQ(spans.size(), static_cast<size_t>(attempts) + 1);
  std::string server_id;
  for (const auto& s : spans) {
    if (s.at("kind").to_number<int>() != 2) continue;
    server_id = S(s, "spanId");
    EXPECT_FALSE(s.contains("parentSpanId"));
    EXPECT_EQ(IntAttr(s, "http.status_code"), 503);
    EXPECT_EQ(IntAttr(s, "modelmux.attempts"), attempts);
    EXPECT_EQ(s.at("status").at("code").to_number<int>(), 2);
  }
  ASSERT_EQ(server_id.size(), 16u);
  std::vector<int64_t> numbers;
  for (const auto& s : spans) {
    if (s.at("kind").to_number<int>() != 3) continue;
    EXPECT_EQ(S(s, "parentSpanId"), server_id);
    EXPECT_EQ(IntAttr(s, "http.response.status_code"), 503);
    EXPECT_EQ(s.at("status").at("code").to_number<int>(), 2);
    EXPECT_EQ(StrAttr(s, "error.type"), "unavailable");
    numbers.push_back(IntAttr(s, "modelmux.attempt"));
  }
  std::sort(numbers.begin(), numbers.end());
  ASSERT_EQ(numbers.size(), static_cast<size_t>(attempts));
  for (int i = 0; i < attempts; ++i) EXPECT_EQ(numbers[static_cast<size_t>(i)], i + 1);

  // A stream is traced too.
  auto st = HttpStream("POST", gw.base_url + "/v1/chat/completions",
                       ChatBody("gpt-4o-mini", "hi", R"("stream":true)"), {}, kShort);
  ASSERT_EQ(st.status, 200);
  bool found = false;
  Eventually(
      [&] {
        for (const auto& s : rx.Spans()) {
          if (StrAttr(s, "modelmux.request_id") == st.headers.Get("x-request-id") &&
              s.at("kind").to_number<int>() == 2) {
            const json::value* v = Attr(s, "modelmux.stream");
            found = v != nullptr && v->at("boolValue").as_bool();
          }
        }
        return found;
      },
      8s);
  EXPECT_TRUE(found);
}

TEST(Tracing, ACollectorThatIsDownFailsNoRequest) {
  Service sim = StartSim();
  Service gw = StartGateway({}, {{"OPENAI_BASE_URL", sim.base_url + "/v1"},
                                 {"OPENAI_API_KEY", "sk-test"},
                                 {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"}});
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    auto r = Http("POST", gw.base_url + "/v1/chat/completions", ChatBody("gpt-4o-mini", "hi"), {},
                  kShort);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // The exporter counts the spans it could not deliver.
  double failed = 0;
  Eventually(
      [&] {
        auto m = ParseExposition(Http("GET", gw.base_url + "/metrics", {}, {}, kShort).body);
        failed = m.Sum("modelmux_trace_spans_total", {{"result", "failed"}});
        return failed >= 10;  // 5 server spans and 5 attempt spans
      },
      8s);
  EXPECT_GE(failed, 10);
}

}  // namespace
}  // namespace modelmux::testing
