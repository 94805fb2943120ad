#include "text/bpe.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

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
  // The heap path (pieces > 128 bytes) must give the same boundaries as repeating a short piece
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

}  // namespace
}  // namespace modelmux::text
