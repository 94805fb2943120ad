// The usage ledger, cost and logs from the built binary (docs/OBSERVABILITY.md): `modelmux serve`
// in front of a `modelmux sim`, 10,000 mixed requests, then the ledger (read back with
// `modelmux usage --format json`) against the gateway's own metrics, exactly, in micro-units.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <regex>
#include <thread>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 30s;

std::string Config(const Service& sim, std::string_view extra = {}) {
  return "providers:\n  up: {type: openai, base_url: \"" + sim.base_url +
         "/v1\", api_key: sk-test}\n  cn: {type: openai, base_url: \"" + sim.base_url +
         "/v1\", api_key: sk-test}\n" + std::string(extra);
}

// A price override: everything on the provider named `cn` at CNY 1.5 / 4.5 per 1M tokens.
constexpr std::string_view kPrices = R"(prices:
  - {provider: cn, model: "*", currency: CNY, input: "1.5", output: "4.5", source: test, effective: 2026-11-01}
)";

std::string Body(std::string_view model, int i, bool stream, bool include_usage = true) {
  std::string extra;
  if (stream) {
    extra = include_usage ? R"("stream":true,"stream_options":{"include_usage":true})"
                          : R"("stream":true)";
  }
  return ChatBody(model, "question number " + std::to_string(i) + std::string(i % 7, '!'), extra);
}

// "0.000435 USD" -> 435.
int64_t HeaderMicros(std::string_view v) {
  const size_t space = v.find(' ');
  std::string num(v.substr(0, space));
  const size_t dot = num.find('.');
  std::string whole = num.substr(0, dot),
              frac = dot == std::string::npos ? "" : num.substr(dot + 1);
  frac.resize(6, '0');
  return std::stoll(whole) * 1'000'000 + std::stoll(frac);
}

// Sum of a counter's samples whose label text contains `filter`, in micro-units.
int64_t MetricMicros(const std::string& text, std::string_view name, std::string_view filter) {
  int64_t total = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(std::string(name) + "{") && line != name &&
        !line.starts_with(std::string(name) + " ")) {
      continue;
    }
    if (line.find(filter) == std::string::npos) continue;
    total += std::llround(std::stod(line.substr(line.rfind(' ') + 1)) * 1e6);
  }
  return total;
}

json::object UsageJson(const std::vector<std::string>& ledgers,
                       std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"usage", "--format", "json"};
  for (const auto& l : ledgers) {
    args.push_back("--ledger");
    args.push_back(l);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  auto p = Process::Start(ModelmuxBin(), args);
  EXPECT_EQ(p->Wait(30s), 0) << p->Describe();
  std::string out;
  for (const auto& l : p->stdout_lines()) out += l;
  json::value v = ParseJson(out);
  EXPECT_TRUE(v.is_object()) << out;
  return v.is_object() ? v.get_object() : json::object{};
}

int64_t CostMicros(const json::object& line, const char* currency) {
  const auto& c = line.at("cost_micros").as_object();
  return c.contains(currency) ? c.at(currency).to_number<int64_t>() : 0;
}

// The cache-hit kind's model (priced as gpt-4o-mini, $0.15 / $0.60 per 1M), alone in its group.
constexpr const char* kCachedModel = "up/gpt-4o-mini-2024-07-18";

TEST(Ledger, TenThousandMixedRequestsSumToTheMetrics) {
  TempDir dir;
  Service sim = StartSim();
  // Half of its calls fail with 503 (evenly spread): the "retried" alias retries on it, then falls
  // back to up/gpt-4o-mini, so every such request succeeds once and is charged once.
  Service flaky = StartSim({"--fail-rate", "0.5", "--fail-status", "503"});
  const std::string prices = dir.Write("prices.yaml", kPrices);
  const std::string data = (dir.path() / "data").string();
  const std::string extra = "  flaky: {type: openai, base_url: \"" + flaky.base_url +
                            "/v1\", api_key: sk-test}\n"
                            "models:\n"
                            "  - name: retried\n"
                            "    deployments: [{provider: flaky, model: gpt-4o-mini}]\n"
                            "    fallbacks: [up/gpt-4o-mini]\n"
                            "router: {retry_base: 1ms, retry_cap: 2ms}\n"
                            "telemetry: {prices_file: \"" +
                            prices + "\", ledger_retention_days: 30}\n";
  Service gw =
      StartGateway({"--config", dir.Write("c.yaml", Config(sim, extra)), "--no-access-log"},
                   {{"MODELMUX_DATA_DIR", data}});

  constexpr int kRequests = 10'000, kThreads = 8;
  std::atomic<int> next{0}, transport_errors{0};
  std::atomic<int> by_status[600] = {};
  auto worker = [&] {
    for (int i = next++; i < kRequests; i = next++) {
      const std::string url = gw.base_url + "/v1/chat/completions";
      int status = 0;
      switch (i % 10) {
        case 2:  // the same deterministic question every time: cache hits after the first
          status =
              Http("POST", url, ChatBody(kCachedModel, "the cached question", R"("temperature":0)"),
                   {}, kTimeout)
                  .status;
          break;
        case 3:  // retried on the flaky provider, or answered by the fallback
          status = Http("POST", url, Body("retried", i, false), {}, kTimeout).status;
          break;
        case 4:  // streamed, usage asked by the caller
          status = HttpStream("POST", url, Body("up/gpt-4o-mini", i, true), {}, kTimeout).status;
          break;
        case 5:
          status = Http("POST", url, Body("cn/qwen-plus", i, false), {}, kTimeout).status;
          break;
        case 6:  // streamed without include_usage: the gateway asks for it and drops the chunk
          status =
              HttpStream("POST", url, Body("cn/qwen-plus", i, true, false), {}, kTimeout).status;
          break;
        case 7:  // no price known for this model
          status = Http("POST", url, Body("up/gpt-99", i, false), {}, kTimeout).status;
          break;
        case 8:  // the provider refuses it
          status = Http("POST", url, Body("up/gpt-4o-mini", i, false), {{"x-sim-status", "400"}},
                        kTimeout)
                       .status;
          break;
        case 9:  // no such provider
          status = Http("POST", url, Body("nope/x", i, false), {}, kTimeout).status;
          break;
        default:
          status = Http("POST", url, Body("up/gpt-4o-mini", i, false), {}, kTimeout).status;
      }
      if (status <= 0 || status >= 600) {
        ++transport_errors;
      } else {
        ++by_status[status];
      }
    }
  };
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(transport_errors.load(), 0);
  EXPECT_EQ(by_status[200].load(), 8000);
  EXPECT_EQ(by_status[400].load() + by_status[404].load(), 2000);

  // Requests are counted after their answers left (on their own event loops): wait for all.
  std::string metrics;
  Eventually(
      [&] {
        metrics = Http("GET", gw.base_url + "/metrics", {}, {}, kTimeout).body;
        return MetricMicros(metrics, "modelmux_requests_total", "") / 1'000'000 == kRequests;
      },
      5s);
  const int64_t metric_usd = MetricMicros(metrics, "modelmux_cost_total", "currency=\"USD\"");
  const int64_t metric_cny = MetricMicros(metrics, "modelmux_cost_total", "currency=\"CNY\"");
  const int64_t metric_requests = MetricMicros(metrics, "modelmux_requests_total", "") / 1'000'000;
  EXPECT_EQ(metric_requests, kRequests);
  EXPECT_GT(metric_usd, 0);
  EXPECT_GT(metric_cny, 0);
  // The mix did what it says: cache hits (concurrent first askers may all miss), retries.
  EXPECT_GE(MetricMicros(metrics, "modelmux_cache_requests_total", "result=\"hit\"") / 1'000'000,
            kRequests / 10 - kThreads);
  EXPECT_GT(MetricMicros(metrics, "modelmux_retries_total", "model=\"retried\"") +
                MetricMicros(metrics, "modelmux_fallbacks_total", "model=\"retried\""),
            0);
  // gpt-99 has tokens but no price: counted, so Prometheus spend is known to be incomplete.
  EXPECT_EQ(MetricMicros(metrics, "modelmux_unpriced_requests_total", "") / 1'000'000,
            kRequests / 10);

  ASSERT_EQ(gw.process->Stop(), 0) << gw.process->Describe();  // drains and commits the ledger
  const std::string ledger = data + "/ledger.db";
  json::object report = UsageJson({ledger});
  ASSERT_TRUE(report.contains("total"));
  const json::object& total = report.at("total").as_object();
  EXPECT_EQ(total.at("requests").to_number<int64_t>(), kRequests);
  EXPECT_EQ(total.at("succeeded").to_number<int64_t>(), 8000);
  EXPECT_EQ(CostMicros(total, "USD"), metric_usd);
  EXPECT_EQ(CostMicros(total, "CNY"), metric_cny);
  // Unknown price (gpt-99): tokens without a price. Refused (400) and unrouted (404): no usage.
  // Neither is ever counted as zero-cost.
  EXPECT_EQ(total.at("unpriced_requests").to_number<int64_t>(), 1000);
  EXPECT_EQ(total.at("no_usage_requests").to_number<int64_t>(), 2000);
  // Cache hits cost 0 in the ledger as in the counter (the sums above are equal with them in).
  const int64_t misses =
      MetricMicros(metrics, "modelmux_cache_requests_total",
                   "model=\"" + std::string(kCachedModel) + "\",result=\"miss\"") /
      1'000'000;
  ASSERT_GT(misses, 0);
  json::object by_model = UsageJson({ledger}, {"--by", "model"});
  bool saw_cached = false, saw_retried = false;
  for (const auto& g : by_model.at("groups").as_array()) {
    const json::object& o = g.as_object();
    if (o.at("group").as_string() == kCachedModel) {
      saw_cached = true;
      ASSERT_EQ(o.at("requests").to_number<int64_t>(), kRequests / 10);
      // Every one of them has the same usage (hits carry the stored answer's); only the misses
      // are charged: misses x (prompt x 0.15 + completion x 0.60) / 1M, rounded per request.
      const int64_t prompt = o.at("tokens").at("prompt").to_number<int64_t>() / (kRequests / 10);
      const int64_t completion =
          o.at("tokens").at("completion").to_number<int64_t>() / (kRequests / 10);
      const int64_t one = (prompt * 150'000 + completion * 600'000 + 500'000) / 1'000'000;
      EXPECT_EQ(CostMicros(o, "USD"), misses * one) << "cache hits must cost 0";
      EXPECT_EQ(o.at("unpriced_requests").to_number<int64_t>(), 0);
    }
    if (o.at("group").as_string() == "retried") {
      saw_retried = true;
      EXPECT_EQ(o.at("requests").to_number<int64_t>(), kRequests / 10);
      EXPECT_EQ(o.at("succeeded").to_number<int64_t>(), kRequests / 10);
      EXPECT_GT(CostMicros(o, "USD"), 0);
    }
  }
  EXPECT_TRUE(saw_cached && saw_retried);

  // Two replicas' ledgers are summed; --by provider splits the currencies by provider.
  json::object twice = UsageJson({ledger, ledger}, {"--by", "provider"});
  EXPECT_EQ(twice.at("total").at("requests").to_number<int64_t>(), 2 * kRequests);
  EXPECT_EQ(CostMicros(twice.at("total").as_object(), "USD"), 2 * metric_usd);
  std::map<std::string, json::object> groups;
  for (const auto& g : twice.at("groups").as_array()) {
    groups[std::string(g.at("group").as_string())] = g.as_object();
  }
  ASSERT_TRUE(groups.contains("cn"));
  EXPECT_EQ(CostMicros(groups["cn"], "CNY"), 2 * metric_cny);
  EXPECT_EQ(CostMicros(groups["cn"], "USD"), 0);
  std::printf("[ledger] %d requests in %.1f s; USD %lld micros, CNY %lld micros\n", kRequests,
              seconds, static_cast<long long>(metric_usd), static_cast<long long>(metric_cny));
}

TEST(Ledger, StreamedAndWholeCostTheSame) {
  TempDir dir;
  Service sim = StartSim();
  const std::string data = (dir.path() / "data").string();
  Service gw =
      StartGateway({"--config", dir.Write("c.yaml", Config(sim))}, {{"MODELMUX_DATA_DIR", data}});
  const std::string url = gw.base_url + "/v1/chat/completions";
  HttpResult whole = Http("POST", url, Body("up/gpt-4o-mini", 42, false), {}, kTimeout);
  ASSERT_EQ(whole.status, 200) << whole.body;
  const std::string cost(whole.headers.Get("x-modelmux-cost"));
  ASSERT_FALSE(cost.empty());
  ASSERT_TRUE(cost.ends_with(" USD")) << cost;
  // By hand: gpt-4o-mini at $0.15 / $0.60 per 1M tokens, rounded half up to micro-dollars.
  const json::value usage = ParseJson(whole.body).at("usage");
  const int64_t prompt = usage.at("prompt_tokens").to_number<int64_t>();
  const int64_t completion = usage.at("completion_tokens").to_number<int64_t>();
  const int64_t expected = (prompt * 150'000 + completion * 600'000 + 500'000) / 1'000'000;
  EXPECT_EQ(HeaderMicros(cost), expected) << cost;

  StreamResult streamed = HttpStream("POST", url, Body("up/gpt-4o-mini", 42, true), {}, kTimeout);
  ASSERT_EQ(streamed.status, 200);
  EXPECT_TRUE(streamed.headers.Get("x-modelmux-cost").empty()) << "no cost header on a stream";
  HttpResult unknown = Http("POST", url, Body("up/gpt-99", 1, false), {}, kTimeout);
  ASSERT_EQ(unknown.status, 200);
  EXPECT_EQ(unknown.headers.Get("x-modelmux-cost"), "unknown");

  ASSERT_EQ(gw.process->Stop(), 0);
  json::object report = UsageJson({data + "/ledger.db"}, {"--by", "model"});
  std::map<std::string, json::object> groups;
  for (const auto& g : report.at("groups").as_array()) {
    groups[std::string(g.at("group").as_string())] = g.as_object();
  }
  ASSERT_TRUE(groups.contains("up/gpt-4o-mini"));
  EXPECT_EQ(groups["up/gpt-4o-mini"].at("requests").to_number<int64_t>(), 2);
  EXPECT_EQ(CostMicros(groups["up/gpt-4o-mini"], "USD"), 2 * expected)
      << "the streamed form must cost what the whole one did";
  EXPECT_EQ(groups["up/gpt-4o-mini"].at("tokens").at("prompt").to_number<int64_t>(), 2 * prompt);
  EXPECT_EQ(groups["up/gpt-99"].at("unpriced_requests").to_number<int64_t>(), 1);
}

// Canaries: in the Authorization and x-api-key headers, in the text, in a JSON key field and in
// a data: URL. None of them may reach a log line.
constexpr std::string_view kCanaryAuth = "Bearer sk-CANARYauth0123456789abcdefghij";
constexpr std::string_view kCanaryApiKey = "CANARYxapikey0123456789abcdef";

HeaderList CanaryHeaders(const std::string& request_id) {
  return {{"x-request-id", request_id},
          {"authorization", std::string(kCanaryAuth)},
          {"x-api-key", std::string(kCanaryApiKey)}};
}

std::string CanaryBody(std::string_view model) {
  return ChatBody(model, "my key is sk-proj-CANARYsecret0123456789abcdef",
                  R"("metadata":{"api_key":"CANARY-field-value"})");
}

// A user message with an image part whose data: URL carries the canary in its payload.
std::string CanaryMediaBody(std::string_view model) {
  const std::string url = "data:image/png;base64,iVBORw0KGgoCANARYdataURL" + std::string(200, 'A');
  return R"({"model":")" + std::string(model) +
         R"(","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},)"
         R"({"type":"image_url","image_url":{"url":")" +
         url + R"("}}]}]})";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

TEST(Ledger, UsageEndpointAndRedactedJsonLogs) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim)), "--log-bodies"},
                            {{"MODELMUX_DATA_DIR", (dir.path() / "data").string()}});
  const std::string url = gw.base_url + "/v1/chat/completions";
  HttpResult r =
      Http("POST", url, CanaryBody("up/gpt-4o-mini"), CanaryHeaders("canary-req-1"), kTimeout);
  ASSERT_EQ(r.status, 200) << r.body;
  HttpResult media =
      Http("POST", url, CanaryMediaBody("up/gpt-4o-mini"), CanaryHeaders("canary-req-2"), kTimeout);
  ASSERT_GT(media.status,
            0);  // answered or refused (the image is not a real PNG): logged either way
  HttpResult streamed =
      Http("POST", url, ChatBody("up/gpt-4o-mini", "stream me", R"("stream":true)"),
           CanaryHeaders("canary-req-3"), kTimeout);
  ASSERT_EQ(streamed.status, 200);
  HttpResult unrouted =
      Http("POST", url, CanaryBody("nope/x"), CanaryHeaders("canary-req-4"), kTimeout);
  ASSERT_EQ(unrouted.status, 404);

  // The ledger row is written after the answer left, in the background: wait for it.
  HttpResult usage;
  json::value v;
  Eventually(
      [&] {
        usage = Http("GET", gw.base_url + "/v1/usage?by=day&since=1d", {}, {}, kTimeout);
        v = ParseJson(usage.body);
        if (usage.status != 200 || !v.is_object()) return false;
        const json::value* total = v.as_object().if_contains("total");
        return total && total->is_object() && total->as_object().contains("requests") &&
               total->at("requests").to_number<int64_t>() == 4;
      },
      5s);
  ASSERT_EQ(usage.status, 200) << usage.body;
  ASSERT_TRUE(v.is_object()) << usage.body;
  EXPECT_EQ(v.at("group_by").as_string(), "day");
  EXPECT_EQ(v.at("total").at("requests").to_number<int64_t>(), 4);
  EXPECT_EQ(Http("GET", gw.base_url + "/v1/usage?by=key", {}, {}, kTimeout).status, 400);

  ASSERT_EQ(gw.process->Stop(), 0);
  // Every line of stderr is one JSON object with a request id; no canary anywhere.
  std::map<std::string, json::object> by_id;
  const auto lines = Lines(gw.process->stderr_tail());
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find("CANARY"), std::string::npos) << line;
    const json::value parsed = ParseJson(line);
    ASSERT_TRUE(parsed.is_object()) << "not a JSON line: " << line;
    const json::value* id = parsed.as_object().if_contains("request_id");
    ASSERT_TRUE(id != nullptr && id->is_string() && !id->as_string().empty()) << line;
    by_id[std::string(id->as_string())] = parsed.as_object();
  }
  for (const char* id : {"canary-req-1", "canary-req-2", "canary-req-3", "canary-req-4"}) {
    ASSERT_TRUE(by_id.contains(id)) << id << "\n" << gw.process->stderr_tail();
    EXPECT_TRUE(by_id[id].contains("request_body")) << id;
    EXPECT_TRUE(by_id[id].contains("response_body")) << id;
  }
  // The media part was elided, not logged.
  const std::string media_body(by_id["canary-req-2"].at("request_body").as_string());
  EXPECT_NE(media_body.find("bytes>"), std::string::npos) << media_body;
  const json::object& ok = by_id["canary-req-1"];
  for (const char* field : {"prompt_tokens", "completion_tokens", "cached_tokens",
                            "cache_write_tokens", "reasoning_tokens", "tokens"}) {
    EXPECT_TRUE(ok.contains(field)) << field;
  }
}

TEST(Ledger, HumanLogIsTheSeedsTwoLinesPlusBodies) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway(
      {"--config", dir.Write("c.yaml", Config(sim)), "--log-format", "human", "--log-bodies"},
      {{"MODELMUX_DATA_DIR", (dir.path() / "data").string()}});
  const std::string url = gw.base_url + "/v1/chat/completions";
  ASSERT_EQ(
      Http("POST", url, CanaryBody("up/gpt-4o-mini"), CanaryHeaders("human-1"), kTimeout).status,
      200);
  ASSERT_GT(Http("POST", url, CanaryMediaBody("up/gpt-4o-mini"), CanaryHeaders("human-2"), kTimeout)
                .status,
            0);
  ASSERT_EQ(Http("POST", url, CanaryBody("nope/x"), CanaryHeaders("human-3"), kTimeout).status,
            404);
  ASSERT_EQ(gw.process->Stop(), 0);

  const std::string ts = R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] )";
  const std::regex request(ts + R"(REQUEST: model=[^,]+, prompt_len=\d+, tokens=\d+, )"
                                R"(cost=(\$[0-9.]+|unknown), request_id=(\S+)$)");
  const std::regex request_body(ts + R"(REQUEST_BODY: .+, request_id=(\S+)$)");
  const std::regex response(ts + R"(RESPONSE: status=(\d+), latency=[0-9.e+-]+s)"
                                 R"((, error=\S+)?, request_id=(\S+)$)");
  const std::regex response_body(ts + R"(RESPONSE_BODY: .+, request_id=(\S+)$)");
  std::map<std::string, std::string> seen;  // request id -> the kinds of its lines, in order
  for (const std::string& line : Lines(gw.process->stderr_tail())) {
    EXPECT_EQ(line.find("CANARY"), std::string::npos) << line;
    std::smatch m;
    if (std::regex_match(line, m, request)) {
      seen[m[2]] += "Q";
    } else if (std::regex_match(line, m, request_body)) {
      seen[m[1]] += "q";
    } else if (std::regex_match(line, m, response)) {
      seen[m[3]] += "R";
    } else if (std::regex_match(line, m, response_body)) {
      seen[m[1]] += "r";
    } else {
      ADD_FAILURE() << "not a log line of the human form: " << line;
    }
  }
  // Each request: REQUEST, its body, RESPONSE, its body, in that order.
  for (const char* id : {"human-1", "human-2", "human-3"}) {
    EXPECT_EQ(seen[id], "QqRr") << id << "\n" << gw.process->stderr_tail();
  }
}

}  // namespace
}  // namespace modelmux::testing
