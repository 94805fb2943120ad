#include "resilience/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <map>

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

TEST(RateLimiter, TokensArePacedAndSettled) {
  RateLimits limits;
  limits.tpm = 1000;
  limits.window = 1s;  // 1 token per ms
  RateLimiter l(limits);
  const Clock::time_point t0(std::chrono::seconds(50));
  EXPECT_EQ(l.Reserve(500, t0).wait, 0ms);
  EXPECT_EQ(l.Reserve(500, t0).wait, 500ms);
  // The second request used only 100 of its 500: 400 ms of schedule come back.
  l.Settle(500, 100);
  EXPECT_EQ(l.Reserve(10, t0).wait, 600ms);
}

TEST(RateLimiter, PastTheQueueBoundRefusesFastWithRetryAfter) {
  RateLimits limits;
  limits.rpm = 60;
  limits.window = 60s;  // one per second
  limits.max_wait = 3s;
  RateLimiter l(limits);
  const Clock::time_point t0(std::chrono::seconds(10));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(l.Reserve(0, t0).admitted) << i;  // waits 0..3 s
  auto refused = l.Reserve(0, t0);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after, 1000ms);
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
  // A long quiet spell, then a burst: still paced 100 ms apart.
  const Clock::time_point later(100s);
  EXPECT_EQ(l.Reserve(0, later).wait, 0ms);
  EXPECT_EQ(l.Reserve(0, later).wait, 100ms);
  EXPECT_EQ(l.Reserve(0, later).wait, 200ms);
}

}  // namespace
}  // namespace modelmux::resilience
