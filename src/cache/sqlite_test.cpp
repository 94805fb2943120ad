#include "cache/sqlite.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace modelmux::cache {
namespace {

namespace fs = std::filesystem;

// Runs one coroutine to completion on `io` (reusable: a fresh io_context per call is slow).
template <class T>
T AwaitOn(boost::asio::io_context& io, boost::asio::awaitable<T> aw) {
  auto fut = boost::asio::co_spawn(io, std::move(aw), boost::asio::use_future);
  io.restart();
  io.run();
  return fut.get();
}

// The loop outlives every backend of the test: a reader thread may still be inside post() (Asio
// signals after unlocking) when the awaiting coroutine has already resumed.
template <class T>
T Await(boost::asio::awaitable<T> aw) {
  thread_local boost::asio::io_context io;
  return AwaitOn(io, std::move(aw));
}

Entry MakeEntry(std::string value, int64_t created = 1000, int64_t expires = 0,
                std::string model = "sim/echo", std::string ns = "default") {
  Entry e;
  e.meta.ns = std::move(ns);
  e.meta.model = std::move(model);
  e.meta.provider = "sim";
  e.meta.stream = true;
  e.meta.created_unix_ms = created;
  e.meta.expires_unix_ms = expires;
  e.meta.prompt_tokens = 12;
  e.meta.completion_tokens = 34;
  e.meta.cost = 0.25;
  e.meta.currency = "CNY";
  e.value = std::move(value);
  return e;
}

class SqliteBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "mm-sqlite-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = SqliteBackend::DefaultPath(dir_ + "/data");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteBackend> Open(SqliteOptions options = {}) {
    if (!options.now_ms) options.now_ms = [this] { return now_.load(); };
    auto opened = SqliteBackend::Open(path_, std::move(options));
    EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message);
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  std::string dir_;
  std::string path_;
  std::atomic<int64_t> now_{1000};
};

TEST_F(SqliteBackendTest, CreatesTheFileAndPersistsAcrossReopen) {
  {
    auto db = Open();
    ASSERT_TRUE(db);
    EXPECT_EQ(db->path(), path_);
    ASSERT_TRUE(Await(db->Put("k1", MakeEntry("value one", 900, 50'000))).ok());
  }
  EXPECT_TRUE(fs::exists(path_));
  auto db = Open();
  ASSERT_TRUE(db);
  auto got = Await(db->Get("k1"));
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  const Entry& e = **got;
  EXPECT_EQ(e.value, "value one");
  EXPECT_EQ(e.meta.ns, "default");
  EXPECT_EQ(e.meta.model, "sim/echo");
  EXPECT_EQ(e.meta.provider, "sim");
  EXPECT_TRUE(e.meta.stream);
  EXPECT_EQ(e.meta.created_unix_ms, 900);
  EXPECT_EQ(e.meta.expires_unix_ms, 50'000);
  EXPECT_EQ(e.meta.prompt_tokens, 12);
  EXPECT_EQ(e.meta.completion_tokens, 34);
  EXPECT_DOUBLE_EQ(e.meta.cost, 0.25);
  EXPECT_EQ(e.meta.currency, "CNY");
  BackendStats s = *Await(db->Stats());
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, 9u + SqliteBackend::kRowOverhead);  // charged: value and row overhead
  EXPECT_EQ(s.hits, 1u);
}

TEST_F(SqliteBackendTest, ThousandPutsAreVisibleAtOnceAndAfterReopen) {
  {
    auto db = Open();
    ASSERT_TRUE(db);
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(
          Await(db->Put("key" + std::to_string(i), MakeEntry("v" + std::to_string(i)))).ok());
    }
    for (int i = 0; i < 1000; ++i) {
      auto got = Await(db->Get("key" + std::to_string(i)));
      ASSERT_TRUE(got.ok() && got->has_value()) << i;
      EXPECT_EQ((*got)->value, "v" + std::to_string(i));
    }
  }  // the destructor commits what is still queued
  auto db = Open();
  ASSERT_TRUE(db);
  EXPECT_EQ(Await(db->Stats())->entries, 1000u);
  for (int i = 0; i < 1000; i += 7) {
    auto got = Await(db->Get("key" + std::to_string(i)));
    ASSERT_TRUE(got.ok() && got->has_value()) << i;
    EXPECT_EQ((*got)->value, "v" + std::to_string(i));
  }
}

TEST_F(SqliteBackendTest, EraseIsVisibleBeforeAndAfterCommit) {
  auto db = Open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(Await(db->Put("k", MakeEntry("v"))).ok());
  db->Flush();
  ASSERT_TRUE(Await(db->Erase("k")).ok());
  EXPECT_FALSE(Await(db->Get("k"))->has_value());
  db->Flush();
  EXPECT_FALSE(Await(db->Get("k"))->has_value());
  EXPECT_EQ(Await(db->Stats())->entries, 0u);
}

TEST_F(SqliteBackendTest, ExpiredEntryIsNeverReturnedAndGetsDeleted) {
  auto db = Open();
  ASSERT_TRUE(db);
  ASSERT_TRUE(Await(db->Put("k", MakeEntry("v", 1000, 2000))).ok());
  db->Flush();
  now_ = 1999;
  EXPECT_TRUE(Await(db->Get("k"))->has_value());
  now_ = 2000;
  EXPECT_FALSE(Await(db->Get("k"))->has_value());
  db->Flush();  // the delete that Get queued
  BackendStats s = *Await(db->Stats());
  EXPECT_EQ(s.expired, 1u);
  EXPECT_EQ(s.entries, 0u);
}

// Rows are charged their value plus kRowOverhead; a cap of five rows makes the sixth evict.
constexpr size_t kValueBytes = 1000;
constexpr size_t kRow = kValueBytes + SqliteBackend::kRowOverhead;

TEST_F(SqliteBackendTest, SizeCapEvictsLeastRecentlyAccessedFirst) {
  SqliteOptions options;
  options.max_bytes = 5 * kRow;
  auto db = Open(options);
  ASSERT_TRUE(db);
  for (int i = 0; i < 5; ++i) {
    now_ = 1 + i;
    ASSERT_TRUE(
        Await(db->Put("k" + std::to_string(i), MakeEntry(std::string(kValueBytes, 'x')))).ok());
  }
  db->Flush();
  now_ = 10;
  ASSERT_TRUE(Await(db->Get("k0"))->has_value());  // k0 becomes the most recently accessed
  db->Flush();
  now_ = 11;
  ASSERT_TRUE(Await(db->Put("k5", MakeEntry(std::string(kValueBytes, 'x')))).ok());
  db->Flush();
  // Six rows are over the cap: down to 90 % of it, i.e. two rows go, the two oldest accesses.
  EXPECT_FALSE(Await(db->Get("k1"))->has_value());
  EXPECT_FALSE(Await(db->Get("k2"))->has_value());
  for (const char* k : {"k0", "k3", "k4", "k5"}) EXPECT_TRUE(Await(db->Get(k))->has_value()) << k;
  BackendStats s = *Await(db->Stats());
  EXPECT_EQ(s.evictions, 2u);
  EXPECT_EQ(s.entries, 4u);
  EXPECT_LE(s.bytes, options.max_bytes / 10 * 9);
}

TEST_F(SqliteBackendTest, SizeCapRemovesExpiredRowsFirst) {
  SqliteOptions options;
  options.max_bytes = 5 * kRow;
  auto db = Open(options);
  ASSERT_TRUE(db);
  for (int i = 0; i < 5; ++i) {
    now_ = 1 + i;
    // k4 is the most recently written, but it expires at 50.
    const int64_t expires = i == 4 ? 50 : 0;
    ASSERT_TRUE(Await(db->Put("k" + std::to_string(i),
                              MakeEntry(std::string(kValueBytes, 'x'), 1, expires)))
                    .ok());
  }
  db->Flush();
  now_ = 60;
  ASSERT_TRUE(Await(db->Put("k5", MakeEntry(std::string(kValueBytes, 'x')))).ok());
  db->Flush();
  BackendStats s = *Await(db->Stats());
  EXPECT_EQ(s.expired, 1u);    // k4
  EXPECT_EQ(s.evictions, 1u);  // then k0, the oldest access, to get under 90 %
  EXPECT_FALSE(Await(db->Get("k0"))->has_value());
  EXPECT_FALSE(Await(db->Get("k4"))->has_value());
  for (const char* k : {"k1", "k2", "k3", "k5"}) EXPECT_TRUE(Await(db->Get(k))->has_value()) << k;
}

TEST_F(SqliteBackendTest, PeriodicCleanupDeletesExpiredRows) {
  SqliteOptions options;
  options.cleanup_interval = std::chrono::seconds(1);
  auto db = Open(options);
  ASSERT_TRUE(db);
  ASSERT_TRUE(Await(db->Put("short", MakeEntry("v", 1000, 1500))).ok());
  ASSERT_TRUE(Await(db->Put("long", MakeEntry("v", 1000, 100'000))).ok());
  db->Flush();
  now_ = 2000;  // nobody reads "short": only the clean-up can remove it
  BackendStats s;
  for (int i = 0; i < 100; ++i) {
    s = *Await(db->Stats());
    if (s.expired > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(s.expired, 1u);
  EXPECT_EQ(s.entries, 1u);
  Filter all;
  auto listed = *Await(db->List(all));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "long");
}

TEST_F(SqliteBackendTest, ListAndPurgeByFilter) {
  auto db = Open();
  ASSERT_TRUE(db);
  now_ = 10'000;
  ASSERT_TRUE(Await(db->Put("a", MakeEntry("1", 1000, 20'000, "m1", "t1"))).ok());
  ASSERT_TRUE(Await(db->Put("b", MakeEntry("22", 2000, 20'000, "m2", "t1"))).ok());
  ASSERT_TRUE(Await(db->Put("c", MakeEntry("333", 3000, 11'000, "m1", "t2"))).ok());
  ASSERT_TRUE(Await(db->Put("d", MakeEntry("4444", 4000, 0, "m2", "t2"))).ok());

  // No Flush: List runs after the queued writes.
  auto listed = *Await(db->List(Filter{}));
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[0].key, "d");
  EXPECT_EQ(listed[0].bytes, 4u);
  EXPECT_EQ(listed[0].meta.ns, "t2");
  EXPECT_EQ(listed[3].key, "a");

  Filter by_model;
  by_model.model = "m1";
  listed = *Await(db->List(by_model));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].key, "c");
  EXPECT_EQ(listed[1].key, "a");

  Filter limited;
  limited.limit = 3;
  EXPECT_EQ(Await(db->List(limited))->size(), 3u);

  now_ = 12'000;
  Filter expired;
  expired.expired_only = true;
  listed = *Await(db->List(expired));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "c");

  Filter old_t1;
  old_t1.ns = "t1";
  old_t1.created_before_unix_ms = 2000;
  EXPECT_EQ(*Await(db->Purge(old_t1)), 1u);
  EXPECT_FALSE(Await(db->Get("a"))->has_value());
  EXPECT_TRUE(Await(db->Get("b"))->has_value());
  EXPECT_EQ(*Await(db->Purge(expired)), 1u);
  EXPECT_EQ(Await(db->Stats())->entries, 2u);
  EXPECT_EQ(Await(db->Stats())->bytes, 6u + 2 * SqliteBackend::kRowOverhead);  // "b" and "d"
}

TEST_F(SqliteBackendTest, GarbageFileIsAnErrorNamingThePath) {
  fs::create_directories(fs::path(path_).parent_path());
  {
    std::ofstream out(path_, std::ios::binary);
    for (int i = 0; i < 1000; ++i) out << "this is not a database ";
  }
  auto opened = SqliteBackend::Open(path_, SqliteOptions{});
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find(path_), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find("not a database"), std::string::npos)
      << opened.error().message;
}

TEST_F(SqliteBackendTest, UnwritableDirectoryIsAnErrorNamingThePath) {
  std::ofstream(dir_ + "/blocker") << "x";
  const std::string bad = dir_ + "/blocker/sub/cache.db";  // a file where a directory should be
  auto opened = SqliteBackend::Open(bad, SqliteOptions{});
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find(bad), std::string::npos) << opened.error().message;
}

TEST_F(SqliteBackendTest, ConcurrentPutsAndGetsLoseNothing) {
  for (int round = 0; round < 3; ++round) {
    std::vector<std::unique_ptr<boost::asio::io_context>> loops;  // outlive the backend
    for (int t = 0; t < 4; ++t) loops.push_back(std::make_unique<boost::asio::io_context>());
    {
      auto db = Open();
      ASSERT_TRUE(db);
      std::atomic<int> wrong{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&db, &wrong, t, round, &io = *loops[t]] {
          for (int i = 0; i < 1000; ++i) {
            std::string key =
                std::to_string(round) + ":" + std::to_string(t) + ":" + std::to_string(i);
            if (!AwaitOn(io, db->Put(key, MakeEntry(key))).ok()) ++wrong;
            auto got = AwaitOn(io, db->Get(key));
            if (!got.ok() || !got->has_value() || (*got)->value != key) ++wrong;
            (void)AwaitOn(io, db->Get(std::to_string(round) + ":" + std::to_string((t + 1) % 4) +
                                      ":" + std::to_string(i)));
          }
        });
      }
      for (auto& th : threads) th.join();
      EXPECT_EQ(wrong.load(), 0);
    }
    auto db = Open();
    ASSERT_TRUE(db);
    EXPECT_EQ(Await(db->Stats())->entries, 4000u * (round + 1));
    EXPECT_EQ(Await(db->Stats())->errors, 0u);
  }
}

}  // namespace
}  // namespace modelmux::cache
