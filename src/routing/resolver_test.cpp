#include "routing/resolver.hpp"

#include <gtest/gtest.h>

#include <map>

#include "routing/config_env.hpp"

namespace modelmux::routing {
namespace {

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Config Build(std::string_view yaml, std::map<std::string, std::string> env = {}) {
  auto r = ParseConfig(yaml, MapEnv(env), "test.yaml");
  EXPECT_TRUE(r.ok()) << r.error().message;
  Config c = r.ok() ? **r : Config::Default();
  Status s = ApplyEnvironmentDiscovery(c, MapEnv(env), "127.0.0.1", 8080);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return c;
}

constexpr std::string_view kConfig = R"(
providers:
  corp:
    type: openai
    base_url: https://corp.example.com/v1
    api_key: k
    models: [gpt-4o]
  claude:
    type: anthropic
    api_key: k
  local:
    type: vllm
    base_url: http://10.0.0.2:8000/v1
    models: [meta-llama/Llama-3.1-8B]
models:
  - name: fast
    deployments:
      - {provider: corp, model: gpt-4o-mini}
      - {provider: claude, model: claude-haiku-4-5}
  - {name: gpt-4.1, provider: claude, model: claude-sonnet-4-5}
  - {name: corp/special, provider: local, model: m}
)";

TEST(ResolverTest, ExplicitProviderComesFirst) {
  Config c = Build(kConfig);
  auto r = ResolveModel(c, "claude/claude-opus-4-1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->alias, "claude/claude-opus-4-1");
  EXPECT_EQ(r->provider, "claude");
  EXPECT_EQ(r->model, "claude-opus-4-1");
  ASSERT_EQ(r->deployments.size(), 1u);
  EXPECT_EQ(r->deployments[0].provider, "claude");
  EXPECT_EQ(r->deployments[0].model, "claude-opus-4-1");

  // A provider name beats an alias with the same spelling.
  auto special = ResolveModel(c, "corp/special");
  ASSERT_TRUE(special.ok());
  EXPECT_EQ(special->provider, "corp");
  EXPECT_EQ(special->model, "special");

  // A provider type stands for the first provider of that type.
  auto by_type = ResolveModel(c, "openai/gpt-4o-mini");
  ASSERT_TRUE(by_type.ok());
  EXPECT_EQ(by_type->provider, "corp");

  auto sim = ResolveModel(c, "sim/echo");
  ASSERT_TRUE(sim.ok());
  EXPECT_EQ(sim->provider, "sim");
  EXPECT_EQ(sim->model, "echo");
}

TEST(ResolverTest, AliasesBeforeFamilies) {
  Config c = Build(kConfig);
  auto fast = ResolveModel(c, "fast");
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(fast->alias, "fast");
  EXPECT_EQ(fast->provider, "corp");
  EXPECT_EQ(fast->model, "gpt-4o-mini");
  ASSERT_EQ(fast->deployments.size(), 2u);
  EXPECT_EQ(fast->deployments[1].provider, "claude");

  // "gpt-4.1" is a gpt-* name, but the alias wins.
  auto aliased = ResolveModel(c, "gpt-4.1");
  ASSERT_TRUE(aliased.ok());
  EXPECT_EQ(aliased->provider, "claude");
  EXPECT_EQ(aliased->model, "claude-sonnet-4-5");
}

TEST(ResolverTest, DeclaredModelsThenFamilies) {
  Config c = Build(kConfig);
  auto llama = ResolveModel(c, "meta-llama/Llama-3.1-8B");
  ASSERT_TRUE(llama.ok());
  EXPECT_EQ(llama->provider, "local");
  EXPECT_EQ(llama->model, "meta-llama/Llama-3.1-8B");

  struct Row {
    const char* name;
    const char* provider;
  };
  for (const Row& row :
       {Row{"gpt-4o-mini", "corp"}, Row{"o1-mini", "corp"}, Row{"o3", "corp"},
        Row{"o4-mini", "corp"}, Row{"chatgpt-4o-latest", "corp"},
        Row{"text-embedding-3-small", "corp"}, Row{"claude-sonnet-4-5", "claude"}}) {
    auto r = ResolveModel(c, row.name);
    ASSERT_TRUE(r.ok()) << row.name;
    EXPECT_EQ(r->provider, row.provider) << row.name;
    EXPECT_EQ(r->model, row.name);
  }
  // Families whose provider is not configured.
  for (const char* name : {"gemini-2.5-pro", "qwen-max", "deepseek-chat", "kimi-k2", "glm-4"}) {
    EXPECT_FALSE(ResolveModel(c, name).ok()) << name;
  }
}

TEST(ResolverTest, FamiliesMapToTheirProviderTypes) {
  Config c = Build("", {{"GEMINI_API_KEY", "g"},
                        {"QIANFAN_API_KEY", "q"},
                        {"DASHSCOPE_API_KEY", "d"},
                        {"ZHIPUAI_API_KEY", "z"},
                        {"DEEPSEEK_API_KEY", "ds"},
                        {"MOONSHOT_API_KEY", "m"},
                        {"AZURE_OPENAI_API_KEY", "a"},
                        {"AZURE_OPENAI_ENDPOINT", "https://x.openai.azure.com"}});
  struct Row {
    const char* name;
    const char* provider;
  };
  for (const Row& row :
       {Row{"gemini-2.5-flash", "gemini"}, Row{"ernie-4.0-8k", "qianfan"},
        Row{"qwen-plus", "dashscope"}, Row{"qwen2.5-72b", "dashscope"}, Row{"glm-4-flash", "zhipu"},
        Row{"deepseek-reasoner", "deepseek"}, Row{"moonshot-v1-8k", "moonshot"},
        Row{"kimi-k2", "moonshot"}, Row{"gpt-4o", "azure"}}) {
    auto r = ResolveModel(c, row.name);
    ASSERT_TRUE(r.ok()) << row.name;
    EXPECT_EQ(r->provider, row.provider) << row.name;
  }
}

TEST(ResolverTest, UnknownModelsAre404) {
  Config c = Build(kConfig);
  for (const char* name : {"llama-3", "nope/gpt-4o", "", "o", "gpt-"}) {
    auto r = ResolveModel(c, name);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(r.error().HttpStatus(), 404);
    EXPECT_EQ(r.error().code, "model_not_found");
    EXPECT_EQ(r.error().param, "model");
    EXPECT_EQ(r.error().message, "The model '" + std::string(name) +
                                     "' does not exist or is not configured on this gateway");
  }
}

TEST(ResolverTest, SimulatorOnlyNeedsSimNames) {
  Config c = Build("");
  ASSERT_TRUE(c.using_simulator);
  EXPECT_FALSE(ResolveModel(c, "gpt-4o-mini").ok());
  EXPECT_FALSE(ResolveModel(c, "echo").ok());
  auto r = ResolveModel(c, "sim/gpt-4o-mini");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->provider, "sim");
  EXPECT_EQ(r->model, "gpt-4o-mini");
}

TEST(ResolverTest, ListModelsGivesAliasesThenProviderModels) {
  Config c = Build(kConfig);
  EXPECT_EQ(ListModels(c), (std::vector<std::string>{"fast", "gpt-4.1", "corp/special",
                                                     "corp/gpt-4o", "local/meta-llama/Llama-3.1-8B",
                                                     "sim/echo", "sim/chat", "sim/vision"}));
  Config sim_only = Build("");
  EXPECT_EQ(ListModels(sim_only), (std::vector<std::string>{"sim/echo", "sim/chat", "sim/vision"}));
}

}  // namespace
}  // namespace modelmux::routing
