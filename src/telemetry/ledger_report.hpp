#pragma once
// Usage reports from one or several usage ledgers (several replicas: their rows are summed):
// requests, success rate, average and p95 latency, tokens by kind and cost per currency, grouped
// by model, key, day (UTC) or provider. Used by `modelmux usage` and GET /v1/usage.
//
// A request succeeded when its status is below 400 and it carries no error code (a stream cut
// after its 200 head is a failure). p95 is the nearest-rank percentile of the latencies. Costs
// stay in integer micro-units per currency; requests whose tokens have no known price are counted
// apart (unpriced_requests), never as zero, and so are requests without a cost that reported no
// tokens at all (no_usage_requests: mostly failures before or at the provider).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/sqlite.hpp"

namespace modelmux::telemetry {

enum class UsageGroupBy { kModel, kKey, kDay, kProvider };

// "model" | "key" | "day" | "provider".
[[nodiscard]] Result<UsageGroupBy> ParseGroupBy(std::string_view s);
[[nodiscard]] const char* GroupByName(UsageGroupBy by);

// A time bound for --since / --until: "YYYY-MM-DD" (UTC; as an upper bound: the end of that
// day), "YYYY-MM-DDTHH:MM[:SS][Z]", or a span back from now: "90m", "24h", "7d". Returns UTC ms.
[[nodiscard]] Result<int64_t> ParseTimeBound(std::string_view s, bool upper, int64_t now_ms);

// "2026-11-28" for a UTC time in ms.
[[nodiscard]] std::string UtcDay(int64_t time_ms);

struct UsageFilter {
  std::optional<int64_t> since_ms;    // time_ms >= since
  std::optional<int64_t> until_ms;    // time_ms < until
  std::optional<std::string> key_id;  // only this key's rows ("": rows made without a key)
};

struct UsageLine {
  std::string group;
  int64_t requests = 0;
  int64_t succeeded = 0;
  int64_t latency_sum_ms = 0;
  std::vector<int64_t> latencies_ms;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t reasoning_tokens = 0;
  std::map<std::string, int64_t> cost_micros;  // by currency code
  int64_t unpriced_requests = 0;               // tokens reported, no price known
  int64_t no_usage_requests = 0;  // no cost and no tokens (failed before any usage was reported)

  [[nodiscard]] double success_rate() const;
  [[nodiscard]] double avg_latency_ms() const;
  [[nodiscard]] int64_t p95_latency_ms() const;  // nearest rank; 0 without requests
};

class UsageReport {
 public:
  explicit UsageReport(UsageGroupBy by) : by_(by) {}

  // Adds the ledger's rows that pass `filter`.
  [[nodiscard]] Status AddLedger(sqlite3* db, const UsageFilter& filter);
  // Opens the file read-only and adds its rows (a missing file is an error naming it).
  [[nodiscard]] Status AddLedgerFile(const std::string& path, const UsageFilter& filter);
  // Adds one row's figures (AddLedger calls this per row).
  void Add(const std::string& group, bool succeeded, int64_t latency_ms, int64_t prompt,
           int64_t completion, int64_t cached, int64_t cache_write, int64_t reasoning,
           std::optional<int64_t> cost_micros, const std::string& currency);

  [[nodiscard]] std::vector<UsageLine> Lines() const;  // sorted by group
  [[nodiscard]] UsageLine Total() const;
  [[nodiscard]] UsageGroupBy group_by() const { return by_; }

  // {"group_by":..,"groups":[..],"total":{..}}; cost as exact micro-units and as a decimal.
  [[nodiscard]] std::string Json() const;
  [[nodiscard]] std::string Csv() const;
  [[nodiscard]] std::string Table() const;

 private:
  UsageGroupBy by_;
  std::map<std::string, UsageLine> lines_;
};

// "0.001234" for micro-units (no symbol, trailing zeros trimmed, at least "0").
[[nodiscard]] std::string MicrosDecimal(int64_t micros);

}  // namespace modelmux::telemetry
