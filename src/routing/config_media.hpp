#pragma once
// Internal to the config loader: the `media:` section and a model's `image_policy:`
// (docs/MULTIMODAL.md).

#include <yaml-cpp/yaml.h>

#include <string>

#include "routing/config.hpp"
#include "routing/config_reader.hpp"

namespace modelmux::routing::config_detail {

void ParseMedia(ParseContext& ctx, const YAML::Node& node, MediaConfig& out);
// `path` is where the map sits ("media.image_policy", "models[2].image_policy").
void ParseImagePolicy(ParseContext& ctx, const YAML::Node& node, const std::string& path,
                      media::ImagePolicy& out);

}  // namespace modelmux::routing::config_detail
