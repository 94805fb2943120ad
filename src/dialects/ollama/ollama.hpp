#pragma once
// Ollama's native API as an upstream dialect (see dialects/dialect.hpp and
// /work/shared/providers.md §10). A stateless singleton, safe to share between threads; the
// stream decoders it creates are not.
//
// EncodeChat -> POST /api/chat with the body of EncodeChatRequest (request.hpp); no auth (a
// key, when configured, goes as a Bearer token, for Ollama behind a proxy). DecodeChat ->
// DecodeChatResponse (response.hpp). NewStreamDecoder -> OllamaStreamDecoder (stream.hpp, NDJSON,
// not SSE). DecodeError -> errors.hpp. Embeddings -> POST /api/embed.
//
// Ollama also serves the OpenAI API under /v1: a provider whose base URL ends with /v1 uses the
// OpenAI dialect instead (upstream/provider.cpp).

#include "dialects/dialect.hpp"

namespace modelmux::dialects {

[[nodiscard]] const UpstreamDialect& OllamaUpstream();

}  // namespace modelmux::dialects
