#include "text/tiktoken.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace modelmux::text {
namespace {

using ::testing::ElementsAre;
using Ids = std::vector<uint32_t>;

const Tokenizer& Cl100k() {
  return GetTokenizer(Encoding::kCl100kBase);
}
const Tokenizer& O200k() {
  return GetTokenizer(Encoding::kO200kBase);
}

// Documented values: OpenAI's tiktoken README and cookbook ("hello world" in cl100k_base,
// "tiktoken is great!" = 6 tokens).
TEST(TiktokenTest, DocumentedEncodings) {
  EXPECT_EQ(Cl100k().Encode("hello world"), (Ids{15339, 1917}));
  EXPECT_EQ(Cl100k().Encode("tiktoken is great!"), (Ids{83, 1609, 5963, 374, 2294, 0}));
  EXPECT_EQ(O200k().Encode("hello world"), (Ids{24912, 2375}));
}

// The expected ids below were captured from js-tiktoken 1.0.21 (encode(text, [], [])).
TEST(TiktokenTest, MatchesJsTiktokenCl100k) {
  EXPECT_EQ(Cl100k().Encode("Hello, 世界! I'm fine, THEY'RE ok."),
            (Ids{9906, 11, 220, 3574, 244, 98220, 0, 358, 2846, 7060, 11, 63593, 95253, 5509, 13}));
  EXPECT_EQ(Cl100k().Encode("  leading\r\n\ttabs  \n\n"), (Ids{220, 6522, 319, 3324, 3518, 19124}));
  EXPECT_EQ(Cl100k().Encode("def f(x):\n    return x**2  # ok\n"),
            (Ids{755, 282, 2120, 997, 262, 471, 865, 334, 17, 220, 674, 5509, 198}));
  EXPECT_EQ(Cl100k().Encode("\U0001F44B\U0001F3FD \U0001F468\u200D\U0001F469\u200D\U0001F467 ok"),
            (Ids{9468, 239, 233, 9468, 237, 121, 62904, 101, 378, 235, 9468, 239, 102, 378, 235,
                 9468, 239, 100, 5509}));
  EXPECT_EQ(Cl100k().Encode("x      "), (Ids{87, 996}));
}

TEST(TiktokenTest, MatchesJsTiktokenO200k) {
  EXPECT_EQ(O200k().Encode("Hello, 世界! I'm fine, THEY'RE ok."),
            (Ids{13225, 11, 185558, 0, 5477, 8975, 11, 95381, 6, 1099, 4763, 13}));
  EXPECT_EQ(O200k().Encode("12345678 1/2 https://a.b/c//d"),
            (Ids{7633, 19354, 4388, 220, 16, 14, 17, 5918, 1684, 64, 1292, 4308, 393, 67}));
  EXPECT_EQ(O200k().Encode("\u00c0B\u0301CD abc'S DON'T"),
            (Ids{18724, 33, 13430, 8257, 75094, 31233, 153384}));
  EXPECT_EQ(O200k().Encode("中文ABC abcDEF"), (Ids{10667, 44197, 75094, 36563}));
  EXPECT_EQ(O200k().Encode("x      "), (Ids{87, 1699}));
}

TEST(TiktokenTest, SpecialTokensAreCountedAsText) {
  EXPECT_EQ(Cl100k().Encode("<|endoftext|>"), (Ids{27, 91, 8862, 728, 428, 91, 29}));
  EXPECT_EQ(O200k().Encode("<|endoftext|>"), (Ids{27, 91, 419, 1440, 919, 91, 29}));
  EXPECT_EQ(Cl100k().Decode(Ids{100257}), "<|endoftext|>");
  EXPECT_EQ(O200k().Decode(Ids{200018, 99999999}), "<|endofprompt|>");
}

TEST(TiktokenTest, CountEqualsEncodeSize) {
  for (const std::string text :
       {"", "a", "hello world", "  \n\n\t", "中文テキスト한국어 mixed 123456"}) {
    EXPECT_EQ(Cl100k().Count(text), Cl100k().Encode(text).size()) << text;
    EXPECT_EQ(O200k().Count(text), O200k().Encode(text).size()) << text;
  }
  EXPECT_EQ(Cl100k().Count(""), 0u);
}

TEST(TiktokenTest, RoundTrip) {
  const std::vector<std::string> texts = {
      "hello world",
      "The quick brown fox\r\njumps over\t\tthe lazy dog.   ",
      "長い中国語の文章です。これは日本語、这是中文。한국어도 있습니다.",
      "fn main() { println!(\"{}\", 1 + 2); } // comment",
      "\xff\xfe invalid \xc3 bytes \xed\xa0\x80 end",
      std::string(5000, 'z'),
      std::string(3000, ' ') + "x",
      "\U0001F469\U0001F3FD\u200D\U0001F4BB \U0001F1FA\U0001F1F8"};
  for (const Tokenizer* t : {&Cl100k(), &O200k()}) {
    for (const std::string& s : texts) EXPECT_EQ(t->Decode(t->Encode(s)), s) << t->name();
  }
}

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(TiktokenTest, LongPieces) {
  // Long runs of one class are single pieces of more than 128 bytes (the heap path). Expected
  // counts and ids from js-tiktoken 1.0.21.
  EXPECT_EQ(Cl100k().Count(Repeat("中", 1000)), 1000u);
  EXPECT_EQ(Cl100k().Count(Repeat("ab", 400)), 400u);
  EXPECT_EQ(O200k().Count(Repeat("ab", 400)), 200u);
  EXPECT_EQ(Cl100k().Count(Repeat("Supercalifragilisticexpialidocious", 10)), 110u);
  EXPECT_EQ(O200k().Count(Repeat("Supercalifragilisticexpialidocious", 10)), 100u);
  EXPECT_EQ(Cl100k().Count(Repeat("的是不了人我在有他这", 30)), 300u);
  EXPECT_EQ(O200k().Count(Repeat("的是不了人我在有他这", 30)), 240u);
  EXPECT_EQ(O200k().Count(Repeat("!@#$%^&*()", 30)), 210u);
  const Ids ids = O200k().Encode(Repeat("Supercalifragilisticexpialidocious", 10));
  EXPECT_THAT(std::vector<uint32_t>(ids.begin(), ids.begin() + 8),
              ElementsAre(17260, 5842, 366, 17764, 311, 6207, 8067, 563));
  const Ids zh = O200k().Encode(Repeat("的是不了人我在有他这", 30));
  EXPECT_THAT(std::vector<uint32_t>(zh.begin(), zh.begin() + 8),
              ElementsAre(47110, 33058, 1995, 7522, 2178, 3666, 11327, 8327));
}

TEST(TiktokenTest, ArbitraryBytesRoundTrip) {
  // Random bytes (mostly invalid UTF-8) never fail, and decode back to themselves.
  uint64_t state = 42;
  auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  };
  for (int i = 0; i < 2000; ++i) {
    std::string s(next() % 64, '\0');
    for (char& c : s) c = static_cast<char>(next() % 4 == 0 ? 0x80 | (next() & 0x7f) : next());
    for (const Tokenizer* t : {&Cl100k(), &O200k()}) {
      const Ids ids = t->Encode(s);
      ASSERT_EQ(t->Decode(ids), s) << t->name() << " #" << i;
      ASSERT_EQ(t->Count(s), ids.size());
    }
  }
}

TEST(TiktokenTest, EncodingForModel) {
  EXPECT_EQ(EncodingForModel("gpt-4o-mini"), Encoding::kO200kBase);
  EXPECT_EQ(EncodingForModel("openai/gpt-4.1-nano"), Encoding::kO200kBase);
  EXPECT_EQ(EncodingForModel("o3-mini"), Encoding::kO200kBase);
  EXPECT_EQ(EncodingForModel("o1"), Encoding::kO200kBase);
  EXPECT_EQ(EncodingForModel("o4-mini-2025-04-16"), Encoding::kO200kBase);
  EXPECT_EQ(EncodingForModel("gpt-5-chat-latest"), Encoding::kO200kBase);
  EXPECT_EQ(EncodingForModel("gpt-4"), Encoding::kCl100kBase);
  EXPECT_EQ(EncodingForModel("gpt-4-turbo-2024-04-09"), Encoding::kCl100kBase);
  EXPECT_EQ(EncodingForModel("gpt-3.5-turbo"), Encoding::kCl100kBase);
  EXPECT_EQ(EncodingForModel("text-embedding-3-small"), Encoding::kCl100kBase);
  EXPECT_EQ(EncodingForModel("text-embedding-ada-002"), Encoding::kCl100kBase);
  EXPECT_EQ(EncodingForModel("claude-sonnet-4-5"), std::nullopt);
  EXPECT_EQ(EncodingForModel("qwen-max"), std::nullopt);
  EXPECT_EQ(EncodingForModel("omni"), std::nullopt);
  EXPECT_EQ(EncodingFromName("o200k_base"), Encoding::kO200kBase);
  EXPECT_EQ(EncodingName(Encoding::kCl100kBase), "cl100k_base");
}

TEST(TiktokenTest, TablesLoadQuickly) {
  // Both tables are built at most once per process; whichever test ran first paid for it.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Cl100k().vocabulary_size(), 100256u);
  EXPECT_EQ(O200k().vocabulary_size(), 199998u);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

}  // namespace
}  // namespace modelmux::text
