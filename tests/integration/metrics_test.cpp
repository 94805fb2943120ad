// /metrics after known traffic (issue 9): every documented metric is present and counts what was
// sent: requests by status, errors, streams (time to first token), retries through the
// simulator's fault controls, a fallback, an ejected deployment, cache hits, tokens and the
// gateway-overhead histogram. Also: every family the gateway exports is documented in
// docs/OBSERVABILITY.md, and every metric the Grafana dashboard queries is exported.

#include <gtest/gtest.h>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "gateway_it.hpp"
#include "prometheus_text.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kShort = 10s;

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string ProviderLine(std::string_view name, const std::string& base_url) {
  return "  " + std::string(name) + ": {type: openai, base_url: \"" + base_url +
         "/v1\", api_key: sk-test}\n";
}

int Attempts(const HttpResult& r) {
  return std::atoi(std::string(r.headers.Get("x-modelmux-attempts")).c_str());
}

struct Tokens {
  int64_t prompt = 0, completion = 0;
};

Tokens UsageOf(const json::value& v) {
  Tokens t;
  if (!v.is_object()) return t;
  const json::value* u = v.get_object().if_contains("usage");
  if (u == nullptr || !u->is_object()) return t;
  t.prompt = u->at("prompt_tokens").to_number<int64_t>();
  t.completion = u->at("completion_tokens").to_number<int64_t>();
  return t;
}

class MetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    good_ = new Service(StartSim());
    down_ = new Service(StartSim({"--fail-rate", "1", "--fail-status", "503"}));
    // Every second call to `flaky` fails: request 1 passes, request 2 fails once then passes.
    flaky_ = new Service(StartSim({"--fail-rate", "0.5", "--fail-status", "503"}));
    const std::string yaml =
        "providers:\n" + ProviderLine("openai", good_->base_url) +
        ProviderLine("down", down_->base_url) + ProviderLine("flaky", flaky_->base_url) +
        "models:\n"
        "  - name: primary\n"
        "    deployments: [{provider: down, model: model-a}]\n"
        "    fallbacks: [backup]\n"
        "  - name: backup\n"
        "    deployments: [{provider: openai, model: model-b}]\n"
        "  - name: retrying\n"
        "    deployments: [{provider: flaky, model: model-c}]\n"
        "  - name: pair\n"
        "    deployments:\n"
        "      - {provider: down, model: model-d, weight: 100000}\n"
        "      - {provider: openai, model: model-d, weight: 1}\n"
        "router:\n"
        "  retry_base: 5ms\n"
        "  outlier: {consecutive_failures: 1, base_ejection: 60s, max_ejection_percent: 50}\n";
    gw_ = new Service(StartGateway({"--config", dir_->Write("modelmux.yaml", yaml)}));
  }
  static void TearDownTestSuite() {
    delete gw_;
    delete flaky_;
    delete down_;
    delete good_;
    delete dir_;
  }
  static HttpResult Post(std::string_view model, std::string_view extra = {},
                         HeaderList headers = {}) {
    return Http("POST", gw_->base_url + "/v1/chat/completions",
                ChatBody(model, "hello metrics", extra), std::move(headers), kShort);
  }
  static Exposition Scrape() {
    auto r = Http("GET", gw_->base_url + "/metrics", {}, {}, kShort);
    EXPECT_EQ(r.status, 200);
    auto e = ParseExposition(r.body);
    EXPECT_TRUE(e.errors.empty()) << e.errors.front();
    return e;
  }

  static TempDir* dir_;
  static Service *good_, *down_, *flaky_, *gw_;
};

TempDir* MetricsTest::dir_ = nullptr;
Service* MetricsTest::good_ = nullptr;
Service* MetricsTest::down_ = nullptr;
Service* MetricsTest::flaky_ = nullptr;
Service* MetricsTest::gw_ = nullptr;

TEST_F(MetricsTest, CountsWhatWasSent) {
  int api_requests = 0;
  // 3 plain answers.
  Tokens ok_tokens;
  for (int i = 0; i < 3; ++i) {
    auto r = Post("openai/gpt-4o-mini");
    ++api_requests;
    ASSERT_EQ(r.status, 200) << r.body;
    // Non-streamed answers carry the gateway's own time, a small non-negative number of ms.
    const std::string overhead(r.headers.Get("x-modelmux-overhead-ms"));
    ASSERT_FALSE(overhead.empty());
    EXPECT_GE(std::stod(overhead), 0.0);
    EXPECT_LT(std::stod(overhead), 1000.0);
    Tokens t = UsageOf(ParseJson(r.body));
    ok_tokens.prompt += t.prompt;
    ok_tokens.completion += t.completion;
  }
  // 2 streams with usage.
  Tokens stream_tokens;
  for (int i = 0; i < 2; ++i) {
    auto r = HttpStream("POST", gw_->base_url + "/v1/chat/completions",
                        ChatBody("openai/gpt-4.1-mini", "hello stream",
                                 R"("stream":true,"stream_options":{"include_usage":true})"),
                        {}, kShort);
    ++api_requests;
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.headers.Get("x-modelmux-overhead-ms").empty()) << "streams carry no overhead";
    for (const auto& d : SseData(r.Body())) {
      Tokens t = UsageOf(ParseJson(d));
      stream_tokens.prompt += t.prompt;
      stream_tokens.completion += t.completion;
    }
  }
  // 1 error that is not retried.
  auto bad = Post("openai/gpt-4o", {}, {{"x-sim-status", "400"}});
  ++api_requests;
  ASSERT_EQ(bad.status, 400) << bad.body;
  EXPECT_FALSE(bad.headers.Get("x-modelmux-overhead-ms").empty());
  // 2 calls through the flaky upstream: the second is retried once.
  int retrying_attempts = 0;
  for (int i = 0; i < 2; ++i) {
    auto r = Post("retrying");
    ++api_requests;
    ASSERT_EQ(r.status, 200) << r.body;
    retrying_attempts += Attempts(r);
  }
  EXPECT_EQ(retrying_attempts, 3);
  // 1 fallback from `primary` (always 503) to `backup`.
  auto fb = Post("primary");
  ++api_requests;
  ASSERT_EQ(fb.status, 200) << fb.body;
  const int fb_attempts = Attempts(fb);
  // `pair`: its heavy deployment fails once and is ejected.
  int pair_attempts = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = Post("pair");
    ++api_requests;
    ASSERT_EQ(r.status, 200) << r.body;
    pair_attempts += Attempts(r);
  }
  // A cacheable request twice: a miss, then a hit.
  for (int i = 0; i < 2; ++i) {
    auto r = Post("openai/gpt-4.1-nano", R"("temperature":0)");
    ++api_requests;
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // A request is counted after its answer left (on its own event loop): wait until all are.
  Exposition m;
  Eventually(
      [&] {
        m = Scrape();
        return m.Sum("modelmux_requests_total") == api_requests &&
               m.Sum("modelmux_request_duration_seconds_count") == api_requests &&
               m.Sum("modelmux_gateway_overhead_seconds_count") == api_requests;
      },
      5s);
  EXPECT_EQ(m.Sum("modelmux_requests_total",
                  {{"model", "openai/gpt-4o-mini"}, {"provider", "openai"}, {"status", "200"}}),
            3);
  EXPECT_EQ(m.Sum("modelmux_requests_total", {{"model", "openai/gpt-4.1-mini"}, {"status", "200"}}),
            2);
  EXPECT_EQ(m.Sum("modelmux_requests_total", {{"model", "openai/gpt-4o"}, {"status", "400"}}), 1);
  EXPECT_EQ(m.Sum("modelmux_requests_total"), api_requests);
  EXPECT_EQ(m.Sum("modelmux_request_errors_total", {{"model", "openai/gpt-4o"}}), 1);
  EXPECT_EQ(m.Sum("modelmux_request_errors_total"), 1);

  // Latency, overhead and time to first token: one observation per request (per stream).
  EXPECT_EQ(m.Sum("modelmux_request_duration_seconds_count"), api_requests);
  EXPECT_EQ(m.Sum("modelmux_gateway_overhead_seconds_count"), api_requests);
  EXPECT_GE(m.Sum("modelmux_gateway_overhead_seconds_sum"), 0);
  EXPECT_EQ(m.Sum("modelmux_time_to_first_token_seconds_count"), 2);
  EXPECT_EQ(m.Sum("modelmux_time_to_first_token_seconds_count",
                  {{"model", "openai/gpt-4.1-mini"}, {"provider", "openai"}}),
            2);

  // Tokens as the answers reported them.
  EXPECT_GT(ok_tokens.prompt, 0);
  EXPECT_EQ(m.Sum("modelmux_tokens_total", {{"model", "openai/gpt-4o-mini"}, {"kind", "prompt"}}),
            ok_tokens.prompt);
  EXPECT_EQ(
      m.Sum("modelmux_tokens_total", {{"model", "openai/gpt-4o-mini"}, {"kind", "completion"}}),
      ok_tokens.completion);
  EXPECT_GT(stream_tokens.completion, 0);
  EXPECT_EQ(
      m.Sum("modelmux_tokens_total", {{"model", "openai/gpt-4.1-mini"}, {"kind", "completion"}}),
      stream_tokens.completion);

  // Attempts, retries and the fallback.
  EXPECT_EQ(m.Sum("modelmux_upstream_attempts_total", {{"model", "retrying"}}), 3);
  EXPECT_EQ(m.Sum("modelmux_retries_total", {{"model", "retrying"}}), 1);
  EXPECT_GE(m.Sum("modelmux_retry_backoff_seconds_total", {{"model", "retrying"}}), 0);  // jitter
  EXPECT_EQ(m.Sum("modelmux_upstream_attempts_total", {{"model", "primary"}}), fb_attempts);
  EXPECT_EQ(m.Sum("modelmux_retries_total", {{"model", "primary"}}), fb_attempts - 1);
  EXPECT_EQ(m.Sum("modelmux_fallbacks_total", {{"model", "primary"}, {"fallback", "backup"}}), 1);
  EXPECT_EQ(m.Sum("modelmux_fallbacks_total"), 1);
  EXPECT_EQ(m.Sum("modelmux_upstream_attempts_total", {{"model", "pair"}}), pair_attempts);

  // The ejected deployment and its ejection.
  EXPECT_EQ(
      m.Sum("modelmux_deployment_ejected", {{"model", "pair"}, {"deployment", "down/model-d"}}), 1);
  EXPECT_EQ(
      m.Sum("modelmux_deployment_ejected", {{"model", "pair"}, {"deployment", "openai/model-d"}}),
      0);
  EXPECT_EQ(m.Sum("modelmux_deployment_ejections_total",
                  {{"model", "pair"}, {"deployment", "down/model-d"}}),
            1);
  EXPECT_TRUE(m.Has("modelmux_deployment_outstanding", {{"model", "pair"}}));

  // The cache: one miss, one hit for the cacheable pair; the rest bypassed it.
  EXPECT_EQ(m.Sum("modelmux_cache_requests_total",
                  {{"model", "openai/gpt-4.1-nano"}, {"result", "miss"}}),
            1);
  EXPECT_EQ(
      m.Sum("modelmux_cache_requests_total", {{"model", "openai/gpt-4.1-nano"}, {"result", "hit"}}),
      1);

  // Only the scrape itself is in flight; nothing was traced.
  EXPECT_EQ(m.Sum("modelmux_requests_in_flight"), 1);
  EXPECT_EQ(m.Sum("modelmux_trace_spans_total"), 0);
  for (const char* family : {"modelmux_cost_total", "modelmux_rate_limit_queue_seconds",
                             "modelmux_upstream_errors_total", "modelmux_cache_saved_tokens_total",
                             "modelmux_trace_spans_total"}) {
    EXPECT_TRUE(m.types.count(family)) << family;
  }
  EXPECT_EQ(m.types.at("modelmux_gateway_overhead_seconds"), "histogram");
  EXPECT_EQ(m.types.at("modelmux_deployment_ejected"), "gauge");
}

TEST_F(MetricsTest, EveryExportedFamilyIsDocumented) {
  const Exposition m = Scrape();
  const std::string doc = ReadFile(std::string(MODELMUX_SOURCE_DIR) + "/docs/OBSERVABILITY.md");
  ASSERT_FALSE(doc.empty());
  ASSERT_GT(m.types.size(), 15u);
  std::string missing;
  for (const auto& [name, type] : m.types) {
    // A table row: | `name` | type | labels | meaning |
    if (doc.find("| `" + name + "` | " + type + " |") == std::string::npos) {
      missing += "| `" + name + "` | " + type + " | ... | ... |\n";
    }
  }
  EXPECT_TRUE(missing.empty()) << "add these rows to docs/OBSERVABILITY.md:\n" << missing;
}

TEST_F(MetricsTest, TheDashboardQueriesOnlyExportedMetrics) {
  const Exposition m = Scrape();
  const std::string dash =
      ReadFile(std::string(MODELMUX_SOURCE_DIR) + "/docs/grafana-dashboard.json");
  json::value v = ParseJson(dash);
  ASSERT_TRUE(v.is_object()) << "not JSON";
  EXPECT_GE(v.at("schemaVersion").to_number<int64_t>(), 36);
  ASSERT_GE(v.at("panels").as_array().size(), 10u);
  std::set<std::string> used;
  const std::regex name_re("modelmux_[a-z0-9_]+");
  for (std::sregex_iterator it(dash.begin(), dash.end(), name_re), end; it != end; ++it) {
    used.insert(it->str());
  }
  ASSERT_FALSE(used.empty());
  std::set<std::string> exprs_checked;
  for (std::string name : used) {
    if (!m.types.count(name)) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s(suffix);
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
          const std::string base = name.substr(0, name.size() - s.size());
          if (m.types.count(base) && m.types.at(base) == "histogram") name = base;
        }
      }
    }
    EXPECT_TRUE(m.types.count(name))
        << "the dashboard queries " << name << ", which the gateway does not export";
    exprs_checked.insert(name);
  }
  // The panels the issue asks for are there.
  for (const char* must :
       {"modelmux_requests_total", "modelmux_request_duration_seconds",
        "modelmux_time_to_first_token_seconds", "modelmux_tokens_total", "modelmux_cost_total",
        "modelmux_cache_requests_total", "modelmux_retries_total", "modelmux_fallbacks_total",
        "modelmux_deployment_ejected", "modelmux_requests_in_flight",
        "modelmux_gateway_overhead_seconds"}) {
    EXPECT_TRUE(exprs_checked.count(must)) << must;
  }
}

}  // namespace
}  // namespace modelmux::testing
