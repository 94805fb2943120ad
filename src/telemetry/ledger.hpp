#pragma once
// The usage ledger: one row per API request in an append-only SQLite table (<data-dir>/ledger.db),
// the durable record that `modelmux usage` and GET /v1/usage report from.
//
// Append() is called on event loops and never touches the disk: rows go to a bounded queue that
// one writer thread commits in batched transactions (up to batch_rows rows, or every
// batch_interval), with WAL and synchronous=FULL (a committed batch survives power loss). A full
// queue refuses the row: the refusal is counted (dropped(), the `dropped` counter if given) and
// logged once per 10 s, never silent. Rows older than retention_days are deleted periodically; no
// other statement changes a row (a trigger refuses UPDATE).
//
// Cost is in integer micro-units of `currency`; both are NULL when the price is unknown.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "store/sqlite.hpp"
#include "telemetry/metrics.hpp"

namespace modelmux::telemetry {

struct LedgerRow {
  std::string request_id;
  int64_t time_ms = 0;  // request start, UTC milliseconds since the epoch
  std::string key_id;   // the virtual key's id; empty: none (stored NULL)
  std::string model;    // as the caller named it
  std::string provider;
  std::string deployment;  // "provider/model" that answered (or failed last)
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t reasoning_tokens = 0;
  std::optional<int64_t> cost_micros;  // nullopt: unknown price
  std::string currency;                // "USD" / "CNY"; empty with an unknown price
  int64_t latency_ms = 0;
  std::optional<int64_t> ttft_ms;
  int status = 0;
  std::string error_code;
  std::string cache_result;  // hit | miss | bypass | ""
  int attempts = 0;
  bool stream = false;
  bool usage_estimated = false;
};

struct LedgerOptions {
  std::string path;  // the database file; its directory is created
  size_t queue_capacity = 100'000;
  size_t batch_rows = 1000;
  std::chrono::milliseconds batch_interval{200};
  int retention_days = 0;  // 0: keep forever
  std::chrono::milliseconds retention_interval{std::chrono::hours(1)};
  Counter* dropped = nullptr;       // incremented per refused row (modelmux_ledger_dropped_total)
  std::function<int64_t()> now_ms;  // UTC ms; default the system clock (tests inject)
};

class Ledger {
 public:
  // Opens or creates the database, brings its schema up to date and starts the writer thread.
  [[nodiscard]] static Result<std::unique_ptr<Ledger>> Open(LedgerOptions options);
  // Commits what is queued, then stops the writer.
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Queues a row; false (and counted) when the queue is full. Never blocks on I/O.
  bool Append(LedgerRow row);
  // Blocks until every row appended before the call is committed (shutdown, tests, reports).
  void Flush();
  // Runs `task` on the writer thread with its connection, after the rows queued before it are
  // committed (GET /v1/usage: reads never run on an event loop). Tasks run in order.
  void Run(std::function<void(sqlite3*)> task);
  // Deletes rows older than retention_days now (also done every retention_interval).
  void EnforceRetention();

  [[nodiscard]] uint64_t dropped() const;
  [[nodiscard]] uint64_t written() const;
  [[nodiscard]] uint64_t write_errors() const;
  [[nodiscard]] const std::string& path() const { return options_.path; }

 private:
  explicit Ledger(LedgerOptions options, store::sqlite::Db db);
  void WriterLoop();
  void WriteBatch(std::vector<LedgerRow>& rows);
  void DeleteExpired();
  [[nodiscard]] int64_t NowMs() const;

  LedgerOptions options_;
  store::sqlite::Db db_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<LedgerRow> queue_;
  std::deque<std::function<void(sqlite3*)>> tasks_;
  uint64_t appended_ = 0;   // rows accepted, ever
  uint64_t committed_ = 0;  // rows accepted and handled (written or failed), ever
  uint64_t written_ = 0;
  uint64_t dropped_ = 0;
  uint64_t write_errors_ = 0;
  bool retention_due_ = false;  // EnforceRetention() asked; also due every retention_interval
  bool flush_wanted_ = false;
  bool stop_ = false;
  std::chrono::steady_clock::time_point last_drop_log_{};
  std::thread writer_;
};

// The schema's migrations (exported for tests and for readers that check the version).
[[nodiscard]] std::vector<std::string_view> LedgerMigrations();

}  // namespace modelmux::telemetry
