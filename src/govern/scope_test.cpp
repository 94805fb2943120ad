#include "govern/scope.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace modelmux::govern {
namespace {

const Timestamp kNow{std::chrono::seconds(1'800'000'000)};

boost::json::object Obj(std::string_view text) {
  return boost::json::parse(text).as_object();
}

KeyRecord Key(std::vector<std::string> models, std::vector<Task> tasks) {
  KeyRecord k;
  k.models = std::move(models);
  k.tasks = std::move(tasks);
  return k;
}

TEST(ScopeTest, ModelGlobs) {
  const KeyRecord k = Key({"gpt-4o*", "sim/*"}, {Task::kText});
  EXPECT_TRUE(ModelAllowed(k, "gpt-4o-mini"));
  EXPECT_TRUE(ModelAllowed(k, "sim/echo"));
  EXPECT_FALSE(ModelAllowed(k, "gpt-5"));
  EXPECT_FALSE(ModelAllowed(k, "claude-sonnet-4-5"));
  // An alias the key does not name is allowed when it resolves to a model the key names.
  EXPECT_TRUE(ModelAllowed(k, "fast", "sim/echo"));
  EXPECT_FALSE(ModelAllowed(k, "fast", "openai/gpt-5"));
}

TEST(ScopeTest, RefusalsNameTheReason) {
  const KeyRecord k = Key({"sim/*"}, {Task::kText});
  auto model = CheckScope(k, {"gpt-5", "", Task::kText, std::nullopt});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().code, "model_not_allowed");
  EXPECT_EQ(model.error().HttpStatus(), 403);
  auto vision = CheckScope(k, {"sim/echo", "", Task::kVision, std::nullopt});
  ASSERT_FALSE(vision.ok());
  EXPECT_EQ(vision.error().code, "task_not_allowed");
  EXPECT_NE(vision.error().message.find("vision"), std::string::npos);
  EXPECT_TRUE(CheckScope(k, {"sim/echo", "", Task::kText, std::nullopt}).ok());
}

TEST(ScopeTest, MaxTokensCapClampsAboveAndFillsAbsent) {
  KeyRecord k = Key({"*"}, {Task::kText});
  k.max_tokens = 100;
  // Above the cap is no longer a refusal: the scope allows it and the value is clamped.
  EXPECT_TRUE(CheckScope(k, {"m", "", Task::kText, 101}).ok());
  const auto over = KeyMaxTokens(k, 101);
  EXPECT_EQ(over.value, 100);
  EXPECT_TRUE(over.clamped);
  EXPECT_FALSE(over.filled);
  const auto at = KeyMaxTokens(k, 100);
  EXPECT_EQ(at.value, 100);
  EXPECT_FALSE(at.clamped);
  const auto under = KeyMaxTokens(k, 50);
  EXPECT_EQ(under.value, 50);
  EXPECT_FALSE(under.clamped);
  // No default: a request without max_tokens gets the cap.
  const auto absent = KeyMaxTokens(k, std::nullopt);
  EXPECT_EQ(absent.value, 100);
  EXPECT_TRUE(absent.filled);
  EXPECT_FALSE(absent.clamped);
  EXPECT_EQ(EffectiveMaxTokens(k, std::nullopt), 100);
  EXPECT_EQ(EffectiveMaxTokens(k, 50), 50);
  EXPECT_EQ(EffectiveMaxTokens(k, 7000), 100);
  k.max_tokens.reset();
  EXPECT_EQ(EffectiveMaxTokens(k, std::nullopt), std::nullopt);
  EXPECT_FALSE(KeyMaxTokens(k, std::nullopt).filled);
  EXPECT_EQ(KeyMaxTokens(k, 123456).value, 123456);
  EXPECT_FALSE(KeyMaxTokens(k, 123456).clamped);
}

TEST(ScopeTest, DefaultMaxTokensFillsAbsentOnly) {
  KeyRecord k = Key({"*"}, {Task::kText});
  k.default_max_tokens = 30;
  EXPECT_EQ(KeyMaxTokens(k, std::nullopt).value, 30);
  EXPECT_TRUE(KeyMaxTokens(k, std::nullopt).filled);
  EXPECT_EQ(KeyMaxTokens(k, 9999).value, 9999);  // no cap: the caller's own value stands
  k.max_tokens = 200;
  EXPECT_EQ(KeyMaxTokens(k, std::nullopt).value, 30);  // the default, not the cap
  EXPECT_EQ(KeyMaxTokens(k, 300).value, 200);
  k.default_max_tokens = 500;  // a stored default above the cap still never exceeds it
  EXPECT_EQ(KeyMaxTokens(k, std::nullopt).value, 200);
}

TEST(ScopeTest, DefaultMaxTokensAndContextAttributes) {
  auto k = ApplyAttributes(
      Obj(R"({"models":["a*"],"max_tokens":100,"default_max_tokens":40,"context":"术语表"})"), {},
      true, kNow);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->max_tokens, 100);
  EXPECT_EQ(k->default_max_tokens, 40);
  EXPECT_EQ(k->context, "术语表");
  // PATCH: a default above the (stored) cap is refused, naming the field.
  auto bad = ApplyAttributes(Obj(R"({"default_max_tokens":101})"), *k, false, kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "default_max_tokens");
  EXPECT_EQ(bad.error().HttpStatus(), 400);
  // Lowering the cap below the stored default is refused too, naming the cap.
  auto low = ApplyAttributes(Obj(R"({"max_tokens":39})"), *k, false, kNow);
  ASSERT_FALSE(low.ok());
  EXPECT_EQ(low.error().param, "max_tokens");
  // null clears both.
  auto cleared =
      ApplyAttributes(Obj(R"({"default_max_tokens":null,"context":null})"), *k, false, kNow);
  ASSERT_TRUE(cleared.ok()) << cleared.error().message;
  EXPECT_FALSE(cleared->default_max_tokens.has_value());
  EXPECT_TRUE(cleared->context.empty());
  EXPECT_EQ(cleared->max_tokens, 100);
  // The context is bounded: 32 KiB is accepted, one byte more is not.
  boost::json::object big;
  big["context"] = std::string(kMaxKeyContextBytes, 'x');
  EXPECT_TRUE(ApplyAttributes(big, *k, false, kNow).ok());
  big["context"] = std::string(kMaxKeyContextBytes + 1, 'x');
  auto over = ApplyAttributes(big, *k, false, kNow);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().param, "context");
  EXPECT_FALSE(ApplyAttributes(Obj(R"({"context":5})"), *k, false, kNow).ok());
  EXPECT_FALSE(ApplyAttributes(Obj(R"({"default_max_tokens":0})"), *k, false, kNow).ok());
  EXPECT_FALSE(ApplyAttributes(Obj(R"({"default_max_tokens":-3})"), *k, false, kNow).ok());
}

TEST(ScopeTest, CreationDefaultsToTextOnNamedModels) {
  auto k = ApplyAttributes(Obj(R"({"name":"a","models":["sim/*"]})"), {}, true, kNow);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->tasks, std::vector<Task>{Task::kText});
  EXPECT_EQ(k->models, std::vector<std::string>{"sim/*"});
  EXPECT_FALSE(k->max_tokens.has_value());
  EXPECT_EQ(k->rpm, 0u);
  EXPECT_FALSE(k->budgets.any());
  EXPECT_TRUE(k->ip_allowlist.empty());
  EXPECT_FALSE(CheckScope(*k, {"sim/echo", "", Task::kEmbeddings, std::nullopt}).ok());
  EXPECT_FALSE(CheckScope(*k, {"other/x", "", Task::kText, std::nullopt}).ok());
}

TEST(ScopeTest, CreationNeedsModels) {
  auto k = ApplyAttributes(Obj(R"({"name":"a"})"), {}, true, kNow);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().param, "models");
}

TEST(ScopeTest, AllAttributes) {
  auto k = ApplyAttributes(Obj(R"({"models":["a*"],"tasks":["text","vision","usage-read"],
      "max_tokens":256,"rpm":60,"tpm":1000,
      "budgets":{"daily":"0.01","monthly":2,"total":0.5,"currency":"CNY"},
      "expires_in":3600,"ip_allowlist":["10.0.0.0/8","::1"],"tags":["x"]})"),
                           {}, true, kNow);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->tasks.size(), 3u);
  EXPECT_EQ(k->max_tokens, 256);
  EXPECT_EQ(k->rpm, 60u);
  EXPECT_EQ(k->tpm, 1000u);
  EXPECT_EQ(k->budgets.daily_micros, 10'000);
  EXPECT_EQ(k->budgets.monthly_micros, 2'000'000);
  EXPECT_EQ(k->budgets.total_micros, 500'000);
  EXPECT_EQ(k->budgets.currency, telemetry::Currency::kCny);
  EXPECT_EQ(k->expires, kNow + std::chrono::seconds(3600));
  EXPECT_TRUE(k->Expired(kNow + std::chrono::seconds(3600)));
  EXPECT_FALSE(k->Expired(kNow));
  EXPECT_EQ(k->ip_allowlist.size(), 2u);
  EXPECT_EQ(k->tags, std::vector<std::string>{"x"});
}

TEST(ScopeTest, PatchChangesOnlyNamedFieldsAndNullClears) {
  auto k = ApplyAttributes(Obj(R"({"models":["a*"],"max_tokens":10,"rpm":5})"), {}, true, kNow);
  ASSERT_TRUE(k.ok());
  auto p = ApplyAttributes(Obj(R"({"max_tokens":null,"tpm":7})"), *k, false, kNow);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->max_tokens.has_value());
  EXPECT_EQ(p->rpm, 5u);
  EXPECT_EQ(p->tpm, 7u);
  EXPECT_EQ(p->models, k->models);
}

TEST(ScopeTest, BadAttributesAreRefused) {
  for (const char* bad :
       {R"({"models":["a"],"tasks":["admin"]})", R"({"models":"a"})",
        R"({"models":["a"],"rpm":-1})", R"({"models":["a"],"revoked":false})",
        R"({"models":["a"],"ip_allowlist":["nope"]})",
        R"({"models":["a"],"budgets":{"daily":"0.0000001"}})",
        R"({"models":["a"],"budgets":{"currency":"EUR"}})", R"({"models":["a"],"max_tokens":0})"}) {
    auto k = ApplyAttributes(Obj(bad), {}, true, kNow);
    EXPECT_FALSE(k.ok()) << bad;
    if (!k.ok()) {
      EXPECT_EQ(k.error().HttpStatus(), 400) << bad;
    }
  }
}

}  // namespace
}  // namespace modelmux::govern
