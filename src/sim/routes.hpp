#pragma once
// Which simulated endpoint a path names. The OpenAI dialect is served at /v1/... and, for the
// OpenAI-compatible family, under a per-provider prefix (docs/SIM.md lists them). Pure.

#include <string>
#include <string_view>
#include <vector>

namespace modelmux::sim {

enum class RouteKind { kUnknown, kChat, kCompletions, kEmbeddings, kModels, kModel };

struct Route {
  RouteKind kind = RouteKind::kUnknown;
  std::string id;          // kModel: the model id after /models/
  std::string deployment;  // Azure: the deployment name (the model when the body has none)
};

// The path prefixes that speak the OpenAI dialect ("/v1", "/deepseek/v1", ...).
[[nodiscard]] const std::vector<std::string_view>& OpenAiPrefixes();

// `path` without the query string.
[[nodiscard]] Route MatchRoute(std::string_view path);

}  // namespace modelmux::sim
