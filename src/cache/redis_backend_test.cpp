// RedisBackend against a real redis-server on a free loopback port (and a 3-master cluster).
#include "cache/redis_backend.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/redis_test_server.hpp"

namespace modelmux::cache {
namespace {

using store::testing::Loop;
using store::testing::RedisServer;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Entry MakeEntry(std::string ns, std::string model, int64_t created, int64_t ttl_ms,
                std::string value = "answer") {
  Entry e;
  e.meta.ns = std::move(ns);
  e.meta.model = std::move(model);
  e.meta.provider = "sim";
  e.meta.stream = true;
  e.meta.created_unix_ms = created;
  e.meta.expires_unix_ms = NowMs() + ttl_ms;
  e.meta.prompt_tokens = 12;
  e.meta.completion_tokens = 34;
  e.meta.cost = 0.25;
  e.meta.currency = "USD";
  e.value = std::move(value);
  return e;
}

class RedisBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!store::testing::RedisAvailable()) GTEST_SKIP() << "redis-server is not installed";
    server = RedisServer::Start();
    ASSERT_TRUE(server);
    store::RedisOptions o;
    o.seeds = {server->address()};
    client = store::RedisClient::Create(loop.io.get_executor(), o);
    backend = std::make_unique<RedisBackend>(client, "test:");
  }
  Loop loop;
  std::unique_ptr<RedisServer> server;
  std::shared_ptr<store::RedisClient> client;
  std::unique_ptr<RedisBackend> backend;
};

TEST_F(RedisBackendTest, PutGetEraseRoundTrip) {
  auto miss = loop.Run(backend->Get("abc"));
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->has_value());
  std::string binary("chunk\0\r\nbytes", 13);
  ASSERT_TRUE(
      loop.Run(backend->Put("abc", MakeEntry("t1", "sim/echo", 1000, 60'000, binary))).ok());
  auto hit = loop.Run(backend->Get("abc"));
  ASSERT_TRUE(hit.ok());
  ASSERT_TRUE(hit->has_value());
  const Entry& e = **hit;
  EXPECT_EQ(e.value, binary);
  EXPECT_EQ(e.meta.ns, "t1");
  EXPECT_EQ(e.meta.model, "sim/echo");
  EXPECT_EQ(e.meta.provider, "sim");
  EXPECT_TRUE(e.meta.stream);
  EXPECT_EQ(e.meta.created_unix_ms, 1000);
  EXPECT_EQ(e.meta.prompt_tokens, 12);
  EXPECT_EQ(e.meta.completion_tokens, 34);
  EXPECT_DOUBLE_EQ(e.meta.cost, 0.25);
  EXPECT_EQ(e.meta.currency, "USD");
  // Stored under the versioned key, with the TTL set by PEXPIREAT.
  EXPECT_EQ(backend->RedisKey("abc"), "test:v1:e:abc");
  auto ttl = loop.Run(client->Command({"PTTL", "test:v1:e:abc"}));
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 50'000);
  EXPECT_LE(ttl->integer, 60'000);
  ASSERT_TRUE(loop.Run(backend->Erase("abc")).ok());
  auto gone = loop.Run(backend->Get("abc"));
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
}

TEST_F(RedisBackendTest, EntryExpiresWithItsTtl) {
  ASSERT_TRUE(loop.Run(backend->Put("short", MakeEntry("t", "m", NowMs(), 300))).ok());
  auto now = loop.Run(backend->Get("short"));
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->has_value());
  std::this_thread::sleep_for(milliseconds(450));
  auto later = loop.Run(backend->Get("short"));
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->has_value());
  auto exists = loop.Run(client->Command({"EXISTS", backend->RedisKey("short")}));
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->integer, 0);
}

TEST_F(RedisBackendTest, ListAndPurgeByModelNamespaceAndAge) {
  for (int i = 0; i < 30; ++i) {
    const std::string ns = i % 2 ? "odd" : "even";
    const std::string model = i % 3 ? "m-a" : "m-b";
    ASSERT_TRUE(loop.Run(backend->Put("k" + std::to_string(i),
                                      MakeEntry(ns, model, 1000 + i, 60'000,
                                                std::string(static_cast<size_t>(i) + 1, 'x'))))
                    .ok());
  }
  // Another gateway's key and the stats hash are not entries.
  ASSERT_TRUE(loop.Run(client->Command({"SET", "other:v1:e:zzz", "x"})).ok());
  auto all = loop.Run(backend->List(Filter{}));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 30u);
  size_t bytes = 0;
  for (const auto& e : *all) bytes += e.bytes;
  EXPECT_EQ(bytes, 30u * 31u / 2u);
  Filter by_model;
  by_model.model = "m-b";
  auto mb = loop.Run(backend->List(by_model));
  ASSERT_TRUE(mb.ok());
  EXPECT_EQ(mb->size(), 10u);  // i % 3 == 0
  for (const auto& e : *mb) EXPECT_EQ(e.meta.model, "m-b");
  Filter limited;
  limited.limit = 7;
  EXPECT_EQ(loop.Run(backend->List(limited))->size(), 7u);

  auto purged = loop.Run(backend->Purge(by_model));
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 10u);
  Filter odd;
  odd.ns = "odd";
  auto p2 = loop.Run(backend->Purge(odd));
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*p2, 10u);  // odd i among the 20 with i % 3 != 0
  Filter old;
  old.created_before_unix_ms = 1010;  // i < 10
  auto p3 = loop.Run(backend->Purge(old));
  ASSERT_TRUE(p3.ok());
  EXPECT_EQ(*p3, 3u);  // even i < 10 with i % 3 != 0: 2, 4, 8
  auto left = loop.Run(backend->List(Filter{}));
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 7u);  // 10,14,16,20,22,26,28
  for (const auto& e : *left) {
    EXPECT_EQ(e.meta.ns, "even");
    EXPECT_GE(e.meta.created_unix_ms, 1010);
  }
  auto other = loop.Run(client->Command({"GET", "other:v1:e:zzz"}));
  EXPECT_EQ(other->str, "x");
}

TEST_F(RedisBackendTest, StatsCountEntriesBytesHitsAndMisses) {
  ASSERT_TRUE(loop.Run(backend->Put("a", MakeEntry("t", "m", 1, 60'000, "12345"))).ok());
  ASSERT_TRUE(loop.Run(backend->Put("b", MakeEntry("t", "m", 1, 60'000, "123"))).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop.Run(backend->Get("a")).ok());
  ASSERT_TRUE(loop.Run(backend->Get("nope")).ok());
  // The counters are bumped without waiting: give them a moment.
  BackendStats st;
  for (int i = 0; i < 50; ++i) {
    auto s = loop.Run(backend->Stats());
    ASSERT_TRUE(s.ok());
    st = *s;
    if (st.hits == 3 && st.misses == 1) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(st.entries, 2u);
  EXPECT_EQ(st.bytes, 8u);
  EXPECT_EQ(st.hits, 3u);
  EXPECT_EQ(st.misses, 1u);
  EXPECT_EQ(st.errors, 0u);
}

TEST_F(RedisBackendTest, RedisDownGetErrorsWithinTheTimeout) {
  ASSERT_TRUE(loop.Run(backend->Put("a", MakeEntry("t", "m", 1, 60'000))).ok());
  server->Kill();
  auto t0 = Clock::now();
  auto r = loop.Run(backend->Get("a"));
  EXPECT_FALSE(r.ok());
  EXPECT_LT(Clock::now() - t0, milliseconds(500));
  server = RedisServer::Start();  // another port: the pause case
  ASSERT_TRUE(server);
  store::RedisOptions o;
  o.seeds = {server->address()};
  auto c2 = store::RedisClient::Create(loop.io.get_executor(), o);
  RedisBackend b2(c2, "test:");
  ASSERT_TRUE(loop.Run(b2.Put("a", MakeEntry("t", "m", 1, 60'000))).ok());
  server->Pause();
  t0 = Clock::now();
  auto paused = loop.Run(b2.Get("a"));
  ASSERT_FALSE(paused.ok());
  EXPECT_EQ(paused.error().kind, ErrorKind::kTimeout);
  EXPECT_LT(Clock::now() - t0, o.command_timeout * 2);
  server->Resume();
  // Recovers by itself: the next calls reconnect.
  Result<std::optional<Entry>> back = Internal("not tried");
  for (auto deadline = Clock::now() + std::chrono::seconds(3); Clock::now() < deadline;) {
    back = loop.Run(b2.Get("a"));
    if (back.ok()) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->has_value());
  auto st = loop.Run(b2.Stats());
  ASSERT_TRUE(st.ok());
  EXPECT_GE(st->errors, 1u);
}

TEST(RedisBackendCluster, ListAndPurgeSpanEveryMaster) {
  if (!store::testing::RedisAvailable()) GTEST_SKIP();
  auto cluster = store::testing::RedisCluster::Start();
  ASSERT_TRUE(cluster);
  Loop loop;
  auto o = store::ParseRedisUrl("redis://" + cluster->nodes[0]->address());
  ASSERT_TRUE(o.ok());
  auto client = store::RedisClient::Create(loop.io.get_executor(), *o);
  RedisBackend backend(client);
  for (int i = 0; i < 40; ++i) {
    auto put = loop.Run(backend.Put("key" + std::to_string(i), MakeEntry("t", "m", 1, 60'000)));
    ASSERT_TRUE(put.ok()) << put.error().message;
  }
  for (const auto& n : cluster->nodes) EXPECT_NE(n->Cli("DBSIZE"), "0\n");  // spread out
  auto hit = loop.Run(backend.Get("key17"));
  ASSERT_TRUE(hit.ok());
  EXPECT_TRUE(hit->has_value());
  auto all = loop.Run(backend.List(Filter{}));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 40u);
  auto purged = loop.Run(backend.Purge(Filter{}));
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 40u);
  EXPECT_EQ(loop.Run(backend.List(Filter{}))->size(), 0u);
  EXPECT_EQ(client->stats().moved, 0u);
}

}  // namespace
}  // namespace modelmux::cache
