#include "routing/resolver.hpp"

#include <algorithm>
#include <array>
#include <optional>

#include "core/model_id.hpp"

namespace modelmux::routing {
namespace {

constexpr std::array<std::string_view, 3> kSimModels = {"echo", "chat", "vision"};

struct FamilyRule {
  std::string_view prefix;
  ProviderType type;
};

constexpr FamilyRule kFamilies[] = {
    {"gpt-", ProviderType::kOpenAi},
    {"o1", ProviderType::kOpenAi},
    {"o3", ProviderType::kOpenAi},
    {"o4", ProviderType::kOpenAi},
    {"chatgpt-", ProviderType::kOpenAi},
    {"text-embedding-v", ProviderType::kDashscope},
    {"text-embedding-", ProviderType::kOpenAi},
    {"claude-", ProviderType::kAnthropic},
    {"gemini-", ProviderType::kGemini},
    {"ernie-", ProviderType::kQianfan},
    {"qwen", ProviderType::kDashscope},
    {"glm-", ProviderType::kZhipu},
    {"deepseek-", ProviderType::kDeepseek},
    {"moonshot-", ProviderType::kMoonshot},
    {"kimi-", ProviderType::kMoonshot},
    {"hunyuan-", ProviderType::kHunyuan},
};

const ProviderConfig* FirstOfType(const Config& config, ProviderType type) {
  for (const auto& p : config.providers) {
    if (p.type == type) return &p;
  }
  return nullptr;
}

std::optional<ProviderType> FamilyOf(std::string_view model) {
  for (const FamilyRule& rule : kFamilies) {
    // "o3" is a model by itself; "gpt-" alone is not.
    bool long_enough = model.size() > rule.prefix.size() || rule.prefix.back() != '-';
    if (long_enough && model.substr(0, rule.prefix.size()) == rule.prefix) {
      return rule.type;
    }
  }
  return std::nullopt;
}

ResolvedModel Single(std::string_view alias, const ProviderConfig& provider, std::string model) {
  ResolvedModel out;
  out.alias = std::string(alias);
  out.provider = provider.name;
  out.model = model;
  out.deployments.push_back(Deployment{.provider = provider.name, .model = std::move(model)});
  return out;
}

Error ModelNotFound(std::string_view name) {
  constexpr size_t kMaxShown = 256;  // callers' input, echoed back: keep it bounded
  std::string shown(name.substr(0, kMaxShown));
  if (name.size() > kMaxShown) shown += "...";
  return Error{
      .kind = ErrorKind::kNotFound,
      .message = "The model '" + shown + "' does not exist or is not configured on this gateway",
      .param = "model",
      .code = "model_not_found"};
}

}  // namespace

Result<ResolvedModel> ResolveModel(const Config& config, std::string_view name) {
  if (name.empty()) return ModelNotFound(name);

  if (auto id = ModelId::Parse(name)) {
    const ProviderConfig* provider = config.FindProvider(id->provider);
    if (provider == nullptr) {
      if (auto type = ParseProviderType(id->provider)) provider = FirstOfType(config, *type);
    }
    if (provider != nullptr) return Single(name, *provider, std::move(id->model));
  }

  if (const ModelAlias* alias = config.FindAlias(name); alias != nullptr) {
    ResolvedModel out;
    out.alias = std::string(name);
    out.deployments = alias->deployments;
    if (!out.deployments.empty()) {
      out.provider = out.deployments.front().provider;
      out.model = out.deployments.front().model;
    }
    return out;
  }

  for (const auto& p : config.providers) {
    if (std::find(p.models.begin(), p.models.end(), name) != p.models.end()) {
      return Single(name, p, std::string(name));
    }
  }

  if (config.using_simulator) return ModelNotFound(name);
  if (auto family = FamilyOf(name)) {
    const ProviderConfig* provider = FirstOfType(config, *family);
    if (provider == nullptr && *family == ProviderType::kOpenAi) {
      provider = FirstOfType(config, ProviderType::kAzure);
    }
    if (provider != nullptr) return Single(name, *provider, std::string(name));
  }
  return ModelNotFound(name);
}

std::vector<std::string> ListModels(const Config& config) {
  std::vector<std::string> out;
  auto add = [&out](std::string id) {
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(std::move(id));
  };
  for (const auto& alias : config.models) add(alias.name);
  for (const auto& pipeline : config.pipelines) add(pipeline.name);
  for (const auto& p : config.providers) {
    if (p.type == ProviderType::kSim && p.models.empty()) {
      for (std::string_view m : kSimModels) add(p.name + "/" + std::string(m));
      continue;
    }
    for (const auto& m : p.models) add(p.name + "/" + m);
  }
  return out;
}

}  // namespace modelmux::routing
