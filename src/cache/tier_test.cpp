#include "cache/tier.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <string>

#include "cache/sqlite.hpp"

namespace modelmux::cache {
namespace {

namespace fs = std::filesystem;

// The loop outlives every backend of the test: a SQLite reader thread may still be inside post()
// (Asio signals after unlocking) when the awaiting coroutine has already resumed.
template <class T>
T Await(boost::asio::awaitable<T> aw) {
  thread_local boost::asio::io_context io;
  auto fut = boost::asio::co_spawn(io, std::move(aw), boost::asio::use_future);
  io.restart();
  io.run();
  return fut.get();
}

Entry MakeEntry(std::string value, int64_t expires = 0, std::string model = "sim/echo") {
  Entry e;
  e.meta.ns = "default";
  e.meta.model = std::move(model);
  e.meta.provider = "sim";
  e.meta.created_unix_ms = 1000;
  e.meta.expires_unix_ms = expires;
  e.value = std::move(value);
  return e;
}

Error Down() {
  Error e;
  e.kind = ErrorKind::kUnavailable;
  e.message = "backend down";
  return e;
}

// A back that fails every call and counts them.
class FailingBackend : public Backend {
 public:
  std::string name() const override { return "failing"; }
  boost::asio::awaitable<Result<std::optional<Entry>>> Get(std::string) override {
    ++calls;
    co_return Down();
  }
  boost::asio::awaitable<Status> Put(std::string, Entry) override {
    ++calls;
    co_return Down();
  }
  boost::asio::awaitable<Status> Erase(std::string) override {
    ++calls;
    co_return Down();
  }
  boost::asio::awaitable<Result<std::vector<ListedEntry>>> List(Filter) override {
    ++calls;
    co_return Down();
  }
  boost::asio::awaitable<Result<uint64_t>> Purge(Filter) override {
    ++calls;
    co_return Down();
  }
  boost::asio::awaitable<Result<BackendStats>> Stats() override {
    ++calls;
    co_return Down();
  }
  int calls = 0;
};

struct MemoryTier {
  explicit MemoryTier(std::function<int64_t()> clock = SystemNowMs) {
    auto f = std::make_unique<MemoryBackend>(1 << 20, clock);
    auto b = std::make_unique<MemoryBackend>(1 << 20, clock);
    front = f.get();
    back = b.get();
    tier = std::make_unique<TierBackend>(std::move(f), std::move(b));
  }
  MemoryBackend* front;
  MemoryBackend* back;
  std::unique_ptr<TierBackend> tier;
};

TEST(TierBackend, PutFillsBothAndGetHitsTheFront) {
  MemoryTier t;
  EXPECT_EQ(t.tier->name(), "tier(memory,memory)");
  ASSERT_TRUE(Await(t.tier->Put("k", MakeEntry("v"))).ok());
  EXPECT_EQ(t.front->StatsNow().entries, 1u);
  EXPECT_EQ(t.back->StatsNow().entries, 1u);
  auto got = Await(t.tier->Get("k"));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->value, "v");
  EXPECT_EQ(t.tier->counters().front_hits, 1u);
  EXPECT_EQ(t.tier->counters().back_hits, 0u);
  EXPECT_EQ(t.back->StatsNow().hits + t.back->StatsNow().misses, 0u);  // the back was not asked
}

TEST(TierBackend, BackHitFillsTheFrontWithTheRemainingTtl) {
  int64_t now = 1000;
  MemoryTier t([&now] { return now; });
  t.back->PutNow("k", MakeEntry("from back", 5000));
  auto got = Await(t.tier->Get("k"));
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->value, "from back");
  EXPECT_EQ(t.tier->counters().back_hits, 1u);
  auto in_front = t.front->GetNow("k");
  ASSERT_TRUE(in_front.has_value());
  EXPECT_EQ(in_front->meta.expires_unix_ms, 5000);
  // The second Get is served by the front; past the TTL neither tier answers.
  ASSERT_TRUE(Await(t.tier->Get("k"))->has_value());
  EXPECT_EQ(t.tier->counters().front_hits, 1u);
  now = 5000;
  EXPECT_FALSE(Await(t.tier->Get("k"))->has_value());
  EXPECT_EQ(t.tier->counters().misses, 1u);
}

TEST(TierBackend, FailingBackIsAMissNotAnError) {
  auto front = std::make_unique<MemoryBackend>(1 << 20);
  auto back = std::make_unique<FailingBackend>();
  FailingBackend* failing = back.get();
  MemoryBackend* mem = front.get();
  TierBackend tier(std::move(front), std::move(back));
  auto got = Await(tier.Get("k"));
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  // Put succeeds (the front holds it) and the next Get is a front hit.
  EXPECT_TRUE(Await(tier.Put("k", MakeEntry("v"))).ok());
  EXPECT_TRUE(mem->GetNow("k").has_value());
  EXPECT_TRUE(Await(tier.Get("k"))->has_value());
  EXPECT_EQ(failing->calls, 2);
  TierBackend::Counters c = tier.counters();
  EXPECT_EQ(c.back_errors, 2u);
  EXPECT_EQ(c.misses, 1u);
  EXPECT_EQ(c.front_hits, 1u);
  // Stats fall back to the front's contents and still report the failures.
  auto stats = Await(tier.Stats());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->entries, 1u);
  EXPECT_EQ(stats->errors, 3u);  // Get, Put and this Stats
  // Admin calls do report the back's error.
  EXPECT_FALSE(Await(tier.List(Filter{})).ok());
}

TEST(TierBackend, StatsCombineTheTiers) {
  MemoryTier t;
  ASSERT_TRUE(Await(t.tier->Put("a", MakeEntry("1"))).ok());
  t.back->PutNow("b", MakeEntry("22"));
  (void)Await(t.tier->Get("a"));        // front hit
  (void)Await(t.tier->Get("b"));        // back hit
  (void)Await(t.tier->Get("missing"));  // miss in both
  BackendStats s = *Await(t.tier->Stats());
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(s.entries, 2u);  // the back's count
}

TEST(TierBackend, EraseAndPurgeReachBothTiers) {
  MemoryTier t;
  ASSERT_TRUE(Await(t.tier->Put("a", MakeEntry("1", 0, "m1"))).ok());
  ASSERT_TRUE(Await(t.tier->Put("b", MakeEntry("2", 0, "m2"))).ok());
  ASSERT_TRUE(Await(t.tier->Erase("a")).ok());
  EXPECT_FALSE(t.front->GetNow("a").has_value());
  EXPECT_FALSE(t.back->GetNow("a").has_value());
  Filter m2;
  m2.model = "m2";
  EXPECT_EQ(*Await(t.tier->Purge(m2)), 1u);
  EXPECT_FALSE(Await(t.tier->Get("b"))->has_value());
  EXPECT_EQ(t.front->StatsNow().entries + t.back->StatsNow().entries, 0u);
}

TEST(TierBackend, SqliteBackServesAFreshFront) {
  std::string tmpl = (fs::temp_directory_path() / "mm-tier-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string path = SqliteBackend::DefaultPath(tmpl);
  {
    auto opened = SqliteBackend::Open(path, SqliteOptions{});
    ASSERT_TRUE(opened.ok());
    TierBackend tier(std::make_unique<MemoryBackend>(1 << 20), std::move(opened).value());
    EXPECT_EQ(tier.name(), "tier(memory,sqlite)");
    ASSERT_TRUE(Await(tier.Put("k", MakeEntry("persisted"))).ok());
  }
  {
    auto opened = SqliteBackend::Open(path, SqliteOptions{});
    ASSERT_TRUE(opened.ok());
    auto front = std::make_unique<MemoryBackend>(1 << 20);
    MemoryBackend* mem = front.get();
    TierBackend tier(std::move(front), std::move(opened).value());
    auto got = Await(tier.Get("k"));
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ((*got)->value, "persisted");
    EXPECT_EQ(tier.counters().back_hits, 1u);
    EXPECT_TRUE(mem->GetNow("k").has_value());
  }
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace modelmux::cache
