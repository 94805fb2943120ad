#include "resilience/retry_budget.hpp"

#include <gtest/gtest.h>

namespace modelmux::resilience {
namespace {

// Simulates `requests` client requests against an upstream whose attempts fail when
// `fails(attempt_number)` says so, with up to 2 retries each gated by the budget. Returns the
// number of upstream attempts; `ok` counts requests that succeeded.
template <typename Fails>
int64_t Simulate(RetryBudget& budget, int requests, Fails fails, int& ok) {
  int64_t attempts = 0;
  ok = 0;
  for (int r = 0; r < requests; ++r) {
    for (int a = 0; a < 3; ++a) {
      if (a > 0 && !budget.AllowRetry()) break;
      const bool failed = fails(attempts++);
      if (!failed) {
        budget.OnSuccess();
        ++ok;
        break;
      }
      budget.OnFailure();
    }
  }
  return attempts;
}

TEST(RetryBudget, TotalOutageIsNotAmplified) {
  RetryBudget budget;
  int ok = 0;
  const int64_t attempts = Simulate(
      budget, 100, [](int64_t) { return true; }, ok);
  EXPECT_EQ(ok, 0);
  EXPECT_LE(attempts, 120);  // reliability.md 3: under 1.2x client requests
  EXPECT_FALSE(budget.AllowRetry());
}

TEST(RetryBudget, ThirtyPercentFailuresAreRetriedThrough) {
  RetryBudget budget;
  int ok = 0;
  // Deterministic 30 %: attempts 0,3,6 of every 10 fail.
  const int64_t attempts = Simulate(
      budget, 1000, [](int64_t n) { return n % 10 == 0 || n % 10 == 3 || n % 10 == 6; }, ok);
  EXPECT_EQ(ok, 1000);
  EXPECT_LT(attempts, 1000 * 3 / 2);
  EXPECT_TRUE(budget.AllowRetry());
}

TEST(RetryBudget, RecoversAfterTheOutage) {
  RetryBudget budget;
  for (int i = 0; i < 20; ++i) budget.OnFailure();
  EXPECT_FALSE(budget.AllowRetry());
  EXPECT_EQ(budget.tokens(), 0);
  for (int i = 0; i < 11; ++i) budget.OnSuccess();  // 5.5 tokens > half of 10
  EXPECT_TRUE(budget.AllowRetry());
  for (int i = 0; i < 100; ++i) budget.OnSuccess();
  EXPECT_EQ(budget.tokens(), 10);  // never above the bucket
}

TEST(RetryBudget, RefusalsAreCountedWhereNoted) {
  RetryBudget budget({4, 0.5});
  EXPECT_EQ(budget.max_tokens(), 4);
  EXPECT_EQ(budget.throttled(), 0u);
  budget.OnFailure();
  budget.OnFailure();  // 2 of 4 left: not more than half
  EXPECT_FALSE(budget.AllowRetry());
  budget.NoteThrottled();
  budget.NoteThrottled();
  EXPECT_EQ(budget.throttled(), 2u);
  EXPECT_EQ(budget.tokens(), 2);
}

}  // namespace
}  // namespace modelmux::resilience
