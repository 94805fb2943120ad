// Conditional pipelines by virtual key: `key_tag` / `key_tags_any` conditions, the tier a key's
// "tier:<name>" tag binds (it wins over the x-modelmux-tier header), and the Redis client that
// router.shared_limits gets (routing/shared_limits.hpp).

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "routing/pipeline.hpp"
#include "routing/pipeline_run.hpp"
#include "routing/router.hpp"
#include "routing/shared_limits.hpp"

namespace modelmux::routing {
namespace {

EnvLookup NoEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

// Two providers nobody listens on: a call's error names the provider the route chose.
constexpr std::string_view kProviders =
    "router:\n"
    "  num_retries: 0\n"
    "providers:\n"
    "  basic:\n"
    "    type: openai\n"
    "    base_url: http://127.0.0.1:1/v1\n"
    "    api_key: k\n"
    "  premium:\n"
    "    type: openai\n"
    "    base_url: http://127.0.0.1:1/v1\n"
    "    api_key: k\n";

Result<std::shared_ptr<const Config>> Parse(std::string_view more) {
  return ParseConfig(std::string(kProviders) + std::string(more), NoEnv(), "test.yaml");
}

// The error's key path, or "<ok>" when the config parses and validates.
std::string FailurePath(std::string_view more) {
  auto r = Parse(more);
  if (!r.ok()) return r.error().param;
  Status s = ValidateConfig(**r);
  return s.ok() ? "<ok>" : s.error().param;
}

std::string Conditional(std::string_view when) {
  return "pipelines:\n"
         "  - name: auto\n"
         "    kind: conditional\n"
         "    routes:\n"
         "      - when: " +
         std::string(when) +
         "\n"
         "        model: premium/m\n"
         "      - model: basic/m\n";
}

ChatRequest Hello() {
  ChatRequest r;
  r.model = "auto";
  Message m;
  m.role = Role::kUser;
  ContentPart p;
  p.text = "hello";
  m.content.push_back(std::move(p));
  r.messages.push_back(std::move(m));
  return r;
}

std::vector<std::string> Tags(std::initializer_list<std::string> tags) {
  return tags;
}

// ---- config -----------------------------------------------------------------------------------

TEST(PipelineKeysConfigTest, KeyTagIsAOneTagList) {
  auto r = Parse(Conditional("{key_tag: team-a}"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Pipeline* p = (*r)->FindPipeline("auto");
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(p->routes.at(0).when.has_value());
  EXPECT_EQ(p->routes[0].when->key_tags_any, Tags({"team-a"}));
  EXPECT_FALSE(p->routes[1].when.has_value());
}

TEST(PipelineKeysConfigTest, KeyTagsAnyKeepsEveryTagInOrder) {
  auto r = Parse(Conditional("{key_tags_any: [b, a], tier: gold}"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const PipelineCondition& when = *(*r)->FindPipeline("auto")->routes.at(0).when;
  EXPECT_EQ(when.key_tags_any, Tags({"b", "a"}));
  EXPECT_EQ(when.tier, "gold");
}

TEST(PipelineKeysConfigTest, RefusesBadKeyTagConditionsNamingTheKey) {
  const std::string at = "pipelines[0].routes[0].when.";
  EXPECT_EQ(FailurePath(Conditional("{key_tag: a, key_tags_any: [b]}")), at + "key_tags_any");
  EXPECT_EQ(FailurePath(Conditional("{key_tags_any: []}")), at + "key_tags_any");
  EXPECT_EQ(FailurePath(Conditional("{key_tags_any: [a, \"\"]}")), at + "key_tags_any[1]");
  EXPECT_EQ(FailurePath(Conditional("{key_tag: \"\"}")), at + "key_tag");
  EXPECT_EQ(FailurePath(Conditional("{key_tags: [a]}")), at + "key_tags");  // unknown key
  EXPECT_EQ(FailurePath(Conditional("{key_tag: a}")), "<ok>");
}

// ---- the tier and the tags --------------------------------------------------------------------

TEST(PipelineKeysTest, KeyTierIsTheFirstTierTag) {
  EXPECT_EQ(KeyTier({}), std::nullopt);
  const auto none = Tags({"team-a", "tier", "tiers:x"});
  EXPECT_EQ(KeyTier(none), std::nullopt);
  const auto two = Tags({"team-a", "tier:basic", "tier:premium"});
  EXPECT_EQ(KeyTier(two), std::optional<std::string_view>("basic"));
  const auto empty = Tags({"tier:"});  // bound to the empty tier: no `tier` route matches
  EXPECT_EQ(KeyTier(empty), std::optional<std::string_view>(""));
}

TEST(PipelineKeysTest, AKeyBoundTierWinsOverTheHeader) {
  const auto basic = Tags({"tier:basic"});
  EXPECT_EQ(EffectiveTier(basic, "premium"), "basic");
  EXPECT_EQ(EffectiveTier(basic, ""), "basic");
  const auto unbound = Tags({"team-a"});
  EXPECT_EQ(EffectiveTier(unbound, "premium"), "premium");
  EXPECT_EQ(EffectiveTier({}, "premium"), "premium");
  EXPECT_EQ(EffectiveTier({}, ""), "");
}

TEST(PipelineKeysTest, MatchesNeedsOneOfTheKeyTags) {
  PipelineCondition when{.key_tags_any = {"team-a", "team-b"}};
  EXPECT_TRUE(Matches(when, false, 5, "", Tags({"x", "team-b"})));
  EXPECT_TRUE(Matches(when, false, 5, "", Tags({"team-a"})));
  EXPECT_FALSE(Matches(when, false, 5, "", Tags({"team-c", "tier:team-a"})));
  EXPECT_FALSE(Matches(when, false, 5, "", {}));  // no key: no tags
  // Every set field must hold, the tags with the rest.
  PipelineCondition both{.modality = Modality::kImage, .key_tags_any = {"team-a"}};
  EXPECT_FALSE(Matches(both, false, 5, "", Tags({"team-a"})));
  EXPECT_TRUE(Matches(both, true, 5, "", Tags({"team-a"})));
  // A condition without tags ignores them.
  PipelineCondition gold{.tier = "gold"};
  EXPECT_TRUE(Matches(gold, false, 5, "gold", Tags({"anything"})));
}

TEST(PipelineKeysTest, PickRouteByKeyTagAndBoundTier) {
  Pipeline p;
  p.kind = PipelineKind::kConditional;
  p.routes.push_back({PipelineCondition{.key_tags_any = {"research"}}, "lab"});
  p.routes.push_back({PipelineCondition{.tier = "premium"}, "premium"});
  p.routes.push_back({std::nullopt, "default"});
  const ChatRequest req = Hello();
  EXPECT_EQ(PickRoute(p, req, "", Tags({"research"}))->model, "lab");
  EXPECT_EQ(PickRoute(p, req, "", Tags({"sales"}))->model, "default");
  EXPECT_EQ(PickRoute(p, req, "", {})->model, "default");
  const auto basic = Tags({"tier:basic"});
  EXPECT_EQ(PickRoute(p, req, EffectiveTier(basic, "premium"), basic)->model, "default");
  const auto premium = Tags({"tier:premium"});
  EXPECT_EQ(PickRoute(p, req, EffectiveTier(premium, ""), premium)->model, "premium");
}

// ---- through PipelineChat ---------------------------------------------------------------------

struct Outcome {
  Result<ChatResponse> result = Internal("not run");
  AttemptLog log;
};

boost::asio::awaitable<Outcome> RunAuto(std::shared_ptr<const Router> router, RequestContext ctx,
                                        net::Headers headers) {
  const Pipeline* pipeline = router->config().FindPipeline("auto");
  Outcome out;
  out.result = co_await PipelineChat(*router, *pipeline, Hello(), std::move(ctx),
                                     std::move(headers), &out.log);
  co_return out;
}

// A conditional pipeline (tier premium -> premium/m, else basic/m) whose providers both refuse
// the connection, so a call fails with an error naming the provider the route chose.
class PipelineKeysRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = Parse(Conditional("{tier: premium}"));
    ASSERT_TRUE(config.ok()) << config.error().message;
    auto router = Router::Create(*config);
    ASSERT_TRUE(router.ok()) << router.error().message;
    router_ = *router;
  }

  // The provider called for a caller with these key tags and this x-modelmux-tier header, and
  // the log's notes.
  std::pair<std::string, std::vector<std::string>> CalledProvider(std::vector<std::string> tags,
                                                                  std::string tier_header) {
    RequestContext ctx;
    ctx.request_id = "t";
    if (!tags.empty()) ctx.key_tags = std::make_shared<const std::vector<std::string>>(tags);
    net::Headers headers;
    if (!tier_header.empty()) headers.Add(std::string(kTierHeader), tier_header);
    auto future =
        boost::asio::co_spawn(io_, RunAuto(router_, ctx, headers), boost::asio::use_future);
    io_.restart();
    io_.run();
    Outcome out = future.get();
    EXPECT_FALSE(out.result.ok());
    if (out.result.ok()) return {"<answered>", out.log.notes};
    return {out.result.error().provider, out.log.notes};
  }

  boost::asio::io_context io_;  // outlives the router (declared first)
  std::shared_ptr<const Router> router_;
};

TEST_F(PipelineKeysRunTest, TheTierHeaderCannotLiftAKeyBoundToBasic) {
  using Notes = std::vector<std::string>;
  // No key: the header decides.
  EXPECT_EQ(CalledProvider({}, "premium"), std::make_pair(std::string("premium"), Notes{}));
  EXPECT_EQ(CalledProvider({}, ""), std::make_pair(std::string("basic"), Notes{}));
  // A key without a tier tag: still the header.
  EXPECT_EQ(CalledProvider({"team-a"}, "premium").first, "premium");
  // A key bound to basic: the header is ignored, and the log says so.
  EXPECT_EQ(CalledProvider({"tier:basic"}, "premium"),
            std::make_pair(std::string("basic"), Notes{"tier_header_ignored"}));
  // A key bound to premium reaches it without any header.
  EXPECT_EQ(CalledProvider({"tier:premium"}, ""), std::make_pair(std::string("premium"), Notes{}));
}

// ---- router.shared_limits ---------------------------------------------------------------------

class SharedLimitsRedisTest : public ::testing::Test {
 protected:
  Result<std::shared_ptr<store::RedisClient>> LimitsRedis(bool shared, std::string_view redis) {
    std::string text =
        "providers:\n  up: {type: openai, base_url: \"http://127.0.0.1:1/v1\", api_key: k}\n"
        "cache: {enabled: false}\n"
        "router: {shared_limits: " +
        std::string(shared ? "true" : "false") + "}\n";
    if (!redis.empty()) text += "redis: {url: \"" + std::string(redis) + "\"}\n";
    auto config = ParseConfig(text, NoEnv(), "test.yaml");
    EXPECT_TRUE(config.ok()) << config.error().message;
    if (!config.ok()) return config.error();
    return SharedLimitsRedis(**config, nullptr, io_.get_executor());
  }
  boost::asio::io_context io_;  // outlives the clients made on it (declared first)
};

TEST_F(SharedLimitsRedisTest, NoneWhenOff) {
  auto off = LimitsRedis(false, "redis://127.0.0.1:1");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, nullptr);
}

TEST_F(SharedLimitsRedisTest, ItsOwnClientWithoutACache) {
  auto on = LimitsRedis(true, "redis://127.0.0.1:1");
  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_NE(*on, nullptr);
}

TEST_F(SharedLimitsRedisTest, OnWithoutRedisIsAConfigError) {
  auto on = LimitsRedis(true, "");
  ASSERT_FALSE(on.ok());
  EXPECT_EQ(on.error().code, "config_error");
  EXPECT_EQ(on.error().param, "router.shared_limits");
  auto bad = LimitsRedis(true, "redis://127.0.0.1:notaport");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "redis.url");
}

}  // namespace
}  // namespace modelmux::routing
