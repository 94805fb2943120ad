// SharedWindow against a real redis-server on a free loopback port: two windows with their own
// clients stand for two replicas; time is injected.
#include "resilience/shared_window.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "store/redis.hpp"
#include "store/redis_test_server.hpp"

namespace modelmux::resilience {
namespace {

using namespace std::chrono;
using store::testing::Loop;
using store::testing::RedisServer;
using Mode = SharedWindowOptions::Mode;

class SharedWindowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!store::testing::RedisAvailable()) GTEST_SKIP() << "redis-server is not installed";
    server = RedisServer::Start();
    ASSERT_TRUE(server);
  }
  std::shared_ptr<store::RedisClient> Client() {
    store::RedisOptions o;
    o.seeds = {server->address()};
    o.breaker_failures = 1;
    o.breaker_open = milliseconds(200);
    return store::RedisClient::Create(loop.io.get_executor(), o);
  }
  std::shared_ptr<SharedWindow> Make(std::shared_ptr<store::RedisClient> redis, Mode mode,
                                     RateLimits limits) {
    SharedWindowOptions o;
    o.mode = mode;
    o.scope = "dep";
    o.id = "alias/sim/m";
    o.limits = limits;
    auto p = now_ms;
    o.clock = [p] { return system_clock::time_point(milliseconds(p->load())); };
    return SharedWindow::Create(std::move(redis), std::move(o));
  }

  std::shared_ptr<std::atomic<int64_t>> now_ms =
      std::make_shared<std::atomic<int64_t>>(1'795'910'400'000);
  std::unique_ptr<RedisServer> server;
  Loop loop;
};

// Paced: 10 per second is one request every 101 ms (the window plus 1 %, over 10), one schedule
// for both replicas: waits 0, 101, 202 ms alternating between them.
TEST_F(SharedWindowTest, PacedScheduleIsSharedByReplicas) {
  RateLimits l;
  l.rpm = 10;
  l.window = seconds(1);
  l.max_wait = milliseconds(250);
  auto a = Make(Client(), Mode::kPaced, l);
  auto b = Make(Client(), Mode::kPaced, l);
  auto t0 = loop.Run(a->Reserve(1));
  auto t1 = loop.Run(b->Reserve(1));
  auto t2 = loop.Run(a->Reserve(1));
  ASSERT_TRUE(t0.admitted && t1.admitted && t2.admitted);
  EXPECT_TRUE(t0.shared && t1.shared && t2.shared);
  EXPECT_EQ(t0.wait, milliseconds(0));
  EXPECT_EQ(t1.wait, milliseconds(101));
  EXPECT_EQ(t2.wait, milliseconds(202));
  // The next would wait 303 ms > 250: refused, fits after 53 ms.
  auto t3 = loop.Run(b->Reserve(1));
  EXPECT_FALSE(t3.admitted);
  EXPECT_EQ(t3.retry_after, milliseconds(53));
  // Released: its slot is free again for the other replica.
  loop.Run(a->Release(t2));
  auto t4 = loop.Run(b->Reserve(1));
  ASSERT_TRUE(t4.admitted);
  EXPECT_EQ(t4.wait, milliseconds(202));
  EXPECT_EQ(server->Cli("EXISTS 'mm:v1:rl:dep:{alias/sim/m}:req'"), "1\n");
}

TEST_F(SharedWindowTest, PacedTokensSettleToActualUsage) {
  RateLimits l;
  l.tpm = 1'000;
  l.window = seconds(1);  // 1.01 ms per token
  l.max_wait = milliseconds(2'000);
  auto a = Make(Client(), Mode::kPaced, l);
  auto b = Make(Client(), Mode::kPaced, l);
  auto t0 = loop.Run(a->Reserve(500));
  ASSERT_TRUE(t0.admitted);
  EXPECT_EQ(t0.wait, milliseconds(0));
  loop.Run(a->Settle(t0, 100));  // 400 tokens back: the schedule ends 101 ms after now
  auto t1 = loop.Run(b->Reserve(10));
  ASSERT_TRUE(t1.admitted);
  EXPECT_EQ(t1.wait, milliseconds(101));
}

TEST_F(SharedWindowTest, SlidingLogAdmitsAtMostLimitPerWindow) {
  RateLimits l;
  l.rpm = 4;
  l.window = seconds(10);
  auto a = Make(Client(), Mode::kSliding, l);
  auto b = Make(Client(), Mode::kSliding, l);
  int admitted = 0;
  for (int i = 0; i < 4; ++i) {
    *now_ms += 1'000;  // t = 1, 2, 3, 4 s
    admitted += loop.Run((i % 2 ? a : b)->Reserve(0)).admitted;
  }
  EXPECT_EQ(admitted, 4);
  auto refused = loop.Run(a->Reserve(0));
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after, milliseconds(7'000));  // the t=1 s entry leaves at 11 s
  *now_ms += 7'000;                                     // t = 11 s
  EXPECT_TRUE(loop.Run(b->Reserve(0)).admitted);
  EXPECT_FALSE(loop.Run(a->Reserve(0)).admitted);
}

TEST_F(SharedWindowTest, RedisDownFallsBackLocally) {
  RateLimits l;
  l.rpm = 2;
  l.window = seconds(10);
  auto a = Make(Client(), Mode::kSliding, l);
  ASSERT_TRUE(loop.Run(a->Reserve(0)).shared);
  server->Kill();
  auto t = loop.Run(a->Reserve(0));
  EXPECT_TRUE(t.admitted);  // served: the local log is empty
  EXPECT_FALSE(t.shared);
  EXPECT_TRUE(loop.Run(a->Reserve(0)).admitted);
  EXPECT_FALSE(loop.Run(a->Reserve(0)).admitted);  // the local log holds 2
  EXPECT_EQ(a->stats().local_fallbacks, 3u);
  loop.Run(a->Release(t));
  EXPECT_TRUE(loop.Run(a->Reserve(0)).admitted);
}

TEST(SharedWindowLocalTest, NoRedisIsLocalAndNotAFallback) {
  Loop loop;
  SharedWindowOptions o;
  o.mode = Mode::kPaced;
  o.limits.rpm = 1;
  o.limits.window = seconds(60);
  o.limits.max_wait = milliseconds(0);
  auto w = SharedWindow::Create(nullptr, o);
  EXPECT_TRUE(loop.Run(w->Reserve(0)).admitted);
  EXPECT_FALSE(loop.Run(w->Reserve(0)).admitted);
  EXPECT_EQ(w->stats().local_fallbacks, 0u);
  EXPECT_EQ(w->stats().refused, 1u);
}

}  // namespace
}  // namespace modelmux::resilience
