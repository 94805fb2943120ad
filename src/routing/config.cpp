#include "routing/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "routing/config_litellm.hpp"
#include "routing/config_media.hpp"
#include "routing/config_pipelines.hpp"
#include "routing/config_reader.hpp"
#include "routing/config_text.hpp"

namespace modelmux::routing {

using config_detail::ConfigError;
using config_detail::MapReader;
using config_detail::ParseContext;

namespace {

constexpr std::array<std::pair<std::string_view, ProviderType>, 14> kProviderTypes = {{
    {"openai", ProviderType::kOpenAi},
    {"azure", ProviderType::kAzure},
    {"anthropic", ProviderType::kAnthropic},
    {"gemini", ProviderType::kGemini},
    {"qianfan", ProviderType::kQianfan},
    {"dashscope", ProviderType::kDashscope},
    {"zhipu", ProviderType::kZhipu},
    {"deepseek", ProviderType::kDeepseek},
    {"moonshot", ProviderType::kMoonshot},
    {"bedrock", ProviderType::kBedrock},
    {"hunyuan", ProviderType::kHunyuan},
    {"ollama", ProviderType::kOllama},
    {"vllm", ProviderType::kVllm},
    {"sim", ProviderType::kSim},
}};

bool IsValidProviderName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// "http(s)://host[:port][/path]" with a non-empty host.
bool IsHttpUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  std::string_view rest = url.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  return !authority.empty() && authority.front() != ':';
}

void ParseServer(ParseContext& ctx, const YAML::Node& node, ServerConfig& s) {
  MapReader r(
      ctx, node, "server",
      {"host", "port", "threads", "data_dir", "header_timeout", "idle_timeout", "drain_timeout",
       "heartbeat_interval", "max_connections_per_ip", "limits", "log_format"});
  r.String("host", s.host);
  r.Unsigned("port", s.port);
  r.Unsigned("threads", s.threads);
  r.String("data_dir", s.data_dir);
  r.Duration("header_timeout", s.header_timeout);
  r.Duration("idle_timeout", s.idle_timeout);
  r.Duration("drain_timeout", s.drain_timeout);
  r.Duration("heartbeat_interval", s.heartbeat_interval);
  r.Unsigned("max_connections_per_ip", s.max_connections_per_ip);
  r.Enum("log_format", {{"json", LogFormat::kJson}, {"human", LogFormat::kHuman}}, s.log_format);
  MapReader l(ctx, r.Get("limits"), r.Path("limits"),
              {"chat_body", "files_body", "default_body", "headers"});
  l.Size("chat_body", s.limits.chat_body);
  l.Size("files_body", s.limits.files_body);
  l.Size("default_body", s.limits.default_body);
  l.Size("headers", s.limits.headers);
  if (ctx.ok() && s.host.empty()) ctx.Fail(r.Get("host"), r.Path("host"), "'server.host' is empty");
  if (ctx.ok() && s.data_dir.empty()) {
    ctx.Fail(r.Get("data_dir"), r.Path("data_dir"), "'server.data_dir' is empty");
  }
}

void ParseProvider(ParseContext& ctx, const YAML::Node& node, const std::string& path,
                   ProviderConfig& p) {
  MapReader r(ctx, node, path,
              {"type", "base_url", "api_key", "secret_key", "session_token", "region",
               "api_version", "headers", "models", "timeouts", "tls", "allow_caller_headers"});
  if (!ctx.ok()) return;
  std::string type_name;
  r.String("type", type_name);
  if (!ctx.ok()) return;
  if (type_name.empty()) {
    auto inferred = ParseProviderType(p.name);
    if (!inferred) {
      ctx.Fail(node, r.Path("type"), "missing '" + r.Path("type") + "'");
      return;
    }
    p.type = *inferred;
  } else if (auto type = ParseProviderType(type_name)) {
    p.type = *type;
  } else {
    std::string allowed;
    for (const auto& [name, t] : kProviderTypes)
      allowed += (allowed.empty() ? "" : "|") + std::string(name);
    ctx.Fail(r.Get("type"), r.Path("type"),
             "invalid value '" + type_name + "' for '" + r.Path("type") + "' (expected " + allowed +
                 ")");
    return;
  }
  r.String("base_url", p.base_url);
  r.Secret("api_key", p.api_key, p.api_key_source);
  r.Secret("secret_key", p.secret_key, p.secret_key_source);
  std::string session_source;
  r.Secret("session_token", p.session_token, session_source);
  r.String("region", p.region);
  r.String("api_version", p.api_version);
  r.StringMap("headers", p.headers);
  r.StringList("models", p.models);
  r.Bool("allow_caller_headers", p.allow_caller_headers);
  MapReader t(ctx, r.Get("timeouts"), r.Path("timeouts"),
              {"connect", "first_byte", "idle", "total"});
  t.Duration("connect", p.timeouts.connect);
  t.Duration("first_byte", p.timeouts.first_byte);
  t.Duration("idle", p.timeouts.idle);
  t.Duration("total", p.timeouts.total);
  MapReader tls(ctx, r.Get("tls"), r.Path("tls"),
                {"ca_file", "client_cert", "client_key", "verify"});
  tls.String("ca_file", p.tls.ca_file);
  tls.String("client_cert", p.tls.client_cert);
  tls.String("client_key", p.tls.client_key);
  tls.Bool("verify", p.tls.verify);
  if (!ctx.ok()) return;

  if (p.tls.client_cert.empty() != p.tls.client_key.empty()) {
    ctx.Fail(r.Get("tls"), r.Path("tls"),
             "'" + r.Path("tls") + "' needs both client_cert and client_key");
    return;
  }
  while (p.base_url.size() > 1 && p.base_url.back() == '/') p.base_url.pop_back();
  if (p.base_url.empty()) {
    p.base_url = DefaultBaseUrl(p.type);
    if (p.type == ProviderType::kBedrock && !p.region.empty()) {
      p.base_url = "https://bedrock-runtime." + p.region + ".amazonaws.com";
    }
  }
  if (p.base_url.empty() && p.type != ProviderType::kSim) {
    ctx.Fail(node, r.Path("base_url"),
             "missing '" + r.Path("base_url") + "' (type " + std::string(ProviderTypeName(p.type)) +
                 " has no default endpoint)");
    return;
  }
  if (!p.base_url.empty() && !IsHttpUrl(p.base_url)) {
    ctx.Fail(
        r.Get("base_url"), r.Path("base_url"),
        "invalid URL for '" + r.Path("base_url") + "' (expected http(s)://host[:port][/path])");
  }
}

void ParseProviders(ParseContext& ctx, const YAML::Node& node, std::vector<ProviderConfig>& out) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    ctx.Fail(node, "providers", "'providers' must be a map of name to provider");
    return;
  }
  for (auto it = node.begin(); it != node.end() && ctx.ok(); ++it) {
    std::string name = it->first.IsScalar() ? it->first.Scalar() : std::string();
    std::string path = "providers." + name;
    if (!IsValidProviderName(name)) {
      ctx.Fail(it->first, path, "invalid provider name '" + name + "' (letters, digits, _ - .)");
      return;
    }
    if (std::any_of(out.begin(), out.end(), [&](const auto& p) { return p.name == name; })) {
      ctx.Fail(it->first, path, "duplicate provider '" + name + "'");
      return;
    }
    ProviderConfig p;
    p.name = name;
    ParseProvider(ctx, it->second, path, p);
    out.push_back(std::move(p));
  }
}

void ReadStrategy(MapReader& r, resilience::Strategy& out) {
  r.Enum("strategy",
         {{"weighted_random", resilience::Strategy::kWeightedRandom},
          {"least_outstanding", resilience::Strategy::kLeastOutstanding},
          {"latency", resilience::Strategy::kLatency},
          {"usage", resilience::Strategy::kUsage}},
         out);
}

void ParseDeployment(MapReader& r, Deployment& d) {
  ParseContext& ctx = r.ctx();
  r.String("provider", d.provider);
  r.String("model", d.model);
  r.Unsigned("weight", d.weight);
  r.OptionalUnsigned("rpm", d.rpm);
  r.OptionalUnsigned("tpm", d.tpm);
  r.Duration("rate_window", d.rate_window);
  if (!ctx.ok()) return;
  if (d.rate_window.count() <= 0) {
    ctx.Fail(r.Get("rate_window"), r.Path("rate_window"),
             "'" + r.Path("rate_window") + "' must be positive");
    return;
  }
  if (d.provider.empty()) {
    // "openai/gpt-4o" names both.
    if (auto slash = d.model.find('/'); slash != std::string::npos && slash > 0) {
      d.provider = d.model.substr(0, slash);
      d.model = d.model.substr(slash + 1);
    }
  }
  if (d.model.empty()) {
    ctx.Fail(r.Get("model"), r.Path("model"), "missing '" + r.Path("model") + "'");
  } else if (d.provider.empty()) {
    ctx.Fail(r.Get("provider"), r.Path("provider"), "missing '" + r.Path("provider") + "'");
  } else if (d.weight == 0) {
    ctx.Fail(r.Get("weight"), r.Path("weight"), "'" + r.Path("weight") + "' must be at least 1");
  }
}

void ParseModels(ParseContext& ctx, const YAML::Node& node, std::vector<ModelAlias>& out) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    ctx.Fail(node, "models", "'models' must be a list of aliases");
    return;
  }
  for (size_t i = 0; i < node.size() && ctx.ok(); ++i) {
    std::string path = "models[" + std::to_string(i) + "]";
    MapReader r(ctx, node[i], path,
                {"name", "deployments", "provider", "model", "weight", "rpm", "tpm", "rate_window",
                 "fallbacks", "context_window_fallback", "content_policy_fallback", "strategy",
                 "image_policy", "context_window", "max_tokens", "cheaper", "context"});
    ModelAlias alias;
    r.String("name", alias.name);
    if (!ctx.ok()) return;
    if (alias.name.empty()) {
      ctx.Fail(node[i], r.Path("name"), "missing '" + r.Path("name") + "'");
      return;
    }
    r.StringList("fallbacks", alias.fallbacks);
    r.String("context_window_fallback", alias.context_window_fallback);
    r.String("content_policy_fallback", alias.content_policy_fallback);
    if (r.Has("strategy")) {
      resilience::Strategy st = resilience::Strategy::kWeightedRandom;
      ReadStrategy(r, st);
      alias.strategy = st;
    }
    if (r.Has("image_policy")) {
      media::ImagePolicy policy;
      config_detail::ParseImagePolicy(ctx, r.Get("image_policy"), r.Path("image_policy"), policy);
      alias.image_policy = policy;
    }
    config_detail::ParseTextControls(r, alias);
    if (!ctx.ok()) return;
    if (r.Has("deployments")) {
      for (std::string_view k : {"provider", "model", "weight", "rpm", "tpm", "rate_window"}) {
        if (r.Has(k)) {
          ctx.Fail(r.Get(k), r.Path(k),
                   "'" + r.Path(k) + "' cannot be combined with '" + r.Path("deployments") + "'");
          return;
        }
      }
      YAML::Node list = r.Get("deployments");
      if (!list.IsSequence() || list.size() == 0) {
        ctx.Fail(list, r.Path("deployments"),
                 "'" + r.Path("deployments") + "' must be a non-empty list");
        return;
      }
      for (size_t j = 0; j < list.size() && ctx.ok(); ++j) {
        MapReader d(ctx, list[j], r.Path("deployments") + "[" + std::to_string(j) + "]",
                    {"provider", "model", "weight", "rpm", "tpm", "rate_window"});
        Deployment dep;
        ParseDeployment(d, dep);
        alias.deployments.push_back(std::move(dep));
      }
    } else {
      Deployment dep;
      ParseDeployment(r, dep);
      alias.deployments.push_back(std::move(dep));
    }
    out.push_back(std::move(alias));
  }
}

void ParseRouter(ParseContext& ctx, const YAML::Node& node, RouterConfig& c) {
  MapReader r(
      ctx, node, "router",
      {"timeout", "num_retries", "retry_base", "retry_cap", "max_retry_after", "min_attempt_time",
       "strategy", "outlier", "retry_budget", "queue_timeout", "shared_limits"});
  r.Duration("queue_timeout", c.queue_timeout);
  r.Bool("shared_limits", c.shared_limits);
  r.Duration("timeout", c.timeout);
  r.Unsigned("num_retries", 10, c.num_retries);
  r.Duration("retry_base", c.retry.base);
  r.Duration("retry_cap", c.retry.cap);
  r.Duration("max_retry_after", c.retry.max_hint);
  r.Duration("min_attempt_time", c.retry.min_attempt);
  ReadStrategy(r, c.strategy);
  c.retry.max_retries = static_cast<int>(c.num_retries);
  if (!ctx.ok()) return;
  MapReader o(ctx, r.Get("outlier"), "router.outlier",
              {"consecutive_failures", "base_ejection", "max_ejection", "max_ejection_percent"});
  o.Unsigned("consecutive_failures", 1000, c.outlier.consecutive_failures);
  o.Duration("base_ejection", c.outlier.base_ejection);
  o.Duration("max_ejection", c.outlier.max_ejection);
  o.Double("max_ejection_percent", 0, 100, c.outlier.max_ejection_percent);
  if (!ctx.ok()) return;
  MapReader b(ctx, r.Get("retry_budget"), "router.retry_budget", {"max_tokens", "token_ratio"});
  b.Double("max_tokens", 1, 1e6, c.retry_budget.max_tokens);
  b.Double("token_ratio", 0, 1e6, c.retry_budget.token_ratio);
}

void ParseCache(ParseContext& ctx, const YAML::Node& node, CacheConfig& c) {
  MapReader r(ctx, node, "cache", {"enabled", "backend", "ttl", "max_bytes"});
  r.Bool("enabled", c.enabled);
  r.Enum("backend",
         {{"memory", CacheBackend::kMemory},
          {"sqlite", CacheBackend::kSqlite},
          {"redis", CacheBackend::kRedis},
          {"tiered", CacheBackend::kTiered}},
         c.backend);
  r.Duration("ttl", c.ttl);
  r.Size("max_bytes", c.max_bytes);
}

void ParseRedis(ParseContext& ctx, const YAML::Node& node, RedisConfig& c) {
  MapReader r(ctx, node, "redis", {"url"});
  r.Secret("url", c.url, c.url_source);
  if (!ctx.ok() || c.url.empty()) return;
  std::string_view url = c.url;
  if (url.rfind("redis://", 0) != 0 && url.rfind("rediss://", 0) != 0 &&
      url.rfind("unix://", 0) != 0) {
    // The URL may hold a password: name the key, not the value.
    ctx.Fail(r.Get("url"), "redis.url",
             "invalid URL for 'redis.url' (expected redis://, rediss:// or unix://)");
  }
}

// "10.0.0.0/8", "::1", "2001:db8::/32": an address and an optional prefix length in range.
bool LooksLikeCidr(std::string_view text) {
  const size_t slash = text.find('/');
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return false;
  if (slash == std::string_view::npos) return true;
  const std::string_view p = text.substr(slash + 1);
  unsigned prefix = 0;
  auto [end, err] = std::from_chars(p.data(), p.data() + p.size(), prefix);
  return !p.empty() && err == std::errc() && end == p.data() + p.size() &&
         prefix <= (addr.is_v4() ? 32u : 128u);
}

void ParseSections(ParseContext& ctx, const YAML::Node& root, Config& c) {
  MapReader top(ctx, root, "",
                {"server", "providers", "models", "router", "cache", "redis", "auth", "limits",
                 "telemetry", "batch", "model_list", "pipelines", "media"});
  if (!ctx.ok()) return;
  ParseServer(ctx, top.Get("server"), c.server);
  if (ctx.ok()) ParseProviders(ctx, top.Get("providers"), c.providers);
  if (ctx.ok()) ParseModels(ctx, top.Get("models"), c.models);
  if (ctx.ok()) ParseRouter(ctx, top.Get("router"), c.router);
  if (ctx.ok()) ParseCache(ctx, top.Get("cache"), c.cache);
  if (ctx.ok()) ParseRedis(ctx, top.Get("redis"), c.redis);
  if (ctx.ok()) config_detail::ParseMedia(ctx, top.Get("media"), c.media);
  if (ctx.ok()) {
    MapReader a(ctx, top.Get("auth"), "auth",
                {"master_key", "ip_allowlist", "trusted_proxies", "keys_cache"});
    a.Secret("master_key", c.auth.master_key, c.auth.master_key_source);
    a.StringList("ip_allowlist", c.auth.ip_allowlist);
    a.StringList("trusted_proxies", c.auth.trusted_proxies);
    a.Duration("keys_cache", c.auth.keys_cache);
    for (const char* list : {"ip_allowlist", "trusted_proxies"}) {
      const auto& entries =
          std::string_view(list) == "ip_allowlist" ? c.auth.ip_allowlist : c.auth.trusted_proxies;
      for (const auto& entry : entries) {
        if (!ctx.ok() || LooksLikeCidr(entry)) continue;
        ctx.Fail(a.Get(list), a.Path(list),
                 "invalid address or CIDR block '" + entry + "' in '" + a.Path(list) + "'");
      }
    }
  }
  if (ctx.ok()) {
    MapReader l(ctx, top.Get("limits"), "limits",
                {"currency_rates", "allow_unpriced", "key_window", "alert_thresholds",
                 "alert_webhook", "alert_webhook_timeout"});
    l.Bool("allow_unpriced", c.limits.allow_unpriced);
    l.Duration("key_window", c.limits.key_window);
    if (ctx.ok() && c.limits.key_window.count() <= 0) {
      ctx.Fail(l.Get("key_window"), "limits.key_window", "'limits.key_window' must be positive");
    }
    std::vector<std::string> thresholds;
    l.StringList("alert_thresholds", thresholds);
    for (const auto& t : thresholds) {
      double d = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
      if (!ctx.ok()) break;
      if (ec != std::errc() || end != t.data() + t.size() || !(d > 0 && d <= 1)) {
        ctx.Fail(l.Get("alert_thresholds"), "limits.alert_thresholds",
                 "invalid threshold '" + t + "' in 'limits.alert_thresholds' (expected a " +
                     "fraction of the budget above 0 and at most 1)");
      }
      c.limits.alert_thresholds.push_back(d);
    }
    l.String("alert_webhook", c.limits.alert_webhook);
    if (ctx.ok() && !c.limits.alert_webhook.empty() &&
        !c.limits.alert_webhook.starts_with("http://") &&
        !c.limits.alert_webhook.starts_with("https://")) {
      ctx.Fail(l.Get("alert_webhook"), "limits.alert_webhook",
               "'limits.alert_webhook' must be an http:// or https:// URL");
    }
    l.Duration("alert_webhook_timeout", c.limits.alert_webhook_timeout);
    if (ctx.ok()) {
      MapReader rates(ctx, l.Get("currency_rates"), "limits.currency_rates",
                      {"USD_CNY", "CNY_USD"});
      for (const char* pair : {"USD_CNY", "CNY_USD"}) {
        double rate = 0;
        rates.Double(pair, 1e-9, 1e9, rate);
        if (rate > 0) c.limits.currency_rates[pair] = rate;
      }
    }
  }
  if (ctx.ok()) {
    MapReader t(ctx, top.Get("telemetry"), "telemetry",
                {"log_bodies", "metrics_public", "otlp_endpoint", "otlp_headers", "otlp_timeout",
                 "ledger", "ledger_path", "ledger_retention_days", "prices_file"});
    t.Bool("log_bodies", c.telemetry.log_bodies);
    t.Bool("metrics_public", c.telemetry.metrics_public);
    t.String("otlp_endpoint", c.telemetry.otlp_endpoint);
    t.StringMap("otlp_headers", c.telemetry.otlp_headers);
    t.Duration("otlp_timeout", c.telemetry.otlp_timeout);
    t.Bool("ledger", c.telemetry.ledger);
    t.String("ledger_path", c.telemetry.ledger_path);
    t.Unsigned("ledger_retention_days", 36500, c.telemetry.ledger_retention_days);
    t.String("prices_file", c.telemetry.prices_file);
  }
  if (ctx.ok()) {
    MapReader b(ctx, top.Get("batch"), "batch",
                {"concurrency", "flush_every", "flush_interval", "max_image_bytes", "retention"});
    b.Unsigned("concurrency", c.batch.concurrency);
    b.Unsigned("flush_every", c.batch.flush_every);
    b.Duration("flush_interval", c.batch.flush_interval);
    b.Size("max_image_bytes", c.batch.max_image_bytes);
    b.Duration("retention", c.batch.retention);
  }
  if (ctx.ok()) config_detail::ConvertModelList(ctx, top.Get("model_list"), c);
  if (ctx.ok()) config_detail::ParsePipelines(ctx, top.Get("pipelines"), c.pipelines);
}

Error PlainConfigError(std::string path, std::string what) {
  return ConfigError(std::move(path), std::move(what), {}, 0);
}

}  // namespace

std::string_view ProviderTypeName(ProviderType type) {
  for (const auto& [name, t] : kProviderTypes) {
    if (t == type) return name;
  }
  return "openai";
}

std::optional<ProviderType> ParseProviderType(std::string_view name) {
  for (const auto& [n, t] : kProviderTypes) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string DefaultBaseUrl(ProviderType type) {
  switch (type) {
    case ProviderType::kOpenAi:
      return "https://api.openai.com/v1";
    case ProviderType::kAnthropic:
      return "https://api.anthropic.com";
    case ProviderType::kGemini:
      return "https://generativelanguage.googleapis.com";
    case ProviderType::kQianfan:
      return "https://aip.baidubce.com";
    case ProviderType::kDashscope:
      return "https://dashscope.aliyuncs.com/compatible-mode/v1";
    case ProviderType::kZhipu:
      return "https://open.bigmodel.cn/api/paas/v4";
    case ProviderType::kDeepseek:
      return "https://api.deepseek.com";
    case ProviderType::kMoonshot:
      return "https://api.moonshot.cn/v1";
    case ProviderType::kHunyuan:
      return "https://hunyuan.tencentcloudapi.com";
    case ProviderType::kOllama:
      return "http://127.0.0.1:11434/v1";
    case ProviderType::kAzure:
    case ProviderType::kBedrock:
    case ProviderType::kVllm:
    case ProviderType::kSim:
      return {};
  }
  return {};
}

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Config Config::Default() {
  return Config{};
}

const ProviderConfig* Config::FindProvider(std::string_view name) const {
  for (const auto& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const ModelAlias* Config::FindAlias(std::string_view name) const {
  for (const auto& a : models) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

Result<std::shared_ptr<const Config>> ParseConfig(std::string_view yaml_text, const EnvLookup& env,
                                                  std::string_view origin) {
  auto config = std::make_shared<Config>();
  config->origin = std::string(origin);
  ParseContext ctx(env, std::string(origin));
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    ParseSections(ctx, root, *config);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's messages describe the syntax, not the content.
    return ConfigError("", "invalid YAML: " + e.msg, origin,
                       e.mark.is_null() ? 0 : e.mark.line + 1);
  }
  if (!ctx.ok()) return ctx.TakeError();
  std::set<std::string, std::less<>> names;
  for (size_t i = 0; i < config->models.size(); ++i) {
    if (!names.insert(config->models[i].name).second) {
      return ConfigError("models[" + std::to_string(i) + "].name",
                         "duplicate alias '" + config->models[i].name + "'", origin, 0);
    }
  }
  return std::shared_ptr<const Config>(std::move(config));
}

Result<std::shared_ptr<const Config>> LoadConfigFile(const std::string& path,
                                                     const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return PlainConfigError("", "cannot read config file '" + path + "'");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return PlainConfigError("", "cannot read config file '" + path + "'");
  return ParseConfig(buffer.str(), env, path);
}

Status ValidateConfig(const Config& config) {
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < config.models.size(); ++i) {
    const ModelAlias& alias = config.models[i];
    std::string path = "models[" + std::to_string(i) + "]";
    if (!seen.insert(alias.name).second) {
      return PlainConfigError(path + ".name", "duplicate alias '" + alias.name + "'");
    }
    if (alias.deployments.empty()) {
      return PlainConfigError(path + ".deployments",
                              "alias '" + alias.name + "' has no deployments");
    }
    std::vector<std::pair<std::string, std::string>> named;  // (path, model)
    for (size_t j = 0; j < alias.fallbacks.size(); ++j) {
      named.emplace_back(path + ".fallbacks[" + std::to_string(j) + "]", alias.fallbacks[j]);
    }
    if (!alias.context_window_fallback.empty()) {
      named.emplace_back(path + ".context_window_fallback", alias.context_window_fallback);
    }
    if (!alias.content_policy_fallback.empty()) {
      named.emplace_back(path + ".content_policy_fallback", alias.content_policy_fallback);
    }
    if (alias.cheaper) named.emplace_back(path + ".cheaper.model", alias.cheaper->model);
    for (const auto& [at, model] : named) {
      // An alias of this config, or "provider/model" with a configured provider.
      bool known =
          model != alias.name && std::any_of(config.models.begin(), config.models.end(),
                                             [&](const ModelAlias& a) { return a.name == model; });
      if (auto slash = model.find('/'); !known && slash != std::string::npos) {
        known = config.FindProvider(std::string_view(model).substr(0, slash)) != nullptr;
      }
      if (!known) {
        return PlainConfigError(at, "alias '" + alias.name + "' falls back to '" + model +
                                        "', which is neither another alias nor provider/model "
                                        "with a configured provider");
      }
    }
    for (size_t j = 0; j < alias.deployments.size(); ++j) {
      const Deployment& d = alias.deployments[j];
      if (config.FindProvider(d.provider) == nullptr) {
        return PlainConfigError(
            path + ".deployments[" + std::to_string(j) + "].provider",
            "alias '" + alias.name + "' names unknown provider '" + d.provider + "'");
      }
    }
  }
  return config_detail::ValidatePipelines(config);
}

}  // namespace modelmux::routing
