// RedisClient against a real redis-server (Debian's /usr/bin/redis-server) on a free loopback
// port: commands, pipelining, scripts, AUTH/ACL/SELECT, TLS, a killed and a paused server.
#include "store/redis.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/redis_test_server.hpp"

namespace modelmux::store {
namespace {

namespace asio = boost::asio;
using testing::Loop;
using testing::RedisServer;
using Type = RedisReply::Type;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

RedisOptions OptionsFor(const RedisServer& s) {
  RedisOptions o;
  o.seeds = {s.address()};
  o.breaker_open = milliseconds(300);
  return o;
}

class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::RedisAvailable()) GTEST_SKIP() << "redis-server is not installed";
    server = RedisServer::Start();
    ASSERT_TRUE(server);
  }
  Result<RedisReply> Cmd(RedisClient& c, std::vector<std::string> args) {
    return loop.Run(c.Command(std::move(args)));
  }
  std::unique_ptr<RedisServer> server;
  Loop loop;
};

TEST_F(RedisTest, BasicCommandsAndReplyTypes) {
  auto c = RedisClient::Create(loop.io.get_executor(), OptionsFor(*server));
  auto set = Cmd(*c, {"SET", "k1", "v1"});
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->type, Type::kStatus);
  EXPECT_EQ(set->str, "OK");
  auto get = Cmd(*c, {"GET", "k1"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->type, Type::kString);
  EXPECT_EQ(get->str, "v1");
  auto missing = Cmd(*c, {"GET", "nope"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->type, Type::kNil);
  auto incr = Cmd(*c, {"INCRBY", "n", "41"});
  ASSERT_TRUE(incr.ok());
  EXPECT_EQ(incr->integer, 41);
  // A Redis error is a reply, not a transport failure, and does not touch the breaker.
  auto wrong = Cmd(*c, {"LPUSH", "k1", "x"});
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong->type, Type::kError);
  EXPECT_EQ(wrong->str.rfind("WRONGTYPE", 0), 0u);
  ASSERT_TRUE(Cmd(*c, {"HSET", "h", "a", "1", "b", "2"}).ok());
  auto all = Cmd(*c, {"HGETALL", "h"});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->type, Type::kArray);
  EXPECT_EQ(all->elements.size(), 4u);
  // Binary-safe, large value.
  std::string big(2 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(Cmd(*c, {"SET", "big", big}).ok());
  auto back = Cmd(*c, {"GET", "big"});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->str, big);
  EXPECT_TRUE(c->healthy());
  EXPECT_FALSE(c->cluster());
  EXPECT_EQ(c->stats().errors, 0u);
}

TEST_F(RedisTest, PipelineOfAThousandInOrder) {
  auto c = RedisClient::Create(loop.io.get_executor(), OptionsFor(*server));
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 1000; ++i) cmds.push_back({"INCR", "counter"});
  auto r = loop.Run(c->Pipeline(cmds));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1000u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ((*r)[static_cast<size_t>(i)].integer, i + 1);
  EXPECT_EQ(c->stats().commands, 1000u);
}

// Many commands in flight at once from another thread's event loop, over a pool of 2.
asio::awaitable<int> SetAndGetMany(std::shared_ptr<RedisClient> c, int n) {
  int good = 0;
  for (int i = 0; i < n; ++i) {
    auto k = "key:" + std::to_string(i);
    std::vector<std::string> set{"SET", k, "value-" + std::to_string(i)};
    std::vector<std::string> get{"GET", k};
    auto s = co_await c->Command(std::move(set));
    auto g = co_await c->Command(std::move(get));
    if (s.ok() && g.ok() && g->str == "value-" + std::to_string(i)) ++good;
  }
  co_return good;
}

TEST_F(RedisTest, ConcurrentCallersFromAnotherThread) {
  auto o = OptionsFor(*server);
  o.pool_size = 2;
  auto c = RedisClient::Create(loop.io.get_executor(), o);
  Loop other;
  std::vector<std::future<int>> futures;
  for (int i = 0; i < 20; ++i) {
    futures.push_back(
        asio::co_spawn(i % 2 ? other.io : loop.io, SetAndGetMany(c, 50), asio::use_future));
  }
  int good = 0;
  for (auto& f : futures) good += f.get();
  EXPECT_EQ(good, 1000);
}

TEST_F(RedisTest, EvalShaWithNoScriptFallback) {
  auto c = RedisClient::Create(loop.io.get_executor(), OptionsFor(*server));
  const std::string script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  auto r1 = loop.Run(c->Eval(script, {"ev"}, {"5"}));
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->integer, 5);
  auto r2 = loop.Run(c->Eval(script, {"ev"}, {"2"}));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->integer, 7);
  ASSERT_TRUE(Cmd(*c, {"SCRIPT", "FLUSH"}).ok());
  auto r3 = loop.Run(c->Eval(script, {"ev"}, {"1"}));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->integer, 8);
  // EVAL ran exactly twice: first use and after the flush; the middle call was an EVALSHA.
  auto stats = Cmd(*c, {"INFO", "commandstats"});
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(stats->str.find("cmdstat_eval:calls=2,"), std::string::npos) << stats->str;
  EXPECT_NE(stats->str.find("cmdstat_evalsha:calls=3,"), std::string::npos) << stats->str;
  // A script error is a reply.
  auto bad = loop.Run(c->Eval("return redis.call('NOPE')", {}, {}));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->type, Type::kError);
}

TEST(RedisAuth, PasswordAclUserAndSelect) {
  if (!testing::RedisAvailable()) GTEST_SKIP();
  auto server = RedisServer::Start({"--requirepass", "s3cret-pw"});
  ASSERT_TRUE(server);
  Loop loop;
  auto url = "redis://:s3cret-pw@" + server->address() + "/3";
  auto o = ParseRedisUrl(url);
  ASSERT_TRUE(o.ok());
  auto c = RedisClient::Create(loop.io.get_executor(), *o);
  ASSERT_TRUE(loop.Run(c->Command({"SET", "in3", "x"})).ok());
  ASSERT_TRUE(
      loop.Run(c->Command({"ACL", "SETUSER", "alice", "on", ">alice-pw", "~*", "+@all"})).ok());
  // db 0 through the ACL user: the key written in db 3 is not there.
  auto alice = ParseRedisUrl("redis://alice:alice-pw@" + server->address());
  ASSERT_TRUE(alice.ok());
  auto ca = RedisClient::Create(loop.io.get_executor(), *alice);
  auto who = loop.Run(ca->Command({"ACL", "WHOAMI"}));
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->str, "alice");
  auto in0 = loop.Run(ca->Command({"GET", "in3"}));
  ASSERT_TRUE(in0.ok());
  EXPECT_EQ(in0->type, Type::kNil);
  // A wrong password: a transport-level failure whose message names no secret.
  auto wrong = ParseRedisUrl("redis://:not-the-pw@" + server->address());
  auto cw = RedisClient::Create(loop.io.get_executor(), *wrong);
  auto r = loop.Run(cw->Command({"GET", "in3"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(r.error().code, "redis_unavailable");
  EXPECT_NE(r.error().message.find("AUTH"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("not-the-pw"), std::string::npos);
}

TEST_F(RedisTest, KilledServerFailsFastOpensBreakerAndRecovers) {
  auto o = OptionsFor(*server);
  auto c = RedisClient::Create(loop.io.get_executor(), o);
  ASSERT_TRUE(Cmd(*c, {"SET", "a", "1"}).ok());
  const uint16_t port = server->port();
  server->Kill();
  for (int i = 0; i < o.breaker_failures; ++i) {
    auto t0 = Clock::now();
    auto r = Cmd(*c, {"GET", "a"});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
    EXPECT_EQ(r.error().code, "redis_unavailable");
    EXPECT_LT(Clock::now() - t0, o.command_timeout * 2);
  }
  EXPECT_FALSE(c->healthy());
  EXPECT_EQ(c->stats().breaker_opens, 1u);
  auto t0 = Clock::now();
  EXPECT_FALSE(Cmd(*c, {"GET", "a"}).ok());  // breaker open: fast
  EXPECT_LT(Clock::now() - t0, milliseconds(50));
  // A new server on the same port: the background probe closes the breaker by itself.
  server = RedisServer::Start({}, port);
  ASSERT_TRUE(server);
  auto deadline = Clock::now() + std::chrono::seconds(3);
  while (!c->healthy() && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(c->healthy());
  auto r = Cmd(*c, {"SET", "a", "2"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GE(c->stats().reconnects, 1u);
}

TEST_F(RedisTest, PausedServerTimesOutThenRecovers) {
  auto o = OptionsFor(*server);
  o.command_timeout = milliseconds(200);
  auto c = RedisClient::Create(loop.io.get_executor(), o);
  ASSERT_TRUE(Cmd(*c, {"SET", "p", "1"}).ok());
  server->Pause();
  auto t0 = Clock::now();
  auto r = Cmd(*c, {"GET", "p"});
  const auto took = Clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  EXPECT_EQ(r.error().code, "redis_timeout");
  EXPECT_GE(took, milliseconds(180));
  EXPECT_LT(took, milliseconds(600));
  EXPECT_EQ(c->stats().timeouts, 1u);
  server->Resume();
  auto deadline = Clock::now() + std::chrono::seconds(3);
  Result<RedisReply> got = Internal("not tried");
  while (Clock::now() < deadline) {
    got = Cmd(*c, {"GET", "p"});
    if (got.ok()) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->str, "1");
}

TEST(RedisTls, RedissWithConfiguredCa) {
  if (!testing::RedisAvailable()) GTEST_SKIP();
  auto dir = testing::MakeTempDir("redis-tls");
  const auto cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto server = RedisServer::Start({"--tls-cert-file", cert, "--tls-key-file", key,
                                    "--tls-ca-cert-file", cert, "--tls-auth-clients", "no"},
                                   0, /*tls_port=*/true);
  if (!server) GTEST_SKIP() << "this redis-server does not start with TLS";
  Loop loop;
  auto o = ParseRedisUrl("rediss://localhost:" + std::to_string(server->port()));
  ASSERT_TRUE(o.ok());
  o->tls_options.ca_file = cert;
  auto c = RedisClient::Create(loop.io.get_executor(), *o);
  auto r = loop.Run(c->Command({"SET", "t", "over-tls"}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto g = loop.Run(c->Command({"GET", "t"}));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->str, "over-tls");
  // The system CAs do not trust the self-signed certificate.
  auto untrusted = ParseRedisUrl("rediss://localhost:" + std::to_string(server->port()));
  auto cu = RedisClient::Create(loop.io.get_executor(), *untrusted);
  auto bad = loop.Run(cu->Command({"PING"}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kUnavailable);
  // Nor does the name check pass for an address that is not in the certificate.
  auto by_ip = ParseRedisUrl("rediss://127.0.0.1:" + std::to_string(server->port()));
  by_ip->tls_options.ca_file = cert;
  auto ci = RedisClient::Create(loop.io.get_executor(), *by_ip);
  EXPECT_FALSE(loop.Run(ci->Command({"PING"})).ok());
  server.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace modelmux::store
