// Governance across replicas (issue 7) and budget alerts (issue 10), from the built binary: three
// `modelmux serve` processes sharing one redis-server, all on loopback, in front of `modelmux sim`.
//  - a key limited to 60 requests per (short, configured) window is admitted at most 60 times per
//    window across the three;
//  - a key with a $0.01 total budget and 50 concurrent requests admits only what fits, and the
//    replicas' ledgers (read by `modelmux usage`) show no overspend beyond one request's estimate
//    error; the spend survives a restart (the budget is seeded from the ledger);
//  - a key changed by PATCH on one replica is held to the change by the others within one second
//    (revocation, DELETE, is covered the same way in governance_test.cpp);
//  - the header and query forms governance_test.cpp does not send (x-goog-api-key, ?api_key=),
//    with --log-bodies and trace export on, leave the secret in no log line, span or error body;
//  - budget alerts: a loopback webhook receives exactly one alert per threshold, however many
//    replicas see the spend cross it.

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "gateway_it.hpp"
#include "store/redis_test_server.hpp"

namespace modelmux::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = 20s;
const std::string kMaster = "mk-replicas-test-master-0123456789abcdef";

EnvList MasterEnv() {
  return {{"MODELMUX_MASTER_KEY", kMaster}};
}

std::string Config(const Service& sim, std::string_view extra = {}) {
  return "providers:\n  up: {type: openai, base_url: \"" + sim.base_url +
         "/v1\", api_key: sk-test}\n" + std::string(extra);
}

// A distinct prompt per request: the cache never answers.
std::string Body(const std::string& model, int i, std::string_view extra = {}) {
  return R"({"model":")" + model + R"(","messages":[{"role":"user","content":"request )" +
         std::to_string(i) + R"("}])" + std::string(extra) + "}";
}

struct Replicas {
  std::unique_ptr<store::testing::RedisServer> redis;
  Service sim;
  std::vector<Service> gws;
};

Replicas StartReplicas(const TempDir& dir, std::string_view extra, int n = 3) {
  Replicas r;
  r.redis = store::testing::RedisServer::Start();
  if (!r.redis) return r;
  r.sim = StartSim();
  const std::string config = dir.Write("replicas.yaml", Config(r.sim, extra));
  for (int i = 0; i < n; ++i) {
    r.gws.push_back(StartGateway({"--config", config, "--redis", "redis://" + r.redis->address()},
                                 MasterEnv()));
  }
  return r;
}

struct Tally {
  std::atomic<int> ok{0}, limited{0}, budget{0}, other{0}, retry_after_missing{0};
};

// `count` chat calls from `threads` threads, call i going to replica i % 3.
void Spread(const std::vector<Service>& gws, const std::string& key, const std::string& model,
            int first, int count, int threads, std::string_view extra, Tally& t) {
  std::atomic<int> next{first};
  std::vector<std::thread> pool;
  for (int k = 0; k < threads; ++k) {
    pool.emplace_back([&] {
      for (int i = next++; i < first + count; i = next++) {
        const Service& gw = gws[static_cast<size_t>(i) % gws.size()];
        HttpResult r = Http("POST", gw.base_url + "/v1/chat/completions", Body(model, i, extra),
                            Bearer(key), kTimeout);
        if (r.status == 200) {
          ++t.ok;
        } else if (r.status == 429 && ErrorCode(r) == "key_rate_limited") {
          ++t.limited;
          if (r.headers.Get("retry-after").empty()) ++t.retry_after_missing;
        } else if (r.status == 403 && ErrorCode(r) == "budget_exceeded") {  // never retried
          ++t.budget;
        } else {
          ++t.other;
          ADD_FAILURE() << r.status << " " << r.body;
        }
      }
    });
  }
  for (auto& th : pool) th.join();
}

TEST(GovernanceReplicas, SixtyRequestsPerWindowAcrossThreeReplicas) {
  TempDir dir;
  constexpr auto kWindow = 3s;
  Replicas r = StartReplicas(dir, "limits: {key_window: 3s}\n");
  ASSERT_TRUE(r.redis) << "redis-server did not start";
  NewKey k = CreateKey(r.gws[0], kMaster, R"({"models":["*"],"rpm":60})");
  // Every replica knows the key before the clock starts (keys are shared through Redis).
  for (const auto& gw : r.gws) {
    ASSERT_TRUE(Eventually(
        [&] {
          return Http("GET", gw.base_url + "/admin/keys/" + k.id, {}, Bearer(kMaster), kTimeout)
                     .status == 200;
        },
        5s));
  }

  Tally first;
  const auto begin = Clock::now();
  Spread(r.gws, k.key, "up/gpt-4o-mini", 0, 150, 15, {}, first);
  const double secs = std::chrono::duration<double>(Clock::now() - begin).count();
  std::cout << "[ key window ] 150 requests over 3 replicas in " << secs << " s: " << first.ok
            << " admitted, " << first.limited << " x 429\n";
  // A sliding window admits at most 60 in any 3 s, so at most 60 per started window.
  const int windows = static_cast<int>(secs / 3.0) + 1;
  EXPECT_LE(first.ok.load(), 60 * windows);
  EXPECT_GE(first.ok.load(), 60);  // nothing else limits this key
  if (windows == 1) {
    EXPECT_EQ(first.ok.load(), 60);
  }
  EXPECT_EQ(first.ok + first.limited, 150);
  EXPECT_EQ(first.retry_after_missing.load(), 0);

  // The next window admits again, and again no more than 60.
  std::this_thread::sleep_until(begin + kWindow + std::chrono::duration<double>(secs) + 200ms);
  Tally second;
  const auto begin2 = Clock::now();
  Spread(r.gws, k.key, "up/gpt-4o-mini", 1000, 90, 15, {}, second);
  const double secs2 = std::chrono::duration<double>(Clock::now() - begin2).count();
  EXPECT_GE(second.ok.load(), 1);
  EXPECT_LE(second.ok.load(), 60 * (static_cast<int>(secs2 / 3.0) + 1));
  EXPECT_EQ(second.other.load(), 0);
}

// Sums a key's spend over ledgers with `modelmux usage --format json`: the total's cost_micros
// in USD.
int64_t LedgerSpendUsd(const std::vector<std::filesystem::path>& ledgers, const std::string& id) {
  std::vector<std::string> args{"usage", "--format", "json", "--key", id};
  for (const auto& l : ledgers) {
    args.push_back("--ledger");
    args.push_back(l.string());
  }
  auto p = Process::Start(ModelmuxBin(), std::move(args), ProcessOptions{});
  EXPECT_EQ(p->Wait(kTimeout).value_or(-1), 0) << p->stderr_tail();
  std::string out;
  for (const auto& line : p->stdout_lines()) out += line;
  json::value v = ParseJson(out);
  EXPECT_TRUE(v.is_object()) << out;
  if (!v.is_object()) return -1;
  const json::value& cost = v.at("total").at("cost_micros");
  if (!cost.is_object()) return 0;
  const auto* usd = cost.as_object().if_contains("USD");
  return usd && usd->is_int64() ? usd->as_int64() : 0;
}

// gpt-4o: $2.50 per 1M input tokens, $10 per 1M output tokens (data/prices.yaml), in micro-USD
// per token: 2.5 and 10.
constexpr double kInMicros = 2.5, kOutMicros = 10.0;
constexpr int kMaxTokens = 200;

TEST(GovernanceReplicas, TotalBudgetHoldsUnderFiftyConcurrentRequests) {
  TempDir dir;
  Replicas r = StartReplicas(dir, {});
  ASSERT_TRUE(r.redis) << "redis-server did not start";
  NewKey k = CreateKey(r.gws[0], kMaster, R"({"models":["*"],"budgets":{"total":"0.01"}})");

  const std::string extra = R"(,"max_tokens":)" + std::to_string(kMaxTokens);
  // The reservation per request: its prompt characters and max_tokens at gpt-4o's price.
  const double prompt_chars = static_cast<double>(std::string("request 100").size());
  const auto estimate =
      static_cast<int64_t>(std::ceil(prompt_chars * kInMicros + kMaxTokens * kOutMicros));
  const int fit = static_cast<int>(10'000 / estimate);  // reservations that fit at once
  // Bursts of 50 concurrent requests until one admits nothing: the first shows what fits at once,
  // the last that the budget is used up.
  int admitted = 0, rounds = 0;
  for (; rounds < 30; ++rounds) {
    Tally t;
    Spread(r.gws, k.key, "up/gpt-4o", rounds * 100, 50, 50, extra, t);
    std::cout << "[ budget ] round " << rounds << ": 50 concurrent requests, " << t.ok
              << " admitted, " << t.budget << " refused\n";
    EXPECT_EQ(t.ok + t.budget, 50);
    EXPECT_EQ(t.other.load(), 0);
    if (rounds == 0) {
      EXPECT_GE(t.ok.load(), fit);  // at least what fits at once, and never all of them
      EXPECT_LT(t.ok.load(), 50);
    }
    admitted += t.ok.load();
    if (t.ok.load() == 0) break;
    // Reservations are settled just after each answer is sent: let the last ones land.
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_LT(rounds, 30) << "the budget was never used up";
  // The admin view agrees: no more than the limit spent.
  json::value shown = ParseJson(
      Http("GET", r.gws[1].base_url + "/admin/keys/" + k.id, {}, Bearer(kMaster), kTimeout).body);
  std::cout << "[ budget ] admin view: " << json::serialize(shown) << "\n";

  std::vector<std::filesystem::path> ledgers;
  for (auto& gw : r.gws) {
    ledgers.push_back(gw.data_dir / "ledger.db");
    gw.process->Stop();  // flushes the ledger
  }
  const int64_t spent = LedgerSpendUsd(ledgers, k.id);
  std::cout << "[ budget ] ledgers: " << admitted << " requests, " << spent
            << " micro-USD spent of 10000 (reservation per request " << estimate << ")\n";
  // No overspend beyond one request's estimate error; and a budget that refuses everything has
  // less than one reservation left.
  EXPECT_LE(spent, 10'000 + estimate);
  EXPECT_GT(spent, 10'000 - 2 * estimate);
}

// Without Redis a restarted replica must not forget what was spent: the budget starts from the
// ledger in its data directory.
TEST(GovernanceReplicas, SpendSurvivesARestartThroughTheLedger) {
  TempDir dir;
  Service sim = StartSim();
  const std::string config = dir.Write("one.yaml", Config(sim));
  EnvList env = MasterEnv();
  env.emplace_back("MODELMUX_DATA_DIR", (dir.path() / "state").string());
  NewKey k;
  int first_ok = 0;
  {
    Service gw = StartGateway({"--config", config}, env);
    // Each call reserves ~2 k micro-USD and spends less; $0.005 holds a couple of them.
    k = CreateKey(gw, kMaster, R"({"models":["*"],"budgets":{"total":"0.005"}})");
    const std::string extra = R"(,"max_tokens":)" + std::to_string(kMaxTokens);
    // Until the budget is spent: a refusal can also come from the previous call's reservation,
    // settled just after its answer was sent, so a refusal counts only once it repeats.
    bool refused_before = false;
    for (int i = 0; i < 40; ++i) {
      HttpResult res = Http("POST", gw.base_url + "/v1/chat/completions",
                            Body("up/gpt-4o", i, extra), Bearer(k.key), kTimeout);
      if (res.status == 200) {
        ++first_ok;
        refused_before = false;
        continue;
      }
      EXPECT_EQ(ErrorCode(res), "budget_exceeded") << res.body;
      if (refused_before) break;
      refused_before = true;
      std::this_thread::sleep_for(300ms);
    }
    gw.process->Stop();
  }
  ASSERT_GE(first_ok, 1);
  const int64_t spent = LedgerSpendUsd({dir.path() / "state" / "ledger.db"}, k.id);
  ASSERT_GT(spent, 0);
  Service again = StartGateway({"--config", config}, env);
  // The budget's state is the ledger's spend, not zero.
  HttpResult shown =
      Http("GET", again.base_url + "/admin/keys/" + k.id, {}, Bearer(kMaster), kTimeout);
  ASSERT_EQ(shown.status, 200) << shown.body;
  const std::string extra = R"(,"max_tokens":)" + std::to_string(kMaxTokens);
  HttpResult after = Http("POST", again.base_url + "/v1/chat/completions",
                          Body("up/gpt-4o", 99, extra), Bearer(k.key), kTimeout);
  EXPECT_EQ(after.status, 403) << after.body << " (spent before the restart: " << spent << ")";
  EXPECT_EQ(ErrorCode(after), "budget_exceeded");
}

// The budget is charged what the ledger records: a cache hit costs nothing (it used to be charged
// its whole reservation).
TEST(GovernanceReplicas, ACacheHitCostsTheBudgetNothing) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))}, MasterEnv());
  NewKey k = CreateKey(gw, kMaster, R"({"models":["*"],"budgets":{"total":"0.01"}})");
  // spent + reserved in micro-USD, from the admin view, once nothing is reserved.
  auto spent = [&] {
    int64_t out = -1;
    Eventually(
        [&] {
          json::value v = ParseJson(
              Http("GET", gw.base_url + "/admin/keys/" + k.id, {}, Bearer(kMaster), kTimeout).body);
          if (!v.is_object()) return false;
          const auto& st = v.at("budget_state").as_array().at(0).as_object();
          if (std::stod(Str(st.at("reserved"))) != 0) return false;
          out = std::llround(std::stod(Str(st.at("spent"))) * 1e6);
          return true;
        },
        5s);
    return out;
  };
  const std::string body = Body("up/gpt-4o", 7, R"(,"max_tokens":200,"temperature":0)");
  HttpResult miss =
      Http("POST", gw.base_url + "/v1/chat/completions", body, Bearer(k.key), kTimeout);
  ASSERT_EQ(miss.status, 200) << miss.body;
  const int64_t after_miss = spent();
  EXPECT_GT(after_miss, 0);
  HttpResult hit =
      Http("POST", gw.base_url + "/v1/chat/completions", body, Bearer(k.key), kTimeout);
  ASSERT_EQ(hit.status, 200) << hit.body;
  ASSERT_EQ(hit.headers.Get("x-modelmux-cache"), "hit");
  EXPECT_EQ(spent(), after_miss);
}

// Revocation is DELETE (irreversible; governance_test.cpp checks it across three replicas). The
// same propagation holds for any change: a model taken away by PATCH on replica 1 is refused by
// replicas 2 and 3, which had the key cached, within one second.
TEST(GovernanceReplicas, APatchOnOneReplicaBindsTheOthersWithinOneSecond) {
  TempDir dir;
  Replicas r = StartReplicas(dir, {});
  ASSERT_TRUE(r.redis) << "redis-server did not start";
  NewKey k = CreateKey(r.gws[0], kMaster, R"({"models":["up/gpt-4o-mini","up/gpt-4o"]})");
  for (const auto& gw : r.gws) {
    EXPECT_EQ(Http("POST", gw.base_url + "/v1/chat/completions", Body("up/gpt-4o", 1),
                   Bearer(k.key), kTimeout)
                  .status,
              200);
  }
  HttpResult patch = Http("PATCH", r.gws[0].base_url + "/admin/keys/" + k.id,
                          R"({"models":["up/gpt-4o-mini"]})", Bearer(kMaster), kTimeout);
  ASSERT_EQ(patch.status, 200) << patch.body;
  const auto at = Clock::now();
  for (size_t i = 1; i < r.gws.size(); ++i) {
    int status = 0;
    std::string code;
    while (Clock::now() - at < 3s) {
      HttpResult res = Http("POST", r.gws[i].base_url + "/v1/chat/completions",
                            Body("up/gpt-4o", 2), Bearer(k.key), kTimeout);
      status = res.status;
      code = ErrorCode(res);
      if (status == 403) break;
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(status, 403) << r.gws[i].base_url;
    EXPECT_EQ(code, "model_not_allowed");
  }
  const auto took = Clock::now() - at;
  EXPECT_LT(took, 1s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms until the other replicas applied the change";
  // The model it kept still works everywhere.
  for (const auto& gw : r.gws) {
    EXPECT_EQ(Http("POST", gw.base_url + "/v1/chat/completions", Body("up/gpt-4o-mini", 3),
                   Bearer(k.key), kTimeout)
                  .status,
              200);
  }
}

// Answers every request with 200 {} (one per connection) and keeps the bodies.
class Receiver {
 public:
  Receiver() {
    listen_fd_ = ListenOnLoopback(16, port_, "receiver");
    thread_ = std::thread([this] { Serve(); });
  }
  ~Receiver() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  [[nodiscard]] std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  [[nodiscard]] std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string in;
      char buf[65536];
      size_t need = std::string::npos, head_end = 0;
      const auto deadline = Clock::now() + 5s;
      while (!stop_ && Clock::now() < deadline) {
        if (need == std::string::npos) {
          if (auto end = in.find("\r\n\r\n"); end != std::string::npos) {
            head_end = end + 4;
            std::string lower = in.substr(0, head_end);
            for (char& c : lower)
              c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            const auto cl = lower.find("\r\ncontent-length:");
            need =
                head_end +
                (cl == std::string::npos ? 0 : std::strtoul(lower.c_str() + cl + 17, nullptr, 10));
          }
        }
        if (need != std::string::npos && in.size() >= need) break;
        pollfd q{fd, POLLIN, 0};
        if (::poll(&q, 1, 50) <= 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      if (need != std::string::npos && in.size() >= need) {
        std::lock_guard lock(mu_);
        bodies_.push_back(in.substr(head_end, need - head_end));
      }
      const std::string_view out =
          "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"
          "connection: close\r\n\r\n{}";
      (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(fd);
    }
  }
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
};

TEST(GovernanceReplicas, CanaryInTheRemainingHeaderAndQueryFormsLeavesNoTrace) {
  TempDir dir;
  Receiver otlp;
  Service sim = StartSim();
  EnvList env = MasterEnv();
  env.emplace_back("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.url(""));
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim)), "--log-bodies"}, env);
  NewKey real = CreateKey(gw, kMaster, R"({"models":["*"]})");
  const std::string canary = "mm-CANARY" + std::string(37, 'z');
  std::vector<HttpResult> answers;
  for (const std::string& secret : {canary, real.key}) {
    answers.push_back(Http("POST", gw.base_url + "/v1/chat/completions", Body("up/gpt-4o-mini", 1),
                           {{"x-goog-api-key", secret}}, kTimeout));
    answers.push_back(Http("POST", gw.base_url + "/v1/chat/completions?api_key=" + secret,
                           Body("up/gpt-4o-mini", 2), {}, kTimeout));
    answers.push_back(Http("POST", gw.base_url + "/v1/chat/completions?key=" + secret,
                           Body("up/gpt-4o-mini", 3), Bearer(secret), kTimeout));
    answers.push_back(Http("POST", gw.base_url + "/v1/chat/completions", Body("up/gpt-4o-mini", 4),
                           {{"api-key", secret}, {"x-goog-api-key", secret}}, kTimeout));
  }
  // The secret in a body, where --log-bodies would show it, is not the caller's key: only header
  // and query forms are in scope here. A valid call, so there is a logged body and a span.
  answers.push_back(Http("POST", gw.base_url + "/v1/chat/completions", Body("up/gpt-4o-mini", 5),
                         Bearer(real.key), kTimeout));
  int refused = 0;
  for (const auto& r : answers) {
    EXPECT_EQ(r.body.find(canary), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find(real.key), std::string::npos) << r.body;
    if (r.status == 401) ++refused;
  }
  // The canary in x-goog-api-key or the query alone is no key at all; in a header that is read
  // it is an unknown key: 401 either way. The real key only in a form that is never read: 401.
  EXPECT_GE(refused, 6);
  EXPECT_TRUE(Eventually([&] { return !otlp.bodies().empty(); }, 10s)) << "no spans exported";
  gw.process->Stop();
  std::string logs = gw.process->stderr_tail();
  for (const auto& line : gw.process->stdout_lines()) logs += line + "\n";
  ASSERT_NE(logs.find("req-"), std::string::npos) << "the request log should have lines";
  std::string spans;
  for (const auto& b : otlp.bodies()) spans += b;
  for (const std::string& text : {logs, spans}) {
    EXPECT_EQ(text.find(canary), std::string::npos);
    EXPECT_EQ(text.find("CANARY"), std::string::npos);
    EXPECT_EQ(text.find(real.key), std::string::npos);
    EXPECT_EQ(text.find(kMaster), std::string::npos);
  }
}

TEST(GovernanceReplicas, BudgetAlertsReachTheWebhookOncePerThreshold) {
  TempDir dir;
  Receiver hook;
  Replicas r = StartReplicas(dir, "limits: {alert_thresholds: [0.5, 0.7, 1.0], alert_webhook: \"" +
                                      hook.url("/alerts") + "\", alert_webhook_timeout: 2s}\n");
  ASSERT_TRUE(r.redis) << "redis-server did not start";
  NewKey k = CreateKey(r.gws[0], kMaster,
                       R"({"name":"alerted","models":["*"],"budgets":{"total":"0.01"}})");
  // Sequential calls spread over the replicas until the budget refuses: every threshold is
  // reached (1.0 by the refusal; a refusal comes once less than one reservation, ~$0.002, is
  // left, so spend is past 0.7 by then), and each replica sees the spend after it crossed some.
  Tally t;
  const std::string extra = R"(,"max_tokens":)" + std::to_string(kMaxTokens);
  for (int round = 0; round < 40 && t.budget.load() < 3; ++round) {
    Spread(r.gws, k.key, "up/gpt-4o", round, 1, 1, extra, t);
  }
  ASSERT_GE(t.budget.load(), 1) << "the budget never refused";
  ASSERT_TRUE(Eventually([&] { return hook.bodies().size() >= 3; }, 5s))
      << hook.bodies().size() << " alerts";
  std::this_thread::sleep_for(500ms);  // a duplicate would arrive by now
  std::map<double, int> by_threshold;
  for (const auto& body : hook.bodies()) {
    json::value v = ParseJson(body);
    ASSERT_TRUE(v.is_object()) << body;
    const auto& o = v.as_object();
    EXPECT_EQ(Str(o.at("key_id")), k.id);
    EXPECT_EQ(Str(o.at("key_name")), "alerted");
    EXPECT_EQ(Str(o.at("budget")), "total");
    EXPECT_EQ(o.at("limit_micros").as_int64(), 10'000);
    EXPECT_EQ(body.find(k.key), std::string::npos);
    ++by_threshold[o.at("threshold").to_number<double>()];
  }
  EXPECT_EQ(by_threshold, (std::map<double, int>{{0.5, 1}, {0.7, 1}, {1.0, 1}}));
  // The counter: one alert per threshold over all replicas' /metrics.
  std::map<std::string, double> counted;
  for (const auto& gw : r.gws) {
    const std::string m = Http("GET", gw.base_url + "/metrics", {}, Bearer(kMaster), kTimeout).body;
    for (const char* th : {"0.5", "0.7", "1"}) {
      const std::string series = "modelmux_budget_alerts_total{key=\"" + k.id +
                                 "\",budget=\"total\",threshold=\"" + th + "\"} ";
      if (auto at = m.find(series); at != std::string::npos) {
        counted[th] += std::strtod(m.c_str() + at + series.size(), nullptr);
      }
    }
  }
  EXPECT_EQ(counted, (std::map<std::string, double>{{"0.5", 1}, {"0.7", 1}, {"1", 1}}));
}

bool Ipv6LoopbackUsable() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// What governance_test.cpp does not cover of IP allowlists: a trusted proxy on IPv6 forwarding
// IPv6 (and IPv4, and IPv4-mapped) clients, checked against the global list and a key's own.
TEST(GovernanceReplicas, TrustedIpv6ProxyForwardsIpv6Clients) {
  if (!Ipv6LoopbackUsable()) GTEST_SKIP() << "no IPv6 loopback here";
  TempDir dir;
  Service sim = StartSim();
  const std::string config =
      dir.Write("v6.yaml", Config(sim,
                                  "auth: {ip_allowlist: [\"2001:db8::/32\", 10.0.0.0/8], "
                                  "trusted_proxies: [\"::1\"]}\n"));
  ProcessOptions o;
  o.env = MasterEnv();
  o.env.emplace_back("MODELMUX_DATA_DIR", (dir.path() / "data").string());
  Service gw;
  gw.process = Process::Start(ModelmuxBin(),
                              {"serve", "--host", "::1", "--port", "0", "--config", config}, o);
  gw.address = gw.process->WaitForListening();
  gw.base_url = BaseUrl(gw.address);
  auto call = [&](const std::string& key, const std::string& xff) {
    HeaderList h = Bearer(key);
    if (!xff.empty()) h.emplace_back("x-forwarded-for", xff);
    return Http("POST", gw.base_url + "/v1/chat/completions", Body("up/gpt-4o-mini", 1), h,
                kTimeout);
  };
  EXPECT_EQ(call(kMaster, "2001:db8::5").status, 200);
  EXPECT_EQ(call(kMaster, "2001:db9::5").status, 403);
  EXPECT_EQ(call(kMaster, "10.1.2.3").status, 200);         // an IPv4 client behind it
  EXPECT_EQ(call(kMaster, "::ffff:10.1.2.3").status, 200);  // the same, IPv4-mapped
  EXPECT_EQ(call(kMaster, "::ffff:11.1.2.3").status, 403);
  EXPECT_EQ(call(kMaster, "").status, 403);  // the proxy itself (::1) is not in the list
  EXPECT_EQ(call(kMaster, "2001:db8::5, 2001:db9::5").status, 403)
      << "the right-most untrusted address counts";
  // A key's own list narrows the global one, on the forwarded address.
  HttpResult created = Http(
      "POST", gw.base_url + "/admin/keys", R"({"models":["*"],"ip_allowlist":["2001:db8:1::/48"]})",
      {{"authorization", "Bearer " + kMaster}, {"x-forwarded-for", "2001:db8::1"}}, kTimeout);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string key = Str(ParseJson(created.body).at("key"));
  EXPECT_EQ(call(key, "2001:db8:1::9").status, 200);
  HttpResult outside = call(key, "2001:db8:2::9");
  EXPECT_EQ(outside.status, 403);
  EXPECT_EQ(ErrorCode(outside), "ip_not_allowed");
}

}  // namespace
}  // namespace modelmux::testing
