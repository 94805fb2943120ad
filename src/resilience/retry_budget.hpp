#pragma once
// A retry budget in the manner of gRPC's retry throttling: a token bucket that retryable failures
// drain (one token each) and successes refill (`token_ratio` each). Retries are allowed only
// while more than half the bucket is left, so a partial outage is retried through while a total
// one is not amplified: with every attempt failing, retries stop after max_tokens / 2 failures.
// Thread-safe, shared by all event loops. The attempt loop (routing/dispatch.hpp) keeps one per
// model alias and one per provider, and a retry needs both the alias's and the target
// provider's; docs/ROUTING.md explains the choice.

#include <atomic>
#include <cstdint>

namespace modelmux::resilience {

struct RetryBudgetOptions {
  double max_tokens = 10;
  // Refill per success. 0.5 keeps a 30 % failure rate retried through (each request costs about
  // 0.43 failed attempts and brings one success); a 100 % failure rate drains the bucket.
  double token_ratio = 0.5;
};

class RetryBudget {
 public:
  explicit RetryBudget(RetryBudgetOptions options = {});
  RetryBudget(const RetryBudget&) = delete;
  RetryBudget& operator=(const RetryBudget&) = delete;

  void OnSuccess();
  void OnFailure();  // a retryable failure
  // Whether one more retry may be started now.
  [[nodiscard]] bool AllowRetry() const;
  // A retry this bucket refused (for modelmux_retries_throttled_total).
  void NoteThrottled() { throttled_.fetch_add(1, std::memory_order_relaxed); }
  [[nodiscard]] double tokens() const;
  [[nodiscard]] double max_tokens() const { return static_cast<double>(max_milli_) / 1000.0; }
  [[nodiscard]] uint64_t throttled() const { return throttled_.load(std::memory_order_relaxed); }

 private:
  // Tokens in thousandths, so that updates are single atomic adds.
  int64_t max_milli_;
  int64_t ratio_milli_;
  std::atomic<int64_t> milli_;
  std::atomic<uint64_t> throttled_{0};
};

}  // namespace modelmux::resilience
