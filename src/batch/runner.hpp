#pragma once
// The batch runner: work items from a source, each sent through routing::Router (the same
// deployments, retries, fallbacks and cache as the gateway), outcomes to a sink, with at most
// `concurrency` calls in flight, a client-side RPM/TPM schedule (resilience::RateLimiter, GCRA)
// and one pause for the whole runner when the provider says 429 (its retry-after, else
// default_pause), so that a rate limit does not turn into a storm of retries.
//
// Threading: Run() and everything it starts run on the executor Run() is awaited on (one event
// loop); sources and sinks are called only from there. Cancel() may be called from any thread:
// no new item starts, the calls in flight finish and are written, and Run() returns a report
// with cancelled = true.
//
// Durability is the sink's business (FileSink: results count once flushed); the runner flushes it
// every flush_every outcomes and every flush_interval, and once more at the end.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "batch/item.hpp"
#include "batch/output.hpp"
#include "batch/report.hpp"
#include "govern/limiter.hpp"
#include "net/headers.hpp"
#include "resilience/rate_limiter.hpp"
#include "routing/router.hpp"

namespace modelmux::batch {

class ItemSource {
 public:
  virtual ~ItemSource() = default;
  // The next item to run, or nullopt when there is none left. An item that cannot be read (the
  // file changed since it was checked) comes back as an Error and becomes a failed outcome.
  virtual std::optional<Result<WorkItem>> Next() = 0;
};

class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void Put(const Outcome& outcome) = 0;  // buffered until Flush
  [[nodiscard]] virtual size_t Pending() const = 0;
  // Makes every buffered outcome durable. Errors end the run (kInternal naming the file).
  virtual Status Flush() = 0;
};

// Admission of each line by an outside authority: the gateway's Batch API holds a job's lines to
// the rate windows and budgets of the key that created it, as it does that key's direct calls
// (gateway/batch_gate.hpp). Called on the runner's executor.
struct LineAdmission {
  std::optional<govern::Admission> admission;  // to settle; nullopt: nothing to settle
  std::shared_ptr<const std::string> context;  // the key's domain context (RequestContext)
  // The key's tags (conditional pipelines route by them; a `tier:` tag binds the price tier).
  std::shared_ptr<const std::vector<std::string>> key_tags;
};

class LineGate {
 public:
  virtual ~LineGate() = default;
  // Before each call of a line. A refusal of kind kRateLimited (with retry_after) pauses the line
  // and tries again; any other refusal (a budget spent, a model not allowed) fails the line with
  // that error, and nothing is sent upstream. The gate may change the line as the key's own call
  // would be changed (its max_tokens cap and default).
  virtual boost::asio::awaitable<Result<LineAdmission>> Admit(WorkItem& item) = 0;
  // After the call (or a refusal of Admit): settles (served) or releases the admission, and
  // records the call.
  virtual boost::asio::awaitable<void> Finish(std::optional<govern::Admission> admission,
                                              const Outcome& outcome) = 0;
};

struct RunOptions {
  size_t concurrency = 64;
  uint64_t rpm = 0, tpm = 0;  // 0: no client-side limit
  std::chrono::milliseconds window{60'000};
  size_t flush_every = 64;
  std::chrono::milliseconds flush_interval{200};
  std::chrono::milliseconds progress_interval{100};  // how often on_progress runs
  int rate_limit_retries = 6;  // extra rounds for a 429 after the router's own retries
  // Pace by what the provider says of its window (x-ratelimit-remaining-* and -reset-*): when
  // the calls or tokens it has left are no more than what is already in flight, new calls wait
  // for its reset, so its limit is used to the full without a 429 (with or without --rpm/--tpm).
  bool follow_provider_limits = true;
  std::chrono::milliseconds default_pause{1'000};
  std::chrono::milliseconds request_timeout{0};  // 0: the config's router.timeout
  int64_t default_output_tokens = 256;  // the TPM reservation of a request without max_tokens
  net::Headers forward;                 // e.g. x-sim-* controls (tests, benchmarks)
  std::shared_ptr<LineGate> gate;       // null: every line is admitted
};

using ProgressFn = std::function<void(const Progress&)>;

class Runner {
 public:
  // `initial` carries total and skipped; the rest is counted here. `source` and `sink` outlive
  // the Runner.
  Runner(std::shared_ptr<const routing::Router> router, RunOptions options, ItemSource& source,
         ResultSink& sink, Progress initial, ProgressFn on_progress = {});
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Runs to the end (or Cancel). Errors: the sink's (a failed flush), after which nothing more is
  // started.
  boost::asio::awaitable<Result<Report>> Run();
  void Cancel() { cancelled_ = true; }

 private:
  boost::asio::awaitable<void> Worker();
  boost::asio::awaitable<void> Ticker();
  boost::asio::awaitable<Outcome> Execute(WorkItem item);
  boost::asio::awaitable<void> WaitUntil(std::chrono::steady_clock::time_point t);
  // Pauses new calls until the provider's reset when what it has left is already in flight.
  void FollowProviderLimits(const routing::ProviderLimits& limits, int64_t reserve,
                            std::chrono::steady_clock::time_point now);
  void TaskDone();  // a worker or the ticker ended
  void Record(const Outcome& outcome);
  void FlushNow();
  void Tick(bool final);

  std::shared_ptr<const routing::Router> router_;
  RunOptions options_;
  ItemSource& source_;
  ResultSink& sink_;
  ProgressFn on_progress_;
  ReportBuilder builder_;
  resilience::RateLimiter limiter_;
  std::atomic<bool> cancelled_{false};
  std::optional<Error> sink_error_;
  std::chrono::steady_clock::time_point start_{}, pause_until_{}, last_flush_{};
  size_t active_workers_ = 0;
  uint64_t sequence_ = 0;
  bool finished_ = false;
  std::unique_ptr<boost::asio::steady_timer> done_timer_;    // woken when every task ended
  std::unique_ptr<boost::asio::steady_timer> ticker_timer_;  // the ticker's (flush, progress)
  std::mt19937_64 random_{std::random_device{}()};
};

// The price of the deployment "provider/model" in `table` (by the provider's name, then its
// type); nullptr when unknown. The pointer lives as long as the table.
[[nodiscard]] const telemetry::ModelPrice* PriceForDeployment(const routing::Router& router,
                                                              const telemetry::PriceTable& table,
                                                              const std::string& deployment);

// A source over items held in memory (the SDK).
class VectorSource final : public ItemSource {
 public:
  explicit VectorSource(std::vector<WorkItem> items) : items_(std::move(items)) {}
  std::optional<Result<WorkItem>> Next() override {
    if (next_ >= items_.size()) return std::nullopt;
    return Result<WorkItem>(std::move(items_[next_++]));
  }

 private:
  std::vector<WorkItem> items_;
  size_t next_ = 0;
};

// A sink that keeps every outcome in memory (the SDK).
class CollectingSink final : public ResultSink {
 public:
  void Put(const Outcome& outcome) override { outcomes_.push_back(outcome); }
  [[nodiscard]] size_t Pending() const override { return 0; }
  Status Flush() override { return OkStatus(); }
  std::vector<Outcome>& outcomes() { return outcomes_; }

 private:
  std::vector<Outcome> outcomes_;
};

}  // namespace modelmux::batch
