#include "sim/text_gen.hpp"

#include <gtest/gtest.h>

#include "sim/limits.hpp"
#include "sim/routes.hpp"

namespace modelmux::sim {
namespace {

std::string Concat(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& p : v) s += p;
  return s;
}

TEST(TextGenTest, CountTokensIsCeilBytesOverFour) {
  EXPECT_EQ(CountTokens(""), 0);
  EXPECT_EQ(CountTokens("a"), 1);
  EXPECT_EQ(CountTokens("abcd"), 1);
  EXPECT_EQ(CountTokens("abcde"), 2);
  EXPECT_EQ(CountTokens("你好"), 2);  // 6 bytes
}

TEST(TextGenTest, SplitPiecesIsLosslessWordsAndCjkChars) {
  EXPECT_EQ(SplitPieces("hello there  world"),
            (std::vector<std::string>{"hello", " there", "  world"}));
  EXPECT_EQ(SplitPieces("  lead"), (std::vector<std::string>{"  lead"}));
  EXPECT_EQ(SplitPieces("ab你好 c"), (std::vector<std::string>{"ab", "你", "好", " c"}));
  EXPECT_TRUE(SplitPieces("").empty());
  for (std::string_view s : {"x", "a\nb\tc ", "混合 text 和中文。", "trailing "}) {
    EXPECT_EQ(Concat(SplitPieces(s)), s);
  }
}

TEST(TextGenTest, GeneratePiecesIsDeterministic) {
  auto a = GeneratePieces(7, 10, false, true);
  EXPECT_EQ(a, GeneratePieces(7, 10, false, true));
  EXPECT_NE(a, GeneratePieces(8, 10, false, true));
  ASSERT_EQ(a.size(), 10u);
  EXPECT_NE(a[0][0], ' ');
  for (size_t i = 1; i < a.size(); ++i) EXPECT_EQ(a[i][0], ' ');
  EXPECT_EQ(a.back().back(), '.');
  // Pieces re-split into the same number of pieces, so echoing generated text keeps the count.
  EXPECT_EQ(SplitPieces(Concat(a)).size(), a.size());
  EXPECT_FALSE(ContainsCjk(Concat(a)));
  EXPECT_TRUE(ContainsCjk(Concat(GeneratePieces(7, 20, true, false))));
}

TEST(TextGenTest, SplitFragmentsKeepsCodePoints) {
  auto f = SplitFragments(R"({"query":"你好"})", 3);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(Concat(f), R"({"query":"你好"})");
  EXPECT_EQ(SplitFragments("ab", 5).size(), 2u);
  auto cjk = SplitFragments("你好吗", 3);
  EXPECT_EQ(cjk, (std::vector<std::string>{"你", "好", "吗"}));
}

TEST(TextGenTest, Base64KnownVectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(LimitsTest, GoDurations) {
  using std::chrono::milliseconds;
  EXPECT_EQ(FormatGoDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatGoDuration(milliseconds(17)), "17ms");
  EXPECT_EQ(FormatGoDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatGoDuration(milliseconds(60000)), "1m0s");
  EXPECT_EQ(FormatGoDuration(milliseconds(6 * 60000 + 1250)), "6m1.25s");
  EXPECT_EQ(FormatGoDuration(milliseconds(3600000 + 2000)), "1h0m2s");
}

TEST(LimitsTest, FailDeciderSpreadsEvenly) {
  FailDecider d(std::nullopt);
  std::string pattern;
  for (int i = 0; i < 10; ++i) pattern += d.Next(0.3) ? 'F' : '.';
  EXPECT_EQ(pattern, "...F..F..F");
  d.Reset();
  int fails = 0;
  for (int i = 0; i < 1000; ++i) fails += d.Next(0.25);
  EXPECT_EQ(fails, 250);
  EXPECT_FALSE(d.Next(0));
  EXPECT_TRUE(d.Next(1));
}

TEST(LimitsTest, RateWindowsRefuseWithoutConsuming) {
  using namespace std::chrono_literals;
  RateWindows w(2, 0, 10s);
  auto t = std::chrono::steady_clock::time_point(25s);
  EXPECT_TRUE(w.Admit(t, 0).allowed);
  RateDecision second = w.Admit(t, 0);
  EXPECT_TRUE(second.allowed);
  EXPECT_EQ(second.remaining_requests, 0);
  EXPECT_EQ(second.reset_in, 5000ms);
  EXPECT_FALSE(w.Admit(t + 4s, 0).allowed);
  EXPECT_TRUE(w.Admit(t + 5s, 0).allowed);  // window [30s, 40s)
}

TEST(RoutesTest, MatchesPrefixesAndAzure) {
  EXPECT_EQ(MatchRoute("/v1/chat/completions").kind, RouteKind::kChat);
  EXPECT_EQ(MatchRoute("/v1/completions").kind, RouteKind::kCompletions);
  EXPECT_EQ(MatchRoute("/v1/embeddings").kind, RouteKind::kEmbeddings);
  EXPECT_EQ(MatchRoute("/deepseek/chat/completions").kind, RouteKind::kChat);
  EXPECT_EQ(MatchRoute("/zhipu/api/paas/v4/chat/completions").kind, RouteKind::kChat);
  EXPECT_EQ(MatchRoute("/qianfan/v2/chat/completions").kind, RouteKind::kChat);
  Route m = MatchRoute("/v1/models/sim/echo");
  EXPECT_EQ(m.kind, RouteKind::kModel);
  EXPECT_EQ(m.id, "sim/echo");
  Route az = MatchRoute("/azure/openai/deployments/my-dep/chat/completions");
  EXPECT_EQ(az.kind, RouteKind::kChat);
  EXPECT_EQ(az.deployment, "my-dep");
  EXPECT_EQ(MatchRoute("/azure/openai/deployments//chat/completions").kind, RouteKind::kUnknown);
  EXPECT_EQ(MatchRoute("/v2/chat/completions").kind, RouteKind::kUnknown);
  EXPECT_EQ(MatchRoute("/v1/chat").kind, RouteKind::kUnknown);
}

}  // namespace
}  // namespace modelmux::sim
