#include "auth/zhipu_jwt.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace modelmux::auth {
namespace {

// Expected token computed independently with coreutils and the openssl CLI:
//   b64url() { basenc --base64url -w0 | tr -d '='; }
//   H=$(printf '%s' '{"alg":"HS256","sign_type":"SIGN"}' | b64url)
//   P=$(printf '%s' '{"api_key":"myid","exp":1700000180000,"timestamp":1700000000000}' | b64url)
//   S=$(printf '%s' "$H.$P" | openssl dgst -sha256 -hmac 'mysecret' -binary | b64url)
//   echo "$H.$P.$S"
constexpr std::string_view kExpectedToken =
    "eyJhbGciOiJIUzI1NiIsInNpZ25fdHlwZSI6IlNJR04ifQ."
    "eyJhcGlfa2V5IjoibXlpZCIsImV4cCI6MTcwMDAwMDE4MDAwMCwidGltZXN0YW1wIjoxNzAwMDAwMDAwMDAwfQ."
    "Rs2SbSHGgpxjBR8zP80jmw9B-4Y10AebxJDZuXUGjHA";

// A second, independent base64url decoder (bit-by-bit) for reading the claims back.
std::string DecodeB64Url(std::string_view s) {
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t bits = 0;
  int nbits = 0;
  for (char c : s) {
    bits = (bits << 6) | static_cast<uint32_t>(alphabet.find(c));
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xff));
    }
  }
  return out;
}

std::vector<std::string> Split(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

TEST(ZhipuJwtTest, MatchesIndependentComputation) {
  Result<std::string> token = MakeZhipuJwt("myid.mysecret", 1700000000000, 180000);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, kExpectedToken);
}

TEST(ZhipuJwtTest, ClaimsDecode) {
  Result<std::string> token = MakeZhipuJwt("abc123.s3cr.et", 1000, 180000);
  ASSERT_TRUE(token.ok());
  std::vector<std::string> parts = Split(*token);
  ASSERT_EQ(parts.size(), 3u);
  for (const std::string& p : parts) EXPECT_EQ(p.find_first_of("+/="), std::string::npos);
  EXPECT_EQ(DecodeB64Url(parts[0]), R"({"alg":"HS256","sign_type":"SIGN"})");
  // The secret is everything after the first dot; the id goes in api_key.
  EXPECT_EQ(DecodeB64Url(parts[1]), R"({"api_key":"abc123","exp":181000,"timestamp":1000})");
  EXPECT_EQ(DecodeB64Url(parts[2]).size(), 32u);
}

TEST(ZhipuJwtTest, BadKeys) {
  for (std::string_view key : {"nodotsecretvalue", ".secret", "id.", ""}) {
    Result<std::string> token = MakeZhipuJwt(key, 0, 1000);
    ASSERT_FALSE(token.ok()) << key;
    EXPECT_EQ(token.error().kind, ErrorKind::kAuthentication);
    EXPECT_EQ(token.error().code, "zhipu_api_key_invalid");
    if (!key.empty()) {
      EXPECT_EQ(token.error().message.find(key), std::string::npos);
    }
  }
  EXPECT_FALSE(MakeZhipuJwt("a.b", 0, 0).ok());
  EXPECT_FALSE(ZhipuTokenCache::Create("nodot").ok());
}

TEST(ZhipuTokenCacheTest, ReusesUntil30sBeforeExpiry) {
  auto cache = ZhipuTokenCache::Create("myid.mysecret");
  ASSERT_TRUE(cache.ok());
  const int64_t t0 = 1700000000000;
  std::string first = (*cache)->Get(t0);
  EXPECT_EQ(first, kExpectedToken);  // default TTL is 3 minutes
  EXPECT_EQ((*cache)->Get(t0 + 1), first);
  EXPECT_EQ((*cache)->Get(t0 + 150000 - 1), first);  // 2.5 min - 1 ms: still reused
  std::string second = (*cache)->Get(t0 + 150000);   // exp - 30 s: refreshed
  EXPECT_NE(second, first);
  EXPECT_EQ(second, *MakeZhipuJwt("myid.mysecret", t0 + 150000, 180000));
  EXPECT_EQ((*cache)->Get(t0 + 200000), second);
  EXPECT_EQ((*cache)->Get(t0 + 300000), *MakeZhipuJwt("myid.mysecret", t0 + 300000, 180000));
}

TEST(ZhipuTokenCacheTest, ConcurrentGetsAgree) {
  auto cache = ZhipuTokenCache::Create("myid.mysecret");
  ASSERT_TRUE(cache.ok());
  ZhipuTokenCache* c = cache->get();
  std::vector<std::string> seen(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([c, &seen, i] {
      for (int k = 0; k < 200; ++k) seen[i] = c->Get(1700000000000 + k);
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& s : seen) EXPECT_EQ(s, seen[0]);
}

}  // namespace
}  // namespace modelmux::auth
