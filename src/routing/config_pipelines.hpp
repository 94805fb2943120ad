#pragma once
// Internal to the config loader: the `pipelines:` section (docs/ROUTING.md "Pipelines").

#include <yaml-cpp/yaml.h>

#include <vector>

#include "core/result.hpp"
#include "routing/config.hpp"
#include "routing/config_reader.hpp"

namespace modelmux::routing::config_detail {

// Reads `pipelines:` (a list of maps; strict keys per kind). Errors go to `ctx`.
void ParsePipelines(ParseContext& ctx, const YAML::Node& node, std::vector<Pipeline>& out);

// Names are unique and no alias's; every model named is an alias of `config` or
// "provider/model" with a configured provider (never another pipeline).
[[nodiscard]] Status ValidatePipelines(const Config& config);

}  // namespace modelmux::routing::config_detail
