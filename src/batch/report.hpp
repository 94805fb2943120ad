#pragma once
// The numbers a batch run ends with (and shows while it runs): counts, latency percentiles, tokens
// and cost per model, cache hits. Pure: the runner feeds outcomes and times in.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "batch/output.hpp"
#include "telemetry/price_table.hpp"

namespace modelmux::batch {

struct ModelStats {
  uint64_t requests = 0, ok = 0, failed = 0;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  int64_t cost_micros = 0;  // in `currency`; only calls whose price is known
  telemetry::Currency currency = telemetry::Currency::kUsd;
  bool cost_known = false;  // at least one call was priced
};

struct Progress {
  uint64_t total = 0;    // lines in the input
  uint64_t skipped = 0;  // done by an earlier run (or not selected by --retry-failed)
  uint64_t done = 0;     // finished in this run (ok + failed)
  uint64_t ok = 0, failed = 0;
  uint64_t in_flight = 0;
  uint64_t rate_limited = 0;     // 429 answers that paused the runner
  uint64_t provider_pauses = 0;  // waits for the provider's window reset it announced
  int64_t prompt_tokens = 0, completion_tokens = 0;
  int64_t cost_micros_usd = 0;  // USD only (other currencies are in the report per model)
  std::chrono::milliseconds elapsed{0};
  [[nodiscard]] uint64_t to_run() const { return total - skipped; }
  [[nodiscard]] double rate() const;               // finished per second
  [[nodiscard]] std::chrono::seconds eta() const;  // 0 when unknown
};

struct Report {
  Progress progress;
  uint64_t cache_hits = 0;
  double latency_p50_ms = 0, latency_p95_ms = 0, latency_p99_ms = 0;
  std::map<std::string, ModelStats> models;  // by the deployment that answered (or the model asked)
  bool cancelled = false;
  [[nodiscard]] double success_rate() const;  // ok / done, 1 when nothing ran
  [[nodiscard]] std::string ToJson() const;
  // Several lines for a person (stderr).
  [[nodiscard]] std::string Summary() const;
};

// Collects outcomes into a Report. The price of a deployment comes from `price_of` (nullptr: no
// price known).
class ReportBuilder {
 public:
  using PriceOf = std::function<const telemetry::ModelPrice*(const std::string& deployment)>;
  explicit ReportBuilder(PriceOf price_of) : price_of_(std::move(price_of)) {}
  void Add(const Outcome& outcome);
  Progress& progress() { return report_.progress; }
  [[nodiscard]] const Progress& progress() const { return report_.progress; }
  // The report with percentiles computed.
  [[nodiscard]] Report Finish() const;

 private:
  PriceOf price_of_;
  Report report_;
  std::vector<float> latencies_ms_;
};

// The q-quantile (0..1) of `values` by the nearest-rank method; 0 when empty. Sorts a copy.
[[nodiscard]] double Percentile(std::vector<float> values, double q);

}  // namespace modelmux::batch
