#include "routing/config_env.hpp"
#include "routing/resolver.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace modelmux::routing {
namespace {

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Config FromYaml(std::string_view yaml) {
  auto r = ParseConfig(yaml, MapEnv({}), "test.yaml");
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? **r : Config::Default();
}

TEST(EnvDiscoveryTest, NoKeysMeansTheSimulatorOnly) {
  Config c = Config::Default();
  ASSERT_TRUE(ApplyEnvironmentDiscovery(c, MapEnv({}), "127.0.0.1", 8080).ok());
  ASSERT_EQ(c.providers.size(), 1u);
  EXPECT_EQ(c.providers[0].name, "sim");
  EXPECT_EQ(c.providers[0].type, ProviderType::kSim);
  EXPECT_EQ(c.providers[0].base_url, "");
  EXPECT_TRUE(c.using_simulator);
}

TEST(EnvDiscoveryTest, AddsProvidersFromTheUsualVariables) {
  Config c = Config::Default();
  auto env = MapEnv({{"OPENAI_API_KEY", "sk-openai"},
                     {"ANTHROPIC_API_KEY", "sk-ant"},
                     {"ANTHROPIC_BASE_URL", "https://proxy.example.com/anthropic/"},
                     {"QIANFAN_API_KEY", "qf-ak"},
                     {"QIANFAN_SECRET_KEY", "qf-sk"},
                     {"DEEPSEEK_API_KEY", ""},            // empty counts as unset
                     {"AZURE_OPENAI_API_KEY", "az-key"},  // no endpoint: not added
                     {"AWS_ACCESS_KEY_ID", "AKIA"},
                     {"AWS_SECRET_ACCESS_KEY", "aws-secret"},
                     {"AWS_REGION", "eu-west-1"},
                     {"OLLAMA_HOST", "0.0.0.0"}});
  ASSERT_TRUE(ApplyEnvironmentDiscovery(c, env, "127.0.0.1", 8080).ok());
  EXPECT_FALSE(c.using_simulator);

  const ProviderConfig* openai = c.FindProvider("openai");
  ASSERT_NE(openai, nullptr);
  EXPECT_EQ(openai->type, ProviderType::kOpenAi);
  EXPECT_EQ(openai->base_url, "https://api.openai.com/v1");
  EXPECT_EQ(openai->api_key, "sk-openai");
  EXPECT_EQ(openai->api_key_source, "OPENAI_API_KEY");

  const ProviderConfig* anthropic = c.FindProvider("anthropic");
  ASSERT_NE(anthropic, nullptr);
  EXPECT_EQ(anthropic->base_url, "https://proxy.example.com/anthropic");
  EXPECT_EQ(anthropic->api_key_source, "ANTHROPIC_API_KEY");

  const ProviderConfig* qianfan = c.FindProvider("qianfan");
  ASSERT_NE(qianfan, nullptr);
  EXPECT_EQ(qianfan->secret_key, "qf-sk");
  EXPECT_EQ(qianfan->secret_key_source, "QIANFAN_SECRET_KEY");

  EXPECT_EQ(c.FindProvider("deepseek"), nullptr);
  EXPECT_EQ(c.FindProvider("azure"), nullptr);

  const ProviderConfig* bedrock = c.FindProvider("bedrock");
  ASSERT_NE(bedrock, nullptr);
  EXPECT_EQ(bedrock->region, "eu-west-1");
  EXPECT_EQ(bedrock->base_url, "https://bedrock-runtime.eu-west-1.amazonaws.com");
  EXPECT_EQ(bedrock->api_key_source, "AWS_ACCESS_KEY_ID");
  EXPECT_EQ(bedrock->secret_key_source, "AWS_SECRET_ACCESS_KEY");

  const ProviderConfig* ollama = c.FindProvider("ollama");
  ASSERT_NE(ollama, nullptr);
  EXPECT_EQ(ollama->base_url, "http://127.0.0.1:11434/v1");

  // The simulator stays reachable as sim/... next to real providers.
  const ProviderConfig* sim = c.FindProvider("sim");
  ASSERT_NE(sim, nullptr);
  EXPECT_EQ(sim->type, ProviderType::kSim);
}

TEST(EnvDiscoveryTest, MasterKeyFromTheEnvironmentOrAFile) {
  Config c = Config::Default();
  ASSERT_TRUE(
      ApplyEnvironmentDiscovery(c, MapEnv({{"MODELMUX_MASTER_KEY", "mk-env"}}), "127.0.0.1", 8080)
          .ok());
  EXPECT_EQ(c.auth.master_key, "mk-env");
  EXPECT_EQ(c.auth.master_key_source, "MODELMUX_MASTER_KEY");

  const auto path = std::filesystem::temp_directory_path() / "modelmux_env_master_key_test";
  { std::ofstream(path) << "mk-from-file\n"; }
  Config f = Config::Default();
  ASSERT_TRUE(ApplyEnvironmentDiscovery(f, MapEnv({{"MODELMUX_MASTER_KEY_FILE", path.string()}}),
                                        "127.0.0.1", 8080)
                  .ok());
  EXPECT_EQ(f.auth.master_key, "mk-from-file");
  std::filesystem::remove(path);

  // The config's own master key wins; a missing file is an error naming the variable.
  Config own = Config::Default();
  own.auth.master_key = "mk-config";
  ASSERT_TRUE(
      ApplyEnvironmentDiscovery(own, MapEnv({{"MODELMUX_MASTER_KEY", "mk-env"}}), "127.0.0.1", 8080)
          .ok());
  EXPECT_EQ(own.auth.master_key, "mk-config");
  Config bad = Config::Default();
  auto st = ApplyEnvironmentDiscovery(
      bad, MapEnv({{"MODELMUX_MASTER_KEY_FILE", "/nonexistent/mk"}}), "127.0.0.1", 8080);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().param, "MODELMUX_MASTER_KEY_FILE");
  EXPECT_EQ(st.error().message.find("mk-"), std::string::npos);
}

TEST(EnvDiscoveryTest, OllamaHostForms) {
  struct Row {
    const char* host;
    const char* url;
  };
  for (const Row& row :
       {Row{"gpu-box", "http://gpu-box:11434/v1"}, Row{"gpu-box:9999", "http://gpu-box:9999/v1"},
        Row{"https://ollama.example.com", "https://ollama.example.com:11434/v1"},
        Row{"http://10.1.1.1:11434/", "http://10.1.1.1:11434/v1"}}) {
    Config c = Config::Default();
    ASSERT_TRUE(ApplyEnvironmentDiscovery(c, MapEnv({{"OLLAMA_HOST", row.host}}), "h", 1).ok());
    ASSERT_NE(c.FindProvider("ollama"), nullptr) << row.host;
    EXPECT_EQ(c.FindProvider("ollama")->base_url, row.url) << row.host;
  }
}

TEST(EnvDiscoveryTest, ConfiguredTypesAreNotReplaced) {
  Config c = FromYaml("providers: {corp: {type: openai, base_url: https://corp/v1, api_key: k}}");
  ASSERT_TRUE(
      ApplyEnvironmentDiscovery(c,
                                MapEnv({{"OPENAI_API_KEY", "sk-env"},
                                        {"AZURE_OPENAI_API_KEY", "a"},
                                        {"AZURE_OPENAI_ENDPOINT", "https://x.openai.azure.com"}}),
                                "127.0.0.1", 8080)
          .ok());
  EXPECT_EQ(c.FindProvider("openai"), nullptr);
  ASSERT_NE(c.FindProvider("corp"), nullptr);
  EXPECT_EQ(c.FindProvider("corp")->api_key, "k");
  ASSERT_NE(c.FindProvider("azure"), nullptr);
  EXPECT_EQ(c.FindProvider("azure")->base_url, "https://x.openai.azure.com");
  EXPECT_EQ(c.FindProvider("azure")->api_key_source, "AZURE_OPENAI_API_KEY");
}

TEST(EnvDiscoveryTest, RefusesABaseUrlPointingAtTheGateway) {
  auto run = [](std::string url, std::string_view self_host, uint16_t self_port) {
    Config c = Config::Default();
    return ApplyEnvironmentDiscovery(
        c, MapEnv({{"OPENAI_API_KEY", "sk-secret-value"}, {"OPENAI_BASE_URL", url}}), self_host,
        self_port);
  };
  Status same = run("http://127.0.0.1:8080/v1", "127.0.0.1", 8080);
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().param, "providers.openai.base_url");
  EXPECT_EQ(same.error().message.find("sk-secret-value"), std::string::npos);
  EXPECT_FALSE(run("http://localhost:8080/v1", "127.0.0.1", 8080).ok());
  EXPECT_FALSE(run("http://[::1]:8080/v1", "localhost", 8080).ok());
  EXPECT_FALSE(run("http://127.0.0.1:8080", "0.0.0.0", 8080).ok());
  EXPECT_FALSE(run("http://gw.internal:8080", "gw.internal", 8080).ok());
  EXPECT_FALSE(run("http://localhost", "127.0.0.1", 80).ok());
  EXPECT_TRUE(run("http://localhost:8081/v1", "127.0.0.1", 8080).ok());
  EXPECT_TRUE(run("http://10.0.0.7:8080/v1", "127.0.0.1", 8080).ok());
  EXPECT_TRUE(run("https://localhost/v1", "127.0.0.1", 8080).ok());
  EXPECT_TRUE(run("http://127.0.0.1:8080/v1", "127.0.0.1", 0).ok());  // port not known yet
  EXPECT_FALSE(run("not a url", "127.0.0.1", 8080).ok());
}

TEST(EnvDiscoveryTest, ConfiguredProvidersPointingAtTheGatewayAreRefusedToo) {
  Config c = FromYaml("providers: {loop: {type: vllm, base_url: 'http://localhost:9000/v1'}}");
  Status s = ApplyEnvironmentDiscovery(c, MapEnv({}), "0.0.0.0", 9000);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().param, "providers.loop.base_url");
}

TEST(EnvDiscoveryTest, SimulatorFlagOnlyWhenNothingElse) {
  Config sim_only = FromYaml("providers: {sim: {type: sim}}");
  ASSERT_TRUE(ApplyEnvironmentDiscovery(sim_only, MapEnv({}), "127.0.0.1", 8080).ok());
  EXPECT_EQ(sim_only.providers.size(), 1u);
  EXPECT_TRUE(sim_only.using_simulator);

  Config with_real = FromYaml("providers: {deepseek: {api_key: k}}");
  ASSERT_TRUE(ApplyEnvironmentDiscovery(with_real, MapEnv({}), "127.0.0.1", 8080).ok());
  EXPECT_EQ(with_real.providers.size(), 2u);
  EXPECT_FALSE(with_real.using_simulator);
}

TEST(EnvDiscoveryTest, AliasesMayNameDiscoveredProviders) {
  Config c = FromYaml("models: [{name: fast, model: openai/gpt-4o-mini}]");
  EXPECT_FALSE(ValidateConfig(c).ok());
  Config without = c;
  Status missing = ApplyEnvironmentDiscovery(without, MapEnv({}), "127.0.0.1", 8080);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().param, "models[0].deployments[0].provider");
  ASSERT_TRUE(
      ApplyEnvironmentDiscovery(c, MapEnv({{"OPENAI_API_KEY", "k"}}), "127.0.0.1", 8080).ok());
}

TEST(PointsAtSelfTest, ComparesHostsAndPorts) {
  EXPECT_TRUE(PointsAtSelf("http://127.0.0.1:8080", "127.0.0.1", 8080));
  EXPECT_TRUE(PointsAtSelf("http://LOCALHOST:8080/x", "::1", 8080));
  EXPECT_TRUE(PointsAtSelf("https://user:pw@127.0.0.2:8443", "[::1]", 8443));
  EXPECT_FALSE(PointsAtSelf("http://127.0.0.1:8080", "10.0.0.1", 8080));
  EXPECT_FALSE(PointsAtSelf("http://127.0.0.1:9090", "127.0.0.1", 8080));
  EXPECT_FALSE(PointsAtSelf("garbage", "127.0.0.1", 8080));
}

}  // namespace
}  // namespace modelmux::routing

namespace modelmux::routing {
namespace {

EnvLookup Vars(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(HunyuanDiscovery, SecretPairSelectsTheNativeApi) {
  Config c;
  ASSERT_TRUE(ApplyEnvironmentDiscovery(c,
                                        Vars({{"TENCENTCLOUD_SECRET_ID", "AKIDx"},
                                              {"TENCENTCLOUD_SECRET_KEY", "sk"},
                                              {"TENCENTCLOUD_REGION", "ap-guangzhou"}}),
                                        "127.0.0.1", 8080)
                  .ok());
  const ProviderConfig* p = c.FindProvider("hunyuan");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->base_url, "https://hunyuan.tencentcloudapi.com");
  EXPECT_EQ(p->api_key_source, "TENCENTCLOUD_SECRET_ID");
  EXPECT_EQ(p->secret_key_source, "TENCENTCLOUD_SECRET_KEY");
  EXPECT_EQ(p->region, "ap-guangzhou");
  auto r = ResolveModel(c, "hunyuan-lite");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->provider, "hunyuan");
}

TEST(HunyuanDiscovery, ApiKeySelectsTheOpenAiCompatibleEndpoint) {
  Config c;
  ASSERT_TRUE(
      ApplyEnvironmentDiscovery(c, Vars({{"HUNYUAN_API_KEY", "k"}}), "127.0.0.1", 8080).ok());
  const ProviderConfig* p = c.FindProvider("hunyuan");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->base_url, "https://api.hunyuan.cloud.tencent.com/v1");
  EXPECT_EQ(p->api_key_source, "HUNYUAN_API_KEY");
}

}  // namespace
}  // namespace modelmux::routing
