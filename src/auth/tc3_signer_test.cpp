#include "auth/tc3_signer.hpp"

#include <gtest/gtest.h>

#include "auth/tc3.hpp"

namespace modelmux::auth {
namespace {

// Tencent Cloud's documented signature v3 example credentials (masked tails as published); the
// expected signatures below are the ones tc3_test.cpp pins (the cvm one from Tencent's
// walkthrough, the hunyuan one recomputed with the openssl CLI).
constexpr std::string_view kSecretId = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******";
constexpr std::string_view kSecretKey = "Gu5t9xGARNpq86cd98joQYCN3*******";

std::function<std::chrono::system_clock::time_point()> FixedClock(int64_t unix_seconds) {
  return [unix_seconds] {
    return std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds));
  };
}

net::ClientRequest HunyuanRequest(std::string url) {
  net::ClientRequest r;
  r.url = std::move(url);
  r.headers.Add("X-TC-Action", "ChatCompletions");
  r.headers.Add("X-TC-Version", "2023-09-01");
  r.headers.Add("content-type", "application/json");
  r.body = R"({"Model":"hunyuan-lite","Messages":[{"Role":"user","Content":"hi"}]})";
  return r;
}

TEST(Tc3SignerTest, TencentDocumentedCvmExample) {
  Tc3SignerOptions o;
  o.secret_id = kSecretId;
  o.secret_key = kSecretKey;
  o.region = "ap-guangzhou";
  o.service = "cvm";
  o.clock = FixedClock(1551113065);
  auto signer = MakeTc3Signer(o);
  net::ClientRequest r;
  r.url = "https://cvm.tencentcloudapi.com/";
  r.headers.Add("X-TC-Action", "DescribeInstances");
  r.headers.Add("X-TC-Version", "2017-03-12");
  r.headers.Add("Content-Type", "application/json; charset=utf-8");
  r.body =
      R"({"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]})";
  ASSERT_TRUE(signer->Sign(r).ok());
  EXPECT_EQ(r.headers.Get("Authorization"),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/"
            "tc3_request, SignedHeaders=content-type;host;x-tc-action, "
            "Signature=be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3");
  EXPECT_EQ(r.headers.Get("X-TC-Timestamp"), "1551113065");
  EXPECT_EQ(r.headers.Get("X-TC-Region"), "ap-guangzhou");
}

TEST(Tc3SignerTest, SignsHunyuanChatCompletions) {
  Tc3SignerOptions o;
  o.secret_id = kSecretId;
  o.secret_key = kSecretKey;
  o.clock = FixedClock(1700000000);
  auto signer = MakeTc3Signer(o);
  net::ClientRequest r = HunyuanRequest("https://hunyuan.tencentcloudapi.com/");
  ASSERT_TRUE(signer->Sign(r).ok());
  EXPECT_EQ(r.headers.Get("Authorization"),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2023-11-14/hunyuan/"
            "tc3_request, SignedHeaders=content-type;host;x-tc-action, "
            "Signature=6a92fed65ada00a8811a78ccf9d09450edfdd69fb92d59241941ce5925d37d5d");
  EXPECT_EQ(r.headers.Get("X-TC-Timestamp"), "1700000000");
  EXPECT_FALSE(r.headers.Has("X-TC-Region"));
  EXPECT_FALSE(r.headers.Has("X-TC-Token"));
  size_t auth_headers = 0;
  for (const auto& [k, v] : r.headers) {
    if (net::IEquals(k, "authorization")) ++auth_headers;
    EXPECT_EQ(v.find(kSecretKey), std::string::npos) << k;
  }
  EXPECT_EQ(auth_headers, 1u);
}

TEST(Tc3SignerTest, SignsTheHostWithItsPortAndTheExactBody) {
  Tc3SignerOptions o;
  o.secret_id = "id";
  o.secret_key = "key";
  o.token = "tmp";
  o.region = "ap-beijing";
  o.clock = FixedClock(1700000123);
  auto signer = MakeTc3Signer(o);
  net::ClientRequest r = HunyuanRequest("http://127.0.0.1:18080/");
  ASSERT_TRUE(signer->Sign(r).ok());
  Tc3Request expected;
  expected.host = "127.0.0.1:18080";
  expected.action = "ChatCompletions";
  expected.version = "2023-09-01";
  expected.service = "hunyuan";
  expected.body = r.body;
  auto sig = SignTc3Detailed(expected, "id", "key", 1700000123);
  ASSERT_TRUE(sig.ok());
  EXPECT_NE(std::string(r.headers.Get("Authorization")).find("Signature=" + sig->signature),
            std::string::npos);
  EXPECT_EQ(r.headers.Get("X-TC-Token"), "tmp");
  EXPECT_EQ(r.headers.Get("X-TC-Region"), "ap-beijing");

  // One byte more in the body gives another signature.
  net::ClientRequest other = HunyuanRequest("http://127.0.0.1:18080/");
  other.body += " ";
  ASSERT_TRUE(signer->Sign(other).ok());
  EXPECT_NE(other.headers.Get("Authorization"), r.headers.Get("Authorization"));
}

TEST(Tc3SignerTest, RefusesWhatItCannotSign) {
  Tc3SignerOptions o;
  o.secret_id = "id";
  o.secret_key = "key";
  auto signer = MakeTc3Signer(o);
  net::ClientRequest path = HunyuanRequest("https://hunyuan.tencentcloudapi.com/v2");
  EXPECT_EQ(signer->Sign(path).error().code, "tc3_invalid_request");
  net::ClientRequest no_action = HunyuanRequest("https://hunyuan.tencentcloudapi.com/");
  no_action.headers.Remove("X-TC-Action");
  EXPECT_EQ(signer->Sign(no_action).error().code, "tc3_invalid_request");
  net::ClientRequest get = HunyuanRequest("https://hunyuan.tencentcloudapi.com/");
  get.method = "GET";
  EXPECT_FALSE(signer->Sign(get).ok());

  o.secret_key.clear();
  auto no_key = MakeTc3Signer(o);
  net::ClientRequest r = HunyuanRequest("https://hunyuan.tencentcloudapi.com/");
  auto st = no_key->Sign(r);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kAuthentication);
  EXPECT_FALSE(r.headers.Has("Authorization"));
}

}  // namespace
}  // namespace modelmux::auth
