#include "routing/config_env.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>

namespace modelmux::routing {
namespace {

Error EnvError(std::string param, std::string what) {
  return Error{.kind = ErrorKind::kInvalidRequest,
               .message = "config: " + std::move(what),
               .param = std::move(param),
               .code = "config_invalid"};
}

std::optional<std::string> Var(const EnvLookup& env, std::string_view name) {
  if (!env) return std::nullopt;
  std::optional<std::string> v = env(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct UrlParts {
  std::string scheme;
  std::string host;  // lower case, without IPv6 brackets
  std::optional<uint16_t> port;
};

std::optional<UrlParts> SplitUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  UrlParts out;
  out.scheme = Lower(url.substr(0, scheme_end));
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return std::nullopt;
  out.host = Lower(host);
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit)) return std::nullopt;
    int n = std::stoi(std::string(port));
    if (n > 65535) return std::nullopt;
    out.port = static_cast<uint16_t>(n);
  }
  return out;
}

bool IsHttpUrl(std::string_view url) {
  auto parts = SplitUrl(url);
  return parts && (parts->scheme == "http" || parts->scheme == "https");
}

std::string StripBrackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return Lower(host);
}

bool IsLocalHost(std::string_view host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" ||
         host == "0:0:0:0:0:0:0:1" || host == "0.0.0.0" || host == "::" ||
         (host.size() > 10 && host.substr(host.size() - 10) == ".localhost");
}

bool HasType(const Config& config, ProviderType type) {
  return std::any_of(config.providers.begin(), config.providers.end(),
                     [&](const auto& p) { return p.type == type; });
}

std::string FreeName(const Config& config, ProviderType type) {
  std::string base(ProviderTypeName(type));
  std::string name = base;
  for (int n = 2; config.FindProvider(name) != nullptr; ++n) name = base + "-" + std::to_string(n);
  return name;
}

// A *_BASE_URL override, or the type's default.
Result<std::string> BaseUrl(const EnvLookup& env, std::string_view var, ProviderType type) {
  std::optional<std::string> url = Var(env, var);
  if (!url) return DefaultBaseUrl(type);
  while (url->size() > 1 && url->back() == '/') url->pop_back();
  if (!IsHttpUrl(*url)) {
    return EnvError(std::string(var), "invalid URL in " + std::string(var) +
                                          " (expected http(s)://host[:port][/path])");
  }
  return *url;
}

struct KeyRule {
  ProviderType type;
  std::string_view key_var;
  std::string_view base_var;
  std::string_view secret_var;  // optional second credential
};

constexpr KeyRule kKeyRules[] = {
    {ProviderType::kOpenAi, "OPENAI_API_KEY", "OPENAI_BASE_URL", {}},
    {ProviderType::kAnthropic, "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", {}},
    {ProviderType::kGemini, "GEMINI_API_KEY", "GEMINI_BASE_URL", {}},
    {ProviderType::kDashscope, "DASHSCOPE_API_KEY", "DASHSCOPE_BASE_URL", {}},
    {ProviderType::kQianfan, "QIANFAN_API_KEY", "QIANFAN_BASE_URL", "QIANFAN_SECRET_KEY"},
    {ProviderType::kZhipu, "ZHIPUAI_API_KEY", "ZHIPUAI_BASE_URL", {}},
    {ProviderType::kDeepseek, "DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL", {}},
    {ProviderType::kMoonshot, "MOONSHOT_API_KEY", "MOONSHOT_BASE_URL", {}},
};

Status DiscoverKeyProviders(Config& config, const EnvLookup& env) {
  for (const KeyRule& rule : kKeyRules) {
    if (HasType(config, rule.type)) continue;
    std::optional<std::string> key = Var(env, rule.key_var);
    if (!key) continue;
    MM_TRY(std::string base_url, BaseUrl(env, rule.base_var, rule.type));
    ProviderConfig p;
    p.name = FreeName(config, rule.type);
    p.type = rule.type;
    p.base_url = std::move(base_url);
    p.api_key = std::move(*key);
    p.api_key_source = std::string(rule.key_var);
    if (!rule.secret_var.empty()) {
      if (auto secret = Var(env, rule.secret_var)) {
        p.secret_key = std::move(*secret);
        p.secret_key_source = std::string(rule.secret_var);
      }
    }
    config.providers.push_back(std::move(p));
  }
  return OkStatus();
}

Status DiscoverAzure(Config& config, const EnvLookup& env) {
  if (HasType(config, ProviderType::kAzure)) return OkStatus();
  auto key = Var(env, "AZURE_OPENAI_API_KEY");
  auto endpoint = Var(env, "AZURE_OPENAI_ENDPOINT");
  if (!key || !endpoint) return OkStatus();
  MM_TRY(std::string base_url, BaseUrl(env, "AZURE_OPENAI_ENDPOINT", ProviderType::kAzure));
  ProviderConfig p;
  p.name = FreeName(config, ProviderType::kAzure);
  p.type = ProviderType::kAzure;
  p.base_url = std::move(base_url);
  p.api_key = std::move(*key);
  p.api_key_source = "AZURE_OPENAI_API_KEY";
  if (auto v = Var(env, "AZURE_OPENAI_API_VERSION"))
    p.api_version = *v;
  else if (auto ov = Var(env, "OPENAI_API_VERSION"))
    p.api_version = *ov;
  config.providers.push_back(std::move(p));
  return OkStatus();
}

Status DiscoverBedrock(Config& config, const EnvLookup& env) {
  if (HasType(config, ProviderType::kBedrock)) return OkStatus();
  auto id = Var(env, "AWS_ACCESS_KEY_ID");
  auto secret = Var(env, "AWS_SECRET_ACCESS_KEY");
  if (!id || !secret) return OkStatus();
  ProviderConfig p;
  p.name = FreeName(config, ProviderType::kBedrock);
  p.type = ProviderType::kBedrock;
  p.region = Var(env, "AWS_REGION").value_or(Var(env, "AWS_DEFAULT_REGION").value_or("us-east-1"));
  if (Var(env, "BEDROCK_BASE_URL")) {
    MM_TRY(p.base_url, BaseUrl(env, "BEDROCK_BASE_URL", ProviderType::kBedrock));
  } else {
    p.base_url = "https://bedrock-runtime." + p.region + ".amazonaws.com";
  }
  p.api_key = std::move(*id);
  p.api_key_source = "AWS_ACCESS_KEY_ID";
  p.secret_key = std::move(*secret);
  p.secret_key_source = "AWS_SECRET_ACCESS_KEY";
  if (auto token = Var(env, "AWS_SESSION_TOKEN")) p.session_token = *token;
  config.providers.push_back(std::move(p));
  return OkStatus();
}

// Tencent Hunyuan: the native API signed with a TencentCloud SecretId/SecretKey pair (TC3), or
// the OpenAI-compatible endpoint with a Hunyuan console API key.
Status DiscoverHunyuan(Config& config, const EnvLookup& env) {
  if (HasType(config, ProviderType::kHunyuan)) return OkStatus();
  ProviderConfig p;
  p.name = FreeName(config, ProviderType::kHunyuan);
  p.type = ProviderType::kHunyuan;
  auto id = Var(env, "TENCENTCLOUD_SECRET_ID");
  auto secret = Var(env, "TENCENTCLOUD_SECRET_KEY");
  if (id && secret) {
    MM_TRY(p.base_url, BaseUrl(env, "HUNYUAN_BASE_URL", ProviderType::kHunyuan));
    p.api_key = std::move(*id);
    p.api_key_source = "TENCENTCLOUD_SECRET_ID";
    p.secret_key = std::move(*secret);
    p.secret_key_source = "TENCENTCLOUD_SECRET_KEY";
    if (auto region = Var(env, "TENCENTCLOUD_REGION")) p.region = *region;
    if (auto token = Var(env, "TENCENTCLOUD_SESSION_TOKEN")) p.session_token = *token;
  } else if (auto key = Var(env, "HUNYUAN_API_KEY")) {
    if (Var(env, "HUNYUAN_BASE_URL")) {
      MM_TRY(p.base_url, BaseUrl(env, "HUNYUAN_BASE_URL", ProviderType::kHunyuan));
    } else {
      p.base_url = "https://api.hunyuan.cloud.tencent.com/v1";
    }
    p.api_key = std::move(*key);
    p.api_key_source = "HUNYUAN_API_KEY";
  } else {
    return OkStatus();
  }
  config.providers.push_back(std::move(p));
  return OkStatus();
}

Status DiscoverOllama(Config& config, const EnvLookup& env) {
  if (HasType(config, ProviderType::kOllama)) return OkStatus();
  auto host = Var(env, "OLLAMA_HOST");
  if (!host) return OkStatus();
  std::string url = *host;
  if (url.find("://") == std::string::npos) url = "http://" + url;
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  auto parts = SplitUrl(url);
  if (!parts || (parts->scheme != "http" && parts->scheme != "https")) {
    return EnvError("OLLAMA_HOST", "invalid OLLAMA_HOST (expected host[:port] or a URL)");
  }
  // OLLAMA_HOST is also the server's bind address; as a client, reach 0.0.0.0 through loopback.
  if (parts->host == "0.0.0.0" || parts->host == "::") {
    std::string scheme = parts->scheme;
    url = scheme + "://127.0.0.1:" + std::to_string(parts->port.value_or(11434));
  } else if (!parts->port) {
    size_t authority_end = url.find_first_of("/?#", parts->scheme.size() + 3);
    url.insert(authority_end == std::string::npos ? url.size() : authority_end, ":11434");
  }
  // Ollama speaks the OpenAI dialect under /v1.
  if (url.size() < 3 || url.substr(url.size() - 3) != "/v1") url += "/v1";
  ProviderConfig p;
  p.name = FreeName(config, ProviderType::kOllama);
  p.type = ProviderType::kOllama;
  p.base_url = std::move(url);
  config.providers.push_back(std::move(p));
  return OkStatus();
}

}  // namespace

bool PointsAtSelf(std::string_view base_url, std::string_view self_host, uint16_t self_port) {
  auto parts = SplitUrl(base_url);
  if (!parts) return false;
  uint16_t port = parts->port.value_or(parts->scheme == "https" ? 443 : 80);
  if (port != self_port) return false;
  std::string self = StripBrackets(self_host);
  return parts->host == self || (IsLocalHost(parts->host) && IsLocalHost(self));
}

namespace {

// The master key from MODELMUX_MASTER_KEY, or the first line of the file MODELMUX_MASTER_KEY_FILE
// names, when the config sets none (auth.master_key wins).
Status DiscoverMasterKey(Config& config, const EnvLookup& env) {
  if (!config.auth.master_key.empty()) return OkStatus();
  if (auto key = Var(env, "MODELMUX_MASTER_KEY")) {
    config.auth.master_key = *key;
    config.auth.master_key_source = "MODELMUX_MASTER_KEY";
    return OkStatus();
  }
  if (auto file = Var(env, "MODELMUX_MASTER_KEY_FILE")) {
    std::ifstream in(*file);
    std::string line;
    if (!in || !std::getline(in, line)) {
      return EnvError(
          "MODELMUX_MASTER_KEY_FILE",
          "cannot read the master key file named by MODELMUX_MASTER_KEY_FILE (" + *file + ")");
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) {
      return EnvError("MODELMUX_MASTER_KEY_FILE", "the master key file " + *file + " is empty");
    }
    config.auth.master_key = std::move(line);
    config.auth.master_key_source = "file:" + *file;
  }
  return OkStatus();
}

}  // namespace

Status ApplyEnvironmentDiscovery(Config& config, const EnvLookup& env, std::string_view self_host,
                                 uint16_t self_port) {
  MM_RETURN_IF_ERROR(DiscoverMasterKey(config, env));
  MM_RETURN_IF_ERROR(DiscoverKeyProviders(config, env));
  MM_RETURN_IF_ERROR(DiscoverAzure(config, env));
  MM_RETURN_IF_ERROR(DiscoverBedrock(config, env));
  MM_RETURN_IF_ERROR(DiscoverHunyuan(config, env));
  MM_RETURN_IF_ERROR(DiscoverOllama(config, env));

  if (config.FindProvider("sim") == nullptr) {
    ProviderConfig sim;
    sim.name = "sim";
    sim.type = ProviderType::kSim;
    config.providers.push_back(std::move(sim));
  }
  config.using_simulator = std::all_of(config.providers.begin(), config.providers.end(),
                                       [](const auto& p) { return p.type == ProviderType::kSim; });

  if (self_port != 0) {
    for (const ProviderConfig& p : config.providers) {
      if (!p.base_url.empty() && PointsAtSelf(p.base_url, self_host, self_port)) {
        auto parts = SplitUrl(p.base_url);
        return EnvError("providers." + p.name + ".base_url",
                        "provider '" + p.name + "' base_url points at this gateway (" +
                            parts->host + ":" + std::to_string(self_port) + ")");
      }
    }
  }
  return ValidateConfig(config);
}

}  // namespace modelmux::routing
