#pragma once
// Which simulated endpoint a path names. The OpenAI dialect is served at /v1/... and, for the
// OpenAI-compatible family, under a per-provider prefix (docs/SIM.md lists them). Pure.

#include <string>
#include <string_view>
#include <vector>

namespace modelmux::sim {

// kMessages / kCountTokens: the Anthropic Messages API at /v1/messages[/count_tokens] and under
// /anthropic/v1/messages.
enum class RouteKind {
  kUnknown,
  kChat,
  kCompletions,
  kEmbeddings,
  kModels,
  kModel,
  kMessages,
  kCountTokens
};

struct Route {
  RouteKind kind = RouteKind::kUnknown;
  std::string id;          // kModel: the model id after /models/
  std::string deployment;  // Azure: the deployment name (the model when the body has none)
  bool anthropic = false;  // speaks (and answers errors in) the Anthropic dialect
};

// The path prefixes that speak the OpenAI dialect ("/v1", "/deepseek/v1", ...).
[[nodiscard]] const std::vector<std::string_view>& OpenAiPrefixes();

// `path` without the query string. An unknown path under /anthropic/ or /v1/messages is kUnknown
// with `anthropic` set.
[[nodiscard]] Route MatchRoute(std::string_view path);

}  // namespace modelmux::sim
