#pragma once
// Completes a parsed Config from the environment: providers whose usual credential variables are
// set (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...), the built-in simulator, and the start-up checks
// that need the final provider set (no base URL pointing at the gateway itself, every alias naming
// a configured provider).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "routing/config.hpp"

namespace modelmux::routing {

// For each provider type the config does not configure yet, adds a provider named after the type
// ("openai", "anthropic", ...) when its variables are set (empty counts as unset):
//   openai     OPENAI_API_KEY [+ OPENAI_BASE_URL]
//   anthropic  ANTHROPIC_API_KEY [+ ANTHROPIC_BASE_URL]
//   gemini     GEMINI_API_KEY [+ GEMINI_BASE_URL]
//   dashscope  DASHSCOPE_API_KEY [+ DASHSCOPE_BASE_URL]
//   qianfan    QIANFAN_API_KEY [+ QIANFAN_SECRET_KEY, QIANFAN_BASE_URL]
//   zhipu      ZHIPUAI_API_KEY [+ ZHIPUAI_BASE_URL]
//   deepseek   DEEPSEEK_API_KEY [+ DEEPSEEK_BASE_URL]
//   moonshot   MOONSHOT_API_KEY [+ MOONSHOT_BASE_URL]
//   azure      AZURE_OPENAI_API_KEY + AZURE_OPENAI_ENDPOINT [+ AZURE_OPENAI_API_VERSION]
//   bedrock    AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN, AWS_REGION or
//              AWS_DEFAULT_REGION (default us-east-1), BEDROCK_BASE_URL]
//   ollama     OLLAMA_HOST ("host[:port]" or a URL; port 11434 by default)
// api_key_source records the variable's name. Then adds the in-process simulator `sim` when no
// provider is named so, and sets using_simulator when every provider is a simulator.
//
// Errors (kInvalidRequest, code "config_invalid"): a *_BASE_URL that is not an http(s) URL; any
// provider whose base URL points at the gateway itself (PointsAtSelf; skipped when self_port is
// 0, i.e. not known yet); what ValidateConfig refuses.
[[nodiscard]] Status ApplyEnvironmentDiscovery(Config& config, const EnvLookup& env,
                                               std::string_view self_host, uint16_t self_port);

// True when `base_url` reaches the gateway listening on self_host:self_port: same port (explicit,
// or 80/443 by scheme), and the same host or both hosts local (localhost, 127.0.0.0/8, ::1, or the
// unspecified 0.0.0.0 / ::).
[[nodiscard]] bool PointsAtSelf(std::string_view base_url, std::string_view self_host,
                                uint16_t self_port);

}  // namespace modelmux::routing
