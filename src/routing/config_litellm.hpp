#pragma once
// Internal to the config loader: the LiteLLM `model_list` migration path.

#include <yaml-cpp/yaml.h>

#include "routing/config.hpp"
#include "routing/config_reader.hpp"

namespace modelmux::routing::config_detail {

// Converts `model_list` entries ({model_name, litellm_params: {model: "openai/gpt-4o", api_key,
// api_base, api_version, rpm, tpm, weight}}) into providers and aliases appended to `config`.
// Providers are named after the model's prefix ("openai", then "openai-2", ... for another
// endpoint or key) and shared by entries with the same type, base URL and key; entries with the
// same model_name become one alias with several deployments. Errors go to `ctx`.
void ConvertModelList(ParseContext& ctx, const YAML::Node& node, Config& config);

// The provider type a LiteLLM prefix ("openai", "azure", "hosted_vllm", ...) stands for.
[[nodiscard]] std::optional<ProviderType> LiteLlmProviderType(std::string_view prefix);

}  // namespace modelmux::routing::config_detail
