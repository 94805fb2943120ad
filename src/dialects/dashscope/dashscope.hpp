#pragma once
// Alibaba DashScope's native API (Qwen models) as an upstream dialect (see dialects/dialect.hpp
// and /work/shared/providers.md §6). A stateless singleton, safe to share between threads; the
// stream decoders it creates are not. Auth is Bearer (the provider's signer).
//
// EncodeChat -> POST Capabilities::kTextPath, or kMultimodalPath when IsMultimodal (request.hpp),
// with the body of EncodeChatRequest; streamed calls add `X-DashScope-SSE: enable` and `Accept:
// text/event-stream` and ask for incremental_output. DecodeChat -> DecodeChatResponse
// (response.hpp). NewStreamDecoder -> DashScopeStreamDecoder in TextMode::kAuto (stream.hpp),
// which copes with cumulative streams too. DecodeError -> errors.hpp.
// EncodeEmbeddings -> POST Capabilities::kEmbeddingsPath (EncodeEmbeddingsRequest);
// DecodeEmbeddings -> DecodeEmbeddingsResponse.
//
// The OpenAI-compatible mode (…/compatible-mode/v1) needs no dialect of its own.

#include "dialects/dialect.hpp"

namespace modelmux::dialects {

[[nodiscard]] const UpstreamDialect& DashScopeUpstream();

}  // namespace modelmux::dialects
