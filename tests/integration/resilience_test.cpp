// Resilience of the attempt loop, proven from the built binary over loopback (issue 5,
// reliability.md 3, 4, 8-18): retries through a partial outage, the retry budget under a total
// one, outlier ejection and recovery, client-side rate limits against a rate-limited upstream,
// the whole-call deadline, a stream cut mid-way, fallbacks and the upstream's x-should-retry.
// Upstreams: `modelmux sim` processes (counted by /sim/stats) and, where the simulator cannot
// say it, a small fake upstream that answers every request with one fixed response.

#include <gtest/gtest.h>
#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kShort = 10s;
using Clock = std::chrono::steady_clock;

// ---- helpers ----------------------------------------------------------------------------------

int64_t IntAt(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) {
    if (!cur->is_object()) return 0;
    cur = cur->get_object().if_contains(key);
    if (cur == nullptr) return 0;
  }
  return cur->is_int64() ? cur->get_int64() : 0;
}

json::value SimStats(const Service& sim) {
  return ParseJson(Http("GET", sim.base_url + "/sim/stats", {}, {}, kShort).body);
}
int64_t SimTotal(const Service& sim) {
  return IntAt(SimStats(sim), {"total"});
}
int64_t SimStatus(const Service& sim, std::string_view status) {
  return IntAt(SimStats(sim), {"by_status", status});
}

// `name: {type: openai, base_url: URL/v1, api_key: sk-test}` for a providers: block.
std::string ProviderLine(std::string_view name, const std::string& base_url) {
  return "  " + std::string(name) + ": {type: openai, base_url: \"" + base_url +
         "/v1\", api_key: sk-test}\n";
}

Service StartGatewayWith(const TempDir& dir, const std::string& yaml) {
  return StartGateway({"--config", dir.Write("modelmux.yaml", yaml)});
}

int Attempts(const HttpResult& r) {
  return std::atoi(std::string(r.headers.Get("x-modelmux-attempts")).c_str());
}

HttpResult PostChat(const Service& gw, std::string_view model, HeaderList headers = {},
                    std::chrono::milliseconds timeout = kShort) {
  return Http("POST", gw.base_url + "/v1/chat/completions", ChatBody(model, "hello there"),
              std::move(headers), timeout);
}

// An upstream that answers every request (one per connection) with `response` and counts them.
class FakeUpstream {
 public:
  explicit FakeUpstream(std::string response) : response_(std::move(response)) {
    listen_fd_ = ListenOnLoopback(16, port_, "fake upstream");
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  [[nodiscard]] std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int requests() const { return requests_; }
  // The value of header `name` (lower case) in each request received, in order ("" if absent).
  [[nodiscard]] std::vector<std::string> HeaderValues(std::string_view name) const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    const std::string needle = "\r\n" + std::string(name) + ":";
    for (const auto& head : heads_) {
      auto at = head.find(needle);
      if (at == std::string::npos) {
        out.emplace_back();
        continue;
      }
      at += needle.size();
      auto end = head.find("\r\n", at);
      std::string v = head.substr(at, end - at);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      out.push_back(v);
    }
    return out;
  }

  // A whole HTTP/1.1 response with a JSON body and `connection: close`.
  static std::string Response(int status, std::string_view reason, std::string_view body,
                              std::string_view extra_headers = {}) {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
           "\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: " +
           std::to_string(body.size()) + "\r\n" + std::string(extra_headers) + "\r\n" +
           std::string(body);
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
    auto deadline = Clock::now() + 5s;
    std::string in;
    size_t need = std::string::npos;
    char buf[16384];
    while (!stop_ && Clock::now() < deadline) {
      if (need == std::string::npos) {
        if (auto end = in.find("\r\n\r\n"); end != std::string::npos) {
          std::string lower = in.substr(0, end + 4);
          for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          auto cl = lower.find("\r\ncontent-length:");
          need = end + 4 +
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
      std::string head = in.substr(0, in.find("\r\n\r\n") + 2);
      for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::lock_guard lock(mu_);
      heads_.push_back(std::move(head));  // lower-cased: names and values
    }
    ++requests_;
    std::string_view out = response_;
    while (!out.empty()) {
      ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      out.remove_prefix(static_cast<size_t>(n));
    }
    ::shutdown(fd, SHUT_WR);
  }

  std::string response_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::vector<std::string> heads_;  // guarded by mu_
};

// A sample's value in the gateway's /metrics text (`series` is the name with its labels as
// rendered, e.g. `modelmux_x{model="chat"}`); -1 when absent.
double MetricValue(const Service& gw, const std::string& series) {
  const std::string text = Http("GET", gw.base_url + "/metrics", {}, {}, kShort).body;
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n')
      return std::strtod(text.c_str() + at + series.size(), nullptr);
    at += series.size();
  }
  return -1;
}

// ---- a. a partial outage is retried through --------------------------------------------------

TEST(Resilience, ThirtyPercent429sWithRetryAfterAllSucceedWithinTheBudget) {
  TempDir dir;
  Service sim = StartSim({"--fail-rate", "0.3", "--fail-status", "429", "--retry-after-ms", "20"});
  Service gw = StartGatewayWith(dir, "providers:\n" + ProviderLine("up", sim.base_url) +
                                         "models:\n"
                                         "  - name: chat\n"
                                         "    deployments: [{provider: up, model: gpt-4o-mini}]\n");
  constexpr int kN = 100;
  int ok = 0, retried = 0, attempts_sum = 0;
  for (int i = 0; i < kN; ++i) {
    auto r = PostChat(gw, "chat");
    ok += r.status == 200 ? 1 : 0;
    EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.body;
    retried += Attempts(r) > 1 ? 1 : 0;
    attempts_sum += Attempts(r);
  }
  const int64_t upstream = SimTotal(sim);
  RecordProperty("upstream_attempts", static_cast<int>(upstream));
  std::cout << "[ 30% 429 ] " << kN << " requests: " << ok << " ok, " << retried
            << " retried, upstream attempts " << upstream << "\n";
  EXPECT_EQ(ok, kN);
  EXPECT_LE(upstream, kN * 3 / 2) << "upstream attempts for " << kN << " requests";
  EXPECT_GT(upstream, kN);  // the simulator did fail some
  EXPECT_GT(retried, 0);
  // What the caller was told matches what the upstream saw, and every failure was a 429.
  EXPECT_EQ(attempts_sum, upstream);
  EXPECT_EQ(SimStatus(sim, "429"), upstream - kN);
  EXPECT_EQ(SimStatus(sim, "200"), kN);
}

// ---- b. a total outage is not amplified -------------------------------------------------------

TEST(Resilience, HundredPercent500sCostAtMostOnePointTwoAttemptsPerRequest) {
  TempDir dir;
  Service sim = StartSim({"--fail-rate", "1", "--fail-status", "500"});
  Service gw = StartGatewayWith(dir, "providers:\n" + ProviderLine("up", sim.base_url) +
                                         "models:\n"
                                         "  - name: chat\n"
                                         "    deployments: [{provider: up, model: gpt-4o-mini}]\n"
                                         "router:\n"
                                         "  retry_base: 10ms\n");
  constexpr int kN = 100;
  std::map<int, int> statuses;
  int no_retry_header = 0;
  for (int i = 0; i < kN; ++i) {
    auto r = PostChat(gw, "chat");
    ++statuses[r.status];
    no_retry_header += r.headers.Get("x-should-retry") == "false" ? 1 : 0;
    if (i == 0) {
      auto e = ExpectOpenAiError(r.body);
      EXPECT_EQ(Str(e["type"]), "upstream_error") << r.body;
    }
  }
  // An upstream 500 is the gateway's 502, told not to be retried by the caller's SDK.
  EXPECT_EQ(statuses[502], kN) << "statuses seen: " << statuses.size();
  EXPECT_EQ(no_retry_header, kN);
  const int64_t upstream = SimTotal(sim);
  RecordProperty("upstream_attempts", static_cast<int>(upstream));
  std::cout << "[ 100% 500 ] " << kN << " requests: " << statuses[502]
            << " x 502, upstream attempts " << upstream << "\n";
  EXPECT_LE(upstream, kN * 12 / 10);
  EXPECT_GT(upstream, kN);  // the first failures were retried while the budget lasted
  EXPECT_EQ(SimStatus(sim, "500"), upstream);
}

// ---- c. one of three deployments failing: ejected, traffic shifts, it comes back ---------------

TEST(Resilience, FailingDeploymentIsEjectedAndComesBackWhenHealthy) {
  TempDir dir;
  Service s1 = StartSim();
  Service s2 = StartSim();
  auto bad = std::make_unique<Service>(StartSim({"--fail-rate", "1", "--fail-status", "503"}));
  const uint16_t bad_port = bad->address.port;
  Service gw = StartGatewayWith(
      dir, "providers:\n" + ProviderLine("s1", s1.base_url) + ProviderLine("s2", s2.base_url) +
               ProviderLine("s3", bad->base_url) +
               "models:\n"
               "  - name: chat\n"
               "    deployments:\n"
               "      - {provider: s1, model: gpt-4o-mini}\n"
               "      - {provider: s2, model: gpt-4o-mini}\n"
               "      - {provider: s3, model: gpt-4o-mini}\n"
               "router:\n"
               "  retry_base: 10ms\n"
               "  outlier: {consecutive_failures: 3, base_ejection: 1s, max_ejection: 2s}\n");

  // Phase 1: the third deployment fails every call; callers never see it.
  constexpr int kN = 60;
  const auto begin = Clock::now();
  int ok = 0;
  for (int i = 0; i < kN; ++i) {
    auto r = PostChat(gw, "chat");
    ok += r.status == 200 ? 1 : 0;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.headers.Get("x-modelmux-deployment"), "s3/gpt-4o-mini");
  }
  const double secs = std::chrono::duration<double>(Clock::now() - begin).count();
  const int64_t bad_hits = SimTotal(*bad);
  const int64_t good_hits = SimTotal(s1) + SimTotal(s2);
  EXPECT_EQ(ok, kN);
  EXPECT_EQ(good_hits, kN);
  // 3 failures, then ejected for 1 s (then 2 s): at most 3 per ejection cycle.
  const int cycles = 1 + static_cast<int>(secs);
  EXPECT_GE(bad_hits, 3);
  EXPECT_LE(bad_hits, 3 * cycles) << "in " << secs << " s";
  RecordProperty("bad_hits_phase1", static_cast<int>(bad_hits));
  std::cout << "[ ejection ] " << kN << " requests in " << secs << " s: failing deployment got "
            << bad_hits << ", the healthy two " << good_hits << "\n";

  // Phase 2: a healthy simulator on the same port; after its ejection ends it gets traffic.
  bad.reset();
  Service healed;
  for (int i = 0; i < 20 && !healed.process; ++i) {
    try {
      auto p = Process::Start(ModelmuxBin(), {"sim", "--port", std::to_string(bad_port)});
      healed.address = p->WaitForListening(5s);
      healed.base_url = BaseUrl(healed.address);
      healed.process = std::move(p);
    } catch (const std::exception&) {
      std::this_thread::sleep_for(100ms);  // the port is still held
    }
  }
  ASSERT_TRUE(healed.process) << "could not restart a simulator on port " << bad_port;
  const auto heal_begin = Clock::now();
  int failed = 0;
  bool back = Eventually(
      [&] {
        for (int i = 0; i < 5; ++i) failed += PostChat(gw, "chat").status == 200 ? 0 : 1;
        return SimStatus(healed, "200") >= 3;
      },
      8s);
  std::cout << "[ ejection ] healed deployment answered " << SimStatus(healed, "200") << " within "
            << std::chrono::duration<double>(Clock::now() - heal_begin).count()
            << " s of its restart\n";
  EXPECT_TRUE(back) << "the healed deployment got " << SimTotal(healed) << " requests in "
                    << std::chrono::duration<double>(Clock::now() - heal_begin).count() << " s";
  EXPECT_EQ(failed, 0);
}

// ---- d. client-side rate limits keep a burst under the upstream's limit -----------------------

struct BurstResult {
  int ok = 0;
  int shed = 0;  // the gateway's fast 429
  int shed_with_retry_after = 0;
  std::map<int, int> others;  // any other status
  double secs = 0;
  int64_t sim_total = 0, sim_200 = 0, sim_429 = 0;
};

// `requests` chat calls from `threads` client threads through a deployment limited to 600 per
// 2 s, in front of a simulator limited the same way.
BurstResult Burst(std::string_view queue_timeout, int requests, int threads) {
  TempDir dir;
  Service sim = StartSim({"--rpm", "600", "--window-s", "2"});
  Service gw = StartGatewayWith(
      dir, "providers:\n" + ProviderLine("up", sim.base_url) +
               "models:\n"
               "  - name: chat\n"
               "    deployments: [{provider: up, model: gpt-4o-mini, rpm: 600, rate_window: 2s}]\n"
               "router:\n"
               "  queue_timeout: " +
               std::string(queue_timeout) + "\n");
  std::atomic<int> next{0}, ok{0}, shed{0}, shed_with_retry_after{0};
  std::mutex mu;
  BurstResult out;
  const auto begin = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (next++ < requests) {
        auto r = PostChat(gw, "chat", {}, 15s);
        if (r.status == 200) {
          ++ok;
        } else if (r.status == 429) {
          ++shed;
          shed_with_retry_after += r.headers.Get("retry-after").empty() ? 0 : 1;
        } else {
          std::lock_guard lock(mu);
          ++out.others[r.status];
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  out.secs = std::chrono::duration<double>(Clock::now() - begin).count();
  out.ok = ok.load();
  out.shed = shed.load();
  out.shed_with_retry_after = shed_with_retry_after.load();
  out.sim_total = SimTotal(sim);
  out.sim_200 = SimStatus(sim, "200");
  out.sim_429 = SimStatus(sim, "429");
  std::cout << "[ rate limit ] queue_timeout " << queue_timeout << ", " << requests
            << " requests from " << threads << " threads in " << out.secs << " s: " << out.ok
            << " ok, " << out.shed << " fast 429, " << out.others.size()
            << " other statuses; the simulator saw " << out.sim_total << " (" << out.sim_429
            << " x 429)\n";
  return out;
}

void ExpectPacedWithoutUpstream429s(const BurstResult& b, int requests) {
  EXPECT_EQ(b.sim_429, 0) << "the upstream had to refuse";
  EXPECT_EQ(b.ok + b.shed, requests) << "other statuses: " << b.others.size();
  EXPECT_EQ(b.shed_with_retry_after, b.shed);
  EXPECT_EQ(b.sim_200, b.ok);
  EXPECT_EQ(b.sim_total, b.ok);  // a shed call never reached the upstream
  // Paced: no more than 600 per 2 s got through (the first one at once).
  EXPECT_LE(b.ok, static_cast<int>(300 * b.secs) + 1);
}

// A queue long enough for every client thread: all 2,000 are paced through (about 6.7 s).
TEST(Resilience, RateLimitedDeploymentNeverMakesTheUpstreamAnswer429) {
  BurstResult b = Burst("1s", 2000, 64);
  ExpectPacedWithoutUpstream429s(b, 2000);
  EXPECT_EQ(b.ok, 2000);
}

// A 100 ms queue holds about 30 calls: the other client threads get the fast 429.
TEST(Resilience, PastTheQueueBoundCallersGetAFast429WithRetryAfter) {
  BurstResult b = Burst("100ms", 600, 64);
  ExpectPacedWithoutUpstream429s(b, 600);
  EXPECT_GT(b.shed, 0);
  EXPECT_GT(b.ok, 0);
}

// ---- e. the deadline covers the whole call -----------------------------------------------------

TEST(Resilience, TwoSecondDeadlineAnswersWithin2250MsWhenTheUpstreamStalls) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGatewayWith(dir, "providers:\n" + ProviderLine("up", sim.base_url) +
                                         "models:\n"
                                         "  - name: chat\n"
                                         "    deployments: [{provider: up, model: gpt-4o-mini}]\n"
                                         "router:\n"
                                         "  timeout: 2s\n");
  for (const char* at : {"headers", "body"}) {
    const int64_t before = SimTotal(sim);
    const auto begin = Clock::now();
    auto r = PostChat(gw, "chat", {{"x-sim-stall-ms", "10000"}, {"x-sim-stall-at", at}});
    const auto took = Clock::now() - begin;
    std::cout << "[ deadline ] stall at " << at << ": " << r.status << " after "
              << std::chrono::duration<double, std::milli>(took).count() << " ms\n";
    EXPECT_EQ(r.status, 504) << at << ": " << r.body;
    // The stall after a 200 head is read inside the attempt too: the same final error.
    EXPECT_EQ(r.headers.Get("x-should-retry"), "false") << at;
    EXPECT_LE(took, 2250ms) << at;
    EXPECT_GE(took, 1900ms) << at;
    EXPECT_EQ(SimTotal(sim) - before, 1) << at;  // the upstream got it once: no retry past it
    json::value line = RequestLogLine(gw, std::string(r.headers.Get("x-request-id")));
    ASSERT_TRUE(line.is_object()) << gw.process->stderr_tail();
    EXPECT_EQ(IntAt(line, {"status"}), 504);
  }
}

// ---- f. a stream cut mid-way ends with an error event ------------------------------------------

TEST(Resilience, StreamCutAfterThreeChunksEndsWithAnErrorEventAndIsLogged) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGatewayWith(dir, "providers:\n" + ProviderLine("up", sim.base_url) +
                                         "models:\n"
                                         "  - name: chat\n"
                                         "    deployments: [{provider: up, model: gpt-4o-mini}]\n");
  auto r = HttpStream(
      "POST", gw.base_url + "/v1/chat/completions",
      ChatBody("chat", "cut me", R"("stream":true,"stream_options":{"include_usage":true})"),
      {{"x-sim-cut-after", "3"}}, kShort);
  ASSERT_EQ(r.status, 200) << r.Body();
  int chunks = 0, errors = 0, after_error = 0;
  bool done = false;
  std::string error_code;
  for (const auto& d : SseData(r.Body())) {
    if (d == "[DONE]") {
      done = true;
      continue;
    }
    json::value v = ParseJson(d);
    ASSERT_TRUE(v.is_object()) << d;
    if (const auto* e = v.get_object().if_contains("error")) {
      ++errors;
      error_code = Str(e->at("code"));
    } else {
      after_error += errors;
      ++chunks;
    }
  }
  EXPECT_EQ(chunks, 3) << r.Body();
  EXPECT_EQ(errors, 1) << r.Body();
  EXPECT_EQ(after_error, 0) << r.Body();
  EXPECT_FALSE(done) << r.Body();
  EXPECT_EQ(error_code, "stream_cut");
  EXPECT_EQ(SimTotal(sim), 1);  // never replayed
  json::value line = RequestLogLine(gw, std::string(r.headers.Get("x-request-id")));
  ASSERT_TRUE(line.is_object()) << gw.process->stderr_tail();
  EXPECT_EQ(Str(line.at("error").at("code")), "stream_cut");
  EXPECT_TRUE(line.at("stream").is_bool() && line.at("stream").get_bool());
  // The partial usage is recorded (reliability.md 13), marked as an estimate: the prompt, and
  // the three chunks' text that reached the caller.
  ASSERT_TRUE(line.get_object().contains("completion_tokens")) << json::serialize(line);
  EXPECT_GT(line.at("prompt_tokens").to_number<int64_t>(), 0);
  EXPECT_GE(line.at("completion_tokens").to_number<int64_t>(), 3);
  EXPECT_TRUE(line.at("usage_estimated").as_bool());
}

// ---- g. fallbacks ---------------------------------------------------------------------------

TEST(Resilience, OutageFallsBackToTheNextAliasAndContextLengthToTheLongerModel) {
  TempDir dir;
  Service good = StartSim();
  Service down = StartSim({"--fail-rate", "1", "--fail-status", "503"});
  FakeUpstream too_long(FakeUpstream::Response(
      400, "Bad Request",
      R"({"error":{"message":"This model's maximum context length is 8192 tokens.",)"
      R"("type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}})"));
  Service gw =
      StartGatewayWith(dir, "providers:\n" + ProviderLine("good", good.base_url) +
                                ProviderLine("down", down.base_url) +
                                "  short: {type: openai, base_url: \"" + too_long.base_url() +
                                "/v1\", api_key: sk-test}\n"
                                "models:\n"
                                "  - name: a\n"
                                "    deployments: [{provider: down, model: model-a}]\n"
                                "    fallbacks: [b]\n"
                                "  - name: b\n"
                                "    deployments: [{provider: good, model: model-b}]\n"
                                "  - name: small\n"
                                "    deployments: [{provider: short, model: small-ctx}]\n"
                                "    fallbacks: [b]\n"
                                "    context_window_fallback: long\n"
                                "  - name: long\n"
                                "    deployments: [{provider: good, model: long-ctx}]\n"
                                "router:\n"
                                "  retry_base: 10ms\n");
  auto r = PostChat(gw, "a");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "good/model-b");
  EXPECT_EQ(IntAt(SimStats(good), {"by_model", "model-b"}), 1);
  const int64_t down_hits = SimTotal(down);
  EXPECT_GE(down_hits, 1);
  EXPECT_LE(down_hits, 3);  // the first attempt and at most num_retries (2) more
  EXPECT_EQ(Attempts(r), down_hits + 1);
  json::value line = RequestLogLine(gw, std::string(r.headers.Get("x-request-id")));
  ASSERT_TRUE(line.is_object()) << gw.process->stderr_tail();
  EXPECT_EQ(Str(line.at("fallback")), "b");
  EXPECT_EQ(IntAt(line, {"attempts"}), down_hits + 1);

  // A context-length error is not retried and skips the ordinary fallbacks.
  auto c = PostChat(gw, "small");
  EXPECT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.headers.Get("x-modelmux-deployment"), "good/long-ctx");
  EXPECT_EQ(too_long.requests(), 1);
  EXPECT_EQ(IntAt(SimStats(good), {"by_model", "long-ctx"}), 1);
  EXPECT_EQ(IntAt(SimStats(good), {"by_model", "model-b"}), 1);
  EXPECT_EQ(Attempts(c), 2);
}

// ---- h. the upstream's x-should-retry: false is obeyed -----------------------------------------

TEST(Resilience, UpstreamShouldRetryFalseOnA503IsNotRetried) {
  TempDir dir;
  const std::string body =
      R"({"error":{"message":"overloaded","type":"server_error","param":null,"code":null}})";
  FakeUpstream no_retry(
      FakeUpstream::Response(503, "Service Unavailable", body, "x-should-retry: false\r\n"));
  FakeUpstream plain(FakeUpstream::Response(503, "Service Unavailable", body));
  Service gw = StartGatewayWith(dir, "providers:\n" + ProviderLine("nr", no_retry.base_url()) +
                                         ProviderLine("pl", plain.base_url()) +
                                         "models:\n"
                                         "  - name: nr\n"
                                         "    deployments: [{provider: nr, model: m}]\n"
                                         "  - name: pl\n"
                                         "    deployments: [{provider: pl, model: m}]\n"
                                         "router:\n"
                                         "  retry_base: 10ms\n");
  auto r = PostChat(gw, "nr");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(Attempts(r), 1);
  EXPECT_EQ(no_retry.requests(), 1);
  // The same 503 without the header is retried (num_retries 2): the header made the difference.
  auto p = PostChat(gw, "pl");
  EXPECT_EQ(p.status, 503) << p.body;
  EXPECT_EQ(Attempts(p), 3);
  EXPECT_EQ(plain.requests(), 3);
}

// ---- i. every retry spends the budget: three providers down are not amplified -----------------

TEST(Resilience, ThreeDeploymentsAllFailingCostAtMostOnePointTwoAttemptsPerRequest) {
  TempDir dir;
  std::vector<Service> sims;
  for (int i = 0; i < 3; ++i)
    sims.push_back(StartSim({"--fail-rate", "1", "--fail-status", "500"}));
  Service gw = StartGatewayWith(dir, "providers:\n" + ProviderLine("p1", sims[0].base_url) +
                                         ProviderLine("p2", sims[1].base_url) +
                                         ProviderLine("p3", sims[2].base_url) +
                                         "models:\n"
                                         "  - name: chat\n"
                                         "    deployments:\n"
                                         "      - {provider: p1, model: gpt-4o-mini}\n"
                                         "      - {provider: p2, model: gpt-4o-mini}\n"
                                         "      - {provider: p3, model: gpt-4o-mini}\n"
                                         "router:\n"
                                         "  retry_base: 10ms\n");
  constexpr int kN = 100;
  int bad = 0;
  for (int i = 0; i < kN; ++i) bad += PostChat(gw, "chat").status == 502 ? 1 : 0;
  EXPECT_EQ(bad, kN);
  int64_t upstream = 0;
  for (const auto& sim : sims) upstream += SimTotal(sim);
  std::cout << "[ 3 x 100% 500 ] " << kN << " requests: upstream attempts " << upstream << "\n";
  RecordProperty("upstream_attempts", static_cast<int>(upstream));
  // The alias's budget (10 tokens, retries above 5) allows a few retries at the start, then
  // one attempt per request; before, every request cost 3.
  EXPECT_LE(upstream, kN * 12 / 10);
  EXPECT_GT(upstream, kN);
  EXPECT_GT(MetricValue(gw, R"(modelmux_retries_throttled_total{scope="alias",name="chat"})"),
            kN / 2);
  EXPECT_GE(MetricValue(gw, R"(modelmux_retry_budget_tokens{scope="alias",name="chat"})"), 0);
  EXPECT_LE(MetricValue(gw, R"(modelmux_retry_budget_tokens{scope="alias",name="chat"})"), 5);
}

// ---- j. ejection time grows with repeated ejections and decays after a healthy period ----------

TEST(Resilience, EjectionTimeGrowsOnRepeatAndDecaysWhenHealthy) {
  TempDir dir;
  Service s1 = StartSim();
  Service s2 = StartSim();
  Service bad = StartSim({"--fail-rate", "1", "--fail-status", "503"});
  Service gw = StartGatewayWith(
      dir, "providers:\n" + ProviderLine("s1", s1.base_url) + ProviderLine("s2", s2.base_url) +
               ProviderLine("s3", bad.base_url) +
               "models:\n"
               "  - name: chat\n"
               "    deployments:\n"
               "      - {provider: s1, model: gpt-4o-mini}\n"
               "      - {provider: s2, model: gpt-4o-mini}\n"
               "      - {provider: s3, model: gpt-4o-mini}\n"
               "router:\n"
               "  retry_base: 10ms\n"
               "  outlier: {consecutive_failures: 2, base_ejection: 800ms, max_ejection: 5s}\n");
  const std::string ejected =
      R"(modelmux_deployment_ejected{model="chat",deployment="s3/gpt-4o-mini"})";
  // Sends requests until s3 is ejected, then measures how long it stays out (no traffic meanwhile).
  auto eject_and_time = [&]() -> double {
    bool out = Eventually(
        [&] {
          EXPECT_EQ(PostChat(gw, "chat").status, 200);
          return MetricValue(gw, ejected) == 1;
        },
        5s);
    EXPECT_TRUE(out);
    const auto begin = Clock::now();
    Eventually([&] { return MetricValue(gw, ejected) == 0; }, 8s);
    return std::chrono::duration<double>(Clock::now() - begin).count();
  };
  const double first = eject_and_time();   // 1 x 800 ms
  const double second = eject_and_time();  // 2 x 800 ms
  // Healthy (in rotation, no failures) for 2 x base: the multiplier decays from 2 to 0.
  std::this_thread::sleep_for(2000ms);
  const double third = eject_and_time();  // 1 x 800 ms again
  std::cout << "[ ejection decay ] " << first << " s, " << second << " s, after a healthy "
            << "period " << third << " s\n";
  EXPECT_GT(first, 0.6);
  EXPECT_LT(first, 1.1);
  EXPECT_GT(second, 1.4);
  EXPECT_LT(second, 1.9);
  EXPECT_GT(third, 0.6);
  EXPECT_LT(third, 1.1);
  EXPECT_EQ(MetricValue(gw, R"(modelmux_deployment_ejections_total{model="chat",)"
                            R"(deployment="s3/gpt-4o-mini"})"),
            3);
}

// ---- k. one idempotency key for every attempt of a call ---------------------------------------

TEST(Resilience, EveryAttemptOfOneCallCarriesTheSameIdempotencyKey) {
  TempDir dir;
  const std::string body =
      R"({"error":{"message":"overloaded","type":"server_error","param":null,"code":null}})";
  FakeUpstream down(FakeUpstream::Response(503, "Service Unavailable", body));
  Service gw = StartGatewayWith(dir, "providers:\n" + ProviderLine("dn", down.base_url()) +
                                         "models:\n"
                                         "  - name: m\n"
                                         "    deployments: [{provider: dn, model: m}]\n"
                                         "router:\n"
                                         "  retry_base: 10ms\n"
                                         // Room for both calls' retries (10 would allow 3).
                                         "  retry_budget: {max_tokens: 100}\n");
  for (bool stream : {false, true}) {
    const size_t before = down.HeaderValues("idempotency-key").size();
    auto r = Http("POST", gw.base_url + "/v1/chat/completions",
                  ChatBody("m", "hello", stream ? R"("stream":true)" : ""), {}, kShort);
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(Attempts(r), 3) << "stream " << stream;
    auto keys = down.HeaderValues("idempotency-key");
    ASSERT_EQ(keys.size(), before + 3) << "stream " << stream;
    EXPECT_FALSE(keys[before].empty());
    EXPECT_EQ(keys[before + 1], keys[before]) << "stream " << stream;
    EXPECT_EQ(keys[before + 2], keys[before]) << "stream " << stream;
    if (before > 0) {
      EXPECT_NE(keys[before], keys[0]);  // another call, another key
    }
  }
}

// ---- l. the content-policy fallback -------------------------------------------------------------

TEST(Resilience, ContentFilterRefusalFallsBackToTheContentPolicyFallback) {
  TempDir dir;
  Service good = StartSim();
  // The simulator has no content-filter refusal: a fake upstream answers like Azure OpenAI does.
  FakeUpstream strict(FakeUpstream::Response(
      400, "Bad Request",
      R"({"error":{"message":"The response was filtered due to the prompt triggering the )"
      R"(content management policy.","type":null,"param":"prompt","code":"content_filter"}})"));
  Service gw =
      StartGatewayWith(dir, "providers:\n" + ProviderLine("good", good.base_url) +
                                "  strict: {type: openai, base_url: \"" + strict.base_url() +
                                "/v1\", api_key: sk-test}\n"
                                "models:\n"
                                "  - name: careful\n"
                                "    deployments: [{provider: strict, model: m}]\n"
                                "    fallbacks: [other]\n"
                                "    content_policy_fallback: lenient\n"
                                "  - name: other\n"
                                "    deployments: [{provider: good, model: other-m}]\n"
                                "  - name: lenient\n"
                                "    deployments: [{provider: good, model: lenient-m}]\n");
  for (bool stream : {false, true}) {
    auto r = Http("POST", gw.base_url + "/v1/chat/completions",
                  ChatBody("careful", "hello", stream ? R"("stream":true)" : ""), {}, kShort);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.Get("x-modelmux-deployment"), "good/lenient-m") << "stream " << stream;
    EXPECT_EQ(Attempts(r), 2) << "stream " << stream;  // not retried, no ordinary fallback
  }
  EXPECT_EQ(strict.requests(), 2);
  EXPECT_EQ(IntAt(SimStats(good), {"by_model", "lenient-m"}), 2);
  EXPECT_EQ(IntAt(SimStats(good), {"by_model", "other-m"}), 0);
}

// ---- m. x-should-retry: true makes a 400 retryable ----------------------------------------------

TEST(Resilience, UpstreamShouldRetryTrueOnA400IsRetried) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGatewayWith(dir, "providers:\n" + ProviderLine("up", sim.base_url) +
                                         "models:\n"
                                         "  - name: chat\n"
                                         "    deployments: [{provider: up, model: gpt-4o-mini}]\n"
                                         "router:\n"
                                         "  retry_base: 10ms\n");
  auto plain = PostChat(gw, "chat", {{"x-sim-status", "400"}});
  EXPECT_EQ(plain.status, 400) << plain.body;
  EXPECT_EQ(Attempts(plain), 1);
  EXPECT_EQ(SimTotal(sim), 1);
  auto r = PostChat(gw, "chat", {{"x-sim-status", "400"}, {"x-sim-should-retry", "true"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Attempts(r), 3);  // 1 + num_retries (2)
  EXPECT_EQ(SimTotal(sim), 4);
  EXPECT_EQ(SimStatus(sim, "400"), 4);
}

// ---- n. a queued request shows in the queue-wait histogram -----------------------------------

TEST(Resilience, ClientSideQueueWaitIsObserved) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGatewayWith(
      dir, "providers:\n" + ProviderLine("up", sim.base_url) +
               "models:\n"
               "  - name: chat\n"
               "    deployments: [{provider: up, model: gpt-4o-mini, rpm: 4, rate_window: 1s}]\n"
               "router:\n"
               "  queue_timeout: 2s\n");
  const std::string count = R"(modelmux_rate_limit_queue_seconds_count{model="chat"})";
  const std::string sum = R"(modelmux_rate_limit_queue_seconds_sum{model="chat"})";
  // Four a second, paced 250 ms apart: back-to-back calls wait in the client-side queue.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(PostChat(gw, "chat").status, 200);
  EXPECT_GE(MetricValue(gw, count), 1);
  EXPECT_GT(MetricValue(gw, sum), 0.05);
  EXPECT_EQ(SimStatus(sim, "429"), 0);
}

}  // namespace
}  // namespace modelmux::testing
