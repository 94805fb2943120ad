#pragma once
// Tencent Hunyuan's native API (Tencent Cloud API 3.0, version 2023-09-01) as an upstream dialect
// (see dialects/dialect.hpp and /work/shared/providers.md §8). A stateless singleton, safe to
// share between threads; the stream decoders it creates are not.
//
// EncodeChat -> POST / with headers X-TC-Action: ChatCompletions and X-TC-Version: 2023-09-01
// and the body of EncodeChatRequest (request.hpp). The signer (auth/tc3_signer.hpp) signs the
// exact body and the Host header and adds Authorization, X-TC-Timestamp and X-TC-Region.
// DecodeChat -> DecodeChatResponse (response.hpp): errors arrive inside HTTP 200 bodies
// (Response.Error) and come back as errors. NewStreamDecoder -> HunyuanStreamDecoder
// (stream.hpp); DecodeError -> errors.hpp. Embeddings: X-TC-Action: GetEmbedding with {Input}
// (one text per call).
//
// The OpenAI-compatible surface (https://api.hunyuan.cloud.tencent.com/v1, Bearer key) needs no
// dialect of its own: a hunyuan provider whose base URL ends with /v1 is an OpenAI-family one.

#include "dialects/dialect.hpp"

namespace modelmux::dialects {

[[nodiscard]] const UpstreamDialect& HunyuanUpstream();

}  // namespace modelmux::dialects
