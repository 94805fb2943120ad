// The response cache from the built binary (docs/CACHE.md): `modelmux serve` in front of a
// `modelmux sim` (which counts every upstream call in /sim/stats), with the embedded default
// backend (memory in front of SQLite in the data directory) and with a real redis-server started
// here on a free loopback port.

#include <gtest/gtest.h>

#include <thread>

#include "answers.hpp"
#include "store/redis_test_server.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 20s;

int64_t SimTotal(const Service& sim) {
  json::value v = ParseJson(Http("GET", sim.base_url + "/sim/stats", {}, {}, kTimeout).body);
  return v.is_object() ? v.at("total").to_number<int64_t>() : -1;
}

std::string Config(const Service& sim, std::string_view extra = {}) {
  return "providers:\n  up: {type: openai, base_url: \"" + sim.base_url +
         "/v1\", api_key: sk-test}\n" + std::string(extra);
}

// A deterministic request (temperature 0): cacheable under the default policy.
std::string Body(std::string_view prompt, std::string_view extra = {}) {
  return R"({"model":"up/gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":")" +
         std::string(prompt) + "\"}]" + std::string(extra) + "}";
}

HttpResult Post(const Service& gw, const std::string& body, HeaderList headers = {}) {
  return Http("POST", gw.base_url + "/v1/chat/completions", body, std::move(headers), kTimeout);
}

std::string CacheHeader(const HttpResult& r) {
  return std::string(r.headers.Get("x-modelmux-cache"));
}

std::string Content(const HttpResult& r) {
  json::value v = ParseJson(r.body);
  if (!v.is_object()) return {};
  return std::string(v.at("choices").at(0).at("message").at("content").as_string());
}

// The content deltas of an SSE body, one per chunk, in order.
std::vector<std::string> Deltas(const std::string& sse) {
  std::vector<std::string> out;
  for (const auto& data : SseData(sse)) {
    if (data == "[DONE]") continue;
    json::value v = ParseJson(data);
    if (!v.is_object()) continue;
    const auto& choices = v.at("choices").as_array();
    if (choices.empty()) continue;
    const json::value* c = choices[0].at("delta").as_object().if_contains("content");
    if (c && c->is_string()) out.emplace_back(c->get_string());
  }
  return out;
}

TEST(Cache, SecondIdenticalRequestIsAHitAndCostsNoUpstreamCall) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))});
  HttpResult first = Post(gw, Body("what is a river?"));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(CacheHeader(first), "miss");
  const int64_t calls = SimTotal(sim);
  HttpResult second = Post(gw, Body("what is a river?"));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(CacheHeader(second), "hit");
  EXPECT_EQ(Content(second), Content(first));
  EXPECT_EQ(SimTotal(sim), calls) << "a hit must not reach the provider";

  // Another prompt, another key; a non-deterministic request is not cached at all.
  EXPECT_EQ(CacheHeader(Post(gw, Body("what is a lake?"))), "miss");
  HttpResult warm = Post(gw, R"({"model":"up/gpt-4o-mini","temperature":0.9,)"
                             R"("messages":[{"role":"user","content":"what is a river?"}]})");
  EXPECT_EQ(CacheHeader(warm), "bypass");

  // Metrics: the hit is counted, with the tokens it saved.
  HttpResult m = Http("GET", gw.base_url + "/metrics", {}, {}, kTimeout);
  EXPECT_NE(m.body.find("modelmux_cache_requests_total{model=\"up/gpt-4o-mini\",result=\"hit\"} 1"),
            std::string::npos)
      << m.body.substr(0, 2000);
  EXPECT_NE(m.body.find(
                "modelmux_cache_saved_tokens_total{model=\"up/gpt-4o-mini\",kind=\"completion\"}"),
            std::string::npos);
}

TEST(Cache, CacheControlAndNamespaceAreHonoured) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))});
  const std::string body = Body("cache control");
  // no-store: answered, not stored.
  EXPECT_EQ(CacheHeader(Post(gw, body, {{"cache-control", "no-store"}})), "miss");
  EXPECT_EQ(CacheHeader(Post(gw, body)), "miss");
  EXPECT_EQ(CacheHeader(Post(gw, body)), "hit");
  // no-cache: no lookup (a fresh answer), stored again.
  const int64_t before = SimTotal(sim);
  EXPECT_EQ(CacheHeader(Post(gw, body, {{"cache-control", "no-cache"}})), "miss");
  EXPECT_EQ(SimTotal(sim), before + 1);
  // Another namespace never sees this one's entries.
  EXPECT_EQ(CacheHeader(Post(gw, body, {{"x-modelmux-cache-namespace", "team-b"}})), "miss");
  EXPECT_EQ(CacheHeader(Post(gw, body, {{"x-modelmux-cache-namespace", "team-b"}})), "hit");
  // A bad TTL is the caller's error, named.
  HttpResult bad = Post(gw, body, {{"x-modelmux-cache-ttl", "soon"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("x-modelmux-cache-ttl"), std::string::npos) << bad.body;
}

TEST(Cache, HundredConcurrentIdenticalRequestsMakeOneUpstreamCall) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))});
  const int64_t before = SimTotal(sim);
  const std::string body = Body("all at once");
  std::vector<std::thread> threads;
  std::vector<HttpResult> results(100);
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      // The upstream takes 800 ms, so the others arrive while the first is in flight.
      results[i] = Post(gw, body, {{"x-sim-latency-ms", "800"}});
    });
  }
  for (auto& t : threads) t.join();
  int misses = 0, hits = 0;
  for (const auto& r : results) {
    ASSERT_EQ(r.status, 200) << r.body;
    misses += CacheHeader(r) == "miss";
    hits += CacheHeader(r) == "hit";
    EXPECT_EQ(Content(r), Content(results[0]));
  }
  EXPECT_EQ(SimTotal(sim) - before, 1) << "single-flight: one upstream call for 100 requests";
  EXPECT_EQ(misses, 1);
  EXPECT_EQ(hits, 99);
}

TEST(Cache, StreamReplaysWithItsChunksAndACutStreamIsNotStored) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))});
  const std::string body = Body("stream me", R"(,"stream":true)");
  StreamResult first = HttpStream("POST", gw.base_url + "/v1/chat/completions", body, {}, kTimeout);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.headers.Get("x-modelmux-cache"), "miss");
  const int64_t calls = SimTotal(sim);
  StreamResult again = HttpStream("POST", gw.base_url + "/v1/chat/completions", body, {}, kTimeout);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.headers.Get("x-modelmux-cache"), "hit");
  EXPECT_EQ(SimTotal(sim), calls);
  const auto a = Deltas(first.Body()), b = Deltas(again.Body());
  EXPECT_GT(a.size(), 3u) << "replayed chunk by chunk, not as one piece";
  EXPECT_EQ(a, b);
  // The stored stream also answers the whole (non-streamed) form of the request.
  HttpResult whole = Post(gw, Body("stream me"));
  EXPECT_EQ(CacheHeader(whole), "hit");
  std::string joined;
  for (const auto& d : a) joined += d;
  EXPECT_EQ(Content(whole), joined);

  // A stream cut by the upstream is never stored: the next identical request is a miss.
  const std::string cut_body = Body("cut me", R"(,"stream":true)");
  StreamResult cut = HttpStream("POST", gw.base_url + "/v1/chat/completions", cut_body,
                                {{"x-sim-cut-after", "2"}}, kTimeout);
  ASSERT_EQ(cut.status, 200);
  EXPECT_NE(cut.Body().find("stream_cut"), std::string::npos) << cut.Body();
  StreamResult after =
      HttpStream("POST", gw.base_url + "/v1/chat/completions", cut_body, {}, kTimeout);
  EXPECT_EQ(after.headers.Get("x-modelmux-cache"), "miss");
}

TEST(Cache, SqliteEntriesSurviveARestartAndTheCliCleansThemUp) {
  TempDir dir;
  TempDir data;
  Service sim = StartSim();
  const std::string config = dir.Write("c.yaml", Config(sim));
  {
    Service gw = StartGateway({"--config", config}, {{"MODELMUX_DATA_DIR", data.path().string()}});
    EXPECT_EQ(CacheHeader(Post(gw, Body("persist me"))), "miss");
    EXPECT_EQ(CacheHeader(Post(gw, Body("and me"))), "miss");
  }
  {
    Service gw = StartGateway({"--config", config}, {{"MODELMUX_DATA_DIR", data.path().string()}});
    EXPECT_EQ(CacheHeader(Post(gw, Body("persist me"))), "hit") << "read back from SQLite";
    // The admin API (loopback, no master key set).
    HttpResult stats = Http("GET", gw.base_url + "/admin/cache/stats", {}, {}, kTimeout);
    ASSERT_EQ(stats.status, 200) << stats.body;
    json::value st = ParseJson(stats.body);
    EXPECT_EQ(st.at("entries").to_number<int64_t>(), 2) << stats.body;
    // Per model: this process saw one hit of the model as the caller named it.
    const json::value& m = st.at("models").at("up/gpt-4o-mini");
    EXPECT_EQ(m.at("hits").to_number<int64_t>(), 1) << stats.body;
    EXPECT_GT(m.at("saved_completion_tokens").to_number<int64_t>(), 0) << stats.body;
    EXPECT_GT(m.at("saved_cost").to_number<double>(), 0) << stats.body;
    EXPECT_EQ(m.at("currency"), json::value("USD")) << stats.body;
  }
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "cache");
    args.insert(args.end(), {"--config", config, "--data-dir", data.path().string()});
    auto p = Process::Start(ModelmuxBin(), args);
    EXPECT_EQ(p->Wait(20s), 0) << p->Describe();
    auto lines = p->stdout_lines();
    return lines.empty() ? json::value() : ParseJson(lines.back());
  };
  json::value listed = run({"list"});
  ASSERT_TRUE(listed.is_object());
  EXPECT_EQ(listed.at("data").as_array().size(), 2u);
  EXPECT_EQ(run({"purge", "--model", "gpt-4o-mini"}).at("purged").to_number<int64_t>(), 2);
  EXPECT_EQ(run({"stats"}).at("entries").to_number<int64_t>(), 0);
}

TEST(Cache, RedisIsSharedByReplicasAndItsLossIsServedAsMisses) {
  auto redis = store::testing::RedisServer::Start();
  ASSERT_TRUE(redis) << "redis-server did not start";
  TempDir dir;
  Service sim = StartSim();
  const std::string config = dir.Write("c.yaml", Config(sim, "cache: {backend: redis}\n"));
  const std::string url = "redis://" + redis->address();
  Service a = StartGateway({"--config", config, "--redis", url});
  Service b = StartGateway({"--config", config}, {{"MODELMUX_REDIS_URL", url}});
  EXPECT_EQ(CacheHeader(Post(a, Body("shared"))), "miss");
  const int64_t calls = SimTotal(sim);
  EXPECT_EQ(CacheHeader(Post(b, Body("shared"))), "hit") << "the other replica's entry";
  EXPECT_EQ(SimTotal(sim), calls);

  // Redis paused: requests still succeed (as misses), quickly; readiness says degraded.
  redis->Pause();
  for (int i = 0; i < 8; ++i) {
    const auto start = std::chrono::steady_clock::now();
    HttpResult r = Post(a, Body("while redis sleeps " + std::to_string(i)));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  }
  HttpResult ready = Http("GET", a.base_url + "/readyz", {}, {}, kTimeout);
  EXPECT_NE(ready.body.find("degraded"), std::string::npos) << ready.body;
  redis->Resume();
  // It recovers by itself.
  EXPECT_TRUE(Eventually(
      [&] {
        return Http("GET", a.base_url + "/readyz", {}, {}, kTimeout).body.find("\"ok\"") !=
               std::string::npos;
      },
      10s));
  EXPECT_EQ(CacheHeader(Post(a, Body("shared"))), "hit");
}

}  // namespace
}  // namespace modelmux::testing
