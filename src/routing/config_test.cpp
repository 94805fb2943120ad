#include "routing/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace modelmux::routing {
namespace {

using namespace std::chrono_literals;

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Result<std::shared_ptr<const Config>> Parse(std::string_view yaml,
                                            std::map<std::string, std::string> env = {}) {
  return ParseConfig(yaml, MapEnv(std::move(env)), "test.yaml");
}

// The error's key path (param) and message, for compact assertions.
std::pair<std::string, std::string> Failure(std::string_view yaml,
                                            std::map<std::string, std::string> env = {}) {
  auto r = Parse(yaml, std::move(env));
  if (r.ok()) return {"<ok>", "<ok>"};
  EXPECT_EQ(r.error().code, "config_invalid");
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
  return {r.error().param, r.error().message};
}

TEST(ConfigTest, EmptyFileGivesTheDefaults) {
  auto r = Parse("");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Config& c = **r;
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.threads, 0u);
  EXPECT_EQ(c.server.data_dir, "./modelmux-data");
  EXPECT_EQ(c.server.header_timeout, 30s);
  EXPECT_EQ(c.server.idle_timeout, 75s);
  EXPECT_EQ(c.server.drain_timeout, 20s);
  EXPECT_EQ(c.server.heartbeat_interval, 15s);
  EXPECT_EQ(c.server.max_connections_per_ip, 4096u);
  EXPECT_EQ(c.server.limits.chat_body, 32u << 20);
  EXPECT_EQ(c.server.limits.files_body, 200u << 20);
  EXPECT_EQ(c.server.limits.default_body, 1u << 20);
  EXPECT_EQ(c.server.limits.headers, 64u << 10);
  EXPECT_EQ(c.server.log_format, LogFormat::kJson);
  EXPECT_EQ(c.router.timeout, 600s);
  EXPECT_EQ(c.router.num_retries, 2u);
  EXPECT_TRUE(c.cache.enabled);
  EXPECT_EQ(c.cache.ttl, 1h);
  EXPECT_EQ(c.cache.max_bytes, 256u << 20);
  EXPECT_FALSE(c.telemetry.log_bodies);
  EXPECT_TRUE(c.providers.empty());
  EXPECT_TRUE(c.models.empty());
  EXPECT_EQ(c.origin, "test.yaml");
}

TEST(ConfigTest, ReadsEverySection) {
  // A secret file that does not exist is refused, naming the key.
  auto missing = Parse("auth: {master_key: '${file:/nonexistent/never-read}'}");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().param, "auth.master_key");

  auto path = std::filesystem::temp_directory_path() / "modelmux_config_test_master_key";
  std::ofstream(path) << "mk-123\n";
  std::string yaml = R"(
server: {host: 0.0.0.0, port: 9000, threads: 3, header_timeout: 250ms, idle_timeout: 2m,
         drain_timeout: 5000, log_format: human,
         limits: {chat_body: 1MiB, files_body: 2MiB, default_body: 64KiB, headers: 8KiB}}
providers:
  main:
    type: openai
    base_url: https://llm.example.com/v1/
    api_key: ${OPENAI_API_KEY}
    headers: {x-team: "${TEAM:-core}"}
    models: [gpt-4o, gpt-4o-mini]
    timeouts: {connect: 1s, first_byte: 10s, idle: 20s, total: 1h}
    tls: {ca_file: /etc/ca.pem, verify: false}
    allow_caller_headers: true
  anthropic:
    api_key: literal-key
models:
  - name: fast
    deployments:
      - {provider: main, model: gpt-4o-mini, weight: 3, rpm: 100, tpm: 5000}
      - {model: anthropic/claude-haiku-4-5}
  - {name: smart, provider: main, model: gpt-4o}
router: {timeout: 30s, num_retries: 5}
cache: {enabled: false, backend: redis, ttl: 10m, max_bytes: 1GiB}
redis: {url: "redis://:${REDIS_PASSWORD}@10.0.0.1:6379/0"}
auth: {master_key: "${file:)" +
                     path.string() + R"(}"}
telemetry: {log_bodies: true, metrics_public: true}
limits: {}
batch:
)";
  auto r = Parse(yaml, {{"OPENAI_API_KEY", "sk-test"}, {"REDIS_PASSWORD", "pw"}});
  std::filesystem::remove(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Config& c = **r;
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9000);
  EXPECT_EQ(c.server.threads, 3u);
  EXPECT_EQ(c.server.header_timeout, 250ms);
  EXPECT_EQ(c.server.idle_timeout, 120s);
  EXPECT_EQ(c.server.drain_timeout, 5s);
  EXPECT_EQ(c.server.log_format, LogFormat::kHuman);
  EXPECT_EQ(c.server.limits.chat_body, 1u << 20);
  EXPECT_EQ(c.server.limits.files_body, 2u << 20);
  EXPECT_EQ(c.server.limits.default_body, 64u << 10);
  EXPECT_EQ(c.server.limits.headers, 8u << 10);

  ASSERT_EQ(c.providers.size(), 2u);
  const ProviderConfig& main = c.providers[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.type, ProviderType::kOpenAi);
  EXPECT_EQ(main.base_url, "https://llm.example.com/v1");
  EXPECT_EQ(main.api_key, "sk-test");
  EXPECT_EQ(main.api_key_source, "OPENAI_API_KEY");
  EXPECT_EQ(main.headers.at("x-team"), "core");
  EXPECT_EQ(main.models, (std::vector<std::string>{"gpt-4o", "gpt-4o-mini"}));
  EXPECT_EQ(main.timeouts.connect, 1s);
  EXPECT_EQ(main.timeouts.first_byte, 10s);
  EXPECT_EQ(main.timeouts.idle, 20s);
  EXPECT_EQ(main.timeouts.total, 1h);
  EXPECT_EQ(main.tls.ca_file, "/etc/ca.pem");
  EXPECT_FALSE(main.tls.verify);
  EXPECT_TRUE(main.allow_caller_headers);
  const ProviderConfig& anthropic = c.providers[1];
  EXPECT_EQ(anthropic.type, ProviderType::kAnthropic);  // inferred from the name
  EXPECT_EQ(anthropic.base_url, "https://api.anthropic.com");
  EXPECT_EQ(anthropic.api_key_source, "config");

  ASSERT_EQ(c.models.size(), 2u);
  ASSERT_EQ(c.models[0].deployments.size(), 2u);
  EXPECT_EQ(c.models[0].deployments[0].weight, 3u);
  EXPECT_EQ(c.models[0].deployments[0].rpm, 100u);
  EXPECT_EQ(c.models[0].deployments[0].tpm, 5000u);
  EXPECT_EQ(c.models[0].deployments[1].provider, "anthropic");
  EXPECT_EQ(c.models[0].deployments[1].model, "claude-haiku-4-5");
  EXPECT_FALSE(c.models[0].deployments[1].rpm.has_value());
  EXPECT_EQ(c.models[1].name, "smart");
  EXPECT_EQ(c.models[1].deployments.at(0).provider, "main");

  EXPECT_EQ(c.router.timeout, 30s);
  EXPECT_EQ(c.router.num_retries, 5u);
  EXPECT_FALSE(c.cache.enabled);
  EXPECT_EQ(c.cache.backend, CacheBackend::kRedis);
  EXPECT_EQ(c.cache.ttl, 10min);
  EXPECT_EQ(c.cache.max_bytes, 1u << 30);
  EXPECT_EQ(c.redis.url, "redis://:pw@10.0.0.1:6379/0");
  EXPECT_EQ(c.auth.master_key, "mk-123");
  EXPECT_EQ(c.auth.master_key_source, "file:" + path.string());
  EXPECT_TRUE(c.telemetry.log_bodies);
  EXPECT_TRUE(c.telemetry.metrics_public);
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST(ConfigTest, UnknownKeysAreRefusedWithTheirFullPath) {
  auto [param, message] = Failure("server:\n  prot: 1\n");
  EXPECT_EQ(param, "server.prot");
  EXPECT_NE(message.find("unknown key 'server.prot' (did you mean 'port'?)"), std::string::npos)
      << message;
  EXPECT_NE(message.find("test.yaml:2"), std::string::npos) << message;

  EXPECT_EQ(Failure("sever: {}\n").first, "sever");
  EXPECT_NE(Failure("sever: {}\n").second.find("did you mean 'server'"), std::string::npos);
  EXPECT_EQ(Failure("server: {limits: {chat: 1MiB}}").first, "server.limits.chat");
  EXPECT_EQ(Failure("providers: {p: {type: openai, timeout: {}}}").first, "providers.p.timeout");
  EXPECT_EQ(Failure("providers: {p: {type: openai, tls: {verfy: true}}}").first,
            "providers.p.tls.verfy");
  EXPECT_EQ(Failure("models: [{name: a, provider: p, model: m}, {name: b, deployments: "
                    "[{provider: p, model: m, wieght: 2}]}]")
                .first,
            "models[1].deployments[0].wieght");
  EXPECT_EQ(Failure("limits: {rpm: 1}").first, "limits.rpm");
  EXPECT_EQ(Failure("batch: {x: 1}").first, "batch.x");
  EXPECT_EQ(Failure("cache: {enable: true}").first, "cache.enable");
  EXPECT_EQ(Failure("model_list: [{model_name: a, litellm_params: {model: gpt-4o, foo: 1}}]").first,
            "model_list[0].litellm_params.foo");
}

TEST(ConfigTest, InvalidValuesNameTheirKey) {
  EXPECT_EQ(Failure("server: {port: 70000}").first, "server.port");
  EXPECT_EQ(Failure("server: {port: http}").first, "server.port");
  EXPECT_EQ(Failure("server: {idle_timeout: 5 minutes}").first, "server.idle_timeout");
  EXPECT_EQ(Failure("server: {limits: {headers: lots}}").first, "server.limits.headers");
  EXPECT_EQ(Failure("server: {log_format: xml}").first, "server.log_format");
  EXPECT_EQ(Failure("server: [1, 2]").first, "server");
  EXPECT_EQ(Failure("cache: {enabled: maybe}").first, "cache.enabled");
  EXPECT_EQ(Failure("cache: {backend: disk}").first, "cache.backend");
  EXPECT_EQ(Failure("providers: {p: {type: nope}}").first, "providers.p.type");
  EXPECT_EQ(Failure("providers: {p: {}}").first, "providers.p.type");
  EXPECT_EQ(Failure("providers: {p: {type: vllm}}").first, "providers.p.base_url");
  EXPECT_EQ(Failure("providers: {p: {type: openai, base_url: ftp://x}}").first,
            "providers.p.base_url");
  EXPECT_EQ(Failure("providers: {'a/b': {type: openai}}").first, "providers.a/b");
  EXPECT_EQ(Failure("models: [{name: a}]").first, "models[0].model");
  EXPECT_EQ(Failure("models: [{name: a, model: m}]").first, "models[0].provider");
  EXPECT_EQ(Failure("models: [{name: a, deployments: []}]").first, "models[0].deployments");
  EXPECT_EQ(Failure("models: [{name: a, model: p/m}, {name: a, model: p/n}]").first,
            "models[1].name");
  EXPECT_EQ(Failure("server: {port: 1}\nserver: {port: 2}\n").first, "server");
  EXPECT_EQ(Failure("server: {port: [1}").first, "");  // YAML syntax
}

TEST(ConfigTest, EnvironmentInterpolation) {
  auto r = Parse("server: {port: '${PORT}', host: '${HOST:-::1}'}", {{"PORT", "9191"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->server.port, 9191);
  EXPECT_EQ((*r)->server.host, "::1");

  auto [param, message] = Failure("providers: {openai: {api_key: '${MISSING_KEY}'}}");
  EXPECT_EQ(param, "providers.openai.api_key");
  EXPECT_NE(message.find("MISSING_KEY"), std::string::npos) << message;
}

TEST(ConfigTest, SecretsNeverAppearInErrors) {
  // A secret interpolated into a value that then fails validation is shown by its template.
  auto [param, message] =
      Failure("server: {port: '${SECRET}'}", {{"SECRET", "hunter2-very-secret"}});
  EXPECT_EQ(param, "server.port");
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  EXPECT_NE(message.find("${SECRET}"), std::string::npos) << message;

  auto path = std::filesystem::temp_directory_path() / "modelmux_config_test_secret";
  std::ofstream(path) << "file-secret-xyz\n";
  std::string via_file = "server: {idle_timeout: '${file:" + path.string() + "}'}";
  auto [p2, m2] = Failure(via_file);
  EXPECT_EQ(p2, "server.idle_timeout");
  EXPECT_EQ(m2.find("file-secret-xyz"), std::string::npos) << m2;
  std::string redis = "redis: {url: 'http://user:${file:" + path.string() + "}@host'}";
  auto [p3, m3] = Failure(redis);
  EXPECT_EQ(p3, "redis.url");
  EXPECT_EQ(m3.find("file-secret-xyz"), std::string::npos) << m3;
  std::filesystem::remove(path);

  auto [p4, m4] = Failure("providers: {openai: {api_key: '${file:" + path.string() + "}'}}");
  EXPECT_EQ(p4, "providers.openai.api_key");
  EXPECT_NE(m4.find(path.string()), std::string::npos) << m4;
  EXPECT_EQ(m4.find("file-secret-xyz"), std::string::npos) << m4;
}

TEST(ConfigTest, SecretFileKeepsItsSource) {
  auto path = std::filesystem::temp_directory_path() / "modelmux_config_test_key";
  std::ofstream(path) << "sk-from-file\n";
  auto r = Parse("providers: {deepseek: {api_key: '${file:" + path.string() + "}'}}");
  std::filesystem::remove(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->providers.at(0).api_key, "sk-from-file");
  EXPECT_EQ((*r)->providers.at(0).api_key_source, "file:" + path.string());
}

TEST(ConfigTest, LiteLlmModelListBecomesProvidersAndAliases) {
  auto r = Parse(R"(
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY, rpm: 60}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: "${OPENAI_API_KEY}", tpm: 1000}
  - model_name: local
    litellm_params: {model: openai/llama3, api_base: http://10.0.0.2:8000/v1, api_key: none}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: os.environ/ANTHROPIC_API_KEY}
    model_info: {id: x}
  - model_name: bare
    litellm_params: {model: gpt-4o-mini, api_key: os.environ/OPENAI_API_KEY}
)",
                 {{"OPENAI_API_KEY", "sk-o"}, {"ANTHROPIC_API_KEY", "sk-a"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Config& c = **r;
  ASSERT_EQ(c.providers.size(), 3u);
  EXPECT_EQ(c.providers[0].name, "openai");
  EXPECT_EQ(c.providers[0].base_url, "https://api.openai.com/v1");
  EXPECT_EQ(c.providers[0].api_key, "sk-o");
  EXPECT_EQ(c.providers[0].api_key_source, "OPENAI_API_KEY");
  EXPECT_EQ(c.providers[0].models, (std::vector<std::string>{"gpt-4o", "gpt-4o-mini"}));
  EXPECT_EQ(c.providers[1].name, "openai-2");
  EXPECT_EQ(c.providers[1].base_url, "http://10.0.0.2:8000/v1");
  EXPECT_EQ(c.providers[1].api_key_source, "config");
  EXPECT_EQ(c.providers[2].name, "anthropic");
  EXPECT_EQ(c.providers[2].type, ProviderType::kAnthropic);

  ASSERT_EQ(c.models.size(), 4u);
  EXPECT_EQ(c.models[0].name, "gpt-4o");
  ASSERT_EQ(c.models[0].deployments.size(), 2u);
  EXPECT_EQ(c.models[0].deployments[0].provider, "openai");
  EXPECT_EQ(c.models[0].deployments[0].model, "gpt-4o");
  EXPECT_EQ(c.models[0].deployments[0].rpm, 60u);
  EXPECT_EQ(c.models[0].deployments[1].tpm, 1000u);
  EXPECT_EQ(c.models[1].deployments.at(0).provider, "openai-2");
  EXPECT_EQ(c.models[1].deployments.at(0).model, "llama3");
  EXPECT_EQ(c.models[2].deployments.at(0).model, "claude-sonnet-4-5");
  EXPECT_EQ(c.models[3].deployments.at(0).provider, "openai");
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST(ConfigTest, LiteLlmErrors) {
  EXPECT_EQ(Failure("model_list: [{model_name: a, litellm_params: {model: openai/x, api_key: "
                    "os.environ/NOT_SET}}]")
                .first,
            "model_list[0].litellm_params.api_key");
  EXPECT_EQ(Failure("model_list: [{model_name: a, litellm_params: {model: unknownco/x}}]").first,
            "model_list[0].litellm_params.model");
  EXPECT_EQ(Failure("model_list: [{model_name: a, litellm_params: {model: hosted_vllm/x}}]").first,
            "model_list[0].litellm_params.api_base");
  EXPECT_EQ(Failure("models: [{name: a, model: openai/x}]\n"
                    "model_list: [{model_name: a, litellm_params: {model: openai/y}}]")
                .first,
            "model_list[0].model_name");
}

TEST(ConfigTest, ValidateRefusesUnknownDeploymentProviders) {
  auto r = Parse("models: [{name: fast, provider: nowhere, model: m}]");
  ASSERT_TRUE(r.ok()) << r.error().message;  // the environment may still bring it
  Status s = ValidateConfig(**r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().param, "models[0].deployments[0].provider");
  EXPECT_NE(s.error().message.find("nowhere"), std::string::npos);
}

TEST(ConfigTest, SnapshotsCopyIntoNewOnes) {
  auto r = Parse("providers: {openai: {api_key: k}}");
  ASSERT_TRUE(r.ok());
  Config copy = **r;
  copy.server.port = 1;
  auto next = std::make_shared<const Config>(std::move(copy));
  EXPECT_EQ((*r)->server.port, 8080);
  EXPECT_EQ(next->server.port, 1);
  EXPECT_NE(next->FindProvider("openai"), nullptr);
  EXPECT_EQ(Config::Default().server.port, 8080);
}

TEST(ConfigTest, LoadConfigFileReadsTheFileAndNamesMissingOnes) {
  auto missing = LoadConfigFile("/nonexistent/modelmux.yaml", MapEnv({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("/nonexistent/modelmux.yaml"), std::string::npos);
}

TEST(ConfigTest, ExampleConfigIsValid) {
  std::string path = std::string(MODELMUX_SOURCE_DIR) + "/config/example.yaml";
  auto r = LoadConfigFile(path, MapEnv({{"OPENAI_API_KEY", "sk-example"},
                                        {"ANTHROPIC_API_KEY", "sk-ant-example"},
                                        {"MODELMUX_MASTER_KEY", "mk-example"}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE((*r)->providers.empty());
  EXPECT_FALSE((*r)->models.empty());
  EXPECT_TRUE(ValidateConfig(**r).ok());
}

}  // namespace
}  // namespace modelmux::routing

namespace modelmux::routing {
namespace {

TEST(ConfigResilience, RouterRetryStrategyOutlierAndBudget) {
  auto r = Parse(R"(
providers:
  a: {type: openai, base_url: "http://127.0.0.1:1/v1", api_key: k}
router:
  num_retries: 3
  retry_base: 25ms
  retry_cap: 250ms
  max_retry_after: 5s
  min_attempt_time: 100ms
  strategy: latency
  outlier: {consecutive_failures: 2, base_ejection: 1s, max_ejection: 4s, max_ejection_percent: 50}
  retry_budget: {max_tokens: 20, token_ratio: 0.25}
models:
  - name: smart
    strategy: least_outstanding
    deployments:
      - {provider: a, model: m1}
      - {provider: a, model: m2, weight: 3}
    fallbacks: [cheap, a/m3]
    context_window_fallback: a/m-128k
    content_policy_fallback: cheap
  - {name: cheap, provider: a, model: m4}
)");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Config& c = **r;
  EXPECT_EQ(c.router.num_retries, 3u);
  EXPECT_EQ(c.router.retry.max_retries, 3);
  EXPECT_EQ(c.router.retry.base, 25ms);
  EXPECT_EQ(c.router.retry.cap, 250ms);
  EXPECT_EQ(c.router.retry.max_hint, 5s);
  EXPECT_EQ(c.router.retry.min_attempt, 100ms);
  EXPECT_EQ(c.router.strategy, resilience::Strategy::kLatency);
  EXPECT_EQ(c.router.outlier.consecutive_failures, 2);
  EXPECT_EQ(c.router.outlier.base_ejection, 1s);
  EXPECT_EQ(c.router.outlier.max_ejection, 4s);
  EXPECT_EQ(c.router.outlier.max_ejection_percent, 50);
  EXPECT_EQ(c.router.retry_budget.max_tokens, 20);
  EXPECT_EQ(c.router.retry_budget.token_ratio, 0.25);
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].strategy, resilience::Strategy::kLeastOutstanding);
  EXPECT_EQ(c.models[0].fallbacks, (std::vector<std::string>{"cheap", "a/m3"}));
  EXPECT_EQ(c.models[0].context_window_fallback, "a/m-128k");
  EXPECT_EQ(c.models[0].content_policy_fallback, "cheap");
  EXPECT_FALSE(c.models[1].strategy.has_value());
}

TEST(ConfigResilience, BadValuesNameTheirKeys) {
  const std::string head = "providers:\n  a: {type: openai, base_url: \"http://x/v1\"}\n";
  EXPECT_EQ(Failure(head + "router: {strategy: round_robin}\n").first, "router.strategy");
  EXPECT_EQ(Failure(head + "router: {outlier: {max_ejection_percent: 150}}\n").first,
            "router.outlier.max_ejection_percent");
  EXPECT_EQ(Failure(head + "router: {retry_budget: {token_ratio: nan}}\n").first,
            "router.retry_budget.token_ratio");
  EXPECT_EQ(Failure(head + "router: {num_retries: 50}\n").first, "router.num_retries");
  EXPECT_EQ(Failure(head + "router: {outlier: {surprise: 1}}\n").first, "router.outlier.surprise");
}

TEST(ConfigResilience, FallbacksMustNameSomethingCallable) {
  const std::string head =
      "providers:\n  a: {type: openai, base_url: \"http://x/v1\"}\nmodels:\n"
      "  - {name: one, provider: a, model: m}\n";
  auto check = [&](const std::string& extra) -> Status {
    auto r = Parse(head + extra);
    if (!r.ok()) return r.error();
    return ValidateConfig(**r);
  };
  Status bad = check("  - {name: two, provider: a, model: m, fallbacks: [nowhere]}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "models[1].fallbacks[0]");
  EXPECT_NE(bad.error().message.find("nowhere"), std::string::npos);
  EXPECT_FALSE(check("  - {name: two, provider: a, model: m, fallbacks: [two]}\n").ok());
  EXPECT_FALSE(
      check("  - {name: two, provider: a, model: m, context_window_fallback: b/x}\n").ok());
  EXPECT_TRUE(check("  - {name: two, provider: a, model: m, fallbacks: [one, a/z]}\n").ok());
}

}  // namespace
}  // namespace modelmux::routing
