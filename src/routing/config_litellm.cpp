#include "routing/config_litellm.hpp"

#include <algorithm>
#include <set>

namespace modelmux::routing::config_detail {
namespace {

// LiteLLM writes environment references as "os.environ/NAME".
constexpr std::string_view kLiteLlmEnvPrefix = "os.environ/";

// The bare model's family when LiteLLM's model string has no prefix.
ProviderType TypeForBareModel(std::string_view model) {
  auto starts = [&](std::string_view p) { return model.rfind(p, 0) == 0; };
  if (starts("claude")) return ProviderType::kAnthropic;
  if (starts("gemini")) return ProviderType::kGemini;
  if (starts("deepseek")) return ProviderType::kDeepseek;
  if (starts("qwen")) return ProviderType::kDashscope;
  if (starts("glm")) return ProviderType::kZhipu;
  if (starts("ernie")) return ProviderType::kQianfan;
  if (starts("moonshot") || starts("kimi")) return ProviderType::kMoonshot;
  return ProviderType::kOpenAi;
}

struct SecretValue {
  std::string value;
  std::string source;
};

// Reads api_key, resolving LiteLLM's "os.environ/NAME" as well as `${NAME}`.
std::optional<SecretValue> ReadLiteLlmSecret(MapReader& r, std::string_view key) {
  SecretValue out;
  r.Secret(key, out.value, out.source);
  ParseContext& ctx = r.ctx();
  if (!ctx.ok()) return std::nullopt;
  if (out.value.rfind(kLiteLlmEnvPrefix, 0) == 0) {
    std::string name = out.value.substr(kLiteLlmEnvPrefix.size());
    std::optional<std::string> v = ctx.env() ? ctx.env()(name) : std::nullopt;
    if (!v) {
      ctx.Fail(r.Get(key), r.Path(key),
               "environment variable '" + name + "' is not set in '" + r.Path(key) + "'");
      return std::nullopt;
    }
    out.value = std::move(*v);
    out.source = name;
  }
  return out;
}

}  // namespace

std::optional<ProviderType> LiteLlmProviderType(std::string_view prefix) {
  if (prefix == "ollama_chat") return ProviderType::kOllama;
  if (prefix == "hosted_vllm") return ProviderType::kVllm;
  if (prefix == "zhipuai") return ProviderType::kZhipu;
  if (prefix == "sim") return std::nullopt;  // the simulator is not a LiteLLM provider
  return ParseProviderType(prefix);
}

void ConvertModelList(ParseContext& ctx, const YAML::Node& node, Config& config) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    ctx.Fail(node, "model_list", "'model_list' must be a list");
    return;
  }
  std::set<std::string, std::less<>> own_aliases;  // aliases this section created
  for (size_t i = 0; i < node.size() && ctx.ok(); ++i) {
    std::string path = "model_list[" + std::to_string(i) + "]";
    MapReader entry(ctx, node[i], path, {"model_name", "litellm_params", "model_info"});
    std::string alias_name;
    entry.String("model_name", alias_name);
    MapReader params(ctx, entry.Get("litellm_params"), entry.Path("litellm_params"),
                     {"model", "api_key", "api_base", "api_version", "rpm", "tpm", "weight"});
    std::string model;
    std::string api_base;
    Deployment dep;
    params.String("model", model);
    params.String("api_base", api_base);
    params.OptionalUnsigned("rpm", dep.rpm);
    params.OptionalUnsigned("tpm", dep.tpm);
    params.Unsigned("weight", dep.weight);
    std::optional<SecretValue> key = ReadLiteLlmSecret(params, "api_key");
    std::string api_version;
    params.String("api_version", api_version);
    if (!ctx.ok()) return;
    if (alias_name.empty()) {
      ctx.Fail(node[i], entry.Path("model_name"), "missing '" + entry.Path("model_name") + "'");
      return;
    }
    if (model.empty()) {
      ctx.Fail(node[i], params.Path("model"), "missing '" + params.Path("model") + "'");
      return;
    }
    if (dep.weight == 0) {
      ctx.Fail(params.Get("weight"), params.Path("weight"),
               "'" + params.Path("weight") + "' must be at least 1");
      return;
    }

    ProviderType type;
    if (size_t slash = model.find('/'); slash != std::string::npos) {
      std::string prefix = model.substr(0, slash);
      auto t = LiteLlmProviderType(prefix);
      if (!t || slash + 1 == model.size()) {
        ctx.Fail(params.Get("model"), params.Path("model"),
                 "unsupported provider '" + prefix + "' in '" + params.Path("model") + "'");
        return;
      }
      type = *t;
      model = model.substr(slash + 1);
    } else {
      type = TypeForBareModel(model);
    }
    while (api_base.size() > 1 && api_base.back() == '/') api_base.pop_back();
    if (api_base.empty()) api_base = DefaultBaseUrl(type);
    if (api_base.empty()) {
      ctx.Fail(node[i], params.Path("api_base"),
               "missing '" + params.Path("api_base") + "' (provider " +
                   std::string(ProviderTypeName(type)) + " has no default endpoint)");
      return;
    }

    // One provider per (type, endpoint, key).
    const std::string api_key = key ? key->value : std::string();
    auto same = std::find_if(config.providers.begin(), config.providers.end(), [&](const auto& p) {
      return p.type == type && p.base_url == api_base && p.api_key == api_key;
    });
    if (same == config.providers.end()) {
      ProviderConfig p;
      std::string base(ProviderTypeName(type));
      p.name = base;
      for (int n = 2; config.FindProvider(p.name) != nullptr; ++n) {
        p.name = base + "-" + std::to_string(n);
      }
      p.type = type;
      p.base_url = api_base;
      p.api_key = api_key;
      p.api_key_source = api_key.empty() ? std::string() : key->source;
      p.api_version = api_version;
      config.providers.push_back(std::move(p));
      same = config.providers.end() - 1;
    }
    if (std::find(same->models.begin(), same->models.end(), model) == same->models.end()) {
      same->models.push_back(model);
    }
    dep.provider = same->name;
    dep.model = model;

    auto alias = std::find_if(config.models.begin(), config.models.end(),
                              [&](const auto& a) { return a.name == alias_name; });
    if (alias != config.models.end() && own_aliases.count(alias_name) == 0) {
      ctx.Fail(entry.Get("model_name"), entry.Path("model_name"),
               "alias '" + alias_name + "' is defined in both 'models' and 'model_list'");
      return;
    }
    if (alias == config.models.end()) {
      own_aliases.insert(alias_name);
      config.models.push_back(ModelAlias{alias_name, {}});
      alias = config.models.end() - 1;
    }
    alias->deployments.push_back(std::move(dep));
  }
}

}  // namespace modelmux::routing::config_detail
