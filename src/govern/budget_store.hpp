#pragma once
// Where the Limiter keeps budget reservations and spend: Redis hashes changed by atomic Lua
// scripts, or this process's memory when there is no Redis or it is unreachable. Internal to
// govern::Limiter (see limiter.hpp for the model); exposed for its tests.
//
// Redis key per key id, period and currency: "<prefix>:budget:{<key id>}:day:YYYYMMDD:usd",
// ":month:YYYYMM:usd", ":total:usd"; a hash with `spent`, `reserved` (micro-units) and one field
// "r:<reservation id>" per open reservation. "<prefix>:budget:{<key id>}:open" is a sorted set of
// open reservation ids scored by their deadline (ms since the epoch); expired ones are given back
// by the next reservation of that key.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "govern/limiter.hpp"

namespace modelmux::govern {

// The key of `period` containing `now` (UTC) and its start; `expire_at` is when the key may go
// (0 = never): two days after a day, 35 days after a month.
struct PeriodKey {
  std::string suffix;  // "day:20261129", "month:202611", "total"
  std::chrono::system_clock::time_point start;
  int64_t expire_at_ms = 0;
};
[[nodiscard]] PeriodKey PeriodKeyFor(KeyLimits::Budget::Period period,
                                     std::chrono::system_clock::time_point now);

// A DurableSpendFn over the usage ledger at `path` (telemetry/ledger.hpp), read through its own
// read-only connection: the sum of the key's cost_micros since period_start in the budget's
// currency, rows priced in the other currency converted by `rates` (skipped without a rate). A
// missing or unreadable ledger counts 0. It runs once per key and period in a process (the
// BudgetStore caches the seed), on the calling thread: a small indexed query (key_id, time_ms).
[[nodiscard]] DurableSpendFn LedgerSpend(std::string path, std::vector<CurrencyRate> rates);

class BudgetStore {
 public:
  struct Refused {
    size_t index = 0;  // the budget that refused
    telemetry::Money remaining;
  };

  BudgetStore(std::shared_ptr<store::RedisClient> redis, const LimiterOptions& options);

  // Reserves amounts[i] in budgets[i], all or nothing; fills `holds` on success.
  boost::asio::awaitable<std::optional<Refused>> Reserve(std::string key_id, std::string id,
                                                         std::vector<KeyLimits::Budget> budgets,
                                                         std::vector<int64_t> amounts,
                                                         std::vector<Admission::Hold>& holds);
  // Ends reservation `id`: each hold's reservation is given back and actual[i] added to spent.
  boost::asio::awaitable<void> Settle(std::string id, std::vector<Admission::Hold> holds,
                                      std::vector<int64_t> actual);
  boost::asio::awaitable<std::vector<BudgetState>> States(std::string key_id,
                                                          std::vector<KeyLimits::Budget> budgets);

  [[nodiscard]] uint64_t fallbacks() const { return fallbacks_.load(); }
  [[nodiscard]] std::string KeyName(std::string_view key_id, KeyLimits::Budget::Period period,
                                    telemetry::Currency currency,
                                    std::chrono::system_clock::time_point now) const;

 private:
  struct Local {
    int64_t spent = 0, reserved = 0;
    std::map<std::string, int64_t> holds;  // reservation id -> micros
  };
  // The durable spend of a period (cached per store key; 0 without a durable_spend callback).
  int64_t Seed(const std::string& store_key, std::string_view key_id,
               KeyLimits::Budget::Period period, std::chrono::system_clock::time_point start,
               telemetry::Currency currency);
  Local& LocalFor(const std::string& store_key, int64_t seed);  // mu_ held
  std::optional<Refused> LocalReserve(const std::string& id,
                                      const std::vector<KeyLimits::Budget>& budgets,
                                      const std::vector<int64_t>& amounts,
                                      const std::vector<std::string>& keys,
                                      const std::vector<int64_t>& seeds,
                                      std::vector<Admission::Hold>& holds);

  std::shared_ptr<store::RedisClient> redis_;
  const LimiterOptions& options_;
  std::mutex mu_;
  std::map<std::string, Local> local_;    // guarded by mu_
  std::map<std::string, int64_t> seeds_;  // guarded by mu_
  std::atomic<uint64_t> fallbacks_{0};
};

}  // namespace modelmux::govern
