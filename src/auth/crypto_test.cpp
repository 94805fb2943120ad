#include "auth/crypto.hpp"

#include <gtest/gtest.h>

namespace modelmux::auth {
namespace {

TEST(CryptoTest, Sha256FipsVectors) {
  // FIPS 180-2 "abc" and the empty string.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256("abc").size(), 32u);
}

TEST(CryptoTest, HmacSha256Rfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 4231 test case 1: key = 20 bytes of 0x0b, data "Hi There".
  EXPECT_EQ(Hex(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(CryptoTest, HexAndBase64Url) {
  EXPECT_EQ(Hex(std::string("\x00\x7f\xff\x10", 4)), "007fff10");
  // RFC 4648 section 10 vectors, padding removed.
  EXPECT_EQ(Base64UrlNoPad(""), "");
  EXPECT_EQ(Base64UrlNoPad("f"), "Zg");
  EXPECT_EQ(Base64UrlNoPad("fo"), "Zm8");
  EXPECT_EQ(Base64UrlNoPad("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlNoPad("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlNoPad("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlNoPad("foobar"), "Zm9vYmFy");
  // The URL-safe alphabet: standard base64 of fb ff is "+/8=".
  EXPECT_EQ(Base64UrlNoPad("\xfb\xff"), "-_8");
}

}  // namespace
}  // namespace modelmux::auth
