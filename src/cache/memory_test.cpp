#include "cache/memory.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string>
#include <thread>
#include <vector>

namespace modelmux::cache {
namespace {

// Runs one coroutine to completion on `io` (reusable: a fresh io_context per call is slow).
template <class T>
T AwaitOn(boost::asio::io_context& io, boost::asio::awaitable<T> aw) {
  auto fut = boost::asio::co_spawn(io, std::move(aw), boost::asio::use_future);
  io.restart();
  io.run();
  return fut.get();
}

template <class T>
T Await(boost::asio::awaitable<T> aw) {
  boost::asio::io_context io;
  return AwaitOn(io, std::move(aw));
}

Entry MakeEntry(std::string value, int64_t created = 1000, int64_t expires = 0,
                std::string model = "sim/echo", std::string ns = "default") {
  Entry e;
  e.meta.ns = std::move(ns);
  e.meta.model = std::move(model);
  e.meta.provider = "sim";
  e.meta.created_unix_ms = created;
  e.meta.expires_unix_ms = expires;
  e.meta.prompt_tokens = 12;
  e.meta.completion_tokens = 34;
  e.meta.cost = 0.5;
  e.meta.currency = "USD";
  e.value = std::move(value);
  return e;
}

// `n` distinct keys that all land in the same shard (the shard is the key hash modulo kShards).
std::vector<std::string> KeysInOneShard(size_t n) {
  std::vector<std::string> keys;
  size_t target = std::hash<std::string_view>{}("k0") % MemoryBackend::kShards;
  for (int i = 0; keys.size() < n; ++i) {
    std::string k = "k" + std::to_string(i);
    if (std::hash<std::string_view>{}(k) % MemoryBackend::kShards == target) keys.push_back(k);
  }
  return keys;
}

TEST(MemoryBackend, PutThenGetReturnsEntryAndCountsHitsAndMisses) {
  MemoryBackend mem(1 << 20, [] { return int64_t{5000}; });
  EXPECT_FALSE(Await(mem.Get("absent"))->has_value());
  ASSERT_TRUE(Await(mem.Put("abc", MakeEntry("hello", 1000, 9000))).ok());
  auto got = Await(mem.Get("abc"));
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, "hello");
  EXPECT_EQ((*got)->meta.model, "sim/echo");
  EXPECT_EQ((*got)->meta.expires_unix_ms, 9000);
  EXPECT_EQ((*got)->meta.completion_tokens, 34);
  BackendStats s = *Await(mem.Stats());
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, MemoryBackend::ChargeFor("abc", MakeEntry("hello", 1000, 9000)));
}

TEST(MemoryBackend, EvictsLeastRecentlyUsedWhenShardIsFull) {
  auto keys = KeysInOneShard(4);
  const size_t charge = MemoryBackend::ChargeFor(keys[0], MakeEntry(std::string(1000, 'x')));
  // Room for three such entries per shard (keys of equal length are charged the same).
  MemoryBackend mem((3 * charge + charge / 2) * MemoryBackend::kShards);
  for (int i = 0; i < 3; ++i) mem.PutNow(keys[i], MakeEntry(std::string(1000, 'x')));
  ASSERT_TRUE(mem.GetNow(keys[0]).has_value());  // keys[0] becomes the most recent
  mem.PutNow(keys[3], MakeEntry(std::string(1000, 'x')));
  EXPECT_TRUE(mem.GetNow(keys[0]).has_value());
  EXPECT_FALSE(mem.GetNow(keys[1]).has_value());  // the least recently used went
  EXPECT_TRUE(mem.GetNow(keys[2]).has_value());
  EXPECT_TRUE(mem.GetNow(keys[3]).has_value());
  BackendStats s = mem.StatsNow();
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.entries, 3u);
}

TEST(MemoryBackend, TotalBytesStayUnderTheCap) {
  const size_t cap = 64 * 1024;
  MemoryBackend mem(cap);
  for (int i = 0; i < 1000; ++i) {
    mem.PutNow("key-" + std::to_string(i), MakeEntry(std::string(1024, 'v')));
  }
  BackendStats s = mem.StatsNow();
  EXPECT_LE(s.bytes, cap);
  EXPECT_GT(s.evictions, 900u);
  EXPECT_EQ(s.evictions + s.entries, 1000u);
  // Each shard holds what fits in its own share of the cap.
  EXPECT_LE(s.entries * MemoryBackend::ChargeFor("key-000", MakeEntry(std::string(1024, 'v'))),
            cap);
}

TEST(MemoryBackend, ExpiredEntryIsRemovedOnGet) {
  int64_t now = 1000;
  MemoryBackend mem(1 << 20, [&now] { return now; });
  mem.PutNow("k", MakeEntry("v", 1000, 1100));
  now = 1099;
  EXPECT_TRUE(mem.GetNow("k").has_value());
  now = 1100;
  EXPECT_FALSE(mem.GetNow("k").has_value());
  BackendStats s = mem.StatsNow();
  EXPECT_EQ(s.expired, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  // An entry that has already expired is not stored at all.
  EXPECT_FALSE(mem.PutNow("late", MakeEntry("v", 1000, 1050)));
  EXPECT_EQ(mem.StatsNow().entries, 0u);
}

TEST(MemoryBackend, EntryLargerThanAShardIsRefusedAndReplacesNothing) {
  MemoryBackend mem(16 * 4096);
  ASSERT_EQ(mem.shard_cap(), 4096u);
  EXPECT_TRUE(mem.PutNow("k", MakeEntry("small")));
  EXPECT_FALSE(mem.PutNow("k", MakeEntry(std::string(5000, 'x'))));
  EXPECT_EQ(mem.oversize(), 1u);
  // The older value is gone too: a Put replaces, it never leaves a stale answer behind.
  EXPECT_FALSE(mem.GetNow("k").has_value());
  EXPECT_EQ(mem.StatsNow().bytes, 0u);
}

TEST(MemoryBackend, ListAndPurgeByFilter) {
  int64_t now = 10'000;
  MemoryBackend mem(1 << 20, [&now] { return now; });
  mem.PutNow("a", MakeEntry("1", 1000, 20'000, "m1", "t1"));
  mem.PutNow("b", MakeEntry("22", 2000, 20'000, "m2", "t1"));
  mem.PutNow("c", MakeEntry("333", 3000, 11'000, "m1", "t2"));
  mem.PutNow("d", MakeEntry("4444", 4000, 0, "m2", "t2"));

  Filter all;
  auto listed = mem.ListNow(all);
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[0].key, "d");  // newest first
  EXPECT_EQ(listed[0].bytes, 4u);
  EXPECT_EQ(listed[3].key, "a");

  Filter by_model;
  by_model.model = "m1";
  listed = mem.ListNow(by_model);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].key, "c");
  EXPECT_EQ(listed[1].key, "a");

  Filter limited;
  limited.limit = 1;
  EXPECT_EQ(mem.ListNow(limited).size(), 1u);

  now = 12'000;  // "c" has expired
  Filter expired;
  expired.expired_only = true;
  listed = mem.ListNow(expired);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].key, "c");

  Filter old_t1;
  old_t1.ns = "t1";
  old_t1.created_before_unix_ms = 2000;
  EXPECT_EQ(*Await(mem.Purge(old_t1)), 1u);  // only "a": "b" was created at 2000
  EXPECT_FALSE(mem.GetNow("a").has_value());
  EXPECT_TRUE(mem.GetNow("b").has_value());
  EXPECT_EQ(mem.PurgeNow(expired), 1u);
  EXPECT_EQ(mem.StatsNow().entries, 2u);
}

TEST(MemoryBackend, EraseRemoves) {
  MemoryBackend mem(1 << 20);
  mem.PutNow("k", MakeEntry("v"));
  ASSERT_TRUE(Await(mem.Erase("k")).ok());
  EXPECT_FALSE(mem.GetNow("k").has_value());
  EXPECT_EQ(mem.StatsNow().bytes, 0u);
}

TEST(MemoryBackend, ConcurrentPutsAndGetsLoseNothing) {
  for (int round = 0; round < 5; ++round) {
    MemoryBackend mem(64u << 20);
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&mem, &wrong, t] {
        boost::asio::io_context io;
        for (int i = 0; i < 1000; ++i) {
          std::string key = std::to_string(t) + ":" + std::to_string(i);
          if (!AwaitOn(io, mem.Put(key, MakeEntry(key))).ok()) ++wrong;
          auto got = AwaitOn(io, mem.Get(key));
          if (!got.ok() || !got->has_value() || (*got)->value != key) ++wrong;
          // Read another thread's keys too (they may or may not be there yet).
          (void)AwaitOn(io, mem.Get(std::to_string((t + 1) % 4) + ":" + std::to_string(i)));
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(mem.StatsNow().entries, 4000u);
    EXPECT_EQ(mem.StatsNow().evictions, 0u);
  }
}

}  // namespace
}  // namespace modelmux::cache
