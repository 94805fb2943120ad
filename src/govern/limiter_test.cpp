// govern::Limiter against a real redis-server on a free loopback port (several Limiter
// instances = several replicas), and without Redis; time is injected.
#include "govern/limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <future>

#include "govern/budget_store.hpp"
#include "store/redis.hpp"
#include "store/redis_test_server.hpp"
#include "telemetry/ledger.hpp"

namespace modelmux::govern {
namespace {

using namespace std::chrono;
using store::testing::Loop;
using store::testing::RedisServer;
using telemetry::Currency;
using telemetry::Money;
using Period = KeyLimits::Budget::Period;

// 2026-11-29T23:59:59Z: 20'786 days after the epoch (computed with `date -u -d 2026-11-29 +%s`
// = 1'795'910'400 s) plus 86'399 s.
constexpr int64_t kNov29 = 1'795'910'400;

struct FakeClock {
  std::shared_ptr<std::atomic<int64_t>> ms = std::make_shared<std::atomic<int64_t>>(0);
  std::function<system_clock::time_point()> Fn() const {
    auto p = ms;
    return [p] { return system_clock::time_point(milliseconds(p->load())); };
  }
  void Set(int64_t seconds) { ms->store(seconds * 1000); }
  void Advance(milliseconds d) { ms->fetch_add(d.count()); }
};

Money Usd(int64_t micros) {
  return {micros, Currency::kUsd};
}

KeyLimits BudgetOnly(Period p, Money limit) {
  KeyLimits l;
  l.budgets.push_back({p, limit});
  return l;
}

class LimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!store::testing::RedisAvailable()) GTEST_SKIP() << "redis-server is not installed";
    server = RedisServer::Start();
    ASSERT_TRUE(server);
    clock.Set(kNov29 + 12 * 3600);
  }
  std::shared_ptr<store::RedisClient> Client() {
    store::RedisOptions o;
    o.seeds = {server->address()};
    o.breaker_failures = 1;
    o.breaker_open = milliseconds(200);
    return store::RedisClient::Create(loop.io.get_executor(), o);
  }
  std::shared_ptr<Limiter> Make(std::shared_ptr<store::RedisClient> redis, LimiterOptions o = {}) {
    o.clock = clock.Fn();
    return Limiter::Create(std::move(redis), std::move(o));
  }
  // Runs `n` Admit calls at once, spread over `limiters`; returns the results.
  std::vector<Result<Admission>> Burst(const std::vector<std::shared_ptr<Limiter>>& limiters, int n,
                                       const KeyLimits& l, int64_t tokens,
                                       std::optional<Money> cost) {
    std::vector<std::future<Result<Admission>>> fs;
    for (int i = 0; i < n; ++i) {
      auto& lim = limiters[static_cast<size_t>(i) % limiters.size()];
      fs.push_back(boost::asio::co_spawn(loop.io, lim->Admit("k1", l, tokens, cost),
                                         boost::asio::use_future));
    }
    std::vector<Result<Admission>> out;
    for (auto& f : fs) out.push_back(f.get());
    return out;
  }
  static int Admitted(const std::vector<Result<Admission>>& rs) {
    int n = 0;
    for (const auto& r : rs) n += r.ok() ? 1 : 0;
    return n;
  }

  std::unique_ptr<RedisServer> server;
  FakeClock clock;
  Loop loop;
};

TEST(PeriodKeyTest, UtcDaysAndMonths) {
  const auto t = system_clock::time_point(seconds(kNov29 + 86'399));  // 2026-11-29T23:59:59Z
  EXPECT_EQ(PeriodKeyFor(Period::kDay, t).suffix, "day:20261129");
  EXPECT_EQ(PeriodKeyFor(Period::kMonth, t).suffix, "month:202611");
  EXPECT_EQ(PeriodKeyFor(Period::kDay, t).start, system_clock::time_point(seconds(kNov29)));
  const auto dec1 = system_clock::time_point(seconds(kNov29 + 2 * 86'400));  // 2026-12-01
  EXPECT_EQ(PeriodKeyFor(Period::kDay, dec1).suffix, "day:20261201");
  EXPECT_EQ(PeriodKeyFor(Period::kMonth, dec1).suffix, "month:202612");
  // November 2026 starts 28 days before the 29th.
  EXPECT_EQ(PeriodKeyFor(Period::kMonth, t).start,
            system_clock::time_point(seconds(kNov29 - 28 * 86'400)));
  EXPECT_EQ(PeriodKeyFor(Period::kTotal, t).expire_at_ms, 0);
}

// reliability.md 2: $0.01 left, 50 simultaneous requests at $0.005 -> at most 2 admitted.
TEST_F(LimiterTest, ConcurrentAdmitsOnOneCentBudgetAcrossThreeReplicas) {
  std::vector<std::shared_ptr<Limiter>> replicas{Make(Client()), Make(Client()), Make(Client())};
  const auto l = BudgetOnly(Period::kTotal, Usd(10'000));
  auto rs = Burst(replicas, 50, l, 100, Usd(5'000));
  EXPECT_EQ(Admitted(rs), 2);
  for (const auto& r : rs) {
    if (r.ok()) continue;
    EXPECT_EQ(r.error().kind, ErrorKind::kBudgetExceeded);
    EXPECT_EQ(r.error().code, "budget_exceeded");
    EXPECT_EQ(r.error().message, "total budget exhausted: $0 left of $0.01");
  }
  auto states = loop.Run(replicas[0]->Budgets("k1", l));
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].reserved.micros, 10'000);
  EXPECT_EQ(states[0].spent.micros, 0);

  // Settle one to $0.003 and release the other: $0.007 remains.
  std::vector<Admission> ok;
  for (auto& r : rs) {
    if (r.ok()) ok.push_back(std::move(r).value());
  }
  loop.Run(replicas[1]->Settle(ok[0], 80, Usd(3'000)));
  loop.Run(replicas[2]->Release(ok[1]));
  loop.Run(replicas[2]->Release(ok[1]));  // a second call does nothing
  states = loop.Run(replicas[0]->Budgets("k1", l));
  EXPECT_EQ(states[0].spent.micros, 3'000);
  EXPECT_EQ(states[0].reserved.micros, 0);
  EXPECT_EQ(states[0].remaining.micros, 7'000);

  auto third = loop.Run(replicas[0]->Admit("k1", l, 100, Usd(5'000)));
  ASSERT_TRUE(third.ok());
  auto fourth = loop.Run(replicas[1]->Admit("k1", l, 100, Usd(5'000)));
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.error().message, "total budget exhausted: $0.002 left of $0.01");
}

// reliability.md 1: three replicas, a key limited to 10 requests per window -> 10, not 30.
TEST_F(LimiterTest, WindowHoldsAcrossThreeReplicas) {
  std::vector<std::shared_ptr<Limiter>> replicas{Make(Client()), Make(Client()), Make(Client())};
  KeyLimits l;
  l.rpm = 10;
  l.window = seconds(60);
  auto rs = Burst(replicas, 30, l, 10, std::nullopt);
  EXPECT_EQ(Admitted(rs), 10);
  for (const auto& r : rs) {
    if (r.ok()) continue;
    EXPECT_EQ(r.error().kind, ErrorKind::kRateLimited);
    ASSERT_TRUE(r.error().retry_after);
    EXPECT_GT(*r.error().retry_after, milliseconds(0));
    EXPECT_LE(*r.error().retry_after, seconds(60));
  }
  // Half a window later: still full. A whole window after the burst: 10 more, not 11.
  clock.Advance(seconds(30));
  EXPECT_EQ(Admitted(Burst(replicas, 5, l, 10, std::nullopt)), 0);
  clock.Advance(seconds(30));
  EXPECT_EQ(Admitted(Burst(replicas, 15, l, 10, std::nullopt)), 10);
  for (const auto& r : replicas) EXPECT_EQ(r->stats().local_fallbacks, 0u);
}

TEST_F(LimiterTest, TokenWindowAndReleaseGivesBack) {
  auto a = Make(Client());
  auto b = Make(Client());
  KeyLimits l;
  l.tpm = 1'000;
  l.window = seconds(10);
  auto r1 = loop.Run(a->Admit("k1", l, 600, std::nullopt));
  ASSERT_TRUE(r1.ok());
  auto r2 = loop.Run(b->Admit("k1", l, 600, std::nullopt));
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().code, "key_rate_limited");
  // Settled to 300 actual tokens: 700 left, so 600 fit now.
  loop.Run(a->Settle(*r1, 300, std::nullopt));
  auto r3 = loop.Run(b->Admit("k1", l, 600, std::nullopt));
  ASSERT_TRUE(r3.ok());
  loop.Run(b->Release(*r3));
  auto r4 = loop.Run(a->Admit("k1", l, 700, std::nullopt));
  EXPECT_TRUE(r4.ok());
}

TEST_F(LimiterTest, DailyBudgetRollsOverAtUtcMidnight) {
  auto lim = Make(Client());
  KeyLimits l;
  l.budgets.push_back({Period::kDay, Usd(10'000)});
  l.budgets.push_back({Period::kMonth, Usd(100'000)});
  clock.Set(kNov29 + 86'399);  // 23:59:59Z
  auto r = loop.Run(lim->Admit("k1", l, 10, Usd(10'000)));
  ASSERT_TRUE(r.ok());
  loop.Run(lim->Settle(*r, 10, Usd(10'000)));
  auto refused = loop.Run(lim->Admit("k1", l, 10, Usd(1)));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "daily budget exhausted: $0 left of $0.01");
  clock.Set(kNov29 + 86'401);  // 2026-11-30T00:00:01Z: a new day, the same month
  auto next = loop.Run(lim->Admit("k1", l, 10, Usd(10'000)));
  ASSERT_TRUE(next.ok());
  auto states = loop.Run(lim->Budgets("k1", l));
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].spent.micros, 0);
  EXPECT_EQ(states[0].reserved.micros, 10'000);
  EXPECT_EQ(states[1].spent.micros, 10'000);  // the month keeps yesterday's spend
  EXPECT_EQ(states[1].reserved.micros, 10'000);
  // The day key expires (PEXPIREAT set); the total key has none.
  const std::string ttl = server->Cli("PTTL 'mm:v1:budget:{k1}:day:20261130:usd'");
  EXPECT_GT(std::atoll(ttl.c_str()), 0);
}

TEST_F(LimiterTest, CurrencyConversionAndUnpricedModels) {
  LimiterOptions o;
  o.currency_rates.push_back({Currency::kUsd, Currency::kCny, 7.2});
  auto lim = Make(Client(), o);
  const auto l = BudgetOnly(Period::kTotal, Money{100'000, Currency::kCny});  // ¥0.1
  // $0.01 = ¥0.072: one fits, the second does not (¥0.028 left).
  auto first = loop.Run(lim->Admit("k1", l, 10, Usd(10'000)));
  ASSERT_TRUE(first.ok());
  auto second = loop.Run(lim->Admit("k1", l, 10, Usd(10'000)));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "total budget exhausted: ¥0.028 left of ¥0.1");
  EXPECT_EQ(lim->Convert(Money{72'000, Currency::kCny}, Currency::kUsd, false), Usd(10'000));

  auto no_rate = Make(Client());
  auto refused = loop.Run(no_rate->Admit("k2", l, 10, Usd(10)));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "budget_currency_unconvertible");
  auto unpriced = loop.Run(no_rate->Admit("k2", l, 10, std::nullopt));
  ASSERT_FALSE(unpriced.ok());
  EXPECT_EQ(unpriced.error().code, "model_unpriced");
  // Without budgets the price does not matter.
  EXPECT_TRUE(loop.Run(no_rate->Admit("k2", KeyLimits{}, 10, std::nullopt)).ok());
  LimiterOptions allow;
  allow.allow_unpriced = true;
  auto lenient = Make(Client(), allow);
  EXPECT_TRUE(loop.Run(lenient->Admit("k3", l, 10, std::nullopt)).ok());
}

TEST_F(LimiterTest, AbandonedReservationsExpire) {
  LimiterOptions o;
  o.reservation_ttl = seconds(5);
  auto dead_replica = Make(Client(), o);
  auto live = Make(Client(), o);
  const auto l = BudgetOnly(Period::kTotal, Usd(10'000));
  ASSERT_TRUE(loop.Run(dead_replica->Admit("k1", l, 10, Usd(10'000))).ok());  // never settled
  EXPECT_FALSE(loop.Run(live->Admit("k1", l, 10, Usd(10'000))).ok());
  clock.Advance(seconds(6));
  EXPECT_TRUE(loop.Run(live->Admit("k1", l, 10, Usd(10'000))).ok());
}

TEST_F(LimiterTest, RedisKilledFallsBackLocallyAndComesBack) {
  auto lim = Make(Client());
  KeyLimits l;
  l.rpm = 100;
  l.budgets.push_back({Period::kTotal, Usd(1'000'000)});
  ASSERT_TRUE(loop.Run(lim->Admit("k1", l, 10, Usd(1'000))).ok());
  EXPECT_EQ(lim->stats().local_fallbacks, 0u);
  const uint16_t port = server->port();
  server->Kill();
  for (int i = 0; i < 3; ++i) {
    auto r = loop.Run(lim->Admit("k1", l, 10, Usd(1'000)));
    ASSERT_TRUE(r.ok()) << r.error().message;  // served although Redis is gone
    loop.Run(lim->Settle(*r, 10, Usd(1'000)));
  }
  const auto during = lim->stats().local_fallbacks;
  EXPECT_GE(during, 6u);  // the window and the budget of each of the three
  server = RedisServer::Start({}, port);
  ASSERT_TRUE(server);
  bool shared_again = false;
  for (int i = 0; i < 100 && !shared_again; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    const auto before = lim->stats().local_fallbacks;
    auto r = loop.Run(lim->Admit("k1", l, 10, Usd(1'000)));
    ASSERT_TRUE(r.ok());
    shared_again = lim->stats().local_fallbacks == before;
  }
  EXPECT_TRUE(shared_again);
  EXPECT_EQ(server->Cli("EXISTS 'mm:v1:budget:{k1}:total:usd'"), "1\n");
}

TEST(LimiterLocalTest, NoRedisSeededFromDurableSpend) {
  Loop loop;
  LimiterOptions o;
  o.clock = [] { return system_clock::time_point(seconds(kNov29 + 3600)); };
  o.durable_spend = [](std::string_view key, Period p, system_clock::time_point start,
                       Currency c) -> int64_t {
    if (key != "k1" || p != Period::kDay || c != Currency::kUsd) return 0;
    return start == system_clock::time_point(seconds(kNov29)) ? 8'000 : 0;
  };
  auto lim = Limiter::Create(nullptr, o);
  const auto l = BudgetOnly(Period::kDay, Usd(10'000));
  auto r = loop.Run(lim->Admit("k1", l, 10, Usd(5'000)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "daily budget exhausted: $0.002 left of $0.01");
  EXPECT_TRUE(loop.Run(lim->Admit("k1", l, 10, Usd(2'000))).ok());
  KeyLimits w;
  w.rpm = 3;
  int admitted = 0;
  for (int i = 0; i < 5; ++i) admitted += loop.Run(lim->Admit("k1", w, 1, std::nullopt)).ok();
  EXPECT_EQ(admitted, 3);
  EXPECT_EQ(lim->stats().local_fallbacks, 0u);  // no Redis configured: not a fallback
}

// The ledger as durable spend: the key's priced rows since the period's start, other currencies
// converted, other keys and older rows left out; a limiter seeded from it refuses what the
// ledger's spend leaves no room for (a restart).
TEST(LedgerSpendTest, SeedsABudgetFromTheLedger) {
  const auto dir = store::testing::MakeTempDir("ledger-spend");
  const std::string path = (dir / "ledger.db").string();
  const int64_t day_ms = kNov29 * 1000;
  {
    telemetry::LedgerOptions lo;
    lo.path = path;
    auto ledger = telemetry::Ledger::Open(lo);
    ASSERT_TRUE(ledger.ok()) << ledger.error().message;
    auto row = [](std::string key, int64_t t, std::optional<int64_t> micros, std::string cur) {
      telemetry::LedgerRow r;
      r.request_id = "req-" + std::to_string(t) + key;
      r.time_ms = t;
      r.key_id = std::move(key);
      r.model = "m";
      r.status = 200;
      r.cost_micros = micros;
      r.currency = std::move(cur);
      return r;
    };
    (*ledger)->Append(row("k1", day_ms + 1000, 3'000, "USD"));
    (*ledger)->Append(row("k1", day_ms + 2000, 7'200, "CNY"));      // 1'000 micro-USD at 7.2
    (*ledger)->Append(row("k1", day_ms + 3000, std::nullopt, ""));  // unpriced
    (*ledger)->Append(row("k1", day_ms - 1000, 50'000, "USD"));     // the day before
    (*ledger)->Append(row("k2", day_ms + 1000, 90'000, "USD"));     // another key
    (*ledger)->Flush();
  }
  const std::vector<CurrencyRate> rates{{Currency::kUsd, Currency::kCny, 7.2}};
  auto spend = LedgerSpend(path, rates);
  const auto day = system_clock::time_point(milliseconds(day_ms));
  EXPECT_EQ(spend("k1", Period::kDay, day, Currency::kUsd), 4'000);
  EXPECT_EQ(spend("k1", Period::kTotal, system_clock::time_point{}, Currency::kUsd), 54'000);
  EXPECT_EQ(spend("k1", Period::kDay, day, Currency::kCny), 28'800);  // 3'000 * 7.2 + 7'200
  EXPECT_EQ(spend("k3", Period::kDay, day, Currency::kUsd), 0);
  EXPECT_EQ(LedgerSpend((dir / "none.db").string(), rates)("k1", Period::kDay, day, Currency::kUsd),
            0);

  Loop loop;
  LimiterOptions o;
  o.clock = [day_ms] { return system_clock::time_point(milliseconds(day_ms + 3'600'000)); };
  o.durable_spend = spend;
  auto lim = Limiter::Create(nullptr, o);
  const auto l = BudgetOnly(Period::kDay, Usd(10'000));
  auto refused = loop.Run(lim->Admit("k1", l, 10, Usd(6'001)));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "budget_exceeded");
  EXPECT_TRUE(loop.Run(lim->Admit("k1", l, 10, Usd(6'000))).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace modelmux::govern
