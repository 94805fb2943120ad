#include "resilience/retry_budget.hpp"

#include <algorithm>
#include <cmath>

namespace modelmux::resilience {

RetryBudget::RetryBudget(RetryBudgetOptions o)
    : max_milli_(std::max<int64_t>(1000, std::llround(o.max_tokens * 1000))),
      ratio_milli_(std::max<int64_t>(0, std::llround(o.token_ratio * 1000))),
      milli_(max_milli_) {}

void RetryBudget::OnSuccess() {
  int64_t cur = milli_.load(std::memory_order_relaxed);
  while (cur < max_milli_ &&
         !milli_.compare_exchange_weak(cur, std::min(max_milli_, cur + ratio_milli_),
                                       std::memory_order_relaxed)) {
  }
}

void RetryBudget::OnFailure() {
  int64_t cur = milli_.load(std::memory_order_relaxed);
  while (cur > 0 && !milli_.compare_exchange_weak(cur, std::max<int64_t>(0, cur - 1000),
                                                  std::memory_order_relaxed)) {
  }
}

bool RetryBudget::AllowRetry() const {
  return milli_.load(std::memory_order_relaxed) * 2 > max_milli_;
}

double RetryBudget::tokens() const {
  return static_cast<double>(milli_.load(std::memory_order_relaxed)) / 1000.0;
}

}  // namespace modelmux::resilience
