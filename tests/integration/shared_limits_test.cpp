// Deployment rate limits shared by replicas through Redis (issue 5, router.shared_limits): two
// gateway processes and one redis-server on loopback in front of one `modelmux sim` limited to
// 600 requests per 2 s. With shared limits, the replicas pace one schedule between them and the
// upstream never has to answer 429; with local limits (the control), each replica paces 600 per
// window on its own and the upstream refuses.

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <mutex>

#include "gateway_it.hpp"
#include "store/redis_test_server.hpp"

namespace modelmux::testing {
namespace {

using Clock = std::chrono::steady_clock;

int64_t IntAt(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) {
    if (!cur->is_object()) return 0;
    cur = cur->get_object().if_contains(key);
    if (cur == nullptr) return 0;
  }
  return cur->is_int64() ? cur->get_int64() : 0;
}

struct BurstResult {
  int ok = 0, shed = 0, other = 0;
  double secs = 0;
  int64_t sim_total = 0, sim_200 = 0, sim_429 = 0;
};

// `requests` chat calls (each prompt distinct, so the cache never answers) from `threads` client
// threads spread evenly over `gateways`.
BurstResult Burst(const Service& sim, const std::vector<const Service*>& gateways, int requests,
                  int threads) {
  std::atomic<int> next{0}, ok{0}, shed{0}, other{0};
  const auto begin = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const Service& gw = *gateways[static_cast<size_t>(t) % gateways.size()];
      for (int i = next++; i < requests; i = next++) {
        auto r = Http("POST", gw.base_url + "/v1/chat/completions",
                      ChatBody("chat", "burst request " + std::to_string(i)), {}, 20s);
        if (r.status == 200) {
          ++ok;
        } else if (r.status == 429) {
          ++shed;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  BurstResult out;
  out.secs = std::chrono::duration<double>(Clock::now() - begin).count();
  out.ok = ok.load();
  out.shed = shed.load();
  out.other = other.load();
  const json::value stats = ParseJson(Http("GET", sim.base_url + "/sim/stats", {}, {}, 10s).body);
  out.sim_total = IntAt(stats, {"total"});
  out.sim_200 = IntAt(stats, {"by_status", "200"});
  out.sim_429 = IntAt(stats, {"by_status", "429"});
  std::cout << "[ shared limits ] " << requests << " requests over " << gateways.size()
            << " replicas in " << out.secs << " s: " << out.ok << " ok, " << out.shed
            << " fast 429, " << out.other << " other; the simulator saw " << out.sim_total << " ("
            << out.sim_429 << " x 429)\n";
  return out;
}

std::string Config(const Service& sim, bool shared, std::string_view extra = {}) {
  return "providers:\n"
         "  up: {type: openai, base_url: \"" +
         sim.base_url +
         "/v1\", api_key: sk-test}\n"
         "models:\n"
         "  - name: chat\n"
         "    deployments: [{provider: up, model: gpt-4o-mini, rpm: 600, rate_window: 2s}]\n"
         "router:\n"
         "  queue_timeout: 5s\n"
         "  num_retries: 0\n"
         "  shared_limits: " +
         std::string(shared ? "true" : "false") + "\n" + std::string(extra);
}

TEST(SharedLimits, TwoReplicasShareOneDeploymentWindow) {
  auto redis = store::testing::RedisServer::Start();
  ASSERT_TRUE(redis) << "redis-server did not start";
  const std::string url = "redis://" + redis->address();
  TempDir dir;
  Service sim = StartSim({"--rpm", "600", "--window-s", "2"});
  const std::string config = dir.Write("shared.yaml", Config(sim, true));
  Service a = StartGateway({"--config", config, "--redis", url});
  Service b = StartGateway({"--config", config, "--redis", url});
  const int requests = 1200;
  BurstResult r = Burst(sim, {&a, &b}, requests, 48);
  EXPECT_EQ(r.sim_429, 0) << "the upstream had to refuse";
  EXPECT_EQ(r.other, 0);
  EXPECT_EQ(r.ok + r.shed, requests);
  EXPECT_EQ(r.sim_200, r.ok);
  EXPECT_EQ(r.sim_total, r.ok);  // a shed call never reached the upstream
  EXPECT_GT(r.ok, requests / 2);
  // Both replicas together admitted at most 600 per 2 s (plus the first at once).
  EXPECT_LE(r.ok, static_cast<int>(300 * r.secs) + 1);
  // The schedule lives in Redis under the versioned name.
  EXPECT_EQ(redis->Cli("EXISTS 'mm:v1:rl:dep:{chat/up/gpt-4o-mini}:req'"), "1\n");
}

// Without a response cache (so no cache Redis client), router.shared_limits has a Redis client
// of its own: the replicas still pace one schedule.
TEST(SharedLimits, SharedWithTheCacheOff) {
  auto redis = store::testing::RedisServer::Start();
  ASSERT_TRUE(redis) << "redis-server did not start";
  const std::string url = "redis://" + redis->address();
  TempDir dir;
  Service sim = StartSim({"--rpm", "600", "--window-s", "2"});
  const std::string config =
      dir.Write("nocache.yaml", Config(sim, true, "cache: {enabled: false}\n"));
  Service a = StartGateway({"--config", config, "--redis", url});
  Service b = StartGateway({"--config", config, "--redis", url});
  const int requests = 1200;
  BurstResult r = Burst(sim, {&a, &b}, requests, 48);
  EXPECT_EQ(r.sim_429, 0) << "the upstream had to refuse";
  EXPECT_EQ(r.other, 0);
  EXPECT_EQ(r.ok + r.shed, requests);
  EXPECT_EQ(r.sim_total, r.ok);
  EXPECT_GT(r.ok, requests / 2);
  EXPECT_LE(r.ok, static_cast<int>(300 * r.secs) + 1);
  EXPECT_EQ(redis->Cli("EXISTS 'mm:v1:rl:dep:{chat/up/gpt-4o-mini}:req'"), "1\n");
}

// Shared limits without any Redis URL: the gateway refuses to start, naming the setting.
TEST(SharedLimits, WithoutRedisTheGatewayRefusesToStart) {
  TempDir dir;
  Service sim = StartSim();
  const std::string config = dir.Write("noredis.yaml", Config(sim, true));
  ProcessOptions o;
  o.env.emplace_back("MODELMUX_DATA_DIR", (dir.path() / "data").string());
  auto p = Process::Start(ModelmuxBin(), {"serve", "--port", "0", "--config", config}, o);
  const std::optional<int> code = p->Wait(10s);
  ASSERT_TRUE(code.has_value()) << "the gateway kept running";
  EXPECT_NE(*code, 0);
  EXPECT_NE(p->stderr_tail().find("router.shared_limits"), std::string::npos) << p->stderr_tail();
}

// The control: the same burst with each replica pacing alone gets 429s from the upstream, so the
// test above can fail.
TEST(SharedLimits, WithoutSharingTheReplicasOverrunTheUpstream) {
  auto redis = store::testing::RedisServer::Start();
  ASSERT_TRUE(redis) << "redis-server did not start";
  const std::string url = "redis://" + redis->address();
  TempDir dir;
  Service sim = StartSim({"--rpm", "600", "--window-s", "2"});
  const std::string config = dir.Write("local.yaml", Config(sim, false));
  Service a = StartGateway({"--config", config, "--redis", url});
  Service b = StartGateway({"--config", config, "--redis", url});
  BurstResult r = Burst(sim, {&a, &b}, 1200, 48);
  EXPECT_GT(r.sim_429, 0);
}

}  // namespace
}  // namespace modelmux::testing
