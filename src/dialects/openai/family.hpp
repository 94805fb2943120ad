#pragma once
// The OpenAI-compatible family's upstream dialects: the OpenAI dialect (same requests, answers
// and streams) with each provider's error codes, and for Azure OpenAI its deployment paths.
// Every function is pure; the dialect objects are stateless singletons, safe from any thread.
//
//   Azure OpenAI  /openai/deployments/{deployment}/chat/completions?api-version={v}
//                 (the newer v1 form, base URL ending in /openai/v1, uses the plain paths)
//   Zhipu GLM     /chat/completions under https://open.bigmodel.cn/api/paas/v4
//   DeepSeek      /chat/completions under https://api.deepseek.com
//   Moonshot      /chat/completions under https://api.moonshot.cn/v1
//
// Streams are decoded by the OpenAI stream decoder, which already skips Azure's chunks with empty
// `choices` (prompt_filter_results) and annotation-only chunks (content_filter_results), maps
// finish_reason "content_filter", reads DeepSeek's reasoning_content and Moonshot's usage in
// choices[0].

#include <string>
#include <string_view>

#include "dialects/dialect.hpp"

namespace modelmux::dialects {

// The api-version sent to Azure when the provider config names none (a GA version).
inline constexpr std::string_view kAzureDefaultApiVersion = "2024-10-21";

// "/openai/deployments/{deployment}{endpoint}?api-version={version}" for an OpenAI endpoint such
// as "/chat/completions" or "/embeddings". The deployment is percent-encoded outside
// [A-Za-z0-9._~-]; an empty `api_version` means kAzureDefaultApiVersion.
[[nodiscard]] std::string AzureDeploymentPath(std::string_view endpoint,
                                              std::string_view deployment,
                                              std::string_view api_version);

// Azure, classic form: EncodeChat/EncodeEmbeddings put the call under the deployment
// (CallOptions::upstream_model) with CallOptions::api_version; errors by DecodeAzureError.
[[nodiscard]] const UpstreamDialect& AzureUpstream();
// Azure, v1 form (base URL .../openai/v1): OpenAI paths, the deployment as `model`; Azure errors.
[[nodiscard]] const UpstreamDialect& AzureV1Upstream();
[[nodiscard]] const UpstreamDialect& ZhipuUpstream();
[[nodiscard]] const UpstreamDialect& DeepSeekUpstream();
[[nodiscard]] const UpstreamDialect& MoonshotUpstream();

// The family dialect for a provider type ("azure", "zhipu", "deepseek", "moonshot"); nullptr for
// any other type (which speaks plain OpenAiUpstream()).
[[nodiscard]] const UpstreamDialect* OpenAiFamilyUpstream(std::string_view provider_type);

}  // namespace modelmux::dialects
