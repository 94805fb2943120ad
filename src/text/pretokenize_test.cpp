#include "text/pretokenize.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace modelmux::text {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Pieces(SplitPattern pattern, std::string_view text) {
  std::vector<std::string> out;
  PieceSplitter splitter(pattern, text);
  for (std::string_view p = splitter.Next(); !p.empty(); p = splitter.Next()) out.emplace_back(p);
  return out;
}

// Expected pieces below are js-tiktoken's regexes run by node (String.matchAll).
TEST(PretokenizeTest, Cl100kWordsContractionsAndCjk) {
  EXPECT_THAT(Pieces(SplitPattern::kCl100k, "Hello, 世界! I'm fine, THEY'RE ok."),
              ElementsAre("Hello", ",", " 世界", "!", " I", "'m", " fine", ",", " THEY", "'RE",
                          " ok", "."));
}

TEST(PretokenizeTest, O200kKeepsContractionsWithTheWord) {
  EXPECT_THAT(
      Pieces(SplitPattern::kO200k, "Hello, 世界! I'm fine, THEY'RE ok."),
      ElementsAre("Hello", ",", " 世界", "!", " I'm", " fine", ",", " THEY'RE", " ok", "."));
}

TEST(PretokenizeTest, WhitespaceRunsAndLineBreaks) {
  for (SplitPattern p : {SplitPattern::kCl100k, SplitPattern::kO200k}) {
    EXPECT_THAT(Pieces(p, "  a\r\n\tb  \n\n x"),
                ElementsAre(" ", " a", "\r\n", "\tb", "  \n\n", " x"));
    // Ideographic spaces: the last one stays with the next word.
    EXPECT_THAT(Pieces(p, "x\u3000\u3000y"), ElementsAre("x", "\u3000", "\u3000y"));
    EXPECT_THAT(Pieces(p, "x   "), ElementsAre("x", "   "));
  }
}

TEST(PretokenizeTest, NumbersAndSlashes) {
  EXPECT_THAT(Pieces(SplitPattern::kCl100k, "12345 ab//\n/"),
              ElementsAre("123", "45", " ab", "//\n", "/"));
  EXPECT_THAT(Pieces(SplitPattern::kO200k, "12345 ab//\n/"),
              ElementsAre("123", "45", " ab", "//\n/"));
}

TEST(PretokenizeTest, O200kCaseSplitsAndCombiningMarks) {
  EXPECT_THAT(Pieces(SplitPattern::kO200k, "中文ABC abcDEF"),
              ElementsAre("中文", "ABC", " abc", "DEF"));
  EXPECT_THAT(Pieces(SplitPattern::kCl100k, "中文ABC abcDEF"), ElementsAre("中文ABC", " abcDEF"));
  // A leading combining mark (U+0301) is a word of its own in o200k, a prefix in cl100k.
  EXPECT_THAT(Pieces(SplitPattern::kO200k, "\u0301ABC"), ElementsAre("\u0301", "ABC"));
  EXPECT_THAT(Pieces(SplitPattern::kCl100k, "\u0301ABC"), ElementsAre("\u0301ABC"));
  EXPECT_THAT(Pieces(SplitPattern::kO200k, "\u00c0B\u0301CD abc'S"),
              ElementsAre("\u00c0B\u0301", "CD", " abc'S"));
  EXPECT_THAT(Pieces(SplitPattern::kCl100k, "\u00c0B\u0301CD abc'S"),
              ElementsAre("\u00c0B", "\u0301CD", " abc", "'S"));
}

TEST(PretokenizeTest, JavaScriptWhitespaceDefinition) {
  // U+FEFF is \s in JavaScript, U+0085 is not (both are prefixes of the next letter here).
  EXPECT_TRUE(CodePointProps(0xfeff) & kPropSpace);
  EXPECT_FALSE(CodePointProps(0x85) & kPropSpace);
  EXPECT_THAT(Pieces(SplitPattern::kCl100k, "a\ufeffb\u0085c"),
              ElementsAre("a", "\ufeffb", "\u0085c"));
}

TEST(PretokenizeTest, UnicodeProperties) {
  EXPECT_EQ(CodePointProps('a'), kPropLetter | kPropLowerish);
  EXPECT_EQ(CodePointProps('A'), kPropLetter | kPropUpperish);
  EXPECT_EQ(CodePointProps(U'中'), kPropLetter | kPropUpperish | kPropLowerish);  // Lo
  EXPECT_EQ(CodePointProps(0x0301), kPropUpperish | kPropLowerish);               // Mn
  EXPECT_EQ(CodePointProps(U'٣'), kPropNumber);
  EXPECT_EQ(CodePointProps(' '), kPropSpace);
  EXPECT_EQ(CodePointProps(U'!'), 0);
  EXPECT_EQ(CodePointProps(0xd800), 0);
  EXPECT_EQ(CodePointProps(0x110000), 0);
}

TEST(PretokenizeTest, InvalidUtf8BytesArePunctuation) {
  // 0xff and a truncated 3-byte sequence: each stray byte is its own "punctuation" code point.
  const std::string text = "ab\xff\xff cd \xe4\xb8";
  EXPECT_THAT(Pieces(SplitPattern::kCl100k, text),
              ElementsAre("ab", "\xff\xff", " cd", " \xe4\xb8"));
  // An overlong encoding (C0 AF) is two invalid bytes; the second is not a prefix of "x" because
  // prefixes are single code points after the punctuation run took both.
  EXPECT_THAT(Pieces(SplitPattern::kO200k, "\xc0\xafx"), ElementsAre("\xc0\xaf", "x"));
  EXPECT_THAT(Pieces(SplitPattern::kO200k, "\xc0x"), ElementsAre("\xc0x"));
}

TEST(PretokenizeTest, PiecesCoverTheInput) {
  const std::string text = "mixed 混合 テキスト 123 \xf0\x9f\x98\x80!!\n\n  end \xed\xa0\x80";
  for (SplitPattern p : {SplitPattern::kCl100k, SplitPattern::kO200k}) {
    std::string joined;
    for (const std::string& piece : Pieces(p, text)) joined += piece;
    EXPECT_EQ(joined, text);
  }
  EXPECT_TRUE(Pieces(SplitPattern::kO200k, "").empty());
}

}  // namespace
}  // namespace modelmux::text
