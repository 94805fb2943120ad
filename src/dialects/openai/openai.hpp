#pragma once
// The OpenAI Chat Completions dialect's two faces (see dialects/dialect.hpp), wrapping the
// functions of request.hpp, response.hpp, stream.hpp and errors.hpp. Used for every
// OpenAI-compatible upstream (OpenAI, DeepSeek, Moonshot, vLLM, Ollama's /v1, the simulator) when
// the caller speaks another dialect; OpenAI callers to OpenAI upstreams take the fast path.

#include "dialects/dialect.hpp"

namespace modelmux::dialects {

[[nodiscard]] const UpstreamDialect& OpenAiUpstream();
[[nodiscard]] const IngressDialect& OpenAiIngress();

}  // namespace modelmux::dialects
