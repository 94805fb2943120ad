#include "auth/tc3.hpp"

#include <gtest/gtest.h>

namespace modelmux::auth {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Tencent Cloud's documented signature v3 example (cvm DescribeInstances, keys as published with
// their masked tails, timestamp 1551113065 = 2019-02-25 UTC). The body hash, canonical request
// hash and signature below match the published walkthrough as recalled, and were recomputed
// independently with the openssl CLI:
//   dg() { openssl dgst -sha256 "$@" | awk '{print $NF}'; }
//   hm() { printf '%s' "$2" | dg -mac HMAC -macopt "hexkey:$1"; }
//   BH=$(printf '%s' "$BODY" | dg); CH=$(printf '%s' "$CANONICAL_REQUEST" | dg)
//   k=$(printf 2019-02-25 | dg -hmac "TC3$SECRET_KEY"); k=$(hm $k cvm); k=$(hm $k tc3_request)
//   hm $k "$(printf 'TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n%s' $CH)"
constexpr std::string_view kSecretId = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******";
constexpr std::string_view kSecretKey = "Gu5t9xGARNpq86cd98joQYCN3*******";

TEST(Tc3Test, TencentDocumentedCvmExample) {
  Tc3Request req;
  req.host = "cvm.tencentcloudapi.com";
  req.action = "DescribeInstances";
  req.version = "2017-03-12";
  req.region = "ap-guangzhou";
  req.service = "cvm";
  req.body =
      R"({"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]})";
  req.content_type = "application/json; charset=utf-8";
  Result<Tc3Signature> sig = SignTc3Detailed(req, kSecretId, kSecretKey, 1551113065);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  EXPECT_EQ(sig->canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
            "host:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\n"
            "content-type;host;x-tc-action\n"
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
  EXPECT_EQ(sig->string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
            "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84");
  EXPECT_EQ(sig->signature, "be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3");
  Headers expected = {
      {"Authorization",
       "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/"
       "tc3_request, SignedHeaders=content-type;host;x-tc-action, "
       "Signature=be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3"},
      {"Content-Type", "application/json; charset=utf-8"},
      {"X-TC-Action", "DescribeInstances"},
      {"X-TC-Version", "2017-03-12"},
      {"X-TC-Timestamp", "1551113065"},
      {"X-TC-Region", "ap-guangzhou"},
  };
  EXPECT_EQ(sig->headers, expected);
}

TEST(Tc3Test, HunyuanChatCompletions) {
  // Same openssl pipeline with service hunyuan, Content-Type application/json and timestamp
  // 1700000000 (2023-11-14 UTC); no region, so no X-TC-Region.
  Tc3Request req;
  req.host = "hunyuan.tencentcloudapi.com";
  req.action = "ChatCompletions";
  req.version = "2023-09-01";
  req.service = "hunyuan";
  req.body = R"({"Model":"hunyuan-lite","Messages":[{"Role":"user","Content":"hi"}]})";
  Result<Headers> headers = SignTc3(req, kSecretId, kSecretKey, 1700000000);
  ASSERT_TRUE(headers.ok());
  Headers expected = {
      {"Authorization",
       "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2023-11-14/hunyuan/"
       "tc3_request, SignedHeaders=content-type;host;x-tc-action, "
       "Signature=6a92fed65ada00a8811a78ccf9d09450edfdd69fb92d59241941ce5925d37d5d"},
      {"Content-Type", "application/json"},
      {"X-TC-Action", "ChatCompletions"},
      {"X-TC-Version", "2023-09-01"},
      {"X-TC-Timestamp", "1700000000"},
  };
  EXPECT_EQ(*headers, expected);

  req.token = "tmp-token";
  req.region = "ap-beijing";
  headers = SignTc3(req, kSecretId, kSecretKey, 1700000000);
  ASSERT_TRUE(headers.ok());
  ASSERT_EQ(headers->size(), 7u);
  EXPECT_EQ((*headers)[0], expected[0]);  // region and token are not signed
  EXPECT_EQ((*headers)[5], (std::pair<std::string, std::string>{"X-TC-Region", "ap-beijing"}));
  EXPECT_EQ((*headers)[6], (std::pair<std::string, std::string>{"X-TC-Token", "tmp-token"}));
}

TEST(Tc3Test, BodyAndTimeChangeTheSignature) {
  Tc3Request req{
      "hunyuan.tencentcloudapi.com", "ChatCompletions", "2023-09-01", "", "hunyuan", "{}"};
  Result<Tc3Signature> a = SignTc3Detailed(req, kSecretId, kSecretKey, 1700000000);
  Result<Tc3Signature> b = SignTc3Detailed(req, kSecretId, kSecretKey, 1700000001);
  req.body = "{ }";
  Result<Tc3Signature> c = SignTc3Detailed(req, kSecretId, kSecretKey, 1700000000);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_NE(a->signature, b->signature);
  EXPECT_NE(a->signature, c->signature);
}

TEST(Tc3Test, Errors) {
  Tc3Request req{"h", "A", "v", "", "s", "{}"};
  Result<Headers> r = SignTc3(req, "", kSecretKey, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kAuthentication);
  EXPECT_EQ(r.error().code, "tc3_credentials_missing");
  req.action.clear();
  r = SignTc3(req, kSecretId, kSecretKey, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "tc3_invalid_request");
}

}  // namespace
}  // namespace modelmux::auth
