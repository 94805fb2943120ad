// RedisClient against a real 3-master Redis Cluster started by the fixture (once per process):
// routing by hash slot from one seed, MOVED after a slot migration, ASK during one.
#include <gtest/gtest.h>

#include "store/redis.hpp"
#include "store/redis_test_server.hpp"

namespace modelmux::store {
namespace {

using testing::Loop;
using testing::RedisCluster;
using testing::RedisServer;
using Type = RedisReply::Type;

class RedisClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::RedisAvailable()) cluster_ = RedisCluster::Start().release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (!testing::RedisAvailable()) GTEST_SKIP() << "redis-server is not installed";
    ASSERT_NE(cluster_, nullptr) << "the cluster did not start";
  }
  static RedisServer& Node(size_t i) { return *cluster_->nodes[i]; }
  // The node index owning `slot` (redis-cli's split of 16384 slots over 3 masters).
  static size_t Owner(uint16_t slot) { return slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2; }
  static std::string Id(size_t i) {
    auto id = Node(i).Cli("CLUSTER MYID");
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
    return id;
  }
  // A key whose slot is owned by node `i` and was not used by another test.
  static std::string KeyOn(size_t i, const std::string& tag) {
    for (int n = 0;; ++n) {
      std::string k = tag + std::to_string(n);
      if (Owner(RedisHashSlot(k)) == i) return k;
    }
  }
  std::shared_ptr<RedisClient> ClientWithOneSeed() {
    auto o = ParseRedisUrl("redis://" + Node(0).address());
    EXPECT_TRUE(o.ok());
    return RedisClient::Create(loop.io.get_executor(), *o);
  }
  static RedisCluster* cluster_;
  Loop loop;
};
RedisCluster* RedisClusterTest::cluster_ = nullptr;

TEST_F(RedisClusterTest, OneSeedRoutesKeysOfEverySlotRange) {
  auto c = ClientWithOneSeed();
  for (int i = 0; i < 60; ++i) {
    auto k = "route:" + std::to_string(i);
    auto s = loop.Run(c->Command({"SET", k, std::to_string(i)}));
    ASSERT_TRUE(s.ok()) << s.error().message;
    ASSERT_EQ(s->type, Type::kStatus) << s->str;
  }
  for (int i = 0; i < 60; ++i) {
    auto g = loop.Run(c->Command({"GET", "route:" + std::to_string(i)}));
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(g->str, std::to_string(i));
  }
  EXPECT_TRUE(c->cluster());
  EXPECT_EQ(c->stats().moved, 0u);  // the slot map was loaded before the first command
  auto masters = loop.Run(c->Masters());
  ASSERT_TRUE(masters.ok());
  EXPECT_EQ(masters->size(), 3u);
  // Each key really is on its slot's owner.
  for (int i = 0; i < 60; ++i) {
    auto k = "route:" + std::to_string(i);
    auto there = Node(Owner(RedisHashSlot(k))).Cli("GET " + k);
    EXPECT_EQ(there, std::to_string(i) + "\n");
  }
  // A pipeline on one slot (hash tag) and a keyless command.
  auto p = loop.Run(c->Pipeline(
      {{"SET", "{user7}.a", "1"}, {"INCR", "{user7}.b"}, {"MGET", "{user7}.a", "{user7}.b"}}));
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 3u);
  ASSERT_EQ((*p)[2].elements.size(), 2u);
  EXPECT_EQ((*p)[2].elements[1].str, "1");
  // Scripts go to the node of their first key, through Eval and through a raw EVAL.
  for (int i = 0; i < 12; ++i) {
    auto k = "script:" + std::to_string(i);
    auto e = loop.Run(c->Eval("return redis.call('SET', KEYS[1], ARGV[1])", {k}, {"s"}));
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->str, "OK") << e->str;
    auto raw = loop.Run(c->Command({"EVAL", "return redis.call('GET', KEYS[1])", "1", k}));
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(raw->str, "s");
  }
  EXPECT_EQ(c->stats().moved, 0u);
  auto ping = loop.Run(c->Command({"PING"}));
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ping->str, "PONG");
}

TEST_F(RedisClusterTest, MovedAfterSlotMigration) {
  auto c = ClientWithOneSeed();
  const std::string key = KeyOn(1, "moved:");
  const auto slot = std::to_string(RedisHashSlot(key));
  ASSERT_TRUE(loop.Run(c->Command({"SET", key, "before"})).ok());
  // Move the slot from node 1 to node 2, key included.
  const auto src = Id(1), dst = Id(2);
  Node(2).Cli("CLUSTER SETSLOT " + slot + " IMPORTING " + src);
  Node(1).Cli("CLUSTER SETSLOT " + slot + " MIGRATING " + dst);
  Node(1).Cli("MIGRATE 127.0.0.1 " + std::to_string(Node(2).port()) + " " + key + " 0 5000");
  for (size_t i = 0; i < 3; ++i) Node(i).Cli("CLUSTER SETSLOT " + slot + " NODE " + dst);
  // The client's map still says node 1: MOVED, followed once, and the map is fixed.
  auto g = loop.Run(c->Command({"GET", key}));
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->str, "before");
  EXPECT_EQ(c->stats().moved, 1u);
  auto g2 = loop.Run(c->Command({"GET", key}));
  ASSERT_TRUE(g2.ok());
  EXPECT_EQ(g2->str, "before");
  EXPECT_EQ(c->stats().moved, 1u);
  EXPECT_EQ(Node(2).Cli("GET " + key), "before\n");
}

TEST_F(RedisClusterTest, AskDuringMigration) {
  auto c = ClientWithOneSeed();
  const std::string key = KeyOn(0, "ask:");
  const auto slot = std::to_string(RedisHashSlot(key));
  ASSERT_TRUE(loop.Run(c->Command({"PING"})).ok());  // loads the map
  const auto src = Id(0), dst = Id(1);
  Node(1).Cli("CLUSTER SETSLOT " + slot + " IMPORTING " + src);
  Node(0).Cli("CLUSTER SETSLOT " + slot + " MIGRATING " + dst);
  // A key that is not on the source during the migration is asked for at the target.
  auto s = loop.Run(c->Command({"SET", key, "asked"}));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->str, "OK");
  EXPECT_EQ(c->stats().ask, 1u);
  EXPECT_EQ(c->stats().moved, 0u);
  auto g = loop.Run(c->Command({"GET", key}));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->str, "asked");
  EXPECT_EQ(c->stats().ask, 2u);
  // Finish the migration so the cluster stays consistent for other tests.
  for (size_t i = 0; i < 3; ++i) Node(i).Cli("CLUSTER SETSLOT " + slot + " NODE " + dst);
}

TEST_F(RedisClusterTest, SeveralSeedsAndAStaleSeed) {
  // The first seed does not exist: the map comes from the next one.
  auto o = ParseRedisUrl("redis://127.0.0.1:" + std::to_string(testing::FreePort()) + "," +
                         Node(1).address() + "," + Node(2).address());
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->cluster);
  auto c = RedisClient::Create(loop.io.get_executor(), *o);
  for (int i = 0; i < 20; ++i) {
    auto r = loop.Run(c->Command({"SET", "seeds:" + std::to_string(i), "x"}));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->str, "OK");
  }
  EXPECT_EQ(c->stats().moved, 0u);
}

}  // namespace
}  // namespace modelmux::store
