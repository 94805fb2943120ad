#include "text/bpe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

extern "C" const unsigned char mm_tokenizer_cl100k_base[];
extern "C" const unsigned char mm_tokenizer_cl100k_base_end[];
extern "C" const unsigned char mm_tokenizer_o200k_base[];
extern "C" const unsigned char mm_tokenizer_o200k_base_end[];

namespace modelmux::text {
namespace {

using ::testing::ElementsAre;

// A toy table: the 256 single bytes are ranks 0..255 (as in tiktoken's encodings), then merges.
std::string ToyBlob(const std::vector<std::string>& merges) {
  std::string blob = "TKR1";
  const uint32_t count = 256 + static_cast<uint32_t>(merges.size());
  for (int i = 0; i < 4; ++i) blob.push_back(static_cast<char>((count >> (8 * i)) & 0xff));
  for (int b = 0; b < 256; ++b) {
    blob.push_back(1);
    blob.push_back(static_cast<char>(b));
  }
  for (const std::string& m : merges) {
    blob.push_back(static_cast<char>(m.size()));
    blob += m;
  }
  return blob;
}

std::span<const unsigned char> Bytes(const std::string& s) {
  return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

std::vector<uint32_t> Starts(BytePairMerger& m, std::string_view piece) {
  const std::span<const uint32_t> s = m.Split(piece);
  return {s.begin(), s.end()};
}

TEST(BpeTest, ParsesAndLooksUp) {
  const std::string blob = ToyBlob({"ab", "cd", "abcd"});
  const std::optional<RankTable> t = RankTable::Parse(Bytes(blob));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->size(), 259u);
  EXPECT_EQ(t->Rank("a"), static_cast<uint32_t>('a'));
  EXPECT_EQ(t->Rank("ab"), 256u);
  EXPECT_EQ(t->Rank("abcd"), 258u);
  EXPECT_EQ(t->Rank("abc"), kNoRank);
  EXPECT_EQ(t->Rank(""), kNoRank);
  EXPECT_EQ(t->Token(257), "cd");
  EXPECT_EQ(t->Token(100000), "");
}

TEST(BpeTest, RejectsMalformedTables) {
  EXPECT_FALSE(RankTable::Parse(Bytes("TKR0\0\0\0\0")).has_value());
  std::string truncated = ToyBlob({"ab"});
  truncated.pop_back();
  EXPECT_FALSE(RankTable::Parse(Bytes(truncated)).has_value());
  EXPECT_FALSE(RankTable::Parse(Bytes(ToyBlob({"ab", "ab"}))).has_value());  // duplicate
}

TEST(BpeTest, MergesLowestRankFirst) {
  // "bc" (256) merges before "ab" (257), so "abc" -> "a" + "bc".
  const std::string blob = ToyBlob({"bc", "ab", "xy"});
  const RankTable t = *RankTable::Parse(Bytes(blob));
  BytePairMerger m(t);
  EXPECT_THAT(Starts(m, "abc"), ElementsAre(0, 1, 3));
  EXPECT_EQ(m.Count("abc"), 2u);
  EXPECT_EQ(m.Count("xy"), 1u);
  EXPECT_EQ(m.Count("q"), 1u);
  EXPECT_EQ(m.Count(""), 0u);
  // Ties between equal pairs go to the leftmost: "aaa" with "aa" -> "aa" + "a".
  const std::string blob2 = ToyBlob({"aa"});
  const RankTable t2 = *RankTable::Parse(Bytes(blob2));
  BytePairMerger m2(t2);
  EXPECT_THAT(Starts(m2, "aaa"), ElementsAre(0, 2, 3));
}

TEST(BpeTest, LongPiecesMergeLikeShortOnes) {
  // The tree path (long pieces) must give the same boundaries as repeating a short piece
  // whose merges cannot cross the repetition boundary ("|" never merges).
  const std::string blob = ToyBlob({"ab", "abab", "ba", "cab", "cabab"});
  const RankTable t = *RankTable::Parse(Bytes(blob));
  BytePairMerger m(t);
  const std::string unit = "cababba|";
  const std::vector<uint32_t> short_starts = Starts(m, unit);
  std::string long_piece;
  for (int i = 0; i < 40; ++i) long_piece += unit;
  const std::vector<uint32_t> long_starts = Starts(m, long_piece);
  std::vector<uint32_t> expected;
  for (uint32_t i = 0; i < 40; ++i) {
    for (size_t k = 0; k + 1 < short_starts.size(); ++k) {
      expected.push_back(i * static_cast<uint32_t>(unit.size()) + short_starts[k]);
    }
  }
  expected.push_back(static_cast<uint32_t>(long_piece.size()));
  EXPECT_EQ(long_starts, expected);
  EXPECT_THAT(short_starts, ElementsAre(0, 5, 7, 8));  // "cabab" "ba" "|"
}

// tiktoken's merge loop written out naively (every round: rescan all adjacent pairs, merge the
// lowest rank, leftmost on ties), as the reference for both of BytePairMerger's paths.
std::vector<uint32_t> ReferenceStarts(const RankTable& t, std::string_view piece) {
  std::vector<uint32_t> starts;
  for (uint32_t i = 0; i <= piece.size(); ++i) starts.push_back(i);
  if (piece.size() <= 1 || t.Rank(piece) != kNoRank)
    return {0, static_cast<uint32_t>(piece.size())};
  while (starts.size() > 2) {
    uint32_t best = kNoRank;
    size_t at = 0;
    for (size_t i = 0; i + 2 < starts.size(); ++i) {
      const uint32_t r = t.Rank(piece.substr(starts[i], starts[i + 2] - starts[i]));
      if (r < best) {
        best = r;
        at = i;
      }
    }
    if (best == kNoRank) break;
    starts.erase(starts.begin() + static_cast<ptrdiff_t>(at) + 1);
  }
  return starts;
}

TEST(BpeTest, RealTablesMatchTheNaiveLoopOnChineseOfEveryLength) {
  const std::string hanzi =
      "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家"
      "学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经"
      "頫龘鱻麤饕餮魑魅魍魉";
  std::vector<std::string> chars;
  for (size_t i = 0; i < hanzi.size(); i += 3) chars.push_back(hanzi.substr(i, 3));
  std::mt19937 random(20261129);
  using Blob = std::pair<const unsigned char*, const unsigned char*>;
  for (auto [begin, end] : {Blob{mm_tokenizer_cl100k_base, mm_tokenizer_cl100k_base_end},
                            Blob{mm_tokenizer_o200k_base, mm_tokenizer_o200k_base_end}}) {
    const auto table = RankTable::Parse({begin, static_cast<size_t>(end - begin)});
    ASSERT_TRUE(table.has_value());
    BytePairMerger m(*table);
    for (int round = 0; round < 300; ++round) {
      std::string piece;
      const int n = 1 + round % 150;  // 3..450 bytes: both paths, and the switch between them
      for (int i = 0; i < n; ++i) piece += chars[random() % chars.size()];
      if (round % 7 == 0) piece.insert(piece.size() / 2, "GPT-4o");
      ASSERT_EQ(Starts(m, piece), ReferenceStarts(*table, piece)) << piece;
      EXPECT_EQ(m.Count(piece), ReferenceStarts(*table, piece).size() - 1) << piece;
    }
  }
}

}  // namespace
}  // namespace modelmux::text
