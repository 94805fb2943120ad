#include "resilience/retry_policy.hpp"

#include <gtest/gtest.h>

namespace modelmux::resilience {
namespace {

using std::chrono::milliseconds;

Error Upstream(int status) {
  Error e;
  e.kind = KindForHttpStatus(status);
  e.upstream_status = status;
  return e;
}

TEST(RetryPolicy, StatusMatrix) {
  for (int s : {408, 409, 429, 500, 502, 503, 504, 529}) {
    EXPECT_TRUE(Retryable(Upstream(s))) << s;
  }
  for (int s : {400, 401, 402, 403, 404, 413, 422}) EXPECT_FALSE(Retryable(Upstream(s))) << s;
  Error timeout;
  timeout.kind = ErrorKind::kTimeout;
  EXPECT_TRUE(Retryable(timeout));
  Error quota;
  quota.kind = ErrorKind::kQuotaExhausted;  // insufficient_quota: another try cannot help
  quota.upstream_status = 429;
  EXPECT_FALSE(Retryable(quota));
  Error cancelled;
  cancelled.kind = ErrorKind::kCancelled;
  EXPECT_FALSE(Retryable(cancelled, true));
}

TEST(RetryPolicy, ShouldRetryHeaderWinsBothWays) {
  EXPECT_FALSE(Retryable(Upstream(503), ParseShouldRetry("false")));
  EXPECT_TRUE(Retryable(Upstream(400), ParseShouldRetry("TRUE")));
  EXPECT_EQ(ParseShouldRetry("yes"), std::nullopt);
  EXPECT_EQ(ParseShouldRetry(""), std::nullopt);
}

TEST(RetryPolicy, RetryAfterForms) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // 2015-10-21 07:28:00
  EXPECT_EQ(ParseRetryAfter("1500", "", now), milliseconds(1500));
  EXPECT_EQ(ParseRetryAfter("2.5", "9", now), milliseconds(3));  // ms wins, rounded up
  EXPECT_EQ(ParseRetryAfter("", "2", now), milliseconds(2000));
  EXPECT_EQ(ParseRetryAfter("", "0.25", now), milliseconds(250));
  EXPECT_EQ(ParseRetryAfter("", "Wed, 21 Oct 2015 07:28:30 GMT", now), milliseconds(30'000));
}

TEST(RetryPolicy, GarbageHintsAreIgnoredNeverUnbounded) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);
  for (const char* bad : {"0", "-3", "inf", "nan", "abc", "1e400", "  ", "3s",
                          "Wed, 21 Oct 2015 07:27:00 GMT" /* past */}) {
    EXPECT_EQ(ParseRetryAfter("", bad, now), std::nullopt) << bad;
    EXPECT_EQ(ParseRetryAfter(bad, "", now), std::nullopt) << bad;
  }
  EXPECT_EQ(ParseRetryAfter("", "999999999", now), std::nullopt);  // > a day
}

TEST(RetryPolicy, FullJitterWindowsDoubleUpToTheCap) {
  RetryPolicy p;  // base 500 ms, cap 8 s
  for (int retry = 1; retry <= 8; ++retry) {
    const int64_t window = std::min<int64_t>(8000, 500LL << (retry - 1));
    EXPECT_EQ(BackoffDelay(p, retry, 0.0), milliseconds(0));
    EXPECT_EQ(BackoffDelay(p, retry, 0.5), milliseconds(window / 2)) << retry;
    EXPECT_LT(BackoffDelay(p, retry, 0.999999), milliseconds(window)) << retry;
  }
  EXPECT_LE(BackoffDelay(p, 1000, 0.99), milliseconds(8000));
}

TEST(RetryPolicy, HintUsedOnlyUnderTheCap) {
  RetryPolicy p;
  EXPECT_EQ(BackoffDelay(p, 1, 0.5, milliseconds(1200)), milliseconds(1200));
  // A hint past max_hint falls back to the jittered window, never a minute-long sleep.
  EXPECT_EQ(BackoffDelay(p, 1, 0.5, milliseconds(120'000)), milliseconds(250));
}

}  // namespace
}  // namespace modelmux::resilience
