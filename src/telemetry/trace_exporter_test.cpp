#include "telemetry/trace_exporter.hpp"

#include <gtest/gtest.h>
#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <thread>

namespace modelmux::telemetry {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

std::vector<Span> MakeSpans(size_t n) {
  std::vector<Span> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i].trace_id = {1, 2};
    out[i].span_id = i + 1;
    out[i].name = "s" + std::to_string(i);
  }
  return out;
}

size_t SpanCount(const std::string& body) {
  json::value v = json::parse(body);
  return v.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array().size();
}

struct Recorder {
  std::mutex mu;
  std::vector<std::string> bodies;
  bool accept = true;
  SpanExporter::Sender Sender() {
    return [this](const std::string& body) {
      std::lock_guard lock(mu);
      bodies.push_back(body);
      return accept;
    };
  }
  std::vector<size_t> Counts() {
    std::lock_guard lock(mu);
    std::vector<size_t> out;
    for (const auto& b : bodies) out.push_back(SpanCount(b));
    return out;
  }
};

OtlpOptions Options(size_t max_batch, size_t max_queue, std::chrono::milliseconds interval) {
  OtlpOptions o;
  o.url = "http://127.0.0.1:1/v1/traces";
  o.max_batch = max_batch;
  o.max_queue = max_queue;
  o.interval = interval;
  return o;
}

double Result(CounterFamily& f, const char* result) {
  return f.With({result}).Value();
}

TEST(SpanExporterTest, SendsQueuedSpansInBatchesOfAtMostMaxBatch) {
  Registry r;
  auto& counted = r.AddCounter("spans", "", {"result"});
  Recorder rec;
  {
    SpanExporter exporter(Options(3, 100, 10s), &counted, rec.Sender());
    exporter.Submit(MakeSpans(7));
    exporter.Flush();
    EXPECT_EQ(rec.Counts(), (std::vector<size_t>{3, 3, 1}));
    EXPECT_EQ(Result(counted, "exported"), 7);
  }
}

TEST(SpanExporterTest, DropsWhatDoesNotFitTheQueueAndCountsIt) {
  Registry r;
  auto& counted = r.AddCounter("spans", "", {"result"});
  Recorder rec;
  SpanExporter exporter(Options(100, 5, 10s), &counted, rec.Sender());
  exporter.Submit(MakeSpans(4));
  exporter.Submit(MakeSpans(4));  // one fits
  EXPECT_EQ(Result(counted, "dropped_queue_full"), 3);
  exporter.Flush();
  EXPECT_EQ(rec.Counts(), (std::vector<size_t>{5}));
  EXPECT_EQ(Result(counted, "exported"), 5);
}

TEST(SpanExporterTest, ACollectorThatRefusesCostsTheBatchOnly) {
  Registry r;
  auto& counted = r.AddCounter("spans", "", {"result"});
  Recorder rec;
  rec.accept = false;
  SpanExporter exporter(Options(10, 100, 10s), &counted, rec.Sender());
  exporter.Submit(MakeSpans(2));
  exporter.Flush();
  EXPECT_EQ(Result(counted, "failed"), 2);
  EXPECT_EQ(Result(counted, "exported"), 0);
  exporter.Submit(MakeSpans(1));  // still accepted afterwards
  exporter.Flush();
  EXPECT_EQ(Result(counted, "failed"), 3);
}

TEST(SpanExporterTest, SendsOnTheIntervalWithoutAFlush) {
  Registry r;
  auto& counted = r.AddCounter("spans", "", {"result"});
  Recorder rec;
  SpanExporter exporter(Options(100, 100, 50ms), &counted, rec.Sender());
  exporter.Submit(MakeSpans(2));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (Result(counted, "exported") < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(Result(counted, "exported"), 2);
}

TEST(SpanExporterTest, SendsAFullBatchBeforeTheInterval) {
  Registry r;
  auto& counted = r.AddCounter("spans", "", {"result"});
  Recorder rec;
  SpanExporter exporter(Options(4, 100, 60s), &counted, rec.Sender());
  exporter.Submit(MakeSpans(4));
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (Result(counted, "exported") < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(Result(counted, "exported"), 4);
}

TEST(SpanExporterTest, TheDestructorSendsWhatIsQueued) {
  Registry r;
  auto& counted = r.AddCounter("spans", "", {"result"});
  Recorder rec;
  {
    SpanExporter exporter(Options(100, 100, 60s), &counted, rec.Sender());
    exporter.Submit(MakeSpans(3));
  }
  EXPECT_EQ(rec.Counts(), (std::vector<size_t>{3}));
}

TEST(SpanExporterTest, ACollectorThatIsDownNeverBlocksSubmit) {
  // The real HTTP sender against a closed loopback port: Submit returns at once, the batch
  // fails and is counted.
  Registry r;
  auto& counted = r.AddCounter("spans", "", {"result"});
  OtlpOptions o = Options(10, 100, 10s);
  o.timeout = 2s;
  SpanExporter exporter(o, &counted);
  const auto t0 = std::chrono::steady_clock::now();
  exporter.Submit(MakeSpans(2));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  exporter.Flush();
  EXPECT_EQ(Result(counted, "failed"), 2);
}

std::optional<std::string> Lookup(const std::map<std::string, std::string>& env,
                                  const std::string& name) {
  auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

TEST(ResolveOtlpOptionsTest, ConfigWinsThenTracesEndpointThenBaseEndpoint) {
  std::map<std::string, std::string> env{
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318/"},
      {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318/custom/path"}};
  auto get = [&](const std::string& n) { return Lookup(env, n); };
  auto a = ResolveOtlpOptions("http://cfg:4318/", {}, 0ms, get);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->url, "http://cfg:4318/v1/traces");
  auto b = ResolveOtlpOptions("", {}, 0ms, get);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->url, "http://traces:4318/custom/path");
  env.erase("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  auto c = ResolveOtlpOptions("", {}, 0ms, get);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->url, "http://base:4318/v1/traces");
  env.clear();
  EXPECT_FALSE(ResolveOtlpOptions("", {}, 0ms, get).has_value());
}

TEST(ResolveOtlpOptionsTest, HeadersFromEnvironmentAndConfigMerge) {
  std::map<std::string, std::string> env{
      {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc%3D%3D, x-team = blue ,broken"},
      {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-team=red"},
      {"OTEL_SERVICE_NAME", "gw-1"}};
  auto get = [&](const std::string& n) { return Lookup(env, n); };
  auto o = ResolveOtlpOptions("http://c", {{"authorization", "Bearer t"}}, 1500ms, get);
  ASSERT_TRUE(o);
  using H = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(o->headers,
            (H{{"api-key", "abc=="}, {"x-team", "red"}, {"authorization", "Bearer t"}}));
  EXPECT_EQ(o->timeout, 1500ms);
  EXPECT_EQ(o->service_name, "gw-1");
}

}  // namespace
}  // namespace modelmux::telemetry
