#include "govern/key.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstring>

namespace modelmux::govern {
namespace {

RandomBytes Fixed(unsigned char value) {
  return [value](std::span<unsigned char> out) {
    std::memset(out.data(), value, out.size());
    return true;
  };
}

TEST(KeyTest, SecretShapeFromInjectedRandomness) {
  // 32 bytes of 0x00 encode to 43 'A's in base64url (every 6-bit group is 0).
  auto secret = GenerateKeySecret(Fixed(0));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(*secret, "mm-" + std::string(43, 'A'));
  // 0xFF bytes: every 6-bit group is 63 ('_'), except the last char, which holds 4 bits (60: '8').
  auto ones = GenerateKeySecret(Fixed(0xFF));
  ASSERT_TRUE(ones.ok());
  EXPECT_EQ(*ones, "mm-" + std::string(42, '_') + "8");
  EXPECT_TRUE(LooksLikeKey(*secret));
  EXPECT_FALSE(LooksLikeKey("mm-short"));
  EXPECT_FALSE(LooksLikeKey("sk-" + std::string(43, 'A')));
}

TEST(KeyTest, RandomFailureIsAnError) {
  RandomBytes broken = [](std::span<unsigned char>) { return false; };
  EXPECT_FALSE(GenerateKeySecret(broken).ok());
  EXPECT_FALSE(GenerateKeyId(broken).ok());
}

TEST(KeyTest, SystemSecretsDiffer) {
  auto a = GenerateKeySecret(SystemRandom());
  auto b = GenerateKeySecret(SystemRandom());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->size(), kKeyLength);
}

TEST(KeyTest, IdFromRandomBytes) {
  auto id = GenerateKeyId(Fixed(0xAB));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "key_abababababababab");
}

TEST(KeyTest, DigestIsSha256Hex) {
  // FIPS 180-2 test vector: SHA-256("abc").
  EXPECT_EQ(KeyDigestHex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(KeyDigestHex("").size(), 64u);
}

TEST(KeyTest, DigestEqualsNeedsSameLengthAndBytes) {
  EXPECT_TRUE(DigestEquals("abcd", "abcd"));
  EXPECT_FALSE(DigestEquals("abcd", "abce"));
  EXPECT_FALSE(DigestEquals("abcd", "abc"));
  EXPECT_FALSE(DigestEquals("", "a"));
}

TEST(KeyTest, DisplayPrefixShowsFourCharacters) {
  EXPECT_EQ(KeyDisplayPrefix("mm-AbCdEfGh"), "mm-AbCd…");
  EXPECT_EQ(KeyDisplayPrefix("mm-A"), "mm-…");
  EXPECT_EQ(KeyDisplayPrefix("sk-AbCdEf"), "mm-…");
}

TEST(KeyTest, TaskNamesRoundTrip) {
  for (Task t : {Task::kText, Task::kVision, Task::kVideo, Task::kEmbeddings, Task::kBatch,
                 Task::kUsageRead}) {
    EXPECT_EQ(ParseTask(TaskName(t)), t);
  }
  EXPECT_EQ(TaskName(Task::kUsageRead), "usage-read");
  EXPECT_FALSE(ParseTask("admin").has_value());
}

TEST(KeyTest, MicrosParseAndFormat) {
  EXPECT_EQ(ParseMicros("0.01"), 10'000);
  EXPECT_EQ(ParseMicros("12"), 12'000'000);
  EXPECT_EQ(ParseMicros(".5"), 500'000);
  EXPECT_EQ(ParseMicros("1.000001"), 1'000'001);
  EXPECT_FALSE(ParseMicros("1.0000001").has_value());
  EXPECT_FALSE(ParseMicros("-1").has_value());
  EXPECT_FALSE(ParseMicros("abc").has_value());
  EXPECT_FALSE(ParseMicros("").has_value());
  EXPECT_EQ(FormatMicros(10'000), "0.01");
  EXPECT_EQ(FormatMicros(12'000'000), "12");
  EXPECT_EQ(FormatMicros(1'000'001), "1.000001");
}

KeyRecord Sample() {
  KeyRecord k;
  k.id = "key_0011223344556677";
  k.digest_hex = KeyDigestHex("mm-secret");
  k.prefix = "mm-secr…";
  k.name = "team a";
  k.models = {"sim/*", "gpt-4o-mini"};
  k.tasks = {Task::kText, Task::kVision};
  k.max_tokens = 512;
  k.default_max_tokens = 128;
  k.context = "术语：要约 = 希望与他人订立合同的意思表示";
  k.rpm = 60;
  k.tpm = 10'000;
  k.budgets.daily_micros = 10'000;
  k.budgets.total_micros = 5'000'000;
  k.budgets.currency = telemetry::Currency::kCny;
  k.expires = Timestamp(std::chrono::seconds(2'000'000'000));
  k.ip_allowlist = {*ParseCidr("10.0.0.0/8"), *ParseCidr("2001:db8::/32")};
  k.tags = {"prod"};
  k.created = Timestamp(std::chrono::seconds(1'700'000'000));
  k.updated = Timestamp(std::chrono::seconds(1'700'000'100));
  return k;
}

TEST(KeyTest, StoredJsonRoundTrips) {
  const KeyRecord k = Sample();
  auto back = FromStoredJson(ToStoredJson(k));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, k);
}

TEST(KeyTest, PublicJsonHasNoDigest) {
  const KeyRecord k = Sample();
  const std::string text = boost::json::serialize(ToPublicJson(k));
  EXPECT_EQ(text.find(k.digest_hex), std::string::npos);
  EXPECT_EQ(text.find("digest"), std::string::npos);
  EXPECT_NE(text.find("\"prefix\":\"mm-secr"), std::string::npos);
  EXPECT_NE(text.find("\"daily\":\"0.01\""), std::string::npos);
  EXPECT_NE(text.find("\"default_max_tokens\":128"), std::string::npos);
  EXPECT_NE(text.find("\"max_tokens\":512"), std::string::npos);
  EXPECT_NE(text.find("\"context\":\"术语"), std::string::npos);
}

TEST(KeyTest, CorruptStoredJsonIsAnError) {
  EXPECT_FALSE(FromStoredJson("not json").ok());
  EXPECT_FALSE(FromStoredJson(R"({"id":"key_1"})").ok());  // no digest
}

}  // namespace
}  // namespace modelmux::govern
