#pragma once
// The gateway's configuration: an immutable snapshot loaded from one YAML file (docs/CONFIG.md).
//
// A Config is a plain value: copy it, adjust the copy (e.g. ApplyEnvironmentDiscovery in
// "routing/config_env.hpp"), then publish it as std::shared_ptr<const Config>; a reload builds a
// new snapshot and swaps the pointer. Nothing in a Config changes after publication, so snapshots
// may be read from any thread without locking.
//
// Errors: every parse or validation failure is an Error with kind kInvalidRequest, code
// "config_invalid", `param` set to the key path at fault (e.g. "server.port",
// "models[1].deployments[0].provider") and a message starting with "config: ". Messages never carry
// secret values: a value that came from `${VAR}` or `${file:...}` is shown by its template.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "media/image.hpp"
#include "resilience/deployment_set.hpp"
#include "resilience/retry_budget.hpp"
#include "resilience/retry_policy.hpp"

namespace modelmux::routing {

// Reads one environment variable; nullopt when unset. Injected so tests never read the real
// environment.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// The process environment (getenv). Safe to call from any thread as long as nobody calls setenv.
[[nodiscard]] EnvLookup ProcessEnvironment();

enum class LogFormat { kJson, kHuman };

struct BodyLimits {
  uint64_t chat_body = 32ull << 20;    // /v1/chat/completions, /v1/messages
  uint64_t files_body = 200ull << 20;  // /v1/files
  uint64_t default_body = 1ull << 20;  // every other path
  uint64_t headers = 64ull << 10;      // the whole header block
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  unsigned threads = 0;  // 0 = the CPUs in the process's affinity mask
  std::string data_dir = "./modelmux-data";
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds idle_timeout{75'000};
  std::chrono::milliseconds drain_timeout{20'000};
  std::chrono::milliseconds heartbeat_interval{15'000};  // SSE comment while waiting for tokens
  uint32_t max_connections_per_ip = 4096;
  BodyLimits limits;
  LogFormat log_format = LogFormat::kJson;
};

// The dialect family of a provider.
enum class ProviderType {
  kOpenAi,
  kAzure,
  kAnthropic,
  kGemini,
  kQianfan,
  kDashscope,
  kZhipu,
  kDeepseek,
  kMoonshot,
  kBedrock,
  kHunyuan,
  kOllama,
  kVllm,
  kSim,
};

// "openai", "azure", ... as written in the config.
[[nodiscard]] std::string_view ProviderTypeName(ProviderType type);
[[nodiscard]] std::optional<ProviderType> ParseProviderType(std::string_view name);
// The public endpoint a provider of this type uses when the config names none; empty when the type
// has no fixed endpoint (azure, vllm, bedrock without a region, sim = in-process).
[[nodiscard]] std::string DefaultBaseUrl(ProviderType type);

struct ProviderTimeouts {
  std::chrono::milliseconds connect{5'000};
  std::chrono::milliseconds first_byte{120'000};
  std::chrono::milliseconds idle{120'000};  // between two reads of a body or stream
  std::chrono::milliseconds total{600'000};
};

struct TlsConfig {
  std::string ca_file;      // PEM bundle replacing the system store; empty = system store
  std::string client_cert;  // PEM client certificate (mutual TLS), with client_key
  std::string client_key;
  bool verify = true;
};

struct ProviderConfig {
  std::string name;  // the key under `providers:`; used in "name/model" and in deployments
  ProviderType type = ProviderType::kOpenAi;
  std::string base_url;  // empty only for the in-process simulator
  std::string api_key;   // secret: never log, never put in an error
  // Where api_key came from, for diagnostics: the environment variable's name
  // ("OPENAI_API_KEY"), "file:/path", "config" (a literal), or empty when there is no key.
  std::string api_key_source;
  std::string secret_key;  // secret: Qianfan secret key, AWS secret access key
  std::string secret_key_source;
  std::string session_token;                   // secret: AWS session token
  std::string region;                          // bedrock (AWS region)
  std::string api_version;                     // azure
  std::map<std::string, std::string> headers;  // extra headers sent upstream (may hold secrets)
  std::vector<std::string> models;             // models offered, for /v1/models and resolution
  ProviderTimeouts timeouts;
  TlsConfig tls;
  bool allow_caller_headers = false;  // forward callers' provider credentials (pass-through)
};

struct Deployment {
  std::string provider;  // a provider name in Config::providers
  std::string model;     // the upstream model name
  uint32_t weight = 1;
  std::optional<uint64_t> rpm;  // requests per minute this deployment accepts
  std::optional<uint64_t> tpm;  // tokens per minute
  // The window rpm and tpm count over (default one minute; e.g. 1s for a provider's QPS limit).
  std::chrono::milliseconds rate_window{60'000};
};

struct ModelAlias {
  std::string name;                     // what callers send as `model`
  std::vector<Deployment> deployments;  // at least one
  // Models (aliases or "provider/model") tried in order when every deployment failed with a
  // retryable error (rate limits, outages, timeouts).
  std::vector<std::string> fallbacks;
  std::string context_window_fallback;  // on a context-length error: a longer-context model
  std::string content_policy_fallback;  // on a content-filter refusal
  std::optional<resilience::Strategy> strategy;    // overrides router.strategy
  std::optional<media::ImagePolicy> image_policy;  // over media.image_policy, under the request's
  // Cost and context controls (routing/text_stage.hpp, docs/TEXT.md).
  std::optional<uint64_t> context_window;      // tokens; overrides the built-in table
  std::optional<uint64_t> max_tokens_default;  // max_tokens when the caller sets none
  std::optional<uint64_t> max_tokens_cap;      // larger max_tokens are clamped to this
  struct Cheaper {
    std::string model;               // an alias or provider/model
    uint64_t max_prompt_tokens = 0;  // requests at most this long (and text only) go there
  };
  std::optional<Cheaper> cheaper;
  std::string context;  // domain context (background, glossary) sent as a system message
};

struct RouterConfig {
  std::chrono::milliseconds timeout{600'000};  // whole-call deadline, retries included
  uint32_t num_retries = 2;
  resilience::RetryPolicy retry;  // backoff windows and hint cap (max_retries = num_retries)
  resilience::Strategy strategy = resilience::Strategy::kWeightedRandom;
  resilience::OutlierOptions outlier;
  resilience::RetryBudgetOptions retry_budget;
  // Longest wait in a deployment's rate-limit queue; past it callers get a fast 429.
  std::chrono::milliseconds queue_timeout{30'000};
  // Deployment rpm/tpm windows kept in Redis (resilience/shared_window.hpp) when `redis.url` is
  // set, so replicas sharing a provider key share its limit; local windows otherwise.
  bool shared_limits = false;
};

enum class CacheBackend { kMemory, kSqlite, kRedis, kTiered };

struct CacheConfig {
  bool enabled = true;
  CacheBackend backend = CacheBackend::kTiered;  // memory in front of SQLite (or Redis)
  std::chrono::milliseconds ttl{3'600'000};
  uint64_t max_bytes = 256ull << 20;  // memory tier
};

// Multimodal input (docs/MULTIMODAL.md).
struct MediaConfig {
  media::ImagePolicy image_policy;  // the default; a model's and then the request's override it
  // Download image and video URLs in the gateway for providers that cannot fetch them (off: such
  // URLs are refused and callers must send data: URLs).
  bool fetch = true;
  bool always_fetch = false;  // download even where the provider could fetch the URL itself
  // Hosts and networks the fetcher may reach although they are not public ("10.0.0.0/8",
  // "images.internal", "*.corp.example"); empty: public addresses only.
  std::vector<std::string> fetch_allow;
  uint64_t max_fetch_bytes = 20ull << 20;
  std::chrono::milliseconds fetch_timeout{15'000};
  uint32_t max_redirects = 3;
  // Frames for providers without video input.
  uint32_t video_max_frames = 8;
  double video_fps = 0;              // 0: video_max_frames spread over the clip
  bool video_scene_changes = false;  // sample at scene changes instead of evenly
  uint32_t video_frame_max_side = 768;
  std::chrono::milliseconds video_max_duration{600'000};
  // Large media through the provider's file API (Gemini, Anthropic; docs/MULTIMODAL.md).
  bool upload = true;
  std::optional<uint64_t> upload_above_bytes;  // unset: the provider's default (media_stage.hpp)
  uint64_t upload_chunk_bytes = 8ull << 20;    // Gemini resumable chunks, n * 256 KiB
  std::chrono::milliseconds upload_ttl{24 * 3'600'000};    // reuse of an uploaded file
  std::chrono::milliseconds upload_poll_timeout{120'000};  // a Gemini file PROCESSING
  // The model `POST /v1/describe` and `modelmux describe` use when the caller names none
  // (empty: "sim/vision" while only the simulator is configured, else callers must name one).
  std::string describe_model;
};

struct RedisConfig {
  std::string url;  // redis://[user:password@]host:port[/db] or rediss://...; empty = no Redis
  std::string url_source;
};

struct AuthConfig {
  std::string master_key;  // secret; empty = callers need no key
  std::string master_key_source;
  // IPv4/IPv6 addresses or CIDR blocks (docs/SECURITY.md). Empty ip_allowlist = any address.
  std::vector<std::string> ip_allowlist;     // every caller must come from one of these
  std::vector<std::string> trusted_proxies;  // peers whose X-Forwarded-For is believed
  // How long a replica may answer from its cache of virtual-key lookups (keys in Redis).
  std::chrono::milliseconds keys_cache{500};
};

// Per-key limits and budgets (govern/limiter.hpp, docs/SECURITY.md).
struct LimitsConfig {
  // Conversion rates for budgets, "USD_CNY": 7.2 = 1 USD is 7.2 CNY (the inverse is derived).
  std::map<std::string, double> currency_rates;
  bool allow_unpriced = false;  // admit models with no known price under budgeted keys
  // The window that a key's rpm/tpm count over (60 s; tests set a short one).
  std::chrono::milliseconds key_window{60'000};
  // Budget alerts (govern/budget_alert.hpp): fractions of a key's budget, in (0, 1], each alerted
  // once per key, budget and period (log line, metric, optional webhook POST of a JSON payload).
  std::vector<double> alert_thresholds;
  std::string alert_webhook;  // http(s) URL; empty: no webhook
  std::chrono::milliseconds alert_webhook_timeout{5'000};
};

struct TelemetryConfig {
  bool log_bodies = false;      // request/response bodies in the request log
  bool metrics_public = false;  // /metrics without the master key
  // OpenTelemetry traces over OTLP/HTTP JSON (telemetry/trace_exporter.hpp): the collector's
  // base URL (spans go to {otlp_endpoint}/v1/traces; empty: OTEL_EXPORTER_OTLP_* or off), extra
  // headers (secrets welcome: never logged) and the per-export timeout.
  std::string otlp_endpoint;
  std::map<std::string, std::string> otlp_headers;
  std::chrono::milliseconds otlp_timeout{5'000};
  // The usage ledger (telemetry/ledger.hpp): <server.data_dir>/ledger.db unless ledger_path is
  // set; rows older than ledger_retention_days are deleted (0: kept forever).
  bool ledger = true;
  std::string ledger_path;
  uint64_t ledger_retention_days = 0;
  // A prices file merged over the built-in table (data/prices.yaml shape; empty: none).
  std::string prices_file;
};

// `modelmux batch` defaults (flags override them; docs/BATCH.md).
struct BatchConfig {
  size_t concurrency = 64;                        // calls in flight at most
  size_t flush_every = 64;                        // results per durable write at most
  std::chrono::milliseconds flush_interval{200};  // time between durable writes at most
  uint64_t max_image_bytes = 20ull << 20;         // largest local image file a line may name
  // The gateway's Batch API: files and batches are deleted this long after their creation.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 30)};
};

// Multi-model collaboration: a virtual model name served by several models (routing/pipeline.hpp,
// docs/ROUTING.md "Pipelines"). Every model a pipeline names is an alias or "provider/model".
enum class PipelineKind { kVisionThenReason, kFanOut, kConditional, kMapReduce };

enum class Modality { kAny, kImage, kText };

struct PipelineCondition {
  Modality modality = Modality::kAny;         // kImage: the request has an image part
  std::optional<uint64_t> min_prompt_tokens;  // text::EstimatePromptTokens
  std::optional<uint64_t> max_prompt_tokens;
  std::string tier;  // the caller's tier (routing/pipeline.hpp EffectiveTier); empty = any
  // `key_tag` / `key_tags_any`: the caller's virtual key has one of these tags; empty = any.
  std::vector<std::string> key_tags_any;
};

struct PipelineRoute {
  std::optional<PipelineCondition> when;  // absent: always matches (the default route)
  std::string model;
};

struct Pipeline {
  std::string name;  // what callers send as `model`
  PipelineKind kind = PipelineKind::kFanOut;
  std::string vision;                 // kVisionThenReason
  std::string reasoner;               // kVisionThenReason
  std::string describe_prompt;        // kVisionThenReason; empty = the built-in instruction
  std::vector<std::string> models;    // kFanOut: 2..8
  std::string judge;                  // kFanOut; empty = every answer comes back as a choice
  std::vector<PipelineRoute> routes;  // kConditional: first match wins
  // kMapReduce: a long last user message is cut into chunks of at most chunk_tokens (0: half the
  // map model's context window, else 4000), each read by `map` (at most `concurrency` at once),
  // and `reduce` answers from the notes. Empty prompts: the built-in instructions.
  std::string map;
  std::string reduce;
  uint64_t chunk_tokens = 0;
  uint64_t concurrency = 4;
  std::string map_prompt;
  std::string reduce_prompt;
};

struct Config {
  std::string origin = "<default>";  // the file it was loaded from
  ServerConfig server;
  std::vector<ProviderConfig> providers;  // in file order, then discovered ones
  std::vector<ModelAlias> models;         // aliases in file order, then `model_list` ones
  RouterConfig router;
  CacheConfig cache;
  RedisConfig redis;
  MediaConfig media;
  AuthConfig auth;
  LimitsConfig limits;
  TelemetryConfig telemetry;
  BatchConfig batch;
  std::vector<Pipeline> pipelines;  // `pipelines:`, in file order
  // True when the only providers are the built-in simulator (set by ApplyEnvironmentDiscovery).
  bool using_simulator = false;

  // The embedded defaults: no providers, no aliases.
  [[nodiscard]] static Config Default();

  // nullptr when absent. Pointers stay valid while the Config is not modified.
  [[nodiscard]] const ProviderConfig* FindProvider(std::string_view name) const;
  [[nodiscard]] const ModelAlias* FindAlias(std::string_view name) const;
  [[nodiscard]] const Pipeline* FindPipeline(std::string_view name) const;
};

// Parses a whole config file's text. `origin` names it in error messages (a path or "<inline>").
// Cross-references (a deployment naming a provider that only the environment will bring) are
// checked later, by ValidateConfig.
[[nodiscard]] Result<std::shared_ptr<const Config>> ParseConfig(std::string_view yaml_text,
                                                                const EnvLookup& env,
                                                                std::string_view origin);
// Reads and parses `path`. A missing or unreadable file is an error naming the path.
[[nodiscard]] Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path,
                                                                   const EnvLookup& env);

// Checks what a single section cannot: every deployment names a configured provider, aliases are
// unique, every model a pipeline names is an alias or provider/model with a configured provider.
// Called by ApplyEnvironmentDiscovery once the provider set is final.
[[nodiscard]] Status ValidateConfig(const Config& config);

// Scalar grammar, exposed for the CLI and tests. Durations: "250ms", "5s", "2m", "1h", combined
// ("1m30s"), or a bare integer of milliseconds. Sizes: "64KiB", "32MiB", "1GiB", "1TiB", "10KB",
// "5MB", "1GB" (decimal), "512B", or a bare integer of bytes.
[[nodiscard]] std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);
[[nodiscard]] std::optional<uint64_t> ParseSize(std::string_view text);

}  // namespace modelmux::routing
