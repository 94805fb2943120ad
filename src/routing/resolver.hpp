#pragma once
// Model resolution: the caller's `model` string to the provider(s) that serve it. Pure: reads the
// Config snapshot only.

#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "routing/config.hpp"

namespace modelmux::routing {

struct ResolvedModel {
  std::string alias;                    // the caller's name, verbatim
  std::string provider;                 // the first deployment's provider name in Config::providers
  std::string model;                    // the first deployment's upstream model name
  std::vector<Deployment> deployments;  // all candidates (one unless an alias lists several)
};

// Resolution order, first match wins:
//   1. "provider/model" where `provider` is a configured provider's name (or, failing that, a
//      provider type with a configured provider of that type: the first one) => that provider;
//   2. an alias from the config (`models` / `model_list`);
//   3. a provider whose `models` list holds the name;
//   4. the family among configured providers: gpt-*, o1*, o3*, o4*, chatgpt-*, text-embedding-*
//      => the first openai provider (else azure); claude-* => anthropic; gemini-* => gemini;
//      ernie-* => qianfan; qwen*, text-embedding-v* => dashscope; glm-* => zhipu;
//      deepseek-* => deepseek; moonshot-*, kimi-* => moonshot; hunyuan-* => hunyuan.
// Otherwise (also for any bare name while only the simulator is configured): Error{kNotFound,
// code "model_not_found", param "model"}.
[[nodiscard]] Result<ResolvedModel> ResolveModel(const Config& config, std::string_view name);

// What /v1/models lists: the aliases, the pipelines, then "provider/model" for every model each
// provider declares (the simulator, when it declares none: sim/echo, sim/chat, sim/vision). No
// duplicates.
[[nodiscard]] std::vector<std::string> ListModels(const Config& config);

}  // namespace modelmux::routing
