#include "sim/routes.hpp"

namespace modelmux::sim {
namespace {

constexpr std::string_view kAzurePrefix = "/azure/openai/deployments/";

RouteKind Suffix(std::string_view rest, std::string& id) {
  if (rest == "/chat/completions") return RouteKind::kChat;
  if (rest == "/completions") return RouteKind::kCompletions;
  if (rest == "/embeddings") return RouteKind::kEmbeddings;
  if (rest == "/models") return RouteKind::kModels;
  constexpr std::string_view kModel = "/models/";
  if (rest.starts_with(kModel) && rest.size() > kModel.size()) {
    id = std::string(rest.substr(kModel.size()));
    return RouteKind::kModel;
  }
  return RouteKind::kUnknown;
}

}  // namespace

const std::vector<std::string_view>& OpenAiPrefixes() {
  static const std::vector<std::string_view> kPrefixes = {
      "/v1",
      "/deepseek/v1",
      "/deepseek",
      "/moonshot/v1",
      "/qianfan/v2",
      "/dashscope/compatible-mode/v1",
      "/zhipu/api/paas/v4",
      "/vllm/v1",
      "/ollama/v1",
  };
  return kPrefixes;
}

Route MatchRoute(std::string_view path) {
  Route r;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  for (std::string_view prefix : {"/anthropic/v1/messages", "/v1/messages"}) {
    if (!path.starts_with(prefix)) continue;
    r.anthropic = true;
    std::string_view rest = path.substr(prefix.size());
    if (rest.empty()) r.kind = RouteKind::kMessages;
    if (rest == "/count_tokens") r.kind = RouteKind::kCountTokens;
    return r;
  }
  if (path.starts_with("/anthropic/")) {
    r.anthropic = true;
    return r;
  }
  if (path.starts_with(kAzurePrefix)) {
    std::string_view rest = path.substr(kAzurePrefix.size());
    size_t slash = rest.find('/');
    if (slash == 0 || slash == std::string_view::npos) return r;
    r.deployment = std::string(rest.substr(0, slash));
    std::string ignored;
    r.kind = Suffix(rest.substr(slash), ignored);
    if (r.kind == RouteKind::kModels || r.kind == RouteKind::kModel) r.kind = RouteKind::kUnknown;
    return r;
  }
  for (std::string_view prefix : OpenAiPrefixes()) {
    if (!path.starts_with(prefix)) continue;
    r.kind = Suffix(path.substr(prefix.size()), r.id);
    if (r.kind != RouteKind::kUnknown) return r;
  }
  return r;
}

}  // namespace modelmux::sim
