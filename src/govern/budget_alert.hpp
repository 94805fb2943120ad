#pragma once
// Budget alerts (config limits.alert_thresholds, limits.alert_webhook; docs/TEXT.md "cost
// control"): when a key's spend in one of its budgets (daily, monthly, total) reaches a configured
// fraction of the limit, one alert is raised for that key, budget, period and threshold:
//  - a JSON log line on stderr: {"level":"warn","msg":"budget alert","key_id":..,"key_name":..,
//    "budget":"daily","period":"day:20261129","threshold":0.8,"spent":"$0.0081",
//    "limit":"$0.01","spent_micros":..,"limit_micros":..,"currency":"USD","refused":false}
//    (the key's id and name only: a secret never reaches this code);
//  - the counter modelmux_budget_alerts_total{key,budget,threshold} (when one is installed);
//  - a POST of the same JSON object to limits.alert_webhook (when set), sent on the caller's
//    executor in a detached coroutine bounded by alert_webhook_timeout; failures are logged
//    (without the URL, which may hold a token) and counted, never retried, never awaited.
// A threshold counts as reached when spent >= ceil(threshold * limit); the threshold 1 also when a
// request was refused because the budget could not hold it (spend stops short of the limit when
// reservations refuse what would overrun it).
//
// Once per period: each replica remembers what it raised; with Redis, a marker
// "<prefix>:alert:{<key id>}:<budget>:<period>:<threshold>" set with SET NX (expiring with the
// period) decides which replica raises it, so three replicas raise one alert. When Redis fails the
// replica raises it on its own (at worst once per replica).
//
// Thread-safe; one per process.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "govern/limiter.hpp"
#include "telemetry/metrics.hpp"

namespace modelmux::store {
class RedisClient;
}

namespace modelmux::govern {

struct BudgetAlertOptions {
  std::vector<double> thresholds;  // fractions in (0, 1]; empty: alerts off
  std::string webhook;             // http(s) URL; empty: no webhook
  std::chrono::milliseconds webhook_timeout{5'000};
  std::string prefix = "mm:v1";
  std::function<std::chrono::system_clock::time_point()> clock = std::chrono::system_clock::now;
};

struct BudgetAlert {
  std::string key_id;
  std::string key_name;
  KeyLimits::Budget::Period period = KeyLimits::Budget::Period::kTotal;
  std::string period_id;  // "day:20261129", "month:202611", "total"
  telemetry::Money spent, limit;
  double threshold = 0;
  bool refused = false;  // raised by a refusal (budget exhausted), not by spend alone
};

// Pure. The thresholds (ascending, without duplicates) reached by `spent` micro-units in a budget
// of `limit`: spent >= ceil(threshold * limit); with `exhausted` (a refusal) also a threshold 1.
[[nodiscard]] std::vector<double> ReachedThresholds(int64_t spent, int64_t limit,
                                                    std::vector<double> thresholds,
                                                    bool exhausted = false);
// "0.5", "0.8", "1": the shortest decimal form (labels, markers, payloads).
[[nodiscard]] std::string ThresholdLabel(double threshold);
// The alert as one JSON object (the webhook's payload and the log line's fields).
[[nodiscard]] std::string BudgetAlertJson(const BudgetAlert& alert);

class BudgetAlerter {
 public:
  // `redis` may be null (markers in this process only).
  BudgetAlerter(std::shared_ptr<store::RedisClient> redis, BudgetAlertOptions options);
  ~BudgetAlerter();
  BudgetAlerter(const BudgetAlerter&) = delete;
  BudgetAlerter& operator=(const BudgetAlerter&) = delete;

  [[nodiscard]] bool enabled() const { return !options_.thresholds.empty(); }
  // modelmux_budget_alerts_total{key,budget,threshold}; not owned; before serving.
  void SetCounter(telemetry::CounterFamily* counter) { counter_ = counter; }

  // Raises the alerts newly reached by `states` (a key's budgets, as Limiter::Budgets gives them;
  // `exhausted[i]`: budget i refused a request; may be shorter than `states`). Returns how many
  // this call raised.
  boost::asio::awaitable<int> Observe(std::string key_id, std::string key_name,
                                      std::vector<BudgetState> states,
                                      std::vector<bool> exhausted = {});

  [[nodiscard]] uint64_t raised() const { return raised_.load(); }
  [[nodiscard]] uint64_t webhook_failures() const { return state_->webhook_failures.load(); }

  struct Shared {  // outlives detached webhook calls
    std::atomic<uint64_t> webhook_failures{0};
    std::atomic<uint64_t> webhook_sent{0};
  };

 private:
  // True when this replica should raise the alert named `marker` (first to claim it).
  boost::asio::awaitable<bool> Claim(std::string marker, int64_t expire_at_ms);
  void Raise(const BudgetAlert& alert, boost::asio::any_io_executor executor);

  std::shared_ptr<store::RedisClient> redis_;
  BudgetAlertOptions options_;
  telemetry::CounterFamily* counter_ = nullptr;
  std::mutex mu_;
  std::set<std::string> claimed_;  // guarded by mu_
  std::atomic<uint64_t> raised_{0};
  std::shared_ptr<Shared> state_;
};

}  // namespace modelmux::govern
