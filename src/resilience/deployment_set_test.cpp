#include "resilience/deployment_set.hpp"

#include <gtest/gtest.h>

#include <map>

namespace modelmux::resilience {
namespace {

using namespace std::chrono_literals;

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
  DeploymentSet::Clock fn() {
    return [this] { return now; };
  }
};

OutlierOptions Fast() {
  OutlierOptions o;
  o.consecutive_failures = 3;
  o.base_ejection = 10s;
  o.max_ejection = 25s;
  return o;
}

TEST(DeploymentSet, WeightedRandomFollowsWeights) {
  FakeClock clock;
  DeploymentSet set({1, 3}, {}, clock.fn());
  std::map<size_t, int> picks;
  for (int i = 0; i < 1000; ++i) ++picks[*set.Pick(Strategy::kWeightedRandom, {}, i / 1000.0, 0)];
  EXPECT_EQ(picks[0], 250);
  EXPECT_EQ(picks[1], 750);
}

TEST(DeploymentSet, TriedDeploymentsAreSkippedThenNoneLeft) {
  FakeClock clock;
  DeploymentSet set({1, 1, 1}, {}, clock.fn());
  EXPECT_EQ(set.Pick(Strategy::kWeightedRandom, {0, 2}, 0.1, 0), 1u);
  EXPECT_EQ(set.Pick(Strategy::kWeightedRandom, {0, 1, 2}, 0.1, 0), std::nullopt);
}

TEST(DeploymentSet, EjectionGrowsCapsAndRecovers) {
  FakeClock clock;
  DeploymentSet set({1, 1, 1}, Fast(), clock.fn());
  for (int i = 0; i < 2; ++i) set.OnFailure(0);
  EXPECT_FALSE(set.Ejected(0));
  set.OnFailure(0);
  EXPECT_TRUE(set.Ejected(0));
  for (int i = 0; i < 100; ++i) {
    EXPECT_NE(set.Pick(Strategy::kWeightedRandom, {}, i / 100.0, 0), 0u);
  }
  clock.now += 10s;  // 1 x base
  EXPECT_FALSE(set.Ejected(0));
  for (int i = 0; i < 3; ++i) set.OnFailure(0);
  EXPECT_TRUE(set.Ejected(0));
  clock.now += 19s;  // second ejection lasts 2 x base
  EXPECT_TRUE(set.Ejected(0));
  clock.now += 1s;
  EXPECT_FALSE(set.Ejected(0));
  for (int i = 0; i < 3; ++i) set.OnFailure(0);
  clock.now += 24s;  // 3 x base = 30 s, capped at 25 s
  EXPECT_TRUE(set.Ejected(0));
  clock.now += 1s;
  EXPECT_FALSE(set.Ejected(0));
  EXPECT_EQ(set.TimesEjected(0), 3);
  EXPECT_EQ(set.ejections_total(), 3);
}

TEST(DeploymentSet, SuccessResetsTheFailureRun) {
  FakeClock clock;
  DeploymentSet set({1, 1}, Fast(), clock.fn());
  set.OnFailure(1);
  set.OnFailure(1);
  set.OnSuccess(1, 10ms);
  set.OnFailure(1);
  set.OnFailure(1);
  EXPECT_FALSE(set.Ejected(1));
}

TEST(DeploymentSet, AtMostTheCappedShareIsEjectedAndOneStaysIn) {
  FakeClock clock;
  DeploymentSet set({1, 1, 1}, Fast(), clock.fn());  // 10 % of 3 -> at most 1
  for (size_t d : {0, 1, 2}) {
    for (int i = 0; i < 3; ++i) set.OnFailure(d);
  }
  EXPECT_EQ(set.ejections_total(), 1);
  DeploymentSet single({1}, Fast(), clock.fn());
  for (int i = 0; i < 10; ++i) single.OnFailure(0);
  EXPECT_FALSE(single.Ejected(0));
}

TEST(DeploymentSet, AllEjectedStillAnswersWithTheSoonestBack) {
  FakeClock clock;
  OutlierOptions o = Fast();
  o.max_ejection_percent = 100;
  DeploymentSet set({1, 1, 1}, o, clock.fn());
  for (int i = 0; i < 3; ++i) set.OnFailure(1);
  clock.now += 1s;
  for (int i = 0; i < 3; ++i) set.OnFailure(2);
  // 0 is healthy, so it is chosen; with 0 tried, the ejected ones are still not: nullopt tells
  // the caller to go round the healthy one again.
  EXPECT_EQ(set.Pick(Strategy::kWeightedRandom, {}, 0.9, 0), 0u);
  EXPECT_EQ(set.Pick(Strategy::kWeightedRandom, {0}, 0.9, 0), std::nullopt);
  // One deployment always stays in rotation, so "all ejected" (answered with the soonest back)
  // cannot come from failures; with one of two ejected, only the other is ever picked.
  DeploymentSet all({1, 1}, o, clock.fn());
  for (int i = 0; i < 3; ++i) all.OnFailure(0);
  EXPECT_TRUE(all.Ejected(0));
  for (int i = 0; i < 3; ++i) all.OnFailure(1);
  EXPECT_FALSE(all.Ejected(1));  // one always stays in
  EXPECT_EQ(all.Pick(Strategy::kWeightedRandom, {1}, 0.5, 0), std::nullopt);
  EXPECT_EQ(all.Pick(Strategy::kWeightedRandom, {}, 0.0, 0), 1u);
}

TEST(DeploymentSet, AnEjectedDeploymentGetsNoRetriesWhileOthersAreIn) {
  FakeClock clock;
  DeploymentSet set({1, 1, 1}, Fast(), clock.fn());
  for (int i = 0; i < 3; ++i) set.OnFailure(0);
  ASSERT_TRUE(set.Ejected(0));
  // Healthy 1 and 2 both tried: not 0, whatever the draws.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(set.Pick(Strategy::kWeightedRandom, {1, 2}, i / 10.0, 0), std::nullopt);
    EXPECT_EQ(set.Pick(Strategy::kLeastOutstanding, {2, 1}, i / 10.0, 0), std::nullopt);
  }
  EXPECT_EQ(set.Pick(Strategy::kWeightedRandom, {1}, 0.0, 0), 2u);
}

TEST(DeploymentSet, FailuresWhileEjectedCountTowardTheNextEjection) {
  FakeClock clock;
  DeploymentSet set({1, 1, 1}, Fast(), clock.fn());
  for (int i = 0; i < 3; ++i) set.OnFailure(0);
  ASSERT_TRUE(set.Ejected(0));
  set.OnFailure(0);  // answered while ejected (a straggler): counted, no new ejection yet
  set.OnFailure(0);
  EXPECT_EQ(set.EjectionsTotal(0), 1);
  clock.now += 10s;
  ASSERT_FALSE(set.Ejected(0));
  set.OnFailure(0);  // the third in a row: ejected again at once, for 2 x base
  EXPECT_TRUE(set.Ejected(0));
  EXPECT_EQ(set.EjectionsTotal(0), 2);
  clock.now += 19s;
  EXPECT_TRUE(set.Ejected(0));
}

TEST(DeploymentSet, EjectionMultiplierDecaysAfterHealthyPeriods) {
  FakeClock clock;
  OutlierOptions o = Fast();  // base 10 s, max 25 s
  o.max_ejection = 100s;
  DeploymentSet set({1, 1, 1}, o, clock.fn());
  auto eject = [&] {
    for (int i = 0; i < 3; ++i) set.OnFailure(0);
  };
  eject();  // 10 s
  clock.now += 10s;
  eject();  // 20 s
  clock.now += 20s;
  EXPECT_EQ(set.TimesEjected(0), 2);
  // Back in rotation: each 10 s without an ejection lowers the multiplier by one.
  clock.now += 9s;
  EXPECT_EQ(set.TimesEjected(0), 2);
  clock.now += 1s;
  EXPECT_EQ(set.TimesEjected(0), 1);
  // An ejection now lasts 2 x base (multiplier 1 + 1), not 3 x.
  eject();
  clock.now += 19s;
  EXPECT_TRUE(set.Ejected(0));
  clock.now += 1s;
  EXPECT_FALSE(set.Ejected(0));
  // A long healthy period brings it to zero: the next ejection is 1 x base again.
  clock.now += std::chrono::hours(24 * 7);
  EXPECT_EQ(set.TimesEjected(0), 0);
  eject();
  clock.now += 9s;
  EXPECT_TRUE(set.Ejected(0));
  clock.now += 1s;
  EXPECT_FALSE(set.Ejected(0));
  EXPECT_EQ(set.EjectionsTotal(0), 4);  // the counter never decays
  EXPECT_EQ(set.ejections_total(), 4);
}

TEST(DeploymentSet, LeastOutstandingPicksTheIdleOne) {
  FakeClock clock;
  DeploymentSet set({1, 1, 1}, {}, clock.fn());
  set.Begin(0);
  set.Begin(0);
  set.Begin(2);
  EXPECT_EQ(set.Pick(Strategy::kLeastOutstanding, {}, 0.0, 0), 1u);
  set.End(0);
  set.End(0);
  EXPECT_EQ(set.Outstanding(0), 0);
}

TEST(DeploymentSet, LatencyAwarePrefersTheFasterOfTwo) {
  FakeClock clock;
  DeploymentSet set({1, 1}, {}, clock.fn());
  set.OnSuccess(0, 400ms);
  set.OnSuccess(1, 40ms);
  // Draws 0.1 -> deployment 0 and 0.9 -> deployment 1: the faster wins either way round.
  EXPECT_EQ(set.Pick(Strategy::kLatency, {}, 0.1, 0.9), 1u);
  EXPECT_EQ(set.Pick(Strategy::kLatency, {}, 0.9, 0.1), 1u);
}

TEST(DeploymentSet, UsageAwarePrefersHeadroom) {
  FakeClock clock;
  DeploymentSet set({1, 1}, {}, clock.fn());
  set.SetHeadroom(0, 0.05);
  set.SetHeadroom(1, 0.6);
  EXPECT_EQ(set.Pick(Strategy::kUsage, {}, 0.0, 0), 1u);
}

TEST(DeploymentSet, ReportedHeadroomExpires) {
  FakeClock clock;
  DeploymentSet set({1, 1}, {}, clock.fn());
  set.SetHeadroom(0, 0.9);
  set.SetHeadroom(1, 0.0, 2s);  // exhausted until its window resets in 2 s
  EXPECT_EQ(set.Headroom(1), 0.0);
  EXPECT_EQ(set.Pick(Strategy::kUsage, {}, 0.9, 0), 0u);
  clock.now += 2s;
  EXPECT_EQ(set.Headroom(1), 1.0);  // expired: full again, so it gets traffic and reports anew
  EXPECT_EQ(set.Pick(Strategy::kUsage, {}, 0.9, 0), 1u);
  // Without a reset time (or a longer one) a report holds for the horizon at most.
  set.SetHeadroom(1, 0.0, std::chrono::hours(1));
  set.SetHeadroom(0, 0.5, std::chrono::milliseconds(0));
  clock.now += DeploymentSet::kHeadroomHorizon - 1ms;
  EXPECT_EQ(set.Headroom(1), 0.0);
  EXPECT_EQ(set.Headroom(0), 0.5);
  clock.now += 1ms;
  EXPECT_EQ(set.Headroom(1), 1.0);
  EXPECT_EQ(set.Headroom(0), 1.0);
}

TEST(DeploymentSet, StrategyNames) {
  for (auto s : {Strategy::kWeightedRandom, Strategy::kLeastOutstanding, Strategy::kLatency,
                 Strategy::kUsage}) {
    EXPECT_EQ(ParseStrategy(StrategyName(s)), s);
  }
  EXPECT_EQ(ParseStrategy("round-robin-ish"), std::nullopt);
}

}  // namespace
}  // namespace modelmux::resilience
