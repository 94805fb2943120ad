#include "text/token_estimator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace modelmux::text {
namespace {

struct Sample {
  const char* name;
  const char* text;
  int64_t cl100k;  // true count, cl100k_base
  int64_t o200k;   // true count, o200k_base
};

// True counts measured with js-tiktoken 1.x (getEncoding("cl100k_base") and
// getEncoding("o200k_base"), encode(text).length) on exactly these strings.
const Sample kSamples[] = {
    {"empty", "", 0, 0},
    {"word", "hello", 1, 1},
    {"prose_short", "What is the capital of France? Answer in one sentence.", 12, 12},
    {"prose",
     "The quick brown fox jumps over the lazy dog. Modern large language models split text into "
     "tokens, which are pieces of words; a typical English word is about one token, and longer or "
     "rarer words are split into several pieces.",
     46, 46},
    {"long_words",
     "Internationalization and pseudopseudohypoparathyroidism are notoriously uncharacteristically "
     "antidisestablishmentarian.",
     24, 23},
    {"code_cpp",
     "int main(int argc, char** argv) {\n  for (int i = 0; i < argc; ++i) {\n    "
     "std::printf(\"%s\\n\", argv[i]);\n  }\n  return 0;\n}\n",
     46, 46},
    {"code_py",
     "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - "
     "2)\n\nprint([fib(i) for i in range(10)])\n",
     42, 42},
    {"json",
     "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
     "\"temperature\":0.2,\"max_tokens\":64}",
     32, 33},
    {"numbers", "3.14159265358979 2718281828 1234567890123456789 42 7 100000 0.000001", 32, 32},
    {"digits_long", "12345678901234567890123456789012345678901234567890", 17, 17},
    {"chinese",
     "人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式"
     "做出反应的智能机器。",
     61, 40},
    {"chinese_rare", "魑魅魍魉饕餮麒麟貔貅，龘靐齉爩。", 39, 27},
    {"japanese", "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。", 39, 32},
    {"korean", "안녕하세요. 오늘 날씨가 정말 좋네요. 한국어 토큰화는 어떻게 작동하나요?", 47, 23},
    {"emoji", "I love this 😀🎉🚀 so much 👍🏽 👨‍👩‍👧‍👦", 34, 24},
    {"spaces", "a                                                b", 3, 3},
    {"newlines", "line one\n\n\n\nline two\r\n\tindented\n\n", 10, 10},
    {"russian",
     "Привет, как дела? Это пример текста на русском языке для оценки количества токенов.", 37, 19},
    {"french", "Où est la bibliothèque? Je voudrais acheter des crêpes et du café très chaud.", 24,
     19},
    {"base64",
     "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJgg"
     "g==",
     53, 52},
    {"hex", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 43, 43},
    {"url", "https://example.com/path/to/resource?query=value&other=123#fragment", 16, 16},
    {"punct", "!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}}", 22, 24},
    {"mixed",
     "价格是 $3.50 per 1M tokens（约合人民币25元）。Call GPT-4o via API: POST /v1/chat/completions",
     38, 34},
    {"arabic", "مرحبا بك في عالم الذكاء الاصطناعي", 23, 12},
    {"hindi", "नमस्ते, आप कैसे हैं? यह हिंदी में एक वाक्य है।", 46, 18},
    {"markdown",
     "# Title\n\n- item one\n- item two\n\n```bash\nls -la | grep foo\n```\n\n**bold** and "
     "_italic_ text.",
     32, 32},
    {"uuid_ids", "req_8f14e45fceea167a5a36dedd4bea2543 call_abc123XYZ tool_call_9Kx2LmQp", 37, 36},
    {"poem", "床前明月光，疑是地上霜。举头望明月，低头思故乡。", 34, 25},
    {"trad", "歡迎使用繁體中文，這是一個關於機器學習與資料處理的範例說明。", 49, 27},
    {"zh_tech",
     "在分布式系统中，一致性哈希算法可以减少节点增删时的数据迁移量，常用于缓存集群的负载均衡。", 50,
     34},
    {"zh_classic", "子曰：學而時習之，不亦說乎？有朋自遠方來，不亦樂乎？人不知而不慍，不亦君子乎？",
     57, 37},
    {"zh_names", "诸葛亮、司马懿、曹操、刘备、孙权、关羽、张飞、赵云、黄忠、马超、魏延、姜维。", 61,
     39},
    {"camel", "getUserAccountBalanceForCurrentBillingPeriod XMLHttpRequest parseJSONResponse", 11,
     13},
    {"indent", "                if x:\n                        return y\n", 8, 8},
    {"big_ws",
     "a                                                                                            "
     "                                    b",
     4, 4},
    {"tabs", "a\t\t\t\tb\t\tc", 5, 5},
    {"key", "sk-proj-4f9XkLq2ZpR8vN7mT1bW3yH6jD0cE5aG", 36, 36},
};

TEST(TokenEstimatorTest, NeverUnderCountsMuchAndOverCountsBoundedly) {
  for (const auto& s : kSamples) {
    const int64_t truth = std::max(s.cl100k, s.o200k);
    const int64_t est = EstimateTokens(s.text);
    // Lower bound: at least 90% of the larger true count.
    EXPECT_GE(est * 10, truth * 9) << s.name << " est=" << est << " true=" << truth;
    // Upper bound: at most 2.5x, plus a small constant for tiny strings.
    EXPECT_LE(est * 2, truth * 5 + 8) << s.name << " est=" << est << " true=" << truth;
  }
}

TEST(TokenEstimatorTest, EmptyIsZeroAndSingleWordIsSmall) {
  EXPECT_EQ(EstimateTokens(""), 0);
  EXPECT_GE(EstimateTokens("hi"), 1);
  EXPECT_LE(EstimateTokens("hi"), 2);
}

TEST(TokenEstimatorTest, InvalidUtf8CountsEachBadByte) {
  EXPECT_EQ(EstimateTokens(std::string("\xff\xfe\xfd", 3)), 3);
}

TEST(TokenEstimatorTest, GrowsWithText) {
  const std::string one = "The quick brown fox jumps over the lazy dog. ";
  std::string many;
  for (int i = 0; i < 100; ++i) many += one;
  EXPECT_GE(EstimateTokens(many), 100 * 10);  // cl100k: 10 tokens per repetition
  EXPECT_LE(EstimateTokens(many), 100 * 25);
}

ChatRequest TwoMessages() {
  ChatRequest req;
  req.model = "gpt-4o-mini";
  Message sys;
  sys.role = Role::kSystem;
  sys.content.push_back({PartType::kText, "You are a helpful assistant.", "", "", ""});
  Message user;
  user.role = Role::kUser;
  user.content.push_back(
      {PartType::kText, "What is the capital of France? Answer in one sentence.", "", "", ""});
  req.messages = {sys, user};
  return req;
}

TEST(TokenEstimatorTest, PromptTokensCoverOpenAiCount) {
  // The OpenAI cookbook formula with cl100k counts (6 and 12 text tokens, measured with
  // js-tiktoken): 3 priming + 2 x (4 overhead + text) = 29.
  const int64_t est = EstimatePromptTokens(TwoMessages());
  EXPECT_GE(est, 29);
  EXPECT_LE(est, 29 * 5 / 2);
}

TEST(TokenEstimatorTest, ImagesCostFixedTokensByDetail) {
  ChatRequest req = TwoMessages();
  const int64_t base = EstimatePromptTokens(req);
  req.messages[1].content.push_back({PartType::kImage, "", "https://x/y.png", "high", ""});
  EXPECT_EQ(EstimatePromptTokens(req), base + 765);
  req.messages[1].content.push_back({PartType::kImage, "", "https://x/z.png", "low", ""});
  EXPECT_EQ(EstimatePromptTokens(req), base + 765 + 85);
  req.messages[1].content.push_back({PartType::kImage, "", "data:image/png;base64,AAAA", "", ""});
  EXPECT_EQ(EstimatePromptTokens(req), base + 765 + 85 + 765);
}

TEST(TokenEstimatorTest, PerMessageOverheadAndPriming) {
  ChatRequest req;
  EXPECT_EQ(EstimatePromptTokens(req), 3);
  req.messages.emplace_back();
  EXPECT_EQ(EstimatePromptTokens(req), 3 + 4);
}

TEST(TokenEstimatorTest, ToolDefinitionsAndCallsCount) {
  ChatRequest req = TwoMessages();
  const int64_t base = EstimatePromptTokens(req);
  req.tools = R"([{"type":"function","function":{"name":"get_weather","parameters":{}}}])";
  EXPECT_GT(EstimatePromptTokens(req), base + 10);
}

}  // namespace
}  // namespace modelmux::text
