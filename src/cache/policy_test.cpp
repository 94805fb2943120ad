#include "cache/policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace modelmux::cache {
namespace {

using std::chrono::seconds;

ChatRequest Deterministic() {
  ChatRequest r;
  r.model = "m";
  r.temperature = 0.0;
  return r;
}

CachePolicy Decide(const ChatRequest& r, const CacheConfig& c = {}, std::string_view cc = "",
                   std::string_view ttl = "", std::string_view ns = "",
                   std::string_view tenant = "tenant-a") {
  Result<CachePolicy> p = DecidePolicy(r, c, cc, ttl, ns, tenant);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
  return p.ok() ? *p : CachePolicy{};
}

Error DecideError(const ChatRequest& r, std::string_view ttl = "", std::string_view ns = "") {
  Result<CachePolicy> p = DecidePolicy(r, CacheConfig{}, "", ttl, ns, "t");
  EXPECT_FALSE(p.ok());
  return p.ok() ? Error{} : p.error();
}

TEST(DecidePolicy, DeterministicRequestIsLookedUpAndStoredWithDefaultTtl) {
  CachePolicy p = Decide(Deterministic());
  EXPECT_TRUE(p.lookup);
  EXPECT_TRUE(p.store);
  EXPECT_EQ(p.ttl, seconds(3600));
  EXPECT_EQ(p.reason, "");
  EXPECT_EQ(p.scope, "tenant-a");
  EXPECT_FALSE(p.max_age.has_value());
}

TEST(DecidePolicy, AutoModeNeedsTemperatureZeroOrSeed) {
  ChatRequest r;
  CachePolicy p = Decide(r);  // temperature absent: the provider's default, not 0
  EXPECT_TRUE(p.bypass());
  EXPECT_EQ(p.reason, kReasonNondeterministic);

  r.temperature = 0.7;
  EXPECT_TRUE(Decide(r).bypass());

  r.seed = 42;  // a seed makes it cacheable at any temperature
  p = Decide(r);
  EXPECT_TRUE(p.lookup && p.store);
}

TEST(DecidePolicy, MultipleChoicesNeedTemperatureZeroInAutoMode) {
  ChatRequest r;
  r.seed = 1;
  r.n = 3;
  r.temperature = 0.5;
  CachePolicy p = Decide(r);
  EXPECT_TRUE(p.bypass());
  EXPECT_EQ(p.reason, kReasonMultipleChoices);

  r.temperature.reset();  // absent temperature is not zero
  EXPECT_EQ(Decide(r).reason, kReasonMultipleChoices);

  r.temperature = 0.0;
  EXPECT_FALSE(Decide(r).bypass());

  CacheConfig always;
  always.mode = "always";
  r.temperature = 0.5;
  EXPECT_FALSE(Decide(r, always).bypass());
}

TEST(DecidePolicy, ConfigModes) {
  ChatRequest nondeterministic;
  nondeterministic.temperature = 1.0;
  CacheConfig c;
  c.mode = "always";
  EXPECT_TRUE(Decide(nondeterministic, c).lookup);
  c.mode = "never";
  EXPECT_EQ(Decide(Deterministic(), c).reason, kReasonModeNever);
  EXPECT_TRUE(Decide(Deterministic(), c).bypass());
  c.mode = "auto";
  c.enabled = false;
  EXPECT_EQ(Decide(Deterministic(), c).reason, kReasonDisabled);
  EXPECT_TRUE(Decide(Deterministic(), c).bypass());
}

TEST(DecidePolicy, CacheControlDirectives) {
  ChatRequest r = Deterministic();
  CachePolicy p = Decide(r, {}, "no-cache");
  EXPECT_FALSE(p.lookup);
  EXPECT_TRUE(p.store);
  EXPECT_EQ(p.reason, kReasonNoCache);

  p = Decide(r, {}, "no-store");
  EXPECT_TRUE(p.lookup);
  EXPECT_FALSE(p.store);
  EXPECT_EQ(p.reason, kReasonNoStore);

  p = Decide(r, {}, " No-Store , NO-CACHE ");
  EXPECT_TRUE(p.bypass());
  EXPECT_EQ(p.reason, kReasonCacheControl);

  p = Decide(r, {}, "max-age=0");
  EXPECT_FALSE(p.lookup);
  EXPECT_TRUE(p.store);

  p = Decide(r, {}, "max-age=\"120\", private");
  EXPECT_TRUE(p.lookup && p.store);
  ASSERT_TRUE(p.max_age.has_value());
  EXPECT_EQ(*p.max_age, seconds(120));

  p = Decide(r, {}, "max-age=abc, must-revalidate");  // ignored
  EXPECT_TRUE(p.lookup && p.store);
  EXPECT_FALSE(p.max_age.has_value());
}

TEST(DecidePolicy, TtlHeaderOverridesBodyAndConfigAndIsClamped) {
  ChatRequest r = Deterministic();
  CacheConfig c;
  c.ttl = seconds(100);
  c.max_ttl = seconds(1000);
  EXPECT_EQ(Decide(r, c).ttl, seconds(100));
  EXPECT_EQ(Decide(r, c, "", "60").ttl, seconds(60));
  EXPECT_EQ(Decide(r, c, "", "5000").ttl, seconds(1000));
  EXPECT_EQ(Decide(r, c, "", "99999999999999999999999").ttl, seconds(1000));

  r.extra = R"({"cache":{"ttl":30}})";
  EXPECT_EQ(Decide(r, c).ttl, seconds(30));
  EXPECT_EQ(Decide(r, c, "", "45").ttl, seconds(45));  // header over body
}

TEST(DecidePolicy, TtlZeroMeansDoNotStore) {
  CachePolicy p = Decide(Deterministic(), {}, "", "0");
  EXPECT_TRUE(p.lookup);
  EXPECT_FALSE(p.store);
  EXPECT_EQ(p.reason, kReasonTtlZero);
}

TEST(DecidePolicy, BadTtlNamesTheHeader) {
  for (std::string_view bad : {"abc", "-5", "1.5", "10s"}) {
    Error e = DecideError(Deterministic(), bad);
    EXPECT_EQ(e.kind, ErrorKind::kInvalidRequest) << bad;
    EXPECT_EQ(e.param, "x-modelmux-cache-ttl") << bad;
  }
  ChatRequest r = Deterministic();
  r.extra = R"({"cache":{"ttl":-1}})";
  EXPECT_EQ(DecideError(r).param, "cache.ttl");
  r.extra = R"({"cache":{"ttl":"60"}})";
  EXPECT_EQ(DecideError(r).param, "cache.ttl");
}

TEST(DecidePolicy, NamespaceIsCombinedWithTheTenant) {
  ChatRequest r = Deterministic();
  CachePolicy p = Decide(r, {}, "", "", "team-x");
  EXPECT_EQ(p.ns, "team-x");
  EXPECT_EQ(p.scope, "tenant-a/team-x");

  p = Decide(r, {}, "", "", "team-x", "");  // no tenant: the namespace is the scope
  EXPECT_EQ(p.scope, "team-x");

  r.extra = R"({"cache":{"namespace":"body-ns"}})";
  EXPECT_EQ(Decide(r).ns, "body-ns");
  EXPECT_EQ(Decide(r, {}, "", "", "header-ns").ns, "header-ns");  // header over body
}

TEST(DecidePolicy, BadNamespaceNamesTheHeader) {
  const std::string too_long(65, 'a');
  const std::vector<std::string_view> bads = {"a/b", "has space", std::string_view("x\0y", 3),
                                              too_long};
  for (std::string_view bad : bads) {
    Error e = DecideError(Deterministic(), "", bad);
    EXPECT_EQ(e.kind, ErrorKind::kInvalidRequest);
    EXPECT_EQ(e.param, "x-modelmux-cache-namespace");
  }
  ChatRequest r = Deterministic();
  r.extra = R"({"cache":{"namespace":""}})";
  EXPECT_EQ(DecideError(r).param, "cache.namespace");
}

TEST(DecidePolicy, BodyModeOverridesConfigButNotNeverOrDisabled) {
  ChatRequest r;
  r.temperature = 0.9;
  r.extra = R"({"cache":{"mode":"always"},"top_k":3})";
  EXPECT_FALSE(Decide(r).bypass());

  CacheConfig never;
  never.mode = "never";
  EXPECT_TRUE(Decide(r, never).bypass());

  ChatRequest opt_out = Deterministic();
  opt_out.extra = R"({"cache":{"mode":"never"}})";
  CachePolicy p = Decide(opt_out);
  EXPECT_TRUE(p.bypass());
  EXPECT_EQ(p.reason, kReasonModeNever);

  r.extra = R"({"cache":{"mode":"sometimes"}})";
  EXPECT_EQ(DecideError(r).param, "cache.mode");
  r.extra = R"({"cache":{"colour":"red"}})";
  EXPECT_EQ(DecideError(r).param, "cache.colour");
  r.extra = R"({"cache":true})";
  EXPECT_EQ(DecideError(r).param, "cache");
}

TEST(DecidePolicy, TtlIsClampedEvenWhenBypassed) {
  CacheConfig c;
  c.enabled = false;
  c.max_ttl = seconds(10);
  CachePolicy p = Decide(Deterministic(), c, "", "100");
  EXPECT_TRUE(p.bypass());
  EXPECT_EQ(p.ttl, seconds(10));
}

}  // namespace
}  // namespace modelmux::cache
