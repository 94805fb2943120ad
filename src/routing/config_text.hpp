#pragma once
// Internal to the config loader: a model alias's cost and context controls (context_window,
// max_tokens {default, cap}, cheaper {model, max_prompt_tokens}, context); docs/TEXT.md.

#include "routing/config.hpp"
#include "routing/config_reader.hpp"

namespace modelmux::routing::config_detail {

// Reads the keys above from the alias map `r` into `alias` (failures go to r.ctx()).
void ParseTextControls(MapReader& r, ModelAlias& alias);

}  // namespace modelmux::routing::config_detail
