#include "resilience/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace modelmux::resilience {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

TEST(RateLimiter, UnlimitedAdmitsAtOnce) {
  RateLimiter l({});
  for (int i = 0; i < 1000; ++i) {
    auto t = l.Reserve(100, Clock::time_point(1s));
    EXPECT_TRUE(t.admitted);
    EXPECT_EQ(t.wait, 0ms);
  }
}

// Every aligned window of the limit's length holds at most `rpm` admitted starts, whatever the
// burst: the property the simulator's fixed windows (and providers' windows) check.
TEST(RateLimiter, ABurstIsPacedUnderTheLimitInEveryWindow) {
  RateLimits limits;
  limits.rpm = 600;
  limits.window = 2s;
  limits.max_wait = 1h;
  RateLimiter l(limits);
  const Clock::time_point t0(std::chrono::seconds(1000));
  std::map<int64_t, int> per_window;
  for (int i = 0; i < 2000; ++i) {
    auto t = l.Reserve(0, t0 + std::chrono::microseconds(i));  // all within 2 ms
    ASSERT_TRUE(t.admitted);
    const auto start = t0 + std::chrono::microseconds(i) + t.wait;
    ++per_window[std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch())
                     .count() /
                 2000];
  }
  for (const auto& [w, n] : per_window) EXPECT_LE(n, 600) << "window " << w;
  EXPECT_GE(per_window.size(), 4u);  // 2000 requests at 600 per 2 s take more than 6 s
}

// The provider counts arrivals, which trail the schedule by a jitter (timer wake-up, ms rounding,
// connection set-up). Paced at exactly window / rpm, request k and request k+rpm start one window
// apart, and a provider window that opens between a late arrival of k and an early one of k+rpm
// holds rpm + 1. With the margin, any rpm + 1 consecutive starts span 1 % more than the window,
// so an arrival jitter under 1 % of the window cannot put rpm + 1 of them in one window.
TEST(RateLimiter, AnyRpmPlusOneStartsSpanTheWindowPlusTheJitterMargin) {
  RateLimits limits;
  limits.rpm = 600;
  limits.window = 2s;
  limits.max_wait = 1h;
  RateLimiter l(limits);
  const Clock::time_point t0(std::chrono::seconds(1000));
  std::vector<Clock::time_point> starts;
  for (int i = 0; i < 1800; ++i) {
    auto t = l.Reserve(0, t0);
    ASSERT_TRUE(t.admitted);
    starts.push_back(t0 + t.wait);
  }
  for (size_t i = 0; i + 600 < starts.size(); ++i) {
    ASSERT_GE(starts[i + 600] - starts[i], 2020ms) << "starts " << i << " and " << i + 600;
  }
}

TEST(RateLimiter, TokensArePacedAndSettled) {
  RateLimits limits;
  limits.tpm = 1000;
  limits.window = 1s;  // 1 token per 1.01 ms (the 1 % jitter margin)
  RateLimiter l(limits);
  const Clock::time_point t0(std::chrono::seconds(50));
  EXPECT_EQ(l.Reserve(500, t0).wait, 0ms);
  EXPECT_EQ(l.Reserve(500, t0).wait, 505ms);
  // The second request used only 100 of its 500: 404 ms of schedule come back.
  l.Settle(500, 100);
  EXPECT_EQ(l.Reserve(10, t0).wait, 606ms);
}

TEST(RateLimiter, PastTheQueueBoundRefusesFastWithRetryAfter) {
  RateLimits limits;
  limits.rpm = 60;
  limits.window = 60s;  // one per 1.01 s
  limits.max_wait = 3100ms;
  RateLimiter l(limits);
  const Clock::time_point t0(std::chrono::seconds(10));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(l.Reserve(0, t0).admitted) << i;  // waits 0..3.03 s
  auto refused = l.Reserve(0, t0);                                          // would wait 4.04 s
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after, 940ms);
  // A refusal reserves nothing; a release gives a slot back.
  l.Release(0);
  EXPECT_TRUE(l.Reserve(0, t0).admitted);
}

TEST(RateLimiter, IdleTimeIsNotBankedIntoABurst) {
  RateLimits limits;
  limits.rpm = 10;
  limits.window = 1s;
  RateLimiter l(limits);
  EXPECT_EQ(l.Reserve(0, Clock::time_point(1s)).wait, 0ms);
  // A long quiet spell, then a burst: still paced 101 ms apart.
  const Clock::time_point later(100s);
  EXPECT_EQ(l.Reserve(0, later).wait, 0ms);
  EXPECT_EQ(l.Reserve(0, later).wait, 101ms);
  EXPECT_EQ(l.Reserve(0, later).wait, 202ms);
}

}  // namespace
}  // namespace modelmux::resilience
