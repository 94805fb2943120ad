#include "govern/key_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/redis.hpp"
#include "store/redis_test_server.hpp"

namespace modelmux::govern {
namespace {

using store::testing::Loop;

KeyRecord Make(std::string id, std::string secret, int64_t created) {
  KeyRecord k;
  k.id = std::move(id);
  k.digest_hex = KeyDigestHex(secret);
  k.prefix = KeyDisplayPrefix(secret);
  k.models = {"sim/*"};
  k.tasks = {Task::kText};
  k.created = k.updated = Timestamp(std::chrono::seconds(created));
  return k;
}

std::filesystem::path TempDb() {
  auto p = std::filesystem::temp_directory_path() /
           ("modelmux_keys_test_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(p);
  std::filesystem::remove(p.string() + "-wal");
  std::filesystem::remove(p.string() + "-shm");
  return p;
}

TEST(KeyStoreTest, SqliteRoundTripAndReopen) {
  const auto path = TempDb();
  const KeyRecord a = Make("key_a", "mm-secret-a", 100);
  const KeyRecord b = Make("key_b", "mm-secret-b", 200);
  {
    Loop loop;
    KeyStoreOptions o;
    o.sqlite_path = path.string();
    auto store = KeyStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE(loop.Run((*store)->Put(a)).ok());
    ASSERT_TRUE(loop.Run((*store)->Put(b)).ok());
    auto found = loop.Run((*store)->FindByDigest(KeyDigestHex("mm-secret-a")));
    ASSERT_TRUE(found.ok());
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ(**found, a);
    auto none = loop.Run((*store)->FindByDigest(KeyDigestHex("mm-other")));
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
    KeyRecord revoked = a;
    revoked.revoked = true;
    ASSERT_TRUE(loop.Run((*store)->Put(revoked)).ok());
  }
  // Reopened: the keys were durable, the update replaced the record, newest first.
  Loop loop;
  KeyStoreOptions o;
  o.sqlite_path = path.string();
  auto store = KeyStore::Open(o);
  ASSERT_TRUE(store.ok());
  auto list = loop.Run((*store)->List());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "key_b");
  EXPECT_TRUE((*list)[1].revoked);
  auto by_id = loop.Run((*store)->FindById("key_b"));
  ASSERT_TRUE(by_id.ok() && by_id->has_value());
  EXPECT_EQ(**by_id, b);
  std::filesystem::remove(path);
}

TEST(KeyStoreTest, RedisSharedAndCachedAtMostTtl) {
  if (!store::testing::RedisAvailable()) GTEST_SKIP() << "redis-server not installed";
  auto server = store::testing::RedisServer::Start();
  ASSERT_TRUE(server);
  Loop loop;
  auto options = store::ParseRedisUrl("redis://" + server->address());
  ASSERT_TRUE(options.ok());
  auto redis = store::RedisClient::Create(loop.io.get_executor(), *options);
  // Two replicas' stores over one Redis, with a fake clock for the cache.
  auto now = std::make_shared<std::chrono::steady_clock::time_point>();
  KeyStoreOptions o;
  o.redis = redis;
  o.cache_ttl = std::chrono::milliseconds(500);
  o.clock = [now] { return *now; };
  auto one = KeyStore::Open(o);
  auto two = KeyStore::Open(o);
  ASSERT_TRUE(one.ok() && two.ok());
  const KeyRecord k = Make("key_r", "mm-redis-secret", 300);
  ASSERT_TRUE(loop.Run((*one)->Put(k)).ok());
  auto seen = loop.Run((*two)->FindByDigest(k.digest_hex));
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_FALSE((*seen)->revoked);
  KeyRecord revoked = k;
  revoked.revoked = true;
  ASSERT_TRUE(loop.Run((*one)->Put(revoked)).ok());
  // Within the TTL replica two may still answer from its cache ...
  *now += std::chrono::milliseconds(400);
  auto cached = loop.Run((*two)->FindByDigest(k.digest_hex));
  ASSERT_TRUE(cached.ok() && cached->has_value());
  EXPECT_FALSE((*cached)->revoked);
  // ... and past it, it sees the revocation.
  *now += std::chrono::milliseconds(200);
  auto fresh = loop.Run((*two)->FindByDigest(k.digest_hex));
  ASSERT_TRUE(fresh.ok() && fresh->has_value());
  EXPECT_TRUE((*fresh)->revoked);
  auto list = loop.Run((*two)->List());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, "key_r");
  auto by_id = loop.Run((*two)->FindById("key_r"));
  ASSERT_TRUE(by_id.ok() && by_id->has_value());
  EXPECT_TRUE((*by_id)->revoked);
}

}  // namespace
}  // namespace modelmux::govern
