#include "text/redact.hpp"

#include <gtest/gtest.h>

namespace modelmux::text {
namespace {

TEST(MaskSecretsTest, OpenAiKeys) {
  EXPECT_EQ(MaskSecrets("Incorrect API key provided: sk-proj-4f9XkLq2ZpR8vN7mT1bW."),
            "Incorrect API key provided: sk-p***.");
  EXPECT_EQ(MaskSecrets("key sk-ant-api03-abcdefghij"), "key sk-a***");
}

TEST(MaskSecretsTest, BearerTokens) {
  EXPECT_EQ(MaskSecrets("Authorization: Bearer abcdefgh.ijk"), "Authorization: Bearer abcd***.ijk");
  EXPECT_EQ(MaskSecrets("bearer  tok12345678"), "bearer  tok1***");
  EXPECT_EQ(MaskSecrets("Bearer short"), "Bearer short");
}

TEST(MaskSecretsTest, AwsKeyIds) {
  EXPECT_EQ(MaskSecrets("id=AKIAIOSFODNN7EXAMPLE"), "id=AKIA***");
  EXPECT_EQ(MaskSecrets("AKIAIOSFODNN7EXAMPLE rest"), "AKIA*** rest");
}

TEST(MaskSecretsTest, LongHexAndBase64) {
  EXPECT_EQ(MaskSecrets("token 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"), "token 9f86***");
  EXPECT_EQ(MaskSecrets("AIzaSyA1b2C3d4E5f6G7h8"), "AIza***");
}

TEST(MaskSecretsTest, LeavesOrdinaryTextAlone) {
  const std::string msg =
      "Rate limit reached for gpt-4o-mini in organization org-abc on tokens per min (TPM): "
      "Limit 200000, Used 199000. Please try again in 644ms. See /v1/chat/completions.";
  EXPECT_EQ(MaskSecrets(msg), msg);
  EXPECT_EQ(MaskSecrets("internationalization"), "internationalization");
  EXPECT_EQ(MaskSecrets(""), "");
}

}  // namespace
}  // namespace modelmux::text

namespace modelmux::text {
namespace {

TEST(PrintablePrefixTest, FoldsLineBreaksDropsControlBytesAndCaps) {
  EXPECT_EQ(PrintablePrefix("<html>\r\n\t<b>502</b>\x01\xff bad gateway\n"),
            "<html> <b>502</b> bad gateway");
  EXPECT_EQ(PrintablePrefix(std::string(2000, 'x'), 10), std::string(10, 'x'));
  EXPECT_EQ(PrintablePrefix(""), "");
}

}  // namespace
}  // namespace modelmux::text
