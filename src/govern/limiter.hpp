#pragma once
// Per-key admission: rate windows (requests and tokens per window) and budgets (per UTC day,
// per UTC month, in total), exact across replicas when they share a Redis.
//
// Admit() checks the key's sliding rate window first (resilience::SharedWindow, kSliding), then
// reserves the request's estimated cost (prompt tokens + max tokens at the model's price) in every
// budget of the key, all budgets in one atomic Lua script: a reservation is made only when
// spent + reserved + estimate <= limit for each budget, so 50 concurrent requests on a $0.01
// budget admit only what fits. Settle() turns the reservation into the actual cost (which may
// exceed the estimate: spend is what was used); Release() gives it all back (request failed).
//
// In Redis (keys "mm:v1:budget:{<key id>}:<day|month|total>[:<YYYYMMDD|YYYYMM>]", hashes of
// micro-units: spent, reserved and one field per open reservation; day keys expire 2 days after
// their day, month keys 35 days after their month): a reservation not settled within
// reservation_ttl (a replica died mid-request) is dropped by the next script that touches the
// key. Without Redis (redis null) or while it is unreachable: windows and budgets are kept in
// this process's memory (counted in Stats::local_fallbacks when Redis was configured). Budget
// state in memory or in a new Redis period is seeded from `durable_spend` (the SQLite ledger:
// LedgerSpend in budget_store.hpp; the gateway's Gatekeeper wires it) when given, so a restart
// does not reset a budget; Redis counters are approximate after a failover, the ledger is the
// record.
//
// Money: a budget has one currency (its limit's). A cost in another currency is converted by
// `currency_rates` (reservations round up, settlements to nearest) or the request is refused
// (code "budget_currency_unconvertible"). A request with no known price (estimated_cost
// nullopt) under a budgeted key is refused (code "model_unpriced") unless allow_unpriced.
//
// Days and months are UTC, from the injected clock. Thread-safe; one Limiter per process.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "resilience/shared_window.hpp"
#include "telemetry/price_table.hpp"

namespace modelmux::store {
class RedisClient;
}

namespace modelmux::govern {

struct KeyLimits {
  uint64_t rpm = 0;  // requests per window; 0 = no limit
  uint64_t tpm = 0;  // tokens per window; 0 = no limit
  std::chrono::milliseconds window{60'000};
  struct Budget {
    enum class Period { kDay, kMonth, kTotal };
    Period period = Period::kTotal;
    telemetry::Money limit;  // its currency is the budget's
  };
  std::vector<Budget> budgets;  // at most one per period
};

// "daily", "monthly", "total".
[[nodiscard]] std::string_view BudgetPeriodName(KeyLimits::Budget::Period period);

// 1 `from` = `rate` `to` (config `limits.currency_rates: {USD_CNY: 7.2}`); the inverse direction
// is derived when only one is given.
struct CurrencyRate {
  telemetry::Currency from = telemetry::Currency::kUsd;
  telemetry::Currency to = telemetry::Currency::kCny;
  double rate = 0;
};

// From config `limits.currency_rates` ({"USD_CNY": 7.2, ...}); unknown names are skipped.
[[nodiscard]] std::vector<CurrencyRate> CurrencyRatesFrom(const std::map<std::string, double>& m);

// Spend already recorded for a key in a period (from the ledger), in `currency` micro-units;
// `period_start` is the UTC start of the day or month (epoch for kTotal).
using DurableSpendFn = std::function<int64_t(
    std::string_view key_id, KeyLimits::Budget::Period period,
    std::chrono::system_clock::time_point period_start, telemetry::Currency currency)>;

struct LimiterOptions {
  std::vector<CurrencyRate> currency_rates;
  bool allow_unpriced = false;  // limits.allow_unpriced
  std::function<std::chrono::system_clock::time_point()> clock = std::chrono::system_clock::now;
  DurableSpendFn durable_spend;  // may be empty
  std::chrono::milliseconds reservation_ttl{600'000};
  std::string prefix = "mm:v1";
};

// A reservation made by Admit; pass it to exactly one of Settle or Release (a second call does
// nothing). Movable; its fields are the Limiter's, not the caller's.
struct Admission {
  struct Hold {
    KeyLimits::Budget::Period period = KeyLimits::Budget::Period::kTotal;
    std::string store_key;  // the period's key (Redis key or in-memory name)
    telemetry::Currency currency = telemetry::Currency::kUsd;
    int64_t micros = 0;   // reserved
    bool shared = false;  // held in Redis
  };
  std::string key_id;
  std::string id;  // the reservation id
  int64_t tokens = 0;
  std::optional<resilience::SharedWindow::Ticket> window;
  struct WindowLimits {
    uint64_t rpm = 0, tpm = 0;
    std::chrono::milliseconds window{60'000};
  } window_limits;
  std::vector<Hold> holds;
  std::vector<KeyLimits::Budget> budgets;  // the key's budgets at admission (for Budgets())
  std::string key_name;                    // the caller's to fill (budget alerts name the key)
  bool done = false;
};

// One budget's state, for GET /admin/keys/{id} and refusals.
struct BudgetState {
  KeyLimits::Budget::Period period = KeyLimits::Budget::Period::kTotal;
  telemetry::Money limit, spent, reserved, remaining;  // remaining = max(0, limit-spent-reserved)
};

class Limiter {
 public:
  struct Stats {
    uint64_t admitted = 0;
    uint64_t rate_limited = 0;
    uint64_t budget_refused = 0;
    uint64_t local_fallbacks = 0;  // decisions made in memory because Redis failed
  };

  // `redis` may be null (windows and budgets in memory only).
  static std::shared_ptr<Limiter> Create(std::shared_ptr<store::RedisClient> redis,
                                         LimiterOptions options);
  ~Limiter();
  Limiter(const Limiter&) = delete;
  Limiter& operator=(const Limiter&) = delete;

  // Admits one request of key `key_id`. Errors (nothing stays reserved after an error):
  //  - kRateLimited (429), code "key_rate_limited", retry_after set;
  //  - kBudgetExceeded, code "budget_exceeded", message naming the budget (daily, monthly,
  //    total), its limit and the remaining amount in its currency, e.g.
  //    "daily budget exhausted: $0.002 left of $0.01";
  //  - kPermission, code "model_unpriced" or "budget_currency_unconvertible".
  // `estimated_cost` may be nullopt (unknown price) and is ignored when the key has no budgets.
  boost::asio::awaitable<Result<Admission>> Admit(std::string key_id, KeyLimits limits,
                                                  int64_t estimated_tokens,
                                                  std::optional<telemetry::Money> estimated_cost);
  // The request was served: its tokens and cost become `actual_*` (nullopt cost: the reservation
  // is charged as it is).
  boost::asio::awaitable<void> Settle(Admission& admission, int64_t actual_tokens,
                                      std::optional<telemetry::Money> actual_cost);
  // The request failed: the window slot, its tokens and its budget reservations are given back.
  boost::asio::awaitable<void> Release(Admission& admission);

  // Every budget of the key, in `limits.budgets` order.
  boost::asio::awaitable<std::vector<BudgetState>> Budgets(std::string key_id, KeyLimits limits);

  // Converts `m` to `to` by the configured rates; nullopt when no rate is known. `round_up`:
  // ceil (reservations) instead of nearest.
  [[nodiscard]] std::optional<telemetry::Money> Convert(telemetry::Money m, telemetry::Currency to,
                                                        bool round_up) const;
  [[nodiscard]] Stats stats() const;

  struct Impl;

 private:
  explicit Limiter(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace modelmux::govern
