#include "gateway/key_controls.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace modelmux::gateway {
namespace {

govern::KeyRecord Key(std::optional<int64_t> cap, std::optional<int64_t> default_max) {
  govern::KeyRecord k;
  k.models = {"*"};
  k.max_tokens = cap;
  k.default_max_tokens = default_max;
  return k;
}

// Applies the key to `body` as the gateway does: facts from the body, then the rewrite.
struct Applied {
  std::string body, note;
  std::optional<int64_t> facts_max_tokens;
};
Applied Apply(const govern::KeyRecord& key, std::string_view path, std::string body) {
  RequestFacts facts = ScanFacts(path, body);
  Applied a;
  a.note = ApplyKeyMaxTokens(key, path, body, facts);
  a.body = std::move(body);
  a.facts_max_tokens = facts.max_tokens;
  return a;
}

int64_t Member(const std::string& body, std::string_view name) {
  return boost::json::parse(body).as_object().at(name).as_int64();
}

TEST(KeyControlsTest, ClampsOnlyTopLevelNumbersAndKeepsOtherBytes) {
  std::string body = R"({"model":"m","temperature":0.7,"max_tokens" : 8000,)"
                     R"("metadata":{"max_tokens":9000},"note":"\"max_tokens\":7000"})";
  EXPECT_EQ(ClampTopLevelNumber(body, "max_tokens", 100), 1);
  EXPECT_EQ(body, R"({"model":"m","temperature":0.7,"max_tokens" : 100,)"
                  R"("metadata":{"max_tokens":9000},"note":"\"max_tokens\":7000"})");
  // At or under the cap: seen, left alone.
  EXPECT_EQ(ClampTopLevelNumber(body, "max_tokens", 100), 1);
  EXPECT_EQ(ClampTopLevelNumber(body, "max_tokens", 500), 1);
  EXPECT_NE(body.find("\"max_tokens\" : 100,"), std::string::npos);
  // Absent, null, not an object.
  std::string none = R"({"model":"m"})";
  EXPECT_EQ(ClampTopLevelNumber(none, "max_tokens", 5), 0);
  std::string null_value = R"({"max_tokens":null,"model":"m"})";
  EXPECT_EQ(ClampTopLevelNumber(null_value, "max_tokens", 5), 1);
  EXPECT_EQ(null_value, R"({"max_tokens":null,"model":"m"})");
  EXPECT_EQ(ClampTopLevelNumber(null_value, "max_tokens", 5, true), 1);
  EXPECT_EQ(null_value, R"({"max_tokens":5,"model":"m"})");
  std::string array = "[1,2]";
  EXPECT_EQ(ClampTopLevelNumber(array, "max_tokens", 5), -1);
  // Exponents and huge numbers are above the cap too.
  std::string big = R"({"max_tokens":1e400})";
  EXPECT_EQ(ClampTopLevelNumber(big, "max_tokens", 64), 1);
  EXPECT_EQ(big, R"({"max_tokens":64})");
}

TEST(KeyControlsTest, OpenAiChatClampedToTheKeysCap) {
  const auto k = Key(2000, std::nullopt);
  auto a = Apply(k, "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":8000})");
  EXPECT_EQ(a.note, "8000->2000");
  EXPECT_EQ(Member(a.body, "max_tokens"), 2000);
  EXPECT_EQ(a.facts_max_tokens, 2000);  // what the reservation counts on
  // max_completion_tokens (the newer name) too; a smaller max_tokens beside it stays.
  auto b = Apply(k, "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":"hi"}],)"
                 R"("max_tokens":50,"max_completion_tokens":4096})");
  EXPECT_EQ(b.note, "4096->2000");
  EXPECT_EQ(Member(b.body, "max_completion_tokens"), 2000);
  EXPECT_EQ(Member(b.body, "max_tokens"), 50);
  // Under the cap: untouched, no note.
  const std::string under =
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":10})";
  auto c = Apply(k, "/v1/chat/completions", under);
  EXPECT_EQ(c.note, "");
  EXPECT_EQ(c.body, under);
}

TEST(KeyControlsTest, EscapedMemberNamesAreClampedThroughTheParser) {
  const auto k = Key(100, std::nullopt);
  auto a = Apply(k, "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":"hi"}],)"
                 R"("max\u005ftokens":5000})");
  EXPECT_EQ(a.note, "5000->100");
  EXPECT_EQ(Member(a.body, "max_tokens"), 100);
}

TEST(KeyControlsTest, DefaultFillsAbsentInBothDialects) {
  const auto k = Key(2000, 300);
  auto a = Apply(k, "/v1/chat/completions",
                 R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(a.note, "");
  EXPECT_EQ(Member(a.body, "max_tokens"), 300);
  EXPECT_EQ(a.facts_max_tokens, 300);
  auto b = Apply(k, "/v1/messages", R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(Member(b.body, "max_tokens"), 300);
  auto c = Apply(k, "/v1/messages",
                 R"({"model":"m","max_tokens":9000,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(c.note, "9000->2000");
  EXPECT_EQ(Member(c.body, "max_tokens"), 2000);
  // null counts as absent: it takes the default (never a way around the cap).
  auto d = Apply(k, "/v1/chat/completions",
                 R"({"model":"m","max_tokens":null,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(Member(d.body, "max_tokens"), 300);
  // No default: the cap fills in.
  auto e = Apply(Key(700, std::nullopt), "/v1/completions", R"({"model":"m","prompt":"p"})");
  EXPECT_EQ(Member(e.body, "max_tokens"), 700);
}

TEST(KeyControlsTest, OtherRoutesAndKeysWithoutControlsAreLeftAlone) {
  const std::string body = R"({"model":"m","input":"x","max_tokens":99999})";
  auto a = Apply(Key(10, 5), "/v1/embeddings", body);
  EXPECT_EQ(a.body, body);
  EXPECT_EQ(a.note, "");
  auto b = Apply(Key(10, 5), "/v1/messages/count_tokens", body);
  EXPECT_EQ(b.body, body);
  const std::string chat = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
  auto c = Apply(Key(std::nullopt, std::nullopt), "/v1/chat/completions", chat);
  EXPECT_EQ(c.body, chat);
  EXPECT_EQ(c.facts_max_tokens, std::nullopt);
}

}  // namespace
}  // namespace modelmux::gateway
