#include "text/chunker.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "text/sentences_chars.hpp"
#include "text/token_estimator.hpp"
#include "text/utf8.hpp"

namespace modelmux::text {
namespace {

// One token per code point: deterministic and easy to reason about.
int64_t CountChars(std::string_view s) {
  return static_cast<int64_t>(CodePointCount(s));
}

struct Expect {
  std::string text;
  size_t first;
  size_t count;
};

void ExpectChunks(const std::vector<Chunk>& got, const std::vector<Expect>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].text, want[i].text) << i;
    EXPECT_EQ(got[i].first_sentence, want[i].first) << i;
    EXPECT_EQ(got[i].sentence_count, want[i].count) << i;
    EXPECT_EQ(got[i].tokens, CountChars(want[i].text)) << i;
  }
}

// Without overlap: chunks are views into `text`, in order, not overlapping, with only
// whitespace outside them; each fits and reports the counter's value.
void ExpectLossless(std::string_view text, const std::vector<Chunk>& chunks, int64_t max,
                    const TokenCounter& count) {
  size_t prev_end = 0;
  size_t next_sentence = 0;
  for (const Chunk& c : chunks) {
    ASSERT_FALSE(c.text.empty());
    const auto offset = static_cast<size_t>(c.text.data() - text.data());
    ASSERT_GE(offset, prev_end);
    ASSERT_LE(offset + c.text.size(), text.size());
    EXPECT_TRUE(detail::TrimSpace(text.substr(prev_end, offset - prev_end)).empty());
    prev_end = offset + c.text.size();
    EXPECT_EQ(c.tokens, count(c.text));
    EXPECT_LE(c.tokens, max) << c.text;
    // Sentence indices go forward; parts of one long sentence share their index.
    EXPECT_GE(c.first_sentence + 1, next_sentence);
    EXPECT_GE(c.sentence_count, 1u);
    next_sentence = c.first_sentence + c.sentence_count;
  }
  EXPECT_TRUE(detail::TrimSpace(text.substr(prev_end)).empty());
  EXPECT_EQ(next_sentence, SplitSentences(text).size());
}

TEST(ChunkerTest, EmptyText) {
  EXPECT_TRUE(PackSentences("", {.max_tokens = 10}, CountChars).empty());
  EXPECT_TRUE(PackSentences(" \n\t ", {.max_tokens = 10}, CountChars).empty());
}

TEST(ChunkerTest, GreedyPacking) {
  // Sentences of 4, 3, 5 and 2 characters.
  const std::string text = "一二三。四五。六七八九。十。";
  ExpectChunks(PackSentences(text, {.max_tokens = 8}, CountChars),
               {{"一二三。四五。", 0, 2}, {"六七八九。十。", 2, 2}});
  ExpectChunks(PackSentences(text, {.max_tokens = 14}, CountChars), {{text, 0, 4}});
  ExpectChunks(PackSentences(text, {.max_tokens = 5}, CountChars),
               {{"一二三。", 0, 1}, {"四五。", 1, 1}, {"六七八九。", 2, 1}, {"十。", 3, 1}});
}

TEST(ChunkerTest, WhitespaceBetweenSentencesCounts) {
  // "Aa. " is 3 characters plus a space: two sentences joined are 7, not 6.
  const std::string text = "Aa. Bb. Cc.";
  ExpectChunks(PackSentences(text, {.max_tokens = 6}, CountChars),
               {{"Aa.", 0, 1}, {"Bb.", 1, 1}, {"Cc.", 2, 1}});
  ExpectChunks(PackSentences(text, {.max_tokens = 7}, CountChars),
               {{"Aa. Bb.", 0, 2}, {"Cc.", 2, 1}});
}

TEST(ChunkerTest, Overlap) {
  const std::string text = "甲甲。乙乙。丙丙。丁丁。";
  ExpectChunks(PackSentences(text, {.max_tokens = 7, .overlap_sentences = 1}, CountChars),
               {{"甲甲。乙乙。", 0, 2}, {"乙乙。丙丙。", 1, 2}, {"丙丙。丁丁。", 2, 2}});
  // Two sentences of overlap fit with one new sentence only when the budget allows 9.
  ExpectChunks(PackSentences(text, {.max_tokens = 9, .overlap_sentences = 2}, CountChars),
               {{"甲甲。乙乙。丙丙。", 0, 3}, {"乙乙。丙丙。丁丁。", 1, 3}});
  // Overlap that does not fit with a new sentence is dropped.
  ExpectChunks(PackSentences(text, {.max_tokens = 4, .overlap_sentences = 1}, CountChars),
               {{"甲甲。", 0, 1}, {"乙乙。", 1, 1}, {"丙丙。", 2, 1}, {"丁丁。", 3, 1}});
}

TEST(ChunkerTest, LongSentenceSplitsAtCommas) {
  const std::string text = "短句。甲甲甲，乙乙乙、丙丙丙；丁丁。尾。";
  ExpectChunks(
      PackSentences(text, {.max_tokens = 8, .split = {.split_on_semicolon = false}}, CountChars),
      {{"短句。", 0, 1}, {"甲甲甲，乙乙乙、", 1, 1}, {"丙丙丙；丁丁。", 1, 1}, {"尾。", 2, 1}});
  // Half-width commas count only before whitespace: "1,000" is not cut.
  ExpectChunks(PackSentences("Pay 1,000 now, or 2,000 later.", {.max_tokens = 18}, CountChars),
               {{"Pay 1,000 now,", 0, 1}, {"or 2,000 later.", 0, 1}});
}

TEST(ChunkerTest, LongClauseSplitsAtCharacters) {
  ExpectChunks(PackSentences("一二三四五六七八九十", {.max_tokens = 3}, CountChars),
               {{"一二三", 0, 1}, {"四五六", 0, 1}, {"七八九", 0, 1}, {"十", 0, 1}});
  // Latin text is cut at the last space when one is in the second half of the piece.
  ExpectChunks(PackSentences("alpha beta gamma delta", {.max_tokens = 12}, CountChars),
               {{"alpha beta", 0, 1}, {"gamma delta", 0, 1}});
}

TEST(ChunkerTest, NeverCutsInsideUtf8Sequences) {
  const std::string text = "汉字😀テキストé한국어、混合文字列😀😀。";
  for (int64_t max = 1; max <= 12; ++max) {
    // A byte-counting counter makes cuts land near multi-byte sequences.
    const TokenCounter bytes = [](std::string_view s) { return static_cast<int64_t>(s.size()); };
    const auto chunks = PackSentences(text, {.max_tokens = max}, bytes);
    std::string joined;
    for (const Chunk& c : chunks) {
      EXPECT_TRUE(ValidUtf8(c.text)) << max;
      joined += c.text;
    }
    EXPECT_EQ(joined, text);
  }
}

TEST(ChunkerTest, CodePointOverBudgetIsEmittedAlone) {
  const TokenCounter five_each = [](std::string_view s) { return 5 * CountChars(s); };
  const auto chunks = PackSentences("甲乙", {.max_tokens = 3}, five_each);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0].text, "甲");
  EXPECT_EQ(chunks[0].tokens, 5);
  EXPECT_EQ(chunks[1].text, "乙");
}

TEST(ChunkerTest, NonPositiveBudgetActsAsOne) {
  const auto chunks = PackSentences("ab。", {.max_tokens = 0}, CountChars);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[2].text, "。");
}

TEST(ChunkerTest, DefaultCounterIsTheEstimator) {
  const std::string text =
      "国家统计局今天发布数据显示，前三季度国内生产总值同比增长5.2%。The economy is recovering. "
      "专家认为，经济回升向好的态势正在巩固；但外部环境依然复杂严峻。";
  const auto chunks = PackSentences(text, {.max_tokens = 20});
  ASSERT_GT(chunks.size(), 1u);
  ExpectLossless(text, chunks, 20, [](std::string_view s) { return EstimateTokens(s); });
}

std::string MixedText(int sentences) {
  const char* pieces[] = {"这是第一句，内容比较短。",
                          "Dr. Smith arrived at 3.14 p.m. today. ",
                          "他说：“我们明天再谈吧！”",
                          "一个没有任何标点符号而且相当长的句子会被切成几个小块来处理才能放得下",
                          "Version v1.2.3 is out; see example.com for details.\n",
                          "嗯……好吧？！",
                          "averyveryverylongwordwithoutanyspacesatallthatmustbecutsomewhere. "};
  std::string text;
  for (int i = 0; i < sentences; ++i) text += pieces[(i * 5 + i / 3) % std::size(pieces)];
  return text;
}

TEST(ChunkerTest, InvariantsOverManyBudgetsAndCounters) {
  const std::string text = MixedText(60);
  const std::vector<TokenCounter> counters = {
      CountChars,
      [](std::string_view s) { return EstimateTokens(s); },
      [](std::string_view s) { return static_cast<int64_t>(s.size()); },
      // A fixed cost per call: the sum of sentence counts overestimates every slice.
      [](std::string_view s) { return CountChars(s) + 3; },
  };
  for (size_t k = 0; k < counters.size(); ++k) {
    for (int64_t max : {4, 7, 10, 16, 25, 40, 64, 100, 1000}) {
      SCOPED_TRACE("counter " + std::to_string(k) + " max " + std::to_string(max));
      ExpectLossless(text, PackSentences(text, {.max_tokens = max}, counters[k]), max, counters[k]);
    }
  }
}

// Whether `c` holds whole sentences (not a part of a long one).
bool IsWhole(const Chunk& c, const std::vector<std::string_view>& sentences) {
  const std::string_view last = sentences[c.first_sentence + c.sentence_count - 1];
  return c.text.data() == sentences[c.first_sentence].data() &&
         c.text.data() + c.text.size() == last.data() + last.size();
}

TEST(ChunkerTest, ChunksAreFullWhenTheCounterIsExact) {
  // With one token per character, a chunk that could take its next sentence would be a bug.
  const std::string text = MixedText(40);
  const auto sentences = SplitSentences(text);
  const auto chunks = PackSentences(text, {.max_tokens = 60}, CountChars);
  int checked = 0;
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    const size_t next = c.first_sentence + c.sentence_count;
    if (!IsWhole(c, sentences) || !IsWhole(chunks[i + 1], sentences)) continue;
    const std::string_view next_sentence = sentences[next];
    const auto grown = std::string_view(
        c.text.data(),
        static_cast<size_t>(next_sentence.data() + next_sentence.size() - c.text.data()));
    EXPECT_GT(CountChars(grown), 60) << c.text;
    ++checked;
  }
  EXPECT_GT(checked, 5);
}

TEST(ChunkerTest, OverlapInvariants) {
  const std::string text = MixedText(50);
  const auto sentences = SplitSentences(text);
  for (int64_t overlap : {1, 2, 3}) {
    SCOPED_TRACE(overlap);
    const auto chunks =
        PackSentences(text, {.max_tokens = 80, .overlap_sentences = overlap}, CountChars);
    ASSERT_FALSE(chunks.empty());
    size_t covered = 0;  // sentences [0, covered) appeared in an earlier chunk
    int overlapping = 0;
    for (const Chunk& c : chunks) {
      EXPECT_LE(c.tokens, 80);
      EXPECT_EQ(c.tokens, CountChars(c.text));
      EXPECT_LE(c.first_sentence, covered);  // no sentence is skipped
      if (!IsWhole(c, sentences)) {          // a part of a long sentence: never overlapped
        EXPECT_EQ(c.sentence_count, 1u);
        EXPECT_GE(c.first_sentence + 1, covered);
      } else if (c.first_sentence < covered) {
        ++overlapping;
        EXPECT_LE(covered - c.first_sentence, static_cast<size_t>(overlap));
        EXPECT_GT(c.first_sentence + c.sentence_count, covered);  // with a new sentence
      }
      covered = std::max(covered, c.first_sentence + c.sentence_count);
    }
    EXPECT_EQ(covered, sentences.size());
    EXPECT_GT(overlapping, 3);
  }
}

TEST(ChunkerTest, CounterWorkIsLinear) {
  const std::string text = MixedText(3000);
  int64_t bytes_counted = 0;
  const TokenCounter counting = [&](std::string_view s) {
    bytes_counted += static_cast<int64_t>(s.size());
    return CountChars(s);
  };
  const auto chunks = PackSentences(text, {.max_tokens = 2000}, counting);
  ASSERT_GT(chunks.size(), 10u);
  EXPECT_LT(bytes_counted, 8 * static_cast<int64_t>(text.size()));
}

TEST(ChunkerTest, RandomBytesLoseNothing) {
  const std::string alphabet[] = {"。",   "，",   "、",       ".", ", ", "!",  "…",
                                  "”",    " ",    "\n",       "a", "1",  "中", "\xE4",
                                  "\xBD", "\xFF", "\xE3\x80", "😀", "\t"};
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int len = static_cast<int>(state % 60);
    for (int i = 0; i < len; ++i) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      text += alphabet[state % std::size(alphabet)];
    }
    for (int64_t max : {1, 2, 5, 9}) {
      const auto chunks = PackSentences(text, {.max_tokens = max}, CountChars);
      size_t prev_end = 0;
      for (const Chunk& c : chunks) {
        const auto offset = static_cast<size_t>(c.text.data() - text.data());
        ASSERT_GE(offset, prev_end) << text;
        EXPECT_TRUE(detail::TrimSpace(text.substr(prev_end, offset - prev_end)).empty()) << text;
        EXPECT_LE(c.tokens, max) << text;
        prev_end = offset + c.text.size();
      }
      EXPECT_TRUE(detail::TrimSpace(text.substr(std::min(prev_end, text.size()))).empty());
    }
    state += 0x2545F4914F6CDD1DULL;
  }
}

TEST(ChunkerTest, CounterWorkIsLinearWithManySmallChunks) {
  // Many one-sentence chunks, and one long unpunctuated stretch cut at code points.
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "短句子。";
  for (int i = 0; i < 20000; ++i) text += "长";
  int64_t bytes_counted = 0;
  const TokenCounter counting = [&](std::string_view s) {
    bytes_counted += static_cast<int64_t>(s.size());
    return CountChars(s);
  };
  const auto chunks = PackSentences(text, {.max_tokens = 6}, counting);
  EXPECT_EQ(chunks.size(), 5000u + 20000u / 6 + 1);
  EXPECT_LT(bytes_counted, 12 * static_cast<int64_t>(text.size()));
  ExpectLossless(text, chunks, 6, CountChars);
}

}  // namespace
}  // namespace modelmux::text
