// Crash safety of `modelmux batch` (issue 8): a 5,000-line batch against `modelmux sim`, killed
// with SIGKILL at 20 random moments and resumed each time, ends with exactly 5,000 unique
// results, no id written twice, and upstream calls (by /sim/stats) at most 5,000 plus what can be
// lost at each kill: the calls in flight (--concurrency) and the results not yet flushed
// (--flush-every).

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr int kLines = 5000;
constexpr int kKills = 20;
constexpr int kConcurrency = 32;
constexpr int kFlushEvery = 16;

int64_t SimTotal(const Service& sim) {
  json::value v = ParseJson(Http("GET", sim.base_url + "/sim/stats", {}, {}, 10s).body);
  if (!v.is_object()) return -1;
  const json::value* t = v.get_object().if_contains("total");
  return t != nullptr && t->is_int64() ? t->get_int64() : -1;
}

TEST(BatchCrash, KilledTwentyTimesLosesNothingAndWritesNothingTwice) {
  TempDir dir;
  // 100 ms per answer: a whole run takes about 5000 / 32 x 0.1 s = 16 s, more than 20 kills at
  // 50-400 ms after each start can use up, so every kill lands mid-run.
  Service sim = StartSim({"--latency-ms", "100"});
  const std::string cfg = dir.Write(
      "modelmux.yaml", "providers:\n  up: {type: sim, base_url: \"" + sim.base_url + "/v1\"}\n");
  std::string input;
  for (int i = 0; i < kLines; ++i) {
    input += R"({"id":"item-)" + std::to_string(i) + R"(","prompt":"line )" + std::to_string(i) +
             "\"}\n";
  }
  const std::string in = dir.Write("in.jsonl", input);
  const std::string out = (dir.path() / "out.jsonl").string();
  const std::vector<std::string> args = {"batch",
                                         in,
                                         "-o",
                                         out,
                                         "--config",
                                         cfg,
                                         "-m",
                                         "up/m",
                                         "-c",
                                         std::to_string(kConcurrency),
                                         "--flush-every",
                                         std::to_string(kFlushEvery),
                                         "--flush-ms",
                                         "50",
                                         "--quiet"};
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(50, 400);
  int kills = 0, finished_runs = 0;
  const auto deadline = std::chrono::steady_clock::now() + 150s;
  while (kills < kKills && std::chrono::steady_clock::now() < deadline) {
    auto p = Process::Start(ModelmuxBin(), args);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    if (auto code = p->Wait(0ms)) {
      ++finished_runs;  // finished before the kill: start over on a fresh output
      ASSERT_EQ(*code, 0) << p->stderr_tail();
      break;
    }
    ASSERT_EQ(::kill(p->pid(), SIGKILL), 0);
    auto code = p->Wait(10s);
    ASSERT_TRUE(code.has_value());
    ++kills;
  }
  // The last run completes.
  auto last = Process::Start(ModelmuxBin(), args);
  auto code = last->Wait(120s);
  ASSERT_TRUE(code.has_value()) << last->Describe();
  ASSERT_EQ(*code, 0) << last->stderr_tail();

  std::ifstream f(out);
  std::set<std::string> ids;
  int lines = 0;
  for (std::string line; std::getline(f, line);) {
    ++lines;
    json::value v = ParseJson(line);
    ASSERT_TRUE(v.is_object()) << "line " << lines << ": " << line.substr(0, 200);
    ASSERT_TRUE(v.get_object().contains("response")) << line.substr(0, 200);
    const std::string id = Str(v.get_object().at("id"));
    EXPECT_TRUE(ids.insert(id).second) << "id written twice: " << id;
  }
  EXPECT_EQ(lines, kLines);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kLines));
  const int64_t calls = SimTotal(sim);
  EXPECT_GE(calls, kLines);
  EXPECT_LE(calls, kLines + static_cast<int64_t>(kills) * (kConcurrency + kFlushEvery))
      << "kills: " << kills;
  std::cerr << "kills " << kills << ", upstream calls " << calls << " for " << kLines
            << " lines (runs that finished early: " << finished_runs << ")\n";
  EXPECT_EQ(kills, kKills);  // every kill landed mid-run
}

}  // namespace
}  // namespace modelmux::testing
