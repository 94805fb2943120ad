#include "modelmux/text.hpp"

#include <gtest/gtest.h>

namespace modelmux {
namespace {

TEST(SdkText, CountsExactlyForOpenAiModelsAndEstimatesOthers) {
  const TokenCount exact = CountTokens("gpt-4o", "hello world");
  EXPECT_TRUE(exact.exact);
  EXPECT_EQ(exact.encoding, "o200k_base");
  EXPECT_EQ(exact.tokens, 2);  // "hello", " world"
  const TokenCount estimate = CountTokens("qwen-max", "你好，世界");
  EXPECT_FALSE(estimate.exact);
  EXPECT_EQ(estimate.encoding, "estimate");
  EXPECT_GE(estimate.tokens, 4);
}

TEST(SdkText, SplitsChineseAndMixedText) {
  EXPECT_EQ(SplitSentences("价格是3.5元。真的吗？是的！"),
            (std::vector<std::string>{"价格是3.5元。", "真的吗？", "是的！"}));
  SentenceOptions keep_semicolons;
  keep_semicolons.split_on_semicolon = false;
  EXPECT_EQ(SplitSentences("甲；乙。", keep_semicolons).size(), 1u);
  EXPECT_EQ(SplitSentences("甲；乙。").size(), 2u);
}

TEST(SdkText, ChunksStayUnderTheBudgetAndKeepEverySentence) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "第" + std::to_string(i) + "句话讲的是合同。";
  const auto chunks = ChunkText("gpt-4o", text, 30);
  ASSERT_GT(chunks.size(), 3u);
  std::string joined;
  for (const auto& c : chunks) {
    EXPECT_LE(CountTokens("gpt-4o", c).tokens, 30) << c;
    joined += c;
  }
  EXPECT_EQ(joined, text);
}

}  // namespace
}  // namespace modelmux
