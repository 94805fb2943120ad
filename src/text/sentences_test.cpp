#include "text/sentences.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "text/sentences_chars.hpp"
#include "text/utf8.hpp"

namespace modelmux::text {
namespace {

std::vector<std::string> Split(std::string_view s, const SplitOptions& o = {}) {
  const auto pieces = SplitSentences(s, o);
  return {pieces.begin(), pieces.end()};
}

bool AllSpace(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (!detail::IsSpace(DecodeCodePoint(s, pos))) return false;
  }
  return true;
}

// The output contract: non-empty trimmed views into `input`, in order, with only whitespace
// between and around them.
void ExpectCovers(std::string_view input, const std::vector<std::string_view>& pieces) {
  size_t prev_end = 0;
  for (std::string_view p : pieces) {
    ASSERT_FALSE(p.empty());
    ASSERT_GE(p.data(), input.data());
    const auto offset = static_cast<size_t>(p.data() - input.data());
    ASSERT_GE(offset, prev_end);
    ASSERT_LE(offset + p.size(), input.size());
    EXPECT_TRUE(AllSpace(input.substr(prev_end, offset - prev_end)));
    EXPECT_EQ(detail::TrimSpace(p), p);
    prev_end = offset + p.size();
  }
  EXPECT_TRUE(AllSpace(input.substr(prev_end)));
}

TEST(SentencesTest, EmptyAndWhitespace) {
  EXPECT_TRUE(SplitSentences("").empty());
  EXPECT_TRUE(SplitSentences(" \t\n\r\n　").empty());
}

TEST(SentencesTest, PiecesAreViewsIntoInput) {
  const std::string text = "  第一句。 Second one!  ";
  const auto pieces = SplitSentences(text);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].data(), text.data() + 2);
  EXPECT_EQ(pieces[1], "Second one!");
  ExpectCovers(text, pieces);
}

TEST(SentencesTest, GapsRebuildTheInput) {
  const std::string text = "他说：“好。”\n\n  Then he left.\t第三句";
  const auto pieces = SplitSentences(text);
  std::string rebuilt;
  size_t prev_end = 0;
  for (std::string_view p : pieces) {
    const auto offset = static_cast<size_t>(p.data() - text.data());
    rebuilt += text.substr(prev_end, offset - prev_end);
    rebuilt += p;
    prev_end = offset + p.size();
  }
  rebuilt += text.substr(prev_end);
  EXPECT_EQ(rebuilt, text);
  EXPECT_EQ(pieces.size(), 3u);
}

TEST(SentencesTest, NewlineOption) {
  const std::string text = "第一行\n第二行。";
  EXPECT_EQ(Split(text), (std::vector<std::string>{"第一行", "第二行。"}));
  EXPECT_EQ(Split(text, {.newline_is_break = false}), (std::vector<std::string>{text}));
}

TEST(SentencesTest, SemicolonOption) {
  const std::string text = "甲；乙; 丙。";
  EXPECT_EQ(Split(text), (std::vector<std::string>{"甲；", "乙;", "丙。"}));
  EXPECT_EQ(Split(text, {.split_on_semicolon = false}), (std::vector<std::string>{text}));
}

TEST(SentencesTest, AbbreviationsWithOrWithoutDot) {
  SplitOptions with_dot;
  with_dot.abbreviations = {"approx."};
  EXPECT_EQ(Split("It is approx. Ten metres. Yes.", with_dot),
            (std::vector<std::string>{"It is approx. Ten metres.", "Yes."}));
  SplitOptions without_dot;
  without_dot.abbreviations = {"approx"};
  EXPECT_EQ(Split("It is approx. Ten metres. Yes.", without_dot),
            (std::vector<std::string>{"It is approx. Ten metres.", "Yes."}));
  // Case matters: "no." at the end of a sentence is not the abbreviation "No.".
  EXPECT_EQ(Split("I said no. Then I left."),
            (std::vector<std::string>{"I said no.", "Then I left."}));
}

TEST(SentencesTest, DefaultAbbreviationList) {
  const SplitOptions o;
  for (const char* a : {"Mr", "Mrs", "Ms", "Dr", "Prof", "Sr", "Jr", "St", "vs", "etc", "e.g",
                        "i.e", "U.S", "No", "Fig"}) {
    const std::string text = std::string("See ") + a + ". Next";
    EXPECT_EQ(Split(text, o).size(), 1u) << a;
  }
}

TEST(SentencesTest, TerminatorRunsStayTogether) {
  EXPECT_EQ(Split("真的？！假的！！！嗯……好。"),
            (std::vector<std::string>{"真的？！", "假的！！！", "嗯……", "好。"}));
  EXPECT_EQ(Split("Really?! Yes!!! Fine..."),
            (std::vector<std::string>{"Really?!", "Yes!!!", "Fine..."}));
}

TEST(SentencesTest, ClosersStayWithTheirSentence) {
  EXPECT_EQ(Split("「好。」『行！』（对。）【是？】《书。》下一句"),
            (std::vector<std::string>{"「好。」", "『行！』", "（对。）", "【是？】", "《书。》",
                                      "下一句"}));
  EXPECT_EQ(Split("He said \"Go.\" (Then left.) Done."),
            (std::vector<std::string>{"He said \"Go.\"", "(Then left.)", "Done."}));
}

TEST(SentencesTest, AttachedDotsDoNotSplit) {
  for (const char* text : {"值为3.14和1,000.5。", "Version v1.2.3 is out.", "Mail a.b@c.example.",
                           "See example.com/a.html now.", "版本号是2024.01.15。"}) {
    EXPECT_EQ(Split(text).size(), 1u) << text;
  }
}

TEST(SentencesTest, InvalidUtf8NeverCrashesAndIsKept) {
  // Deterministic pseudo-random bytes, biased towards terminators, closers and UTF-8 lead bytes.
  const std::string alphabet[] = {"。",   "！",   "？",       ".", "!",  "?",  ";",  "…",    "”",
                                  "」",   " ",    "\n",       "a", "A",  "1",  "中", "\xE4", "\xBD",
                                  "\xFF", "\xC0", "\xE3\x80", "“", "\r", "　", "．", "ｱ",    "と"};
  uint64_t state = 0x2545F4914F6CDD1DULL;
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int len = static_cast<int>(state % 40);
    for (int i = 0; i < len; ++i) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      text += alphabet[state % std::size(alphabet)];
    }
    for (const bool newline : {true, false}) {
      SplitOptions o;
      o.newline_is_break = newline;
      const auto pieces = SplitSentences(text, o);
      ExpectCovers(text, pieces);
      std::string non_space;
      for (std::string_view p : pieces) non_space += p;
      // Every byte that is not whitespace is in exactly one piece.
      size_t expected_bytes = 0;
      for (size_t pos = 0; pos < text.size();) {
        const size_t at = pos;
        if (!detail::IsSpace(DecodeCodePoint(text, pos))) expected_bytes += pos - at;
      }
      size_t got_bytes = 0;
      for (std::string_view p : pieces) {
        for (size_t pos = 0; pos < p.size();) {
          const size_t at = pos;
          if (!detail::IsSpace(DecodeCodePoint(p, pos))) got_bytes += pos - at;
        }
      }
      EXPECT_EQ(got_bytes, expected_bytes) << text;
    }
    state += 0x9E3779B97F4A7C15ULL;
  }
}

TEST(SentencesTest, TruncatedSequenceAtTheEnd) {
  const std::string text = "句子。\xE4\xBD";
  EXPECT_EQ(Split(text), (std::vector<std::string>{"句子。", "\xE4\xBD"}));
}

TEST(SentencesTest, LongInputIsSplitEverywhere) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += i % 2 ? "这是一句中文。" : "This is English. ";
  const auto pieces = SplitSentences(text);
  EXPECT_EQ(pieces.size(), 20000u);
  ExpectCovers(text, pieces);
}

}  // namespace
}  // namespace modelmux::text
