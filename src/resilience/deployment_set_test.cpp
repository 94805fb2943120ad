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
  // 0 is healthy, so it is chosen; with 0 tried, the soonest back (1) is.
  EXPECT_EQ(set.Pick(Strategy::kWeightedRandom, {}, 0.9, 0), 0u);
  EXPECT_EQ(set.Pick(Strategy::kWeightedRandom, {0}, 0.9, 0), 1u);
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

TEST(DeploymentSet, StrategyNames) {
  for (auto s : {Strategy::kWeightedRandom, Strategy::kLeastOutstanding, Strategy::kLatency,
                 Strategy::kUsage}) {
    EXPECT_EQ(ParseStrategy(StrategyName(s)), s);
  }
  EXPECT_EQ(ParseStrategy("round-robin-ish"), std::nullopt);
}

}  // namespace
}  // namespace modelmux::resilience
