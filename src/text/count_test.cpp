#include "text/count.hpp"

#include <gtest/gtest.h>

#include "text/tiktoken.hpp"
#include "text/token_estimator.hpp"

namespace modelmux::text {
namespace {

Message Text(Role role, std::string text, std::string name = {}) {
  Message m;
  m.role = role;
  m.content.push_back(ContentPart{PartType::kText, std::move(text), {}, {}, {}});
  m.name = std::move(name);
  return m;
}

size_t O200kSize(std::string_view s) {
  return GetTokenizer(Encoding::kO200kBase).Encode(s).size();
}

TEST(CountTextTest, KnownOpenAiModelsAreExact) {
  // "hello world" is [24912, 2375] in o200k_base and [15339, 1917] in cl100k_base.
  TokenCount c = CountText("gpt-4o", "hello world");
  EXPECT_EQ(c.tokens, 2);
  EXPECT_TRUE(c.exact);
  EXPECT_EQ(c.encoding, "o200k_base");

  c = CountText("gpt-4", "tiktoken is great!");  // 6 tokens in OpenAI's README
  EXPECT_EQ(c.tokens, 6);
  EXPECT_TRUE(c.exact);
  EXPECT_EQ(c.encoding, "cl100k_base");
}

TEST(CountTextTest, ProviderPrefixIsStripped) {
  for (std::string_view model :
       {"openai/gpt-4o", "azure/gpt-4o-mini", "openrouter/openai/gpt-4o"}) {
    TokenCount c = CountText(model, "hello world");
    EXPECT_EQ(c.tokens, 2) << model;
    EXPECT_TRUE(c.exact) << model;
    EXPECT_EQ(c.encoding, "o200k_base") << model;
  }
  EXPECT_EQ(StripProviderPrefix("gpt-4o"), "gpt-4o");
  EXPECT_EQ(StripProviderPrefix("dashscope/qwen-plus"), "qwen-plus");
}

TEST(CountTextTest, OtherModelsAreEstimated) {
  const std::string text = "今天天气很好。我们去公园吧！";
  for (std::string_view model : {"qwen-plus", "dashscope/qwen-max", "claude-sonnet-4-5", ""}) {
    TokenCount c = CountText(model, text);
    EXPECT_FALSE(c.exact) << model;
    EXPECT_EQ(c.encoding, "estimate") << model;
    EXPECT_EQ(c.tokens, EstimateTokens(text)) << model;
    EXPECT_GT(c.tokens, 0) << model;
  }
  EXPECT_EQ(CountText("qwen-plus", "").tokens, 0);
}

TEST(CountPromptTest, TwoTextMessagesFollowOpenAiRecipe) {
  ChatRequest req;
  req.messages.push_back(Text(Role::kSystem, "You are a helpful assistant."));
  req.messages.push_back(Text(Role::kUser, "hello world"));
  // Token sizes, checked against the tokenizer so the arithmetic below rests on them.
  ASSERT_EQ(O200kSize("system"), 1u);
  ASSERT_EQ(O200kSize("user"), 1u);
  ASSERT_EQ(O200kSize("You are a helpful assistant."), 6u);
  ASSERT_EQ(O200kSize("hello world"), 2u);
  // (3 + 1 + 6) + (3 + 1 + 2) + 3 for the reply priming.
  TokenCount c = CountPrompt("gpt-4o", req);
  EXPECT_EQ(c.tokens, 19);
  EXPECT_TRUE(c.exact);
  EXPECT_EQ(c.encoding, "o200k_base");
}

TEST(CountPromptTest, NameCostsItsTokensPlusOne) {
  ChatRequest req;
  req.messages.push_back(Text(Role::kUser, "hello world", "bob"));
  ASSERT_EQ(O200kSize("bob"), 1u);
  // 3 + role 1 + content 2 + name 1 + 1 per name, + 3.
  TokenCount c = CountPrompt("openai/gpt-4o-mini", req);
  EXPECT_EQ(c.tokens, 11);
  EXPECT_TRUE(c.exact);
}

TEST(CountPromptTest, ImagesAndToolsAreApproximate) {
  ChatRequest req;
  Message m = Text(Role::kUser, "hello world");
  m.content.push_back(ContentPart{PartType::kImage, {}, "https://example.com/a.png", "low", {}});
  req.messages.push_back(m);
  TokenCount c = CountPrompt("gpt-4o", req);
  EXPECT_EQ(c.tokens, 3 + 1 + 2 + 85 + 3);
  EXPECT_FALSE(c.exact);
  EXPECT_EQ(c.encoding, "o200k_base");

  ChatRequest tools;
  tools.messages.push_back(Text(Role::kUser, "hello world"));
  const int64_t plain = CountPrompt("gpt-4o", tools).tokens;
  tools.tools = R"([{"type":"function","function":{"name":"get_weather","parameters":{}}}])";
  c = CountPrompt("gpt-4o", tools);
  EXPECT_EQ(c.tokens, plain + static_cast<int64_t>(O200kSize(tools.tools)));
  EXPECT_FALSE(c.exact);

  ChatRequest calls;
  Message a;
  a.role = Role::kAssistant;
  a.tool_calls.push_back(ToolCall{"call_1", "get_weather", R"({"city":"北京"})"});
  calls.messages.push_back(a);
  c = CountPrompt("gpt-4o", calls);
  EXPECT_GT(c.tokens, 3 + 1 + 3 + 5);  // framing, role, priming and at least the call's text
  EXPECT_FALSE(c.exact);
}

TEST(CountPromptTest, OtherModelsUseTheEstimator) {
  ChatRequest req;
  req.messages.push_back(Text(Role::kSystem, "你是一个有用的助手。"));
  req.messages.push_back(Text(Role::kUser, "今天北京的天气怎么样？"));
  TokenCount c = CountPrompt("qwen-plus", req);
  EXPECT_FALSE(c.exact);
  EXPECT_EQ(c.encoding, "estimate");
  EXPECT_EQ(c.tokens, EstimatePromptTokens(req));
  // The estimator is conservative: not below the exact OpenAI count of the same chat.
  EXPECT_GE(c.tokens, CountPrompt("gpt-4o", req).tokens);
}

}  // namespace
}  // namespace modelmux::text
