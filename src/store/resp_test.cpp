// The RESP2 codec, hash slots and URL parsing: pure functions, no server.
#include "store/resp.hpp"

#include <gtest/gtest.h>

#include "store/redis.hpp"

namespace modelmux::store {
namespace {

using Type = RedisReply::Type;

std::vector<RedisReply> ParseAll(RespParser& p) {
  std::vector<RedisReply> out;
  while (true) {
    auto r = p.Next();
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok() || !r->has_value()) break;
    out.push_back(std::move(**r));
  }
  return out;
}

TEST(RespEncode, ArrayOfBulkStrings) {
  EXPECT_EQ(EncodeRespCommand({"SET", "k", ""}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
  std::string binary("a\r\nb\0c", 6);
  EXPECT_EQ(EncodeRespCommand({binary}), std::string("*1\r\n$6\r\na\r\nb\0c\r\n", 16));
}

// Several replies of every type, one after another, as a server would send them.
const std::string kStream =
    "+OK\r\n"
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    ":-42\r\n"
    "$5\r\nhe\r\no\r\n"
    "$-1\r\n"
    "*-1\r\n"
    "*0\r\n"
    "*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n$0\r\n\r\n$-1\r\n"
    "$0\r\n\r\n";

void CheckStream(const std::vector<RedisReply>& r) {
  ASSERT_EQ(r.size(), 9u);
  EXPECT_EQ(r[0].type, Type::kStatus);
  EXPECT_EQ(r[0].str, "OK");
  EXPECT_EQ(r[1].type, Type::kError);
  EXPECT_EQ(r[1].str, "WRONGTYPE Operation against a key holding the wrong kind of value");
  EXPECT_EQ(r[2].type, Type::kInteger);
  EXPECT_EQ(r[2].integer, -42);
  EXPECT_EQ(r[3].type, Type::kString);
  EXPECT_EQ(r[3].str, "he\r\no");
  EXPECT_EQ(r[4].type, Type::kNil);
  EXPECT_EQ(r[5].type, Type::kNil);
  EXPECT_EQ(r[6].type, Type::kArray);
  EXPECT_TRUE(r[6].elements.empty());
  ASSERT_EQ(r[7].type, Type::kArray);
  ASSERT_EQ(r[7].elements.size(), 3u);
  EXPECT_EQ(r[7].elements[0].integer, 1);
  const auto& inner = r[7].elements[1];
  ASSERT_EQ(inner.elements.size(), 2u);
  EXPECT_EQ(inner.elements[0].str, "a");
  ASSERT_EQ(inner.elements[1].type, Type::kArray);
  ASSERT_EQ(inner.elements[1].elements.size(), 1u);
  EXPECT_EQ(inner.elements[1].elements[0].type, Type::kString);
  EXPECT_EQ(inner.elements[1].elements[0].str, "");
  EXPECT_EQ(r[7].elements[2].type, Type::kNil);
  EXPECT_EQ(r[8].type, Type::kString);
  EXPECT_EQ(r[8].str, "");
}

TEST(RespParser, AllTypesInOneFeed) {
  RespParser p;
  p.Feed(kStream);
  CheckStream(ParseAll(p));
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(RespParser, SplitAtEveryByte) {
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    RespParser p;
    p.Feed(kStream.substr(0, cut));
    auto first = ParseAll(p);
    p.Feed(kStream.substr(cut));
    auto rest = ParseAll(p);
    first.insert(first.end(), rest.begin(), rest.end());
    SCOPED_TRACE("cut at " + std::to_string(cut));
    CheckStream(first);
  }
}

TEST(RespParser, OneByteAtATime) {
  RespParser p;
  std::vector<RedisReply> all;
  for (char c : kStream) {
    p.Feed(std::string_view(&c, 1));
    auto got = ParseAll(p);
    all.insert(all.end(), got.begin(), got.end());
  }
  CheckStream(all);
}

TEST(RespParser, LargeBulkInChunks) {
  std::string value(3 << 20, 'x');
  for (size_t i = 0; i < value.size(); i += 997) value[i] = static_cast<char>('a' + i % 26);
  std::string wire = "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n:7\r\n";
  RespParser p;
  std::vector<RedisReply> all;
  for (size_t i = 0; i < wire.size(); i += 65536) {
    p.Feed(std::string_view(wire).substr(i, 65536));
    auto got = ParseAll(p);
    all.insert(all.end(), got.begin(), got.end());
  }
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].str, value);
  EXPECT_EQ(all[1].integer, 7);
}

TEST(RespParser, RejectsGarbage) {
  for (std::string bad : {"?x\r\n", ":12a\r\n", "$-2\r\n", "*x\r\n", "$3\r\nabcde\r\n", "\r\n"}) {
    RespParser p;
    p.Feed(bad);
    auto r = p.Next();
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "redis_protocol");
  }
  RespParser limited(RespLimits{.max_bulk = 10});
  limited.Feed("$11\r\n");
  EXPECT_FALSE(limited.Next().ok());
  RespParser shallow(RespLimits{.max_depth = 2});
  shallow.Feed("*1\r\n*1\r\n*1\r\n:1\r\n");
  EXPECT_FALSE(shallow.Next().ok());
}

TEST(RespParser, Redirects) {
  RedisReply moved{Type::kError, "MOVED 3999 127.0.0.1:6381", 0, {}};
  auto m = ParseRedirect(moved);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->ask);
  EXPECT_EQ(m->slot, 3999);
  EXPECT_EQ(m->address, "127.0.0.1:6381");
  auto a = ParseRedirect(RedisReply{Type::kError, "ASK 12182 10.0.0.2:7000", 0, {}});
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->ask);
  EXPECT_EQ(a->slot, 12182);
  EXPECT_FALSE(ParseRedirect(RedisReply{Type::kError, "ERR MOVED", 0, {}}));
  EXPECT_FALSE(ParseRedirect(RedisReply{Type::kString, "MOVED 1 a:1", 0, {}}));
  EXPECT_FALSE(ParseRedirect(RedisReply{Type::kError, "MOVED 99999 a:1", 0, {}}));
}

TEST(RedisHashSlot, KnownValues) {
  EXPECT_EQ(RedisHashSlot("123456789"), 12739);  // the CRC16/XMODEM check value 0x31C3 % 16384
  EXPECT_EQ(RedisHashSlot("foo"), 12182);
  EXPECT_EQ(RedisHashSlot("somekey"), 11058);  // CLUSTER KEYSLOT examples in the Redis docs
  EXPECT_EQ(RedisHashSlot("foo{hash_tag}"), 2515);
  EXPECT_EQ(RedisHashSlot("{user1000}.following"), RedisHashSlot("{user1000}.followers"));
  EXPECT_EQ(RedisHashSlot("{user1000}.following"), RedisHashSlot("user1000"));
  EXPECT_EQ(RedisHashSlot("foo{}{bar}"), RedisHashSlot("foo{}{bar}"));
  EXPECT_NE(RedisHashSlot("foo{}{bar}"), RedisHashSlot("bar"));  // empty tag: whole key
  EXPECT_EQ(RedisHashSlot("foo{{bar}}zap"), RedisHashSlot("{bar"));
  EXPECT_EQ(RedisHashSlot("foo{bar}{zap}"), RedisHashSlot("bar"));
  EXPECT_EQ(RedisHashSlot(""), 0);
}

TEST(ParseRedisUrl, Forms) {
  auto a = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->seeds, std::vector<std::string>{"localhost:6379"});
  EXPECT_FALSE(a->tls);
  EXPECT_FALSE(a->cluster);

  auto b = ParseRedisUrl("rediss://alice:p%40ss@cache.example:6380/2");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->username, "alice");
  EXPECT_EQ(b->password, "p@ss");
  EXPECT_EQ(b->db, 2);
  EXPECT_EQ(b->seeds.front(), "cache.example:6380");

  auto c = ParseRedisUrl("redis://:pw@10.0.0.1:7000, redis://10.0.0.2:7001,10.0.0.3:7002");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->cluster);
  EXPECT_EQ(c->password, "pw");
  EXPECT_TRUE(c->username.empty());
  EXPECT_EQ(c->seeds,
            (std::vector<std::string>{"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:7002"}));

  auto d = ParseRedisUrl("redis://[::1]:6390");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->seeds.front(), "[::1]:6390");
}

TEST(ParseRedisUrl, ErrorsNeverShowThePassword) {
  for (std::string bad :
       {"http://u:s3cretpw@h:1", "redis://u:s3cretpw@h:99999", "redis://u:s3cretpw@h:1/x",
        "redis://u:s3cretpw@h:1,rediss://h2:1", "redis://u:s3cretpw@h:1/1,redis://h2:2",
        "redis://u:s3cretpw@", "u:s3cretpw@h:1", "redis://u:s3cretpw%zz@h:1", ""}) {
    auto r = ParseRedisUrl(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
    EXPECT_EQ(r.error().message.find("s3cretpw"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace modelmux::store
