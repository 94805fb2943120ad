// Budget alerts: which thresholds a spend reaches, the payload, once per period per process, once
// across three alerters sharing a real redis-server, and a webhook failure that is counted.
#include "govern/budget_alert.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <future>
#include <thread>

#include "store/redis.hpp"
#include "store/redis_test_server.hpp"

namespace modelmux::govern {
namespace {

using namespace std::chrono;
using store::testing::Loop;
using telemetry::Currency;
using telemetry::Money;
using Period = KeyLimits::Budget::Period;

// 2026-11-29T00:00:00Z (`date -u -d 2026-11-29 +%s`).
constexpr int64_t kNov29 = 1'795'910'400;

BudgetState State(Period p, int64_t spent, int64_t limit) {
  BudgetState s;
  s.period = p;
  s.limit = {limit, Currency::kUsd};
  s.spent = {spent, Currency::kUsd};
  s.remaining = {std::max<int64_t>(limit - spent, 0), Currency::kUsd};
  return s;
}

TEST(ReachedThresholdsTest, SpendReachesEachFractionOfTheLimit) {
  const std::vector<double> t{0.8, 0.5, 1.0, 0.5};  // unsorted, with a duplicate
  EXPECT_TRUE(ReachedThresholds(0, 10'000, t).empty());
  EXPECT_TRUE(ReachedThresholds(4'999, 10'000, t).empty());
  EXPECT_EQ(ReachedThresholds(5'000, 10'000, t), (std::vector<double>{0.5}));
  EXPECT_EQ(ReachedThresholds(7'999, 10'000, t), (std::vector<double>{0.5}));
  EXPECT_EQ(ReachedThresholds(8'000, 10'000, t), (std::vector<double>{0.5, 0.8}));
  EXPECT_EQ(ReachedThresholds(9'999, 10'000, t), (std::vector<double>{0.5, 0.8}));
  EXPECT_EQ(ReachedThresholds(10'000, 10'000, t), (std::vector<double>{0.5, 0.8, 1.0}));
  EXPECT_EQ(ReachedThresholds(25'000, 10'000, t), (std::vector<double>{0.5, 0.8, 1.0}));
  // Half of 3 micro-units is 1.5: reached at 2, not at 1 (rounded up, never down).
  EXPECT_TRUE(ReachedThresholds(1, 3, {0.5}).empty());
  EXPECT_EQ(ReachedThresholds(2, 3, {0.5}), (std::vector<double>{0.5}));
  // A budget of nothing reaches nothing by spend.
  EXPECT_TRUE(ReachedThresholds(0, 0, t).empty());
}

TEST(ReachedThresholdsTest, ARefusalReachesTheWholeBudgetOnly) {
  EXPECT_EQ(ReachedThresholds(0, 10'000, {0.5, 0.8, 1.0}, true), (std::vector<double>{1.0}));
  EXPECT_EQ(ReachedThresholds(6'000, 10'000, {0.5, 0.8, 1.0}, true),
            (std::vector<double>{0.5, 1.0}));
  EXPECT_TRUE(ReachedThresholds(0, 10'000, {0.5, 0.8}, true).empty());
}

TEST(BudgetAlertTest, LabelsAndPayload) {
  EXPECT_EQ(ThresholdLabel(0.5), "0.5");
  EXPECT_EQ(ThresholdLabel(1.0), "1");
  EXPECT_EQ(ThresholdLabel(0.75), "0.75");
  BudgetAlert a;
  a.key_id = "key_0123456789abcdef";
  a.key_name = "team \"a\"";
  a.period = Period::kDay;
  a.period_id = "day:20261129";
  a.spent = {8'100, Currency::kUsd};
  a.limit = {10'000, Currency::kUsd};
  a.threshold = 0.8;
  boost::system::error_code ec;
  auto v = boost::json::parse(BudgetAlertJson(a), ec);
  ASSERT_FALSE(ec) << BudgetAlertJson(a);
  const auto& o = v.as_object();
  EXPECT_EQ(o.at("key_id").as_string(), "key_0123456789abcdef");
  EXPECT_EQ(o.at("key_name").as_string(), "team \"a\"");
  EXPECT_EQ(o.at("budget").as_string(), "daily");
  EXPECT_EQ(o.at("period").as_string(), "day:20261129");
  EXPECT_DOUBLE_EQ(o.at("threshold").to_number<double>(), 0.8);
  EXPECT_EQ(o.at("spent_micros").as_int64(), 8'100);
  EXPECT_EQ(o.at("limit_micros").as_int64(), 10'000);
  EXPECT_EQ(o.at("currency").as_string(), "USD");
  EXPECT_EQ(o.at("refused").as_bool(), false);
}

class BudgetAlerterTest : public ::testing::Test {
 protected:
  BudgetAlertOptions Options() {
    BudgetAlertOptions o;
    o.thresholds = {0.5, 0.8, 1.0};
    o.clock = [this] { return system_clock::time_point(seconds(now_s.load())); };
    return o;
  }
  int Observe(BudgetAlerter& a, std::vector<BudgetState> states, std::vector<bool> ex = {}) {
    return loop.Run(a.Observe("key_1", "team", std::move(states), std::move(ex)));
  }
  std::atomic<int64_t> now_s{kNov29 + 3600};
  Loop loop;
};

TEST_F(BudgetAlerterTest, OncePerThresholdAndPeriodInOneProcess) {
  telemetry::Registry registry;
  auto& counter = registry.AddCounter("alerts", "test", {"key", "budget", "threshold"});
  BudgetAlerter alerts(nullptr, Options());
  alerts.SetCounter(&counter);
  EXPECT_EQ(Observe(alerts, {State(Period::kDay, 4'000, 10'000)}), 0);
  EXPECT_EQ(Observe(alerts, {State(Period::kDay, 5'500, 10'000)}), 1);
  EXPECT_EQ(Observe(alerts, {State(Period::kDay, 6'000, 10'000)}), 0);  // 0.5 already raised
  EXPECT_EQ(Observe(alerts, {State(Period::kDay, 9'000, 10'000)}), 1);  // 0.8
  EXPECT_DOUBLE_EQ(counter.With({"key_1", "daily", "0.5"}).Value(), 1);
  EXPECT_DOUBLE_EQ(counter.With({"key_1", "daily", "0.8"}).Value(), 1);
  // A refusal raises 1 once; spend at 100% later raises nothing more.
  EXPECT_EQ(Observe(alerts, {State(Period::kDay, 9'000, 10'000)}, {true}), 1);
  EXPECT_EQ(Observe(alerts, {State(Period::kDay, 10'000, 10'000)}), 0);
  EXPECT_DOUBLE_EQ(counter.With({"key_1", "daily", "1"}).Value(), 1);
  // The total budget is another budget; the next UTC day is another period.
  EXPECT_EQ(Observe(alerts, {State(Period::kTotal, 5'000, 10'000)}), 1);
  now_s += 86'400;
  EXPECT_EQ(Observe(alerts, {State(Period::kDay, 5'000, 10'000)}), 1);
  EXPECT_EQ(Observe(alerts, {State(Period::kTotal, 5'000, 10'000)}), 0);
  EXPECT_EQ(alerts.raised(), 5u);
}

TEST_F(BudgetAlerterTest, DisabledWithoutThresholds) {
  BudgetAlertOptions o = Options();
  o.thresholds.clear();
  BudgetAlerter alerts(nullptr, o);
  EXPECT_FALSE(alerts.enabled());
  EXPECT_EQ(Observe(alerts, {State(Period::kDay, 10'000, 10'000)}), 0);
}

TEST_F(BudgetAlerterTest, ThreeReplicasSharingRedisRaiseEachAlertOnce) {
  if (!store::testing::RedisAvailable()) GTEST_SKIP() << "redis-server is not installed";
  auto server = store::testing::RedisServer::Start();
  ASSERT_TRUE(server);
  store::RedisOptions ro;
  ro.seeds = {server->address()};
  std::vector<std::unique_ptr<BudgetAlerter>> replicas;
  for (int i = 0; i < 3; ++i) {
    replicas.push_back(std::make_unique<BudgetAlerter>(
        store::RedisClient::Create(loop.io.get_executor(), ro), Options()));
  }
  // Every replica sees the same spend at once, several times.
  std::vector<std::future<int>> fs;
  for (int round = 0; round < 4; ++round) {
    for (auto& r : replicas) {
      fs.push_back(boost::asio::co_spawn(
          loop.io, r->Observe("key_1", "team", {State(Period::kMonth, 8'500, 10'000)}),
          boost::asio::use_future));
    }
  }
  int raised = 0;
  for (auto& f : fs) raised += f.get();
  EXPECT_EQ(raised, 2);  // 0.5 and 0.8, once each across the three
  EXPECT_EQ(server->Cli("EXISTS 'mm:v1:alert:{key_1}:monthly:month:202611:0.8'"), "1\n");
  // The marker expires with its month (35 days after it ends).
  EXPECT_NE(server->Cli("PTTL 'mm:v1:alert:{key_1}:monthly:month:202611:0.8'"), "-1\n");
}

TEST_F(BudgetAlerterTest, AWebhookThatCannotBeReachedIsCountedAsFailed) {
  BudgetAlertOptions o = Options();
  // A port nobody listens on: connect is refused at once.
  o.webhook = "http://127.0.0.1:1/alerts";
  o.webhook_timeout = milliseconds(500);
  BudgetAlerter alerts(nullptr, o);
  EXPECT_EQ(Observe(alerts, {State(Period::kTotal, 5'000, 10'000)}), 1);
  const auto deadline = steady_clock::now() + seconds(5);
  while (alerts.webhook_failures() == 0 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(alerts.webhook_failures(), 1u);
}

}  // namespace
}  // namespace modelmux::govern
