#include "text/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace modelmux::text {
namespace {

TEST(Utf8Test, Valid) {
  EXPECT_TRUE(ValidUtf8(""));
  EXPECT_TRUE(ValidUtf8("hello"));
  EXPECT_TRUE(ValidUtf8("héllo 你好 😀"));
}

TEST(Utf8Test, Invalid) {
  EXPECT_FALSE(ValidUtf8(std::string("\xC0\xAF", 2)));          // overlong '/'
  EXPECT_FALSE(ValidUtf8(std::string("\xED\xA0\x80", 3)));      // surrogate
  EXPECT_FALSE(ValidUtf8(std::string("\xF4\x90\x80\x80", 4)));  // > U+10FFFF
  EXPECT_FALSE(ValidUtf8(std::string("\xE4\xBD", 2)));          // truncated
  EXPECT_FALSE(ValidUtf8(std::string("\x80", 1)));              // stray continuation
}

TEST(Utf8Test, CodePointCount) {
  EXPECT_EQ(CodePointCount(""), 0u);
  EXPECT_EQ(CodePointCount("abc"), 3u);
  EXPECT_EQ(CodePointCount("héllo"), 5u);
  EXPECT_EQ(CodePointCount("你好😀"), 3u);
}

TEST(Utf8Test, Decode) {
  std::string s = "a你😀";
  size_t pos = 0;
  EXPECT_EQ(DecodeCodePoint(s, pos), U'a');
  EXPECT_EQ(DecodeCodePoint(s, pos), U'你');
  EXPECT_EQ(DecodeCodePoint(s, pos), U'😀');
  EXPECT_EQ(pos, s.size());
  std::string bad("\xFFz", 2);
  pos = 0;
  EXPECT_EQ(DecodeCodePoint(bad, pos), 0xFFFDu);
  EXPECT_EQ(pos, 1u);
}

}  // namespace
}  // namespace modelmux::text
