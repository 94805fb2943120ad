#pragma once
// Baidu Qianfan's legacy ERNIE chat API as an upstream dialect (see dialects/dialect.hpp and
// /work/shared/providers.md §5). A stateless singleton, safe to share between threads; the stream
// decoders it creates are not.
//
// EncodeChat -> POST Capabilities::kChatPath + QianfanEndpointFor(model) with the body of
// EncodeChatRequest (request.hpp); the access token is the signer's (auth/qianfan_token.hpp adds
// `?access_token=`). DecodeChat -> DecodeChatResponse (response.hpp): errors arrive inside HTTP
// 200 bodies and come back as errors, 110/111 with code "token_expired" (IsStaleToken), after
// which the caller invalidates the signer and retries once (upstream/retry_stale.hpp).
// NewStreamDecoder -> ErnieStreamDecoder (stream.hpp); DecodeError -> errors.hpp.
//
// The newer v2 API (qianfan.baidubce.com/v2) is OpenAI-compatible and needs no dialect of its own.

#include <string>
#include <string_view>

#include "dialects/dialect.hpp"

namespace modelmux::dialects {

[[nodiscard]] const UpstreamDialect& QianfanLegacyUpstream();

// The chat endpoint (last path segment) for a model name, compared case-insensitively:
//   ernie-4.0-8k     -> completions_pro     ernie-3.5-8k  -> completions
//   ernie-bot-4      -> completions_pro     ernie-bot     -> completions
//   ernie-lite-8k-0922 -> eb-instant        ernie-speed-8k -> ernie_speed
//   ernie-speed-128k, ernie-lite-8k, ernie-tiny-8k, ernie-3.5-128k-preview -> themselves
// Any other name (a custom deployment's endpoint) is used as it is.
[[nodiscard]] std::string QianfanEndpointFor(std::string_view model);

}  // namespace modelmux::dialects
