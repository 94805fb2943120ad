#include "gateway/gateway_metrics.hpp"

#include <gtest/gtest.h>
#include <fstream>
#include <sstream>

namespace modelmux::gateway {
namespace {

using namespace std::chrono_literals;

TEST(GatewayMetricsTest, OverheadIsTotalMinusEveryWaitThatIsNotOurs) {
  routing::AttemptLog log;
  log.upstream = 70ms;
  log.waited = 10ms;  // backoff
  log.queued = 5ms;   // rate-limit queue
  EXPECT_EQ(GatewayMetrics::Overhead(100ms, log, 12ms), 3ms);
  EXPECT_EQ(GatewayMetrics::Overhead(100ms, log, 0ms), 15ms);
  // Concurrent waits (a fan-out pipeline) can add up to more than the wall time: never negative.
  EXPECT_EQ(GatewayMetrics::Overhead(50ms, log, 0ms), 0ns);
}

TEST(GatewayMetricsTest, TokensByKindAndErrorsByCode) {
  telemetry::Registry r;
  GatewayMetrics m(r);
  telemetry::RequestRecord rec;
  rec.provider = "anthropic";
  rec.status = 200;
  Usage u;
  u.prompt_tokens = 1000;
  u.completion_tokens = 300;
  u.cache_read_tokens = 600;
  u.cache_write_tokens = 100;
  u.reasoning_tokens = 50;
  rec.usage = u;
  m.Record("claude", rec, std::nullopt);
  rec.error_code = "stream_cut";  // a stream that broke after its 200 head
  m.Record("claude", rec, std::nullopt);
  auto tokens = [&](const char* kind) {
    return m.tokens.With({"claude", "anthropic", kind}).Value();
  };
  EXPECT_EQ(tokens("prompt"), 2000);
  EXPECT_EQ(tokens("completion"), 600);
  EXPECT_EQ(tokens("cached"), 1200);
  EXPECT_EQ(tokens("cache_write"), 200);
  EXPECT_EQ(tokens("reasoning"), 100);
  EXPECT_EQ(m.requests.With({"claude", "anthropic", "200"}).Value(), 2);
  EXPECT_EQ(m.request_errors.With({"claude", "anthropic", "stream_cut"}).Value(), 1);
}

TEST(GatewayMetricsTest, EveryMetricIsDocumentedWithItsTypeAndLabels) {
  telemetry::Registry r;
  GatewayMetrics m(r);
  std::ifstream f(std::string(MODELMUX_SOURCE_DIR) + "/docs/OBSERVABILITY.md");
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string doc = ss.str();
  ASSERT_FALSE(doc.empty());
  const auto families = r.Families();
  ASSERT_GE(families.size(), 20u);
  for (const auto& fam : families) {
    std::string labels;
    for (const auto& l : fam.labels) labels += (labels.empty() ? "" : ", ") + l;
    // | `name` | type | labels | meaning |
    const std::string row =
        "| `" + fam.name + "` | " + fam.type + (labels.empty() ? " | |" : " | " + labels + " |");
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/OBSERVABILITY.md lacks the row\n"
                                                << row << " " << fam.help << " |";
  }
}

}  // namespace
}  // namespace modelmux::gateway
