#include "routing/dispatch.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <map>

namespace modelmux::routing {
namespace {

using namespace std::chrono_literals;

// Answers attempts from a script: a function of the target label and the attempt number.
struct Script {
  std::function<Result<std::string>(const Target&, int)> answer;
  std::vector<std::string> calls;  // labels, in order
};

boost::asio::awaitable<Result<std::string>> Scripted(const Target* target, Script* script) {
  script->calls.push_back(target->label);
  co_return script->answer(*target, static_cast<int>(script->calls.size()));
}

Error Status(int status, std::optional<std::chrono::milliseconds> hint = {}) {
  Error e;
  e.kind = KindForHttpStatus(status);
  e.upstream_status = status;
  e.message = "upstream said " + std::to_string(status);
  e.retry_after = hint;
  return e;
}

class DispatchTest : public ::testing::Test {
 protected:
  void Build(const std::string& models_yaml, const std::string& router_yaml = "") {
    std::string yaml =
        "providers:\n"
        "  a: {type: openai, base_url: \"http://127.0.0.1:1/v1\", api_key: k}\n"
        "  b: {type: openai, base_url: \"http://127.0.0.1:2/v1\", api_key: k}\n"
        "  c: {type: anthropic, base_url: \"http://127.0.0.1:3\", api_key: k}\n"
        "router:\n  retry_base: 1ms\n  retry_cap: 4ms\n" +
        router_yaml + "models:\n" + models_yaml;
    auto cfg = ParseConfig(
        yaml, [](std::string_view) { return std::nullopt; }, "t.yaml");
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    config_ = *cfg;
    for (const auto& p : config_->providers) {
      upstream::ProviderSpec spec;
      spec.name = p.name;
      spec.type = std::string(ProviderTypeName(p.type));
      spec.base_url = p.base_url;
      providers_[p.name] = std::move(upstream::Provider::Create(spec)).value();
    }
    dispatcher_ = std::make_unique<Dispatcher>(
        config_,
        [this](std::string_view name) -> const upstream::Provider* {
          auto it = providers_.find(std::string(name));
          return it == providers_.end() ? nullptr : it->second.get();
        },
        [this] { return now_; }, 42);
  }

  Result<std::string> Call(std::string model, Script& script, AttemptLog& log,
                           std::chrono::milliseconds deadline = 10s,
                           std::string request_id = "req-1") {
    RequestContext ctx;
    ctx.request_id = std::move(request_id);
    ctx.start = std::chrono::steady_clock::now();
    ctx.deadline = ctx.start + deadline;
    auto attempt = [&script](const Target& t) { return Scripted(&t, &script); };
    auto fut = boost::asio::co_spawn(
        io_, dispatcher_->Run<std::string>(std::move(model), ctx, 100, log, attempt),
        boost::asio::use_future);
    io_.restart();
    io_.run();
    return fut.get();
  }

  boost::asio::io_context io_;
  std::shared_ptr<const Config> config_;
  std::map<std::string, std::unique_ptr<upstream::Provider>> providers_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::chrono::steady_clock::time_point now_{std::chrono::seconds(1000)};
};

TEST_F(DispatchTest, FirstSuccessIsReturnedWithOneAttempt) {
  Build("  - {name: m, provider: a, model: x}\n");
  Script s{[](const Target& t, int) -> Result<std::string> { return t.label; }};
  AttemptLog log;
  auto r = Call("m", s, log);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "a/x");
  EXPECT_EQ(log.attempts, 1);
  EXPECT_EQ(log.deployment, "a/x");
}

TEST_F(DispatchTest, RetryableErrorsAreRetriedUpToTheLimitWithBackoff) {
  Build("  - {name: m, provider: a, model: x}\n");
  Script s{[](const Target&, int) -> Result<std::string> { return Status(503); }};
  AttemptLog log;
  auto r = Call("m", s, log);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().upstream_status, 503);
  EXPECT_EQ(log.attempts, 3);  // 1 + num_retries (2)
  EXPECT_EQ(s.calls.size(), 3u);
}

TEST_F(DispatchTest, NonRetryableErrorsAreNotRetried) {
  Build("  - {name: m, provider: a, model: x}\n");
  for (int status : {400, 401, 403, 404}) {
    Script s{[status](const Target&, int) -> Result<std::string> { return Status(status); }};
    AttemptLog log;
    auto r = Call("m", s, log);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(log.attempts, 1) << status;
  }
}

TEST_F(DispatchTest, TheServerHintIsTheWait) {
  Build("  - {name: m, provider: a, model: x}\n");
  Script s{[](const Target&, int n) -> Result<std::string> {
    if (n == 1) return Status(429, 30ms);
    return std::string("ok");
  }};
  AttemptLog log;
  auto r = Call("m", s, log);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(log.attempts, 2);
  EXPECT_EQ(log.waited, 30ms);
}

TEST_F(DispatchTest, AFailedDeploymentIsFollowedByAnotherWithoutWaiting) {
  Build(
      "  - name: m\n    deployments:\n      - {provider: a, model: x}\n"
      "      - {provider: b, model: y}\n");
  Script s{[](const Target& t, int) -> Result<std::string> {
    if (t.label == "a/x") return Status(500);
    return t.label;
  }};
  for (int i = 0; i < 20; ++i) {
    AttemptLog log;
    auto r = Call("m", s, log);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "b/y");
    EXPECT_EQ(log.waited, 0ms);
  }
  // After 5 consecutive 5xx, a/x is ejected: later calls go straight to b/y.
  const auto* set = dispatcher_->SetFor("m");
  ASSERT_NE(set, nullptr);
  EXPECT_TRUE(set->Ejected(0));
  s.calls.clear();
  for (int i = 0; i < 10; ++i) {
    AttemptLog log;
    ASSERT_TRUE(Call("m", s, log).ok());
    EXPECT_EQ(log.attempts, 1);
  }
  // And it comes back when its ejection time is over.
  now_ += 31s;
  EXPECT_FALSE(set->Ejected(0));
}

TEST_F(DispatchTest, TotalOutageIsNotAmplified) {
  Build("  - {name: m, provider: a, model: x}\n");
  Script s{[](const Target&, int) -> Result<std::string> { return Status(500); }};
  int attempts = 0;
  for (int i = 0; i < 100; ++i) {
    AttemptLog log;
    EXPECT_FALSE(Call("m", s, log).ok());
    attempts += log.attempts;
  }
  EXPECT_LE(attempts, 120);  // reliability.md 3
}

TEST_F(DispatchTest, FallbacksInOrderAfterTheStageIsExhausted) {
  Build(
      "  - {name: m, provider: a, model: x, fallbacks: [n, b/z]}\n"
      "  - {name: n, provider: c, model: claude}\n");
  Script s{[](const Target& t, int) -> Result<std::string> {
    if (t.label == "b/z") return t.label;
    return Status(429);
  }};
  AttemptLog log;
  auto r = Call("m", s, log);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "b/z");
  EXPECT_EQ(log.fallbacks, (std::vector<std::string>{"n", "b/z"}));
  EXPECT_EQ(s.calls.front(), "a/x");
  EXPECT_NE(std::find(s.calls.begin(), s.calls.end(), "c/claude"), s.calls.end());
  EXPECT_FALSE(dispatcher_->AllOpenAiWire("m"));  // a fallback speaks Anthropic
}

TEST_F(DispatchTest, ContextLengthAndContentFilterHaveTheirOwnFallbacks) {
  Build(
      "  - {name: m, provider: a, model: x, context_window_fallback: b/long,\n"
      "     content_policy_fallback: b/lenient}\n");
  Script s{[](const Target& t, int) -> Result<std::string> {
    if (t.label == "a/x") {
      Error e = Status(400);
      e.kind =
          t.idempotency_key == "mm-ctx" ? ErrorKind::kContextLength : ErrorKind::kContentFilter;
      return e;
    }
    return t.label;
  }};
  // The idempotency key is "mm-" + request id; the script uses it to pick the error.
  AttemptLog log;
  auto r = Call("m", s, log, 10s, "ctx");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "b/long");
  EXPECT_EQ(log.attempts, 2);
  AttemptLog log2;
  r = Call("m", s, log2, 10s, "filter");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "b/lenient");
  EXPECT_EQ(log2.fallbacks, std::vector<std::string>{"b/lenient"});
  EXPECT_TRUE(dispatcher_->AllOpenAiWire("m"));
}

TEST_F(DispatchTest, NoAttemptStartsWithoutTheMinimumTimeLeft) {
  Build("  - {name: m, provider: a, model: x}\n", "  min_attempt_time: 200ms\n");
  Script s{[](const Target&, int) -> Result<std::string> { return Status(503, 150ms); }};
  AttemptLog log;
  auto r = Call("m", s, log, 300ms);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(log.attempts, 1);  // 150 ms wait + 200 ms minimum > 300 ms left
}

TEST_F(DispatchTest, ClientSideLimitsQueueThenShedLoad) {
  Build(
      "  - name: m\n    deployments:\n"
      "      - {provider: a, model: x, rpm: 10, rate_window: 1s}\n",
      "  queue_timeout: 250ms\n");
  Script s{[](const Target& t, int) -> Result<std::string> { return t.label; }};
  // Six calls at once: 101 ms apart (10 per second less the limiter's 1 % jitter margin), the
  // first goes at once, the next ones wait up to the 250 ms queue bound, the rest are refused
  // without reaching the upstream.
  std::vector<AttemptLog> logs(6);
  std::vector<std::future<Result<std::string>>> results;
  auto attempt = [&s](const Target& t) { return Scripted(&t, &s); };
  for (auto& log : logs) {
    RequestContext ctx;
    ctx.request_id = "burst";
    ctx.deadline = std::chrono::steady_clock::now() + 10s;
    results.push_back(boost::asio::co_spawn(
        io_, dispatcher_->Run<std::string>("m", ctx, 100, log, attempt), boost::asio::use_future));
  }
  io_.restart();
  io_.run();
  int admitted = 0, refused = 0;
  std::chrono::milliseconds queued{0};
  for (size_t i = 0; i < results.size(); ++i) {
    auto r = results[i].get();
    if (r.ok()) {
      ++admitted;
      queued += logs[i].queued;
    } else {
      ++refused;
      EXPECT_EQ(r.error().kind, ErrorKind::kRateLimited);
      EXPECT_EQ(r.error().code, "rate_limit_queue_full");
      ASSERT_TRUE(r.error().retry_after.has_value());
      EXPECT_GT(r.error().retry_after->count(), 0);
      EXPECT_EQ(logs[i].attempts, 0);  // nothing was sent upstream
    }
  }
  EXPECT_EQ(admitted, 3);  // waits 0, 101, 202 ms; 303 ms is past the bound
  EXPECT_EQ(refused, 3);
  EXPECT_EQ(queued, std::chrono::milliseconds(303));
  EXPECT_EQ(static_cast<int>(s.calls.size()), admitted);
}

TEST(Headroom, FromRateLimitHeaders) {
  EXPECT_EQ(HeadroomFromHeaders("50", "100", "", ""), 0.5);
  EXPECT_EQ(HeadroomFromHeaders("50", "100", "1000", "10000"), 0.1);  // the tighter one
  EXPECT_EQ(HeadroomFromHeaders("", "", "900", "1000"), 0.9);
  EXPECT_EQ(HeadroomFromHeaders("", "", "", ""), std::nullopt);
  EXPECT_EQ(HeadroomFromHeaders("x", "100", "", ""), std::nullopt);
  EXPECT_EQ(HeadroomFromHeaders("5", "0", "", ""), std::nullopt);
  EXPECT_EQ(HeadroomFromHeaders("500", "100", "", ""), 1.0);
}

TEST_F(DispatchTest, UsageStrategyFollowsReportedHeadroom) {
  Build(
      "  - name: m\n    strategy: usage\n    deployments:\n"
      "      - {provider: a, model: x}\n      - {provider: b, model: y}\n");
  // Each answer reports headroom as an attempt does from x-ratelimit-* headers: a/x is nearly
  // exhausted, b/y has room. After both reported, calls go to b/y.
  Script s{[](const Target& t, int) -> Result<std::string> {
    EXPECT_NE(t.set, nullptr);
    if (t.set) t.set->SetHeadroom(t.index, t.label == "a/x" ? 0.02 : 0.8);
    return t.label;
  }};
  // Until both have answered once (an unreported deployment counts as having full headroom).
  auto seen = [&](const char* label) {
    return std::find(s.calls.begin(), s.calls.end(), label) != s.calls.end();
  };
  for (int i = 0; i < 50 && !(seen("a/x") && seen("b/y")); ++i) {
    AttemptLog log;
    ASSERT_TRUE(Call("m", s, log).ok());
  }
  ASSERT_TRUE(seen("a/x") && seen("b/y"));
  s.calls.clear();
  for (int i = 0; i < 20; ++i) {
    AttemptLog log;
    ASSERT_TRUE(Call("m", s, log).ok());
  }
  EXPECT_EQ(std::count(s.calls.begin(), s.calls.end(), "b/y"), 20);
}

// Issue 4.1: retries on other deployments and fallbacks spend the budget too. Three
// deployments on three providers, all failing: the alias's bucket (10 tokens, retries while
// more than 5 are left) allows 3 retries in all (tokens 10 -> 9, 8, 7, 6: retries at 9, 8, 6),
// then every call makes one attempt: 3 + 2 + 98 x 1 = 103 for 100 calls.
TEST_F(DispatchTest, ThreeProvidersAllFailingAreNotAmplified) {
  Build(
      "  - name: m\n    deployments:\n      - {provider: a, model: x}\n"
      "      - {provider: b, model: y}\n      - {provider: c, model: z}\n");
  Script s{[](const Target&, int) -> Result<std::string> { return Status(500); }};
  int attempts = 0;
  for (int i = 0; i < 100; ++i) {
    AttemptLog log;
    EXPECT_FALSE(Call("m", s, log).ok());
    attempts += log.attempts;
  }
  EXPECT_EQ(attempts, 103);
  EXPECT_EQ(static_cast<int>(s.calls.size()), attempts);
  const auto* budget = dispatcher_->AliasBudgetFor("m");
  ASSERT_NE(budget, nullptr);
  EXPECT_FALSE(budget->AllowRetry());
  EXPECT_EQ(budget->throttled(), 98u + 1u);  // call 2's second retry, then one per call
}

TEST_F(DispatchTest, FallbacksEnteredAfterFailuresSpendTheBudget) {
  Build(
      "  - {name: m, provider: a, model: x, fallbacks: [n]}\n"
      "  - {name: n, provider: b, model: y}\n");
  Script s{[](const Target&, int) -> Result<std::string> { return Status(503); }};
  int attempts = 0;
  for (int i = 0; i < 100; ++i) {
    AttemptLog log;
    EXPECT_FALSE(Call("m", s, log).ok());
    attempts += log.attempts;
  }
  // Before: 3 attempts on a/x and 3 on the fallback per call (600).
  EXPECT_LE(attempts, 120);
  EXPECT_GE(attempts, 100);
  EXPECT_GT(
      dispatcher_->AliasBudgetFor("n")->throttled() + dispatcher_->BudgetFor("b")->throttled(), 0u);
}

TEST_F(DispatchTest, AHealthyFallbackKeepsServingADeadPrimary) {
  Build(
      "  - {name: m, provider: a, model: x, fallbacks: [n]}\n"
      "  - {name: n, provider: b, model: y}\n");
  Script s{[](const Target& t, int) -> Result<std::string> {
    if (t.label == "a/x") return Status(503);
    return t.label;
  }};
  int attempts = 0;
  for (int i = 0; i < 100; ++i) {
    AttemptLog log;
    auto r = Call("m", s, log);
    ASSERT_TRUE(r.ok()) << i;
    EXPECT_EQ(*r, "b/y");
    attempts += log.attempts;
  }
  // m's budget drains (no more retries on a/x), the fallback's stays full: 2 per call at last.
  EXPECT_LE(attempts, 2 * 100 + 10);
  EXPECT_FALSE(dispatcher_->AliasBudgetFor("m")->AllowRetry());
  EXPECT_TRUE(dispatcher_->AliasBudgetFor("n")->AllowRetry());
}

TEST_F(DispatchTest, AFallbackRefusedByItsBudgetIsSkippedForTheNext) {
  Build(
      "  - {name: m, provider: a, model: x, fallbacks: [n, b/z]}\n"
      "  - {name: n, provider: c, model: claude}\n");
  Script s{[](const Target& t, int) -> Result<std::string> {
    if (t.label == "b/z") return t.label;
    return Status(503);
  }};
  int attempts = 0;
  for (int i = 0; i < 100; ++i) {
    AttemptLog log;
    auto r = Call("m", s, log);
    ASSERT_TRUE(r.ok()) << i;
    EXPECT_EQ(*r, "b/z");
    attempts += log.attempts;
    if (i == 99) {
      // n's budget is drained: it is skipped, and not reported as a fallback used.
      EXPECT_EQ(log.fallbacks, std::vector<std::string>{"b/z"});
      EXPECT_EQ(log.attempts, 2);
    }
  }
  EXPECT_FALSE(dispatcher_->AliasBudgetFor("n")->AllowRetry());
  EXPECT_LE(attempts, 2 * 100 + 20);
}

TEST_F(DispatchTest, ContentPolicyFallbackIsNotGatedByTheBudget) {
  Build(
      "  - {name: m, provider: a, model: x, content_policy_fallback: b/lenient}\n"
      "  - {name: drain, provider: b, model: d}\n");
  // Drain provider b's budget with failures through another alias.
  Script fail{[](const Target&, int) -> Result<std::string> { return Status(500); }};
  for (int i = 0; i < 20; ++i) {
    AttemptLog log;
    (void)Call("drain", fail, log);
  }
  ASSERT_FALSE(dispatcher_->BudgetFor("b")->AllowRetry());
  Script s{[](const Target& t, int) -> Result<std::string> {
    if (t.label == "a/x") {
      Error e = Status(400);
      e.kind = ErrorKind::kContentFilter;
      return e;
    }
    return t.label;
  }};
  AttemptLog log;
  auto r = Call("m", s, log);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "b/lenient");
  EXPECT_EQ(log.attempts, 2);
}

TEST_F(DispatchTest, EjectedDeploymentGetsNoRetriesWhileOthersAreIn) {
  Build(
      "  - name: m\n    deployments:\n      - {provider: a, model: x}\n"
      "      - {provider: b, model: y}\n      - {provider: c, model: z}\n",
      "  outlier: {consecutive_failures: 1, base_ejection: 30s, max_ejection_percent: 34}\n"
      "  retry_budget: {max_tokens: 100}\n");
  Script s{[](const Target&, int) -> Result<std::string> { return Status(500); }};
  AttemptLog first;
  EXPECT_FALSE(Call("m", s, first).ok());
  const auto* set = dispatcher_->SetFor("m");
  int ejected = -1;
  for (int i = 0; i < 3; ++i) {
    if (set->Ejected(static_cast<size_t>(i))) ejected = i;
  }
  ASSERT_GE(ejected, 0);
  const std::string label = std::vector<std::string>{"a/x", "b/y", "c/z"}[ejected];
  // Three attempts (1 + 2 retries) with two deployments in rotation: never the ejected one.
  s.calls.clear();
  AttemptLog log;
  EXPECT_FALSE(Call("m", s, log).ok());
  EXPECT_EQ(log.attempts, 3);
  EXPECT_EQ(std::count(s.calls.begin(), s.calls.end(), label), 0) << label;
}

TEST_F(DispatchTest, TheAnswerHoldsItsDeploymentOutstandingUntilReleased) {
  Build(
      "  - name: m\n    strategy: least_outstanding\n    deployments:\n"
      "      - {provider: a, model: x}\n      - {provider: b, model: y}\n");
  Script s{[](const Target& t, int) -> Result<std::string> {
    if (t.label == "a/x") return Status(503);  // a failed attempt's load ends at once
    return t.label;
  }};
  const auto* set = dispatcher_->SetFor("m");
  auto log = std::make_unique<AttemptLog>();
  ASSERT_TRUE(Call("m", s, *log).ok());
  EXPECT_EQ(set->Outstanding(0), 0);
  EXPECT_EQ(set->Outstanding(1), 1);  // the body or stream is still flowing
  // While it flows, least_outstanding sends the next call elsewhere (a/x; then b/y after it
  // fails, which the earlier answer still holds).
  AttemptLog second;
  s.calls.clear();
  ASSERT_TRUE(Call("m", s, second).ok());
  EXPECT_EQ(s.calls.front(), "a/x");
  EXPECT_EQ(set->Outstanding(1), 2);
  second.outstanding.reset();
  EXPECT_EQ(set->Outstanding(1), 1);

  // The token keeps the set alive past the Dispatcher (a config reload mid-stream).
  dispatcher_.reset();
  log.reset();  // must not touch freed memory (ASan builds check it)
}

TEST_F(DispatchTest, AnswersThatFailAfterTheHeadCountTowardEjection) {
  Build(
      "  - name: m\n    deployments:\n      - {provider: a, model: x}\n"
      "      - {provider: b, model: y}\n      - {provider: c, model: z}\n",
      "  outlier: {consecutive_failures: 3, max_ejection_percent: 34}\n");
  Script s{[](const Target& t, int) -> Result<std::string> { return t.label; }};
  const auto* set = dispatcher_->SetFor("m");
  // Every answer of b/y is a stream cut mid-way (the caller reports it); the others are fine.
  int cut = 0;
  for (int i = 0; i < 60 && cut < 3; ++i) {
    AttemptLog log;
    ASSERT_TRUE(Call("m", s, log).ok());
    if (log.deployment == "b/y") {
      log.FailedAfterAnswer();
      log.FailedAfterAnswer();  // once per answer
      ++cut;
      EXPECT_EQ(set->Ejected(1), cut == 3) << cut;
    }
  }
  ASSERT_EQ(cut, 3);
  EXPECT_TRUE(set->Ejected(1));
  EXPECT_FALSE(set->Ejected(0));
  EXPECT_FALSE(set->Ejected(2));
  // Every answer's load ended with its release.
  EXPECT_EQ(set->Outstanding(0) + set->Outstanding(1) + set->Outstanding(2), 0);
}

TEST_F(DispatchTest, EveryAttemptOfACallCarriesTheSameIdempotencyKey) {
  Build(
      "  - {name: m, provider: a, model: x, fallbacks: [n]}\n"
      "  - name: n\n    deployments:\n      - {provider: b, model: y}\n"
      "      - {provider: c, model: z}\n");
  std::vector<std::string> keys;
  Script s{[&keys](const Target& t, int) -> Result<std::string> {
    keys.push_back(t.idempotency_key);
    return Status(503);
  }};
  AttemptLog log;
  EXPECT_FALSE(Call("m", s, log, 10s, "call-7").ok());
  ASSERT_GE(keys.size(), 4u);  // retries on a/x and the fallback's deployments
  for (const auto& k : keys) EXPECT_EQ(k, "mm-call-7");
}

TEST_F(DispatchTest, UnknownModelIsAnError) {
  Build("  - {name: m, provider: a, model: x}\n");
  Script s{[](const Target&, int) -> Result<std::string> { return std::string("x"); }};
  AttemptLog log;
  auto r = Call("nope-unknown", s, log);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "model_not_found");
  EXPECT_EQ(log.attempts, 0);
}

}  // namespace
}  // namespace modelmux::routing

namespace modelmux::routing {
namespace {

TEST(ProviderLimitsHeaders, ResetDurationsInGoAndPlainForms) {
  using std::chrono::milliseconds;
  EXPECT_EQ(ParseResetDuration("6m0s"), milliseconds(360'000));
  EXPECT_EQ(ParseResetDuration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(ParseResetDuration("20ms"), milliseconds(20));
  EXPECT_EQ(ParseResetDuration("1h2m3s"), milliseconds(3'723'000));
  EXPECT_EQ(ParseResetDuration("2"), milliseconds(2'000));
  EXPECT_EQ(ParseResetDuration("0s"), milliseconds(0));
  for (const char* bad : {"", "s", "1x", "-1s", "1s2", "abc", "1..2s"}) {
    EXPECT_FALSE(ParseResetDuration(bad).has_value()) << bad;
  }
}

TEST(ProviderLimitsHeaders, RemainingCountsWithTheirResets) {
  auto l = ProviderLimitsFrom("3", "1.2s", "4000", "6m0s");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->remaining_requests, 3);
  EXPECT_EQ(l->remaining_tokens, 4000);
  EXPECT_EQ(l->reset_requests, std::chrono::milliseconds(1'200));
  EXPECT_EQ(l->reset_tokens, std::chrono::milliseconds(360'000));
  // Only one of the two, or a reset that cannot be read (0: the caller's default pause).
  auto r = ProviderLimitsFrom("0", "soon", "", "");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->remaining_requests, 0);
  EXPECT_FALSE(r->remaining_tokens.has_value());
  EXPECT_EQ(r->reset_requests, std::chrono::milliseconds(0));
  EXPECT_FALSE(ProviderLimitsFrom("", "1s", "x", "1s").has_value());
}

}  // namespace
}  // namespace modelmux::routing
